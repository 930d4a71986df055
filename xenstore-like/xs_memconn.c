/*
 * An in-memory transport: the unit tests and the fuzzer talk to the real
 * dispatcher through it, with no sockets.  Input is fed as raw bytes (so
 * framing is exercised too); output is captured and popped message by
 * message, watch events set aside so a test can check them separately.
 * out_cap simulates a client that stops reading.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

struct xs_mem {
	struct xs_buf in;
	size_t in_off;
	struct xs_buf out;
	size_t out_cap;	      /* accept at most this many bytes (0 = unlimited) */
	struct xs_buf events; /* "path\0token\0" records */
	uint32_t req_id;
};

static ssize_t xs_mem_read(struct xs_conn *c, void *buf, size_t len)
{
	struct xs_mem *m = c->priv;
	size_t n = m->in.len - m->in_off;

	if (n > len)
		n = len;
	memcpy(buf, m->in.p + m->in_off, n);
	m->in_off += n;
	if (m->in_off == m->in.len)
		m->in.len = m->in_off = 0;
	return (ssize_t)n;
}

static ssize_t xs_mem_write(struct xs_conn *c, const void *buf, size_t len)
{
	struct xs_mem *m = c->priv;

	if (m->out_cap) {
		size_t room = m->out.len >= m->out_cap ? 0 : m->out_cap - m->out.len;

		if (len > room)
			len = room;
	}
	return xs_buf_put(&m->out, buf, len) ? -ENOMEM : (ssize_t)len;
}

static void xs_mem_destroy(struct xs_conn *c)
{
	struct xs_mem *m = c->priv;

	xs_buf_free(&m->in);
	xs_buf_free(&m->out);
	xs_buf_free(&m->events);
	free(m);
}

static const struct xs_conn_ops xs_mem_ops = {
	.kind = "memory",
	.poll_out = true,
	.read = xs_mem_read,
	.write = xs_mem_write,
	.destroy = xs_mem_destroy,
};

/* A connection not registered with epoll (fd -1), added to the server's list. */
struct xs_conn *xs_memconn_new(struct xs_server *s, unsigned domid, bool privileged)
{
	struct xs_mem *m = calloc(1, sizeof(*m));
	struct xs_conn *c;

	if (!m)
		return NULL;
	c = xs_conn_new(s, &xs_mem_ops, m, -1, domid, privileged);
	if (!c) {
		free(m);
		return NULL;
	}
	if (xs_server_add_conn(s, c)) {
		xs_conn_free(c);
		return NULL;
	}
	return c;
}

void xs_memconn_set_cap(struct xs_conn *c, size_t cap)
{
	((struct xs_mem *)c->priv)->out_cap = cap;
}

size_t xs_memconn_pending(struct xs_conn *c)
{
	return ((struct xs_mem *)c->priv)->out.len;
}

/* Feed raw bytes and let the server process and flush them. */
int xs_memconn_feed(struct xs_conn *c, const void *data, size_t len)
{
	struct xs_mem *m = c->priv;
	int rc;

	if (xs_buf_put(&m->in, data, len))
		return -ENOMEM;
	rc = xs_conn_input(c);
	if (rc < 0)
		c->dead = true;
	xs_server_commit(c->srv);
	return rc;
}

/* Pop the next captured message of any type; body gets a NUL after it. */
int xs_memconn_next(struct xs_conn *c, struct xsd_sockmsg *hdr, char *body, size_t cap)
{
	struct xs_mem *m = c->priv;

	if (m->out.len < sizeof(*hdr))
		return -ENOENT;
	memcpy(hdr, m->out.p, sizeof(*hdr));
	if (m->out.len < sizeof(*hdr) + hdr->len || hdr->len + 1 > cap)
		return -EMSGSIZE;
	memcpy(body, m->out.p + sizeof(*hdr), hdr->len);
	body[hdr->len] = 0;
	xs_buf_consume(&m->out, sizeof(*hdr) + hdr->len);
	return 0;
}

/*
 * Send one request; return the reply's payload length (reply copied into
 * buf, NUL-terminated) or -errno for an ERROR reply.  Watch events that
 * come first are kept for xs_memconn_event().
 */
int xs_memconn_call(struct xs_conn *c, uint32_t type, uint32_t tx, const void *payload, size_t len,
		    char *buf, size_t cap)
{
	struct xs_mem *m = c->priv;
	struct xsd_sockmsg h = {type, ++m->req_id, tx, (uint32_t)len};
	char body[XENSTORE_PAYLOAD_MAX + 1];
	int rc;

	xs_buf_put(&m->in, &h, sizeof(h));
	if (xs_memconn_feed(c, payload, len) < 0)
		return -EPIPE;
	for (;;) {
		rc = xs_memconn_next(c, &h, body, sizeof(body));
		if (rc)
			return rc == -ENOENT ? -ENODATA : rc;
		if (h.type != XS_WATCH_EVENT)
			break;
		xs_buf_put(&m->events, body, h.len);
	}
	if (h.type == XS_ERROR)
		return -xs_errno_from_name(body);
	if (h.req_id != m->req_id || (h.type != type))
		return -EPROTO;
	if (buf) {
		size_t n = h.len < cap ? h.len : cap - 1;

		memcpy(buf, body, n);
		buf[n] = 0;
	}
	return (int)h.len;
}

/* Request whose payload is the given strings, each NUL-terminated. */
int xs_memconn_callv(struct xs_conn *c, uint32_t type, uint32_t tx, char *buf, size_t cap, ...)
{
	char payload[XENSTORE_PAYLOAD_MAX];
	size_t len = 0;
	const char *s;
	va_list ap;

	va_start(ap, cap);
	while ((s = va_arg(ap, const char *))) {
		size_t l = strlen(s) + 1;

		if (len + l > sizeof(payload)) {
			va_end(ap);
			return -E2BIG;
		}
		memcpy(payload + len, s, l);
		len += l;
	}
	va_end(ap);
	return xs_memconn_call(c, type, tx, payload, len, buf, cap);
}

/* Pop the next watch event (from calls, or still in the output). */
int xs_memconn_event(struct xs_conn *c, char *path, char *token, size_t cap)
{
	struct xs_mem *m = c->priv;
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	size_t pl;

	while (!m->events.len) {
		if (xs_memconn_next(c, &h, body, sizeof(body)))
			return -ENOENT;
		if (h.type == XS_WATCH_EVENT)
			xs_buf_put(&m->events, body, h.len);
	}
	pl = strlen(m->events.p) + 1;
	if (pl > cap || strlen(m->events.p + pl) + 1 > cap)
		return -EMSGSIZE;
	strcpy(path, m->events.p);
	strcpy(token, m->events.p + pl);
	xs_buf_consume(&m->events, pl + strlen(m->events.p + pl) + 1);
	return 0;
}
