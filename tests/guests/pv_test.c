/*
 * The in-guest ABI tests' shared part (pv_test.h): one entry stub per
 * vector, which makes Xen's bounce frame a struct pvt_frame, calls the C
 * handler the test installed and returns through the iret hypercall; guest
 * user mode; MMU calls.
 */
#include "pv_test.h"

#define PVT_MAX_TRAPS 32

static pvt_handler pvt_handlers[256];
static uint64_t pvt_iret_frame[9] __attribute__((aligned(16)));
static char pvt_scratch[4096] __attribute__((aligned(4096)));

void pvt_dispatch(struct pvt_frame *f) __attribute__((used));

/*
 * Entry stubs, 32 bytes apart from pvt_stubs: vectors with no error code
 * get -1 in its place, then the vector is pushed and pvt_common saves the
 * registers a C call may change (rcx and r11 are in Xen's frame), calls
 * pvt_dispatch on a 16-byte aligned stack and goes back with the iret
 * hypercall: rax, r11, rcx, flags, rip, cs, rflags, rsp, ss.
 */
__asm__(".text\n"
	".macro PVT_STUB vec\n"
	".balign 32\n"
	".if (\\vec == 8) || ((\\vec >= 10) && (\\vec <= 14)) || (\\vec == 17) || (\\vec == 21) "
	"|| (\\vec == 29) || (\\vec == 30)\n"
	".else\n"
	"	pop %rcx\n"
	"	pop %r11\n"
	"	pushq $-1\n"
	"	push %r11\n"
	"	push %rcx\n"
	".endif\n"
	"	pushq $\\vec\n"
	"	jmp pvt_common\n"
	".endm\n"
	".balign 32\n"
	"pvt_stubs:\n"
	".altmacro\n"
	".set pvt_vec, 0\n"
	".rept 256\n"
	"	PVT_STUB %pvt_vec\n"
	"	.set pvt_vec, pvt_vec + 1\n"
	".endr\n"
	".noaltmacro\n"
	"pvt_common:\n"
	"	push %rax\n"
	"	push %rdx\n"
	"	push %rsi\n"
	"	push %rdi\n"
	"	push %r8\n"
	"	push %r9\n"
	"	push %r10\n"
	"	push %rbx\n"
	"	mov %rsp, %rdi\n"
	"	mov %rsp, %rbx\n"
	"	and $-16, %rsp\n"
	"	call pvt_dispatch\n"
	"	mov %rbx, %rsp\n"
	"	pop %rbx\n"
	"	pop %r10\n"
	"	pop %r9\n"
	"	pop %r8\n"
	"	pop %rdi\n"
	"	pop %rsi\n"
	"	pop %rdx\n"
	"	pop %rax\n"
	"	add $8, %rsp\n" /* the vector */
	"	pop %rcx\n"
	"	pop %r11\n"
	"	add $8, %rsp\n" /* the error code */
	"	pushq $0\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	push %rax\n"
	"	mov $23, %eax\n" /* __HYPERVISOR_iret */
	"	syscall\n");
extern char pvt_stubs[];

void pvt_dispatch(struct pvt_frame *f)
{
	pvt_handler fn = pvt_handlers[f->vector & 255];

	if (fn) {
		fn(f);
		return;
	}
	rt_printf("pv_test: vector %lu at %p, no handler\n", (unsigned long)f->vector,
		  (void *)f->rip);
	rt_shutdown(SHUTDOWN_crash);
}

long pvt_traps_install(const struct pvt_trap *traps, unsigned n)
{
	struct trap_info table[PVT_MAX_TRAPS + 1];

	if (n > PVT_MAX_TRAPS)
		return -XEN_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		pvt_handlers[traps[i].vector] = traps[i].fn;
		table[i] = (struct trap_info){traps[i].vector, traps[i].dpl, FLAT_KERNEL_CS, 0,
					      (uint64_t)(pvt_stubs + 32 * traps[i].vector)};
	}
	table[n] = (struct trap_info){0, 0, 0, 0, 0};
	return HYPERCALL(__HYPERVISOR_set_trap_table, table, 0, 0);
}

