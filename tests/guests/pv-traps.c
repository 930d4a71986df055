/*
 * pv-traps: exceptions bounce to the guest's trap table with Xen's frame,
 * CR2 of a page fault appears in vcpu_info, and handlers return through
 * the iret hypercall.
 */
#include "pv_test.h"

uint64_t pf_count, pf_err, ud_count;
static char si_page[4096] __attribute__((aligned(4096)));

static void pf_handler(struct pvt_frame *f)
{
	pf_count++;
	pf_err = f->error;
	f->rip += 3; /* skip the 3-byte faulting load */
}

static void ud_handler(struct pvt_frame *f)
{
	ud_count++;
	f->rip += 2; /* ud2 */
}

void test_main(void)
{
	static const struct pvt_trap traps[] = {{14, 0, pf_handler}, {6, 0, ud_handler}};
	uint64_t bad = 0xffffffff90000000UL, x = 0;
	struct shared_info *sh = (struct shared_info *)si_page;
	long r;

	r = pvt_traps_install(traps, 2);
	rt_check(r == 0, "set_trap_table", r);
	r = pvt_uvm(si_page, rt_start_info->shared_info | PVT_PTE_RW);
	rt_check(r == 0, "map shared_info", r);
	__asm__ volatile("movq (%%rbx), %%rax" : "=a"(x) : "b"(bad), "0"(0x77UL) : "memory");
	rt_check(pf_count == 1, "page fault bounced to the guest handler", pf_count);
	rt_check(pf_err == 0, "page fault error code (kernel read, not present: U clear, as Xen)",
		 pf_err);
	rt_check(sh->vcpu_info[0].arch.cr2 == bad, "CR2 in vcpu_info", sh->vcpu_info[0].arch.cr2);
	rt_check(x == 0x77, "iret restored rax and resumed after the fault", x);
	__asm__ volatile("ud2" ::: "memory");
	rt_check(ud_count == 1, "#UD bounced and returned through iret", ud_count);
	r = HYPERCALL(__HYPERVISOR_set_trap_table, 0xdead0000UL, 0, 0);
	rt_check(r == -XEN_EFAULT, "REFUSED: set_trap_table bad pointer", r);
}
