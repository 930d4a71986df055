/*
 * THE LOOPBACK TEST TRANSPORT's event channels: each channel a pair of
 * eventfds, one per direction.  The frontend allocates an unbound port
 * (alloc_unbound); the backend binds it by (domain, port) as with
 * EVTCHNOP_bind_interdomain and gets a local port number of its own.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bk_loop_priv.h"

static struct bk_loop_chan *bk_loop_chan_front(struct bk_loop *loop, uint16_t domid, uint32_t port)
{
	for (unsigned i = 0; i < BK_LOOP_MAX_CHANS; i++)
		if (loop->chans[i].used && loop->chans[i].domid == domid &&
		    loop->chans[i].port == port)
			return &loop->chans[i];
	return NULL;
}

/* Backend local ports are channel index + 1. */
static struct bk_loop_chan *bk_loop_chan_back(struct bk_loop *loop, uint32_t lport)
{
	if (!lport || lport > BK_LOOP_MAX_CHANS || !loop->chans[lport - 1].used ||
	    !loop->chans[lport - 1].bound)
		return NULL;
	return &loop->chans[lport - 1];
}

int bk_loop_evtchn_alloc(struct bk_loop *loop, uint16_t domid, uint32_t *port)
{
	int err = -ENOSPC;

	bk_loop_lock(loop);
	if (!bk_loop_dom(loop, domid)) {
		err = -ESRCH;
		goto out;
	}
	for (unsigned i = 0; i < BK_LOOP_MAX_CHANS; i++) {
		struct bk_loop_chan *c = &loop->chans[i];

		if (c->used)
			continue;
		c->to_back_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		c->to_front_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->to_back_fd < 0 || c->to_front_fd < 0) {
			err = -errno;
			if (c->to_back_fd >= 0)
				close(c->to_back_fd);
			if (c->to_front_fd >= 0)
				close(c->to_front_fd);
			break;
		}
		c->used = true;
		c->bound = false;
		c->domid = domid;
		/* Guest port numbers: small, distinct per domain, never 0. */
		c->port = i + 10;
		*port = c->port;
		err = 0;
		break;
	}
out:
	bk_loop_unlock(loop);
	return err;
}

static int bk_loop_fd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

static int bk_loop_fd_drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v) && errno != EAGAIN)
		return -errno;
	return 0;
}

int bk_loop_evtchn_front_fd(struct bk_loop *loop, uint16_t domid, uint32_t port)
{
	struct bk_loop_chan *c;
	int fd;

	bk_loop_lock(loop);
	c = bk_loop_chan_front(loop, domid, port);
	fd = c ? c->to_front_fd : -ENOENT;
	bk_loop_unlock(loop);
	return fd;
}

int bk_loop_evtchn_front_notify(struct bk_loop *loop, uint16_t domid, uint32_t port)
{
	struct bk_loop_chan *c;
	int err;

	bk_loop_lock(loop);
	c = bk_loop_chan_front(loop, domid, port);
	err = c ? bk_loop_fd_signal(c->to_back_fd) : -ENOENT;
	bk_loop_unlock(loop);
	return err;
}

int bk_loop_evtchn_front_wait(struct bk_loop *loop, uint16_t domid, uint32_t port, int timeout_ms)
{
	int fd = bk_loop_evtchn_front_fd(loop, domid, port);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;

	if (fd < 0)
		return fd;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!n)
		return -ETIMEDOUT;
	return bk_loop_fd_drain(fd);
}

bool bk_loop_evtchn_bound(struct bk_loop *loop, uint16_t domid, uint32_t port)
{
	struct bk_loop_chan *c;
	bool b;

	bk_loop_lock(loop);
	c = bk_loop_chan_front(loop, domid, port);
	b = c && c->bound;
	bk_loop_unlock(loop);
	return b;
}

static int bk_loop_bind(void *ctx, uint16_t domid, uint32_t remote_port, uint32_t *local_port)
{
	struct bk_loop *loop = ctx;
	struct bk_loop_chan *c;
	int err = 0;

	bk_loop_lock(loop);
	c = bk_loop_chan_front(loop, domid, remote_port);
	if (!c)
		err = -EINVAL; /* Xen: the remote port is not an unbound port of domid */
	else if (c->bound && (c->binder == getpid() || kill(c->binder, 0) == 0))
		err = -EBUSY;
	else {
		/* Unbound, or bound by a process that died: its kernel would have closed it. */
		c->bound = true;
		c->binder = getpid();
		*local_port = (uint32_t)(c - loop->chans) + 1;
	}
	bk_loop_unlock(loop);
	return err;
}

static int bk_loop_unbind(void *ctx, uint32_t lport)
{
	struct bk_loop *loop = ctx;
	struct bk_loop_chan *c;
	int err = 0;

	bk_loop_lock(loop);
	c = bk_loop_chan_back(loop, lport);
	if (c)
		c->bound = false;
	else
		err = -EINVAL;
	bk_loop_unlock(loop);
	return err;
}

static int bk_loop_back_fd(void *ctx, uint32_t lport)
{
	struct bk_loop *loop = ctx;
	struct bk_loop_chan *c;
	int fd;

	bk_loop_lock(loop);
	c = bk_loop_chan_back(loop, lport);
	fd = c ? c->to_back_fd : -EINVAL;
	bk_loop_unlock(loop);
	return fd;
}

static int bk_loop_back_notify(void *ctx, uint32_t lport)
{
	struct bk_loop *loop = ctx;
	struct bk_loop_chan *c;
	int err;

	bk_loop_lock(loop);
	c = bk_loop_chan_back(loop, lport);
	err = c ? bk_loop_fd_signal(c->to_front_fd) : -EINVAL;
	bk_loop_unlock(loop);
	return err;
}

static int bk_loop_back_consume(void *ctx, uint32_t lport)
{
	struct bk_loop *loop = ctx;
	struct bk_loop_chan *c;
	int err;

	bk_loop_lock(loop);
	c = bk_loop_chan_back(loop, lport);
	err = c ? bk_loop_fd_drain(c->to_back_fd) : -EINVAL;
	bk_loop_unlock(loop);
	return err;
}

const struct bk_evtchn_ops bk_loop_evtchn_ops = {
	.name = "loopback-test",
	.bind = bk_loop_bind,
	.unbind = bk_loop_unbind,
	.fd = bk_loop_back_fd,
	.notify = bk_loop_back_notify,
	.consume = bk_loop_back_consume,
};
