/*
 * Unit tests of keeld's PV MMU rules (hypervisor/pv/pv_mm.c) on a domain with
 * plain memory and no VM: page types and counts, refusals (page table
 * mapped writable, frame not owned, superpage, writable self-reference,
 * hole slot), Xen's linear page tables and their refusals,
 * the hypercall paths through the guest's own page tables, and the entry
 * work of the grant ops.
 */
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/pv/pv_mm.h"
#include "abi/xen.h"
#include "unit.h"

#define NPAGES 64
#define PT     (PTE_P | PTE_RW | PTE_US | PTE_A)
#define L1RW   (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define L1RO   (PTE_P | PTE_US | PTE_A)

static struct domain *d;
static struct vcpu *v;

static uint64_t *tab(uint64_t pfn)
{
	return (uint64_t *)(d->ram + pfn * 4096);
}

/* L4 (1) -> L3 (2) -> L2 (3) -> L1 (4): va = pfn * 4096 maps pfn for the
 * data frames 10..20 (RW), and the table frames 1..4 read-only. */
static void test_pv_mm_build(void)
{
	memset(d->ram, 0, NPAGES * 4096);
	memset(d->pv->pages, 0, NPAGES * sizeof(*d->pv->pages));
	tab(1)[0] = (2 << 12) | PT;
	tab(2)[0] = (3 << 12) | PT;
	tab(3)[0] = (4 << 12) | PT;
	for (int p = 1; p <= 4; p++)
		tab(4)[p] = ((uint64_t)p << 12) | L1RO;
	for (int p = 10; p <= 20; p++)
		tab(4)[p] = ((uint64_t)p << 12) | L1RW;
	v->pv->kernel_mode = 1;
	v->pv->kernel_cr3 = 1 << 12;
}

static int test_pv_mm_init(void)
{
	int err;

	d = domain_new(&pv_kind, "unit", NPAGES, 1, DOMAIN_NO_KVM, &err);
	if (!d)
		return -1;
	for (int i = 0; i < PV_HOLE_NSLOTS; i++)
		d->pv->hole_l4e[i] = 0xabc000 | i;
	v = &d->vcpus[0];
	v->dom = d;
	hvlog_to_stderr = 0;
	return 0;
}

static int test_pv_mm_cleanup(void)
{
	domain_free(d);
	return 0;
}

static void test_pv_mm_validates_tree(void)
{
	test_pv_mm_build();
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	CU_ASSERT_EQUAL(d->pv->pages[1].type, PGT_l4);
	CU_ASSERT_EQUAL(d->pv->pages[2].type, PGT_l3);
	CU_ASSERT_EQUAL(d->pv->pages[3].type, PGT_l2);
	CU_ASSERT_EQUAL(d->pv->pages[4].type, PGT_l1);
	CU_ASSERT_EQUAL(d->pv->pages[10].type, PGT_writable);
	CU_ASSERT_EQUAL(d->pv->pages[10].type_count, 1);
	CU_ASSERT_EQUAL(tab(1)[256], d->pv->hole_l4e[0]);
	CU_ASSERT_EQUAL(tab(1)[271], d->pv->hole_l4e[15]);
	pv_mm_put_type(v, 1);
	for (int p = 0; p < NPAGES; p++)
		CU_ASSERT_EQUAL(d->pv->pages[p].type_count, 0);
}

static void test_pv_mm_refuses_writable_table(void)
{
	test_pv_mm_build();
	tab(4)[3] = (3 << 12) | L1RW; /* the L2 mapped writable */
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), -XEN_EINVAL);
	for (int p = 0; p < NPAGES; p++)
		CU_ASSERT_EQUAL(d->pv->pages[p].type_count, 0); /* all rolled back */
}

static void test_pv_mm_refuses_foreign_and_superpage(void)
{
	test_pv_mm_build();
	tab(4)[30] = (5000ULL << 12) | L1RO;
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), -XEN_EPERM);
	test_pv_mm_build();
	tab(4)[30] = ((SHIM_GPA >> 12) << 12) | L1RO; /* the shim itself */
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), -XEN_EPERM);
	test_pv_mm_build();
	tab(3)[1] = (0x200000) | PT | PTE_PS;
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), -XEN_EINVAL);
	test_pv_mm_build();
	tab(4)[30] = (((SHIM_GPA + SHIM_OFF_SHARED_INFO) >> 12) << 12) | L1RW;
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), 0); /* shared_info is allowed */
	pv_mm_put_type(v, 1);
}

