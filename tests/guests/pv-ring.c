/*
 * pv-ring: talk to a dom0 process through the store page and the store
 * event channel (as a guest talks to xenstored): put a string in the page,
 * notify, wait for the answer dom0 writes back (keelctl echo-store).
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

#define VIRT_BASE 0xffffffff80000000UL

void test_main(void)
{
	volatile char *page = (volatile char *)(VIRT_BASE + (rt_start_info->store_mfn << 12));
	uint32_t port = rt_start_info->store_evtchn;
	const char *msg = "hello dom0", *want = "HELLO DOM0";
	struct evtchn_send sd = {port};
	struct sched_poll sp = {(uint64_t)&port, 1, 0, 0};
	int i, ok = 1;

	rt_check(rt_events_init() == 0, "events", 0);
	for (i = 0; msg[i]; i++)
		page[i] = msg[i];
	page[i] = 0;
	page[2048] = 0;
	for (i = 0; i < 300 && !page[2048]; i++) {
		rt_evtchn_op(EVTCHNOP_send, &sd);
		sp.timeout = rt_now_ns() + 100000000ULL;
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	}
	for (i = 0; want[i]; i++)
		ok &= page[2048 + i] == want[i];
	rt_check(ok, "dom0 answered through the shared page", page[2048]);
	for (i = 0; i < 100 && !rt_event_counts[port]; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	rt_check(rt_event_counts[port] >= 1, "dom0's notification arrived", rt_event_counts[port]);
}
