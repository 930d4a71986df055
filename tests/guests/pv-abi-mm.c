/*
 * pv-abi-mm: Xen's linear (recursive) page tables from inside a guest.  A
 * read-only L4 entry naming the L4 itself maps the page tables, and the
 * guest reads its own entries through it; a read-only entry naming another
 * L4 in use maps that one and keeps it a page table until the entry goes.
 * Xen's refusals: a writable linear entry, a table of another level, a
 * table named by a linear entry holding one itself.
 */
#include "pv_test.h"

#define VIRT_BASE 0xffffffff80000000UL
#define PTE	  0x67UL /* P RW US A D */
#define PTE_RO	  0x25UL /* P US A */
#define SLOT	  300	 /* a free L4 slot above the hypervisor hole */

static char scratch[4096] __attribute__((aligned(4096)));

/* Write entry `slot` of table `mfn` with mmu_update. */
static long set_entry(uint64_t mfn, unsigned slot, uint64_t val)
{
	struct mmu_update u = {(mfn << 12) + slot * 8, val};

	return hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
}

/* The address whose four table indexes are a, b, c, e. */
static const volatile uint64_t *linear_va(uint64_t a, uint64_t b, uint64_t c, uint64_t e)
{
	uint64_t va = (a << 39) | (b << 30) | (c << 21) | (e << 12);

	if (va & (1UL << 47))
		va |= 0xffffUL << 48;
	return (const volatile uint64_t *)va;
}

void test_main(void)
{
	struct start_info *si = rt_start_info;
	const uint64_t *l4 = (const uint64_t *)si->pt_base;
	uint64_t l4mfn = (si->pt_base - VIRT_BASE) >> 12;
	uint64_t own = ((uint64_t)scratch - VIRT_BASE) >> 12, z = si->nr_pages - 6;
	uint64_t va = (uint64_t)scratch, l2e;
	const volatile uint64_t *p;
	long r;

	rt_check(l4[SLOT] == 0 && l4[SLOT + 1] == 0 && l4[SLOT + 2] == 0, "test slots are free",
		 l4[SLOT]);
	r = set_entry(l4mfn, SLOT, (l4mfn << 12) | PTE);
	rt_check(r == -XEN_EINVAL, "REFUSED: writable self-referencing L4 entry", r);
	r = set_entry(l4mfn, SLOT, (l4mfn << 12) | PTE_RO);
	rt_check(r == 0, "read-only self-referencing L4 entry (linear page table)", r);
	if (r == 0) {
		p = linear_va(SLOT, SLOT, SLOT, SLOT);
		rt_check(p[511] == l4[511], "L4 entry read through the linear map", p[511]);
		rt_check((p[SLOT] >> 12 & 0xffffffffffUL) == l4mfn,
			 "the linear entry maps the L4 itself", p[SLOT]);
		/* scratch's L1 entry: the indexes shifted down one level */
		p = linear_va(SLOT, va >> 39 & 511, va >> 30 & 511, va >> 21 & 511);
		rt_check((p[va >> 12 & 511] >> 12 & 0xffffffffffUL) == own,
			 "L1 entry read through the linear map", p[va >> 12 & 511]);
		p = linear_va(SLOT, SLOT, va >> 39 & 511, va >> 30 & 511);
		l2e = p[va >> 21 & 511];
		rt_check(l2e & 1, "L2 entry read through the linear map", l2e);
		/* An L1 table in an L4 slot: neither the level below nor the same. */
		r = set_entry(l4mfn, SLOT + 2, (l2e & 0xffffffffff000UL) | PTE_RO);
		rt_check(r == -XEN_EINVAL, "REFUSED: L4 entry naming an L1 table", r);
	}

	/* A second L4, pinned: a linear entry names it and holds it. */
	pvt_uvm(scratch, (z << 12) | PTE);
	rt_memset(scratch, 0, 4096);
	pvt_uvm(scratch, (own << 12) | PTE);
	rt_check(pvt_mmuext(MMUEXT_PIN_L4_TABLE, z) == 0, "pin a second L4", 0);
	r = set_entry(l4mfn, SLOT + 1, (z << 12) | PTE);
	rt_check(r == -XEN_EINVAL, "REFUSED: writable entry naming another L4", r);
	r = set_entry(l4mfn, SLOT + 1, (z << 12) | PTE_RO);
	rt_check(r == 0, "read-only entry naming another L4 in use", r);
	if (r == 0) {
		p = linear_va(SLOT, SLOT, SLOT, SLOT + 1);
		/* its hypervisor slots, which keeld put in when it was pinned */
		rt_check(p[261] == l4[261] && p[261] != 0,
			 "the other L4 read through the linear map", p[261]);
	}
	r = set_entry(z, 0, (l4mfn << 12) | PTE_RO);
	rt_check(r == -XEN_EINVAL, "REFUSED: a linearly mapped L4 holding a linear entry", r);
	r = set_entry(z, 0, (z << 12) | PTE_RO);
	rt_check(r == 0, "but it may still name itself", r);
	set_entry(z, 0, 0);
	rt_check(pvt_mmuext(MMUEXT_UNPIN_TABLE, z) == 0, "unpin the second L4", 0);
	r = pvt_uvm(scratch, (z << 12) | PTE);
	rt_check(r == -XEN_EINVAL, "REFUSED: still a page table while a linear entry names it", r);
	pvt_uvm(scratch, (own << 12) | PTE);
	rt_check(set_entry(l4mfn, SLOT + 1, 0) == 0, "drop the linear entry", 0);
	r = pvt_uvm(scratch, (z << 12) | PTE);
	rt_check(r == 0, "then an ordinary frame again", r);
	pvt_uvm(scratch, (own << 12) | PTE);

	/* The other way round: an L4 holding a linear entry may not be named. */
	pvt_uvm(scratch, (z << 12) | PTE);
	rt_memset(scratch, 0, 4096);
	pvt_uvm(scratch, (own << 12) | PTE);
	rt_check(pvt_mmuext(MMUEXT_PIN_L4_TABLE, z) == 0, "pin it again", 0);
	rt_check(set_entry(z, 0, (l4mfn << 12) | PTE_RO) == 0, "it names the running L4", 0);
	r = set_entry(l4mfn, SLOT + 1, (z << 12) | PTE_RO);
	rt_check(r == -XEN_EINVAL, "REFUSED: naming an L4 that holds a linear entry", r);
	rt_check(pvt_mmuext(MMUEXT_UNPIN_TABLE, z) == 0, "unpin (its linear entry goes with it)",
		 0);
	r = pvt_uvm(scratch, (z << 12) | PTE);
	rt_check(r == 0, "an ordinary frame again", r);
	pvt_uvm(scratch, (own << 12) | PTE);

	rt_check(set_entry(l4mfn, SLOT, 0) == 0, "drop the self-referencing entry", 0);
	r = pvt_mmuext(MMUEXT_NEW_BASEPTR, l4mfn);
	rt_check(r == 0, "the L4 is still a sound base pointer", r);
}
