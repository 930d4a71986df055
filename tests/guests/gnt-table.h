/*
 * The granter's side of the grant table for the gnt-* test guests, in
 * either version: version 1 (8-byte entries, busy bits in the flags) or
 * version 2 (GNTTABOP_set_version(2): 16-byte entries, busy bits in the
 * status frames found with GNTTABOP_get_status_frames).  gnt_table_init
 * also checks the version ops and their refusals.  Revoking is done as
 * Linux does it: version 1 compare-exchanges the flags to 0 only while no
 * busy bit is set; version 2 clears the flags, then reads the status.
 * The mapper's side: gnt_map, gnt_unmap, and the machine address of the
 * L1 entry that maps a virtual address (for GNTMAP_contains_pte).
 */
#ifndef KEEL_TESTS_GNT_TABLE_H
#define KEEL_TESTS_GNT_TABLE_H

#include "../../frontends/runtime/keel_guest.h"
#include "abi/grant_table.h"

#define GNT_VIRT_BASE 0xffffffff80000000UL /* the image is mapped here from frame 0 */

/* The frame of a page of the image (the builder maps frame f at GNT_VIRT_BASE + f pages). */
static inline uint64_t gnt_gmfn(const void *p)
{
	return ((uint64_t)p - GNT_VIRT_BASE) >> 12;
}

/* Sleep @ns, polling the store port (nothing else wakes us early for long). */
static inline void gnt_sleep(uint64_t ns)
{
	uint32_t port = rt_start_info->store_evtchn;
	uint64_t end = rt_now_ns() + ns;
	struct sched_poll sp = {(uint64_t)&port, 1, 0, end};

	while (rt_now_ns() < end)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
}

/* Does the (possibly foreign, changing) page at p start with s? */
static inline int gnt_has(const volatile char *p, const char *s)
{
	while (*s)
		if (*p++ != *s++)
			return 0;
	return 1;
}

/* s, with its NUL, at p. */
static inline void gnt_put(volatile char *p, const char *s)
{
	do
		*p++ = *s;
	while (*s++);
}

/* Map the page at va to its own frame again (writable, no execute), as
 * after an unmap cleared its PTE or a map replaced it. */
static inline long gnt_map_own(void *va)
{
	return HYPERCALL(__HYPERVISOR_update_va_mapping, va,
			 (gnt_gmfn(va) << 12) | 0x67 | (1ULL << 63), UVMF_INVLPG);
}

#define GNT_TABLE_FRAMES 2 /* 1024 version-1 or 512 version-2 entries */

static char gnt_table_va[GNT_TABLE_FRAMES * 4096] __attribute__((aligned(4096)));
static char gnt_status_va[4096] __attribute__((aligned(4096)));
static int gnt_version = 1;

static void gnt_table_init(int version)
{
	uint64_t frames[GNT_TABLE_FRAMES] = {0};
	struct gnttab_setup_table st = {DOMID_SELF, GNT_TABLE_FRAMES, 0, (uint64_t)frames};
	struct gnttab_get_version gv = {DOMID_SELF, 0, 0};
	long r;

	if (version == 2) {
		struct gnttab_set_version sv = {3};
		struct gnttab_get_status_frames gs = {2, DOMID_SELF, 1, (uint64_t)frames};

		/* 512 version-2 entries need one status frame (2 bytes each). */

		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &sv, 1);
		rt_check(r == -XEN_EINVAL && sv.version == 1, "REFUSED: set_version(3)", r);
		sv.version = 2;
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &sv, 1);
		rt_check(r == 0 && sv.version == 2, "set_version(2)", r);
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1);
		rt_check(r == 0 && st.status == 0, "setup_table (version 2)", st.status);
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_status_frames, &gs, 1);
		rt_check(r == 0 && gs.status == GNTST_general_error,
			 "REFUSED: more status frames than the table has", gs.status);
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_status_frames, &gs, 2);
		rt_check(r == -XEN_EINVAL, "REFUSED: get_status_frames with count 2", r);
		gs.nr_frames = 1;
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_status_frames, &gs, 1);
		rt_check(r == 0 && gs.status == 0 && frames[0], "get_status_frames", gs.status);
		r = HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_status_va,
			      (frames[0] << 12) | 0x25 | (1ULL << 63), 2);
		rt_check(r == 0, "status frame mapped", r);
		gnt_version = 2;
	}
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1);
	rt_check(r == 0 && st.status == 0, "setup_table", st.status);
	for (int i = 0; i < GNT_TABLE_FRAMES; i++) {
		r = HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_table_va + i * 4096,
			      (frames[i] << 12) | 0x67, 2);
		rt_check(r == 0, "grant table frame mapped", r);
	}
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_version, &gv, 1);
	rt_check(r == 0 && gv.version == (uint32_t)version, "get_version", gv.version);
}

