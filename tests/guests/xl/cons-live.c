/*
 * cons-live: a guest for console-live.sh that writes on its PV console
 * ring as Linux's hvc_xen does (the ring in start_info's console.domU page,
 * not console_io), so what reaches `xl console` after the first lines
 * depends on keel-consoled serving the ring.  At once it prints
 * "cons-live: first"; after delay= seconds (default 5) "cons-live: second";
 * then lines=N numbered lines "cons-live line K" and "cons-live: done", and
 * stays up (asleep) until destroyed.
 */
#include "../../../frontends/runtime/keel_guest.h"
#include "abi/console.h"
#include "abi/event_channel.h"

#define VIRT_BASE 0xffffffff80000000UL
#define NS_PER_S  1000000000ULL

static volatile struct xencons_interface *cons;
static uint32_t cons_port, timer_port;

static void cons_live_notify(void)
{
	struct evtchn_send sd = {cons_port};

	rt_evtchn_op(EVTCHNOP_send, &sd);
}

/* Asleep until @deadline (pvclock ns): a one-shot timer and SCHEDOP_block, as xl-idle. */
static void cons_live_sleep_until(uint64_t deadline)
{
	while (rt_now_ns() < deadline) {
		uint64_t seen = rt_event_counts[timer_port];

		if (rt_set_timer(deadline, 0) != 0)
			continue; /* in the past already: the loop ends */
		while (rt_event_counts[timer_port] == seen && rt_now_ns() < deadline)
			HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	}
}

/* A string on the output ring, waiting for room (the backend drains it). */
static void cons_live_write(const char *s)
{
	while (*s) {
		uint32_t c = __atomic_load_n(&cons->out_cons, __ATOMIC_ACQUIRE);
		uint32_t p = cons->out_prod;

		if (p - c >= sizeof(cons->out)) {
			cons_live_notify();
			cons_live_sleep_until(rt_now_ns() + NS_PER_S / 100);
			continue;
		}
		cons->out[MASK_XENCONS_IDX(p, cons->out)] = *s++;
		__atomic_store_n(&cons->out_prod, p + 1, __ATOMIC_RELEASE);
	}
	cons_live_notify();
}

void test_main(void)
{
	long delay = rt_cmdline_num("delay"), lines = rt_cmdline_num("lines");
	struct evtchn_bind_virq timer = {VIRQ_TIMER, 0, 0};
	char buf[64];

	if (delay < 0)
		delay = 5;
	cons = (volatile void *)(VIRT_BASE + (rt_start_info->console.domU.mfn << 12));
	cons_port = rt_start_info->console.domU.evtchn;
	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(rt_evtchn_op(EVTCHNOP_bind_virq, &timer) == 0 && timer.port < RT_MAX_PORTS,
		 "timer VIRQ", timer.port);
	timer_port = timer.port;
	cons_live_write("cons-live: first\r\n");
	cons_live_sleep_until(rt_now_ns() + (uint64_t)delay * NS_PER_S);
	cons_live_write("cons-live: second\r\n");
	for (long i = 1; i <= lines; i++) {
		rt_snprintf(buf, sizeof(buf), "cons-live line %ld\r\n", i);
		cons_live_write(buf);
	}
	cons_live_write("cons-live: done\r\n");
	for (;;)
		cons_live_sleep_until(rt_now_ns() + 60 * NS_PER_S);
}
