/*
 * pv-desc: descriptor tables.  set_gdt takes read-only frames only and
 * accepts only DPL-3 code/data descriptors into the live GDT;
 * update_descriptor checks the same.  (Loading a selector from the guest's
 * own GDT entries is not checked: on this host -- KVM on PVM -- ring-3
 * segment loads do not consult the VM's GDT; pv-probe's notes.)
 */
#include "pv_test.h"

#define VIRT_BASE RT_VIRT_BASE
#define PTE_RW	  PVT_PTE_RW
#define PTE_RO	  0x65UL
#define DATA3	  0x00cff2000000ffffULL
#define CODE0	  0x00af9a000000ffffULL

uint64_t gp_count;
static char scratch[4096] __attribute__((aligned(4096)));

static void gp_handler(struct pvt_frame *f)
{
	gp_count++;
	f->rip += 2; /* skip the 2-byte segment load */
}

void test_main(void)
{
	struct start_info *si = rt_start_info;
	static const struct pvt_trap traps[] = {{13, 0, gp_handler}};
	uint64_t f = si->nr_pages - 5, own = ((uint64_t)scratch - VIRT_BASE) >> 12;
	uint64_t *g = (uint64_t *)scratch, frames[1] = {f};
	long r;

	pvt_traps_install(traps, 1);
	pvt_uvm(scratch, (f << 12) | PTE_RW);
	rt_memset(scratch, 0, 4096);
	g[1] = DATA3;
	g[2] = CODE0;
	r = HYPERCALL(__HYPERVISOR_set_gdt, frames, 3, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: set_gdt on a writable frame", r);
	pvt_uvm(scratch, (f << 12) | PTE_RO);
	r = HYPERCALL(__HYPERVISOR_set_gdt, frames, 3, 0);
	rt_check(r == 0, "set_gdt on a read-only frame", r);
	r = HYPERCALL(__HYPERVISOR_set_gdt, frames, 14 * 512 + 1, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: set_gdt into Xen's reserved entries", r);
	r = HYPERCALL(__HYPERVISOR_set_gdt, 0xdead0000UL, 3, 0);
	rt_check(r == -XEN_EFAULT, "REFUSED: set_gdt bad frame list", r);

	r = HYPERCALL(__HYPERVISOR_update_descriptor, (f << 12) + 3 * 8, DATA3, 0);
	rt_check(r == 0, "update_descriptor DPL-3 data", r);
	r = HYPERCALL(__HYPERVISOR_update_descriptor, (f << 12) + 4 * 8, CODE0, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: update_descriptor DPL-0 code", r);
	r = HYPERCALL(__HYPERVISOR_update_descriptor, (f << 12) + 4 * 8 + 3, DATA3, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: update_descriptor misaligned", r);
	r = HYPERCALL(__HYPERVISOR_update_descriptor, (si->nr_pages + 3) << 12, DATA3, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: update_descriptor frame not owned", r);
	pvt_uvm(scratch, (own << 12) | PTE_RW);
}
