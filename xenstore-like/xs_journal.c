/*
 * Durability: an append-only journal of node states.  Every mutation the
 * tree reports (node set: path, permissions, value; subtree removed; domain
 * introduced or released) is encoded into the open batch; one request (a
 * whole transaction commit included) is one batch, framed by its length and
 * a CRC-32 so a torn tail is detected and cut off at replay.  Batches are
 * written with write(2) before any reply leaves the daemon (the server
 * flushes the journal, then the connections, once per event-loop pass: a
 * group commit), so an acknowledged change survives kill -9: the data is in
 * the kernel's page cache.  Power loss is a different matter: with --fsync
 * the daemon also fdatasync()s each group before replying.  When the file
 * grows well past the live data it is compacted: a snapshot of the tree is
 * written to a new file, synced and renamed over the old one.
 *
 * Record encoding is host (little-endian) order:
 *   file   := "KXSJRNL1" batch*
 *   batch  := u32 len, u32 crc32(payload), payload[len]
 *   op     := 'S' u16 nperms {u16 domid, u8 perm, u8 0}* u16 plen path u32 vlen value
 *           | 'D' u16 plen path
 *           | 'M' u32 domid u8 introduced u64 mfn u32 evtchn i32 target
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "xs_store.h"

#define XS_JOURNAL_MAGIC     "KXSJRNL1"
#define XS_JOURNAL_BATCH_MAX (64u << 20) /* a replayed batch larger than this is corrupt */

static void xs_j_put(struct xs_journal *j, const void *p, size_t n)
{
	if (xs_buf_put(&j->pending, p, n))
		j->failed = true;
}

static void xs_j_open_batch(struct xs_journal *j)
{
	static const uint32_t zero[2];

	if (j->batch_start != SIZE_MAX)
		return;
	j->batch_start = j->pending.len;
	xs_j_put(j, zero, sizeof(zero));
}

static void xs_j_put_path(struct xs_journal *j, const char *path)
{
	uint16_t l = (uint16_t)strlen(path);

	xs_j_put(j, &l, 2);
	xs_j_put(j, path, l);
}

static void xs_j_encode_set(struct xs_journal *j, const char *path, const struct xs_node *n)
{
	const struct xs_perm *p = xs_node_perms(n);
	uint16_t np = n->nperms;
	unsigned i;

	xs_j_put(j, "S", 1);
	xs_j_put(j, &np, 2);
	for (i = 0; i < np; i++) {
		uint8_t b[4] = {(uint8_t)p[i].domid, (uint8_t)(p[i].domid >> 8), p[i].perm, 0};

		xs_j_put(j, b, 4);
	}
	xs_j_put_path(j, path);
	xs_j_put(j, &n->vlen, 4);
	xs_j_put(j, n->value, n->vlen);
}

void xs_journal_hook_set(struct xs_journal *j, const char *path, const struct xs_node *n)
{
	if (j->replaying || j->fd < 0)
		return;
	xs_j_open_batch(j);
	xs_j_encode_set(j, path, n);
	j->batch_ops++;
}

void xs_journal_hook_del(struct xs_journal *j, const char *path)
{
	if (j->replaying || j->fd < 0)
		return;
	xs_j_open_batch(j);
	xs_j_put(j, "D", 1);
	xs_j_put_path(j, path);
	j->batch_ops++;
}

static void xs_j_encode_domain(struct xs_journal *j, const struct xs_domain *d)
{
	uint32_t domid = d->domid, evtchn = d->evtchn;
	uint8_t intro = d->introduced;
	int32_t target = d->target;

	xs_j_put(j, "M", 1);
	xs_j_put(j, &domid, 4);
	xs_j_put(j, &intro, 1);
	xs_j_put(j, &d->mfn, 8);
	xs_j_put(j, &evtchn, 4);
	xs_j_put(j, &target, 4);
}

void xs_journal_domain(struct xs_journal *j, const struct xs_domain *d)
{
	if (j->replaying || j->fd < 0)
		return;
	xs_j_open_batch(j);
	xs_j_encode_domain(j, d);
	j->batch_ops++;
}