static volatile uint16_t *gnt_flags(uint32_t ref)
{
	if (gnt_version == 2)
		return &((union grant_entry_v2 *)gnt_table_va)[ref].hdr.flags;
	return &((struct grant_entry_v1 *)gnt_table_va)[ref].flags;
}

/* Grant frame to dom (flags: GTF_permit_access | GTF_readonly ...). */
static void gnt_grant(uint32_t ref, uint16_t dom, uint64_t frame, uint16_t flags)
{
	if (gnt_version == 2) {
		union grant_entry_v2 *e = &((union grant_entry_v2 *)gnt_table_va)[ref];

		e->hdr.domid = dom;
		e->full_page.frame = frame;
	} else {
		struct grant_entry_v1 *e = &((struct grant_entry_v1 *)gnt_table_va)[ref];

		e->domid = dom;
		e->frame = (uint32_t)frame;
	}
	__atomic_store_n(gnt_flags(ref), flags, __ATOMIC_RELEASE);
}

/* Version 2 only: bytes [off, off + len) of frame. */
static inline void gnt_grant_sub_page(uint32_t ref, uint16_t dom, uint64_t frame, uint16_t off,
				      uint16_t len, uint16_t flags)
{
	union grant_entry_v2 *e = &((union grant_entry_v2 *)gnt_table_va)[ref];

	e->hdr.domid = dom;
	e->sub_page.page_off = off;
	e->sub_page.length = len;
	e->sub_page.frame = frame;
	__atomic_store_n(&e->hdr.flags, flags | GTF_sub_page, __ATOMIC_RELEASE);
}

/* GTF_reading / GTF_writing of ref. */
static uint16_t gnt_busy(uint32_t ref)
{
	if (gnt_version == 2)
		return __atomic_load_n(&((uint16_t *)gnt_status_va)[ref], __ATOMIC_ACQUIRE) &
		       (GTF_reading | GTF_writing);
	return *gnt_flags(ref) & (GTF_reading | GTF_writing);
}

/* End foreign access to ref; 1 if nobody holds it any more. */
static int gnt_revoke(uint32_t ref)
{
	uint16_t f = *gnt_flags(ref) & ~(GTF_reading | GTF_writing);

	if (gnt_version == 1)
		return __atomic_compare_exchange_n(gnt_flags(ref), &f, 0, 0, __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
	__atomic_store_n(gnt_flags(ref), 0, __ATOMIC_SEQ_CST);
	return !gnt_busy(ref);
}

/* The mapper's side: one map or unmap; its status (-100: the hypercall failed). */
static inline int16_t gnt_map(uint16_t dom, uint32_t ref, uint32_t flags, uint64_t addr,
			      uint32_t *h, uint64_t *bus)
{
	struct gnttab_map_grant_ref op = {addr, flags, ref, dom, 1, 0, 0};
	long r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, &op, 1);

	if (r)
		return (int16_t)-100;
	if (h)
		*h = op.handle;
	if (bus)
		*bus = op.dev_bus_addr;
	return op.status;
}

static inline int16_t gnt_unmap(uint64_t addr, uint64_t bus, uint32_t h)
{
	struct gnttab_unmap_grant_ref op = {addr, bus, h, 1};
	long r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, &op, 1);

	return r ? (int16_t)-100 : op.status;
}

/* The machine address of the L1 entry mapping va (walk from pt_base; the
 * builder's tables lie in the boot region, mapped at VIRT_BASE + frame). */
static inline uint64_t gnt_l1e_maddr(const void *va)
{
	uint64_t *t = (uint64_t *)rt_start_info->pt_base, e = 0, a = (uint64_t)va;

	for (int level = 4; level > 1; level--) {
		e = t[(a >> (12 + 9 * (level - 1))) & 511];
		t = (uint64_t *)(GNT_VIRT_BASE + (e & 0x000ffffffffff000ULL));
	}
	return (e & 0x000ffffffffff000ULL) + ((a >> 12) & 511) * 8;
}

#endif
