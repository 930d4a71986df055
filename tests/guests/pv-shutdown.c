/*
 * pv-shutdown: SCHEDOP_shutdown with the reason given on the command line
 * ("reason=N"); keeld run's exit status tells the reason apart (0 poweroff,
 * 3 reboot, 1 crash).  An invalid reason is refused and the guest powers
 * off normally.
 */
#include "../../frontends/runtime/keel_guest.h"

void test_main(void)
{
	long reason = rt_cmdline_num("reason");
	struct sched_shutdown s = {reason < 0 ? 0 : (unsigned)reason};
	long r;

	rt_printf("shutting down with reason %u\n", s.reason);
	r = HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &s, 0);
	rt_check(s.reason > SHUTDOWN_soft_reset && r == -XEN_EINVAL,
		 "REFUSED: shutdown with an unknown reason", r);
}
