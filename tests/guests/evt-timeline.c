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
#include "pv_test.h"

static struct vcpu_guest_context ctx;
static char ap_stack[4096] __attribute__((aligned(16)));

/* vCPU 1's record against vCPU 0's, at one TSC value. */
static void tl_agree(const volatile struct vcpu_time_info *v1, const char *what)
{
	struct vcpu_time_info a, b;
	uint64_t tsc;
	int64_t d;

	pvt_time_read(&rt_shared_info->vcpu_info[0].time, &a);
	pvt_time_read(v1, &b);
	tsc = pvt_rdtsc();
	d = (int64_t)(pvt_time_ns(&b, tsc) - pvt_time_ns(&a, tsc));
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
	pvt_vcpu_context(&ctx, ap_main, ap_stack + sizeof(ap_stack));
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
