/*
 * The file format of `xl save` images (xl_saveimg.c).  A 64-byte header
 * (magic "KeelSave", version, sizes, CRC-32 of the header and of the
 * payload) and a zlib stream of sections: the domain's xl.cfg, its RAM
 * (runs of non-zero pages; zero pages are not stored), keeld's state of
 * the domain, and an end marker.  The reader checks the header, the file
 * size and the payload checksum before it hands out a single byte, and
 * every section length and page number afterwards.
 */
#ifndef KEEL_XL_SAVEIMG_H
#define KEEL_XL_SAVEIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XL_SAVEIMG_MAGIC   "KeelSave"
#define XL_SAVEIMG_VERSION 1
#define XL_SAVEIMG_PAGE	   4096

enum xl_saveimg_section {
	XL_SAVEIMG_CONFIG = 1, /* xl.cfg text */
	XL_SAVEIMG_MEMORY, /* u64 nr_pages, then runs {u64 pfn, u64 count, pages}, pfn ~0 ends */
	XL_SAVEIMG_STATE,  /* keeld's state blob (hypervisor/ctl/ctl_save.c) */
	XL_SAVEIMG_END,
	XL_SAVEIMG_PAGES, /* a migration round: runs {u64 pfn, u64 count [| ZERO]}, pfn ~0 ends */
	XL_SAVEIMG_EMULATOR, /* an HVM domain's device model state (QEMU's, as it wrote it) */
};

/* A PAGES run of zero pages: the receiver clears them, no data follows. */
#define XL_SAVEIMG_RUN_ZERO (1ULL << 63)
/* hdr.flags: a stream (xl migrate) -- sizes and payload CRC are not known
 * up front; zlib's own Adler-32 and the END record close it. */
#define XL_SAVEIMG_F_STREAM 1

struct xl_saveimg_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;
	uint64_t comp_size; /* payload bytes after the header */
	uint64_t raw_size;  /* payload bytes once inflated */
	uint32_t comp_crc;  /* CRC-32 of the payload */
	uint32_t flags;
	uint32_t hdr_crc; /* CRC-32 of this header with hdr_crc = 0 */
	uint8_t pad[20];
};
_Static_assert(sizeof(struct xl_saveimg_hdr) == 64, "xl_saveimg_hdr");

/* Progress: called now and then with bytes done of total (total 0: unknown). */
typedef void (*xl_saveimg_progress)(void *arg, uint64_t done, uint64_t total);

struct xl_saveimg_w;
/* Create path (truncating it); level is zlib's (1 fast .. 9 small). */
int xl_saveimg_create(const char *path, int level, struct xl_saveimg_w **w);
int xl_saveimg_section(struct xl_saveimg_w *w, uint32_t type, uint64_t len);
int xl_saveimg_write(struct xl_saveimg_w *w, const void *buf, size_t n);
/* A MEMORY section from RAM mapped at base (nr_pages frames). */
int xl_saveimg_write_memory(struct xl_saveimg_w *w, const uint8_t *base, uint64_t nr_pages,
			    xl_saveimg_progress cb, void *arg);
/*
 * The same format over a pipe (xl migrate): the header is written first
 * with XL_SAVEIMG_F_STREAM and no sizes; xl_saveimg_finish ends the zlib
 * stream (and closes nothing: the fd is the caller's).
 */
int xl_saveimg_stream_create(int fd, int level, struct xl_saveimg_w **w);
/* Push what is buffered to the fd (a round's end). */
int xl_saveimg_flush(struct xl_saveimg_w *w);
/*
 * A PAGES section: the frames set in dirty (NULL: all) of RAM at base;
 * zero pages are sent as zero runs, or skipped when skip_zero (the first
 * round: the target's RAM starts zeroed).  *sent counts data pages.
 */
int xl_saveimg_write_pages(struct xl_saveimg_w *w, const uint8_t *base, uint64_t nr_pages,
			   const uint64_t *dirty, int skip_zero, uint64_t *sent);
/* End marker, flush, header; then the file is complete (and synced). */
int xl_saveimg_finish(struct xl_saveimg_w *w);
/* Give up: close and remove the file. */
void xl_saveimg_abort(struct xl_saveimg_w *w);
uint64_t xl_saveimg_written(const struct xl_saveimg_w *w);

struct xl_saveimg_r;
/*
 * Open and verify an image: on failure a negative errno and a message in
 * err ("truncated: ...", "checksum mismatch ...", ...).
 */
int xl_saveimg_open(const char *path, struct xl_saveimg_r **r, char *err, size_t errlen);
/* A stream from fd (xl migrate-receive): the header is checked at once. */
int xl_saveimg_stream_open(int fd, struct xl_saveimg_r **r, char *err, size_t errlen);
/* A PAGES section (its length was nr_pages) into RAM at base. */
int xl_saveimg_read_pages(struct xl_saveimg_r *r, uint8_t *base, uint64_t nr_pages,
			  uint64_t *pages);
/* The next section's type and length; -EBADMSG when the stream is malformed. */
int xl_saveimg_next(struct xl_saveimg_r *r, uint32_t *type, uint64_t *len);
int xl_saveimg_read(struct xl_saveimg_r *r, void *buf, size_t n);
/* A MEMORY section into RAM mapped at base; nr_pages must match the image. */
int xl_saveimg_read_memory(struct xl_saveimg_r *r, uint8_t *base, uint64_t nr_pages,
			   xl_saveimg_progress cb, void *arg);
/* After END: the whole payload was consumed and its size matched. */
int xl_saveimg_check_end(struct xl_saveimg_r *r);
/* The input ended before the payload did (a migration: the sender went away). */
bool xl_saveimg_cut_short(const struct xl_saveimg_r *r);
const struct xl_saveimg_hdr *xl_saveimg_header(const struct xl_saveimg_r *r);
void xl_saveimg_close(struct xl_saveimg_r *r);

#endif
