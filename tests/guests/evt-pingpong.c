/*
 * evt-pingpong: an event channel between two guest domains.  Run twice by
 * tests/integration/pv-events-interdomain.sh: the server allocates ports
 * for its peer and prints their numbers; the toolstack starts the client
 * with them on its command line.  Checked here: Xen's refusals of
 * bind_interdomain (port not allocated for us, out of range, no such
 * domain, already bound, alloc_unbound for another domain), the status of
 * both ends, a ping-pong with the upcall delivered in the other domain,
 * then the same with both ports masked (poll and take the pending bit: no
 * upcall, no iret -- two exits per side instead of three), close turning
 * the remote end unbound, and (server) the client's death turning the end
 * it still held unbound again.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

/* Wait (polling the port with short timeouts) until its count passes
 * `want` or timeout_ns passes; returns 1 if it did. */
static uint32_t evt_status(uint32_t port, struct evtchn_status *st)
{
	st->dom = DOMID_SELF;
	st->port = port;
	if (rt_evtchn_op(EVTCHNOP_status, st))
		return 0xffffffff;
	return st->status;
}

#define EVT_ROUNDS 200

/* Phase 2 of the ping-pong: the port masked, so no upcall (and no iret)
 * -- the event is seen by polling and taken by clearing its pending bit,
 * as a polling consumer (Linux's xen_poll_irq) does. */
static void evt_mask(uint32_t port)
{
	__atomic_fetch_or(&rt_shared_info->evtchn_mask[port / 64], 1ULL << (port % 64),
			  __ATOMIC_SEQ_CST);
}

static int evt_take_pending(uint32_t port, uint64_t timeout_ns)
{
	uint64_t bit = 1ULL << (port % 64), end = rt_now_ns() + timeout_ns;
	struct sched_poll sp = {(uint64_t)&port, 1, 0, 0};

	while (!(__atomic_load_n(&rt_shared_info->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) &
		 bit)) {
		if (rt_now_ns() > end)
			return 0;
		sp.timeout = rt_now_ns() + 5000000;
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	}
	__atomic_fetch_and(&rt_shared_info->evtchn_pending[port / 64], ~bit, __ATOMIC_SEQ_CST);
	return 1;
}

static void evt_server(uint16_t peer)
{
	struct evtchn_alloc_unbound au = {DOMID_SELF, peer, 0};
	struct evtchn_status st;
	struct evtchn_send sd;
	uint32_t n, p, m;
	uint64_t t0;
	long r;
	int i, ok = 1, early;

	au.dom = peer;
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	rt_check(r == -XEN_EPERM, "REFUSED: alloc_unbound in another domain", r);
	au.dom = DOMID_SELF;
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	n = au.port;
	rt_check(r == 0 && n > 0, "alloc unbound for the peer (ping-pong)", n);
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	p = au.port;
	rt_check(r == 0 && p > 0, "alloc unbound for the peer (held until it dies)", p);
	au.remote_dom = DOMID_SELF;
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	m = au.port;
	rt_check(r == 0 && m > 0, "alloc unbound for ourselves", m);
	rt_check(evt_status(n, &st) == EVTCHNSTAT_unbound && st.u.unbound.dom == peer,
		 "status: unbound for the peer", st.u.unbound.dom);
	rt_printf("evt-ports port=%u death=%u other=%u\n", n, p, m);

	/* The client's pings; each answered at once. */
	rt_check(rt_wait_event_count(n, 1, 60000000000ULL), "first ping from the other domain",
		 rt_event_counts[n]);
	rt_check(evt_status(n, &st) == EVTCHNSTAT_interdomain && st.u.interdomain.dom == peer,
		 "status: interdomain to the peer", st.u.interdomain.port);
	/* Checked now, not after the ping-pong: the script may destroy the
	 * client as soon as it has finished. It bound p before its first ping. */
	rt_check(evt_status(p, &st) == EVTCHNSTAT_interdomain, "peer bound the second port",
		 st.status);
	t0 = rt_now_ns();
	sd.port = n;
	for (i = 0; i < EVT_ROUNDS && ok; i++) {
		ok = rt_wait_event_count(n, (uint64_t)i + 1, 5000000000ULL);
		if (ok)
			ok = rt_evtchn_op(EVTCHNOP_send, &sd) == 0;
	}
	rt_check(ok && i == EVT_ROUNDS, "answered every ping", i);
	rt_printf("server: %d rounds in %lu us\n", i, (unsigned long)((rt_now_ns() - t0) / 1000));

	/* Phase 2, masked.  The client's first masked ping may have come
	 * through the upcall before we masked: it counts. */
	evt_mask(n);
	early = (int)(rt_event_counts[n] - EVT_ROUNDS);
	for (i = 0; i < EVT_ROUNDS && ok; i++) {
		if (early > 0)
			early--;
		else
			ok = evt_take_pending(n, 5000000000ULL);
		if (ok)
			ok = rt_evtchn_op(EVTCHNOP_send, &sd) == 0;
	}
	rt_check(ok && i == EVT_ROUNDS, "answered every masked ping", i);

	/* The client closes its end: ours becomes unbound for it again. */
	for (i = 0; i < 3000 && evt_status(n, &st) != EVTCHNSTAT_unbound; i++)
		rt_wait_event_count(m, ~0ULL, 10000000);
	rt_check(st.status == EVTCHNSTAT_unbound && st.u.unbound.dom == peer,
		 "peer closed: our end unbound for it again", st.status);
	/* The client is destroyed holding port p: it must not dangle. */
	for (i = 0; i < 6000 && evt_status(p, &st) != EVTCHNSTAT_unbound; i++)
		rt_wait_event_count(m, ~0ULL, 10000000);
	rt_check(st.status == EVTCHNSTAT_unbound && st.u.unbound.dom == peer,
		 "peer destroyed: its channel's end unbound again", st.status);
	sd.port = p;
	r = rt_evtchn_op(EVTCHNOP_send, &sd);
	rt_check(r == 0, "send to a dead peer's port is dropped", r);
}

