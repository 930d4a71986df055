/*
 * libkeelgnttab: grant mappings for dom0 processes, in the shape of Xen's
 * libxengnttab (map one grant, map a batch into one contiguous region,
 * munmap, grant copy).  A thin layer over libkeelctl's keelctl_map_grant:
 * keeld checks each grant (permit access to dom0, read-only, the frame the
 * guest owns) and keeps GTF_reading/GTF_writing set while it is mapped.
 * Grant copy is keeld's batched copy (keelctl_grant_copy): one round trip
 * per KEELCTL_GCOPY_MAX segments.  Functions return >= 0 or a negative
 * errno.  A handle may be used from several threads at once.
 */
#ifndef KEEL_KEELGNTTAB_H
#define KEEL_KEELGNTTAB_H

#include <stdint.h>

/* Pages mapped at once per handle. */
#define KEELGNTTAB_MAX_MAPS 65536

struct keelgnttab;

int keelgnttab_open(const char *rundir, struct keelgnttab **out);
/* Unmaps whatever is still mapped. */
void keelgnttab_close(struct keelgnttab *h);
/* prot: PROT_READ or PROT_READ | PROT_WRITE. */
int keelgnttab_map_grant_ref(struct keelgnttab *h, uint32_t domid, uint32_t ref, int prot,
			     void **addr);
/* count grants (domids[i], refs[i]) at consecutive pages of one region. */
int keelgnttab_map_grant_refs(struct keelgnttab *h, uint32_t count, const uint32_t *domids,
			      const uint32_t *refs, int prot, void **addr);
/* Undo a map: start and count as one map call returned them (gntdev's rule:
 * part of a region, or an address that is not a region's start, is -EINVAL). */
int keelgnttab_munmap(struct keelgnttab *h, void *start, uint32_t count);

#define KEELGNTTAB_COPY_SOURCE_GREF 1
#define KEELGNTTAB_COPY_DEST_GREF   2

/* libxengnttab's grant-copy segment: either side a grant of a guest or
 * a buffer of this process; status is a GNTST_* code per segment. */
struct keelgnttab_copy_seg {
	union {
		struct {
			uint32_t ref;
			uint16_t offset;
			uint16_t domid;
		} foreign;
		void *virt;
	} source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
};

/* Returns 0 when every segment was processed (see each status). */
int keelgnttab_copy(struct keelgnttab *h, uint32_t count, struct keelgnttab_copy_seg *segs);

#endif
