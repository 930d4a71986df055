/*
 * FIFO event channels (Xen's FIFO ABI, which Linux prefers): once a guest
 * calls EVTCHNOP_init_control, each port has a 32-bit event word (PENDING,
 * MASKED, LINKED, BUSY over a 17-bit link) in pages the guest gives with
 * EVTCHNOP_expand_array, and each vCPU a control block (a ready bit per
 * priority queue, a head per queue).  Raising a port sets PENDING; an
 * unmasked, unlinked port is appended to its vCPU's queue of its priority
 * (the old tail's link, or the head when the guest has emptied the queue),
 * and an empty queue's ready bit raises the upcall.  The port table and
 * tails live here; the words and control blocks in guest memory, changed
 * with atomics because the guest consumes them concurrently.
 *
 * State is kept per domain beside struct domain (so its layout, which
 * save/restore records, is unchanged); one mutex serialises the queues.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/event_channel.h"
#include "abi/xen.h"
#include "evtchn.h"
#include "../core/kind.h"

#define FIFO_PORTS	    EVTCHN_2L_NR_CHANNELS /* keeld's port table size */
#define FIFO_WORDS_PER_PAGE (4096 / sizeof(event_word_t))
#define FIFO_MAX_PAGES	    (FIFO_PORTS / FIFO_WORDS_PER_PAGE)

struct fifo_vcpu {
	struct evtchn_fifo_control_block *cb; /* NULL: no init_control yet */
	uint32_t tail[EVTCHN_FIFO_MAX_QUEUES];
};

struct evtchn_fifo {
	struct domain *d;
	struct fifo_vcpu vcpu[DOMAIN_MAX_VCPUS];
	event_word_t *page[FIFO_MAX_PAGES];
	unsigned npages;
	uint8_t prio[FIFO_PORTS];
	/* The queue each port was last linked on (vCPU, priority). */
	uint8_t last_vcpu[FIFO_PORTS], last_prio[FIFO_PORTS];
	/* Raised while its event word did not exist yet (no array page, or
	 * still on 2-level at init_control): made PENDING when its page comes,
	 * as Xen keeps evtchn->pending. */
	uint8_t early[FIFO_PORTS];
};

/* The domain's FIFO state (d->fifo, NULL while on 2-level) is made by
 * init_control and dropped by a reset or the domain's end, under
 * fifo_lock. */
static pthread_mutex_t fifo_lock = PTHREAD_MUTEX_INITIALIZER;

static struct evtchn_fifo *fifo_of(struct domain *d)
{
	return d->fifo;
}

int evtchn_fifo_active(struct domain *d)
{
	int r;

	pthread_mutex_lock(&fifo_lock);
	r = fifo_of(d) != NULL;
	pthread_mutex_unlock(&fifo_lock);
	return r;
}

static event_word_t *fifo_word(struct evtchn_fifo *f, uint32_t port)
{
	if (port >= f->npages * FIFO_WORDS_PER_PAGE)
		return NULL;
	return &f->page[port / FIFO_WORDS_PER_PAGE][port % FIFO_WORDS_PER_PAGE];
}

/* A guest frame keeld may write as event words or a control block: the
 * domain's own, and not a page table or descriptor page. */
static void *fifo_guest_page(struct domain *d, uint64_t gfn)
{
	if (!domain_owns_frame(d, gfn))
		return NULL;
	if (!d->kind->frame_writable(d, gfn))
		return NULL;
	return d->ram + (gfn << DOMAIN_PAGE_SHIFT);
}

/* Append the old tail's link to port (only if the guest has not consumed
 * the tail yet: it is still LINKED); returns 1 if linked. */