static void test_pv_mm_refuses_self_reference(void)
{
	test_pv_mm_build();
	tab(1)[1] = (1 << 12) | PT; /* the L4 as its own L3 */
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 1, PGT_l4), -XEN_EINVAL);
	CU_ASSERT_EQUAL(d->pv->pages[1].type_count, 0);
}

#define LIN (PTE_P | PTE_US | PTE_A) /* a read-only table entry */

static void test_pv_mm_no_counts_left(void)
{
	for (int p = 0; p < NPAGES; p++) {
		CU_ASSERT_EQUAL(d->pv->pages[p].type_count, 0);
		CU_ASSERT_EQUAL(d->pv->pages[p].linear, 0);
	}
}

/* A read-only entry naming its own table (an L4 slot, an L3 slot) is a
 * linear page table: allowed, no reference held, and the table still
 * goes away cleanly. */
static void test_pv_mm_linear_self(void)
{
	test_pv_mm_build();
	tab(1)[5] = (1 << 12) | LIN;
	tab(2)[3] = (2 << 12) | LIN;
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	CU_ASSERT_EQUAL(d->pv->pages[1].type_count, 1);
	CU_ASSERT_EQUAL(d->pv->pages[2].type_count, 1);
	CU_ASSERT_EQUAL(d->pv->pages[1].linear, 0);
	pv_mm_put_type(v, 1);
	test_pv_mm_no_counts_left();
}

/* One mmu_update request placed in frame 10 (va 0xa000). */
static int test_pv_mm_update(uint64_t ptr, uint64_t val, uint64_t domid)
{
	struct mmu_update u = {ptr, val};

	memcpy(d->ram + 10 * 4096, &u, sizeof(u));
	return pv_mmu_update(v, 0xa000, 1, 0, domid);
}

static void test_pv_mm_mmu_update(void)
{
	test_pv_mm_build();
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	CU_ASSERT_EQUAL(test_pv_mm_update((4 << 12) + 40 * 8, (21 << 12) | L1RW, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(d->pv->pages[21].type, PGT_writable);
	CU_ASSERT_EQUAL(tab(4)[40], (21 << 12) | L1RW);
	/* replacing the entry drops the old reference */
	CU_ASSERT_EQUAL(test_pv_mm_update((4 << 12) + 40 * 8, (22 << 12) | L1RO, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(d->pv->pages[21].type_count, 0);
	CU_ASSERT_EQUAL(test_pv_mm_update((4 << 12) + 40 * 8, (2 << 12) | L1RW, DOMID_SELF),
			-XEN_EINVAL);
	CU_ASSERT_EQUAL(test_pv_mm_update((1 << 12) + 256 * 8, 0, DOMID_SELF), -XEN_EPERM);
	CU_ASSERT_EQUAL(test_pv_mm_update((4 << 12) + 40 * 8, 0, 3), -XEN_EPERM);
	CU_ASSERT_EQUAL(test_pv_mm_update((4000ULL << 12), 0, DOMID_SELF), -XEN_EPERM);
	/* M2P */
	CU_ASSERT_EQUAL(test_pv_mm_update((12 << 12) | MMU_MACHPHYS_UPDATE, 33, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(((uint64_t *)(d->shim + SHIM_OFF_M2P))[12], 33);
	/* a request pointer that is not mapped */
	CU_ASSERT_EQUAL(pv_mmu_update(v, 0x7000000, 1, 0, DOMID_SELF), -XEN_EFAULT);
	pv_mm_put_type(v, 1);
}

/* Linear entries by mmu_update: to itself, to another in-use table of the
 * same level (one type reference, counted both ends), and Xen's
 * refusals: writable, another level, chains either way.  Dropping the
 * last references leaves no count behind. */
static void test_pv_mm_linear_update(void)
{
	uint64_t l4 = 1 << 12;

	test_pv_mm_build();
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 5 * 8, l4 | LIN, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(d->pv->pages[1].type_count, 1);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 5 * 8, l4 | LIN | PTE_RW, DOMID_SELF), -XEN_EINVAL);
	CU_ASSERT_EQUAL(tab(1)[5], l4 | LIN);
	/* two more (empty) L4s, in use as if pinned */
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 30, PGT_l4), 0);
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 31, PGT_l4), 0);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 6 * 8, (30 << 12) | LIN | PTE_RW, DOMID_SELF),
			-XEN_EINVAL);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 6 * 8, (30 << 12) | LIN, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(d->pv->pages[30].type_count, 2);
	CU_ASSERT_EQUAL(d->pv->pages[30].linear, -1);
	CU_ASSERT_EQUAL(d->pv->pages[1].linear, 1);
	/* 30 is named by a linear entry: it may not hold one */
	CU_ASSERT_EQUAL(test_pv_mm_update((30 << 12) + 0 * 8, (31 << 12) | LIN, DOMID_SELF),
			-XEN_EINVAL);
	/* 1 holds one: it may not be named by one */
	CU_ASSERT_EQUAL(test_pv_mm_update((31 << 12) + 0 * 8, l4 | LIN, DOMID_SELF), -XEN_EINVAL);
	/* but 1 may hold another, and 30 be named twice */
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 7 * 8, (31 << 12) | LIN, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 8 * 8, (30 << 12) | LIN, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(d->pv->pages[30].type_count, 3);
	CU_ASSERT_EQUAL(d->pv->pages[1].linear, 3);
	/* an L2 in an L4 slot is neither the level below nor the same level */
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 9 * 8, (3 << 12) | LIN, DOMID_SELF), -XEN_EINVAL);
	/* same level below the top: the L3 naming itself */
	CU_ASSERT_EQUAL(test_pv_mm_update((2 << 12) + 4 * 8, (2 << 12) | LIN, DOMID_SELF), 0);
	/* the restore path recounts what the tables hold */
	d->pv->pages[1].linear = d->pv->pages[30].linear = d->pv->pages[31].linear = 0;
	pv_mm_recount_linear(d);
	CU_ASSERT_EQUAL(d->pv->pages[1].linear, 3);
	CU_ASSERT_EQUAL(d->pv->pages[30].linear, -2);
	CU_ASSERT_EQUAL(d->pv->pages[31].linear, -1);
	/* "unpin" 30: the linear entries keep it an L4 */
	pv_mm_put_type(v, 30);
	CU_ASSERT_EQUAL(d->pv->pages[30].type, PGT_l4);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 6 * 8, 0, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(test_pv_mm_update(l4 + 8 * 8, 0, DOMID_SELF), 0);
	CU_ASSERT_EQUAL(d->pv->pages[30].type_count, 0);
	CU_ASSERT_EQUAL(d->pv->pages[30].type, PGT_none);
	CU_ASSERT_EQUAL(d->pv->pages[30].linear, 0);
	/* 31 goes with the L4 that names it */
	pv_mm_put_type(v, 31);
	CU_ASSERT_EQUAL(d->pv->pages[31].type_count, 1);
	pv_mm_put_type(v, 1);
	test_pv_mm_no_counts_left();
}

