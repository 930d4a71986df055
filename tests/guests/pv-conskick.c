/*
 * pv-conskick: the console notifications of `keeld run`'s stand-in console
 * (no backend bound to the console port).  Output written on the console
 * ring and kicked is drained and the guest is told once that there is room
 * again; a kick with nothing written gets no notification, as xenconsoled
 * notifies only when it consumed something -- else a guest that kicks its
 * console port on every console event (some PV consoles do) livelocks
 * against the backend.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/console.h"
#include "abi/event_channel.h"

#define VIRT_BASE 0xffffffff80000000UL
#define NS_PER_MS 1000000ULL

static volatile struct xencons_interface *cons;
static uint32_t cons_port, timer_port;

static void kick(void)
{
	struct evtchn_send sd = {cons_port};

	rt_evtchn_op(EVTCHNOP_send, &sd);
}

static void sleep_ms(uint64_t ms)
{
	uint64_t deadline = rt_now_ns() + ms * NS_PER_MS;

	while (rt_now_ns() < deadline) {
		uint64_t seen = rt_event_counts[timer_port];

		if (rt_set_timer(deadline, 0) != 0)
			continue;
		while (rt_event_counts[timer_port] == seen && rt_now_ns() < deadline)
			HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	}
}

void test_main(void)
{
	struct evtchn_bind_virq timer = {VIRQ_TIMER, 0, 0};
	static const char line[] = "pv-conskick: on the ring\r\n";
	uint64_t before, after;
	uint32_t p;
	int i;

	cons = (volatile void *)(VIRT_BASE + (rt_start_info->console.domU.mfn << 12));
	cons_port = rt_start_info->console.domU.evtchn;
	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(rt_evtchn_op(EVTCHNOP_bind_virq, &timer) == 0 && timer.port < RT_MAX_PORTS,
		 "timer VIRQ", timer.port);
	timer_port = timer.port;
	rt_check(cons_port > 0 && cons_port < RT_MAX_PORTS, "console port", cons_port);

	/* Output: drained, and one notification that there is room. */
	before = rt_event_counts[cons_port];
	p = cons->out_prod;
	for (i = 0; line[i]; i++)
		cons->out[MASK_XENCONS_IDX(p + i, cons->out)] = line[i];
	__atomic_store_n(&cons->out_prod, p + i, __ATOMIC_RELEASE);
	kick();
	for (i = 0; i < 100 && rt_event_counts[cons_port] == before; i++)
		sleep_ms(2);
	rt_check(__atomic_load_n(&cons->out_cons, __ATOMIC_ACQUIRE) == cons->out_prod,
		 "output drained", cons->out_prod - cons->out_cons);
	rt_check(rt_event_counts[cons_port] - before >= 1, "notified once the output was consumed",
		 (long)(rt_event_counts[cons_port] - before));

	/* Kicks with nothing written: no notification comes back. */
	sleep_ms(5);
	before = rt_event_counts[cons_port];
	for (i = 0; i < 100; i++) {
		kick();
		sleep_ms(1);
	}
	sleep_ms(20);
	after = rt_event_counts[cons_port];
	rt_check(after == before, "100 kicks with nothing written: no notification",
		 (long)(after - before));
	rt_test_done();
}
