/*
 * libkeelevtchn: event channels for dom0 processes, in the shape of Xen's
 * libxenevtchn (open, bind, one fd to poll, pending/unmask, notify,
 * unbind, close) -- what keel-xenstored and the backends use.  A thin
 * layer over libkeelctl's keelctl_bind_evtchn: each bound port is a pair
 * of eventfds from keeld; the handle multiplexes them behind one epoll fd.
 *
 * Local ports are this handle's own numbers (1, 2, ...): dom0 has no port
 * table inside keeld.  Functions return >= 0 or a negative errno.
 */
#ifndef KEEL_KEELEVTCHN_H
#define KEEL_KEELEVTCHN_H

#include <stdint.h>

#define KEELEVTCHN_MAX_PORTS 256

struct keelevtchn;
typedef uint32_t keelevtchn_port_t;

/* rundir: keeld's run directory (NULL: $KEEL_RUNDIR or /run/keel). */
int keelevtchn_open(const char *rundir, struct keelevtchn **out);
void keelevtchn_close(struct keelevtchn *h);
/* The fd to poll for readability; then call keelevtchn_pending. */
int keelevtchn_fd(struct keelevtchn *h);
/* Bind to remote_port of domain domid (a port the guest allocated unbound
 * for dom0); returns the local port. */
int keelevtchn_bind_interdomain(struct keelevtchn *h, uint32_t domid,
				keelevtchn_port_t remote_port);
/* dom0 allocating a port for a guest to bind: not offered by keeld
 * (guests allocate, dom0 binds); returns -EOPNOTSUPP. */
int keelevtchn_bind_unbound_port(struct keelevtchn *h, uint32_t domid);
/* A VIRQ for dom0: VIRQ_DOM_EXC fires on every domain state change
 * (keeld's event stream); keeld has no source for the others
 * (-EOPNOTSUPP), and a number past NR_VIRQS is -EINVAL, as in Xen.  A
 * VIRQ bound twice on one handle is -EEXIST.  Returns the local port. */
int keelevtchn_bind_virq(struct keelevtchn *h, uint32_t virq);
int keelevtchn_notify(struct keelevtchn *h, keelevtchn_port_t port);
/* The next port that fired (it is then masked until keelevtchn_unmask),
 * or -EAGAIN if none has. */
int keelevtchn_pending(struct keelevtchn *h);
int keelevtchn_unmask(struct keelevtchn *h, keelevtchn_port_t port);
int keelevtchn_unbind(struct keelevtchn *h, keelevtchn_port_t port);

/* Admin: domain domid's max_event_channels (Xen's max_evtchn_port: the
 * guest may allocate ports 1..max_port; keeld's default is 1023). */
int keelevtchn_set_max_port(const char *rundir, uint32_t domid, uint32_t max_port);

#endif