void xs_journal_end_batch(struct xs_journal *j)
{
	uint32_t hdr[2];

	if (j->batch_start == SIZE_MAX)
		return;
	if (!j->failed) {
		hdr[0] = (uint32_t)(j->pending.len - j->batch_start - sizeof(hdr));
		hdr[1] = (uint32_t)crc32(0, (const Bytef *)j->pending.p + j->batch_start + 8,
					 hdr[0]);
		memcpy(j->pending.p + j->batch_start, hdr, sizeof(hdr));
	}
	j->batch_start = SIZE_MAX;
	j->batch_ops = 0;
}

static int xs_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write every closed batch; with fsync on, make them durable too.  After a
 * failed write the file is cut back to its last whole batch and nothing more
 * is appended (later batches would be unreadable behind the gap) until a
 * compaction has rewritten the whole state: the caller drops the replies of
 * the failed group and refuses changes meanwhile (xs_server_commit).
 */
int xs_journal_flush(struct xs_journal *j)
{
	size_t len = j->batch_start == SIZE_MAX ? j->pending.len : j->batch_start;
	int rc;

	if (j->fd < 0 || !len)
		return 0;
	if (j->failed) {
		xs_buf_consume(&j->pending, len);
		if (j->batch_start != SIZE_MAX)
			j->batch_start -= len;
		return -EIO;
	}
	rc = xs_write_all(j->fd, j->pending.p, len);
	if (!rc && j->fsync && fdatasync(j->fd))
		rc = -errno;
	xs_buf_consume(&j->pending, len);
	/* An open batch moved to the front of the buffer with the rest. */
	if (j->batch_start != SIZE_MAX)
		j->batch_start -= len;
	if (rc) {
		xs_log("journal write failed: %s; refusing changes until the journal can be "
		       "rewritten",
		       strerror(-rc));
		j->failed = true;
		if (ftruncate(j->fd, (off_t)j->file_size) || lseek(j->fd, 0, SEEK_END) < 0)
			xs_log("journal: cannot cut back a partial write: %s", strerror(errno));
		return rc;
	}
	j->file_size += len;
	return 0;
}

/* ---- replay ---- */

struct xs_j_reader {
	const uint8_t *p, *end;
	bool bad;
};