static void evt_client(uint16_t peer, uint32_t n, uint32_t p, uint32_t m)
{
	struct evtchn_bind_interdomain bd = {peer, 0, 0};
	struct evtchn_status st;
	struct evtchn_send sd;
	struct evtchn_close cl;
	uint32_t l, q;
	uint64_t t0, t1, c0;
	long r;
	int i, ok = 1;

	bd.remote_port = m;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == -XEN_EINVAL, "REFUSED: remote port allocated for another domain", r);
	bd.remote_port = 4000;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == -XEN_EINVAL, "REFUSED: remote port not allocated", r);
	bd.remote_port = 1u << 20;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == -XEN_EINVAL, "REFUSED: remote port out of range", r);
	bd.remote_dom = 999;
	bd.remote_port = n;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == -XEN_ESRCH, "REFUSED: no such domain", r);
	bd.remote_dom = DOMID_SELF;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == -XEN_EINVAL, "REFUSED: DOMID_SELF names us, not the peer", r);

	bd.remote_dom = peer;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	l = bd.local_port;
	rt_check(r == 0 && l > 0, "bind interdomain to the other domain", l);
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	rt_check(r == -XEN_EINVAL, "REFUSED: remote port already bound", r);
	rt_check(evt_status(l, &st) == EVTCHNSTAT_interdomain && st.u.interdomain.dom == peer &&
			 st.u.interdomain.port == n,
		 "status: interdomain (peer, its port)", st.u.interdomain.port);
	bd.remote_port = p;
	r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	q = bd.local_port;
	rt_check(r == 0 && q > 0, "bind the second port (kept until we die)", q);
	/* Xen leaves a freshly bound port pending (lost notifications). */
	rt_check(rt_wait_event_count(l, 1, 1000000000ULL), "new port starts pending",
		 rt_event_counts[l]);

	c0 = rt_event_counts[l];
	sd.port = l;
	t0 = rt_now_ns();
	for (i = 0; i < EVT_ROUNDS && ok; i++) {
		ok = rt_evtchn_op(EVTCHNOP_send, &sd) == 0;
		if (ok)
			ok = rt_wait_event_count(l, c0 + i + 1, 5000000000ULL);
	}
	t1 = rt_now_ns();
	rt_check(ok && i == EVT_ROUNDS, "ping-pong with the other domain", i);
	rt_printf("evt-rtt rounds=%d total_ns=%lu per_round_ns=%lu\n", i, (unsigned long)(t1 - t0),
		  (unsigned long)((t1 - t0) / (i ? i : 1)));

	/* Phase 2: the same with our port masked (poll, take the pending
	 * bit; no upcall, no iret). */
	evt_mask(l);
	t0 = rt_now_ns();
	for (i = 0; i < EVT_ROUNDS && ok; i++) {
		ok = rt_evtchn_op(EVTCHNOP_send, &sd) == 0;
		if (ok)
			ok = evt_take_pending(l, 5000000000ULL);
	}
	t1 = rt_now_ns();
	rt_check(ok && i == EVT_ROUNDS, "masked ping-pong (poll, no upcall)", i);
	rt_printf("evt-rtt-masked rounds=%d total_ns=%lu per_round_ns=%lu\n", i,
		  (unsigned long)(t1 - t0), (unsigned long)((t1 - t0) / (i ? i : 1)));

	cl.port = l;
	r = rt_evtchn_op(EVTCHNOP_close, &cl);
	rt_check(r == 0, "close our end", r);
	r = rt_evtchn_op(EVTCHNOP_send, &sd);
	rt_check(r == -XEN_EINVAL, "REFUSED: send on the closed port", r);
	rt_check(evt_status(q, &st) == EVTCHNSTAT_interdomain, "second port still bound",
		 st.status);
}

void test_main(void)
{
	long peer = rt_cmdline_num("peer"), n = rt_cmdline_num("port");

	rt_check(rt_events_init() == 0, "event callback registered, shared_info mapped", 0);
	rt_check(peer > 0 && peer < 0x7ff0, "peer domain on the command line", peer);
	if (peer <= 0)
		return;
	if (n < 0)
		evt_server((uint16_t)peer);
	else
		evt_client((uint16_t)peer, (uint32_t)n, (uint32_t)rt_cmdline_num("death"),
			   (uint32_t)rt_cmdline_num("other"));
}
