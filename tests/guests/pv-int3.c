/*
 * pv-int3: every int3 reaches the guest's #BP handler exactly once, with
 * the return address after the instruction, while one-shot timers keep
 * interrupting the vCPU (each expiry a signal that can land while the
 * int3's exception is on its way into the shim).  iters=N on the command
 * line (default 20000).
 */
#include "pv_test.h"
#include "abi/event_channel.h"

static volatile uint64_t bp_count, bp_bad_rip;
extern char pv_int3_at[];

static void bp_handler(struct pvt_frame *f)
{
	bp_count++;
	if (f->rip != (uint64_t)pv_int3_at + 1)
		bp_bad_rip = f->rip;
}

void test_main(void)
{
	static const struct pvt_trap traps[] = {{3, 0, bp_handler}};
	struct evtchn_bind_virq bv = {VIRQ_TIMER, 0, 0};
	long iters = rt_cmdline_num("iters"), r, i, lost = 0, first_lost = -1;
	uint64_t c0;

	if (iters <= 0)
		iters = 20000;
	r = pvt_traps_install(traps, 1);
	rt_check(r == 0, "set_trap_table", r);
	rt_check(rt_events_init() == 0, "events", 0);
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &bv);
	rt_check(r == 0, "bind VIRQ_TIMER", bv.port);
	c0 = rt_event_counts[bv.port];
	for (i = 0; i < iters; i++) {
		uint64_t before = bp_count;

		if (!(i & 1))
			rt_set_timer(rt_now_ns() + 1000 * (uint64_t)(40 + i % 97), 0);
		for (volatile int k = 0; k < (int)(i % 13) * 400; k++)
			;
		__asm__ volatile("pv_int3_at: int3" ::: "memory");
		if (bp_count != before + 1) {
			lost++;
			if (first_lost < 0)
				first_lost = i;
		}
	}
	rt_printf("int3: %ld iterations, %llu timer upcalls, %ld lost (first at %ld)\n", iters,
		  (unsigned long long)(rt_event_counts[bv.port] - c0), lost, first_lost);
	rt_check(lost == 0, "every int3 reached the #BP handler", lost);
	rt_check(bp_bad_rip == 0, "the #BP frame's rip is after the int3", (long)bp_bad_rip);
	rt_check(rt_event_counts[bv.port] > c0, "timer upcalls arrived meanwhile", 0);
}
