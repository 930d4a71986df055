/*
 * pv-events: event channels and timers.  VIRQ_TIMER after a one-shot timer
 * (with SCHEDOP_block), an IPI to itself, masking and EVTCHNOP_unmask,
 * SCHEDOP_poll's timeout, a loopback interdomain pair, status and close,
 * and the refusals (double bind, closed port, bad vCPU, FIFO init for a bad vCPU, past
 * deadline with VCPU_SSHOTTMR_future).  FIFO is tested by evt-fifo.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

void test_main(void)
{
	struct evtchn_bind_virq bv = {VIRQ_TIMER, 0, 0};
	struct evtchn_bind_ipi bi = {0, 0};
	struct evtchn_alloc_unbound au = {DOMID_SELF, DOMID_SELF, 0};
	struct evtchn_bind_interdomain bd = {DOMID_SELF, 0, 0};
	struct evtchn_status st = {DOMID_SELF, 0, 0, 0, {{0}}};
	struct evtchn_send sd;
	struct evtchn_unmask um;
	struct evtchn_close cl;
	struct evtchn_init_control ic = {0};
	struct sched_poll sp;
	uint32_t pport;
	uint64_t t0, t1;
	long r;
	int i;

	rt_check(rt_events_init() == 0, "event callback registered, shared_info mapped", 0);
	ic.vcpu = 5; /* this guest stays on 2-level: only FIFO's refusal here */
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	/* -ENOENT with FIFO offered (KEEL_EVTCHN_FIFO=1), else -ENOSYS */
	rt_check(r == -XEN_ENOENT || r == -XEN_ENOSYS,
		 "REFUSED: FIFO control block for a vCPU that does not exist", r);

	/* Timer: VIRQ_TIMER arrives at the deadline while blocked. */
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &bv);
	rt_check(r == 0 && bv.port > 0, "bind VIRQ_TIMER", bv.port);
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &bv);
	rt_check(r == -XEN_EEXIST, "REFUSED: VIRQ_TIMER bound twice", r);
	t0 = rt_now_ns();
	r = rt_set_timer(t0 + 20000000, VCPU_SSHOTTMR_future);
	rt_check(r == 0, "one-shot timer in 20 ms", r);
	for (i = 0; i < 100 && !rt_event_counts[bv.port]; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	t1 = rt_now_ns();
	rt_check(rt_event_counts[bv.port] == 1, "VIRQ_TIMER delivered to the callback",
		 rt_event_counts[bv.port]);
	rt_check(t1 - t0 >= 20000000 && t1 - t0 < 2000000000ULL, "not before its deadline",
		 (long)(t1 - t0));
	r = rt_set_timer(t0, VCPU_SSHOTTMR_future);
	rt_check(r == -XEN_ETIME, "REFUSED: deadline already past (future flag)", r);

	/* IPI to ourselves: delivered on the way back from the send. */
	r = rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	rt_check(r == 0 && bi.port > 0, "bind IPI", bi.port);
	sd.port = bi.port;
	rt_evtchn_op(EVTCHNOP_send, &sd);
	rt_check(rt_event_counts[bi.port] == 1, "IPI delivered", rt_event_counts[bi.port]);
	rt_shared_info->evtchn_mask[bi.port / 64] |= 1ULL << (bi.port % 64);
	rt_evtchn_op(EVTCHNOP_send, &sd);
	rt_check(rt_event_counts[bi.port] == 1, "masked port not delivered",
		 rt_event_counts[bi.port]);
	um.port = bi.port;
	rt_evtchn_op(EVTCHNOP_unmask, &um);
	rt_check(rt_event_counts[bi.port] == 2, "unmask delivers the pending event",
		 rt_event_counts[bi.port]);
	bi.vcpu = 5;
	r = rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	rt_check(r == -XEN_ENOENT, "REFUSED: IPI to a vCPU that does not exist", r);

	/* Poll with a timeout on a quiet port. */
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	rt_check(r == 0 && au.port > 0, "alloc unbound", au.port);
	pport = au.port;
	sp.ports = (uint64_t)&pport;
	sp.nr_ports = 1;
	t0 = rt_now_ns();
	sp.timeout = t0 + 10000000;
	r = HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	t1 = rt_now_ns();
	rt_check(r == 0 && t1 - t0 >= 10000000, "poll times out after 10 ms", (long)(t1 - t0));

	/* Loopback interdomain pair. */
	bd.remote_port = au.port;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == 0 && bd.local_port > 0, "bind interdomain (loopback)", bd.local_port);
	sd.port = bd.local_port;
	rt_evtchn_op(EVTCHNOP_send, &sd);
	rt_check(rt_event_counts[au.port] == 1, "send reaches the other end",
		 rt_event_counts[au.port]);
	st.port = bd.local_port;
	r = rt_evtchn_op(EVTCHNOP_status, &st);
	rt_check(r == 0 && st.status == EVTCHNSTAT_interdomain && st.u.interdomain.port == au.port,
		 "status: interdomain", st.status);
	cl.port = bd.local_port;
	rt_check(rt_evtchn_op(EVTCHNOP_close, &cl) == 0, "close", 0);
	st.port = au.port;
	rt_evtchn_op(EVTCHNOP_status, &st);
	rt_check(st.status == EVTCHNSTAT_unbound, "the other end is unbound again", st.status);
	r = rt_evtchn_op(EVTCHNOP_send, &sd);
	rt_check(r == -XEN_EINVAL, "REFUSED: send on a closed port", r);
	r = rt_evtchn_op(EVTCHNOP_close, &cl);
	rt_check(r == -XEN_EINVAL, "REFUSED: close twice", r);
	r = HYPERCALL(__HYPERVISOR_event_channel_op, EVTCHNOP_send, 0xdead0000UL, 0);
	rt_check(r == -XEN_EFAULT, "REFUSED: bad argument pointer", r);
}