static void test_pv_mm_update_va_mapping(void)
{
	uint8_t buf[8];

	test_pv_mm_build();
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	CU_ASSERT_EQUAL(pv_update_va_mapping(v, 0x30000, (23 << 12) | L1RW, 0), 0);
	CU_ASSERT_EQUAL(d->pv->pages[23].type, PGT_writable);
	CU_ASSERT_EQUAL(pv_update_va_mapping(v, 0x30000, (4 << 12) | L1RW, 0), -XEN_EINVAL);
	CU_ASSERT_EQUAL(pv_update_va_mapping(v, 0xffff830000000000ULL, 0, 0), -XEN_EINVAL);
	CU_ASSERT_EQUAL(pv_update_va_mapping(v, 0x40000000, (23 << 12) | L1RW, 0), -XEN_EINVAL);
	/* guest memory access follows the guest's tables and permissions */
	CU_ASSERT_EQUAL(pv_copy_from_guest(v, buf, 0x30000, 8), 0);
	CU_ASSERT_EQUAL(pv_copy_to_guest(v, 0x4000, buf, 8), -XEN_EFAULT); /* an L1: RO */
	CU_ASSERT_EQUAL(pv_copy_from_guest(v, buf, 0x50000, 8), -XEN_EFAULT);
	CU_ASSERT_EQUAL(pv_copy_from_guest(v, buf, 0xffff82d080000000ULL, 8), -XEN_EFAULT);
	pv_mm_put_type(v, 1);
}