static const void *xs_j_take(struct xs_j_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static bool xs_j_path(struct xs_j_reader *r, char *out)
{
	uint16_t l;
	const void *p = xs_j_take(r, 2);
	char canon[XENSTORE_ABS_PATH_MAX + 2];

	if (!p)
		return false;
	memcpy(&l, p, 2);
	if (l == 0 || l > XENSTORE_ABS_PATH_MAX || !(p = xs_j_take(r, l)))
		return r->bad = true, false;
	memcpy(out, p, l);
	out[l] = 0;
	if (out[0] != '/' || xs_path_canonical(out, 0, canon, sizeof(canon)) || strcmp(canon, out))
		return r->bad = true, false;
	return true;
}

static int xs_j_apply_set(struct xs_server *s, struct xs_j_reader *r)
{
	struct xs_perm perms[XS_MAX_PERMS];
	char path[XENSTORE_ABS_PATH_MAX + 1];
	const uint8_t *p = xs_j_take(r, 2);
	uint16_t np;
	uint32_t vlen;
	const char *value;
	struct xs_node *n;
	unsigned i;

	if (!p)
		return -EINVAL;
	memcpy(&np, p, 2);
	if (!np || np > XS_MAX_PERMS)
		return -EINVAL;
	for (i = 0; i < np; i++) {
		if (!(p = xs_j_take(r, 4)) || p[2] > XS_PERM_BOTH)
			return -EINVAL;
		perms[i].domid = (uint16_t)(p[0] | p[1] << 8);
		perms[i].perm = p[2];
		perms[i].pad = 0;
	}
	if (!xs_j_path(r, path) || !(p = xs_j_take(r, 4)))
		return -EINVAL;
	memcpy(&vlen, p, 4);
	if (vlen > XENSTORE_PAYLOAD_MAX || !(value = xs_j_take(r, vlen)))
		return -EINVAL;
	n = xs_tree_lookup(&s->tree, path);
	if (!n)
		return xs_tree_create(&s->tree, path, perms, np, value, vlen, NULL);
	if (xs_tree_set_value(&s->tree, n, path, value, vlen))
		return -ENOMEM;
	return xs_tree_set_perms(&s->tree, n, path, perms, np);
}

static int xs_j_apply(struct xs_server *s, const uint8_t *p, size_t len)
{
	struct xs_j_reader r = {p, p + len, false};
	char path[XENSTORE_ABS_PATH_MAX + 1];

	while (r.p < r.end && !r.bad) {
		const uint8_t *op = xs_j_take(&r, 1);
		struct xs_node *n;

		if (*op == 'S') {
			if (xs_j_apply_set(s, &r))
				return -EINVAL;
		} else if (*op == 'D') {
			if (!xs_j_path(&r, path))
				return -EINVAL;
			n = xs_tree_lookup(&s->tree, path);
			if (n && n->parent)
				xs_tree_delete(&s->tree, n, path);
		} else if (*op == 'M') {
			const uint8_t *f = xs_j_take(&r, 21);
			uint32_t domid, evtchn;
			int32_t target;
			struct xs_domain *d;

			if (!f)
				return -EINVAL;
			memcpy(&domid, f, 4);
			d = xs_domain_get(s, domid);
			if (!d)
				return -EINVAL;
			d->introduced = f[4] != 0;
			memcpy(&d->mfn, f + 5, 8);
			memcpy(&evtchn, f + 13, 4);
			memcpy(&target, f + 17, 4);
			d->evtchn = evtchn;
			d->target = target < 0 ? -1 : target;
		} else {
			return -EINVAL;
		}
	}
	return r.bad ? -EINVAL : 0;
}

static int xs_j_replay(struct xs_journal *j, struct xs_server *s, int fd)
{
	struct stat st;
	uint8_t *data;
	size_t off = sizeof(XS_JOURNAL_MAGIC) - 1, size, batches = 0;
	int rc = 0;

	if (fstat(fd, &st))
		return -errno;
	size = (size_t)st.st_size;
	if (size < off) {
		j->file_size = 0;
		return ftruncate(fd, 0) ? -errno : 0;
	}
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	if (pread(fd, data, size, 0) != (ssize_t)size) {
		free(data);
		return -EIO;
	}
	if (memcmp(data, XS_JOURNAL_MAGIC, off)) {
		free(data);
		xs_log("%s/journal: not a keel-xenstored journal", j->dir);
		return -EINVAL;
	}
	j->replaying = true;
	while (off + 8 <= size) {
		uint32_t hdr[2];

		memcpy(hdr, data + off, 8);
		if (hdr[0] > XS_JOURNAL_BATCH_MAX || hdr[0] > size - off - 8 ||
		    crc32(0, data + off + 8, hdr[0]) != hdr[1])
			break;
		if (xs_j_apply(s, data + off + 8, hdr[0])) {
			xs_log("%s/journal: bad record at offset %zu", j->dir, off);
			break;
		}
		off += 8 + hdr[0];
		batches++;
	}
	j->replaying = false;
	if (off < size) {
		xs_log("%s/journal: discarding %zu bytes of torn or corrupt tail", j->dir,
		       size - off);
		if (ftruncate(fd, (off_t)off))
			rc = -errno;
	}
	free(data);
	j->file_size = off;
	if (!s->quiet)
		xs_log("journal replayed: %zu batches, %zu nodes", batches, s->tree.count);
	return rc;
}

static int xs_mkdir_p(const char *dir)
{
	char buf[4096];
	char *p;

	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, dir);
	for (p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int xs_journal_open(struct xs_journal *j, const char *dir, struct xs_server *s, bool do_fsync)
{
	int rc, fd;

	memset(j, 0, sizeof(*j));
	j->fd = j->dirfd = -1;
	j->batch_start = SIZE_MAX;
	j->fsync = do_fsync;
	j->compact_min = 8u << 20;
	j->dir = strdup(dir);
	if (!j->dir)
		return -ENOMEM;
	rc = xs_mkdir_p(dir);
	if (rc)
		return rc;
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0)
		return -errno;
	fd = openat(j->dirfd, "journal", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = xs_j_replay(j, s, fd);
	if (!rc && j->file_size == 0) {
		rc = xs_write_all(fd, XS_JOURNAL_MAGIC, sizeof(XS_JOURNAL_MAGIC) - 1);
		if (!rc && (fsync(fd) || fsync(j->dirfd)))
			rc = -errno;
		j->file_size = sizeof(XS_JOURNAL_MAGIC) - 1;
	}
	if (rc) {
		close(fd);
		return rc;
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	j->fd = fd;
	return 0;
}

void xs_journal_close(struct xs_journal *j)
{
	xs_journal_flush(j);
	if (j->fd >= 0)
		close(j->fd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	xs_buf_free(&j->pending);
	free(j->dir);
	j->fd = j->dirfd = -1;
	j->dir = NULL;
}

bool xs_journal_want_compact(const struct xs_journal *j, const struct xs_tree *t)
{
	uint64_t live = t->bytes + (uint64_t)t->count * 24;

	return j->fd >= 0 && j->file_size > j->compact_min && j->file_size > 4 * live;
}

struct xs_j_snap {
	struct xs_journal *j;
	int fd;
	int rc;
};

static int xs_j_snap_node(void *o, const char *path, const struct xs_node *n)
{
	struct xs_j_snap *sn = o;
	struct xs_journal *j = sn->j;

	xs_j_open_batch(j);
	xs_j_encode_set(j, path, n);
	if (j->pending.len > (1u << 20)) {
		xs_journal_end_batch(j);
		sn->rc = xs_write_all(sn->fd, j->pending.p, j->pending.len);
		xs_buf_consume(&j->pending, j->pending.len);
	}
	return sn->rc;
}

/* Rewrite the journal as a snapshot of the live tree and domains. */
int xs_journal_compact(struct xs_journal *j, struct xs_server *s)
{
	struct xs_j_snap sn = {j, -1, 0};
	struct stat st;
	unsigned i;

	bool was_failed = j->failed;

	if (j->fd < 0 || j->pending.len || j->batch_start != SIZE_MAX)
		return -EBUSY;
	j->failed = false; /* the snapshot is written whole or not at all */
	sn.fd = openat(j->dirfd, "journal.new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (sn.fd < 0) {
		j->failed = was_failed;
		return -errno;
	}
	sn.rc = xs_write_all(sn.fd, XS_JOURNAL_MAGIC, sizeof(XS_JOURNAL_MAGIC) - 1);
	if (!sn.rc)
		xs_tree_walk(&s->tree, xs_j_snap_node, &sn);
	for (i = 0; s->domains && i < 0x7ff0u && !sn.rc; i++) {
		if (s->domains[i] && s->domains[i]->introduced) {
			xs_j_open_batch(j);
			xs_j_encode_domain(j, s->domains[i]);
		}
	}
	xs_journal_end_batch(j);
	if (!sn.rc && j->failed)
		sn.rc = -ENOMEM; /* the snapshot buffer could not grow */
	if (!sn.rc)
		sn.rc = xs_write_all(sn.fd, j->pending.p, j->pending.len);
	xs_buf_consume(&j->pending, j->pending.len);
	if (!sn.rc && (fsync(sn.fd) || fstat(sn.fd, &st)))
		sn.rc = -errno;
	if (!sn.rc && renameat(j->dirfd, "journal.new", j->dirfd, "journal"))
		sn.rc = -errno;
	if (sn.rc) {
		close(sn.fd);
		unlinkat(j->dirfd, "journal.new", 0);
		xs_log("journal compaction failed: %s", strerror(-sn.rc));
		j->failed = was_failed;
		return sn.rc;
	}
	fsync(j->dirfd);
	close(j->fd);
	j->fd = sn.fd; /* opened O_WRONLY at its end: appends continue there */
	j->file_size = (uint64_t)st.st_size;
	if (was_failed)
		xs_log("journal rewritten: accepting changes again");
	return 0;
}
