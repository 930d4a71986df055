/*
 * Event channels, 2-level ABI.  The port table lives in keeld; pending,
 * mask, selector and upcall bits live in guest-shared memory and are
 * updated with atomic operations because the guest changes them at the
 * same time.  A port's notification wakes its vCPU (pv_vcpu_kick); the
 * upcall itself is delivered on the vCPU's next return to the guest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "abi/xen.h"
#include "evtchn.h"
#include "../core/kind.h"

#define EVTCHN_MAX EVTCHN_2L_NR_CHANNELS

/*
 * Channels between two guest domains go through the domain table: its
 * lock (domain_table_lock) serialises everything that touches two
 * domains' port tables and is taken before any domain's lock; a domain
 * leaves the table before its channels are torn down (evtchn_free_all).
 */
static struct domain *evtchn_find_domain(uint16_t domid)
{
	struct domain *d = domain_lookup(domid);

	return d && d->evtchns ? d : NULL;
}

void evtchn_peers_lock(void)
{
	domain_table_lock();
}

void evtchn_peers_unlock(void)
{
	domain_table_unlock();
}

struct domain *evtchn_peer(uint16_t domid)
{
	return domain_lookup(domid);
}

static struct evtchn *evtchn_table(struct domain *d)
{
	if (!d->evtchns)
		d->evtchns = calloc(EVTCHN_MAX, sizeof(struct evtchn));
	return d->evtchns;
}

/* Per-domain max_event_channels (Xen's max_evtchn_port: ports 1..max may
 * be allocated), d->evtchn_max_port; 0 means libxl's default, 1023.  A
 * dom0 tool changes it through the control socket. */
#define EVTCHN_DEFAULT_MAX_PORT 1023

static uint32_t evtchn_max_port(struct domain *d)
{
	uint32_t m = __atomic_load_n(&d->evtchn_max_port, __ATOMIC_ACQUIRE);

	return m ? m : EVTCHN_DEFAULT_MAX_PORT;
}

int evtchn_set_max_port(struct domain *d, uint32_t max_port)
{
	if (max_port == 0 || max_port >= EVTCHN_MAX)
		return -EINVAL;
	__atomic_store_n(&d->evtchn_max_port, max_port, __ATOMIC_RELEASE);
	return 0;
}

static int evtchn_test_and_set(uint64_t *word, int bit)
{
	return (__atomic_fetch_or(word, 1ULL << bit, __ATOMIC_SEQ_CST) >> bit) & 1;
}

void evtchn_set_pending(struct domain *d, uint32_t port)
{
	struct shared_info *sh = domain_shared_info(d);
	struct evtchn *t = evtchn_table(d);
	struct vcpu *v;
	struct vcpu_info *vi;

	if (!t || port == 0 || port >= EVTCHN_MAX)
		return;
	__atomic_fetch_add(&t[port].raises, 1, __ATOMIC_RELAXED);
	if (evtchn_fifo_set_pending(d, port, t[port].vcpu)) {
		/* FIFO ABI in force.  A masked port is not linked and raises no
		 * upcall, but a vCPU polling it must wake (Linux's PV spinlocks
		 * poll their masked kick port), as in 2-level below. */
		pthread_cond_broadcast(&d->cond);
		return;
	}
	if (evtchn_test_and_set(&sh->evtchn_pending[port / 64], port % 64))
		return;
	if ((__atomic_load_n(&sh->evtchn_mask[port / 64], __ATOMIC_SEQ_CST) >> (port % 64)) & 1) {
		/* Masked: no upcall, but a vCPU in SCHEDOP_poll on this port
		 * must wake (Xen checks its pollers whatever the mask). */
		pthread_cond_broadcast(&d->cond);
		return;
	}
	v = &d->vcpus[t[port].vcpu < (uint32_t)d->nr_vcpus ? t[port].vcpu : 0];
	vi = vcpu_info(v);
	if (!evtchn_test_and_set(&vi->evtchn_pending_sel, port / 64)) {
		__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
		vcpu_kick(v);
	}
}