static void test_pv_mm_pin_rules(void)
{
	test_pv_mm_build();
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 30, PGT_l1), 0);	     /* an empty table */
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 30, PGT_l2), -XEN_EINVAL); /* one type at a time */
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 30, PGT_writable), -XEN_EINVAL);
	pv_mm_put_type(v, 30);
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 30, PGT_writable), 0);
	CU_ASSERT_EQUAL(pv_mm_get_type(v, 30, PGT_l1), -XEN_EINVAL);
	pv_mm_put_type(v, 30);
	CU_ASSERT_EQUAL(pv_mm_get_type(v, NPAGES + 1, PGT_l1), -XEN_EPERM);
}

/* The grant ops' entry work: a misaligned entry address is refused with
 * both entries it overlaps untouched; unmap_and_replace moves new_addr's
 * entry into the grant's place (its reference moves with it) and refuses
 * what it cannot do without writing; and the scan set_version uses. */
static void test_pv_mm_grant_entries(void)
{
	uint64_t e10, e11, e12;

	test_pv_mm_build();
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	e10 = tab(4)[10], e11 = tab(4)[11], e12 = tab(4)[12];
	CU_ASSERT_EQUAL(pv_mm_grant_pte(v, (4 << 12) + 10 * 8 + 4, 1, ~0ULL, 0), -XEN_EINVAL);
	CU_ASSERT_EQUAL(pv_mm_grant_pte(v, (4 << 12) + 11 * 8 + 4, 1, 11, 0), -XEN_EINVAL);
	CU_ASSERT(tab(4)[10] == e10 && tab(4)[11] == e11 && tab(4)[12] == e12);

	CU_ASSERT_EQUAL(pv_mm_grant_replace(v, 0xa000, 99, 0xb000), -XEN_EINVAL);     /* not 99 */
	CU_ASSERT_EQUAL(pv_mm_grant_replace(v, 0xa000, 10, 0xa000), -XEN_EINVAL);     /* itself */
	CU_ASSERT_EQUAL(pv_mm_grant_replace(v, 0xa000, 10, 0x40000000), -XEN_EINVAL); /* no L1 */
	CU_ASSERT_EQUAL(pv_mm_grant_replace(v, 0xa000, 10, 0xffff830000000000ULL), -XEN_EINVAL);
	CU_ASSERT(tab(4)[10] == e10 && tab(4)[11] == e11);
	CU_ASSERT_EQUAL(pv_mm_grant_replace(v, 0xa000, 10, 0xb000), 0);
	CU_ASSERT_EQUAL(tab(4)[10], e11);
	CU_ASSERT_EQUAL(tab(4)[11], 0);
	CU_ASSERT_EQUAL(d->pv->pages[10].type_count, 0);
	CU_ASSERT_EQUAL(d->pv->pages[11].type_count, 1); /* moved, not doubled */

	CU_ASSERT_EQUAL(pv_mm_frames_mapped(v, 11, 1), 1);
	CU_ASSERT_EQUAL(pv_mm_frames_mapped(v, 9, 2), 0); /* 9 and 10: no entry left */
	CU_ASSERT_EQUAL(pv_mm_frames_mapped(v, 20, 5), 1);
	CU_ASSERT_EQUAL(pv_mm_frames_mapped(v, 21, 40), 0);
	pv_mm_put_type(v, 1);
	CU_ASSERT_EQUAL(pv_mm_frames_mapped(v, 11, 1), 0); /* no validated L1 any more */
}

/* populate_physmap in a domain whose space (64 frames) is larger than what
 * it started with (48): the GPFN's own frame when it is free, else the
 * first free one, the M2P pointed at the GPFN; never past max_pages
 * (Xen's over-allocation refusal: the extents done so far). */
static long test_pv_mm_reserve(uint64_t op, const uint64_t *gpfns, unsigned n)
{
	struct xen_memory_reservation res = {
		.extent_start = 0xb000, .nr_extents = n, .extent_order = 0, .domid = DOMID_SELF};

	memcpy(d->ram + 10 * 4096, &res, sizeof(res));
	memcpy(d->ram + 11 * 4096, gpfns, n * 8);
	return pv_memory_reservation(v, op, 0xa000);
}

