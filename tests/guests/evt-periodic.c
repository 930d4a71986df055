/*
 * evt-periodic: VCPUOP_set_periodic_timer / stop_periodic_timer.  Xen's
 * refusals (a period under 1 ms or past 2^62 ns, a vCPU that does not
 * exist); a 10 ms periodic timer counted over 2 s of guest system time
 * (keeld's CLOCK_MONOTONIC: the host clock) while blocked in
 * SCHEDOP_block: never more ticks than periods, at least a fifth of them
 * (a one-shot timer would give one); the count and the gaps between ticks
 * printed for the script, which wants every period counted (keeld keeps
 * the ticks on the period's grid however late each delivery is) but for
 * those inside a gap of two periods or more, when the vCPU did not run
 * and the ticks due were one pending event ("coalesced");
 * no tick after stop_periodic_timer; a one-shot timer still fires while a
 * slow periodic one runs.  Run by tests/integration/pv-events-periodic.sh.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

#define EVT_PERIOD_NS	10000000ULL
#define EVT_INTERVAL_NS 2000000000ULL

static long evt_periodic(unsigned vcpu, uint64_t period)
{
	return HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, vcpu, &period);
}

/* Sleep to guest system time `end` without waiting for the timer (a poll
 * on a port nothing signals, with a timeout). */
static void evt_sleep_until(uint64_t end)
{
	uint32_t port = rt_start_info->store_evtchn;
	struct sched_poll sp = {(uint64_t)&port, 1, 0, end};

	while (rt_now_ns() < end)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
}

void test_main(void)
{
	struct evtchn_bind_virq bv = {VIRQ_TIMER, 0, 0};
	uint64_t armed, start, end, last, now, min = ~0ULL, max = 0, c0, c, seen, spanned = 0;
	long r, ticks;

	rt_check(rt_events_init() == 0, "events", 0);
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &bv);
	rt_check(r == 0, "bind VIRQ_TIMER", bv.port);

	rt_check(evt_periodic(0, 999999) == -XEN_EINVAL, "REFUSED: period under 1 ms", 0);
	rt_check(evt_periodic(0, (1ULL << 62) + 1) == -XEN_EINVAL, "REFUSED: period past 2^62 ns",
		 0);
	rt_check(evt_periodic(99, EVT_PERIOD_NS) == -XEN_ENOENT, "REFUSED: no such vCPU", 0);
	rt_check(HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, 0xdead0000UL) ==
			 -XEN_EFAULT,
		 "REFUSED: unreadable argument", 0);

	c0 = rt_event_counts[bv.port];
	/* keeld's period grid starts inside the call: before it bounds the
	 * ticks from above, after it (start) from below */
	armed = rt_now_ns();
	r = evt_periodic(0, EVT_PERIOD_NS);
	rt_check(r == 0, "periodic timer, 10 ms", r);
	start = last = rt_now_ns();
	end = start + EVT_INTERVAL_NS;
	seen = c0;
	while ((now = rt_now_ns()) < end) {
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
		c = rt_event_counts[bv.port];
		if (c != seen) {
			now = rt_now_ns();
			if (seen != c0) {
				min = now - last < min ? now - last : min;
				max = now - last > max ? now - last : max;
				/* a gap of k whole periods with one upcall: the
				 * vCPU did not run, and the ticks due meanwhile
				 * were one pending VIRQ (as on Xen) */
				if (now - last >= 2 * EVT_PERIOD_NS)
					spanned += (now - last) / EVT_PERIOD_NS - 1;
			}
			last = now;
			seen = c;
		}
	}
	ticks = (long)(rt_event_counts[bv.port] - c0);
	/* the window the count covers ends here, not at `end`: the last
	 * block may return late, with later periods' ticks counted */
	now = rt_now_ns();
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0);
	rt_check(r == 0, "stop_periodic_timer", r);
	rt_printf("evt-periodic period_ns=%lu interval_ns=%lu ticks=%ld expected=%lu "
		  "min_gap_ns=%lu max_gap_ns=%lu coalesced=%lu most=%lu\n",
		  (unsigned long)EVT_PERIOD_NS, (unsigned long)(now - start), ticks,
		  (unsigned long)((now - start) / EVT_PERIOD_NS), (unsigned long)min,
		  (unsigned long)max, (unsigned long)spanned,
		  (unsigned long)((now - armed) / EVT_PERIOD_NS + 1));
	rt_check(ticks <= (long)((now - armed) / EVT_PERIOD_NS) + 1, "no more ticks than periods",
		 ticks);
	rt_check(ticks >= (long)(EVT_INTERVAL_NS / EVT_PERIOD_NS) / 5,
		 "at least a fifth of the periods ticked", ticks);

	c = rt_event_counts[bv.port];
	now = rt_now_ns();
	evt_sleep_until(now + 100000000ULL);
	rt_check(rt_event_counts[bv.port] == c, "no tick after stop_periodic_timer",
		 (long)(rt_event_counts[bv.port] - c));

	/* A one-shot deadline well before the next periodic tick. */
	r = evt_periodic(0, 400000000ULL);
	rt_check(r == 0, "periodic timer, 400 ms", r);
	c = rt_event_counts[bv.port];
	now = rt_now_ns();
	rt_set_timer(now + 5000000ULL, 0);
	for (int i = 0; i < 1000 && rt_event_counts[bv.port] == c; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	rt_check(rt_event_counts[bv.port] == c + 1 && rt_now_ns() - now < 300000000ULL,
		 "one-shot fires before the slow periodic tick", (long)(rt_now_ns() - now));
	c = rt_event_counts[bv.port];
	evt_sleep_until(now + 450000000ULL);
	rt_check(rt_event_counts[bv.port] >= c + 1, "then the periodic tick",
		 (long)(rt_event_counts[bv.port] - c));
	rt_check(HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0) == 0, "stopped",
		 0);
}
