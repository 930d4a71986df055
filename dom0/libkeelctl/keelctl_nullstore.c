/*
 * keelctl null-store: a test fixture, not a store.  It answers one guest's
 * xenstore ring as an empty store would: every read, directory or
 * permission query is ENOENT, every write, watch or transaction is "OK"
 * (and a new watch fires once, as xenstored's do).  Nothing is kept.  It
 * lets a kernel's xenbus get past its start-up when no keel-xenstored is
 * attached to the domain -- pv-linux uses it to see how far Debian's kernel
 * boots -- through the same libkeelctl calls keel-xenstored's ring mapper
 * would use.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi/xs_wire.h"
#include "keelctl.h"

struct nullstore {
	struct xenstore_domain_interface *ring;
	char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1];
	uint32_t have;
	uint32_t domid;
	unsigned answered;
};

/* Copy into the response ring; 0, or -ENOSPC if the guest stopped reading. */
static int nullstore_put(struct nullstore *s, const void *p, uint32_t n)
{
	struct xenstore_domain_interface *r = s->ring;
	const char *c = p;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t prod = r->rsp_prod;

		if (prod - __atomic_load_n(&r->rsp_cons, __ATOMIC_ACQUIRE) >= XENSTORE_RING_SIZE)
			return -ENOSPC;
		r->rsp[MASK_XENSTORE_IDX(prod)] = c[i];
		__atomic_store_n(&r->rsp_prod, prod + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static int nullstore_reply(struct nullstore *s, const struct xsd_sockmsg *req)
{
	struct xsd_sockmsg rsp = *req;
	const char *body = "OK";
	char path[32];
	int r;

	switch (req->type) {
	case XS_DIRECTORY:
	case XS_READ:
	case XS_GET_PERMS:
	case XS_DIRECTORY_PART:
		rsp.type = XS_ERROR;
		body = "ENOENT";
		break;
	case XS_TRANSACTION_START:
		body = "1";
		break;
	case XS_GET_DOMAIN_PATH:
		snprintf(path, sizeof(path), "/local/domain/%u", s->domid);
		body = path;
		break;
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_SET_PERMS:
	case XS_WATCH:
	case XS_UNWATCH:
	case XS_TRANSACTION_END:
	case XS_RESET_WATCHES:
	case XS_CONTROL:
		break;
	default:
		rsp.type = XS_ERROR;
		body = "EINVAL";
	}
	rsp.len = strlen(body) + 1;
	r = nullstore_put(s, &rsp, sizeof(rsp));
	if (r == 0)
		r = nullstore_put(s, body, rsp.len);
	if (r == 0 && req->type == XS_WATCH) {
		/* payload "path\0token\0": the event carries the same */
		struct xsd_sockmsg ev = {XS_WATCH_EVENT, 0, 0, req->len};

		r = nullstore_put(s, &ev, sizeof(ev));
		if (r == 0)
			r = nullstore_put(s, s->msg + sizeof(*req), req->len);
	}
	s->answered++;
	return r;
}

/* Take what the guest queued; answer each complete message.  1 if any. */
static int nullstore_serve(struct nullstore *s)
{
	struct xenstore_domain_interface *r = s->ring;
	int any = 0;

	while (r->req_cons != __atomic_load_n(&r->req_prod, __ATOMIC_ACQUIRE)) {
		const struct xsd_sockmsg *m = (const void *)s->msg;

		s->msg[s->have++] = r->req[MASK_XENSTORE_IDX(r->req_cons)];
		__atomic_store_n(&r->req_cons, r->req_cons + 1, __ATOMIC_RELEASE);
		if (s->have < sizeof(*m))
			continue;
		if (m->len > XENSTORE_PAYLOAD_MAX)
			return -EPROTO;
		if (s->have < sizeof(*m) + m->len)
			continue;
		s->msg[s->have] = 0;
		if (nullstore_reply(s, m) < 0)
			return -ENOSPC;
		s->have = 0;
		any = 1;
	}
	return any;
}

int keelctl_null_store(const char *rundir, struct keelctl *h, uint32_t domid, int seconds)
{
	struct keelctl_dominfo info;
	struct nullstore s = {.domid = domid};
	time_t end = time(NULL) + seconds;
	void *page;
	int kick, notify, r;

	r = keelctl_domain_getinfo(h, domid, &info);
	if (r < 0)
		return r;
	r = keelctl_ring_map(rundir, domid, info.store_mfn, info.store_port, &page, &kick, &notify);
	if (r < 0)
		return r;
	s.ring = page;
	while (time(NULL) < end) {
		struct pollfd p = {kick, POLLIN, 0};
		uint64_t n;

		if (poll(&p, 1, 500) == 1 && read(kick, &n, sizeof(n)) < 0)
			break;
		r = nullstore_serve(&s);
		if (r < 0)
			break;
		if (r > 0) {
			n = 1;
			if (write(notify, &n, sizeof(n)) < 0)
				break;
		}
		if (keelctl_domain_getinfo(h, domid, &info) < 0 ||
		    info.state == KEELCTL_STATE_SHUTDOWN || info.state == KEELCTL_STATE_CRASHED)
			break;
		r = 0;
	}
	fprintf(stderr, "null-store: answered %u requests\n", s.answered);
	keelctl_ring_unmap(rundir, domid, info.store_port, page, kick, notify);
	return r < 0 ? r : 0;
}
