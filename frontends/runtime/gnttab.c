/*
 * The runtime's grant table (gnttab.h), version 1.  The table's frames
 * come from GNTTABOP_setup_table and are mapped over a page-aligned area of
 * the image; free references form a stack above the toolstack's reserved
 * entries.  Publishing an entry writes domid and frame first and the flags
 * last with release order, so the hypervisor never sees a half-written
 * entry; revoking uses a compare-and-swap that fails while the remote side
 * holds the grant (GTF_reading / GTF_writing), as Xen's guests must.
 */
#include "gnttab.h"
#include "keel_guest.h"
#include "page.h"

#define GNT_PER_FRAME (RT_PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GNT_MAX_REFS  (GNT_MAX_FRAMES * GNT_PER_FRAME)

static char gnt_area[GNT_MAX_FRAMES][RT_PAGE_SIZE] __attribute__((aligned(4096)));
static struct grant_entry_v1 *gnt_table;
static uint16_t gnt_stack[GNT_MAX_REFS];
static unsigned gnt_nr, gnt_top;

int gnt_init(void)
{
	struct gnttab_query_size q = {DOMID_SELF, 0, 0, 0};
	struct gnttab_setup_table st;
	uint64_t frames[GNT_MAX_FRAMES] = {0};
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
	st = (struct gnttab_setup_table){DOMID_SELF, nframes, 0, (uint64_t)frames};
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1);
	if (r || st.status)
		return r ? (int)r : -XEN_EINVAL;
	for (unsigned i = 0; i < nframes; i++) {
		r = HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_area[i], (frames[i] << 12) | 0x67,
			      UVMF_INVLPG);
		if (r)
			return (int)r;
	}
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
