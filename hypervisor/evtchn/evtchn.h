/*
 * Event channels inside keeld (Xen's 2-level ABI: pending and mask bitmaps
 * in shared_info, a selector word and upcall flags per vcpu_info), with
 * VIRQs, IPIs, interdomain binding (loopback, another guest, a dom0
 * process), and the FIFO ABI (evtchn_fifo.c) once a guest asks for it.
 */
#ifndef KEEL_HV_EVTCHN_H
#define KEEL_HV_EVTCHN_H

#include <stdint.h>

#include "abi/event_channel.h"
#include "../core/domain.h"

enum evtchn_state { ECS_FREE, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
	uint8_t state;
	uint8_t virq;
	uint16_t remote_dom;
	uint32_t vcpu;
	uint32_t remote_port;
	uint32_t dom0_slot; /* bound to a dom0 process: index + 1 in d->dom0_binds */
	/* For the 'e' debug key: sends by the guest on this port, and times
	 * it was raised (any source), since it was allocated. */
	uint32_t sends, raises;
};

/* Mark port pending and raise the upcall on its vCPU (Xen's
 * evtchn_2l_set_pending); safe from any thread. */
void evtchn_set_pending(struct domain *d, uint32_t port);
/* Allocate an unbound port for remote_dom (builder: console, store). */
int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote_dom);
int evtchn_send_virq(struct vcpu *v, int virq);
/* Is virq global (Xen's virq_is_global), not per vCPU?  A global one is
 * bound on vCPU 0 and may notify another. */
int evtchn_virq_global(uint32_t virq);
long evtchn_do_op(struct vcpu *v, uint64_t cmd, uint64_t arg);
void evtchn_free_all(struct domain *d);
/* dom0's end of a port left unbound for dom0 (BIND_EVTCHN): two eventfds,
 * guest-to-dom0 (keeld writes it when the guest sends) and dom0-to-guest
 * (keeld polls it and raises the port). */
int evtchn_bind_dom0(struct domain *d, uint32_t port, int owner, int *g2d_fd, int *d2g_fd);
/* Unbind the ports the dom0 connection `owner` bound (it closed). */
unsigned evtchn_release_owner(struct domain *d, int owner);
/* dom0 lets go of a port it bound: it is unbound (for dom0) again, so a
 * restarted server can bind it anew.  dom0's fds then reach nothing. */
int evtchn_unbind_dom0(struct domain *d, uint32_t port);
/* The dom0 slot port is bound through (-EINVAL: not bound for dom0). */
int evtchn_dom0_slot(struct domain *d, uint32_t port);
/* A dead dom0 process's binding (keeld's control connection closed, as
 * closing Linux's /dev/xen/evtchn closes its ports): unbind port only if
 * it is still the binding of that slot (not since closed by the guest and
 * rebound by another process); the guest's end is unbound for dom0
 * again.  0, or -ESRCH when the binding is gone already. */
int evtchn_release_dom0(struct domain *d, uint32_t port, int slot);
/* The dom0-to-guest eventfd of bind slot `slot` became readable. */
void evtchn_dom0_notify(struct domain *d, int slot);

/* max_event_channels: ports 1..max_port may be allocated (default 1023,
 * libxl's); negative errno. */
int evtchn_set_max_port(struct domain *d, uint32_t max_port);

/* Every port closed, 2-level ABI, then store_port and console_port
 * unbound for dom0 (a domain resuming from a suspend in a new life). */
int evtchn_reset_for_resume(struct domain *d, uint32_t store_port, uint32_t console_port);

/* Is port pending (either ABI)?  For SCHEDOP_poll. */
int evtchn_port_pending(struct domain *d, uint32_t port);

/* FIFO ABI (evtchn_fifo.c).  Each returns 0 when the domain is still on
 * the 2-level ABI (the caller then does the 2-level work), 1 when done. */
int evtchn_fifo_active(struct domain *d);
int evtchn_fifo_set_pending(struct domain *d, uint32_t port, uint32_t vcpu);
int evtchn_fifo_is_pending(struct domain *d, uint32_t port, int *pending);
int evtchn_fifo_clear_pending(struct domain *d, uint32_t port);
int evtchn_fifo_unmask(struct domain *d, uint32_t port, uint32_t vcpu);
/* init_control, expand_array, set_priority (arg: the op's block). */
long evtchn_fifo_op(struct vcpu *v, uint64_t cmd, void *arg);
void evtchn_fifo_free(struct domain *d);
/* Each frame the FIFO state holds a writable type reference on, once per
 * reference (invariant checks in tests/fuzz). */
void evtchn_fifo_visit_frames(struct domain *d, void (*fn)(void *arg, uint64_t gfn), void *arg);
/* For evtchn_dump: a port's FIFO word (and whether it was raised before
 * its page came); 0 on 2-level.  And the control blocks, to the log. */
int evtchn_fifo_peek(struct domain *d, uint32_t port, uint32_t *word, int *early);
void evtchn_fifo_dump(struct domain *d);
/* Every open port of d and each vCPU's upcall flags, to keeld's log
 * (Xen's 'e' debug key). */
void evtchn_dump(struct domain *d);

/* Other domains, for channels and grant copies: the domain table, under
 * its lock (core/domain.h), taken before any domain's lock; while held,
 * evtchn_peer() results stay valid. */
void evtchn_peers_lock(void);
void evtchn_peers_unlock(void);
struct domain *evtchn_peer(uint16_t domid);

#endif
