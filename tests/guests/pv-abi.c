/*
 * pv-abi: corners of Xen 4.17's x86_64 PV ABI where a domU sees exactly
 * what Xen does.  The emulated wrmsr of the segment bases refuses a
 * non-canonical base with #GP; the debug registers start at Xen's DR6/DR7,
 * keep Xen's reserved bits and refusals through set_debugreg and
 * `mov %drN`, and an unguarded rdmsr of DEBUGCTL before any #GP handler
 * reads 0 (after one, it is the #GP it is on Xen); a multicall whose entry
 * is iret ends there, the vCPU going on where the iret frame says; the
 * hypercalls only a privileged domain may use answer -EPERM after Xen's
 * earlier checks.
 */
#include "pv_test.h"

#define MSR_FS_BASE	   0xc0000100U
#define MSR_GS_BASE	   0xc0000101U
#define MSR_SHADOW_GS_BASE 0xc0000102U
#define MSR_DEBUGCTL	   0x1d9U
#define NONCANON	   0x0000800000000000UL

uint64_t gp_count, ud_count, skip_len;

/* Both handlers step over the faulting instruction (skip_len bytes). */
static void gp_handler(struct pvt_frame *f)
{
	gp_count++;
	f->rip += skip_len;
}

static void ud_handler(struct pvt_frame *f)
{
	ud_count++;
	f->rip += skip_len;
}

static const struct pvt_trap traps[] = {{13, 0, gp_handler}, {6, 0, ud_handler}};

/*
 * long mc_iret(struct multicall_entry *mc, unsigned long n): a multicall
 * issued with an iret frame on the stack (rax 0x1234abcd, back to label 1
 * with this function's stack).  If the multicall comes back instead, the
 * stack is restored and its own answer returned.
 */
__asm__(".text\n"
	"mc_iret:\n"
	"	mov %rsp, %r9\n"
	"	pushq $0xe028\n" /* ss */
	"	push %r9\n"	 /* rsp */
	"	pushq $2\n"	 /* rflags: IF clear, events stay masked */
	"	pushq $0xe030\n" /* cs: kernel */
	"	lea 1f(%rip), %rax\n"
	"	push %rax\n" /* rip */
	"	pushq $0\n"  /* flags */
	"	push %rcx\n"
	"	push %r11\n"
	"	pushq $0x1234abcd\n" /* rax */
	"	mov $13, %eax\n"
	"	syscall\n"
	"	mov %r9, %rsp\n"
	"1:	ret\n");
long mc_iret(struct multicall_entry *mc, unsigned long n);

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	skip_len = 2;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr), "0"(0), "1"(0) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t val)
{
	skip_len = 2;
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
}

static long hc2(unsigned nr, uint64_t a1, uint64_t a2)
{
	return HYPERCALL(nr, a1, a2, 0);
}

static void check_segment_base_msrs(void)
{
	static const uint32_t msrs[3] = {MSR_SHADOW_GS_BASE, MSR_FS_BASE, MSR_GS_BASE};
	static const char *const names[3] = {"SHADOW_GS_BASE", "FS_BASE", "GS_BASE"};
	char what[96];

	for (int i = 0; i < 3; i++) {
		uint64_t old = rdmsr(msrs[i]), gp = gp_count;

		wrmsr(msrs[i], NONCANON);
		rt_snprintf(what, sizeof(what), "REFUSED: wrmsr %s non-canonical is #GP", names[i]);
		rt_check(gp_count == gp + 1, what, gp_count - gp);
		rt_snprintf(what, sizeof(what), "%s unchanged after the refused wrmsr", names[i]);
		rt_check(rdmsr(msrs[i]) == old, what, rdmsr(msrs[i]));
		wrmsr(msrs[i], 0xffff888000001000UL);
		rt_snprintf(what, sizeof(what), "wrmsr %s canonical upper half", names[i]);
		rt_check(gp_count == gp + 1 && rdmsr(msrs[i]) == 0xffff888000001000UL, what,
			 rdmsr(msrs[i]));
		wrmsr(msrs[i], old);
	}
}

