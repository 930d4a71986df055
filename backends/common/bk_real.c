/*
 * The real transport: the seam (bk_transport.h) over keeld, through
 * libkeelctl.  Grant maps ask keeld to map each reference for dom0
 * (keelctl_map_grant, which marks the entry in use) and move the pages into
 * one reserved, contiguous area (mremap), so a batch looks like Xen's
 * GNTTABOP_map_grant_ref result; unmapping releases every reference.
 * Copies are keeld's grant copy for dom0 processes (keelctl_grant_copy):
 * each transport registers one bounce buffer with keeld on its first copy
 * and a batch of up to BK_REAL_COPY_BATCH pieces moves between the granted
 * pages and that buffer in one round trip; the backend's memory is copied
 * to or from the buffer here.  (A keeld without grant copy gets the old
 * way: map, memcpy and release each page.)  Frames can also be mapped by number for consoles whose page is not
 * granted (map_frame, the privileged foreign mapping xenconsoled falls back
 * to).  An event channel is dom0's end of a guest port left unbound for
 * dom0 (keelctl_bind_evtchn): its kick fd polls readable when the guest
 * sends, writing its notify fd sends to the guest.  One control connection
 * to keeld, one lock: the backends call in from more than one thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bk_transport.h"
#include "keelctl.h"

#define BK_REAL_MAX_MAPS   4096
#define BK_REAL_MAX_PORTS  1024
#define BK_REAL_MAX_BATCH  1024
#define BK_REAL_COPY_BATCH KEELCTL_GCOPY_MAX /* one bounce page per op */

struct bk_real_map {
	void *addr;
	unsigned count;
	uint16_t domid;
	bool frame; /* map_frame: nothing to release in keeld */
	grant_ref_t *refs;
};

struct bk_real_port {
	bool used;
	uint16_t domid;
	uint32_t remote;
	int kick_fd, notify_fd;
};

struct bk_real {
	pthread_mutex_t lock;
	struct keelctl *h;
	struct bk_real_map maps[BK_REAL_MAX_MAPS];
	unsigned nmaps;
	struct bk_real_port ports[BK_REAL_MAX_PORTS]; /* local port = index + 1 */
	uint8_t *bounce; /* BK_REAL_COPY_BATCH pages registered with keeld for copies */
	uint32_t bounce_id;
	bool no_gcopy; /* keeld refused to register it: copy by map */
	bool no_gmap;  /* keeld has no MAP_GRANTS: map one reference at a time */
	struct keelctl_gcopy gops[BK_REAL_COPY_BATCH];
	int16_t gstatus[BK_REAL_COPY_BATCH];
};

static int bk_real_track(struct bk_real *r, void *addr, unsigned count, uint16_t domid, bool frame,
			 grant_ref_t *refs)
{
	if (r->nmaps == BK_REAL_MAX_MAPS)
		return -ENOSPC;
	r->maps[r->nmaps++] = (struct bk_real_map){addr, count, domid, frame, refs};
	return 0;
}

/* Release the first n references of a batch and its area (locked): one
 * UNMAP_GRANTS round trip (per reference against an older keeld). */
static void bk_real_release(struct bk_real *r, uint16_t domid, const grant_ref_t *refs, unsigned n,
			    void *area, unsigned count)
{
	munmap(area, (size_t)count * BK_PAGE_SIZE);
	if (n && !r->no_gmap && keelctl_unmap_grants(r->h, domid, refs, n) != -EOPNOTSUPP)
		return;
	for (unsigned i = 0; i < n; i++)
		keelctl_unmap_grant(r->h, domid, refs[i], NULL);
}

static int bk_real_errno(int e)
{
	/* keeld says EPERM for "not granted to dom0" and for a read-only grant. */
	return e == -EINVAL ? -ENOENT : e;
}

