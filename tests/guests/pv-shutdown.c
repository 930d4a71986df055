/*
 * pv-shutdown: SCHEDOP_shutdown with the reason given on the command line
 * ("reason=N"); keeld run's exit status tells the reason apart (0 poweroff,
 * 3 reboot, 1 crash).  An invalid reason is refused and the guest powers
 * off normally.
 */
#include "../../frontends/runtime/keel_guest.h"

void test_main(void)
{
	const char *c = rt_start_info->cmd_line;
	struct sched_shutdown s = {0};
	long r;

	while (*c && (c[0] != 'r' || c[1] != 'e' || c[6] != '='))
		c++;
	if (*c)
		for (c += 7; *c >= '0' && *c <= '9'; c++)
			s.reason = s.reason * 10 + (*c - '0');
	rt_printf("shutting down with reason %u\n", s.reason);
	r = HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &s, 0);
	rt_check(s.reason > SHUTDOWN_soft_reset && r == -XEN_EINVAL,
		 "REFUSED: shutdown with an unknown reason", r);
}