/* get_debugreg and set_debugreg: Xen's values, aliases and refusals. */
static void check_debugreg_hypercalls(void)
{
	long r;

	/* First, before anything wrote them: a new vCPU's values. */
	r = hc2(__HYPERVISOR_get_debugreg, 6, 0);
	rt_check(r == 0xffff0ff0, "get_debugreg dr6 starts at 0xffff0ff0", r);
	r = hc2(__HYPERVISOR_get_debugreg, 7, 0);
	rt_check(r == 0x400, "get_debugreg dr7 starts at 0x400", r);
	r = hc2(__HYPERVISOR_get_debugreg, 4, 0);
	rt_check(r == 0xffff0ff0, "get_debugreg dr4 is dr6 (CR4.DE clear)", r);
	r = hc2(__HYPERVISOR_get_debugreg, 5, 0);
	rt_check(r == 0x400, "get_debugreg dr5 is dr7 (CR4.DE clear)", r);
	r = hc2(__HYPERVISOR_get_debugreg, 8, 0);
	rt_check(r == -XEN_ENODEV, "REFUSED: get_debugreg dr8 -ENODEV", r);

	r = hc2(__HYPERVISOR_set_debugreg, 6, 0x1001);
	rt_check(r == 0 && hc2(__HYPERVISOR_get_debugreg, 6, 0) == 0xffff0ff1,
		 "set_debugreg dr6 keeps the reserved bits", hc2(__HYPERVISOR_get_debugreg, 6, 0));
	r = hc2(__HYPERVISOR_set_debugreg, 6, 1UL << 32);
	rt_check(r == -XEN_EINVAL, "REFUSED: set_debugreg dr6 upper half", r);
	r = hc2(__HYPERVISOR_set_debugreg, 4, 0);
	rt_check(r == 0 && hc2(__HYPERVISOR_get_debugreg, 6, 0) == 0xffff0ff0,
		 "set_debugreg dr4 writes dr6", r);
	r = hc2(__HYPERVISOR_set_debugreg, 7, 0);
	rt_check(r == 0 && hc2(__HYPERVISOR_get_debugreg, 7, 0) == 0x400,
		 "set_debugreg dr7 0 reads 0x400", hc2(__HYPERVISOR_get_debugreg, 7, 0));
	r = hc2(__HYPERVISOR_set_debugreg, 7, 0x2000);
	rt_check(r == -XEN_EPERM, "REFUSED: set_debugreg dr7 general detect", r);
	r = hc2(__HYPERVISOR_set_debugreg, 7, 0x1 | (2UL << 16));
	rt_check(r == -XEN_EPERM, "REFUSED: set_debugreg dr7 I/O breakpoint without CR4.DE", r);
	r = hc2(__HYPERVISOR_set_debugreg, 7, 1UL << 32);
	rt_check(r == -XEN_EINVAL, "REFUSED: set_debugreg dr7 upper half", r);
	r = hc2(__HYPERVISOR_set_debugreg, 5, 0x1 | (1UL << 16) | 0x1800);
	rt_check(r == 0 && hc2(__HYPERVISOR_get_debugreg, 7, 0) == (0x401 | (1UL << 16)),
		 "set_debugreg dr5 writes dr7, reserved bits fixed",
		 hc2(__HYPERVISOR_get_debugreg, 7, 0));
	hc2(__HYPERVISOR_set_debugreg, 7, 0x400);
	r = hc2(__HYPERVISOR_set_debugreg, 0, NONCANON);
	rt_check(r == -XEN_EPERM, "REFUSED: set_debugreg dr0 non-canonical", r);
	r = hc2(__HYPERVISOR_set_debugreg, 1, 0xffff880000000000UL);
	rt_check(r == 0 && hc2(__HYPERVISOR_get_debugreg, 1, 0) == (long)0xffff880000000000UL,
		 "set_debugreg dr1 above the hypervisor range", r);
	r = hc2(__HYPERVISOR_set_debugreg, 9, 0);
	rt_check(r == -XEN_ENODEV, "REFUSED: set_debugreg dr9 -ENODEV", r);
}

/* mov to and from %drN in the guest kernel, emulated with the same rules;
 * a missing register (DR8, by REX.R) is #UD. */
