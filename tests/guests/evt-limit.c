/*
 * evt-limit: max_event_channels.  With limit=N on the command line (the
 * max port the toolstack set), allocating unbound ports must succeed up
 * to port N and then be refused with -ENOSPC; a closed port can be
 * allocated again.  Run by tests/integration/pv-events-limit.sh.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

void test_main(void)
{
	struct evtchn_alloc_unbound au = {DOMID_SELF, DOMID_SELF, 0};
	struct evtchn_close cl;
	long limit = rt_cmdline_num("limit"), r = 0;
	uint32_t last = 0;
	int n = 0;

	rt_check(limit > 2 && limit < 4096, "limit on the command line", limit);
	while (n < 5000) {
		r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
		if (r)
			break;
		last = au.port;
		n++;
	}
	rt_printf("allocated %d ports, the last %u\n", n, last);
	rt_check(r == -XEN_ENOSPC, "REFUSED past the limit: -ENOSPC", r);
	rt_check(last == (uint32_t)limit, "the last port is the limit", last);
	cl.port = 3;
	rt_check(rt_evtchn_op(EVTCHNOP_close, &cl) == 0, "close port 3", 0);
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	rt_check(r == 0 && au.port == 3, "a closed port is allocated again", au.port);
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	rt_check(r == -XEN_ENOSPC, "REFUSED again when full", r);
}
