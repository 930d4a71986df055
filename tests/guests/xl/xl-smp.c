/*
 * xl-smp (vcpus >= 2): a two-vCPU counting guest for save/restore.  vCPU 0
 * brings up vCPU 1 (VCPUOP_initialise + VCPUOP_up), which counts in a
 * loop of its own; vCPU 0 prints "tick N ap M" once a second (timer and
 * SCHEDOP_block, as xl-idle), M being vCPU 1's count in millions.  Both
 * numbers carry on across a save and restore.
 */
#include "../../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

#define XL_SMP_VIRT_BASE 0xffffffff80000000UL
#define XL_SMP_TICK_NS	 1000000000ULL

static struct vcpu_guest_context xl_smp_ctx;
static char xl_smp_stack[8192] __attribute__((aligned(16)));
static volatile uint64_t xl_smp_count;

void xl_smp_ap(void) __attribute__((noreturn, used));
void xl_smp_ap(void)
{
	for (;;)
		xl_smp_count++;
}

void test_main(void)
{
	struct evtchn_bind_virq timer = {VIRQ_TIMER, 0, 0};
	unsigned long n = 0;
	uint64_t next;
	long r;

	rt_printf("Hello from xl-smp\n");
	if (rt_events_init() < 0 || rt_evtchn_op(EVTCHNOP_bind_virq, &timer) < 0 ||
	    timer.port >= RT_MAX_PORTS) {
		rt_printf("xl-smp: no timer events\n");
		rt_shutdown(SHUTDOWN_crash);
	}
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
		uint64_t seen = rt_event_counts[timer.port];

		if (rt_now_ns() < next) {
			if (rt_set_timer(next, 0) == 0)
				while (rt_event_counts[timer.port] == seen)
					HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
			continue;
		}
		rt_printf("tick %lu ap %lu\n", ++n, (unsigned long)(xl_smp_count / 1000000));
		next += XL_SMP_TICK_NS;
	}
}