static void test_pv_mm_populate_to_max(void)
{
	uint64_t *ext = (uint64_t *)(d->ram + 11 * 4096),
		 *m2p = (uint64_t *)(d->shim + SHIM_OFF_M2P);
	uint64_t cur = d->cur_pages, max = d->max_pages;

	test_pv_mm_build();
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	domain_populate_below(d, 48);
	CU_ASSERT_EQUAL(d->cur_pages, 48);
	CU_ASSERT_FALSE(domain_owns_frame(d, 48));
	d->max_pages = 50;
	CU_ASSERT_EQUAL(test_pv_mm_reserve(XENMEM_populate_physmap, (uint64_t[]){60, 61, 62}, 3),
			2);
	CU_ASSERT(ext[0] == 60 && ext[1] == 61 && ext[2] == 62);
	CU_ASSERT(m2p[60] == 60 && m2p[61] == 61);
	CU_ASSERT(domain_owns_frame(d, 60) && !domain_owns_frame(d, 62));
	CU_ASSERT_EQUAL(d->cur_pages, 50);
	/* at the ceiling: nothing */
	CU_ASSERT_EQUAL(test_pv_mm_reserve(XENMEM_populate_physmap, (uint64_t[]){62}, 1), 0);
	/* a GPFN whose frame is in use gets the first free frame */
	d->max_pages = 64;
	CU_ASSERT_EQUAL(test_pv_mm_reserve(XENMEM_populate_physmap, (uint64_t[]){5}, 1), 1);
	CU_ASSERT_EQUAL(ext[0], 48);
	CU_ASSERT_EQUAL(m2p[48], 5);
	/* given back, then taken again; the whole space and no more */
	CU_ASSERT_EQUAL(test_pv_mm_reserve(XENMEM_decrease_reservation, (uint64_t[]){48, 60}, 2),
			2);
	CU_ASSERT_EQUAL(d->cur_pages, 49);
	CU_ASSERT_EQUAL(test_pv_mm_reserve(
				XENMEM_increase_reservation,
				(uint64_t[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16),
			15);
	CU_ASSERT_EQUAL(d->cur_pages, 64);
	m2p[48] = 48;
	d->cur_pages = cur;
	d->max_pages = max;
	pv_mm_put_type(v, 1);
}

/* Frame 0 is keeld's "no table" (as MFN 0 is Xen's null): NEW_BASEPTR
 * refuses it, since a loaded frame 0 would keep its reference for ever
 * (pv_mm_fuzz found the leak); another L4 loads and the old one's
 * reference goes. */
static void test_pv_mm_new_baseptr_frame0(void)
{
	struct mmuext_op op = {.cmd = MMUEXT_NEW_BASEPTR};

	test_pv_mm_build();
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0);
	tab(0)[0] = 0; /* an empty frame 0, valid as an L4 but for its number */
	op.arg1.mfn = 0;
	memcpy(d->ram + 10 * 4096, &op, sizeof(op));
	CU_ASSERT_EQUAL(pv_mmuext_op(v, 0xa000, 1, 0, DOMID_SELF), -XEN_EINVAL);
	CU_ASSERT_EQUAL(d->pv->pages[0].type_count, 0);
	CU_ASSERT_EQUAL(v->pv->kernel_cr3, 1 << 12);
	CU_ASSERT_EQUAL_FATAL(pv_mm_get_type(v, 1, PGT_l4), 0); /* the load's own reference */
	op.arg1.mfn = 30;
	memcpy(d->ram + 10 * 4096, &op, sizeof(op));
	/* switched (loading it into the KVM vCPU fails: there is none) */
	(void)pv_mmuext_op(v, 0xa000, 1, 0, DOMID_SELF);
	CU_ASSERT_EQUAL(v->pv->kernel_cr3, 30 << 12);
	CU_ASSERT_EQUAL(d->pv->pages[30].type_count, 1);
	CU_ASSERT_EQUAL(d->pv->pages[1].type_count, 1);
	v->pv->kernel_cr3 = 1 << 12;
	pv_mm_put_type(v, 30);
	pv_mm_put_type(v, 1);
	test_pv_mm_no_counts_left();
}

UNIT_SUITE(pv_mm, test_pv_mm_init, test_pv_mm_cleanup, UNIT_TEST(test_pv_mm_validates_tree),
	   UNIT_TEST(test_pv_mm_refuses_writable_table),
	   UNIT_TEST(test_pv_mm_refuses_foreign_and_superpage),
	   UNIT_TEST(test_pv_mm_refuses_self_reference), UNIT_TEST(test_pv_mm_mmu_update),
	   UNIT_TEST(test_pv_mm_update_va_mapping), UNIT_TEST(test_pv_mm_pin_rules),
	   UNIT_TEST(test_pv_mm_grant_entries), UNIT_TEST(test_pv_mm_linear_self),
	   UNIT_TEST(test_pv_mm_linear_update), UNIT_TEST(test_pv_mm_populate_to_max),
	   UNIT_TEST(test_pv_mm_new_baseptr_frame0))