static void check_mov_dr(void)
{
	uint64_t v = 0, gp = gp_count, ud = ud_count;

	skip_len = 3;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v)::"memory");
	rt_check(gp_count == gp && v == 0x400, "mov %dr7 reads 0x400", v);
	v = 0x1 | (1UL << 20);
	__asm__ volatile("mov %0, %%dr7" ::"r"(v) : "memory");
	rt_check(gp_count == gp &&
			 hc2(__HYPERVISOR_get_debugreg, 7, 0) == (long)(0x401 | (1UL << 20)),
		 "mov to %dr7 lands in get_debugreg", hc2(__HYPERVISOR_get_debugreg, 7, 0));
	v = 0x2000;
	__asm__ volatile("mov %0, %%dr7" ::"r"(v) : "memory");
	rt_check(gp_count == gp + 1, "REFUSED: mov to %dr7 general detect is #GP", gp_count - gp);
	v = NONCANON;
	__asm__ volatile("mov %0, %%dr2" ::"r"(v) : "memory");
	rt_check(gp_count == gp + 2, "REFUSED: mov to %dr2 non-canonical is #GP", gp_count - gp);
	__asm__ volatile("mov %%dr4, %0" : "=r"(v)::"memory");
	rt_check(gp_count == gp + 2 && v == 0xffff0ff0, "mov %dr4 reads dr6", v);
	skip_len = 4;
	__asm__ volatile(".byte 0x44, 0x0f, 0x21, 0xc0" ::: "rax", "memory"); /* mov %dr8, %rax */
	rt_check(ud_count == ud + 1 && gp_count == gp + 2, "REFUSED: mov %dr8 is #UD",
		 ud_count - ud);
	hc2(__HYPERVISOR_set_debugreg, 7, 0x400);
}

/* Xen 4.17 does not emulate DEBUGCTL for a PV domU: #GP with a #GP handler
 * registered, 0 (its "faking RDMSR") while there is none. */
static void check_debugctl(void)
{
	uint64_t gp = gp_count, v;
	long r;

	rdmsr(MSR_DEBUGCTL);
	rt_check(gp_count == gp + 1, "rdmsr DEBUGCTL with a #GP handler is #GP", gp_count - gp);
	r = HYPERCALL(__HYPERVISOR_set_trap_table, 0, 0, 0);
	v = rdmsr(MSR_DEBUGCTL); /* no handler: a #GP here would crash the domain */
	r |= pvt_traps_install(traps, 2);
	rt_check(r == 0 && v == 0 && gp_count == gp + 1,
		 "rdmsr DEBUGCTL with no #GP handler reads 0", v);
}

static void check_multicall_iret(void)
{
	struct multicall_entry mc[3] = {
		{__HYPERVISOR_xen_version, 0x5555, {XENVER_pagesize}},
		{__HYPERVISOR_iret, 0x5555, {0}},
		{__HYPERVISOR_xen_version, 0x5555, {XENVER_pagesize}},
	};
	long r = mc_iret(mc, 3);

	rt_check(r == 0x1234abcd, "multicall ending in iret resumes at the iret frame with its rax",
		 r);
	rt_check(mc[0].result == 4096, "multicall entry before the iret ran", mc[0].result);
	rt_check(mc[1].result == 0x1234abcd, "multicall iret entry's result is the frame's rax",
		 mc[1].result);
	rt_check(mc[2].result == 0x5555, "multicall entry after the iret did not run",
		 mc[2].result);
}

