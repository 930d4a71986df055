/*
 * pv-idle: boots, enables events, then blocks in SCHEDOP_block forever
 * (woken only by its own timer, every second): the idle domain that
 * tests/bench/pv measures keeld's per-domain memory with.
 */
#include "../../frontends/runtime/keel_guest.h"

void test_main(void)
{
	rt_events_init();
	rt_printf("idle\n");
	for (;;) {
		rt_set_timer(rt_now_ns() + 1000000000ULL, 0);
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	}
}
