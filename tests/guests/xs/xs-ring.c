/*
 * xs-ring: a guest that talks xs_wire to keel-xenstored over its own store
 * ring (start_info's store_mfn and store_evtchn), as a kernel's xenbus
 * does.  It writes, reads and lists nodes under its home
 * /local/domain/<id> by relative and absolute paths, sets a watch and sees
 * it fire, and is refused access to dom0's nodes.  Watch events that arrive
 * while a reply is awaited are kept aside, as xenbus does.
 */
#include "../../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"
#include "abi/xs_wire.h"

#define VIRT_BASE 0xffffffff80000000UL

static volatile struct xenstore_domain_interface *xs_intf;
static uint32_t xs_port;
static uint32_t xs_req_id;
static int xs_timed_out;

/* The last watch event seen (path, token) and how many arrived. */
static char xs_ev_path[256], xs_ev_token[64];
static int xs_events;

static void xs_notify(void)
{
	struct evtchn_send sd = {xs_port};

	rt_evtchn_op(EVTCHNOP_send, &sd);
}

/* Sleep until the store kicks us or 100 ms pass; a budget bounds the wait. */
static int xs_wait(int *budget)
{
	struct sched_poll sp = {(uint64_t)&xs_port, 1, rt_now_ns() + 100000000ULL, 0};

	if ((*budget)-- <= 0) {
		xs_timed_out = 1;
		return -1;
	}
	HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	return 0;
}