static int evtchn_alloc(struct domain *d)
{
	struct evtchn *t = evtchn_table(d);
	uint32_t max = evtchn_max_port(d);

	if (!t)
		return -XEN_ENOMEM;
	for (uint32_t p = 1; p <= max && p < EVTCHN_MAX; p++)
		if (t[p].state == ECS_FREE) {
			struct shared_info *sh = domain_shared_info(d);

			memset(&t[p], 0, sizeof(t[p]));
			/* A fresh port starts neither pending nor masked. */
			__atomic_fetch_and(&sh->evtchn_pending[p / 64], ~(1ULL << (p % 64)),
					   __ATOMIC_SEQ_CST);
			__atomic_fetch_and(&sh->evtchn_mask[p / 64], ~(1ULL << (p % 64)),
					   __ATOMIC_SEQ_CST);
			evtchn_fifo_clear_pending(d, p);
			return p;
		}
	return -XEN_ENOSPC;
}

int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote_dom)
{
	int p = evtchn_alloc(d);

	if (p > 0) {
		d->evtchns[p].state = ECS_UNBOUND;
		d->evtchns[p].remote_dom = remote_dom;
	}
	return p;
}

int evtchn_send_virq(struct vcpu *v, int virq)
{
	uint32_t port = v->virq_port[virq];

	if (!port)
		return -XEN_ENOENT;
	evtchn_set_pending(v->dom, port);
	return 0;
}

int evtchn_virq_global(uint32_t virq)
{
	return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF &&
	       virq != VIRQ_XENPMU;
}

static int evtchn_valid(struct domain *d, uint32_t port)
{
	return d->evtchns && port > 0 && port < EVTCHN_MAX && d->evtchns[port].state != ECS_FREE;
}

static void evtchn_close_port(struct domain *d, uint32_t port)
{
	struct evtchn *e = &d->evtchns[port];

	/* A global VIRQ's binding lives on vCPU 0 wherever it notifies. */
	if (e->state == ECS_VIRQ && evtchn_virq_global(e->virq))
		d->vcpus[0].virq_port[e->virq] = 0;
	else if (e->state == ECS_VIRQ && e->vcpu < (uint32_t)d->nr_vcpus)
		d->vcpus[e->vcpu].virq_port[e->virq] = 0;
	if (e->dom0_slot)
		d->dom0_binds[e->dom0_slot - 1].port = 0; /* dom0's fds stay until destroy */
	evtchn_fifo_clear_pending(d, port);
	if (e->state == ECS_INTERDOMAIN && e->remote_dom == d->domid && !e->dom0_slot &&
	    evtchn_valid(d, e->remote_port)) {
		d->evtchns[e->remote_port].state = ECS_UNBOUND;
		d->evtchns[e->remote_port].remote_dom = d->domid;
	} else if (e->state == ECS_INTERDOMAIN && !e->dom0_slot && e->remote_dom != d->domid) {
		/* Another guest's end (caller holds the domain table's lock): as in
		 * Xen, it becomes unbound for us again. */
		struct domain *rd = evtchn_find_domain(e->remote_dom);
		uint32_t rp = e->remote_port;

		if (rd && rp > 0 && rp < EVTCHN_MAX) {
			pthread_mutex_lock(&rd->lock);
			if (rd->evtchns[rp].state == ECS_INTERDOMAIN &&
			    rd->evtchns[rp].remote_dom == d->domid &&
			    rd->evtchns[rp].remote_port == port) {
				rd->evtchns[rp].state = ECS_UNBOUND;
				rd->evtchns[rp].remote_port = 0;
			}
			pthread_mutex_unlock(&rd->lock);
		}
	}
	memset(e, 0, sizeof(*e));
}

/* Does this op touch another domain's ports (so needs the domain table's lock)? */
static int evtchn_op_crosses(uint64_t cmd)
{
	return cmd == EVTCHNOP_bind_interdomain || cmd == EVTCHNOP_close || cmd == EVTCHNOP_reset;
}

/* Send on a port bound to another guest: raise the remote end, checked
 * under the global lock and the remote's lock (so a dying domain's
 * threads are never kicked after domain_stop_threads). */
