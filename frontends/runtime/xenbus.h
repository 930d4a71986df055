/*
 * The runtime's xenbus client: xs_wire requests over the domain's store
 * ring (start_info's store_mfn / store_evtchn), one at a time, the way a
 * kernel's xenbus talks to xenstored.  Watch events that arrive while a
 * reply is awaited are queued (a small bounded queue; the oldest is
 * dropped and counted when it overflows) and handed out by xb_wait_watch.
 * On top: the XenbusState helpers a frontend's handshake needs.
 *
 * Every call returns >= 0 on success or a negative Xen errno (-XEN_ENOENT,
 * -XEN_EACCES, ... from the store's error reply; -XEN_ETIME when the store
 * does not answer in time; -XEN_EIO on a malformed reply; -XEN_E2BIG when a
 * reply does not fit the caller's buffer).  Paths may be relative (to
 * /local/domain/<self>) or absolute.  Not reentrant: one vCPU, no upcall
 * context.
 */
#ifndef KEEL_RT_XENBUS_H
#define KEEL_RT_XENBUS_H

#include <stdint.h>

#include "abi/xenbus.h"
#include "abi/xs_wire.h"

/* Map the store ring, mask and poll its port.  Idempotent. */
int xb_init(void);

/* The store's event channel (masked; the client polls it), or 0. */
uint32_t xb_evtchn(void);

/* This domain's id (read once from the store's "domid" node). */
int xb_domid(void);

/* Read a node into buf (NUL-terminated); the value's length. */
int xb_read(const char *path, char *buf, unsigned size);
/* Read a decimal (or 0x hex) unsigned number; -XEN_EINVAL if it is not one. */
int xb_read_u64(const char *path, uint64_t *val);
int xb_write(const char *path, const char *val);
int xb_printf(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int xb_rm(const char *path);
/* The children of a node, NUL-separated, into buf; the number of children. */
int xb_directory(const char *path, char *buf, unsigned size);

/*
 * One raw request (payload a\0 then b, b's NUL included when b_nul), for
 * tests that look at the reply itself: returns the reply's type (XS_ERROR
 * with the errno name in out, or the request's type) or a negative errno
 * for a transport failure.  out gets the body, NUL-terminated; a listing's
 * inner NULs are kept.
 */
int xb_call(uint32_t type, const char *a, const char *b, int b_nul, char *out, unsigned size);

/* Register / drop a watch; it fires once when set and then on each change. */
int xb_watch(const char *path, const char *token);
int xb_unwatch(const char *path, const char *token);
/*
 * Wait up to timeout_ns for a watch event with this token (any token when
 * NULL); its path into path (may be NULL).  0, or -XEN_ETIME.
 */
int xb_wait_watch(const char *token, char *path, unsigned size, uint64_t timeout_ns);
/*
 * Without waiting: read the whole watch events the ring holds, then take
 * the first queued one for token (any when NULL).  1 if one was taken,
 * 0 if none, or a negative errno.
 */
int xb_poll_watch(const char *token, char *path, unsigned size);
/* Events received so far (for tests) and events lost to overflow. */
unsigned xb_watch_events(void);
unsigned xb_watch_dropped(void);

/*
 * Xen's suspend protocol (suspend.c calls these).  xb_suspend: -XEN_EBUSY
 * if a request is outstanding.  xb_resume(fresh): in a new life, the
 * store port from start_info (masked, polled), the response ring's
 * leftovers dropped, the domid read again when next asked, and every
 * watch set again (each fires once, as a new watch does).
 */
int xb_suspend(void);
int xb_resume(int fresh);

/* Write <dir>/state. */
int xb_switch_state(const char *dir, enum xenbus_state state);
/* Read <dir>/state (XenbusStateUnknown when absent). */
int xb_read_state(const char *dir);
/*
 * Wait up to timeout_ns until <dir>/state is one of the states in mask
 * (bit 1 << state), watching it; returns the state reached or -XEN_ETIME.
 */
int xb_wait_state(const char *dir, unsigned mask, uint64_t timeout_ns);
/* A device's backend path and id: <dev>/backend and <dev>/backend-id. */
int xb_read_backend(const char *dev, char *be, unsigned size, unsigned *be_id);

#endif
