/*
 * evt-timeline (run with --vcpus 2): with XEN_PVCLOCK_TSC_STABLE_BIT in the
 * time info, every vCPU's record gives the same system time for the same
 * TSC value, as Xen's do when its clocksource is the TSC -- Linux then
 * stops keeping its clock monotonic across CPUs itself, so records that
 * disagree make time run backwards when a reader moves between vCPUs.
 * vCPU 1's record is written when it is initialised and again when its
 * vcpu_info moves; each time it must agree with vCPU 0's (to 1 ns, the
 * records' rounding).  vCPU 1 never runs.  Run by pv-events-timearea.sh.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "../../frontends/runtime/page.h"

static struct vcpu_guest_context ctx;
static char ap_stack[4096] __attribute__((aligned(16)));

static uint64_t tl_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* A consistent copy of a record (the version protocol). */
static void tl_read(const volatile struct vcpu_time_info *src, struct vcpu_time_info *dst)
{
	uint32_t v;

	do {
		v = __atomic_load_n(&src->version, __ATOMIC_SEQ_CST);
		dst->tsc_timestamp = src->tsc_timestamp;
		dst->system_time = src->system_time;
		dst->tsc_to_system_mul = src->tsc_to_system_mul;
		dst->tsc_shift = src->tsc_shift;
		dst->flags = src->flags;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} while ((v & 1) || v != __atomic_load_n(&src->version, __ATOMIC_SEQ_CST));
}

/* pvclock: system_time + ((tsc - tsc_timestamp) << shift) * mul >> 32. */
static int64_t tl_ns(const struct vcpu_time_info *t, uint64_t tsc)
{
	uint64_t d = tsc - t->tsc_timestamp;
	unsigned __int128 x =
		t->tsc_shift >= 0 ? (unsigned __int128)d << t->tsc_shift : d >> -t->tsc_shift;

	return (int64_t)(t->system_time + (uint64_t)((x * t->tsc_to_system_mul) >> 32));
}

/* vCPU 1's record against vCPU 0's, at one TSC value. */
static void tl_agree(const volatile struct vcpu_time_info *v1, const char *what)
{
	struct vcpu_time_info a, b;
	uint64_t tsc;
	int64_t d;

	tl_read(&rt_shared_info->vcpu_info[0].time, &a);
	tl_read(v1, &b);
	tsc = tl_rdtsc();
	d = tl_ns(&b, tsc) - tl_ns(&a, tsc);
	if (!(a.flags & b.flags & XEN_PVCLOCK_TSC_STABLE_BIT)) {
		rt_printf("%s: no TSC-stable flag here (%x, %x): records need not agree (%ld ns)\n",
			  what, a.flags, b.flags, (long)d);
		return;
	}
	rt_check(d >= -1 && d <= 1, what, (long)d);
}

void ap_main(void) __attribute__((noreturn, used));
void ap_main(void)
{
	for (;;)
		HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_down, 1, 0);
}

void test_main(void)
{
	struct vcpu_register_vcpu_info rv = {0, 128, 0};
	struct vcpu_info *vi;
	long r;

	rt_check(rt_events_init() == 0, "events (shared_info mapped)", 0);
	ctx.flags = VGCF_in_kernel;
	ctx.user_regs.rip = (uint64_t)ap_main;
	ctx.user_regs.rsp = (uint64_t)ap_stack + sizeof(ap_stack) - 8;
	ctx.user_regs.rflags = 0x202;
	ctx.kernel_ss = FLAT_KERNEL_SS;
	ctx.kernel_sp = ctx.user_regs.rsp;
	ctx.ctrlreg[3] = rt_start_info->pt_base - RT_VIRT_BASE;
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, &ctx);
	rt_check(r == 0, "initialise vCPU 1 (its record written)", r);
	tl_agree(&rt_shared_info->vcpu_info[1].time,
		 "vCPU 1's record agrees with vCPU 0's (initialised)");

	vi = rt_page_alloc();
	rt_check(vi != 0, "page for vCPU 1's vcpu_info", 0);
	rv.mfn = rt_virt_to_mfn(vi);
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, &rv);
	rt_check(r == 0, "register_vcpu_info for vCPU 1 (its record written again)", r);
	vi = (struct vcpu_info *)((char *)vi + 128);
	tl_agree(&vi->time, "vCPU 1's record agrees with vCPU 0's (vcpu_info moved)");
}
