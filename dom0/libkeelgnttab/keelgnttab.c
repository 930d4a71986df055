/*
 * libkeelgnttab (see keelgnttab.h).  Every mapped region is remembered
 * (address, page count, and each page's domain and reference), so munmap
 * can tell keeld which grants to release and close can release the rest.
 * A region is unmapped whole, as gntdev unmaps what one mmap mapped: a
 * region of one domain's grants is released in one UNMAP_GRANTS round trip
 * per KEELCTL_GMAP_MAX pages.  A batch is made contiguous by reserving the
 * region first; a batch of one domain's grants is mapped into it in one
 * MAP_GRANTS round trip (keelctl_map_grants), a mixed one page by page
 * (mremap into its slot).  Grant copy is keeld's (keelctl_grant_copy): the
 * handle registers a bounce buffer of KEELCTL_GCOPY_MAX pages on its first
 * copy, and a batch of segments costs one round trip; the process's own
 * side is copied to or from the bounce buffer here.  (Against a keeld
 * without grant copy, each segment maps the foreign side for its duration
 * instead.)  A granted page stays mapped (the guest's memfd pages stay
 * referenced) until it is unmapped here, even if the guest dies: it never
 * becomes another domain's memory.  One lock per handle: the connection to
 * keeld, the region table and the bounce buffer are shared by every thread
 * that uses the handle, as Xen's handles are.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../libkeelctl/keelctl.h"
#include "abi/grant_table.h"
#include "keelgnttab.h"

struct keelgnttab_region {
	uint8_t *addr;
	uint32_t count;
	uint32_t *domids, *refs; /* per page */
};

struct keelgnttab {
	pthread_mutex_t lock;
	struct keelctl *ctl;
	struct keelgnttab_region *regions;
	unsigned nregions, cap;
	uint32_t npages; /* mapped now, at most KEELGNTTAB_MAX_MAPS */
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
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	return 0;
}

/* Release pages [0, n) of a region in keeld (the caller munmaps): one
 * UNMAP_GRANTS per KEELCTL_GMAP_MAX pages of one domain, else page by page. */
static int keelgnttab_release(struct keelgnttab *h, const struct keelgnttab_region *g, uint32_t n)
{
	uint32_t i = 0;
	int r = 0, e;

	while (i < n) {
		uint32_t k = 1;

		while (i + k < n && k < KEELCTL_GMAP_MAX && g->domids[i + k] == g->domids[i])
			k++;
		e = -EOPNOTSUPP;
		if (k > 1 && !h->no_gmap)
			e = keelctl_unmap_grants(h->ctl, g->domids[i], g->refs + i, k);
		if (e == -EOPNOTSUPP) {
			k = 1;
			e = keelctl_unmap_grant(h->ctl, g->domids[i], g->refs[i], NULL);
		}
		if (e < 0 && e != -ESRCH && !r) /* -ESRCH: the granting domain is gone */
			r = e;
		i += k;
	}
	return r;
}

