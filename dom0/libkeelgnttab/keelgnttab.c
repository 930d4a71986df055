/*
 * libkeelgnttab (see keelgnttab.h).  Every mapped page is remembered
 * (address, domain, reference) in a bounded table, so munmap can tell
 * keeld which grants to release and close can release the rest.  A batch
 * is made contiguous by reserving the region first; a batch of one
 * domain's grants is mapped into it in one MAP_GRANTS round trip
 * (keelctl_map_grants), a mixed one page by page (mremap into its slot).
 * Grant copy is keeld's (keelctl_grant_copy): the handle registers a
 * bounce buffer of KEELCTL_GCOPY_MAX pages on its first copy, and a batch
 * of segments costs one round trip; the process's own side is copied to
 * or from the bounce buffer here.  (Against a keeld without grant copy,
 * each segment maps the foreign side for its duration instead.)  A
 * granted page stays mapped (the guest's memfd pages stay referenced)
 * until it is unmapped here, even if the guest dies: it never becomes
 * another domain's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../libkeelctl/keelctl.h"
#include "abi/grant_table.h"
#include "keelgnttab.h"

struct keelgnttab_map {
	uint8_t *addr; /* NULL: free slot */
	uint32_t domid, ref;
};

struct keelgnttab {
	struct keelctl *ctl;
	struct keelgnttab_map maps[KEELGNTTAB_MAX_MAPS];
	unsigned nmaps;
	uint8_t *bounce; /* KEELCTL_GCOPY_MAX pages registered with keeld */
	uint32_t bounce_id;
	int no_gcopy; /* keeld has no grant copy: copy through maps */
	int no_gmap;  /* keeld has no MAP_GRANTS: map a batch page by page */
	struct keelctl_gcopy gops[KEELCTL_GCOPY_MAX];
	int16_t gstatus[KEELCTL_GCOPY_MAX];
};

#define KEELGNTTAB_BOUNCE ((size_t)KEELCTL_GCOPY_MAX * 4096)

