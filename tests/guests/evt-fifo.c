/*
 * evt-fifo: the FIFO event-channel ABI.  The guest gives a control block
 * (init_control) and event-word pages (expand_array), then checks what
 * keeld writes: PENDING and LINKED bits, queue heads, links from the old
 * tail, ready bits per priority, the upcall flag, set_priority moving a
 * port to another queue, unmask relinking a pending port, a consumed
 * queue restarting at its head, SCHEDOP_poll and VIRQ_TIMER in FIFO mode
 * (re-raised after it was consumed: never linked to itself),
 * and the refusals (expand/set_priority before init, bad vCPU, bad
 * offset, foreign frame, control block twice, bad priority, a page-table
 * frame as event array, too many pages).  Upcalls stay masked: this test
 * is the consumer, reading the queues as a FIFO guest kernel does.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"

#define VIRT_BASE 0xffffffff80000000UL
#define P	  (1u << EVTCHN_FIFO_PENDING)
#define M	  (1u << EVTCHN_FIFO_MASKED)
#define L	  (1u << EVTCHN_FIFO_LINKED)

static char ctl_page[4096] __attribute__((aligned(4096)));
static event_word_t words[4][1024] __attribute__((aligned(4096)));

static uint64_t fifo_gfn(const void *p)
{
	return ((uint64_t)p - VIRT_BASE) >> 12;
}

/* Pop the head of queue q as a guest consumer does; 0 when empty. */
static uint32_t fifo_pop(struct evtchn_fifo_control_block *cb, uint32_t q)
{
	uint32_t port = __atomic_load_n(&cb->head[q], __ATOMIC_ACQUIRE), next;
	event_word_t *w;

	if (!port)
		return 0;
	w = &words[port / 1024][port % 1024];
	next = __atomic_load_n(w, __ATOMIC_ACQUIRE) & EVTCHN_FIFO_LINK_MASK;
	__atomic_store_n(&cb->head[q], next, __ATOMIC_RELEASE);
	if (!next)
		__atomic_fetch_and(&cb->ready, ~(1u << q), __ATOMIC_ACQ_REL);
	__atomic_fetch_and(w, ~(L | EVTCHN_FIFO_LINK_MASK), __ATOMIC_ACQ_REL);
	__atomic_fetch_and(w, ~P, __ATOMIC_ACQ_REL); /* acknowledge */
	return port;
}

static event_word_t *fifo_w(uint32_t port)
{
	return &words[port / 1024][port % 1024];
}

static long fifo_send(uint32_t port)
{
	struct evtchn_send sd = {port};

	return rt_evtchn_op(EVTCHNOP_send, &sd);
}

