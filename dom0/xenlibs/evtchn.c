/*
 * libxenevtchn.so.1 for Keel: Xen's event-channel library ABI on
 * libkeelevtchn, which already has Xen's shape (one pollable fd, pending
 * masks a port until unmask).  What this file adds is Xen's calling
 * convention (-1 and errno, NULL handles) and the errno Linux's
 * /dev/xen/evtchn gives for each refusal, so a program written against
 * Xen takes the same error paths here.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "../libkeelevtchn/keelevtchn.h"
#include "include/xenevtchn.h"

/* Linux's evtchn driver checks a port against the number of channels the
 * ABI in use has (FIFO: 2^17) before looking for it among the handle's
 * own: past that it says EINVAL, a port it does not hold ENOTCONN. */
#define XENEVTCHN_NR_CHANNELS (1u << 17)

struct xenevtchn_handle {
	struct keelevtchn *ke;
};

/* A negative errno from libkeelevtchn as Xen's -1 with errno. */
static int xenevtchn_ret(int r)
{
	if (r >= 0)
		return r;
	errno = -r;
	return -1;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xenevtchn_handle *xce = calloc(1, sizeof(*xce));
	int r;

	if (!xce)
		return NULL;
	r = keelevtchn_open(NULL, &xce->ke);
	if (r < 0) {
		free(xce);
		errno = -r;
		return NULL;
	}
	/* Only the fd the caller sees is inherited: the bindings belong to
	 * this process's connection to keeld, as Xen's belong to its fd. */
	if (flags & XENEVTCHN_NO_CLOEXEC)
		fcntl(keelevtchn_fd(xce->ke), F_SETFD, 0);
	return xce;
}

/* Xen's fdopen wraps an fd already open on /dev/xen/evtchn; Keel has no
 * such device, and a libkeelevtchn fd cannot be adopted without the
 * connection behind it. */
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned int open_flags)
{
	errno = EOPNOTSUPP;
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	keelevtchn_close(xce->ke);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return keelevtchn_fd(xce->ke);
}

/* Linux's answer for a port the handle does not hold. */
static int xenevtchn_bad_port(evtchn_port_t port)
{
	errno = port >= XENEVTCHN_NR_CHANNELS ? EINVAL : ENOTCONN;
	return -1;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int r = keelevtchn_notify(xce->ke, port);

	return r == -EINVAL ? xenevtchn_bad_port(port) : xenevtchn_ret(r);
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	return xenevtchn_ret(keelevtchn_bind_unbound_port(xce->ke, domid));
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	return xenevtchn_ret(keelevtchn_bind_interdomain(xce->ke, domid, remote_port));
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	return xenevtchn_ret(keelevtchn_bind_virq(xce->ke, virq));
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	int r = keelevtchn_unbind(xce->ke, port);

	return r == -EINVAL ? xenevtchn_bad_port(port) : xenevtchn_ret(r);
}

/* read() on Xen's device blocks until a port fires unless the fd was
 * made non-blocking; the caller's choice is the fd's O_NONBLOCK flag. */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	int fd = keelevtchn_fd(xce->ke);
	int fl = fcntl(fd, F_GETFL);
	int r;

	while ((r = keelevtchn_pending(xce->ke)) == -EAGAIN && fl >= 0 && !(fl & O_NONBLOCK)) {
		struct pollfd pfd = {fd, POLLIN, 0};

		if (poll(&pfd, 1, -1) < 0)
			return -1; /* EINTR, as an interrupted read */
	}
	return xenevtchn_ret(r);
}

/* Linux ignores a port the handle does not hold when unmasking. */
int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	int r = keelevtchn_unmask(xce->ke, port);

	return r == -EINVAL ? 0 : xenevtchn_ret(r);
}

/* Nothing to confine a handle to on Keel (see toolcore.c); say so once. */
int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	static int told;

	if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
		fprintf(stderr,
			"libxenevtchn (Keel): restrict to domain %u: not restricted on "
			"Keel\n",
			domid);
	return 0;
}