int keelgnttab_open(const char *rundir, struct keelgnttab **out)
{
	struct keelgnttab *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	r = keelctl_open(rundir, &h->ctl);
	if (r < 0) {
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

static struct keelgnttab_map *keelgnttab_find(struct keelgnttab *h, const void *addr)
{
	for (unsigned i = 0; i < KEELGNTTAB_MAX_MAPS; i++)
		if (h->maps[i].addr && h->maps[i].addr == addr)
			return &h->maps[i];
	return NULL;
}

/* Release one remembered page (keeld clears the grant's in-use bit). */
static int keelgnttab_release(struct keelgnttab *h, struct keelgnttab_map *m)
{
	int r = keelctl_unmap_grant(h->ctl, m->domid, m->ref, m->addr);

	m->addr = NULL;
	h->nmaps--;
	return r == -ESRCH ? 0 : r; /* the granting domain is gone */
}

void keelgnttab_close(struct keelgnttab *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < KEELGNTTAB_MAX_MAPS; i++)
		if (h->maps[i].addr)
			keelgnttab_release(h, &h->maps[i]);
	if (h->bounce)
		munmap(h->bounce, KEELGNTTAB_BOUNCE); /* keeld drops it with the connection */
	keelctl_close(h->ctl);
	free(h);
}

/* Map one grant at `at` (or anywhere when NULL) and remember it. */
static int keelgnttab_map_one(struct keelgnttab *h, uint32_t domid, uint32_t ref, int prot,
			      uint8_t *at, void **addr)
{
	struct keelgnttab_map *m = NULL;
	void *page;
	int r;

	if ((prot & ~(PROT_READ | PROT_WRITE)) || !(prot & PROT_READ))
		return -EINVAL;
	for (unsigned i = 0; i < KEELGNTTAB_MAX_MAPS && !m; i++)
		if (!h->maps[i].addr)
			m = &h->maps[i];
	if (!m)
		return -ENOSPC;
	r = keelctl_map_grant(h->ctl, domid, ref, !!(prot & PROT_WRITE), &page);
	if (r < 0)
		return r;
	if (at) {
		void *moved = mremap(page, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, at);

		if (moved == MAP_FAILED) {
			r = -errno;
			keelctl_unmap_grant(h->ctl, domid, ref, page);
			return r;
		}
		page = moved;
	}
	*m = (struct keelgnttab_map){page, domid, ref};
	h->nmaps++;
	*addr = page;
	return 0;
}

int keelgnttab_map_grant_ref(struct keelgnttab *h, uint32_t domid, uint32_t ref, int prot,
			     void **addr)
{
	return keelgnttab_map_one(h, domid, ref, prot, NULL, addr);
}

int keelgnttab_map_grant_refs(struct keelgnttab *h, uint32_t count, const uint32_t *domids,
			      const uint32_t *refs, int prot, void **addr)
{
	uint8_t *region;
	uint32_t i;
	int r = 0;

	if (count == 0 || count > KEELGNTTAB_MAX_MAPS - h->nmaps)
		return count ? -ENOSPC : -EINVAL;
	if ((prot & ~(PROT_READ | PROT_WRITE)) || !(prot & PROT_READ))
		return -EINVAL;
	region = mmap(NULL, (size_t)count * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return -errno;
	/* One domain: one MAP_GRANTS round trip, then remember each page. */
	for (i = 1; i < count && domids[i] == domids[0]; i++)
		;
	if (i == count && !h->no_gmap) {
		r = keelctl_map_grants(h->ctl, domids[0], refs, count, !!(prot & PROT_WRITE),
				       region, NULL);
		if (r == 0) {
			unsigned k = 0;

			for (i = 0; i < count; i++) {
				while (h->maps[k].addr)
					k++; /* count <= free slots (checked above) */
				h->maps[k] = (struct keelgnttab_map){region + (size_t)i * 4096,
								     domids[0], refs[i]};
				h->nmaps++;
			}
			*addr = region;
			return 0;
		}
		if (r != -EOPNOTSUPP) {
			munmap(region, (size_t)count * 4096);
			return r;
		}
		h->no_gmap = 1;
	}
	for (i = 0; i < count; i++) {
		void *p;

		r = keelgnttab_map_one(h, domids[i], refs[i], prot, region + (size_t)i * 4096, &p);
		if (r < 0)
			break;
	}
	if (r < 0) {
		/* Undo the pages mapped so far, then the rest of the region. */
		keelgnttab_munmap(h, region, i);
		if (count > i)
			munmap(region + (size_t)i * 4096, (size_t)(count - i) * 4096);
		return r;
	}
	*addr = region;
	return 0;
}

int keelgnttab_munmap(struct keelgnttab *h, void *start, uint32_t count)
{
	int r = 0;

	for (uint32_t i = 0; i < count; i++) {
		struct keelgnttab_map *m = keelgnttab_find(h, (uint8_t *)start + (size_t)i * 4096);
		int e;

		if (!m) {
			r = r ? r : -EINVAL;
			continue;
		}
		e = keelgnttab_release(h, m);
		r = r ? r : e;
	}
	return r;
}

static int16_t keelgnttab_status(int err)
{
	switch (err) {
	case 0:
		return GNTST_okay;
	case -EPERM:
	case -EACCES:
		return GNTST_permission_denied;
	case -EINVAL:
		return GNTST_bad_gntref;
	case -ESRCH:
		return GNTST_bad_domain;
	case -ENOSPC:
		return GNTST_no_space;
	default:
		return GNTST_general_error;
	}
}

static int16_t keelgnttab_copy_one(struct keelgnttab *h, struct keelgnttab_copy_seg *s)
{
	uint8_t *src = s->source.virt, *dst = s->dest.virt;
	void *sp = NULL, *dp = NULL;
	int r = 0;

	if ((s->flags & ~(KEELGNTTAB_COPY_SOURCE_GREF | KEELGNTTAB_COPY_DEST_GREF)) ||
	    ((s->flags & KEELGNTTAB_COPY_SOURCE_GREF) &&
	     s->source.foreign.offset + s->len > 4096) ||
	    ((s->flags & KEELGNTTAB_COPY_DEST_GREF) && s->dest.foreign.offset + s->len > 4096))
		return GNTST_bad_copy_arg;
	if (s->flags & KEELGNTTAB_COPY_SOURCE_GREF) {
		r = keelgnttab_map_one(h, s->source.foreign.domid, s->source.foreign.ref, PROT_READ,
				       NULL, &sp);
		if (r < 0)
			return keelgnttab_status(r);
		src = (uint8_t *)sp + s->source.foreign.offset;
	}
	if (s->flags & KEELGNTTAB_COPY_DEST_GREF) {
		r = keelgnttab_map_one(h, s->dest.foreign.domid, s->dest.foreign.ref,
				       PROT_READ | PROT_WRITE, NULL, &dp);
		if (r == 0)
			dst = (uint8_t *)dp + s->dest.foreign.offset;
	}
	if (r == 0)
		memmove(dst, src, s->len);
	if (sp)
		keelgnttab_munmap(h, sp, 1);
	if (dp)
		keelgnttab_munmap(h, dp, 1);
	return keelgnttab_status(r);
}

/* One segment as a keeld copy op; the process's side goes through bounce
 * page `slot`.  GNTST_okay when queued, else the segment's status. */
static int16_t keelgnttab_copy_op(struct keelgnttab *h, const struct keelgnttab_copy_seg *s,
				  unsigned slot, struct keelctl_gcopy *g)
{
	struct keelctl_gcopy_ptr bounce = {h->bounce_id, slot * 4096};

	if ((s->flags & ~(KEELGNTTAB_COPY_SOURCE_GREF | KEELGNTTAB_COPY_DEST_GREF)) ||
	    s->len > 4096)
		return GNTST_bad_copy_arg;
	*g = (struct keelctl_gcopy){.len = s->len};
	if (s->flags & KEELGNTTAB_COPY_SOURCE_GREF) {
		g->source =
			(struct keelctl_gcopy_ptr){s->source.foreign.ref, s->source.foreign.offset};
		g->domid = s->source.foreign.domid;
		g->flags |= KEELCTL_GCOPY_SOURCE_GREF;
	} else {
		memcpy(h->bounce + (size_t)slot * 4096, s->source.virt, s->len);
		g->source = bounce;
	}
	if (s->flags & KEELGNTTAB_COPY_DEST_GREF) {
		/* keeld's ops name one domain: both grant sides must agree. */
		if ((s->flags & KEELGNTTAB_COPY_SOURCE_GREF) &&
		    s->dest.foreign.domid != s->source.foreign.domid)
			return GNTST_bad_copy_arg;
		g->dest = (struct keelctl_gcopy_ptr){s->dest.foreign.ref, s->dest.foreign.offset};
		g->domid = s->dest.foreign.domid;
		g->flags |= KEELCTL_GCOPY_DEST_GREF;
	} else {
		g->dest = bounce;
	}
	return GNTST_okay;
}

/* Up to KEELCTL_GCOPY_MAX segments in one keeld round trip. */
static int keelgnttab_copy_batch(struct keelgnttab *h, uint32_t count,
				 struct keelgnttab_copy_seg *segs)
{
	unsigned n = 0, idx[KEELCTL_GCOPY_MAX];
	int r;

	for (uint32_t i = 0; i < count; i++) {
		struct keelgnttab_copy_seg *s = &segs[i];

		if (!(s->flags & (KEELGNTTAB_COPY_SOURCE_GREF | KEELGNTTAB_COPY_DEST_GREF)) &&
		    s->len <= 4096 && !s->flags) {
			memmove(s->dest.virt, s->source.virt, s->len); /* nothing foreign */
			s->status = GNTST_okay;
			continue;
		}
		s->status = keelgnttab_copy_op(h, s, n, &h->gops[n]);
		if (s->status == GNTST_okay)
			idx[n++] = i;
	}
	if (!n)
		return 0;
	r = keelctl_grant_copy(h->ctl, h->gops, n, h->gstatus);
	if (r < 0)
		return r;
	for (unsigned k = 0; k < n; k++) {
		struct keelgnttab_copy_seg *s = &segs[idx[k]];

		s->status = h->gstatus[k];
		if (s->status == GNTST_okay && !(s->flags & KEELGNTTAB_COPY_DEST_GREF))
			memcpy(s->dest.virt, h->bounce + (size_t)k * 4096, s->len);
	}
	return 0;
}

int keelgnttab_copy(struct keelgnttab *h, uint32_t count, struct keelgnttab_copy_seg *segs)
{
	if (!h->bounce && !h->no_gcopy) {
		void *p;

		if (keelctl_grant_copy_buffer(h->ctl, KEELGNTTAB_BOUNCE, &h->bounce_id, &p) == 0)
			h->bounce = p;
		else
			h->no_gcopy = 1;
	}
	if (!h->bounce) {
		for (uint32_t i = 0; i < count; i++)
			segs[i].status = keelgnttab_copy_one(h, &segs[i]);
		return 0;
	}
	for (uint32_t i = 0; i < count; i += KEELCTL_GCOPY_MAX) {
		uint32_t n = count - i < KEELCTL_GCOPY_MAX ? count - i : KEELCTL_GCOPY_MAX;
		int r = keelgnttab_copy_batch(h, n, segs + i);

		if (r < 0)
			return r;
	}
	return 0;
}