static long evtchn_send_remote(struct domain *d, uint32_t port, uint16_t rdom, uint32_t rp)
{
	struct domain *rd;

	domain_table_lock();
	rd = evtchn_find_domain(rdom);
	if (rd && rp > 0 && rp < EVTCHN_MAX) {
		pthread_mutex_lock(&rd->lock);
		if (!rd->dying && rd->evtchns[rp].state == ECS_INTERDOMAIN &&
		    rd->evtchns[rp].remote_dom == d->domid && rd->evtchns[rp].remote_port == port)
			evtchn_set_pending(rd, rp);
		pthread_mutex_unlock(&rd->lock);
	}
	domain_table_unlock();
	return 0;
}

int evtchn_port_pending(struct domain *d, uint32_t port)
{
	struct shared_info *sh = domain_shared_info(d);
	int pending;

	if (port == 0 || port >= EVTCHN_MAX)
		return 0;
	if (evtchn_fifo_is_pending(d, port, &pending))
		return pending;
	return (__atomic_load_n(&sh->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) >> (port % 64)) &
	       1;
}

/* A dom0 process's control connection closed: unbind the ports it
 * bound (still bound through the slot it bound them with), as closing
 * Linux's /dev/xen/evtchn does; the guest's ends are unbound for dom0
 * again.  How many. */
unsigned evtchn_release_owner(struct domain *d, int owner)
{
	unsigned n = 0;

	for (int slot = 0; slot < d->n_dom0_binds; slot++) {
		uint32_t port = d->dom0_binds[slot].port;

		if (port && d->dom0_binds[slot].owner == owner &&
		    evtchn_release_dom0(d, port, slot) == 0) {
			hvlog("d%d: port %u unbound (its dom0 process went away)", d->domid, port);
			n++;
		}
	}
	return n;
}

void evtchn_free_all(struct domain *d)
{
	domain_table_lock();
	/* A dying domain's channels to other guests: their ends become
	 * unbound for it, as Xen's evtchn_destroy leaves them. */
	if (d->evtchns)
		for (uint32_t p = 1; p < EVTCHN_MAX; p++)
			if (d->evtchns[p].state == ECS_INTERDOMAIN && !d->evtchns[p].dom0_slot &&
			    d->evtchns[p].remote_dom != d->domid)
				evtchn_close_port(d, p);
	domain_table_unlock();
	evtchn_fifo_free(d);
	for (int i = 0; i < d->n_dom0_binds; i++) {
		close(d->dom0_binds[i].g2d_fd);
		close(d->dom0_binds[i].d2g_fd);
	}
	d->n_dom0_binds = 0;
	free(d->evtchns);
	d->evtchns = NULL;
}

int evtchn_bind_dom0(struct domain *d, uint32_t port, int owner, int *g2d_fd, int *d2g_fd)
{
	struct domain_dom0_bind *b;
	int r = 0, slot, g2d, d2g;

	if (!evtchn_table(d))
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	if (!evtchn_valid(d, port) || d->evtchns[port].state != ECS_UNBOUND ||
	    d->evtchns[port].remote_dom != 0) {
		r = -EINVAL;
		goto out;
	}
	/* A slot whose port went away (unbound, or closed by the guest) is
	 * reused, so rebinding (a restarted backend, a reconnecting frontend)
	 * does not run out of the 64 slots over a domain's life. */
	for (slot = 0; slot < d->n_dom0_binds && d->dom0_binds[slot].port; slot++)
		;
	if (slot == (int)(sizeof(d->dom0_binds) / sizeof(d->dom0_binds[0]))) {
		r = -ENOSPC;
		goto out;
	}
	g2d = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d2g = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g2d < 0 || d2g < 0) {
		r = -errno;
		if (g2d >= 0)
			close(g2d);
		if (d2g >= 0)
			close(d2g);
		goto out;
	}
	b = &d->dom0_binds[slot];
	if (slot < d->n_dom0_binds) { /* keeld's copies of the old ends */
		close(b->g2d_fd);
		close(b->d2g_fd);
	} else {
		d->n_dom0_binds++;
	}
	b->g2d_fd = g2d;
	b->d2g_fd = d2g;
	b->port = port;
	b->owner = owner;
	d->evtchns[port].state = ECS_INTERDOMAIN;
	d->evtchns[port].remote_port = 0;
	d->evtchns[port].dom0_slot = slot + 1;
	*g2d_fd = b->g2d_fd;
	*d2g_fd = b->d2g_fd;
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

