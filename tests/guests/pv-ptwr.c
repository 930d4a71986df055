/*
 * pv-ptwr: writable page tables.  The guest kernel writes straight into one
 * of its own (read-only mapped) L1 entries with xchg, mov, lock cmpxchg and
 * lock andb; keeld emulates each as a validated mmu_update.  A write that
 * would map a page-table frame writable is refused: the guest gets the page
 * fault.
 */
#include "pv_test.h"

#define VIRT_BASE RT_VIRT_BASE
#define PTE	  PVT_PTE_RW

uint64_t pf_count, pf_skip;
static char scratch[4096] __attribute__((aligned(4096)));
static char si_page[4096] __attribute__((aligned(4096)));

static void pf_handler(struct pvt_frame *f)
{
	pf_count++;
	f->rip += pf_skip;
}

static uint64_t *table_va(uint64_t entry)
{
	return (uint64_t *)(VIRT_BASE + (entry & 0x000ffffffffff000UL));
}

void test_main(void)
{
	static const struct pvt_trap traps[] = {{14, 0, pf_handler}};
	uint64_t va = (uint64_t)scratch, x = rt_start_info->nr_pages - 2;
	uint64_t *l4 = (uint64_t *)rt_start_info->pt_base, *l3, *l2, *l1, *pte;
	uint64_t own = (va - VIRT_BASE) >> 12, v, old;
	volatile uint64_t *sp = (volatile uint64_t *)scratch;
	uint8_t zf;

	pvt_traps_install(traps, 1);
	pvt_uvm(si_page, rt_start_info->shared_info | 0x25);
	l3 = table_va(l4[(va >> 39) & 511]);
	l2 = table_va(l3[(va >> 30) & 511]);
	l1 = table_va(l2[(va >> 21) & 511]);
	pte = &l1[(va >> 12) & 511];
	rt_check((*pte >> 12 & 0xffffffffff) == own, "found scratch's L1 entry", *pte);
	sp[0] = 0x1111;

	/* xchg: map scratch onto frame x; the old entry comes back. */
	v = (x << 12) | PTE;
	old = *pte;
	__asm__ volatile("xchg %0, (%1)" : "+r"(v) : "r"(pte) : "memory");
	rt_check(v == old, "xchg returned the old entry", v);
	rt_check((*pte >> 12 & 0xffffffffff) == x, "xchg wrote the new entry", *pte);
	sp[0] = 0x2222;
	/* mov: back to the original frame. */
	__asm__ volatile("movq %1, (%0)" ::"r"(pte), "r"(old) : "memory");
	rt_check(sp[0] == 0x1111, "mov restored the original mapping", sp[0]);

	/* lock cmpxchg: a stale expectation fails, a fresh one succeeds. */
	v = (x << 12) | PTE;
	{
		uint64_t expect = old ^ 0x1000;

		__asm__ volatile("lock cmpxchg %3, (%2); sete %1"
				 : "+a"(expect), "=q"(zf)
				 : "r"(pte), "r"(v)
				 : "memory");
		rt_check(!zf && expect == old, "cmpxchg with a stale value fails", expect);
		__asm__ volatile("lock cmpxchg %3, (%2); sete %1"
				 : "+a"(expect), "=q"(zf)
				 : "r"(pte), "r"(v)
				 : "memory");
		rt_check(zf && sp[0] == 0x2222, "cmpxchg with the right value maps frame x", sp[0]);
	}
	__asm__ volatile("movq %1, (%0)" ::"r"(pte), "r"(old) : "memory");

	/* lock andb: clear RW (clear_bit, as ptep_set_wrprotect does). */
	__asm__ volatile("lock andb $0xfd, (%0)" ::"r"(pte) : "memory");
	rt_check(!(*pte & 2), "lock andb cleared RW", *pte);
	pf_skip = 7; /* movq $imm32, (%rax): 48 c7 00 imm32 */
	__asm__ volatile("movq $0x3333, (%0)" ::"a"(scratch) : "memory");
	rt_check(pf_count == 1 && sp[0] == 0x1111, "the page is read-only now", pf_count);
	__asm__ volatile("movq %1, (%0)" ::"r"(pte), "r"(old) : "memory");
	sp[0] = 0x4444;
	rt_check(sp[0] == 0x4444, "writable again", sp[0]);

	/* Refused: mapping the L1 itself writable. */
	v = ((uint64_t)l1 - VIRT_BASE) | PTE;
	pf_skip = 3; /* movq %rdx, (%rax): 48 89 10 */
	__asm__ volatile("movq %1, (%0)" ::"a"(pte), "d"(v) : "memory");
	rt_check(pf_count == 2, "REFUSED: a page table mapped writable (page fault)", pf_count);
	rt_check(((struct shared_info *)si_page)->vcpu_info[0].arch.cr2 == (uint64_t)pte,
		 "the fault's address is the entry", (long)pte);
	rt_check(*pte == old, "the entry is unchanged", *pte);
}
