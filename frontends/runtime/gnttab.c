/*
 * The runtime's grant table (gnttab.h), version 1.  The table's frames
 * come from GNTTABOP_setup_table and are mapped over a page-aligned area of
 * the image; free references form a stack above the toolstack's reserved
 * entries.  Publishing an entry writes domid and frame first and the flags
 * last with release order, so the hypervisor never sees a half-written
 * entry; revoking uses a compare-and-swap that fails while the remote side
 * holds the grant (GTF_reading / GTF_writing), as Xen's guests must.
 *
 * Xen's suspend protocol: the table's frames are unmapped before the
 * suspend (Linux's gnttab_suspend; they are the hypervisor's, not the
 * guest's RAM) with a copy of the entries left in the area's own pages.
 * After a cancelled suspend the same frames are mapped again; in a new
 * life the table is set up again (GNTTABOP_setup_table, version 1) and
 * the entries the guest had granted are published again, without the
 * busy bits no remote mapping backs any more, so a reference a driver
 * still holds stays valid and gnt_end works on it.
 */
#include "gnttab.h"
#include "keel_guest.h"
#include "page.h"

#define GNT_PER_FRAME (RT_PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GNT_MAX_REFS  (GNT_MAX_FRAMES * GNT_PER_FRAME)

static char gnt_area[GNT_MAX_FRAMES][RT_PAGE_SIZE] __attribute__((aligned(4096)));
static struct grant_entry_v1 *gnt_table;
static uint16_t gnt_stack[GNT_MAX_REFS];
static unsigned gnt_nr, gnt_top, gnt_nframes;
static uint64_t gnt_frames[GNT_MAX_FRAMES];

/* GNTTABOP_setup_table for nframes, the frames mapped over gnt_area. */
static int gnt_setup(unsigned nframes)
{
	struct gnttab_setup_table st;
	long r;

	st = (struct gnttab_setup_table){DOMID_SELF, nframes, 0, (uint64_t)gnt_frames};
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1);
	if (r || st.status)
		return r ? (int)r : -XEN_EINVAL;
	for (unsigned i = 0; i < nframes; i++) {
		r = HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_area[i],
			      (gnt_frames[i] << 12) | 0x67, UVMF_INVLPG);
		if (r)
			return (int)r;
	}
	return 0;
}

int gnt_init(void)
{
	struct gnttab_query_size q = {DOMID_SELF, 0, 0, 0};
	unsigned nframes;
	long r;

	if (gnt_table)
		return 0;
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, &q, 1);
	if (r || q.status)
		return r ? (int)r : -XEN_EINVAL;
	nframes = q.max_nr_frames < GNT_MAX_FRAMES ? q.max_nr_frames : GNT_MAX_FRAMES;
	if (!nframes)
		return -XEN_ENOSPC;
	r = gnt_setup(nframes);
	if (r)
		return (int)r;
	gnt_nframes = nframes;
	gnt_nr = nframes * GNT_PER_FRAME;
	/* Lowest references on top of the stack: they are handed out first. */
	gnt_top = 0;
	for (unsigned ref = gnt_nr; ref-- > GNTTAB_NR_RESERVED_ENTRIES;)
		gnt_stack[gnt_top++] = (uint16_t)ref;
	gnt_table = (struct grant_entry_v1 *)gnt_area;
	return 0;
}

int gnt_grant(uint16_t domid, uint64_t mfn, int readonly)
{
	struct grant_entry_v1 *e;
	unsigned ref;

	if (!gnt_table && gnt_init() < 0)
		return -XEN_ENOSYS;
	if (!gnt_top || mfn > 0xffffffffULL)
		return -XEN_ENOSPC;
	ref = gnt_stack[--gnt_top];
	e = &gnt_table[ref];
	e->domid = domid;
	e->frame = (uint32_t)mfn;
	__atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
			 __ATOMIC_RELEASE);
	return (int)ref;
}

int gnt_revoke(grant_ref_t ref)
{
	uint16_t f;

	if (!gnt_table || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= gnt_nr)
		return -XEN_EINVAL;
	f = __atomic_load_n(&gnt_table[ref].flags, __ATOMIC_ACQUIRE);
	do {
		if (f & (GTF_reading | GTF_writing))
			return -XEN_EBUSY;
	} while (!__atomic_compare_exchange_n(&gnt_table[ref].flags, &f, 0, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}

void gnt_free(grant_ref_t ref)
{
	if (gnt_table && ref >= GNTTAB_NR_RESERVED_ENTRIES && ref < gnt_nr && gnt_top < gnt_nr)
		gnt_stack[gnt_top++] = (uint16_t)ref;
}

int gnt_end(grant_ref_t ref)
{
	int r = gnt_revoke(ref);

	if (r == 0)
		gnt_free(ref);
	return r;
}

uint16_t gnt_flags(grant_ref_t ref)
{
	return gnt_table && ref < gnt_nr ? __atomic_load_n(&gnt_table[ref].flags, __ATOMIC_ACQUIRE)
					 : 0;
}

unsigned gnt_nr_entries(void)
{
	return gnt_nr;
}

unsigned gnt_nr_free(void)
{
	return gnt_top;
}

void gnt_suspend(void)
{
	static char copy[RT_PAGE_SIZE];

	if (!gnt_table)
		return;
	for (unsigned i = 0; i < gnt_nframes; i++) {
		rt_memcpy(copy, gnt_area[i], RT_PAGE_SIZE);
		HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_area[i],
			  (rt_virt_to_mfn(gnt_area[i]) << RT_PAGE_SHIFT) | 0x67, UVMF_INVLPG);
		rt_memcpy(gnt_area[i], copy, RT_PAGE_SIZE);
	}
}

int gnt_resume(int fresh)
{
	static struct grant_entry_v1 saved[GNT_MAX_REFS];
	long r;

	if (!gnt_table)
		return 0;
	if (!fresh) {
		/* the same table, as it is now (the remote side may have changed
		 * busy bits meanwhile): only the mappings come back */
		for (unsigned i = 0; i < gnt_nframes; i++) {
			r = HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_area[i],
				      (gnt_frames[i] << 12) | 0x67, UVMF_INVLPG);
			if (r)
				return (int)r;
		}
		return 0;
	}
	rt_memcpy(saved, gnt_area, gnt_nr * sizeof(saved[0]));
	r = gnt_setup(gnt_nframes);
	if (r)
		return (int)r;
	for (unsigned ref = GNTTAB_NR_RESERVED_ENTRIES; ref < gnt_nr; ref++) {
		struct grant_entry_v1 *e = &gnt_table[ref];
		uint16_t f = saved[ref].flags & (uint16_t) ~(GTF_reading | GTF_writing);

		if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) == f &&
		    e->domid == saved[ref].domid && e->frame == saved[ref].frame)
			continue; /* the hypervisor kept it */
		__atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
		e->domid = saved[ref].domid;
		e->frame = saved[ref].frame;
		__atomic_store_n(&e->flags, f, __ATOMIC_RELEASE);
	}
	return 0;
}
