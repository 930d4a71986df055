/*
 * Keel's libxenevtchn.so.1: the ABI of Xen 4.17's <xenevtchn.h> (symbols
 * versioned VERS_1.0..1.2 as Xen's), over libkeelevtchn.  Functions
 * return -1 (or NULL) with errno set on failure, as Xen's do.
 *
 * What differs from Xen, on purpose:
 *  - local ports are the handle's own (1, 2, ...), not a dom0 port table;
 *  - bind_unbound_port fails with EOPNOTSUPP: in Keel guests allocate the
 *    port and dom0 binds to it;
 *  - bind_virq: a number past NR_VIRQS fails with EINVAL, as in Xen; a
 *    VIRQ for which keeld has no dom0 source fails with EOPNOTSUPP;
 *  - xenevtchn_pending on a handle whose fd is blocking waits for an
 *    event, as read() on Xen's /dev/xen/evtchn does; on a handle whose fd
 *    was made O_NONBLOCK it fails with EAGAIN when nothing is pending;
 *  - restrict and fdopen: see evtchn.c.
 */
#ifndef KEEL_XENEVTCHN_H
#define KEEL_XENEVTCHN_H

#include <stdint.h>

#include "abi/event_channel.h"
#include "xentoolcore.h"

typedef int xenevtchn_port_or_error_t;
typedef struct xenevtchn_handle xenevtchn_handle;
struct xentoollog_logger; /* accepted and ignored: Keel logs to stderr */

#define XENEVTCHN_NO_CLOEXEC (1 << 0)

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags);
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned int open_flags);
int xenevtchn_close(xenevtchn_handle *xce);
int xenevtchn_fd(xenevtchn_handle *xce);
int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port);
xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid);
xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port);
xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq);
int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port);
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce);
int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port);
int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid);

#endif
