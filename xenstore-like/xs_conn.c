/*
 * Connections: message framing and output queueing common to every
 * transport, and the Unix-socket transport.  A transport only moves bytes
 * (struct xs_conn_ops); this file cuts them into xs_wire messages, hands each
 * to the dispatcher, and queues replies and watch events.  Limits keep a
 * client from making us grow: a header announcing more than
 * XENSTORE_PAYLOAD_MAX drops the connection, we stop reading a client whose
 * replies pile up unread (the outstanding quota), and watch events beyond a
 * fixed backlog are dropped and counted.  out_msgs counts what was queued
 * since the output last drained; reaching the outstanding quota pauses reading
 * until the client has taken everything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xs_store.h"

#define XS_EVENT_BACKLOG_MAX (1u << 20) /* bytes of queued output beyond which events drop */
#define XS_MSG_MAX	     (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)

struct xs_conn *xs_conn_new(struct xs_server *s, const struct xs_conn_ops *ops, void *priv, int fd,
			    unsigned domid, bool privileged)
{
	struct xs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->priv = priv;
	c->fd = fd;
	c->srv = s;
	c->domid = domid;
	c->privileged = privileged;
	c->next_txid = 1;
	return c;
}

/* Drop per-connection state: watches and transactions (RESET_WATCHES too). */
void xs_conn_reset(struct xs_conn *c)
{
	struct xs_tx *tx, *nx;

	xs_watch_remove_conn(c->srv, c);
	for (tx = c->txs; tx; tx = nx) {
		nx = xs_tx_next(tx);
		xs_tx_free(tx);
	}
	c->txs = NULL;
	c->ntx = 0;
}

void xs_conn_free(struct xs_conn *c)
{
	xs_conn_reset(c);
	xs_buf_free(&c->out);
	if (c->ops->destroy)
		c->ops->destroy(c);
	free(c);
}

static size_t xs_out_limit(const struct xs_conn *c)
{
	return (size_t)c->srv->quota.outstanding * XS_MSG_MAX;
}

int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		 const void *data, size_t len)
{
	struct xsd_sockmsg h = {type, req_id, tx_id, (uint32_t)len};

	if (c->dead)
		return -EPIPE;
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	if (xs_buf_put(&c->out, &h, sizeof(h)) || xs_buf_put(&c->out, data, len)) {
		c->dead = true; /* cannot answer: drop rather than desynchronise */
		return -ENOMEM;
	}
	c->out_msgs++;
	xs_server_want_flush(c->srv, c);
	return 0;
}

int xs_conn_send_event(struct xs_conn *c, const char *path, const char *token)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;

	if (pl + tl > sizeof(buf))
		return -E2BIG;
	if (c->out.len > XS_EVENT_BACKLOG_MAX + xs_out_limit(c)) {
		c->events_dropped++;
		if (c->events_dropped == c->events_logged * 10 + !c->events_logged) {
			c->events_logged = c->events_dropped; /* log at 1, 10, 100, ... */
			xs_log("connection domid %u not reading: %u watch events dropped", c->domid,
			       c->events_dropped);
		}
		return -ENOSPC;
	}
	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	return xs_conn_send(c, XS_WATCH_EVENT, 0, 0, buf, pl + tl);
}

/* Dispatch every complete message in the input buffer. */
static int xs_conn_parse(struct xs_conn *c)
{
	while (!c->dead && c->in_have >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg hdr = c->in.hdr;
		size_t total = sizeof(hdr) + hdr.len;
		char save;

		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			xs_log("domid %u: message payload %u > %u, dropping connection", c->domid,
			       hdr.len, XENSTORE_PAYLOAD_MAX);
			return -EPROTO;
		}
		if (c->in_have < total)
			break;
		if (c->out_msgs >= c->srv->quota.outstanding) {
			c->blocked = true; /* resume once the client has read its replies */
			break;
		}
		/* Terminate the payload in place for the handlers; restore after. */
		save = c->in.raw[total];
		c->in.raw[total] = 0;
		xs_process(c, &hdr, c->in.raw + sizeof(hdr));
		c->in.raw[total] = save;
		c->in_have -= total;
		if (c->in_have)
			memmove(c->in.raw, c->in.raw + total, c->in_have);
	}
	return 0;
}

/* Read what the transport has and process it.  <0: drop the connection. */
int xs_conn_input(struct xs_conn *c)
{
	int rc;

	for (;;) {
		size_t room = sizeof(c->in.raw) - 1 - c->in_have;
		ssize_t n;

		if (c->dead)
			return -EPIPE;
		rc = xs_conn_parse(c);
		if (rc)
			return rc;
		if (c->blocked || !room)
			return 0;
		n = c->ops->read(c, c->in.raw + c->in_have, room);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
		c->in_have += (uint32_t)n;
	}
}

/* Push queued output; 1 if some remains (wait for writability), <0 error. */
int xs_conn_flush(struct xs_conn *c)
{
	size_t done = 0;
	int rc = 0;

	while (done < c->out.len) {
		ssize_t n = c->ops->write(c, c->out.p + done, c->out.len - done);

		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0) {
			rc = 1;
			break;
		}
		done += (size_t)n;
	}
	xs_buf_consume(&c->out, done);
	if (!c->out.len)
		c->out_msgs = 0;
	if (c->ops->notify)
		c->ops->notify(c);
	if (rc >= 0 && c->blocked && !c->out.len) {
		c->blocked = false;
		if (xs_conn_input(c) < 0)
			c->dead = true;
	}
	return rc;
}

/* ---- the Unix-socket transport ---- */

static ssize_t xs_sock_read(struct xs_conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);

	if (n > 0)
		return n;
	if (n == 0)
		return -ECONNRESET;
	return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
}

static ssize_t xs_sock_write(struct xs_conn *c, const void *buf, size_t len)
{
	ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n >= 0)
		return n;
	return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
}

static void xs_sock_destroy(struct xs_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static const struct xs_conn_ops xs_sock_ops = {
	.kind = "socket",
	.poll_out = true,
	.read = xs_sock_read,
	.write = xs_sock_write,
	.destroy = xs_sock_destroy,
};

/* Socket clients run in dom0 as root: they are privileged, as in Xen. */
struct xs_conn *xs_conn_socket_new(struct xs_server *s, int fd)
{
	return xs_conn_new(s, &xs_sock_ops, NULL, fd, 0, true);
}
