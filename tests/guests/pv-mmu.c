/*
 * pv-mmu: Xen's PV MMU rules from inside a guest: update_va_mapping maps
 * and remaps, pinning, M2P updates, and the refusals (page-table page
 * writable, frame not owned, the shim, the hole, bad pointers).
 */
#include "pv_test.h"

#define VIRT_BASE 0xffffffff80000000UL
#define PTE	  0x67UL /* P RW US A D */

static char scratch[4096] __attribute__((aligned(4096)));

void test_main(void)
{
	struct start_info *si = rt_start_info;
	uint64_t own = ((uint64_t)scratch - VIRT_BASE) >> 12;
	uint64_t x = si->nr_pages - 2, y = si->nr_pages - 3;
	uint64_t pt = (si->pt_base - VIRT_BASE) >> 12;
	volatile uint64_t *s = (volatile uint64_t *)scratch;
	const volatile uint64_t *m2p;
	struct xen_machphys_mapping mm;
	struct mmu_update u;
	long r;

	s[0] = 0x1111;
	rt_check(pvt_uvm(scratch, (x << 12) | PTE) == 0, "map a free frame writable", 0);
	s[0] = 0x2222;
	rt_check(pvt_uvm(scratch, (own << 12) | PTE) == 0, "map the original frame back", 0);
	rt_check(s[0] == 0x1111, "original contents back", s[0]);
	pvt_uvm(scratch, (x << 12) | PTE);
	rt_check(s[0] == 0x2222, "remapped frame kept its contents", s[0]);
	pvt_uvm(scratch, (own << 12) | PTE);

	r = pvt_uvm(scratch, (pt << 12) | PTE);
	rt_check(r == -XEN_EINVAL, "REFUSED: page-table page mapped writable", r);
	r = pvt_uvm(scratch, (pt << 12) | 0x25);
	rt_check(r == 0, "page-table page mapped read-only", r);
	pvt_uvm(scratch, (own << 12) | PTE);
	r = pvt_uvm(scratch, ((si->nr_pages + 10) << 12) | PTE);
	rt_check(r == -XEN_EPERM, "REFUSED: frame not owned", r);
	r = pvt_uvm(scratch, (0x1000000000UL) | PTE);
	rt_check(r == -XEN_EPERM, "REFUSED: shim frame", r);
	r = pvt_uvm((void *)0xffff82d080000000UL, (x << 12) | PTE);
	rt_check(r == -XEN_EINVAL, "REFUSED: va in the hypervisor hole", r);

	/* Pinning: a zeroed frame becomes an L1; then it cannot be writable. */
	pvt_uvm(scratch, (y << 12) | PTE);
	rt_memset(scratch, 0, 4096);
	pvt_uvm(scratch, (own << 12) | PTE);
	rt_check(pvt_mmuext(MMUEXT_PIN_L1_TABLE, y) == 0, "pin L1", 0);
	r = pvt_mmuext(MMUEXT_PIN_L1_TABLE, y);
	rt_check(r == -XEN_EINVAL, "REFUSED: pin twice", r);
	r = pvt_uvm(scratch, (y << 12) | PTE);
	rt_check(r == -XEN_EINVAL, "REFUSED: pinned L1 mapped writable", r);
	pvt_uvm(scratch, (own << 12) | PTE);
	rt_check(pvt_mmuext(MMUEXT_UNPIN_TABLE, y) == 0, "unpin", 0);
	r = pvt_uvm(scratch, (y << 12) | PTE);
	rt_check(r == 0, "unpinned frame writable again", r);
	r = pvt_mmuext(MMUEXT_PIN_L2_TABLE, y);
	rt_check(r == -XEN_EINVAL, "REFUSED: pin a writable-mapped frame", r);
	pvt_uvm(scratch, (own << 12) | PTE);
	/* Empty frames are valid tables of any level. */
	pvt_uvm(scratch, (y << 12) | PTE);
	rt_memset(scratch, 0, 4096);
	pvt_uvm(scratch, (own << 12) | PTE);
	rt_check(pvt_mmuext(MMUEXT_PIN_L2_TABLE, y) == 0, "pin an empty L2", 0);
	rt_check(pvt_mmuext(MMUEXT_UNPIN_TABLE, y) == 0, "unpin it", 0);
	rt_check(pvt_mmuext(MMUEXT_PIN_L3_TABLE, y) == 0, "pin an empty L3", 0);
	r = pvt_mmuext(MMUEXT_PIN_L2_TABLE, y);
	rt_check(r == -XEN_EINVAL, "REFUSED: a second type while pinned", r);
	rt_check(pvt_mmuext(MMUEXT_UNPIN_TABLE, y) == 0, "unpin it", 0);
	{
		struct mmuext_op op = {.cmd = MMUEXT_SET_LDT,
				       .arg1.linear_addr = (uint64_t)scratch,
				       .arg2.nr_ents = 16};

		r = hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
		rt_check(r == 0, "set_ldt", r);
		op.arg1.linear_addr += 8;
		r = hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
		rt_check(r == -XEN_EINVAL, "REFUSED: set_ldt misaligned", r);
		op.arg1.linear_addr = 0;
		op.arg2.nr_ents = 0;
		hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
	}
	r = pvt_mmuext(MMUEXT_PIN_L4_TABLE, si->nr_pages + 5);
	rt_check(r == -XEN_EPERM, "REFUSED: pin a frame not owned", r);
	r = pvt_mmuext(MMUEXT_NEW_BASEPTR, si->nr_pages + 1);
	rt_check(r == -XEN_EPERM, "REFUSED: new baseptr on a frame not owned", r);
	r = pvt_mmuext(MMUEXT_NEW_BASEPTR, own);
	rt_check(r == -XEN_EINVAL, "REFUSED: new baseptr on a writable data frame", r);
	rt_check(pvt_mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0) == 0, "TLB flush local", 0);
	rt_check(pvt_mmuext(MMUEXT_TLB_FLUSH_ALL, 0) == 0, "TLB flush all", 0);
	{
		struct mmuext_op op = {.cmd = MMUEXT_INVLPG_LOCAL,
				       .arg1.linear_addr = (uint64_t)scratch};

		r = hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
		rt_check(r == 0, "invlpg local", r);
	}

	/* A second L4 (a copy of the running one): pin it, switch to it, check
	 * the hypervisor's slots were put in, switch back, unpin. */
	{
		uint64_t z = si->nr_pages - 6, l4 = (si->pt_base - VIRT_BASE) >> 12;
		const uint64_t *cur = (const uint64_t *)si->pt_base;
		uint64_t *w = (uint64_t *)scratch;

		pvt_uvm(scratch, (z << 12) | PTE);
		for (int i = 0; i < 512; i++)
			w[i] = (i >= 256 && i < 272) ? 0 : cur[i];
		pvt_uvm(scratch, (own << 12) | PTE);
		rt_check(pvt_mmuext(MMUEXT_PIN_L4_TABLE, z) == 0, "pin a second L4", 0);
		rt_check(pvt_mmuext(MMUEXT_NEW_BASEPTR, z) == 0, "switch to the second L4", 0);
		s[1] = 0x4242; /* still running, still mapped */
		rt_check(pvt_mmuext(MMUEXT_NEW_BASEPTR, l4) == 0, "switch back", 0);
		rt_check(s[1] == 0x4242, "same memory under both L4s", s[1]);
		pvt_uvm(scratch, (z << 12) | 0x25);
		rt_check(w[261] != 0 && w[262] != 0, "hypervisor slots present in the new L4",
			 w[261]);
		pvt_uvm(scratch, (own << 12) | PTE);
		rt_check(pvt_mmuext(MMUEXT_UNPIN_TABLE, z) == 0, "unpin the second L4", 0);
		r = pvt_uvm(scratch, (z << 12) | PTE);
		rt_check(r == 0, "an unpinned, unused L4 is an ordinary frame again", r);
		pvt_uvm(scratch, (own << 12) | PTE);
	}

	/* multicall of MMU operations: each result lands in its entry. */
	{
		struct multicall_entry mc[3] = {
			{__HYPERVISOR_update_va_mapping,
			 0,
			 {(uint64_t)scratch, (x << 12) | PTE, 0}},
			{__HYPERVISOR_update_va_mapping,
			 0,
			 {(uint64_t)scratch, (pt << 12) | PTE, 0}},
			{__HYPERVISOR_update_va_mapping,
			 0,
			 {(uint64_t)scratch, (own << 12) | PTE, 0}},
		};

		r = HYPERCALL(__HYPERVISOR_multicall, mc, 3, 0);
		rt_check(r == 0 && mc[0].result == 0 && mc[1].result == -XEN_EINVAL &&
				 mc[2].result == 0,
			 "multicall of update_va_mapping (one refused)", mc[1].result);
		rt_check(s[0] == 0x1111, "multicall left the original mapping", s[0]);
	}

	/* M2P: the guest's update shows through the read-only M2P, found
	 * where XENMEM_machphys_mapping says. */
	HYPERCALL(__HYPERVISOR_memory_op, XENMEM_machphys_mapping, &mm, 0);
	m2p = (const uint64_t *)mm.v_start;
	u.ptr = (x << 12) | MMU_MACHPHYS_UPDATE;
	u.val = 1234;
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	rt_check(r == 0 && m2p[x] == 1234, "MMU_MACHPHYS_UPDATE visible in M2P", m2p[x]);
	u.val = x;
	hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	rt_check(m2p[own] == own, "M2P readable at Xen's address", m2p[own]);

	/* mmu_update on the L4: the hole slots are the hypervisor's. */
	u.ptr = (((si->pt_base - VIRT_BASE) >> 12) << 12) + 256 * 8;
	u.val = (x << 12) | PTE;
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: L4 hypervisor slot", r);
	r = hypercall5(__HYPERVISOR_mmu_update, 0xdead000, 1, 0, DOMID_SELF, 0);
	rt_check(r == -XEN_EFAULT, "REFUSED: bad request pointer", r);
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, 5, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: foreign domain", r);

	/* Ballooning: give a free frame back, see it refused, take one again. */
	{
		uint16_t self = DOMID_SELF;
		uint64_t ext[1] = {x};
		struct xen_memory_reservation res = {(uint64_t)ext, 1, 0, 0, DOMID_SELF, {0}};
		long cur = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_current_reservation, &self, 0);

		r = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, &res, 0);
		rt_check(r == 1, "decrease_reservation: one frame given back", r);
		rt_check(HYPERCALL(__HYPERVISOR_memory_op, XENMEM_current_reservation, &self, 0) ==
				 cur - 1,
			 "current_reservation went down", cur);
		r = pvt_uvm(scratch, (x << 12) | PTE);
		rt_check(r == -XEN_EPERM, "REFUSED: mapping a frame given back", r);
		ext[0] = own;
		r = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, &res, 0);
		rt_check(r == 0, "REFUSED: giving back a mapped, typed frame", r);
		ext[0] = 0;
		r = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_populate_physmap, &res, 0);
		rt_check(r == 1 && ext[0] == x, "populate_physmap: the frame comes back", ext[0]);
		r = pvt_uvm(scratch, (x << 12) | PTE);
		rt_check(r == 0 && s[0] == 0, "mappable again, and zeroed", r);
		pvt_uvm(scratch, (own << 12) | PTE);
		r = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_increase_reservation, &res, 0);
		rt_check(r == 0, "REFUSED: beyond the maximum reservation", r);
	}
}
