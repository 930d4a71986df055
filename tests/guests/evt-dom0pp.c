/*
 * evt-dom0pp: event-channel ping-pong with a dom0 process over the store
 * port (left unbound for dom0 by the builder).  keel-evtchn-pong (built on
 * libkeelevtchn) answers each send; 200 rounds are timed and printed for
 * tests/bench/events and checked (every round answered) for
 * tests/integration/pv-events-dom0.sh.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

#define PP_ROUNDS 200

void test_main(void)
{
	uint32_t port = rt_start_info->store_evtchn;
	struct evtchn_send sd = {port};
	uint64_t t0, t1, c0;
	int i, ok;

	rt_check(rt_events_init() == 0, "events", 0);
	/* The first send may precede dom0's bind: retry until answered. */
	for (i = 0, ok = 0; i < 300 && !ok; i++) {
		rt_evtchn_op(EVTCHNOP_send, &sd);
		ok = rt_wait_event_count(port, 1, 100000000ULL);
	}
	rt_check(ok, "dom0 process answered", i);
	c0 = rt_event_counts[port];
	t0 = rt_now_ns();
	for (i = 0, ok = 1; i < PP_ROUNDS && ok; i++) {
		rt_evtchn_op(EVTCHNOP_send, &sd);
		ok = rt_wait_event_count(port, c0 + i + 1, 5000000000ULL);
	}
	t1 = rt_now_ns();
	rt_check(ok && i == PP_ROUNDS, "ping-pong with a dom0 process", i);
	rt_printf("evt-dom0-rtt rounds=%d per_round_ns=%lu\n", i,
		  (unsigned long)((t1 - t0) / (i ? i : 1)));
}