long pvt_uvm(const void *va, uint64_t pte)
{
	return HYPERCALL(__HYPERVISOR_update_va_mapping, va, pte, UVMF_INVLPG);
}

long pvt_mmuext(unsigned cmd, uint64_t mfn)
{
	struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};

	return hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
}

long pvt_user_setup(uint64_t ul4, void *kstack_top, void *syscall_cb)
{
	struct callback_register cb = {CALLBACKTYPE_syscall, 0, 0, (uint64_t)syscall_cb};
	const uint64_t *kl4 = (const uint64_t *)rt_start_info->pt_base;
	uint64_t *u = (uint64_t *)pvt_scratch;
	long r;

	/* the new L4's contents, written while it is an ordinary page */
	r = pvt_uvm(pvt_scratch, (ul4 << 12) | PVT_PTE_RW);
	if (r)
		return r;
	rt_memset(pvt_scratch, 0, sizeof(pvt_scratch));
	u[511] = kl4[511];
	r = pvt_uvm(pvt_scratch, (rt_virt_to_pfn(pvt_scratch) << 12) | PVT_PTE_RW);
	if (!r)
		r = pvt_mmuext(MMUEXT_NEW_USER_BASEPTR, ul4);
	if (!r)
		r = HYPERCALL(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, kstack_top, 0);
	if (!r)
		r = HYPERCALL(__HYPERVISOR_callback_op, CALLBACKOP_register, &cb, 0);
	return r;
}

void pvt_vcpu_context(struct vcpu_guest_context *c, void (*entry)(void), void *stack_top)
{
	rt_memset(c, 0, sizeof(*c));
	c->flags = VGCF_in_kernel;
	c->user_regs.rip = (uint64_t)entry;
	c->user_regs.rsp = (uint64_t)stack_top - 8;
	c->user_regs.rflags = 0x202;
	c->kernel_ss = FLAT_KERNEL_SS;
	c->kernel_sp = c->user_regs.rsp;
	c->ctrlreg[3] = rt_start_info->pt_base - RT_VIRT_BASE;
}

uint64_t pvt_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void pvt_time_read(const volatile struct vcpu_time_info *src, struct vcpu_time_info *dst)
{
	uint32_t v;

	do {
		v = __atomic_load_n(&src->version, __ATOMIC_SEQ_CST);
		dst->tsc_timestamp = src->tsc_timestamp;
		dst->system_time = src->system_time;
		dst->tsc_to_system_mul = src->tsc_to_system_mul;
		dst->tsc_shift = src->tsc_shift;
		dst->flags = src->flags;
		dst->version = v;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} while ((v & 1) || v != __atomic_load_n(&src->version, __ATOMIC_SEQ_CST));
}

/* system_time + ((tsc - tsc_timestamp) << shift) * mul >> 32 */
uint64_t pvt_time_ns(const struct vcpu_time_info *t, uint64_t tsc)
{
	uint64_t d = tsc - t->tsc_timestamp;
	unsigned __int128 x =
		t->tsc_shift >= 0 ? (unsigned __int128)d << t->tsc_shift : d >> -t->tsc_shift;

	return t->system_time + (uint64_t)((x * t->tsc_to_system_mul) >> 32);
}

void pvt_enter_user(uint64_t rip, uint64_t rsp, uint64_t rflags)
{
	uint64_t *f = pvt_iret_frame;

	f[0] = f[1] = f[2] = f[3] = 0; /* rax, r11, rcx, flags */
	f[4] = rip;
	f[5] = FLAT_USER_CS64;
	f[6] = rflags;
	f[7] = rsp;
	f[8] = FLAT_USER_SS64;
	__asm__ volatile("mov %0, %%rsp; mov $23, %%eax; syscall" ::"r"(f) : "memory");
	__builtin_unreachable();
}
