/*
 * pv-user: guest kernel/user switching.  The kernel installs a user page
 * table (NEW_USER_BASEPTR), a kernel stack (stack_switch), a syscall
 * callback and separate GS bases, drops to user mode with the iret
 * hypercall, and the user's `syscall` must arrive at the callback in kernel
 * mode on the kernel stack, with Xen's frame and the kernel's GS base --
 * also after the user code moved GS with WRGSBASE, where the host lets it.
 */
#include "pv_test.h"

static char scratch[4096] __attribute__((aligned(4096)));
static char kstack[8192] __attribute__((aligned(16)));
static char ustack[8192] __attribute__((aligned(16)));
uint64_t user_gs_seen, user_ran, frame_cs, frame_rsp, frame_rip, kernel_gs_seen;
uint64_t user_wrgs, user_gs_wr;
static uint64_t user_val = 0x5555, kernel_val = 0x6666;
uint64_t user_evil_val = 0x7777;
uint64_t ustack_top;

void after_user(void) __attribute__((noreturn, used));

/* User mode: note GS and that we ran; where the CPU lets ring 3 run
 * WRGSBASE (on PVM hosts guest user code runs with the host's CR4), point
 * GS elsewhere behind the kernel's back; then `syscall`. */
__asm__(".text\n"
	"user_entry:\n"
	"	mov %gs:0, %rax\n"
	"	mov %rax, user_gs_seen(%rip)\n"
	"	incq user_ran(%rip)\n"
	"	mov $7, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	test $1, %bl\n"
	"	jz 2f\n"
	"	lea user_evil_val(%rip), %rax\n"
	"	wrgsbase %rax\n"
	"	mov %gs:0, %rax\n"
	"	mov %rax, user_gs_wr(%rip)\n"
	"	incq user_wrgs(%rip)\n"
	"2:	mov $99, %eax\n"
	"	syscall\n"
	"1:	jmp 1b\n"
	/* The syscall callback: frame rcx, r11, rip, cs, rflags, rsp, ss. */
	"syscall_cb:\n"
	"	mov 16(%rsp), %rax\n"
	"	mov %rax, frame_rip(%rip)\n"
	"	mov 24(%rsp), %rax\n"
	"	mov %rax, frame_cs(%rip)\n"
	"	mov 40(%rsp), %rax\n"
	"	mov %rax, frame_rsp(%rip)\n"
	"	mov %gs:0, %rax\n"
	"	mov %rax, kernel_gs_seen(%rip)\n"
	"	call after_user\n");
extern char user_entry[], syscall_cb[];

void after_user(void)
{
	rt_check(user_ran == 1, "user mode ran", user_ran);
	rt_check(user_gs_seen == 0x5555, "user mode saw the user GS base", user_gs_seen);
	rt_check(kernel_gs_seen == 0x6666, "callback saw the kernel GS base", kernel_gs_seen);
	/* keeld loads the GS base it keeps at each switch: what user code set
	 * with WRGSBASE never reaches the kernel. */
	if (user_wrgs)
		rt_check(user_gs_wr == 0x7777, "user WRGSBASE ran (host CR4.FSGSBASE)", user_gs_wr);
	else
		rt_printf("note: WRGSBASE is not available to guest user code on this host\n");
	rt_check(frame_cs == FLAT_USER_CS64, "syscall frame cs is the user's", frame_cs);
	rt_check(frame_rsp == ustack_top, "syscall frame rsp is the user stack", frame_rsp);
	rt_check(frame_rip > (uint64_t)user_entry && frame_rip < (uint64_t)user_entry + 128,
		 "syscall frame rip follows the user's syscall", frame_rip);
	rt_check(HYPERCALL(__HYPERVISOR_xen_version, XENVER_version, 0, 0) >> 16 == 4,
		 "hypercalls work again in kernel mode", 0);
	rt_test_done();
}

void test_main(void)
{
	uint64_t own = rt_virt_to_pfn(scratch), ul4 = rt_start_info->nr_pages - 4;
	long r;

	r = pvt_user_setup(ul4, kstack + sizeof(kstack), syscall_cb);
	rt_check(r == 0, "user mode set up (user L4, kernel stack, syscall callback)", r);
	r = pvt_mmuext(MMUEXT_NEW_USER_BASEPTR, own);
	rt_check(r == -XEN_EINVAL, "REFUSED: user baseptr on a writable frame", r);
	HYPERCALL(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, &kernel_val, 0);
	HYPERCALL(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, &user_val, 0);
	ustack_top = (uint64_t)ustack + sizeof(ustack) - 64;
	pvt_enter_user((uint64_t)user_entry, ustack_top, 0x202);
}
