/*
 * The store-ring transport: a guest's xenstore_domain_interface page
 * (abi/xs_wire.h) plus two notification fds.  The guest kicks us through
 * kick_fd (an eventfd today; keeld's event channel later), we kick it by
 * writing notify_fd.  The page is guest memory: every index is read once,
 * checked (producer - consumer may never exceed the ring size) and a bad one
 * stops the connection with XENSTORE_ERROR_RINGIDX rather than trusting it.
 * A guest that sets connection = XENSTORE_RECONNECT gets its watches and
 * transactions dropped and its rings reset, as Xen's reconnection feature
 * promises.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_store.h"

struct xs_ring {
	volatile struct xenstore_domain_interface *intf;
	int kick_fd;
	int notify_fd;
	bool notify_needed;
};

static uint32_t xs_ring_load(volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void xs_ring_store(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int xs_ring_check_reconnect(struct xs_conn *c, struct xs_ring *r)
{
	if (xs_ring_load(&r->intf->connection) != XENSTORE_RECONNECT)
		return 0;
	xs_conn_reset(c);
	c->in_have = 0;
	xs_buf_consume(&c->out, c->out.len);
	r->intf->req_cons = r->intf->req_prod = 0;
	r->intf->rsp_cons = r->intf->rsp_prod = 0;
	r->intf->error = XENSTORE_ERROR_NONE;
	xs_ring_store(&r->intf->connection, XENSTORE_CONNECTED);
	r->notify_needed = true;
	return 1;
}

static ssize_t xs_ring_read(struct xs_conn *c, void *buf, size_t len)
{
	struct xs_ring *r = c->priv;
	uint32_t cons, prod, avail, off, chunk;

	if (xs_ring_check_reconnect(c, r))
		return 0;
	if (r->intf->error)
		return -EIO;
	cons = r->intf->req_cons;
	prod = xs_ring_load(&r->intf->req_prod);
	avail = prod - cons;
	if (avail > XENSTORE_RING_SIZE) {
		r->intf->error = XENSTORE_ERROR_RINGIDX;
		return -EIO;
	}
	if (avail > len)
		avail = (uint32_t)len;
	off = MASK_XENSTORE_IDX(cons);
	chunk = XENSTORE_RING_SIZE - off;
	if (chunk > avail)
		chunk = avail;
	memcpy(buf, (const char *)r->intf->req + off, chunk);
	memcpy((char *)buf + chunk, (const char *)r->intf->req, avail - chunk);
	if (avail) {
		xs_ring_store(&r->intf->req_cons, cons + avail);
		r->notify_needed = true;
		/*
		 * Our next look at req_prod must not pass this store.  Linux
		 * kicks only when it finds everything before its new bytes
		 * consumed (xb_write: prod <= req_cons); if our load of
		 * req_prod overtook our store of req_cons (a store-buffer
		 * reordering x86 allows), each side could see the other's old
		 * index: we stop reading, it does not kick, and its request
		 * waits for ever.  See also xs_ring_has_input.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return avail;
}

/* Unread requests on the ring (the server's last look before it sleeps). */
static bool xs_ring_has_input(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !r->intf->error && (xs_ring_load(&r->intf->req_prod) != r->intf->req_cons ||
				   xs_ring_load(&r->intf->connection) == XENSTORE_RECONNECT);
}

static ssize_t xs_ring_write(struct xs_conn *c, const void *buf, size_t len)
{
	struct xs_ring *r = c->priv;
	uint32_t cons, prod, used, room, off, chunk;

	if (r->intf->error)
		return -EIO;
	cons = xs_ring_load(&r->intf->rsp_cons);
	prod = r->intf->rsp_prod;
	used = prod - cons;
	if (used > XENSTORE_RING_SIZE) {
		r->intf->error = XENSTORE_ERROR_RINGIDX;
		return -EIO;
	}
	room = XENSTORE_RING_SIZE - used;
	if (room > len)
		room = (uint32_t)len;
	off = MASK_XENSTORE_IDX(prod);
	chunk = XENSTORE_RING_SIZE - off;
	if (chunk > room)
		chunk = room;
	memcpy((char *)r->intf->rsp + off, buf, chunk);
	memcpy((char *)r->intf->rsp, (const char *)buf + chunk, room - chunk);
	if (room) {
		xs_ring_store(&r->intf->rsp_prod, prod + room);
		r->notify_needed = true;
	}
	return room;
}

static void xs_ring_notify(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;
	uint64_t one = 1;

	if (!r->notify_needed)
		return;
	r->notify_needed = false;
	if (write(r->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		xs_log("domid %u: notify failed: %s", c->domid, strerror(errno));
}

/* Clear the kick: it only says "look"; the indices are the truth. */
static void xs_ring_ack(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;
	uint64_t cnt;

	if (read(r->kick_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		xs_log("domid %u: reading kick: %s", c->domid, strerror(errno));
}

static void xs_ring_destroy(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;
	struct xs_server *s = c->srv;

	if (c->dead && !r->intf->error)
		r->intf->error = XENSTORE_ERROR_PROTO;
	if (s->mapper.unmap)
		s->mapper.unmap(s->mapper.opaque, c->domid, (void *)r->intf, r->kick_fd,
				r->notify_fd);
	free(r);
	c->priv = NULL;
	c->fd = -1;
}

/* The ring's indices and flags as the guest left them (for diagnosis). */
static int xs_ring_describe(struct xs_conn *c, char *buf, size_t len)
{
	struct xs_ring *r = c->priv;

	return snprintf(buf, len, "req %u/%u rsp %u/%u error %u connection %u",
			xs_ring_load(&r->intf->req_cons), xs_ring_load(&r->intf->req_prod),
			xs_ring_load(&r->intf->rsp_cons), xs_ring_load(&r->intf->rsp_prod),
			xs_ring_load(&r->intf->error), xs_ring_load(&r->intf->connection));
}

static const struct xs_conn_ops xs_ring_ops = {
	.kind = "ring",
	.read = xs_ring_read,
	.write = xs_ring_write,
	.notify = xs_ring_notify,
	.ack = xs_ring_ack,
	.destroy = xs_ring_destroy,
	.describe = xs_ring_describe,
	.has_input = xs_ring_has_input,
};

/*
 * Serve a guest's store page.  The fds stay owned by whoever mapped the page
 * (the mapper's unmap releases them); a domain's ring connection is never
 * privileged, whatever its domid.
 */
struct xs_conn *xs_conn_ring_new(struct xs_server *s, unsigned domid, void *page, int kick_fd,
				 int notify_fd)
{
	struct xs_ring *r = calloc(1, sizeof(*r));
	struct xs_conn *c;

	if (!r)
		return NULL;
	/* The event loop must never block on a kick that was already consumed. */
	fcntl(kick_fd, F_SETFL, fcntl(kick_fd, F_GETFL) | O_NONBLOCK);
	r->intf = page;
	r->kick_fd = kick_fd;
	r->notify_fd = notify_fd;
	c = xs_conn_new(s, &xs_ring_ops, r, kick_fd, domid, false);
	if (!c) {
		free(r);
		return NULL;
	}
	r->intf->server_features =
		XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;
	return c;
}
