/*
 * libkeelevtchn (see keelevtchn.h).  Per local port: the domain and its
 * port, keeld's two eventfds (kick: the guest sent; notify: we send), and
 * a mask flag.  The kick fds sit in one epoll set, level-triggered; a
 * port reported by keelevtchn_pending is taken out of the set (events 0)
 * until it is unmasked, so kicks arriving meanwhile are kept by the
 * eventfd's counter and reported once after unmask -- libxenevtchn's
 * semantics.  A VIRQ port has no eventfds: its "kick" fd is a keeld
 * connection subscribed to domain events, drained when it is reported.
 *
 * The handles of one process share one control connection to keeld per
 * run directory (reference-counted): a handle costs keeld no client slot
 * of its own, so a backend can hold one handle per port, as Linux's
 * /dev/xen/evtchn lets it.  Bindings belong to that connection, and keeld
 * releases them when it closes (the process died); a handle that is closed
 * unbinds its own ports first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../libkeelctl/keelctl.h"
#include "../libkeelctl/keelctl_int.h"
#include "abi/event_channel.h"
#include "keelevtchn.h"

struct keelevtchn_port {
	int used;
	int masked;
	uint32_t domid, remote_port;
	int kick_fd, notify_fd;
	uint32_t virq;		  /* VIRQ ports only */
	struct keelctl *virq_ctl; /* VIRQ ports: the subscribed connection */
};

/* A control connection shared by the handles of one run directory. */
struct keelevtchn_conn {
	struct keelevtchn_conn *next;
	char *rundir; /* NULL: the default */
	struct keelctl *ctl;
	unsigned refs;
};

static pthread_mutex_t keelevtchn_conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keelevtchn_conn *keelevtchn_conns;

struct keelevtchn {
	struct keelevtchn_conn *conn;
	char *rundir; /* for the connections VIRQ ports open */
	int epfd;
	struct keelevtchn_port ports[KEELEVTCHN_MAX_PORTS + 1]; /* [0] unused */
};

static int keelevtchn_same_dir(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The process's connection for rundir, opened on first use. */
static int keelevtchn_conn_get(const char *rundir, struct keelevtchn_conn **out)
{
	struct keelevtchn_conn *c;
	int r = 0;

	pthread_mutex_lock(&keelevtchn_conn_lock);
	for (c = keelevtchn_conns; c && !keelevtchn_same_dir(c->rundir, rundir); c = c->next)
		;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || (rundir && !(c->rundir = strdup(rundir))))
			r = -ENOMEM;
		else
			r = keelctl_open(rundir, &c->ctl);
		if (r < 0) {
			if (c)
				free(c->rundir);
			free(c);
		} else {
			c->next = keelevtchn_conns;
			keelevtchn_conns = c;
		}
	}
	if (r == 0) {
		c->refs++;
		*out = c;
	}
	pthread_mutex_unlock(&keelevtchn_conn_lock);
	return r;
}

static void keelevtchn_conn_put(struct keelevtchn_conn *c)
{
	pthread_mutex_lock(&keelevtchn_conn_lock);
	if (--c->refs == 0) {
		struct keelevtchn_conn **pp = &keelevtchn_conns;

		while (*pp != c)
			pp = &(*pp)->next;
		*pp = c->next;
		keelctl_close(c->ctl);
		free(c->rundir);
		free(c);
	}
	pthread_mutex_unlock(&keelevtchn_conn_lock);
}

/* A bind or unbind on the shared connection (one call at a time on it). */
static int keelevtchn_call(struct keelevtchn *h, int bind, uint32_t domid, uint32_t port, int *kick,
			   int *notify)
{
	int r;

	pthread_mutex_lock(&keelevtchn_conn_lock);
	r = bind ? keelctl_bind_evtchn(h->conn->ctl, domid, port, kick, notify)
		 : keelctl_unbind_evtchn(h->conn->ctl, domid, port);
	pthread_mutex_unlock(&keelevtchn_conn_lock);
	return r;
}

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
	r = keelevtchn_conn_get(rundir, &h->conn);
	if (r == 0 && rundir && !(h->rundir = strdup(rundir))) {
		keelevtchn_conn_put(h->conn);
		r = -ENOMEM;
	}
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
	keelevtchn_conn_put(h->conn);
	close(h->epfd);
	free(h->rundir);
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
	r = keelevtchn_call(h, 1, domid, remote_port, &e->kick_fd, &e->notify_fd);
	if (r < 0)
		return r;
	ev.data.u32 = p;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, e->kick_fd, &ev) < 0) {
		r = -errno;
		keelevtchn_call(h, 0, domid, remote_port, NULL, NULL);
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

int keelevtchn_bind_virq(struct keelevtchn *h, uint32_t virq)
{
	struct epoll_event ev = {EPOLLIN, {0}};
	struct keelevtchn_port *e;
	struct keelctl *sub;
	uint32_t p;
	int r, fd;

	if (virq >= NR_VIRQS)
		return -EINVAL;
	if (virq != VIRQ_DOM_EXC)
		return -EOPNOTSUPP;
	for (p = 1; p <= KEELEVTCHN_MAX_PORTS; p++)
		if (h->ports[p].used && h->ports[p].virq_ctl && h->ports[p].virq == virq)
			return -EEXIST;
	for (p = 1; p <= KEELEVTCHN_MAX_PORTS && h->ports[p].used; p++)
		;
	if (p > KEELEVTCHN_MAX_PORTS)
		return -ENOSPC;
	r = keelctl_open(h->rundir, &sub);
	if (r < 0)
		return r;
	r = keelctl_subscribe(sub);
	fd = keelctl_event_fd(sub);
	if (r == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		r = -errno;
	ev.data.u32 = p;
	if (r == 0 && epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		r = -errno;
	if (r < 0) {
		keelctl_close(sub);
		return r;
	}
	e = &h->ports[p];
	*e = (struct keelevtchn_port){
		.used = 1, .kick_fd = fd, .notify_fd = -1, .virq = virq, .virq_ctl = sub};
	return (int)p;
}

int keelevtchn_notify(struct keelevtchn *h, keelevtchn_port_t port)
{
	struct keelevtchn_port *e = keelevtchn_get(h, port);
	uint64_t one = 1;

	if (!e)
		return -EINVAL;
	if (e->virq_ctl)
		return 0; /* nobody to send to; Linux ignores it too */
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
	if (e->virq_ctl) {
		struct keelctl_event dev;

		/* Every state change so far is one event, as Xen's VIRQ
		 * coalesces while pending; the reader rescans the domains. */
		while (keelctl_read_event(e->virq_ctl, &dev) == 0)
			;
	} else if (read(e->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
		return -errno;
	}
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
	if (e->virq_ctl) {
		keelctl_close(e->virq_ctl); /* closes kick_fd */
		memset(e, 0, sizeof(*e));
		return 0;
	}
	r = keelevtchn_call(h, 0, e->domid, e->remote_port, NULL, NULL);
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
