/*
 * pv-traps: exceptions bounce to the guest's trap table with Xen's frame,
 * CR2 of a page fault appears in vcpu_info, and handlers return through
 * the iret hypercall.
 */
#include "../../frontends/runtime/keel_guest.h"

#define PTE 0x67UL

uint64_t pf_count, pf_err, ud_count;
static char si_page[4096] __attribute__((aligned(4096)));

/* Frame on entry: rcx, r11, [error code], rip, cs, rflags, rsp, ss.
 * The iret hypercall wants: rax, r11, rcx, flags, rip, cs, rflags, rsp, ss. */
__asm__(".text\n"
	"pf_handler:\n"
	"	incq pf_count(%rip)\n"
	"	push %rax\n"
	"	mov 24(%rsp), %rax\n"
	"	mov %rax, pf_err(%rip)\n"
	"	pop %rax\n"
	"	addq $3, 24(%rsp)\n" /* skip the 3-byte faulting load */
	"	pop %rcx\n"
	"	pop %r11\n"
	"	add $8, %rsp\n"
	"	pushq $0\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	push %rax\n"
	"	mov $23, %eax\n"
	"	syscall\n"
	"ud_handler:\n"
	"	incq ud_count(%rip)\n"
	"	addq $2, 16(%rsp)\n"
	"	pop %rcx\n"
	"	pop %r11\n"
	"	pushq $0\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	push %rax\n"
	"	mov $23, %eax\n"
	"	syscall\n");
extern char pf_handler[], ud_handler[];

void test_main(void)
{
	struct trap_info traps[3] = {
		{14, 0, FLAT_KERNEL_CS, 0, (uint64_t)pf_handler},
		{6, 0, FLAT_KERNEL_CS, 0, (uint64_t)ud_handler},
		{0, 0, 0, 0, 0},
	};
	uint64_t bad = 0xffffffff90000000UL, x = 0;
	struct shared_info *sh = (struct shared_info *)si_page;
	long r;

	r = HYPERCALL(__HYPERVISOR_set_trap_table, traps, 0, 0);
	rt_check(r == 0, "set_trap_table", r);
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, si_page, rt_start_info->shared_info | PTE,
		      UVMF_INVLPG);
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