/* Xen 4.17's answers to a domU for the privileged hypercalls. */
static void check_privileged_hypercalls(void)
{
	uint32_t op[36] = {0}; /* 144 bytes: the largest (domctl) */
	long r;

	op[0] = 3; /* sysctl physinfo */
	op[1] = 0x15;
	r = hc2(__HYPERVISOR_sysctl, (uint64_t)op, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: sysctl -EPERM", r);
	op[1] = 0x14;
	r = hc2(__HYPERVISOR_sysctl, (uint64_t)op, 0);
	rt_check(r == -XEN_EACCES, "REFUSED: sysctl old interface version -EACCES", r);
	r = hc2(__HYPERVISOR_sysctl, 0xdead0000UL, 0);
	rt_check(r == -XEN_EFAULT, "REFUSED: sysctl bad pointer -EFAULT", r);

	op[0] = 5; /* domctl getdomaininfo of dom0 */
	op[1] = 0x15;
	op[2] = 0;
	r = hc2(__HYPERVISOR_domctl, (uint64_t)op, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: domctl getdomaininfo -EPERM", r);
	op[0] = 1; /* createdomain */
	r = hc2(__HYPERVISOR_domctl, (uint64_t)op, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: domctl createdomain -EPERM", r);
	op[0] = 15; /* pausedomain of a domain that does not exist */
	op[2] = 0x7000;
	r = hc2(__HYPERVISOR_domctl, (uint64_t)op, 0);
	rt_check(r == -XEN_ESRCH, "REFUSED: domctl on no domain -ESRCH", r);
	op[2] = 0;
	r = hc2(__HYPERVISOR_domctl, (uint64_t)op, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: domctl pausedomain dom0 -EPERM", r);
	op[1] = 0x13;
	r = hc2(__HYPERVISOR_domctl, (uint64_t)op, 0);
	rt_check(r == -XEN_EACCES, "REFUSED: domctl old interface version -EACCES", r);

	op[0] = 10; /* paging_domctl_cont: a shadow_op on dom0 */
	op[1] = 0x15;
	r = hc2(__HYPERVISOR_paging_domctl_cont, (uint64_t)op, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: paging_domctl_cont -EPERM", r);

	op[0] = 53; /* platform_op get_cpuinfo */
	op[1] = 0x03000001;
	r = hc2(__HYPERVISOR_platform_op, (uint64_t)op, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: platform_op -EPERM", r);
	op[1] = 0x03000000;
	r = hc2(__HYPERVISOR_platform_op, (uint64_t)op, 0);
	rt_check(r == -XEN_EACCES, "REFUSED: platform_op old interface version -EACCES", r);

	r = hc2(__HYPERVISOR_kexec_op, 0, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: kexec_op -EPERM", r);
	r = hypercall5(__HYPERVISOR_hypfs_op, 0, 0, 0, 0, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: hypfs_op -EPERM", r);
	r = hc2(__HYPERVISOR_mca, 0, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: mca -EPERM", r);
	r = HYPERCALL(__HYPERVISOR_dm_op, DOMID_SELF, 0, 0);
	rt_check(r == -XEN_ESRCH, "REFUSED: dm_op DOMID_SELF -ESRCH", r);
	r = HYPERCALL(__HYPERVISOR_dm_op, 0, 0, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: dm_op on dom0 (not HVM) -EINVAL", r);
	r = HYPERCALL(__HYPERVISOR_dm_op, 0, 3, 0);
	rt_check(r == -XEN_E2BIG, "REFUSED: dm_op 3 buffers -E2BIG", r);
	r = hc2(__HYPERVISOR_xenoprof_op, 1, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: xenoprof_op reset_active_list -EPERM", r);
	r = hc2(__HYPERVISOR_xenoprof_op, 18, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: xenoprof_op unknown op -EINVAL", r);
	r = hc2(__HYPERVISOR_xenpmu_op, 0, 0);
	rt_check(r == -XEN_EOPNOTSUPP, "REFUSED: xenpmu_op -EOPNOTSUPP (vPMU off)", r);
	r = hc2(__HYPERVISOR_xsm_op, 0, 0);
	rt_check(r == -XEN_ENOSYS, "xsm_op -ENOSYS (no XSM)", r);
	r = hc2(__HYPERVISOR_argo_op, 0, 0);
	rt_check(r == -XEN_ENOSYS, "argo_op -ENOSYS (not built)", r);
	r = hc2(__HYPERVISOR_tmem_op, 0, 0);
	rt_check(r == -XEN_ENOSYS, "tmem_op -ENOSYS (removed)", r);
}

void test_main(void)
{
	long r;

	check_debugreg_hypercalls(); /* first: the values a new vCPU has */
	r = pvt_traps_install(traps, 2);
	rt_check(r == 0, "set_trap_table", r);
	check_segment_base_msrs();
	check_mov_dr();
	check_debugctl();
	check_multicall_iret();
	check_privileged_hypercalls();
}
