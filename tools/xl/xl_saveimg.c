/*
 * Reading and writing `xl save` images (format in xl_saveimg.h): a zlib
 * stream written through a 256 KiB buffer, its CRC-32 kept as it goes and
 * put in the header at the end; reading verifies the header and the
 * payload's checksum in a first pass, then inflates section by section,
 * never trusting a length or page number it has not checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "xl_saveimg.h"

#define XL_SAVEIMG_BUF (256 * 1024)

struct xl_saveimg_w {
	int fd;
	int stream; /* xl migrate: the fd is a pipe, not ours */
	char *path;
	z_stream z;
	uint8_t *out;
	uint64_t comp, raw;
	uint32_t crc;
};

struct xl_saveimg_r {
	int fd;
	int stream; /* xl migrate: read until zlib's end; the fd is not ours */
	z_stream z;
	uint8_t *in;
	uint64_t raw, left; /* inflated so far; compressed bytes not yet read */
	int ended;
	int eof; /* the fd ended before the payload did (a stream: the sender went away) */
	struct xl_saveimg_hdr hdr;
};

static int xl_saveimg_full_write(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int xl_saveimg_create(const char *path, int level, struct xl_saveimg_w **out)
{
	struct xl_saveimg_w *w = calloc(1, sizeof(*w));
	struct xl_saveimg_hdr blank;
	int r;

	if (!w)
		return -ENOMEM;
	memset(&blank, 0, sizeof(blank));
	w->out = malloc(XL_SAVEIMG_BUF);
	w->path = strdup(path);
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0 || !w->out || !w->path) {
		r = w->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if (deflateInit(&w->z, level) != Z_OK) {
		r = -ENOMEM;
		goto fail;
	}
	w->crc = crc32(0, NULL, 0);
	/* the real header goes in at the end, when sizes and CRCs are known */
	r = xl_saveimg_full_write(w->fd, &blank, sizeof(blank));
	if (r < 0) {
		deflateEnd(&w->z);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	if (w->fd >= 0) {
		close(w->fd);
		unlink(path);
	}
	free(w->out);
	free(w->path);
	free(w);
	return r;
}

static int xl_saveimg_deflate(struct xl_saveimg_w *w, const void *buf, size_t n, int flush)
{
	w->z.next_in = (Bytef *)buf;
	w->z.avail_in = (uInt)n;
	w->raw += n;
	do {
		size_t have;
		int zr;

		w->z.next_out = w->out;
		w->z.avail_out = XL_SAVEIMG_BUF;
		zr = deflate(&w->z, flush);
		if (zr == Z_STREAM_ERROR)
			return -EIO;
		have = XL_SAVEIMG_BUF - w->z.avail_out;
		if (have) {
			int r = xl_saveimg_full_write(w->fd, w->out, have);

			if (r < 0)
				return r;
			w->crc = crc32(w->crc, w->out, (uInt)have);
			w->comp += have;
		}
	} while (w->z.avail_out == 0 || (flush == Z_FINISH && w->z.avail_in));
	return 0;
}

int xl_saveimg_write(struct xl_saveimg_w *w, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	/* zlib counts in uInt: feed big buffers in slices */
	while (n) {
		size_t k = n > (1u << 30) ? (1u << 30) : n;
		int r = xl_saveimg_deflate(w, p, k, Z_NO_FLUSH);

		if (r < 0)
			return r;
		p += k;
		n -= k;
	}
	return 0;
}

int xl_saveimg_section(struct xl_saveimg_w *w, uint32_t type, uint64_t len)
{
	uint64_t rec[2] = {type, len};

	return xl_saveimg_write(w, rec, sizeof(rec));
}

static int xl_saveimg_zero_page(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (size_t i = 0; i < XL_SAVEIMG_PAGE / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

int xl_saveimg_write_memory(struct xl_saveimg_w *w, const uint8_t *base, uint64_t nr_pages,
			    xl_saveimg_progress cb, void *arg)
{
	uint64_t end[2] = {UINT64_MAX, 0}, pfn = 0;
	int r = xl_saveimg_section(w, XL_SAVEIMG_MEMORY, nr_pages);

	if (r == 0)
		r = xl_saveimg_write(w, &nr_pages, sizeof(nr_pages));
	while (r == 0 && pfn < nr_pages) {
		uint64_t run[2];

		if (xl_saveimg_zero_page(base + pfn * XL_SAVEIMG_PAGE)) {
			pfn++;
			continue;
		}
		run[0] = pfn;
		while (pfn < nr_pages && !xl_saveimg_zero_page(base + pfn * XL_SAVEIMG_PAGE) &&
		       pfn - run[0] < 4096)
			pfn++;
		run[1] = pfn - run[0];
		r = xl_saveimg_write(w, run, sizeof(run));
		if (r == 0)
			r = xl_saveimg_write(w, base + run[0] * XL_SAVEIMG_PAGE,
					     run[1] * XL_SAVEIMG_PAGE);
		if (cb && r == 0)
			cb(arg, pfn, nr_pages);
	}
	if (r == 0)
		r = xl_saveimg_write(w, end, sizeof(end));
	if (cb && r == 0)
		cb(arg, nr_pages, nr_pages);
	return r;
}

static int xl_saveimg_stream_finish(struct xl_saveimg_w *w)
{
	int r = xl_saveimg_section(w, XL_SAVEIMG_END, 0);

	if (r == 0)
		r = xl_saveimg_deflate(w, NULL, 0, Z_FINISH);
	deflateEnd(&w->z);
	free(w->out);
	free(w);
	return r;
}

int xl_saveimg_finish(struct xl_saveimg_w *w)
{
	struct xl_saveimg_hdr h;
	int r;

	if (w->stream)
		return xl_saveimg_stream_finish(w);
	r = xl_saveimg_section(w, XL_SAVEIMG_END, 0);

	memset(&h, 0, sizeof(h));
	if (r == 0)
		r = xl_saveimg_deflate(w, NULL, 0, Z_FINISH);
	deflateEnd(&w->z);
	memcpy(h.magic, XL_SAVEIMG_MAGIC, 8);
	h.version = XL_SAVEIMG_VERSION;
	h.hdr_size = sizeof(h);
	h.comp_size = w->comp;
	h.raw_size = w->raw;
	h.comp_crc = w->crc;
	h.hdr_crc = (uint32_t)crc32(0, (const Bytef *)&h, sizeof(h));
	if (r == 0 && pwrite(w->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		r = -errno ? -errno : -EIO;
	if (r == 0 && fsync(w->fd) < 0)
		r = -errno;
	if (close(w->fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(w->path);
	free(w->out);
	free(w->path);
	free(w);
	return r;
}

void xl_saveimg_abort(struct xl_saveimg_w *w)
{
	if (!w)
		return;
	deflateEnd(&w->z);
	if (!w->stream) {
		close(w->fd);
		unlink(w->path);
	}
	free(w->out);
	free(w->path);
	free(w);
}

uint64_t xl_saveimg_written(const struct xl_saveimg_w *w)
{
	return w->comp + sizeof(struct xl_saveimg_hdr);
}

/* First pass: header fields, file size and the payload's CRC. */
static int xl_saveimg_verify(struct xl_saveimg_r *r, char *err, size_t errlen)
{
	struct xl_saveimg_hdr h = r->hdr;
	struct stat st;
	uint64_t left;
	uint32_t crc, want = h.hdr_crc;

	if (memcmp(h.magic, XL_SAVEIMG_MAGIC, 8)) {
		snprintf(err, errlen, "not a Keel save image (bad magic)");
		return -EINVAL;
	}
	h.hdr_crc = 0;
	if ((uint32_t)crc32(0, (const Bytef *)&h, sizeof(h)) != want) {
		snprintf(err, errlen, "header checksum mismatch: image corrupt");
		return -EBADMSG;
	}
	if (h.version != XL_SAVEIMG_VERSION || h.hdr_size != sizeof(h)) {
		snprintf(err, errlen, "image format version %u not supported (this xl reads %u)",
			 h.version, (unsigned)XL_SAVEIMG_VERSION);
		return -EPROTO;
	}
	if (fstat(r->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != sizeof(h) + h.comp_size) {
		snprintf(err, errlen, "%s: %llu bytes, header says %llu",
			 (uint64_t)st.st_size < sizeof(h) + h.comp_size ? "truncated"
									: "trailing data",
			 (unsigned long long)st.st_size,
			 (unsigned long long)(sizeof(h) + h.comp_size));
		return -EBADMSG;
	}
	crc = (uint32_t)crc32(0, NULL, 0);
	for (left = h.comp_size; left;) {
		ssize_t n = read(r->fd, r->in, left < XL_SAVEIMG_BUF ? left : XL_SAVEIMG_BUF);

		if (n <= 0) {
			snprintf(err, errlen, "read error");
			return n < 0 ? -errno : -EBADMSG;
		}
		crc = (uint32_t)crc32(crc, r->in, (uInt)n);
		left -= (uint64_t)n;
	}
	if (crc != h.comp_crc) {
		snprintf(err, errlen, "payload checksum mismatch: image corrupt");
		return -EBADMSG;
	}
	if (lseek(r->fd, sizeof(h), SEEK_SET) < 0)
		return -errno;
	return 0;
}

int xl_saveimg_open(const char *path, struct xl_saveimg_r **out, char *err, size_t errlen)
{
	struct xl_saveimg_r *r = calloc(1, sizeof(*r));
	ssize_t n;
	int rc;

	snprintf(err, errlen, "cannot read");
	if (!r)
		return -ENOMEM;
	r->in = malloc(XL_SAVEIMG_BUF);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || !r->in) {
		rc = r->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	n = read(r->fd, &r->hdr, sizeof(r->hdr));
	if (n != (ssize_t)sizeof(r->hdr)) {
		snprintf(err, errlen, "truncated: no complete header");
		rc = n < 0 ? -errno : -EBADMSG;
		goto fail;
	}
	rc = xl_saveimg_verify(r, err, errlen);
	if (rc < 0)
		goto fail;
	if (inflateInit(&r->z) != Z_OK) {
		rc = -ENOMEM;
		goto fail;
	}
	r->left = r->hdr.comp_size;
	*out = r;
	return 0;
fail:
	if (r->fd >= 0)
		close(r->fd);
	free(r->in);
	free(r);
	return rc;
}

int xl_saveimg_read(struct xl_saveimg_r *r, void *buf, size_t n)
{
	r->z.next_out = buf;
	r->z.avail_out = (uInt)n;
	while (r->z.avail_out) {
		int zr;

		if (!r->z.avail_in && r->left) {
			ssize_t k = read(r->fd, r->in,
					 r->left < XL_SAVEIMG_BUF ? r->left : XL_SAVEIMG_BUF);

			if (k < 0 && errno == EINTR)
				continue;
			if (k == 0)
				r->eof = 1;
			if (k <= 0)
				return k < 0 ? -errno
					     : -EBADMSG; /* a stream: the sender went away */
			r->left -= (uint64_t)k;
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)k;
		}
		zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			r->ended = 1;
			if (r->z.avail_out)
				return -EBADMSG; /* the stream ended inside a record */
			break;
		}
		if (zr != Z_OK && !(zr == Z_BUF_ERROR && (r->z.avail_in || r->left)))
			return -EBADMSG;
	}
	r->raw += n;
	return r->raw > r->hdr.raw_size ? -EBADMSG : 0;
}

int xl_saveimg_next(struct xl_saveimg_r *r, uint32_t *type, uint64_t *len)
{
	uint64_t rec[2];
	int rc = xl_saveimg_read(r, rec, sizeof(rec));

	if (rc < 0)
		return rc;
	if (rec[0] < XL_SAVEIMG_CONFIG || rec[0] > XL_SAVEIMG_EMULATOR ||
	    (rec[0] == XL_SAVEIMG_PAGES && !r->stream))
		return -EBADMSG;
	if (rec[1] > r->hdr.raw_size - r->raw)
		return -EBADMSG; /* longer than what is left */
	*type = (uint32_t)rec[0];
	*len = rec[1];
	return 0;
}

int xl_saveimg_read_memory(struct xl_saveimg_r *r, uint8_t *base, uint64_t nr_pages,
			   xl_saveimg_progress cb, void *arg)
{
	uint64_t n, next = 0;
	int rc = xl_saveimg_read(r, &n, sizeof(n));

	if (rc < 0)
		return rc;
	if (n != nr_pages)
		return -EINVAL;
	for (;;) {
		uint64_t run[2];

		rc = xl_saveimg_read(r, run, sizeof(run));
		if (rc < 0)
			return rc;
		if (run[0] == UINT64_MAX)
			break;
		/* runs ascend and stay inside the domain */
		if (run[0] < next || run[0] >= nr_pages || run[1] == 0 ||
		    run[1] > nr_pages - run[0])
			return -EBADMSG;
		rc = xl_saveimg_read(r, base + run[0] * XL_SAVEIMG_PAGE, run[1] * XL_SAVEIMG_PAGE);
		if (rc < 0)
			return rc;
		next = run[0] + run[1];
		if (cb)
			cb(arg, next, nr_pages);
	}
	if (cb)
		cb(arg, nr_pages, nr_pages);
	return 0;
}

int xl_saveimg_check_end(struct xl_saveimg_r *r)
{
	uint8_t extra;

	if (r->stream) {
		/* zlib checks its Adler-32 at its end, which must come right after END */
		if (!r->ended && xl_saveimg_read(r, &extra, 1) == 0)
			return -EBADMSG;
		return r->ended && !r->z.avail_in ? 0 : -EBADMSG;
	}
	if (r->raw != r->hdr.raw_size)
		return -EBADMSG;
	/* nothing may follow END in the stream */
	if (!r->ended && xl_saveimg_read(r, &extra, 1) == 0)
		return -EBADMSG;
	return 0;
}

bool xl_saveimg_cut_short(const struct xl_saveimg_r *r)
{
	return r && r->eof;
}

const struct xl_saveimg_hdr *xl_saveimg_header(const struct xl_saveimg_r *r)
{
	return &r->hdr;
}

void xl_saveimg_close(struct xl_saveimg_r *r)
{
	if (!r)
		return;
	inflateEnd(&r->z);
	if (!r->stream)
		close(r->fd);
	free(r->in);
	free(r);
}

int xl_saveimg_stream_create(int fd, int level, struct xl_saveimg_w **out)
{
	struct xl_saveimg_w *w = calloc(1, sizeof(*w));
	struct xl_saveimg_hdr h;
	int r;

	if (!w || !(w->out = malloc(XL_SAVEIMG_BUF)) || deflateInit(&w->z, level) != Z_OK) {
		if (w)
			free(w->out);
		free(w);
		return -ENOMEM;
	}
	w->fd = fd;
	w->stream = 1;
	w->crc = crc32(0, NULL, 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, XL_SAVEIMG_MAGIC, 8);
	h.version = XL_SAVEIMG_VERSION;
	h.hdr_size = sizeof(h);
	h.flags = XL_SAVEIMG_F_STREAM;
	h.hdr_crc = (uint32_t)crc32(0, (const Bytef *)&h, sizeof(h));
	r = xl_saveimg_full_write(fd, &h, sizeof(h));
	if (r < 0) {
		deflateEnd(&w->z);
		free(w->out);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

int xl_saveimg_flush(struct xl_saveimg_w *w)
{
	return xl_saveimg_deflate(w, NULL, 0, Z_SYNC_FLUSH);
}

int xl_saveimg_write_pages(struct xl_saveimg_w *w, const uint8_t *base, uint64_t nr_pages,
			   const uint64_t *dirty, int skip_zero, uint64_t *sent)
{
	uint64_t end[2] = {UINT64_MAX, 0}, pfn = 0;
	int r = xl_saveimg_section(w, XL_SAVEIMG_PAGES, nr_pages);

#define XL_DIRTY(p) (!dirty || (dirty[(p) / 64] >> ((p) % 64) & 1))
	*sent = 0;
	while (r == 0 && pfn < nr_pages) {
		uint64_t run[2];
		int zero;

		if (dirty && !dirty[pfn / 64] && pfn % 64 == 0) {
			pfn += 64;
			continue;
		}
		if (!XL_DIRTY(pfn)) {
			pfn++;
			continue;
		}
		zero = xl_saveimg_zero_page(base + pfn * XL_SAVEIMG_PAGE);
		run[0] = pfn++;
		while (pfn < nr_pages && XL_DIRTY(pfn) && pfn - run[0] < 4096 &&
		       xl_saveimg_zero_page(base + pfn * XL_SAVEIMG_PAGE) == zero)
			pfn++;
		run[1] = pfn - run[0];
		if (zero && skip_zero)
			continue;
		if (zero)
			run[1] |= XL_SAVEIMG_RUN_ZERO;
		r = xl_saveimg_write(w, run, sizeof(run));
		if (r == 0 && !zero) {
			r = xl_saveimg_write(w, base + run[0] * XL_SAVEIMG_PAGE,
					     run[1] * XL_SAVEIMG_PAGE);
			*sent += run[1];
		}
	}
#undef XL_DIRTY
	if (r == 0)
		r = xl_saveimg_write(w, end, sizeof(end));
	return r;
}

int xl_saveimg_stream_open(int fd, struct xl_saveimg_r **out, char *err, size_t errlen)
{
	struct xl_saveimg_r *r = calloc(1, sizeof(*r));
	struct xl_saveimg_hdr h;
	uint32_t want;
	size_t got = 0;

	snprintf(err, errlen, "cannot read");
	if (!r || !(r->in = malloc(XL_SAVEIMG_BUF))) {
		free(r);
		return -ENOMEM;
	}
	while (got < sizeof(h)) {
		ssize_t n = read(fd, (uint8_t *)&h + got, sizeof(h) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "truncated: no complete header");
			goto fail;
		}
		got += (size_t)n;
	}
	want = h.hdr_crc;
	h.hdr_crc = 0;
	if (memcmp(h.magic, XL_SAVEIMG_MAGIC, 8) ||
	    (uint32_t)crc32(0, (const Bytef *)&h, sizeof(h)) != want) {
		snprintf(err, errlen, "not a Keel migration stream (bad magic or header checksum)");
		goto fail;
	}
	if (h.version != XL_SAVEIMG_VERSION || h.hdr_size != sizeof(h) ||
	    !(h.flags & XL_SAVEIMG_F_STREAM)) {
		snprintf(err, errlen, "stream format version %u not supported (this xl reads %u)",
			 h.version, (unsigned)XL_SAVEIMG_VERSION);
		goto fail;
	}
	if (inflateInit(&r->z) != Z_OK)
		goto fail;
	h.hdr_crc = want;
	h.raw_size = UINT64_MAX; /* bounded by END, not by a size up front */
	r->hdr = h;
	r->fd = fd;
	r->stream = 1;
	r->left = UINT64_MAX;
	*out = r;
	return 0;
fail:
	free(r->in);
	free(r);
	return -EBADMSG;
}

int xl_saveimg_read_pages(struct xl_saveimg_r *r, uint8_t *base, uint64_t nr_pages, uint64_t *pages)
{
	uint64_t next = 0;

	*pages = 0;
	for (;;) {
		uint64_t run[2], n;
		int zero, rc = xl_saveimg_read(r, run, sizeof(run));

		if (rc < 0)
			return rc;
		if (run[0] == UINT64_MAX)
			return 0;
		zero = (run[1] & XL_SAVEIMG_RUN_ZERO) != 0;
		n = run[1] & ~XL_SAVEIMG_RUN_ZERO;
		/* runs ascend and stay inside the domain */
		if (run[0] < next || run[0] >= nr_pages || n == 0 || n > nr_pages - run[0])
			return -EBADMSG;
		if (zero)
			memset(base + run[0] * XL_SAVEIMG_PAGE, 0, n * XL_SAVEIMG_PAGE);
		else if ((rc = xl_saveimg_read(r, base + run[0] * XL_SAVEIMG_PAGE,
					       n * XL_SAVEIMG_PAGE)) < 0)
			return rc;
		else
			*pages += n;
		next = run[0] + n;
	}
}