/* Remember a mapped region (locked); the arrays become the table's. */
static int keelgnttab_track(struct keelgnttab *h, uint8_t *addr, uint32_t count, uint32_t *domids,
			    uint32_t *refs)
{
	if (h->nregions == h->cap) {
		unsigned cap = h->cap ? 2 * h->cap : 64;
		struct keelgnttab_region *g = realloc(h->regions, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		h->regions = g;
		h->cap = cap;
	}
	h->regions[h->nregions++] = (struct keelgnttab_region){addr, count, domids, refs};
	h->npages += count;
	return 0;
}

/* Forget region i and undo it (locked). */
static int keelgnttab_drop(struct keelgnttab *h, unsigned i)
{
	struct keelgnttab_region g = h->regions[i];
	int r;

	h->regions[i] = h->regions[--h->nregions];
	h->npages -= g.count;
	munmap(g.addr, (size_t)g.count * 4096);
	r = keelgnttab_release(h, &g, g.count);
	free(g.domids);
	free(g.refs);
	return r;
}

void keelgnttab_close(struct keelgnttab *h)
{
	if (!h)
		return;
	while (h->nregions)
		keelgnttab_drop(h, 0);
	free(h->regions);
	if (h->bounce)
		munmap(h->bounce, KEELGNTTAB_BOUNCE); /* keeld drops it with the connection */
	keelctl_close(h->ctl);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Map one grant at `at` (locked). */
static int keelgnttab_map_at(struct keelgnttab *h, uint32_t domid, uint32_t ref, int prot,
			     uint8_t *at)
{
	void *page, *moved;
	int r;

	r = keelctl_map_grant(h->ctl, domid, ref, !!(prot & PROT_WRITE), &page);
	if (r < 0)
		return r;
	moved = mremap(page, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, at);
	if (moved == MAP_FAILED) {
		r = -errno;
		keelctl_unmap_grant(h->ctl, domid, ref, page);
		return r;
	}
	return 0;
}

/* The pages of a batch into `region` (locked): one MAP_GRANTS round trip
 * for one domain's grants, else page by page; all or nothing. */
static int keelgnttab_map_into(struct keelgnttab *h, uint32_t count, const uint32_t *domids,
			       const uint32_t *refs, int prot, uint8_t *region)
{
	struct keelgnttab_region done = {region, 0, (uint32_t *)domids, (uint32_t *)refs};
	uint32_t i;
	int r = 0;

	for (i = 1; i < count && domids[i] == domids[0]; i++)
		;
	if (i == count && !h->no_gmap) {
		r = keelctl_map_grants(h->ctl, domids[0], refs, count, !!(prot & PROT_WRITE),
				       region, NULL);
		if (r != -EOPNOTSUPP)
			return r;
		h->no_gmap = 1;
	}
	for (i = 0; i < count; i++) {
		r = keelgnttab_map_at(h, domids[i], refs[i], prot, region + (size_t)i * 4096);
		if (r < 0)
			break;
	}
	if (r < 0)
		keelgnttab_release(h, &done, i); /* the region is the caller's to munmap */
	return r;
}

int keelgnttab_map_grant_refs(struct keelgnttab *h, uint32_t count, const uint32_t *domids,
			      const uint32_t *refs, int prot, void **addr)
{
	uint32_t *d = NULL, *f = NULL;
	uint8_t *region;
	int r;

	if (count == 0)
		return -EINVAL;
	if ((prot & ~(PROT_READ | PROT_WRITE)) || !(prot & PROT_READ))
		return -EINVAL;
	region = mmap(NULL, (size_t)count * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return -errno;
	d = malloc(count * sizeof(*d));
	f = malloc(count * sizeof(*f));
	if (!d || !f) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(d, domids, count * sizeof(*d));
	memcpy(f, refs, count * sizeof(*f));
	pthread_mutex_lock(&h->lock);
	r = count > KEELGNTTAB_MAX_MAPS - h->npages ? -ENOSPC : 0;
	if (!r)
		r = keelgnttab_map_into(h, count, d, f, prot, region);
	if (!r) {
		r = keelgnttab_track(h, region, count, d, f);
		if (r < 0) {
			struct keelgnttab_region g = {region, count, d, f};

			keelgnttab_release(h, &g, count);
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (!r) {
		*addr = region;
		return 0;
	}
fail:
	munmap(region, (size_t)count * 4096);
	free(d);
	free(f);
	return r;
}

int keelgnttab_map_grant_ref(struct keelgnttab *h, uint32_t domid, uint32_t ref, int prot,
			     void **addr)
{
	return keelgnttab_map_grant_refs(h, 1, &domid, &ref, prot, addr);
}

int keelgnttab_munmap(struct keelgnttab *h, void *start, uint32_t count)
{
	int r = -EINVAL;

	pthread_mutex_lock(&h->lock);
	/* Newest first: a request's batch is unmapped soon after its map. */
	for (unsigned i = h->nregions; i-- > 0;) {
		if (h->regions[i].addr != start)
			continue;
		if (h->regions[i].count == count)
			r = keelgnttab_drop(h, i);
		break;
	}
	pthread_mutex_unlock(&h->lock);
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

/* Without keeld's grant copy: map each foreign side for the segment's duration. */
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
		r = keelctl_map_grant(h->ctl, s->source.foreign.domid, s->source.foreign.ref, 0,
				      &sp);
		if (r < 0)
			return keelgnttab_status(r);
		src = (uint8_t *)sp + s->source.foreign.offset;
	}
	if (s->flags & KEELGNTTAB_COPY_DEST_GREF) {
		r = keelctl_map_grant(h->ctl, s->dest.foreign.domid, s->dest.foreign.ref, 1, &dp);
		if (r == 0)
			dst = (uint8_t *)dp + s->dest.foreign.offset;
	}
	if (r == 0)
		memmove(dst, src, s->len);
	if (sp)
		keelctl_unmap_grant(h->ctl, s->source.foreign.domid, s->source.foreign.ref, sp);
	if (dp)
		keelctl_unmap_grant(h->ctl, s->dest.foreign.domid, s->dest.foreign.ref, dp);
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
	int r = 0;

	pthread_mutex_lock(&h->lock);
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
	}
	for (uint32_t i = 0; h->bounce && i < count && !r; i += KEELCTL_GCOPY_MAX) {
		uint32_t n = count - i < KEELCTL_GCOPY_MAX ? count - i : KEELCTL_GCOPY_MAX;

		r = keelgnttab_copy_batch(h, n, segs + i);
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}
