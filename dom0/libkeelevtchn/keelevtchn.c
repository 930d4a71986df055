/*
 * libkeelevtchn (see keelevtchn.h).  Per local port: the domain and its
 * port, keeld's two eventfds (kick: the guest sent; notify: we send), and
 * a mask flag.  The kick fds sit in one epoll set, level-triggered; a
 * port reported by keelevtchn_pending is taken out of the set (events 0)
 * until it is unmasked, so kicks arriving meanwhile are kept by the
 * eventfd's counter and reported once after unmask -- libxenevtchn's
 * semantics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../libkeelctl/keelctl.h"
#include "../libkeelctl/keelctl_int.h"
#include "keelevtchn.h"

struct keelevtchn_port {
	int used;
	int masked;
	uint32_t domid, remote_port;
	int kick_fd, notify_fd;
};

struct keelevtchn {
	struct keelctl *ctl;
	int epfd;
	struct keelevtchn_port ports[KEELEVTCHN_MAX_PORTS + 1]; /* [0] unused */
};

int keelevtchn_open(const char *rundir, struct keelevtchn **out)
{
	struct keelevtchn *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		r = -errno;
		free(h);
		return r;
	}
	r = keelctl_open(rundir, &h->ctl);
	if (r < 0) {
		close(h->epfd);
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

static struct keelevtchn_port *keelevtchn_get(struct keelevtchn *h, keelevtchn_port_t port)
{
	if (port == 0 || port > KEELEVTCHN_MAX_PORTS || !h->ports[port].used)
		return NULL;
	return &h->ports[port];
}

void keelevtchn_close(struct keelevtchn *h)
{
	if (!h)
		return;
	for (uint32_t p = 1; p <= KEELEVTCHN_MAX_PORTS; p++)
		if (h->ports[p].used)
			keelevtchn_unbind(h, p);
	keelctl_close(h->ctl);
	close(h->epfd);
	free(h);
}

int keelevtchn_fd(struct keelevtchn *h)
{
	return h->epfd;
}

int keelevtchn_bind_interdomain(struct keelevtchn *h, uint32_t domid, keelevtchn_port_t remote_port)
{
	struct epoll_event ev = {EPOLLIN, {0}};
	struct keelevtchn_port *e;
	uint32_t p;
	int r;

	for (p = 1; p <= KEELEVTCHN_MAX_PORTS && h->ports[p].used; p++)
		;
	if (p > KEELEVTCHN_MAX_PORTS)
		return -ENOSPC;
	e = &h->ports[p];
	r = keelctl_bind_evtchn(h->ctl, domid, remote_port, &e->kick_fd, &e->notify_fd);
	if (r < 0)
		return r;
	ev.data.u32 = p;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, e->kick_fd, &ev) < 0) {
		r = -errno;
		keelctl_unbind_evtchn(h->ctl, domid, remote_port);
		close(e->kick_fd);
		close(e->notify_fd);
		return r;
	}
	e->used = 1;
	e->masked = 0;
	e->domid = domid;
	e->remote_port = remote_port;
	return (int)p;
}

int keelevtchn_bind_unbound_port(struct keelevtchn *h, uint32_t domid)
{
	return -EOPNOTSUPP;
}

int keelevtchn_notify(struct keelevtchn *h, keelevtchn_port_t port)
{
	struct keelevtchn_port *e = keelevtchn_get(h, port);
	uint64_t one = 1;

	if (!e)
		return -EINVAL;
	if (write(e->notify_fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		return -errno;
	return 0;
}

int keelevtchn_pending(struct keelevtchn *h)
{
	struct epoll_event ev;
	struct keelevtchn_port *e;
	uint64_t n;
	int r;

	r = epoll_wait(h->epfd, &ev, 1, 0);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EAGAIN;
	e = keelevtchn_get(h, ev.data.u32);
	if (!e)
		return -EAGAIN;
	if (read(e->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	ev.events = 0;
	epoll_ctl(h->epfd, EPOLL_CTL_MOD, e->kick_fd, &ev);
	e->masked = 1;
	return (int)ev.data.u32;
}

int keelevtchn_unmask(struct keelevtchn *h, keelevtchn_port_t port)
{
	struct keelevtchn_port *e = keelevtchn_get(h, port);
	struct epoll_event ev = {EPOLLIN, {.u32 = port}};

	if (!e)
		return -EINVAL;
	if (e->masked && epoll_ctl(h->epfd, EPOLL_CTL_MOD, e->kick_fd, &ev) < 0)
		return -errno;
	e->masked = 0;
	return 0;
}

int keelevtchn_unbind(struct keelevtchn *h, keelevtchn_port_t port)
{
	struct keelevtchn_port *e = keelevtchn_get(h, port);
	int r;

	if (!e)
		return -EINVAL;
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, e->kick_fd, NULL);
	r = keelctl_unbind_evtchn(h->ctl, e->domid, e->remote_port);
	close(e->kick_fd);
	close(e->notify_fd);
	memset(e, 0, sizeof(*e));
	return r == -ESRCH ? 0 : r; /* the domain is gone: nothing to undo */
}

int keelevtchn_set_max_port(const char *rundir, uint32_t domid, uint32_t max_port)
{
	struct keelctl_bind_req b = {max_port, 0};
	struct keelctl *h;
	int r = keelctl_open(rundir, &h);

	if (r < 0)
		return r;
	r = keelctl_call(h, KEELCTL_OP_EVTCHN_MAX, domid, &b, sizeof(b), NULL, 0, NULL, NULL);
	keelctl_close(h);
	return r;
}