int evtchn_unbind_dom0(struct domain *d, uint32_t port)
{
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (!evtchn_valid(d, port) || !d->evtchns[port].dom0_slot) {
		r = -EINVAL;
	} else {
		d->dom0_binds[d->evtchns[port].dom0_slot - 1].port = 0;
		d->evtchns[port].state = ECS_UNBOUND;
		d->evtchns[port].remote_dom = 0;
		d->evtchns[port].dom0_slot = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

int evtchn_dom0_slot(struct domain *d, uint32_t port)
{
	int slot = -EINVAL;

	pthread_mutex_lock(&d->lock);
	if (evtchn_valid(d, port) && d->evtchns[port].dom0_slot)
		slot = d->evtchns[port].dom0_slot - 1;
	pthread_mutex_unlock(&d->lock);
	return slot;
}

int evtchn_release_dom0(struct domain *d, uint32_t port, int slot)
{
	int r = -ESRCH;

	pthread_mutex_lock(&d->lock);
	if (slot >= 0 && slot < d->n_dom0_binds && evtchn_valid(d, port) &&
	    d->evtchns[port].dom0_slot == (uint32_t)slot + 1 && d->dom0_binds[slot].port == port) {
		d->dom0_binds[slot].port = 0;
		d->evtchns[port].state = ECS_UNBOUND;
		d->evtchns[port].remote_dom = 0;
		d->evtchns[port].dom0_slot = 0;
		r = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

void evtchn_dom0_notify(struct domain *d, int slot)
{
	uint64_t n;
	uint32_t port;

	if (slot < 0 || slot >= d->n_dom0_binds)
		return;
	if (read(d->dom0_binds[slot].d2g_fd, &n, sizeof(n)) != sizeof(n))
		return;
	port = d->dom0_binds[slot].port;
	if (port)
		evtchn_set_pending(d, port);
}

static uint16_t evtchn_dom(struct domain *d, uint16_t dom)
{
	return dom == DOMID_SELF ? d->domid : dom;
}

/*
 * Xen's bind_interdomain to another guest (caller holds the domain table's lock and
 * d->lock): the remote port must exist, be unbound and have been
 * allocated for us; the new local port is bound to the caller's vCPU.
 */
static long evtchn_bind_remote(struct vcpu *v, uint16_t rdom, uint32_t rp, uint32_t *local)
{
	struct domain *d = v->dom, *rd = evtchn_find_domain(rdom);
	long r = 0;
	int p;

	if (!rd || rdom >= DOMID_FIRST_RESERVED) {
		domain_log(d, "evtchn: bind_interdomain to d%u refused: no such domain", rdom);
		return -XEN_ESRCH;
	}
	pthread_mutex_lock(&rd->lock);
	if (rd->dying || rp == 0 || rp >= EVTCHN_MAX || rd->evtchns[rp].state != ECS_UNBOUND ||
	    rd->evtchns[rp].remote_dom != d->domid || rd->evtchns[rp].dom0_slot) {
		r = -XEN_EINVAL;
		goto out;
	}
	p = evtchn_alloc(d);
	if (p < 0) {
		r = p;
		goto out;
	}
	d->evtchns[p] = (struct evtchn){.state = ECS_INTERDOMAIN,
					.remote_dom = rdom,
					.vcpu = (uint32_t)v->id,
					.remote_port = rp};
	rd->evtchns[rp].state = ECS_INTERDOMAIN;
	rd->evtchns[rp].remote_port = (uint32_t)p;
	*local = (uint32_t)p;
	/* As Xen does: a notification sent to the unbound remote end may
	 * have been lost, so the new local port starts pending. */
	evtchn_set_pending(d, (uint32_t)p);
out:
	pthread_mutex_unlock(&rd->lock);
	if (r == -XEN_EINVAL)
		domain_log(d, "evtchn: bind_interdomain to d%u port %u refused: not offered to it",
			   rdom, rp);
	return r;
}

/* One op per case; each reads its argument block, acts, writes it back. */
long evtchn_do_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	struct domain *d = v->dom;
	union {
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_interdomain bind_interdomain;
		struct evtchn_bind_virq bind_virq;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_close close;
		struct evtchn_send send;
		struct evtchn_status status;
		struct evtchn_bind_vcpu bind_vcpu;
		struct evtchn_unmask unmask;
		struct evtchn_reset reset;
		struct evtchn_init_control init_control;
		struct evtchn_expand_array expand_array;
		struct evtchn_set_priority set_priority;
	} u;
	static const uint8_t sizes[] = {
		[EVTCHNOP_bind_interdomain] = sizeof(struct evtchn_bind_interdomain),
		[EVTCHNOP_bind_virq] = sizeof(struct evtchn_bind_virq),
		[EVTCHNOP_close] = sizeof(struct evtchn_close),
		[EVTCHNOP_send] = sizeof(struct evtchn_send),
		[EVTCHNOP_status] = sizeof(struct evtchn_status),
		[EVTCHNOP_alloc_unbound] = sizeof(struct evtchn_alloc_unbound),
		[EVTCHNOP_bind_ipi] = sizeof(struct evtchn_bind_ipi),
		[EVTCHNOP_bind_vcpu] = sizeof(struct evtchn_bind_vcpu),
		[EVTCHNOP_unmask] = sizeof(struct evtchn_unmask),
		[EVTCHNOP_reset] = sizeof(struct evtchn_reset),
		[EVTCHNOP_init_control] = sizeof(struct evtchn_init_control),
		[EVTCHNOP_expand_array] = sizeof(struct evtchn_expand_array),
		[EVTCHNOP_set_priority] = sizeof(struct evtchn_set_priority),
	};
	long r = 0;
	int p, fifo_reset = 0;

	if (cmd >= sizeof(sizes) || !sizes[cmd])
		return -XEN_ENOSYS;
	if (guest_copy_from(v, &u, arg, sizes[cmd]) < 0)
		return -XEN_EFAULT;
	if (!evtchn_table(d))
		return -XEN_ENOMEM;
	if (cmd == EVTCHNOP_init_control || cmd == EVTCHNOP_expand_array ||
	    cmd == EVTCHNOP_set_priority) {
		r = evtchn_fifo_op(v, cmd, &u);
		if (r == 0 && guest_copy_to(v, arg, &u, sizes[cmd]) < 0)
			r = -XEN_EFAULT;
		return r;
	}
	/* A domain that made an event-channel op can be another's peer
	 * (registered here, before any lock: glock comes first). */
	if (evtchn_op_crosses(cmd))
		domain_table_lock();
	pthread_mutex_lock(&d->lock);
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		if (evtchn_dom(d, u.alloc_unbound.dom) != d->domid) {
			r = -XEN_EPERM;
			break;
		}
		p = evtchn_alloc_unbound_port(d, evtchn_dom(d, u.alloc_unbound.remote_dom));
		if (p < 0)
			r = p;
		else
			u.alloc_unbound.port = p;
		break;
	case EVTCHNOP_bind_interdomain: {
		uint32_t rp = u.bind_interdomain.remote_port;
		uint16_t rdom = evtchn_dom(d, u.bind_interdomain.remote_dom);

		if (rdom != d->domid) {
			r = evtchn_bind_remote(v, rdom, rp, &u.bind_interdomain.local_port);
			break;
		}
		if (!evtchn_valid(d, rp) || d->evtchns[rp].state != ECS_UNBOUND ||
		    d->evtchns[rp].remote_dom != d->domid) {
			r = -XEN_EINVAL;
			break;
		}
		p = evtchn_alloc(d);
		if (p < 0) {
			r = p;
			break;
		}
		d->evtchns[p] = (struct evtchn){.state = ECS_INTERDOMAIN,
						.remote_dom = d->domid,
						.vcpu = (uint32_t)v->id,
						.remote_port = rp};
		d->evtchns[rp] = (struct evtchn){.state = ECS_INTERDOMAIN,
						 .remote_dom = d->domid,
						 .vcpu = d->evtchns[rp].vcpu,
						 .remote_port = (uint32_t)p};
		u.bind_interdomain.local_port = p;
		break;
	}
	case EVTCHNOP_bind_virq: {
		struct vcpu *t;

		/* As Xen: a global VIRQ is bound on vCPU 0 (bind_vcpu may move
		 * where it notifies). */
		if (u.bind_virq.virq >= NR_VIRQS || u.bind_virq.vcpu >= (uint32_t)d->nr_vcpus ||
		    (evtchn_virq_global(u.bind_virq.virq) && u.bind_virq.vcpu != 0)) {
			r = -XEN_EINVAL;
			break;
		}
		t = &d->vcpus[u.bind_virq.vcpu];
		if (t->virq_port[u.bind_virq.virq]) {
			r = -XEN_EEXIST;
			break;
		}
		p = evtchn_alloc(d);
		if (p < 0) {
			r = p;
			break;
		}
		d->evtchns[p] = (struct evtchn){.state = ECS_VIRQ,
						.virq = (uint8_t)u.bind_virq.virq,
						.vcpu = u.bind_virq.vcpu};
		t->virq_port[u.bind_virq.virq] = p;
		u.bind_virq.port = p;
		break;
	}
	case EVTCHNOP_bind_ipi:
		if (u.bind_ipi.vcpu >= (uint32_t)d->nr_vcpus) {
			r = -XEN_ENOENT;
			break;
		}
		p = evtchn_alloc(d);
		if (p < 0) {
			r = p;
			break;
		}
		d->evtchns[p] = (struct evtchn){.state = ECS_IPI, .vcpu = u.bind_ipi.vcpu};
		u.bind_ipi.port = p;
		break;
	case EVTCHNOP_close:
		if (!evtchn_valid(d, u.close.port))
			r = -XEN_EINVAL;
		else
			evtchn_close_port(d, u.close.port);
		break;
	case EVTCHNOP_send: {
		uint32_t port = u.send.port;

		if (!evtchn_valid(d, port)) {
			r = -XEN_EINVAL;
			break;
		}
		__atomic_fetch_add(&d->evtchns[port].sends, 1, __ATOMIC_RELAXED);
		if (d->evtchns[port].state == ECS_IPI) {
			pthread_mutex_unlock(&d->lock);
			evtchn_set_pending(d, port);
			return 0;
		}
		if (d->evtchns[port].state == ECS_INTERDOMAIN && d->evtchns[port].dom0_slot) {
			uint64_t one = 1;
			int fd = d->dom0_binds[d->evtchns[port].dom0_slot - 1].g2d_fd;

			pthread_mutex_unlock(&d->lock);
			if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				return -XEN_EIO;
			return 0;
		}
		if (d->evtchns[port].state == ECS_INTERDOMAIN &&
		    d->evtchns[port].remote_dom != d->domid) {
			uint16_t rdom = d->evtchns[port].remote_dom;
			uint32_t rp = d->evtchns[port].remote_port;

			pthread_mutex_unlock(&d->lock);
			return evtchn_send_remote(d, port, rdom, rp);
		}
		if (d->evtchns[port].state == ECS_INTERDOMAIN) {
			uint32_t rp = d->evtchns[port].remote_port;

			pthread_mutex_unlock(&d->lock);
			evtchn_set_pending(d, rp);
			return 0;
		}
		if (d->evtchns[port].state == ECS_UNBOUND) {
			/* Nobody bound yet (e.g. no console backend): keeld's
			 * hook, if any, stands in for the remote end. */
			pthread_mutex_unlock(&d->lock);
			if (d->on_send)
				d->on_send(d, port);
			return 0;
		}
		r = -XEN_EINVAL;
		break;
	}
	case EVTCHNOP_status: {
		uint32_t port = u.status.port;

		if (evtchn_dom(d, u.status.dom) != d->domid) {
			r = -XEN_EPERM;
			break;
		}
		if (port >= EVTCHN_MAX) {
			r = -XEN_EINVAL;
			break;
		}
		memset(&u.status.u, 0, sizeof(u.status.u));
		u.status.vcpu = d->evtchns[port].vcpu;
		switch (d->evtchns[port].state) {
		case ECS_FREE:
			u.status.status = EVTCHNSTAT_closed;
			break;
		case ECS_UNBOUND:
			u.status.status = EVTCHNSTAT_unbound;
			u.status.u.unbound.dom = d->evtchns[port].remote_dom;
			break;
		case ECS_INTERDOMAIN: /* remote_dom 0, port 0 when dom0 bound it */
			u.status.status = EVTCHNSTAT_interdomain;
			u.status.u.interdomain.dom = d->evtchns[port].remote_dom;
			u.status.u.interdomain.port = d->evtchns[port].remote_port;
			break;
		case ECS_VIRQ:
			u.status.status = EVTCHNSTAT_virq;
			u.status.u.virq = d->evtchns[port].virq;
			break;
		default:
			u.status.status = EVTCHNSTAT_ipi;
		}
		break;
	}
	case EVTCHNOP_bind_vcpu: {
		/* As Xen's evtchn_bind_vcpu: unbound, interdomain and global VIRQ
		 * ports move; a per-vCPU VIRQ or an IPI stays where it was
		 * bound (moving one left the vCPU's VIRQ table naming a port
		 * bound elsewhere, and stale once closed: pv_evtchn_fuzz). */
		struct evtchn *e = &d->evtchns[u.bind_vcpu.port];

		if (u.bind_vcpu.vcpu >= (uint32_t)d->nr_vcpus)
			r = -XEN_ENOENT;
		else if (!evtchn_valid(d, u.bind_vcpu.port) || e->state == ECS_IPI ||
			 (e->state == ECS_VIRQ && !evtchn_virq_global(e->virq)))
			r = -XEN_EINVAL;
		else
			e->vcpu = u.bind_vcpu.vcpu;
		break;
	}
	case EVTCHNOP_unmask: {
		struct shared_info *sh = domain_shared_info(d);
		uint32_t port = u.unmask.port;

		if (port >= EVTCHN_MAX) {
			r = -XEN_EINVAL;
			break;
		}
		if (evtchn_fifo_unmask(d, port, d->evtchns[port].vcpu))
			break; /* FIFO: the guest cleared MASKED; relink if pending */
		/* Xen's evtchn_2l_unmask: clear the mask; if the port was
		 * pending, raise the selector and upcall now. */
		__atomic_fetch_and(&sh->evtchn_mask[port / 64], ~(1ULL << (port % 64)),
				   __ATOMIC_SEQ_CST);
		if ((__atomic_load_n(&sh->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) >>
		     (port % 64)) &
		    1) {
			struct vcpu *t = &d->vcpus[d->evtchns[port].vcpu < (uint32_t)d->nr_vcpus
							   ? d->evtchns[port].vcpu
							   : 0];
			struct vcpu_info *vi = vcpu_info(t);

			if (!evtchn_test_and_set(&vi->evtchn_pending_sel, port / 64)) {
				__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
				vcpu_kick(t);
			}
		}
		break;
	}
	case EVTCHNOP_reset:
		if (evtchn_dom(d, u.reset.dom) != d->domid) {
			r = -XEN_EPERM;
			break;
		}
		for (uint32_t port = 1; port < EVTCHN_MAX; port++)
			if (d->evtchns[port].state != ECS_FREE)
				evtchn_close_port(d, port);
		fifo_reset = 1; /* back to 2-level, as after Xen's reset */
		break;
	default:
		r = -XEN_ENOSYS;
	}
	pthread_mutex_unlock(&d->lock);
	if (evtchn_op_crosses(cmd))
		domain_table_unlock();
	if (fifo_reset)
		evtchn_fifo_free(d);
	if (r == 0 && guest_copy_to(v, arg, &u, sizes[cmd]) < 0)
		r = -XEN_EFAULT;
	return r;
}

/*
 * A domain that resumes from Xen's suspend in a new life (restored, or
 * resumed without cancel) starts as a new Xen domain does: every port
 * closed (other guests' ends become unbound for it, dom0's bindings let
 * go), the 2-level ABI, nothing pending or masked.  Then the store and
 * console ports at the numbers the guest had (Linux rebinds the console's
 * irq to its old port number; xl's restore writes both into start_info
 * too), unbound for dom0 so the store and console daemons bind them anew.
 */
int evtchn_reset_for_resume(struct domain *d, uint32_t store_port, uint32_t console_port)
{
	struct shared_info *sh = domain_shared_info(d);
	struct evtchn *t = evtchn_table(d);

	if (!t)
		return -ENOMEM;
	if (store_port == 0 || store_port >= EVTCHN_MAX || console_port == 0 ||
	    console_port >= EVTCHN_MAX || store_port == console_port)
		return -EINVAL;
	domain_table_lock();
	pthread_mutex_lock(&d->lock);
	for (uint32_t port = 1; port < EVTCHN_MAX; port++)
		if (t[port].state != ECS_FREE)
			evtchn_close_port(d, port);
	pthread_mutex_unlock(&d->lock);
	domain_table_unlock();
	evtchn_fifo_free(d);
	memset(sh->evtchn_pending, 0, sizeof(sh->evtchn_pending));
	memset(sh->evtchn_mask, 0, sizeof(sh->evtchn_mask));
	for (int k = 0; k < d->nr_vcpus; k++)
		memset(d->vcpus[k].virq_port, 0, sizeof(d->vcpus[k].virq_port));
	t[store_port] = (struct evtchn){.state = ECS_UNBOUND, .remote_dom = 0};
	t[console_port] = (struct evtchn){.state = ECS_UNBOUND, .remote_dom = 0};
	d->store_port = store_port;
	d->console_port = console_port;
	return 0;
}

/* The port table is made on first use; a dying domain's channels are torn
 * down before anything else of it goes (the highest order). */
static const struct domain_subsys evtchn_subsys = {
	.name = "evtchn",
	.order = 30,
	.destroy = evtchn_free_all,
};
DOMAIN_SUBSYS(evtchn_subsys)

static const char *const evtchn_state_names[] = {"free", "unbound", "interdomain", "virq", "ipi"};

/* Xen's 'e' debug key: every open port of d and where its event stands
 * (the 2-level bits, or the FIFO word), and each vCPU's upcall flags. */
void evtchn_dump(struct domain *d)
{
	struct shared_info *sh = domain_shared_info(d);
	struct evtchn *t = d->evtchns;

	hvlog("d%u event channels (%s):", d->domid, evtchn_fifo_active(d) ? "FIFO" : "2-level");
	for (int i = 0; i < d->nr_vcpus; i++) {
		struct vcpu_info *vi = vcpu_info(&d->vcpus[i]);

		hvlog("  vcpu %d: upcall pending %u mask %u sel %#llx", i,
		      __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE),
		      __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE),
		      (unsigned long long)__atomic_load_n(&vi->evtchn_pending_sel,
							  __ATOMIC_ACQUIRE));
	}
	evtchn_fifo_dump(d);
	for (uint32_t p = 1; t && p < EVTCHN_MAX; p++) {
		struct evtchn *e = &t[p];
		uint32_t word;
		int early, pend, mask;
		char how[96];

		if (e->state == ECS_FREE || e->state >= sizeof(evtchn_state_names) / sizeof(char *))
			continue;
		pend = (int)((__atomic_load_n(&sh->evtchn_pending[p / 64], __ATOMIC_ACQUIRE) >>
			      (p % 64)) &
			     1);
		mask = (int)((__atomic_load_n(&sh->evtchn_mask[p / 64], __ATOMIC_ACQUIRE) >>
			      (p % 64)) &
			     1);
		if (evtchn_fifo_peek(d, p, &word, &early))
			snprintf(how, sizeof(how), "word %#x%s%s%s%s link %u%s", word,
				 word & (1u << EVTCHN_FIFO_PENDING) ? " P" : "",
				 word & (1u << EVTCHN_FIFO_MASKED) ? " M" : "",
				 word & (1u << EVTCHN_FIFO_LINKED) ? " L" : "",
				 word & (1u << EVTCHN_FIFO_BUSY) ? " B" : "",
				 word & EVTCHN_FIFO_LINK_MASK, early ? " early" : "");
		else
			snprintf(how, sizeof(how), "pending %d mask %d", pend, mask);
		hvlog("  port %u: %s vcpu %u remote d%u:%u virq %u dom0 slot %u; sent %u raised %u; %s",
		      p, evtchn_state_names[e->state], e->vcpu, e->remote_dom, e->remote_port,
		      e->virq, e->dom0_slot, __atomic_load_n(&e->sends, __ATOMIC_RELAXED),
		      __atomic_load_n(&e->raises, __ATOMIC_RELAXED), how);
	}
}
