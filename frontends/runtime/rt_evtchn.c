/*
 * Event-channel helpers for the runtime's frontends (evtchn.h): ports a
 * driver owns stay masked, so the upcall handler in events.c leaves them
 * alone; the driver polls them with SCHEDOP_poll (which wakes on the
 * pending bit whatever the mask) and clears the bit itself.  This is the
 * waiting discipline Mini-OS-like single-threaded kernels use, and it has
 * no lost-wake-up window: the pending bit is the only state.
 */
#include "evtchn.h"
#include "keel_guest.h"

static volatile uint64_t *rt_evtchn_word(uint64_t *words, uint32_t port)
{
	return (volatile uint64_t *)&words[port / 64];
}

void rt_evtchn_mask(uint32_t port)
{
	if (port >= 64 * 64)
		return;
	__atomic_fetch_or(rt_evtchn_word(rt_shared_info->evtchn_mask, port), 1ULL << (port % 64),
			  __ATOMIC_SEQ_CST);
}

int rt_evtchn_test_clear(uint32_t port)
{
	uint64_t bit = 1ULL << (port % 64), old;

	if (port >= 64 * 64)
		return 0;
	old = __atomic_fetch_and(rt_evtchn_word(rt_shared_info->evtchn_pending, port), ~bit,
				 __ATOMIC_SEQ_CST);
	return (old & bit) != 0;
}

int rt_evtchn_alloc_unbound(uint16_t remote_dom, uint32_t *port)
{
	struct evtchn_alloc_unbound a = {DOMID_SELF, remote_dom, 0};
	long r;

	r = rt_events_init();
	if (r)
		return (int)r;
	r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &a);
	if (r)
		return (int)r;
	rt_evtchn_mask(a.port);
	rt_evtchn_test_clear(a.port);
	*port = a.port;
	return 0;
}

int rt_evtchn_notify(uint32_t port)
{
	struct evtchn_send s = {port};

	return (int)rt_evtchn_op(EVTCHNOP_send, &s);
}

int rt_evtchn_close(uint32_t port)
{
	struct evtchn_close c = {port};

	return (int)rt_evtchn_op(EVTCHNOP_close, &c);
}

int rt_evtchn_wait(const uint32_t *ports, unsigned n, uint64_t timeout_ns)
{
	uint64_t deadline = timeout_ns ? rt_now_ns() + timeout_ns : 0;

	if (n > 128)
		return -XEN_EINVAL;
	for (;;) {
		struct sched_poll sp = {(uint64_t)ports, n, 0, deadline};
		int fired = 0;

		for (unsigned i = 0; i < n; i++)
			if (rt_evtchn_test_clear(ports[i]))
				fired |= (int)(1u << (i < 31 ? i : 30));
		if (fired)
			return fired;
		if (deadline && rt_now_ns() >= deadline)
			return -XEN_ETIME;
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	}
}

void rt_sleep_ns(uint64_t ns)
{
	uint64_t end = rt_now_ns() + ns;

	while (rt_now_ns() < end) {
		struct sched_poll sp = {0, 0, 0, end};

		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	}
}