static int fifo_set_link(event_word_t *tail, uint32_t port)
{
	event_word_t w = __atomic_load_n(tail, __ATOMIC_ACQUIRE);

	do {
		if (!(w & (1u << EVTCHN_FIFO_LINKED)))
			return 0;
	} while (!__atomic_compare_exchange_n(tail, &w, (w & ~EVTCHN_FIFO_LINK_MASK) | port, 0,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return 1;
}

/* Under fifo_lock: link port into its vCPU's queue if it is pending,
 * unmasked and not yet linked; raise the upcall for a newly ready queue. */
static void fifo_link(struct evtchn_fifo *f, uint32_t port, uint32_t vcpu)
{
	struct domain *d = f->d;
	event_word_t *w = fifo_word(f, port);
	struct fifo_vcpu *fv;
	uint32_t prio = f->prio[port], old;
	int linked = 0;

	if (!w || vcpu >= (uint32_t)d->nr_vcpus)
		return;
	fv = &f->vcpu[vcpu];
	old = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	if (!fv->cb || !(old & (1u << EVTCHN_FIFO_PENDING)) ||
	    (old & ((1u << EVTCHN_FIFO_MASKED) | (1u << EVTCHN_FIFO_LINKED))))
		return;
	old = __atomic_fetch_or(w, 1u << EVTCHN_FIFO_LINKED, __ATOMIC_ACQ_REL);
	if (old & (1u << EVTCHN_FIFO_LINKED))
		return;
	/*
	 * If the port is still the tail of the queue it was last linked on,
	 * the guest has consumed it and that queue is empty: forget the tail.
	 * Otherwise linking "after the tail" would link the port to itself
	 * (we just set its LINKED bit), the head and ready bit would never be
	 * set, and the port would stay LINKED and silent for good -- which is
	 * what a re-raised VIRQ_TIMER did to Linux (its clock stopped ticking
	 * and secondary-vCPU bring-up stalled).  Xen does the same reset.
	 */
	if (port < FIFO_PORTS) {
		struct fifo_vcpu *lv = &f->vcpu[f->last_vcpu[port]];

		if (lv->tail[f->last_prio[port]] == port)
			lv->tail[f->last_prio[port]] = 0;
		f->last_vcpu[port] = (uint8_t)vcpu;
		f->last_prio[port] = (uint8_t)prio;
	}
	if (fv->tail[prio]) {
		event_word_t *tw = fifo_word(f, fv->tail[prio]);

		linked = tw && fifo_set_link(tw, port);
	}
	if (!linked)
		__atomic_store_n(&fv->cb->head[prio], port, __ATOMIC_RELEASE);
	fv->tail[prio] = port;
	if (!linked &&
	    !((__atomic_fetch_or(&fv->cb->ready, 1u << prio, __ATOMIC_ACQ_REL) >> prio) & 1)) {
		struct vcpu *v = &d->vcpus[vcpu];

		__atomic_store_n(&vcpu_info(v)->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
		vcpu_kick(v);
	}
}

int evtchn_fifo_set_pending(struct domain *d, uint32_t port, uint32_t vcpu)
{
	struct evtchn_fifo *f;
	event_word_t *w;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	if (f && (w = fifo_word(f, port)) != NULL) {
		__atomic_fetch_or(w, 1u << EVTCHN_FIFO_PENDING, __ATOMIC_ACQ_REL);
		fifo_link(f, port, vcpu);
	} else if (f && port < FIFO_PORTS) {
		f->early[port] = 1;
	}
	pthread_mutex_unlock(&fifo_lock);
	return f != NULL;
}

int evtchn_fifo_is_pending(struct domain *d, uint32_t port, int *pending)
{
	struct evtchn_fifo *f;
	event_word_t *w;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	if (f) {
		w = fifo_word(f, port);
		*pending = w ? (__atomic_load_n(w, __ATOMIC_ACQUIRE) >> EVTCHN_FIFO_PENDING) & 1
			     : port < FIFO_PORTS && f->early[port];
	}
	pthread_mutex_unlock(&fifo_lock);
	return f != NULL;
}

int evtchn_fifo_clear_pending(struct domain *d, uint32_t port)
{
	struct evtchn_fifo *f;
	event_word_t *w;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	if (f) {
		w = fifo_word(f, port);
		if (w)
			__atomic_fetch_and(w, ~(1u << EVTCHN_FIFO_PENDING), __ATOMIC_ACQ_REL);
		if (port < FIFO_PORTS) {
			f->prio[port] = EVTCHN_FIFO_PRIORITY_DEFAULT;
			f->early[port] = 0;
		}
	}
	pthread_mutex_unlock(&fifo_lock);
	return f != NULL;
}

int evtchn_fifo_unmask(struct domain *d, uint32_t port, uint32_t vcpu)
{
	struct evtchn_fifo *f;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	if (f) {
		/* A guest leaves MASKED set on a pending port and asks us
		 * (Linux's clear_masked_cond): clear it, then link. */
		event_word_t *w = fifo_word(f, port);

		if (w)
			__atomic_fetch_and(w, ~(1u << EVTCHN_FIFO_MASKED), __ATOMIC_ACQ_REL);
		fifo_link(f, port, vcpu);
	}
	pthread_mutex_unlock(&fifo_lock);
	return f != NULL;
}

/* Back to 2-level (EVTCHNOP_reset, a resume, the domain's end): the
 * writable references on the control blocks and array pages go too, as
 * Xen's evtchn_fifo_destroy puts them; a reset used to leave them held, so
 * those frames could never become page tables again (found by
 * pv_evtchn_fuzz).  Not under d->lock: mm_lock comes first. */
void evtchn_fifo_free(struct domain *d)
{
	struct evtchn_fifo *f;

	pthread_mutex_lock(&fifo_lock);
	f = d->fifo;
	d->fifo = NULL;
	pthread_mutex_unlock(&fifo_lock);
	if (!f)
		return;
	pthread_mutex_lock(&d->mm_lock);
	for (int i = 0; i < DOMAIN_MAX_VCPUS; i++)
		if (f->vcpu[i].cb)
			d->kind->frame_put_writable(d,
						    (uint64_t)((uint8_t *)f->vcpu[i].cb - d->ram) >>
							    DOMAIN_PAGE_SHIFT);
	for (unsigned i = 0; i < f->npages; i++)
		d->kind->frame_put_writable(d, (uint64_t)((uint8_t *)f->page[i] - d->ram) >>
						       DOMAIN_PAGE_SHIFT);
	pthread_mutex_unlock(&d->mm_lock);
	free(f);
}

/* For invariant checkers (tests/fuzz/pv_invariants.c): each frame the
 * FIFO state holds a writable type reference on (control blocks, array
 * pages), once per reference. */
void evtchn_fifo_visit_frames(struct domain *d, void (*fn)(void *arg, uint64_t gfn), void *arg)
{
	struct evtchn_fifo *f;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	for (int i = 0; f && i < DOMAIN_MAX_VCPUS; i++)
		if (f->vcpu[i].cb)
			fn(arg, (uint64_t)((uint8_t *)f->vcpu[i].cb - d->ram) >> DOMAIN_PAGE_SHIFT);
	for (unsigned i = 0; f && i < f->npages; i++)
		fn(arg, (uint64_t)((uint8_t *)f->page[i] - d->ram) >> DOMAIN_PAGE_SHIFT);
	pthread_mutex_unlock(&fifo_lock);
}

/* After a control block or array page appears: link what became
 * deliverable (ports raised while it was missing stay PENDING). */
static void fifo_relink(struct evtchn_fifo *f)
{
	for (uint32_t p = 1; p < f->npages * FIFO_WORDS_PER_PAGE && p < FIFO_PORTS; p++) {
		if (f->early[p]) {
			__atomic_fetch_or(fifo_word(f, p), 1u << EVTCHN_FIFO_PENDING,
					  __ATOMIC_ACQ_REL);
			f->early[p] = 0;
		}
		if (f->d->evtchns && f->d->evtchns[p].state != 0)
			fifo_link(f, p, f->d->evtchns[p].vcpu);
	}
}

static long fifo_init_control(struct domain *d, struct evtchn_init_control *ic)
{
	struct evtchn_fifo *f;
	uint8_t *page;

	if (ic->vcpu >= (uint32_t)d->nr_vcpus)
		return -XEN_ENOENT;
	if ((ic->offset & 7) || ic->offset > 4096 - sizeof(struct evtchn_fifo_control_block))
		return -XEN_EINVAL;
	page = fifo_guest_page(d, ic->control_gfn);
	if (!page)
		return -XEN_EINVAL;
	f = fifo_of(d);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return -XEN_ENOMEM;
		f->d = d;
		memset(f->prio, EVTCHN_FIFO_PRIORITY_DEFAULT, sizeof(f->prio));
		/* Events the 2-level bitmap holds still count (Xen's setup_ports). */
		for (uint32_t p = 1; d->evtchns && p < FIFO_PORTS; p++) {
			struct shared_info *sh = domain_shared_info(d);

			if (d->evtchns[p].state != 0 &&
			    ((__atomic_load_n(&sh->evtchn_pending[p / 64], __ATOMIC_ACQUIRE) >>
			      (p % 64)) &
			     1))
				f->early[p] = 1;
		}
		d->fifo = f;
	}
	if (f->vcpu[ic->vcpu].cb)
		return -XEN_EINVAL;
	f->vcpu[ic->vcpu].cb = (struct evtchn_fifo_control_block *)(page + ic->offset);
	memset(f->vcpu[ic->vcpu].tail, 0, sizeof(f->vcpu[ic->vcpu].tail));
	ic->link_bits = EVTCHN_FIFO_LINK_BITS;
	fifo_relink(f);
	return 0;
}

static long fifo_expand_array(struct domain *d, struct evtchn_expand_array *ea)
{
	struct evtchn_fifo *f = fifo_of(d);
	void *page;

	if (!f)
		return -XEN_EOPNOTSUPP;
	if (f->npages >= FIFO_MAX_PAGES)
		return -XEN_ENOSPC;
	page = fifo_guest_page(d, ea->array_gfn);
	if (!page)
		return -XEN_EINVAL;
	f->page[f->npages++] = page;
	fifo_relink(f);
	return 0;
}

static long fifo_set_priority(struct domain *d, struct evtchn_set_priority *sp)
{
	struct evtchn_fifo *f = fifo_of(d);

	if (!f)
		return -XEN_ENOSYS; /* the 2-level ABI has no priorities */
	if (sp->priority > EVTCHN_FIFO_PRIORITY_MIN || sp->port == 0 || sp->port >= FIFO_PORTS ||
	    !d->evtchns || d->evtchns[sp->port].state == 0)
		return -XEN_EINVAL;
	/* Takes effect the next time the port is linked, as in Xen. */
	f->prio[sp->port] = (uint8_t)sp->priority;
	return 0;
}

/*
 * Offered by default, as Xen does (Linux then prefers FIFO); keeld run
 * with KEEL_EVTCHN_FIFO=0 answers init_control with -ENOSYS, as a Xen
 * without FIFO does, and Linux falls back to 2-level.  (Debian 6.1 used to
 * stall at secondary-vCPU bring-up on FIFO: a re-raised port that was
 * still its queue's tail got linked to itself -- see fifo_link.)
 */
static int fifo_enabled(void)
{
	static int enabled = -1;

	if (enabled < 0) {
		const char *e = getenv("KEEL_EVTCHN_FIFO");

		enabled = !(e && e[0] == '0');
	}
	return enabled;
}

long evtchn_fifo_op(struct vcpu *v, uint64_t cmd, void *arg)
{
	struct domain *d = v->dom;
	uint64_t gfn = ~0ULL;
	long r;

	/* Event words and control blocks are written by keeld: hold a
	 * writable type reference on their frames (as Xen does) so the guest
	 * can never turn them into page tables.  Taken before fifo_lock. */
	if (cmd == EVTCHNOP_init_control && !fifo_enabled())
		return -XEN_ENOSYS; /* KEEL_EVTCHN_FIFO=0: the guest stays on 2-level */
	if (cmd == EVTCHNOP_init_control)
		gfn = ((struct evtchn_init_control *)arg)->control_gfn;
	else if (cmd == EVTCHNOP_expand_array)
		gfn = ((struct evtchn_expand_array *)arg)->array_gfn;
	if (gfn != ~0ULL) {
		pthread_mutex_lock(&d->mm_lock);
		r = domain_owns_frame(d, gfn) ? d->kind->frame_get_writable(d, gfn) : -XEN_EINVAL;
		pthread_mutex_unlock(&d->mm_lock);
		if (r < 0)
			return -XEN_EINVAL;
	}
	pthread_mutex_lock(&fifo_lock);
	switch (cmd) {
	case EVTCHNOP_init_control:
		r = fifo_init_control(d, arg);
		break;
	case EVTCHNOP_expand_array:
		r = fifo_expand_array(d, arg);
		break;
	case EVTCHNOP_set_priority:
		r = fifo_set_priority(d, arg);
		break;
	default:
		r = -XEN_ENOSYS;
	}
	pthread_mutex_unlock(&fifo_lock);
	if (r < 0 && gfn != ~0ULL) {
		pthread_mutex_lock(&d->mm_lock);
		d->kind->frame_put_writable(d, gfn);
		pthread_mutex_unlock(&d->mm_lock);
	}
	return r;
}

/* For a dump: port's event word (0 when missing, *early if raised before
 * its page came); 0 when the domain is on 2-level. */
int evtchn_fifo_peek(struct domain *d, uint32_t port, uint32_t *word, int *early)
{
	struct evtchn_fifo *f;
	event_word_t *w;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	if (f) {
		w = fifo_word(f, port);
		*word = w ? __atomic_load_n(w, __ATOMIC_ACQUIRE) : 0;
		*early = port < FIFO_PORTS && f->early[port];
	}
	pthread_mutex_unlock(&fifo_lock);
	return f != NULL;
}

/* Each vCPU's control block (ready bits, heads) and keeld's tails. */
void evtchn_fifo_dump(struct domain *d)
{
	struct evtchn_fifo *f;

	pthread_mutex_lock(&fifo_lock);
	f = fifo_of(d);
	for (int i = 0; f && i < d->nr_vcpus; i++) {
		struct fifo_vcpu *fv = &f->vcpu[i];
		char heads[400] = "";
		size_t len = 0;

		if (!fv->cb) {
			hvlog("  fifo vcpu %d: no control block", i);
			continue;
		}
		for (int q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++)
			if ((fv->cb->head[q] || fv->tail[q]) && len < sizeof(heads))
				len += (size_t)snprintf(heads + len, sizeof(heads) - len,
							" q%d head %u tail %u", q, fv->cb->head[q],
							fv->tail[q]);
		hvlog("  fifo vcpu %d: ready %#x%s (%u array pages)", i,
		      __atomic_load_n(&fv->cb->ready, __ATOMIC_ACQUIRE), heads, f->npages);
	}
	pthread_mutex_unlock(&fifo_lock);
}
