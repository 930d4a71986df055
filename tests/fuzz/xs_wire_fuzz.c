/*
 * libFuzzer target for keel-xenstored's message path: framing, argument
 * parsing and every handler, through the real dispatcher.  The input is a
 * series of segments {u8 who, u16 length, bytes}: each segment's bytes are
 * fed raw to one of three connections (dom0, a second dom0, unprivileged
 * domain 5), so the fuzzer can interleave clients, transactions and watches.
 * Each input gets a fresh store; afterwards the tree's invariants are
 * checked and any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../xenstore-like/xs_store.h"

static int xs_fz_check_node(void *o, const char *path, const struct xs_node *n)
{
	const struct xs_node *c;
	uint32_t cnt = 0, bytes = 0;

	for (c = n->first; c; c = c->next) {
		if (c->parent != n)
			abort();
		cnt++;
		bytes += c->namelen + 1u;
	}
	if (cnt != n->nchildren || bytes != n->childbytes || !n->nperms ||
	    n->nperms > XS_MAX_PERMS || n->vlen > XENSTORE_PAYLOAD_MAX)
		abort();
	(*(size_t *)o)++;
	return 0;
}

/* Dead connections are freed by the server: only use ones still listed. */
static struct xs_conn *xs_fz_live(struct xs_server *s, struct xs_conn *c)
{
	struct xs_conn *p;

	for (p = s->conns; p; p = p->next)
		if (p == c && !p->dead)
			return p;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char home[] = "/local/domain/5";
	struct xs_server s;
	struct xs_conn *conns[3];
	struct xsd_sockmsg h = {XS_WRITE, 1, 0, 0};
	char setup[64];
	size_t off = 0, nodes = 0;

	xs_log_quiet = true;
	if (xs_server_init(&s, NULL))
		return 0;
	s.quota.tx_nodes = 256;
	conns[0] = xs_memconn_new(&s, 0, true);
	conns[1] = xs_memconn_new(&s, 0, true);
	conns[2] = xs_memconn_new(&s, 5, false);
	if (!conns[0] || !conns[1] || !conns[2])
		abort();
	/* A domain home owned by domain 5, and domain 5 introduced. */
	h.len = sizeof(home) + 1;
	memcpy(setup, &h, sizeof(h));
	memcpy(setup + sizeof(h), home, sizeof(home));
	setup[sizeof(h) + sizeof(home)] = 'x';
	xs_memconn_feed(conns[0], setup, sizeof(h) + h.len);
	xs_memconn_callv(conns[0], XS_SET_PERMS, 0, NULL, 0, home, "n5", "r0", XS_END);
	xs_memconn_callv(conns[0], XS_INTRODUCE, 0, NULL, 0, "5", "100", "1", XS_END);

	while (off + 3 <= size) {
		unsigned who = data[off] % 3;
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (xs_fz_live(&s, conns[who]))
			xs_memconn_feed(conns[who], data + off, len);
		/* Drain what was answered so output never backs up. */
		while (xs_fz_live(&s, conns[who])) {
			char body[XENSTORE_PAYLOAD_MAX + 1];
			struct xsd_sockmsg r;

			if (xs_memconn_next(conns[who], &r, body, sizeof(body)))
				break;
			if (r.len > XENSTORE_PAYLOAD_MAX)
				abort();
		}
		off += len;
	}
	xs_tree_walk(&s.tree, xs_fz_check_node, &nodes);
	if (nodes != s.tree.count)
		abort();
	xs_server_destroy(&s);
	return 0;
}
