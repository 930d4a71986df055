/*
 * xl-smp (vcpus >= 2): a two-vCPU counting guest for save/restore.  vCPU 0
 * brings up vCPU 1 (VCPUOP_initialise + VCPUOP_up), which counts in a
 * loop of its own and, between runs of counting, naps 1 ms on its own
 * one-shot timer and VIRQ_TIMER port (per-vCPU hypervisor state that a
 * resume in a new life loses and the runtime binds again); vCPU 0 prints
 * "tick N ap M" once a second (asleep in between, as xl-idle), M being
 * vCPU 1's count in millions.  It answers Xen's suspend protocol (the
 * runtime's suspend.c), and both numbers carry on across a save and
 * restore.  vCPU 1 stops counting if its timer stays silent for a second
 * outside a suspend ("vCPU 1 lost its timer"), so a resume that forgot it
 * shows.
 */
#include "../../../frontends/runtime/evtchn.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/suspend.h"

#define XL_SMP_VIRT_BASE 0xffffffff80000000UL
#define XL_SMP_TICK_NS	 1000000000ULL
#define XL_SMP_AP_RUN	 (1u << 22)  /* counts between naps */
#define XL_SMP_AP_NAP_NS 1000000ULL  /* a nap */
#define XL_SMP_AP_LATE	 20000000ULL /* a timer this late is a miss */
#define XL_SMP_AP_GIVEUP 50	     /* misses in a row: lost */

static struct vcpu_guest_context xl_smp_ctx;
static char xl_smp_stack[8192] __attribute__((aligned(16)));
static volatile uint64_t xl_smp_count, xl_smp_naps;
static volatile int xl_smp_lost;

/* One nap on vCPU 1's timer: 1 if the timer woke it, 0 if not. */
static int xl_smp_nap(void)
{
	long port = rt_timer_port(1);
	uint32_t p;

	if (port < 0)
		return 0;
	p = (uint32_t)port;
	if (rt_set_timer_on(1, rt_now_ns() + XL_SMP_AP_NAP_NS, 0))
		return 0;
	return rt_evtchn_wait(&p, 1, XL_SMP_AP_LATE) > 0;
}

void xl_smp_ap(void) __attribute__((noreturn, used));
void xl_smp_ap(void)
{
	unsigned missed = 0;

	for (;;) {
		for (unsigned i = 0; i < XL_SMP_AP_RUN; i++)
			xl_smp_count++;
		/* while vCPU 0 suspends, the port number may be stale: count on */
		if (rt_suspending())
			continue;
		if (xl_smp_nap()) {
			xl_smp_naps++;
			missed = 0;
		} else if (!rt_suspending() && ++missed >= XL_SMP_AP_GIVEUP) {
			xl_smp_lost = 1;
			for (;;)
				__asm__ volatile("pause");
		}
	}
}

void test_main(void)
{
	unsigned long n = 0;
	int lost_told = 0, s;
	uint64_t next;
	long r;

	rt_printf("Hello from xl-smp\n");
	if (rt_timer_port(0) < 0) {
		rt_printf("xl-smp: no timer events\n");
		rt_shutdown(SHUTDOWN_crash);
	}
	s = rt_suspend_enable();
	if (s < 0)
		rt_printf("xl-smp: no suspend support (%d)\n", s);
	xl_smp_ctx.flags = VGCF_in_kernel;
	xl_smp_ctx.user_regs.rip = (uint64_t)xl_smp_ap;
	xl_smp_ctx.user_regs.rsp = (uint64_t)xl_smp_stack + sizeof(xl_smp_stack) - 8;
	xl_smp_ctx.user_regs.rflags = 0x202;
	xl_smp_ctx.kernel_ss = FLAT_KERNEL_SS;
	xl_smp_ctx.kernel_sp = xl_smp_ctx.user_regs.rsp;
	xl_smp_ctx.ctrlreg[3] = rt_start_info->pt_base - XL_SMP_VIRT_BASE;
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, &xl_smp_ctx);
	if (r == 0)
		r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0);
	rt_printf("vCPU 1 %s (%ld)\n", r == 0 ? "up" : "failed", r);
	next = rt_now_ns() + XL_SMP_TICK_NS;
	for (;;) {
		if (rt_now_ns() < next) {
			s = rt_suspend_sleep_until(next);
			if (s == RT_SUSPEND_RESUMED) {
				rt_printf("xl-smp: resumed after tick %lu (suspend %u), vCPU 1 "
					  "napped %lu times\n",
					  n, rt_suspend_count(), (unsigned long)xl_smp_naps);
				next = rt_now_ns() + XL_SMP_TICK_NS;
			} else if (s == RT_SUSPEND_CANCELLED) {
				rt_printf("xl-smp: suspend cancelled after tick %lu\n", n);
			} else if (s < 0) {
				rt_printf("xl-smp: suspend request failed (%d)\n", s);
			}
			continue;
		}
		if (xl_smp_lost && !lost_told) {
			rt_printf("xl-smp: vCPU 1 lost its timer after %lu naps\n",
				  (unsigned long)xl_smp_naps);
			lost_told = 1;
		}
		rt_printf("tick %lu ap %lu\n", ++n, (unsigned long)(xl_smp_count / 1000000));
		next += XL_SMP_TICK_NS;
	}
}