void test_main(void)
{
	struct vcpu_info *vi = &rt_shared_info->vcpu_info[0];
	struct evtchn_fifo_control_block *cb = (void *)ctl_page;
	struct evtchn_init_control ic = {fifo_gfn(ctl_page), 0, 0, 0, {0}};
	struct evtchn_expand_array ea = {fifo_gfn(words[0])};
	struct evtchn_set_priority sp = {1, 3};
	struct evtchn_bind_ipi bi = {0, 0};
	struct evtchn_alloc_unbound au = {DOMID_SELF, DOMID_SELF, 0};
	struct evtchn_bind_interdomain bd = {DOMID_SELF, 0, 0};
	struct evtchn_bind_virq bv = {VIRQ_TIMER, 0, 0};
	struct evtchn_unmask um;
	struct sched_poll pl;
	uint32_t a, b, c, d, e1, e2, t, port;
	uint64_t t0, t1;
	long r;
	int i;

	rt_check(rt_events_init() == 0, "events", 0);
	vi->evtchn_upcall_mask = 1; /* we consume the queues ourselves */
	for (i = 0; i < 1024; i++)
		words[0][i] = M; /* every port starts masked, as Linux sets it */

	r = rt_evtchn_op(EVTCHNOP_expand_array, &ea);
	rt_check(r == -XEN_EOPNOTSUPP, "REFUSED: expand_array before init_control", r);
	r = rt_evtchn_op(EVTCHNOP_set_priority, &sp);
	rt_check(r == -XEN_ENOSYS, "REFUSED: set_priority on 2-level", r);
	ic.vcpu = 5;
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	rt_check(r == -XEN_ENOENT, "REFUSED: init_control for a vCPU that does not exist", r);
	ic.vcpu = 0;
	ic.offset = 3;
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	rt_check(r == -XEN_EINVAL, "REFUSED: misaligned control block", r);
	ic.offset = 4088;
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	rt_check(r == -XEN_EINVAL, "REFUSED: control block past the page", r);
	ic.offset = 0;
	ic.control_gfn = 1ULL << 30;
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	rt_check(r == -XEN_EINVAL, "REFUSED: control block in a frame not ours", r);
	ic.control_gfn = fifo_gfn(ctl_page);
	/* Raised before the event words exist -- on 2-level (masked there), and
	 * between init_control and expand_array -- an event stays pending, as in
	 * Xen: its word reads PENDING once its page comes (Linux's resume binds
	 * ports in that window). */
	rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	e1 = bi.port;
	__atomic_fetch_or(&rt_shared_info->evtchn_mask[0], 1ULL << e1, __ATOMIC_SEQ_CST);
	fifo_send(e1);
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	rt_check(r == 0 && ic.link_bits == EVTCHN_FIFO_LINK_BITS, "init_control: link_bits 17",
		 ic.link_bits);
	r = rt_evtchn_op(EVTCHNOP_init_control, &ic);
	rt_check(r == -XEN_EINVAL, "REFUSED: control block twice", r);
	rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	e2 = bi.port;
	fifo_send(e2);
	r = rt_evtchn_op(EVTCHNOP_expand_array, &ea);
	rt_check(r == 0, "expand_array: ports 0..1023", r);
	rt_check(e1 && e2 && (*fifo_w(e1) & (P | M | L)) == (P | M),
		 "raised on 2-level: PENDING (masked) once its word exists", *fifo_w(e1));
	rt_check((*fifo_w(e2) & (P | M | L)) == (P | M),
		 "raised before expand_array: PENDING (masked) once its word exists", *fifo_w(e2));
	rt_check(cb->ready == 0, "masked early events: no queue ready", cb->ready);

	rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	a = bi.port;
	rt_evtchn_op(EVTCHNOP_bind_ipi, &bi);
	b = bi.port;
	rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);
	c = au.port;
	bd.remote_port = c;
	rt_evtchn_op(EVTCHNOP_bind_interdomain, &bd);
	d = bd.local_port;
	rt_check(a && b && c && d, "ports bound", d);

	/* An unmasked port: pending, linked, head of queue 7, ready, upcall. */
	__atomic_fetch_and(fifo_w(a), ~M, __ATOMIC_ACQ_REL);
	vi->evtchn_upcall_pending = 0;
	fifo_send(a);
	rt_check((*fifo_w(a) & (P | L)) == (P | L), "send: PENDING and LINKED", *fifo_w(a));
	rt_check(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT] == a, "head of the default queue",
		 cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]);
	rt_check(cb->ready == 1u << EVTCHN_FIFO_PRIORITY_DEFAULT, "ready bit of queue 7",
		 cb->ready);
	rt_check(vi->evtchn_upcall_pending == 1, "upcall raised", vi->evtchn_upcall_pending);

	/* A masked port: pending only. */
	fifo_send(b);
	rt_check((*fifo_w(b) & (P | L)) == P, "masked: pending, not linked", *fifo_w(b));
	/* set_priority 3, then unmask: linked into queue 3. */
	sp.port = b;
	sp.priority = 3;
	r = rt_evtchn_op(EVTCHNOP_set_priority, &sp);
	rt_check(r == 0, "set_priority 3", r);
	__atomic_fetch_and(fifo_w(b), ~M, __ATOMIC_ACQ_REL);
	um.port = b;
	rt_evtchn_op(EVTCHNOP_unmask, &um);
	rt_check(cb->head[3] == b && (cb->ready & (1u << 3)) && (*fifo_w(b) & L),
		 "unmask links the pending port into queue 3", cb->head[3]);

	/* The other end of a loopback pair joins queue 7 behind a. */
	__atomic_fetch_and(fifo_w(c), ~M, __ATOMIC_ACQ_REL);
	__atomic_fetch_and(fifo_w(d), ~M, __ATOMIC_ACQ_REL);
	fifo_send(d);
	rt_check((*fifo_w(a) & EVTCHN_FIFO_LINK_MASK) == c, "the old tail links to the new port",
		 *fifo_w(a) & EVTCHN_FIFO_LINK_MASK);

	/* Consume: queue 3 then queue 7 in order. */
	port = fifo_pop(cb, 3);
	rt_check(port == b && fifo_pop(cb, 3) == 0, "queue 3: b only", port);
	port = fifo_pop(cb, 7);
	rt_check(port == a, "queue 7: a first", port);
	port = fifo_pop(cb, 7);
	rt_check(port == c && cb->ready == 0, "queue 7: then c; nothing ready", port);

	/* The queue was consumed to its end: a new event restarts at head. */
	vi->evtchn_upcall_pending = 0;
	fifo_send(a);
	rt_check(cb->head[7] == a && cb->ready == 1u << 7 && vi->evtchn_upcall_pending,
		 "an emptied queue restarts at its head", cb->head[7]);

	/* SCHEDOP_poll sees FIFO pending bits. */
	pl.ports = (uint64_t)&a;
	pl.nr_ports = 1;
	t0 = rt_now_ns();
	pl.timeout = t0 + 1000000000ULL;
	r = HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &pl, 0);
	t1 = rt_now_ns();
	rt_check(r == 0 && t1 - t0 < 500000000ULL, "poll returns on a pending FIFO port",
		 (long)(t1 - t0));
	fifo_pop(cb, 7);
	pl.timeout = rt_now_ns() + 20000000ULL;
	t0 = rt_now_ns();
	HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &pl, 0);
	t1 = rt_now_ns();
	rt_check(t1 - t0 >= 20000000ULL, "poll waits on a consumed port", (long)(t1 - t0));

	/* VIRQ_TIMER through the FIFO. */
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &bv);
	t = bv.port;
	__atomic_fetch_and(fifo_w(t), ~M, __ATOMIC_ACQ_REL);
	rt_set_timer(rt_now_ns() + 5000000, 0);
	pl.ports = (uint64_t)&t;
	pl.timeout = rt_now_ns() + 2000000000ULL;
	HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &pl, 0);
	rt_check((*fifo_w(t) & (P | L)) == (P | L) && cb->head[7] == t, "VIRQ_TIMER queued",
		 *fifo_w(t));
	fifo_pop(cb, 7);
	/* Raised again while still its queue's (stale) tail: it must be
	 * queued at the head again, not linked to itself. */
	for (i = 0; i < 3; i++) {
		rt_set_timer(rt_now_ns() + 2000000, 0);
		pl.timeout = rt_now_ns() + 2000000000ULL;
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &pl, 0);
		if ((*fifo_w(t) & (P | L)) != (P | L) || cb->head[7] != t ||
		    (*fifo_w(t) & EVTCHN_FIFO_LINK_MASK) || !(cb->ready & (1u << 7)))
			break;
		fifo_pop(cb, 7);
	}
	rt_check(i == 3, "VIRQ_TIMER re-raised 3 times: queued at the head each time", i);

	/* Refusals. */
	sp.priority = 16;
	r = rt_evtchn_op(EVTCHNOP_set_priority, &sp);
	rt_check(r == -XEN_EINVAL, "REFUSED: priority 16", r);
	sp.port = 999;
	sp.priority = 1;
	r = rt_evtchn_op(EVTCHNOP_set_priority, &sp);
	rt_check(r == -XEN_EINVAL, "REFUSED: priority of an unbound port", r);
	ea.array_gfn = (rt_start_info->pt_base - VIRT_BASE) >> 12;
	r = rt_evtchn_op(EVTCHNOP_expand_array, &ea);
	rt_check(r == -XEN_EINVAL, "REFUSED: a page table as event array", r);
	for (i = 1; i < 4; i++) {
		ea.array_gfn = fifo_gfn(words[i]);
		r = rt_evtchn_op(EVTCHNOP_expand_array, &ea);
		if (r)
			break;
	}
	rt_check(i == 4, "expand_array to 4096 ports", i);
	ea.array_gfn = fifo_gfn(ctl_page + 0); /* any page: the limit comes first */
	r = rt_evtchn_op(EVTCHNOP_expand_array, &ea);
	rt_check(r == -XEN_ENOSPC, "REFUSED: more event pages than ports", r);
	vi->evtchn_upcall_mask = 0;
}