static int xs_put(const void *p, uint32_t n)
{
	const char *c = p;
	int budget = 100;

	while (n) {
		uint32_t cons = __atomic_load_n(&xs_intf->req_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = xs_intf->req_prod;

		if (prod - cons >= XENSTORE_RING_SIZE) {
			xs_notify();
			if (xs_wait(&budget))
				return -1;
			continue;
		}
		xs_intf->req[MASK_XENSTORE_IDX(prod)] = *c++;
		__atomic_store_n(&xs_intf->req_prod, prod + 1, __ATOMIC_RELEASE);
		n--;
	}
	xs_notify();
	return 0;
}

static int xs_get(void *p, uint32_t n)
{
	char *c = p;
	int budget = 100;

	while (n) {
		uint32_t prod = __atomic_load_n(&xs_intf->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = xs_intf->rsp_cons;

		if (prod == cons) {
			if (xs_wait(&budget))
				return -1;
			continue;
		}
		*c++ = xs_intf->rsp[MASK_XENSTORE_IDX(cons)];
		__atomic_store_n(&xs_intf->rsp_cons, cons + 1, __ATOMIC_RELEASE);
		n--;
	}
	xs_notify();
	return 0;
}

static unsigned xs_strlen(const char *s)
{
	unsigned n = 0;

	while (s[n])
		n++;
	return n;
}

static int xs_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void xs_strcpy(char *d, const char *s, unsigned size)
{
	unsigned i;

	for (i = 0; i + 1 < size && s[i]; i++)
		d[i] = s[i];
	d[i] = 0;
}

/*
 * One request: payload a\0 (and b if given, with its own NUL unless raw);
 * the reply's type is returned and its body (NUL-terminated) put in out.
 */
static int xs_call(uint32_t type, const char *a, const char *b, int b_nul, char *out, unsigned size)
{
	static char body[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg m = {type, ++xs_req_id, 0, xs_strlen(a) + 1};

	if (b)
		m.len += xs_strlen(b) + (b_nul ? 1 : 0);
	if (xs_put(&m, sizeof(m)) || xs_put(a, xs_strlen(a) + 1) ||
	    (b && xs_put(b, xs_strlen(b) + (b_nul ? 1 : 0))))
		return -1;
	for (;;) {
		struct xsd_sockmsg r;

		if (xs_get(&r, sizeof(r)) || r.len > XENSTORE_PAYLOAD_MAX || xs_get(body, r.len))
			return -1;
		body[r.len] = 0;
		if (r.type == XS_WATCH_EVENT) {
			xs_strcpy(xs_ev_path, body, sizeof(xs_ev_path));
			xs_strcpy(xs_ev_token, body + xs_strlen(body) + 1, sizeof(xs_ev_token));
			xs_events++;
			continue;
		}
		if (r.req_id != m.req_id)
			return -1;
		xs_strcpy(out, body, size);
		/* a directory listing is NUL-separated: keep it whole */
		if (r.len <= size)
			rt_memcpy(out, body, r.len);
		return (int)r.type;
	}
}

/* Wait for a watch event beyond the first `seen`. */
static int xs_wait_event(int seen)
{
	int budget = 50;

	while (xs_events <= seen) {
		uint32_t prod = __atomic_load_n(&xs_intf->rsp_prod, __ATOMIC_ACQUIRE);
		struct xsd_sockmsg r;
		static char body[XENSTORE_PAYLOAD_MAX + 1];

		if (prod == xs_intf->rsp_cons) {
			if (xs_wait(&budget))
				return -1;
			continue;
		}
		if (xs_get(&r, sizeof(r)) || r.len > XENSTORE_PAYLOAD_MAX || xs_get(body, r.len))
			return -1;
		body[r.len] = 0;
		if (r.type != XS_WATCH_EVENT)
			return -1;
		xs_strcpy(xs_ev_path, body, sizeof(xs_ev_path));
		xs_strcpy(xs_ev_token, body + xs_strlen(body) + 1, sizeof(xs_ev_token));
		xs_events++;
	}
	return 0;
}

static int xs_dir_has(const char *list, unsigned len, const char *name)
{
	unsigned i = 0;

	while (i < len && list[i]) {
		if (xs_streq(list + i, name))
			return 1;
		i += xs_strlen(list + i) + 1;
	}
	return 0;
}

void test_main(void)
{
	static char buf[1024], home[64], abs[96];
	unsigned domid = 0;
	int t, i, seen;

	xs_intf = (volatile void *)(VIRT_BASE + (rt_start_info->store_mfn << 12));
	xs_port = rt_start_info->store_evtchn;
	rt_check(rt_events_init() == 0, "events", 0);

	/* who am I: the relative path "domid" is /local/domain/<id>/domid */
	t = xs_call(XS_READ, "domid", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_READ, "read relative 'domid'", t);
	for (i = 0; t == XS_READ && buf[i] >= '0' && buf[i] <= '9'; i++)
		domid = domid * 10 + (unsigned)(buf[i] - '0');
	rt_check(domid > 0, "our domid from the store", domid);
	rt_printf("xs-ring: domid %u\n", domid);

	t = xs_call(XS_GET_DOMAIN_PATH, buf, NULL, 0, home, sizeof(home));
	rt_check(t == XS_GET_DOMAIN_PATH && home[0] == '/', "get-domain-path", t);
	rt_printf("xs-ring: home %s\n", home);

	t = xs_call(XS_WRITE, "data/xs-ring", "hello ring", 0, buf, sizeof(buf));
	rt_check(t == XS_WRITE && xs_streq(buf, "OK"), "write data/xs-ring (relative)", t);
	t = xs_call(XS_READ, "data/xs-ring", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_READ && xs_streq(buf, "hello ring"), "read it back", t);

	/* the same node by its absolute path */
	xs_strcpy(abs, home, sizeof(abs));
	xs_strcpy(abs + xs_strlen(abs), "/data/xs-ring", sizeof(abs) - xs_strlen(abs));
	t = xs_call(XS_READ, abs, NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_READ && xs_streq(buf, "hello ring"), "read it by absolute path", t);
	t = xs_call(XS_WRITE, "data/second", "2", 0, buf, sizeof(buf));
	rt_check(t == XS_WRITE, "write data/second", t);
	t = xs_call(XS_DIRECTORY, "data", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_DIRECTORY && xs_dir_has(buf, sizeof(buf), "xs-ring") &&
			 xs_dir_has(buf, sizeof(buf), "second"),
		 "directory data lists both", t);

	/* a watch fires once on registration, then on each change */
	seen = xs_events;
	t = xs_call(XS_WATCH, "data/watched", "tok1", 1, buf, sizeof(buf));
	rt_check(t == XS_WATCH, "watch data/watched", t);
	rt_check(xs_wait_event(seen) == 0 && xs_streq(xs_ev_token, "tok1"), "initial watch event",
		 xs_events);
	seen = xs_events;
	t = xs_call(XS_WRITE, "data/watched/leaf", "x", 0, buf, sizeof(buf));
	rt_check(t == XS_WRITE, "write under the watch", t);
	rt_check(xs_wait_event(seen) == 0 && xs_streq(xs_ev_token, "tok1") &&
			 xs_streq(xs_ev_path, "data/watched/leaf"),
		 "watch event for data/watched/leaf (relative path)", xs_events);
	rt_printf("xs-ring: event path %s token %s\n", xs_ev_path, xs_ev_token);
	t = xs_call(XS_RM, "data/second", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_RM, "rm data/second", t);
	t = xs_call(XS_READ, "data/second", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && xs_streq(buf, "ENOENT"), "removed node is ENOENT", t);

	/* another domain's nodes: dom0's are not ours */
	t = xs_call(XS_READ, "/local/domain/0/name", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && xs_streq(buf, "EACCES"), "read dom0's name refused (EACCES)", t);
	rt_printf("xs-ring: dom0 read answer %s\n", buf);
	t = xs_call(XS_WRITE, "/local/domain/0/intruder", "x", 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && xs_streq(buf, "EACCES"), "write under dom0 refused (EACCES)", t);
	t = xs_call(XS_WRITE, "/tool/intruder", "x", 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && xs_streq(buf, "EACCES"), "write at a root node refused", t);
	rt_check(!xs_timed_out, "no store request timed out", 0);
	rt_printf("xs-ring: %d watch events\n", xs_events);
}