static int bk_real_map(void *ctx, uint16_t domid, const grant_ref_t *refs, unsigned count,
		       unsigned flags, void **addr, unsigned *bad_index)
{
	struct bk_real *r = ctx;
	int writable = !(flags & BK_GNT_READONLY), err = 0;
	grant_ref_t *copy;
	char *area;
	unsigned i;

	if (count == 0 || count > BK_REAL_MAX_BATCH)
		return -EINVAL;
	copy = malloc(count * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, refs, count * sizeof(*copy));
	/* Reserve the whole span first so the batch lands contiguous. */
	area = mmap(NULL, (size_t)count * BK_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	if (area == MAP_FAILED) {
		free(copy);
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	/* The whole batch in one round trip, straight into the area. */
	if (!r->no_gmap) {
		err = keelctl_map_grants(r->h, domid, refs, count, writable, area, &i);
		if (err == -EOPNOTSUPP) {
			r->no_gmap = true;
		} else {
			if (!err)
				err = bk_real_track(r, area, count, domid, false, copy);
			if (err) {
				if (bad_index)
					*bad_index = i < count ? i : 0;
				munmap(area, (size_t)count * BK_PAGE_SIZE);
				free(copy);
				err = bk_real_errno(err);
			} else {
				*addr = area;
			}
			pthread_mutex_unlock(&r->lock);
			return err;
		}
	}
	for (i = 0; i < count; i++) {
		void *page, *to = area + (size_t)i * BK_PAGE_SIZE;

		err = keelctl_map_grant(r->h, domid, refs[i], writable, &page);
		if (err) {
			err = bk_real_errno(err);
			break;
		}
		if (mremap(page, BK_PAGE_SIZE, BK_PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, to) ==
		    MAP_FAILED) {
			err = -errno;
			keelctl_unmap_grant(r->h, domid, refs[i], page);
			break;
		}
	}
	if (!err)
		err = bk_real_track(r, area, count, domid, false, copy);
	if (err) {
		if (bad_index)
			*bad_index = i < count ? i : 0;
		bk_real_release(r, domid, refs, i < count ? i : count, area, count);
		free(copy);
	} else {
		*addr = area;
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

static int bk_real_map_frame(void *ctx, uint16_t domid, uint64_t mfn, void **addr)
{
	struct bk_real *r = ctx;
	void *page;
	int err;

	pthread_mutex_lock(&r->lock);
	err = keelctl_map_frames(r->h, domid, mfn, 1, &page);
	if (!err) {
		err = bk_real_track(r, page, 1, domid, true, NULL);
		if (err)
			munmap(page, BK_PAGE_SIZE);
		else
			*addr = page;
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

static int bk_real_unmap(void *ctx, void *addr, unsigned count)
{
	struct bk_real *r = ctx;
	int err = -EINVAL;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nmaps; i++) {
		struct bk_real_map m = r->maps[i];

		if (m.addr != addr)
			continue;
		if (m.count != count)
			break;
		if (m.frame)
			munmap(addr, BK_PAGE_SIZE);
		else
			bk_real_release(r, m.domid, m.refs, m.count, addr, m.count);
		free(m.refs);
		r->maps[i] = r->maps[--r->nmaps];
		err = 0;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* What a GNTST_* of a grant copy means in bk_gnt_ops' errno terms (the
 * same ones the map path gives). */
static int bk_real_gntst_errno(int16_t st)
{
	switch (st) {
	case GNTST_okay:
		return 0;
	case GNTST_bad_gntref:
		return -ENOENT;
	case GNTST_permission_denied:
		return -EPERM;
	case GNTST_bad_domain:
		return -ESRCH;
	case GNTST_bad_page:
		return -EFAULT;
	default:
		return -EINVAL;
	}
}

/* One batch of at most BK_REAL_COPY_BATCH ops through the bounce buffer (locked). */
static void bk_real_copy_batch(struct bk_real *r, struct bk_gnt_copy *ops, unsigned count)
{
	unsigned n = 0, idx[BK_REAL_COPY_BATCH];
	int err;

	for (unsigned i = 0; i < count; i++) {
		struct bk_gnt_copy *op = &ops[i];
		struct keelctl_gcopy *g = &r->gops[n];
		struct keelctl_gcopy_ptr grant = {op->gref, op->offset};
		struct keelctl_gcopy_ptr buf = {r->bounce_id, n * BK_PAGE_SIZE};

		if ((unsigned)op->offset + op->len > BK_PAGE_SIZE) {
			op->status = -EINVAL;
			continue;
		}
		*g = (struct keelctl_gcopy){.domid = op->domid, .len = op->len};
		if (op->to_grant) {
			memcpy(r->bounce + (size_t)n * BK_PAGE_SIZE, op->local, op->len);
			g->source = buf;
			g->dest = grant;
			g->flags = KEELCTL_GCOPY_DEST_GREF;
		} else {
			g->source = grant;
			g->dest = buf;
			g->flags = KEELCTL_GCOPY_SOURCE_GREF;
		}
		idx[n++] = i;
	}
	if (!n)
		return;
	err = keelctl_grant_copy(r->h, r->gops, n, r->gstatus);
	for (unsigned k = 0; k < n; k++) {
		struct bk_gnt_copy *op = &ops[idx[k]];

		op->status = err ? err : bk_real_gntst_errno(r->gstatus[k]);
		if (!op->status && !op->to_grant)
			memcpy(op->local, r->bounce + (size_t)k * BK_PAGE_SIZE, op->len);
	}
}

/* The bounce buffer, registered on the first copy (locked); false: none. */
static bool bk_real_bounce(struct bk_real *r)
{
	void *p;
	int err;

	if (r->bounce || r->no_gcopy)
		return r->bounce != NULL;
	err = keelctl_grant_copy_buffer(r->h, (size_t)BK_REAL_COPY_BATCH * BK_PAGE_SIZE,
					&r->bounce_id, &p);
	if (err) {
		bk_log("keeld has no grant copy for dom0 (%s): copying through grant maps",
		       strerror(-err));
		r->no_gcopy = true;
		return false;
	}
	r->bounce = p;
	return true;
}

static int bk_real_copy(void *ctx, struct bk_gnt_copy *ops, unsigned count)
{
	struct bk_real *r = ctx;
	int first = 0;

	pthread_mutex_lock(&r->lock);
	if (bk_real_bounce(r)) {
		for (unsigned i = 0; i < count; i += BK_REAL_COPY_BATCH)
			bk_real_copy_batch(r, ops + i,
					   count - i < BK_REAL_COPY_BATCH ? count - i
									  : BK_REAL_COPY_BATCH);
		for (unsigned i = 0; i < count && !first; i++)
			first = ops[i].status;
		pthread_mutex_unlock(&r->lock);
		return first;
	}
	for (unsigned i = 0; i < count; i++) {
		struct bk_gnt_copy *op = &ops[i];
		void *page;

		if ((unsigned)op->offset + op->len > BK_PAGE_SIZE) {
			op->status = -EINVAL;
		} else {
			op->status =
				keelctl_map_grant(r->h, op->domid, op->gref, op->to_grant, &page);
			if (op->status == 0) {
				if (op->to_grant)
					memcpy((char *)page + op->offset, op->local, op->len);
				else
					memcpy(op->local, (char *)page + op->offset, op->len);
				keelctl_unmap_grant(r->h, op->domid, op->gref, page);
			} else {
				op->status = bk_real_errno(op->status);
			}
		}
		if (op->status && !first)
			first = op->status;
	}
	pthread_mutex_unlock(&r->lock);
	return first;
}

static struct bk_real_port *bk_real_port(struct bk_real *r, uint32_t lport)
{
	if (lport == 0 || lport > BK_REAL_MAX_PORTS || !r->ports[lport - 1].used)
		return NULL;
	return &r->ports[lport - 1];
}

static int bk_real_bind(void *ctx, uint16_t domid, uint32_t remote_port, uint32_t *local_port)
{
	struct bk_real *r = ctx;
	int err = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < BK_REAL_MAX_PORTS; i++) {
		struct bk_real_port *p = &r->ports[i];

		if (p->used)
			continue;
		err = keelctl_bind_evtchn(r->h, domid, remote_port, &p->kick_fd, &p->notify_fd);
		/*
		 * Still bound to dom0: a backend killed (-9) before it could
		 * unbind.  The frontend published this port for this device
		 * alone, so let go of the stale binding and bind again.
		 */
		if (err == -EINVAL && keelctl_unbind_evtchn(r->h, domid, remote_port) == 0) {
			bk_log("domain %u: port %u was still bound to dom0 (a previous backend?), "
			       "rebinding",
			       domid, remote_port);
			err = keelctl_bind_evtchn(r->h, domid, remote_port, &p->kick_fd,
						  &p->notify_fd);
		}
		if (!err) {
			p->used = true;
			p->domid = domid;
			p->remote = remote_port;
			*local_port = i + 1;
		}
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

static int bk_real_unbind(void *ctx, uint32_t local_port)
{
	struct bk_real *r = ctx;
	struct bk_real_port *p;
	int err = -EINVAL;

	pthread_mutex_lock(&r->lock);
	p = bk_real_port(r, local_port);
	if (p) {
		close(p->kick_fd);
		close(p->notify_fd);
		err = keelctl_unbind_evtchn(r->h, p->domid, p->remote);
		if (err == -ESRCH)
			err = 0; /* the domain is gone: nothing left to undo */
		memset(p, 0, sizeof(*p));
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

static int bk_real_fd(void *ctx, uint32_t local_port)
{
	struct bk_real *r = ctx;
	struct bk_real_port *p;
	int fd;

	pthread_mutex_lock(&r->lock);
	p = bk_real_port(r, local_port);
	fd = p ? p->kick_fd : -EINVAL;
	pthread_mutex_unlock(&r->lock);
	return fd;
}

static int bk_real_notify(void *ctx, uint32_t local_port)
{
	struct bk_real *r = ctx;
	struct bk_real_port *p;
	uint64_t one = 1;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	p = bk_real_port(r, local_port);
	if (!p)
		err = -EINVAL;
	else if (write(p->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		err = -errno;
	pthread_mutex_unlock(&r->lock);
	return err;
}

static int bk_real_consume(void *ctx, uint32_t local_port)
{
	struct bk_real *r = ctx;
	struct bk_real_port *p;
	uint64_t n;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	p = bk_real_port(r, local_port);
	if (!p)
		err = -EINVAL;
	else if (read(p->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		err = -errno; /* keeld's kick fd is non-blocking: EAGAIN = nothing pending */
	pthread_mutex_unlock(&r->lock);
	return err;
}

static const struct bk_gnt_ops bk_real_gnt_ops = {
	.name = "keeld",
	.map = bk_real_map,
	.unmap = bk_real_unmap,
	.copy = bk_real_copy,
	.map_frame = bk_real_map_frame,
};

static const struct bk_evtchn_ops bk_real_evtchn_ops = {
	.name = "keeld",
	.bind = bk_real_bind,
	.unbind = bk_real_unbind,
	.fd = bk_real_fd,
	.notify = bk_real_notify,
	.consume = bk_real_consume,
};

int bk_transport_open_real_at(struct bk_transport *t, const char *rundir, const char **why)
{
	struct bk_real *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		*why = "out of memory";
		return -ENOMEM;
	}
	err = keelctl_open(rundir, &r->h);
	if (err) {
		free(r);
		*why = "cannot reach keeld's control socket (is keeld running? --rundir / "
		       "$KEEL_RUNDIR)";
		return err;
	}
	pthread_mutex_init(&r->lock, NULL);
	memset(t, 0, sizeof(*t));
	t->name = "keeld";
	t->self_domid = 0;
	t->gnt = &bk_real_gnt_ops;
	t->gnt_ctx = r;
	t->evtchn = &bk_real_evtchn_ops;
	t->evtchn_ctx = r;
	return 0;
}

int bk_transport_open_real(struct bk_transport *t, const char **why)
{
	return bk_transport_open_real_at(t, NULL, why);
}

void bk_transport_close_real(struct bk_transport *t)
{
	struct bk_real *r = t->gnt_ctx;

	if (!r || t->gnt != &bk_real_gnt_ops)
		return;
	for (unsigned i = 0; i < BK_REAL_MAX_PORTS; i++)
		if (r->ports[i].used)
			bk_real_unbind(r, i + 1);
	while (r->nmaps)
		bk_real_unmap(r, r->maps[0].addr, r->maps[0].count);
	/* keeld drops the registration with the connection. */
	if (r->bounce)
		munmap(r->bounce, (size_t)BK_REAL_COPY_BATCH * BK_PAGE_SIZE);
	keelctl_close(r->h);
	pthread_mutex_destroy(&r->lock);
	free(r);
	t->gnt_ctx = t->evtchn_ctx = NULL;
}
