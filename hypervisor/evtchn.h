/*
 * Event channels inside keeld (Xen's 2-level ABI: pending and mask bitmaps
 * in shared_info, a selector word and upcall flags per vcpu_info), with
 * VIRQs, IPIs, and loopback interdomain binding.  FIFO is not offered, so
 * guests (Linux included) fall back to 2-level.
 */
#ifndef KEEL_HV_EVTCHN_H
#define KEEL_HV_EVTCHN_H

#include <stdint.h>

#include "abi/event_channel.h"
#include "domain.h"

enum evtchn_state { ECS_FREE, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
	uint8_t state;
	uint8_t virq;
	uint16_t remote_dom;
	uint32_t vcpu;
	uint32_t remote_port;
};

/* Mark port pending and raise the upcall on its vCPU (Xen's
 * evtchn_2l_set_pending); safe from any thread. */
void evtchn_set_pending(struct domain *d, uint32_t port);
/* Allocate an unbound port for remote_dom (builder: console, store). */
int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote_dom);
int evtchn_send_virq(struct pv_vcpu *v, int virq);
long evtchn_do_op(struct pv_vcpu *v, uint64_t cmd, uint64_t arg);
void evtchn_free_all(struct domain *d);

#endif
