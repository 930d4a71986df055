/*
 * pv-smp (run with --vcpus 3): bring up vCPU 1 with VCPUOP_initialise and
 * VCPUOP_up; it writes a flag, sends an IPI to vCPU 0 and takes itself
 * down.  Also the refusals: initialising twice, a context whose L4 is a
 * writable frame, a bad context pointer, up before initialise, a vCPU that
 * does not exist.  The context's debug registers go through set_debugreg's
 * checks, as in Xen's arch_set_info_guest: a value it refuses is dropped.
 */
#include "pv_test.h"
#include "abi/event_channel.h"

#define VIRT_BASE 0xffffffff80000000UL

static struct vcpu_guest_context ctx;
static char ap_stack[8192] __attribute__((aligned(16)));
static char data_page[4096] __attribute__((aligned(4096)));
static volatile uint32_t ap_flag, ipi_port;
static volatile long ap_dr[4]; /* DR0, DR1, DR6, DR7 as vCPU 1 reads them */

void ap_main(void) __attribute__((noreturn, used));
void ap_main(void)
{
	struct evtchn_send sd = {ipi_port};

	ap_dr[0] = HYPERCALL(__HYPERVISOR_get_debugreg, 0, 0, 0);
	ap_dr[1] = HYPERCALL(__HYPERVISOR_get_debugreg, 1, 0, 0);
	ap_dr[2] = HYPERCALL(__HYPERVISOR_get_debugreg, 6, 0, 0);
	ap_dr[3] = HYPERCALL(__HYPERVISOR_get_debugreg, 7, 0, 0);
	ap_flag = 0x5a;
	HYPERCALL(__HYPERVISOR_event_channel_op, EVTCHNOP_send, &sd, 0);
	for (;;)
		HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_down, 1, 0);
}

void test_main(void)
{
	struct evtchn_bind_ipi bi = {0, 0};
	uint64_t l4 = rt_start_info->pt_base - VIRT_BASE;
	long r;
	int i;

	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0) == 0, "vCPU 1 starts down", 0);
	r = rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	rt_check(r == 0, "IPI port for vCPU 0", bi.port);
	ipi_port = bi.port;
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_up, 2, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: up before initialise", r);
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_up, 7, 0);
	rt_check(r == -XEN_ENOENT, "REFUSED: a vCPU that does not exist", r);

	pvt_vcpu_context(&ctx, ap_main, ap_stack + sizeof(ap_stack));
	ctx.ctrlreg[3] = (uint64_t)data_page - VIRT_BASE; /* a writable frame */
	ctx.debugreg[0] = 0x0000800000000000UL;		  /* non-canonical: dropped */
	ctx.debugreg[1] = 0x1000;
	ctx.debugreg[6] = 0;	  /* reads back with its reserved bits */
	ctx.debugreg[7] = 0x2000; /* general detect: dropped, DR7 stays 0x400 */
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 2, &ctx);
	rt_check(r == -XEN_EINVAL, "REFUSED: a context whose L4 is a writable frame", r);
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 2, 0xdead0000UL);
	rt_check(r == -XEN_EFAULT, "REFUSED: a bad context pointer", r);

	ctx.ctrlreg[3] = l4;
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, &ctx);
	rt_check(r == 0, "initialise vCPU 1", r);
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, &ctx);
	rt_check(r == -XEN_EEXIST, "REFUSED: initialise twice", r);
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0);
	rt_check(r == 0, "up vCPU 1", r);
	for (i = 0; i < 200 && !rt_event_counts[bi.port]; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	rt_check(ap_flag == 0x5a, "vCPU 1 ran", ap_flag);
	rt_check(ap_dr[0] == 0, "REFUSED: initialise's non-canonical DR0 dropped", ap_dr[0]);
	rt_check(ap_dr[1] == 0x1000, "initialise's DR1 kept", ap_dr[1]);
	rt_check(ap_dr[2] == 0xffff0ff0, "initialise's DR6 0 reads 0xffff0ff0", ap_dr[2]);
	rt_check(ap_dr[3] == 0x400, "REFUSED: initialise's DR7 general detect dropped", ap_dr[3]);
	rt_check(rt_event_counts[bi.port] >= 1, "its IPI reached vCPU 0", rt_event_counts[bi.port]);
	for (i = 0; i < 2000 && HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0) == 1; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	rt_check(HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0) == 0,
		 "vCPU 1 took itself down", 0);
}
