/*
 * Event-channel helpers for frontends.  A port a driver allocates here is
 * kept MASKED: the upcall handler never consumes it, and the driver waits
 * with SCHEDOP_poll, which wakes on the pending bit whatever the mask, then
 * clears the bit itself.  No lost wake-ups, no upcall per event.
 */
#ifndef KEEL_RT_EVTCHN_H
#define KEEL_RT_EVTCHN_H

#include <stdint.h>

#include "abi/event_channel.h"

/* A new port for remote_dom to bind (EVTCHNOP_alloc_unbound), masked. */
int rt_evtchn_alloc_unbound(uint16_t remote_dom, uint32_t *port);
int rt_evtchn_notify(uint32_t port);
int rt_evtchn_close(uint32_t port);
void rt_evtchn_mask(uint32_t port);
/* Test and clear the port's pending bit: 1 if it was set. */
int rt_evtchn_test_clear(uint32_t port);
/*
 * Wait until one of ports[0..n) is pending (n <= 128), at most timeout_ns
 * (0: forever).  Clears the pending bits it finds; returns a bit mask of
 * the indices that fired (the first 32), or -XEN_ETIME.
 */
int rt_evtchn_wait(const uint32_t *ports, unsigned n, uint64_t timeout_ns);
/* Sleep for ns (SCHEDOP_poll on no port with a deadline). */
void rt_sleep_ns(uint64_t ns);

#endif
