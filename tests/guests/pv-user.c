/*
 * pv-user: guest kernel/user switching.  The kernel installs a user page
 * table (NEW_USER_BASEPTR), a kernel stack (stack_switch), a syscall
 * callback and separate GS bases, drops to user mode with the iret
 * hypercall, and the user's `syscall` must arrive at the callback in kernel
 * mode on the kernel stack, with Xen's frame and the kernel's GS base --
 * also after the user code moved GS with WRGSBASE, where the host lets it.
 */
#include "../../frontends/runtime/keel_guest.h"

#define VIRT_BASE 0xffffffff80000000UL
#define PTE	  0x67UL

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

static long mmuext(unsigned cmd, uint64_t mfn)
{
	struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};

	return hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
}

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
	struct start_info *si = rt_start_info;
	uint64_t own = ((uint64_t)scratch - VIRT_BASE) >> 12;
	uint64_t ul4 = si->nr_pages - 4;
	const uint64_t *kl4 = (const uint64_t *)si->pt_base;
	struct callback_register cb = {CALLBACKTYPE_syscall, 0, 0, (uint64_t)syscall_cb};
	uint64_t *frame, *u = (uint64_t *)scratch;
	long r;

	/* The user L4: the kernel's top slot (the test runs from there). */
	HYPERCALL(__HYPERVISOR_update_va_mapping, scratch, (ul4 << 12) | PTE, UVMF_INVLPG);
	rt_memset(scratch, 0, 4096);
	u[511] = kl4[511];
	HYPERCALL(__HYPERVISOR_update_va_mapping, scratch, (own << 12) | PTE, UVMF_INVLPG);
	r = mmuext(MMUEXT_NEW_USER_BASEPTR, ul4);
	rt_check(r == 0, "new user baseptr", r);
	r = mmuext(MMUEXT_NEW_USER_BASEPTR, own);
	rt_check(r == -XEN_EINVAL, "REFUSED: user baseptr on a writable frame", r);
	r = HYPERCALL(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, kstack + sizeof(kstack), 0);
	rt_check(r == 0, "stack_switch", r);
	r = HYPERCALL(__HYPERVISOR_callback_op, CALLBACKOP_register, &cb, 0);
	rt_check(r == 0, "syscall callback", r);
	HYPERCALL(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, &kernel_val, 0);
	HYPERCALL(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, &user_val, 0);

	/* iret to user mode: rax, r11, rcx, flags, rip, cs, rflags, rsp, ss. */
	ustack_top = (uint64_t)ustack + sizeof(ustack) - 64;
	frame = (uint64_t *)(kstack + sizeof(kstack) - 256);
	frame[0] = 0;
	frame[1] = 0;
	frame[2] = 0;
	frame[3] = 0;
	frame[4] = (uint64_t)user_entry;
	frame[5] = FLAT_USER_CS64;
	frame[6] = 0x202;
	frame[7] = ustack_top;
	frame[8] = FLAT_USER_SS64;
	__asm__ volatile("mov %0, %%rsp; mov $23, %%eax; syscall" ::"r"(frame) : "memory");
	rt_check(0, "iret to user returned", 0);
}
