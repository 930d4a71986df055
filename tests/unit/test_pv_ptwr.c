/*
 * Unit tests of writable page-table emulation (hypervisor/pv/pv_ptwr.c) on a
 * domain with plain memory and no VM: each instruction form Linux uses on
 * its page tables, the new entry validated as mmu_update would, the
 * instruction skipped, and the refusals (a page table mapped writable, a
 * foreign frame, a write that is not to a page table, an unknown form).
 */
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/pv/pv_mm.h"
#include "../../hypervisor/pv/pv_vcpu.h"
#include "abi/xen.h"
#include "unit.h"

#define NPAGES	64
#define PT	(PTE_P | PTE_RW | PTE_US | PTE_A)
#define RW	(PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define RO	(PTE_P | PTE_US | PTE_A)
#define CODE_VA 0xa000 /* frame 10: instructions */
#define L1_VA	0x4000 /* frame 4, the L1, mapped read-only */

static struct domain *d;
static struct vcpu *v;

static uint64_t *tab(uint64_t pfn)
{
	return (uint64_t *)(d->ram + pfn * 4096);
}

static int test_pv_ptwr_init(void)
{
	int err;

	d = domain_new(&pv_kind, "unit", NPAGES, 1, DOMAIN_NO_KVM, &err);
	if (!d)
		return -1;
	v = &d->vcpus[0];
	v->dom = d;
	hvlog_to_stderr = 0;
	/* L4 1 -> L3 2 -> L2 3 -> L1 4; frames 1..4 read-only, 10..20 RW. */
	tab(1)[0] = (2 << 12) | PT;
	tab(2)[0] = (3 << 12) | PT;
	tab(3)[0] = (4 << 12) | PT;
	for (int p = 1; p <= 4; p++)
		tab(4)[p] = ((uint64_t)p << 12) | RO;
	for (int p = 10; p <= 20; p++)
		tab(4)[p] = ((uint64_t)p << 12) | RW;
	v->pv->kernel_mode = 1;
	v->pv->kernel_cr3 = 1 << 12;
	return pv_mm_get_type(v, 1, PGT_l4) == 0 ? 0 : -1;
}

static int test_pv_ptwr_cleanup(void)
{
	domain_free(d);
	return 0;
}

/* Run one instruction (bytes) with regs g against the L1 entry idx. */
static int run(const void *bytes, size_t n, struct kvm_regs *g, int idx)
{
	memset(d->ram + 10 * 4096, 0x90, 64);
	memcpy(d->ram + 10 * 4096, bytes, n);
	g->rip = CODE_VA;
	return pv_ptwr_emulate(v, g, L1_VA + idx * 8);
}

static void test_pv_ptwr_forms(void)
{
	struct kvm_regs g;
	/* mov %rdx,(%rax) ; xchg %rdx,(%rax) ; lock cmpxchg %rdx,(%rax) */
	const uint8_t mov[] = {0x48, 0x89, 0x10}, xchg[] = {0x48, 0x87, 0x10},
		      cmpxchg[] = {0xf0, 0x48, 0x0f, 0xb1, 0x10},
		      /* lock andb $0xfd,(%r12) ; lock btr $1,(%rax) ; movq $0,(%rax) */
		andb[] = {0xf0, 0x41, 0x80, 0x24, 0x24, 0xfd},
		      btr[] = {0xf0, 0x48, 0x0f, 0xba, 0x30, 0x01},
		      movimm[] = {0x48, 0xc7, 0x00, 0, 0, 0, 0};

	memset(&g, 0, sizeof(g));
	g.rdx = (21ULL << 12) | RW;
	CU_ASSERT_EQUAL(run(mov, sizeof(mov), &g, 30), 0);
	CU_ASSERT_EQUAL(tab(4)[30], (21ULL << 12) | RW);
	CU_ASSERT_EQUAL(g.rip, CODE_VA + 3);
	CU_ASSERT_EQUAL(d->pv->pages[21].type, PGT_writable);

	g.rdx = (22ULL << 12) | RW;
	CU_ASSERT_EQUAL(run(xchg, sizeof(xchg), &g, 30), 0);
	CU_ASSERT_EQUAL(g.rdx, (21ULL << 12) | RW); /* the old entry */
	CU_ASSERT_EQUAL(d->pv->pages[21].type_count, 0);

	g.rax = 0; /* stale */
	g.rdx = (23ULL << 12) | RW;
	CU_ASSERT_EQUAL(run(cmpxchg, sizeof(cmpxchg), &g, 30), 0);
	CU_ASSERT_EQUAL(g.rax, (22ULL << 12) | RW);
	CU_ASSERT_FALSE(g.rflags & 0x40);
	CU_ASSERT_EQUAL(run(cmpxchg, sizeof(cmpxchg), &g, 30), 0);
	CU_ASSERT(g.rflags & 0x40);
	CU_ASSERT_EQUAL(tab(4)[30], (23ULL << 12) | RW);

	g.r12 = L1_VA + 30 * 8;
	CU_ASSERT_EQUAL(run(andb, sizeof(andb), &g, 30), 0);
	CU_ASSERT_FALSE(tab(4)[30] & PTE_RW);
	CU_ASSERT_EQUAL(g.rip, CODE_VA + sizeof(andb));
	CU_ASSERT_EQUAL(d->pv->pages[23].type_count, 0); /* no longer mapped writable */

	/* the same on one vCPU: Linux's alternatives made the lock a ds prefix */
	const uint8_t dsandb[] = {0x3e, 0x41, 0x80, 0x24, 0x24, 0xfd};

	g.rdx = (23ULL << 12) | RW;
	CU_ASSERT_EQUAL(run(mov, sizeof(mov), &g, 30), 0);
	CU_ASSERT_EQUAL(d->pv->pages[23].type_count, 1);
	CU_ASSERT_EQUAL(run(dsandb, sizeof(dsandb), &g, 30), 0);
	CU_ASSERT_FALSE(tab(4)[30] & PTE_RW);
	CU_ASSERT_EQUAL(g.rip, CODE_VA + sizeof(dsandb));
	CU_ASSERT_EQUAL(d->pv->pages[23].type_count, 0);

	tab(4)[31] = 0;
	CU_ASSERT_EQUAL(run(movimm, sizeof(movimm), &g, 31), 0);
	CU_ASSERT_EQUAL(run(btr, sizeof(btr), &g, 30), 0); /* RW already clear: CF 0 */
	CU_ASSERT_FALSE(g.rflags & 1);
}

static void test_pv_ptwr_refusals(void)
{
	struct kvm_regs g;
	const uint8_t mov[] = {0x48, 0x89, 0x10}, add[] = {0x48, 0x01, 0x10};
	uint64_t before = tab(4)[32];

	memset(&g, 0, sizeof(g));
	g.rdx = (3ULL << 12) | RW; /* the L2, writable */
	CU_ASSERT_EQUAL(run(mov, sizeof(mov), &g, 32), -1);
	g.rdx = (5000ULL << 12) | RW; /* not the domain's */
	CU_ASSERT_EQUAL(run(mov, sizeof(mov), &g, 32), -1);
	CU_ASSERT_EQUAL(tab(4)[32], before);
	g.rdx = (24ULL << 12) | RW;
	CU_ASSERT_EQUAL(run(add, sizeof(add), &g, 32), -1); /* not a form Xen emulates */
	/* a write to an ordinary page is the guest's own fault */
	memcpy(d->ram + 10 * 4096, mov, sizeof(mov));
	g.rip = CODE_VA;
	CU_ASSERT_EQUAL(pv_ptwr_emulate(v, &g, 0xb000), -1);
	/* misaligned qword */
	CU_ASSERT_EQUAL(run(mov, sizeof(mov), &g, 32) == 0 ? 0 : -1, 0);
	memcpy(d->ram + 10 * 4096, mov, sizeof(mov));
	g.rip = CODE_VA;
	CU_ASSERT_EQUAL(pv_ptwr_emulate(v, &g, L1_VA + 32 * 8 + 4), -1);
	v->pv->kernel_mode = 0; /* user mode never writes page tables */
	CU_ASSERT_EQUAL(run(mov, sizeof(mov), &g, 33), -1);
	v->pv->kernel_mode = 1;
}

UNIT_SUITE(pv_ptwr, test_pv_ptwr_init, test_pv_ptwr_cleanup, UNIT_TEST(test_pv_ptwr_forms),
	   UNIT_TEST(test_pv_ptwr_refusals))
