/*
 * The runtime's xenbus client (xenbus.h): xs_wire over the store ring of
 * start_info (store_mfn, store_evtchn), one request at a time.  The ring
 * is Xen's xenstore_domain_interface: two 1 KiB byte rings with free-running
 * indices; the client produces requests and consumes responses, and kicks
 * the store's port after each batch.  Watch events can arrive at any time,
 * also between a request and its reply; they go to a small queue that
 * xb_wait_watch drains.  Every wait has a deadline, so a dead store gives
 * -XEN_ETIME, never a hang.
 *
 * The watches in force are remembered, so that after a resume in a new
 * life (the store re-introduces the domain, maybe under another domid,
 * and knows none of its watches) xb_resume sets them again, on the store
 * port start_info names now.
 */
#include "abi/event_channel.h"
#include "evtchn.h"
#include "keel_guest.h"
#include "page.h"
#include "xenbus.h"

#define XB_TIMEOUT_NS 10000000000ULL /* one request's round trip */
#define XB_QUEUE      16
#define XB_PATH_MAX   192
#define XB_TOKEN_MAX  40
#define XB_WATCHES    16	   /* watches remembered for a resume */
#define XB_KICK_NS    100000000ULL /* look at the ring at least this often */

struct xb_event {
	char path[XB_PATH_MAX], token[XB_TOKEN_MAX];
};

static volatile struct xenstore_domain_interface *xb_intf;
static uint32_t xb_port, xb_req_id;
static struct xb_event xb_queue[XB_QUEUE];
static unsigned xb_qhead, xb_qlen, xb_nevents, xb_ndropped;
static int xb_self = -1;
static struct xb_event xb_watches[XB_WATCHES];
static unsigned xb_nwatches;
static char xb_body[XENSTORE_PAYLOAD_MAX + 1];

static const struct {
	const char *name;
	int err;
} xb_errors[] = {
	{"ENOENT", XEN_ENOENT}, {"EACCES", XEN_EACCES}, {"EEXIST", XEN_EEXIST},
	{"EINVAL", XEN_EINVAL}, {"EAGAIN", XEN_EAGAIN}, {"ENOSPC", XEN_ENOSPC},
	{"E2BIG", XEN_E2BIG},	{"EBUSY", XEN_EBUSY},	{"EPERM", XEN_EPERM},
	{"ENOMEM", XEN_ENOMEM}, {"ENOSYS", XEN_ENOSYS}, {"EIO", XEN_EIO},
};

int xb_init(void)
{
	long r;

	if (xb_intf)
		return 0;
	r = rt_events_init();
	if (r)
		return (int)r;
	xb_port = rt_start_info->store_evtchn;
	rt_evtchn_mask(xb_port);
	xb_intf = (volatile struct xenstore_domain_interface *)rt_pfn_to_virt(
		rt_mfn_to_pfn(rt_start_info->store_mfn));
	return 0;
}

uint32_t xb_evtchn(void)
{
	return xb_init() ? 0 : xb_port;
}

/*
 * Wait for the store's kick until deadline; -XEN_ETIME once it has passed.
 * At most XB_KICK_NS at a time: a kick lost (a port renumbered under a
 * resume) costs a moment, not the whole deadline.
 */
static int xb_wait(uint64_t deadline)
{
	uint64_t now = rt_now_ns();

	if (now >= deadline)
		return -XEN_ETIME;
	rt_evtchn_wait(&xb_port, 1, deadline - now < XB_KICK_NS ? deadline - now : XB_KICK_NS);
	return 0;
}

static int xb_put(const void *p, uint32_t n, uint64_t deadline)
{
	const char *c = p;

	while (n) {
		uint32_t cons = __atomic_load_n(&xb_intf->req_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = xb_intf->req_prod;

		if (prod - cons >= XENSTORE_RING_SIZE) {
			rt_evtchn_notify(xb_port);
			if (xb_wait(deadline))
				return -XEN_ETIME;
			continue;
		}
		xb_intf->req[MASK_XENSTORE_IDX(prod)] = *c++;
		__atomic_store_n(&xb_intf->req_prod, prod + 1, __ATOMIC_RELEASE);
		n--;
	}
	return 0;
}

static int xb_get(void *p, uint32_t n, uint64_t deadline)
{
	char *c = p;

	while (n) {
		uint32_t prod = __atomic_load_n(&xb_intf->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = xb_intf->rsp_cons;

		if (prod == cons) {
			if (xb_wait(deadline))
				return -XEN_ETIME;
			continue;
		}
		if (prod - cons > XENSTORE_RING_SIZE)
			return -XEN_EIO; /* the store broke the ring */
		*c++ = xb_intf->rsp[MASK_XENSTORE_IDX(cons)];
		__atomic_store_n(&xb_intf->rsp_cons, cons + 1, __ATOMIC_RELEASE);
		n--;
	}
	rt_evtchn_notify(xb_port);
	return 0;
}

static void xb_queue_event(const char *body, unsigned len)
{
	struct xb_event *e;
	unsigned plen = rt_strlen(body);

	if (xb_qlen == XB_QUEUE) {
		xb_qhead = (xb_qhead + 1) % XB_QUEUE; /* drop the oldest */
		xb_qlen--;
		xb_ndropped++;
	}
	e = &xb_queue[(xb_qhead + xb_qlen++) % XB_QUEUE];
	rt_strlcpy(e->path, body, sizeof(e->path));
	rt_strlcpy(e->token, plen + 1 < len ? body + plen + 1 : "", sizeof(e->token));
	xb_nevents++;
}

/* Read one message; watch events are queued and reported as type XS_WATCH_EVENT. */
static int xb_read_msg(struct xsd_sockmsg *m, uint64_t deadline)
{
	int r = xb_get(m, sizeof(*m), deadline);

	if (r)
		return r;
	if (m->len > XENSTORE_PAYLOAD_MAX)
		return -XEN_EIO;
	r = xb_get(xb_body, m->len, deadline);
	if (r)
		return r;
	xb_body[m->len] = 0;
	if (m->type == XS_WATCH_EVENT)
		xb_queue_event(xb_body, m->len);
	return 0;
}

int xb_call(uint32_t type, const char *a, const char *b, int b_nul, char *out, unsigned size)
{
	uint64_t deadline = rt_now_ns() + XB_TIMEOUT_NS;
	unsigned alen = rt_strlen(a) + 1, blen = b ? rt_strlen(b) + (b_nul ? 1 : 0) : 0;
	struct xsd_sockmsg m = {type, ++xb_req_id, 0, alen + blen}, r;
	int e;

	if (xb_init())
		return -XEN_ENOSYS;
	if (m.len > XENSTORE_PAYLOAD_MAX)
		return -XEN_E2BIG;
	e = xb_put(&m, sizeof(m), deadline);
	if (!e)
		e = xb_put(a, alen, deadline);
	if (!e && blen)
		e = xb_put(b, blen, deadline);
	if (e)
		return e;
	rt_evtchn_notify(xb_port);
	for (;;) {
		e = xb_read_msg(&r, deadline);
		if (e)
			return e;
		if (r.type == XS_WATCH_EVENT)
			continue;
		if (r.req_id != m.req_id)
			return -XEN_EIO;
		if (out && size) {
			unsigned n = r.len < size - 1 ? r.len : size - 1;

			rt_memcpy(out, xb_body, n);
			out[n] = 0;
			if (r.len >= size && r.type != XS_ERROR)
				return -XEN_E2BIG;
		}
		return (int)r.type;
	}
}

/* A request whose reply is success or an errno name: 0 / the reply's length, or -errno. */
static int xb_simple(uint32_t type, const char *a, const char *b, int b_nul, char *out,
		     unsigned size)
{
	static char err[32];
	int t = xb_call(type, a, b, b_nul, out ? out : err, out ? size : sizeof(err));

	if (t < 0)
		return t;
	if (t == XS_ERROR) {
		const char *name = out ? out : err;

		for (unsigned i = 0; i < sizeof(xb_errors) / sizeof(xb_errors[0]); i++)
			if (rt_streq(name, xb_errors[i].name))
				return -xb_errors[i].err;
		return -XEN_EIO;
	}
	if ((uint32_t)t != type)
		return -XEN_EIO;
	return out ? (int)rt_strlen(out) : 0;
}

int xb_read(const char *path, char *buf, unsigned size)
{
	return xb_simple(XS_READ, path, NULL, 0, buf, size);
}

int xb_read_u64(const char *path, uint64_t *val)
{
	char buf[32];
	uint64_t v = 0;
	int r = xb_read(path, buf, sizeof(buf)), i = 0, base = 10, n = 0;

	if (r < 0)
		return r;
	if (buf[0] == '0' && buf[1] == 'x') {
		base = 16;
		i = 2;
	}
	for (;; i++, n++) {
		char c = buf[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			break;
		v = v * base + d;
	}
	if (!n || buf[i])
		return -XEN_EINVAL;
	*val = v;
	return 0;
}

int xb_write(const char *path, const char *val)
{
	return xb_simple(XS_WRITE, path, val, 0, NULL, 0);
}

int xb_printf(const char *path, const char *fmt, ...)
{
	char val[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(val))
		return -XEN_E2BIG;
	return xb_write(path, val);
}

int xb_rm(const char *path)
{
	return xb_simple(XS_RM, path, NULL, 0, NULL, 0);
}

int xb_directory(const char *path, char *buf, unsigned size)
{
	int t = xb_call(XS_DIRECTORY, path, NULL, 0, buf, size), n = 0;

	if (t == XS_ERROR)
		return xb_simple(XS_READ, path, NULL, 0, NULL, 0) ?: -XEN_ENOENT;
	if (t != XS_DIRECTORY)
		return t < 0 ? t : -XEN_EIO;
	/* the reply is name\0name\0...; count the names */
	for (unsigned i = 0; i + 1 < size && buf[i]; i += rt_strlen(buf + i) + 1)
		n++;
	return n;
}

/* The remembered watch (path, token), or NULL. */
static struct xb_event *xb_watch_find(const char *path, const char *token)
{
	for (unsigned i = 0; i < xb_nwatches; i++)
		if (rt_streq(xb_watches[i].path, path) && rt_streq(xb_watches[i].token, token))
			return &xb_watches[i];
	return NULL;
}

int xb_watch(const char *path, const char *token)
{
	int r = xb_simple(XS_WATCH, path, token, 1, NULL, 0);

	/* remembered when it fits (a longer one is not set again on resume) */
	if (r == 0 && !xb_watch_find(path, token) && xb_nwatches < XB_WATCHES &&
	    rt_strlen(path) < XB_PATH_MAX && rt_strlen(token) < XB_TOKEN_MAX) {
		rt_strlcpy(xb_watches[xb_nwatches].path, path, XB_PATH_MAX);
		rt_strlcpy(xb_watches[xb_nwatches].token, token, XB_TOKEN_MAX);
		xb_nwatches++;
	}
	return r;
}

int xb_unwatch(const char *path, const char *token)
{
	int r = xb_simple(XS_UNWATCH, path, token, 1, NULL, 0);
	struct xb_event *w = xb_watch_find(path, token);
	unsigned kept = 0;

	if (w)
		*w = xb_watches[--xb_nwatches];

	/* events already queued for this token are dropped with it */
	for (unsigned i = 0; i < xb_qlen; i++) {
		struct xb_event *e = &xb_queue[(xb_qhead + i) % XB_QUEUE];

		if (!rt_streq(e->token, token))
			xb_queue[(xb_qhead + kept++) % XB_QUEUE] = *e;
	}
	xb_qlen = kept;
	return r;
}

/* Take the first queued event for token (any when NULL). */
static int xb_take_event(const char *token, char *path, unsigned size)
{
	for (unsigned i = 0; i < xb_qlen; i++) {
		struct xb_event *e = &xb_queue[(xb_qhead + i) % XB_QUEUE];

		if (token && !rt_streq(e->token, token))
			continue;
		if (path)
			rt_strlcpy(path, e->path, size);
		for (unsigned j = i; j + 1 < xb_qlen; j++)
			xb_queue[(xb_qhead + j) % XB_QUEUE] =
				xb_queue[(xb_qhead + j + 1) % XB_QUEUE];
		xb_qlen--;
		return 1;
	}
	return 0;
}

int xb_wait_watch(const char *token, char *path, unsigned size, uint64_t timeout_ns)
{
	uint64_t deadline = rt_now_ns() + timeout_ns;

	if (xb_init())
		return -XEN_ENOSYS;
	while (!xb_take_event(token, path, size)) {
		uint32_t prod = __atomic_load_n(&xb_intf->rsp_prod, __ATOMIC_ACQUIRE);
		struct xsd_sockmsg m;
		int r;

		if (prod == xb_intf->rsp_cons) {
			if (xb_wait(deadline))
				return -XEN_ETIME;
			continue;
		}
		/* no request is outstanding: only watch events can be here */
		r = xb_read_msg(&m, deadline);
		if (r)
			return r;
		if (m.type != XS_WATCH_EVENT)
			return -XEN_EIO;
	}
	return 0;
}

/* Copy n bytes of the response ring from index cons on, without consuming them. */
static void xb_peek(void *p, uint32_t cons, uint32_t n)
{
	char *c = p;

	for (uint32_t i = 0; i < n; i++)
		c[i] = xb_intf->rsp[MASK_XENSTORE_IDX(cons + i)];
}

int xb_poll_watch(const char *token, char *path, unsigned size)
{
	if (xb_init())
		return -XEN_ENOSYS;
	/* whole messages only: a half-written one waits for the next call */
	for (;;) {
		uint32_t prod = __atomic_load_n(&xb_intf->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = xb_intf->rsp_cons;
		struct xsd_sockmsg m;
		int r;

		if (prod - cons > XENSTORE_RING_SIZE)
			return -XEN_EIO;
		if (prod - cons < sizeof(m))
			break;
		xb_peek(&m, cons, sizeof(m));
		if (m.len > XENSTORE_PAYLOAD_MAX)
			return -XEN_EIO;
		if (prod - cons < sizeof(m) + m.len)
			break;
		r = xb_read_msg(&m, rt_now_ns() + XB_TIMEOUT_NS);
		if (r)
			return r;
		if (m.type != XS_WATCH_EVENT)
			return -XEN_EIO; /* no request is outstanding */
	}
	return xb_take_event(token, path, size);
}

int xb_suspend(void)
{
	if (!xb_intf)
		return 0;
	/* no request is outstanding (one at a time, and not from here) */
	return xb_intf->req_prod == xb_intf->req_cons ? 0 : -XEN_EBUSY;
}

int xb_resume(int fresh)
{
	int err = 0;

	if (!xb_intf || !fresh)
		return 0;
	xb_port = rt_start_info->store_evtchn;
	rt_evtchn_mask(xb_port);
	rt_evtchn_test_clear(xb_port);
	xb_intf = (volatile struct xenstore_domain_interface *)rt_pfn_to_virt(
		rt_mfn_to_pfn(rt_start_info->store_mfn));
	/* what the old connection left unread is of no use to the new one
	 * (Linux's xb_init_comms fixes the response ring up the same way) */
	xb_intf->rsp_cons = xb_intf->rsp_prod;
	xb_self = -1; /* a restored domain has a domid of its own */
	for (unsigned i = 0; i < xb_nwatches; i++) {
		int r = xb_simple(XS_WATCH, xb_watches[i].path, xb_watches[i].token, 1, NULL, 0);

		/* the store may still know it (a resume that kept the connection) */
		if (r < 0 && r != -XEN_EEXIST && !err)
			err = r;
	}
	return err;
}

unsigned xb_watch_events(void)
{
	return xb_nevents;
}

unsigned xb_watch_dropped(void)
{
	return xb_ndropped;
}

int xb_domid(void)
{
	uint64_t v;
	int r;

	if (xb_self >= 0)
		return xb_self;
	r = xb_read_u64("domid", &v);
	if (r < 0)
		return r;
	if (v >= DOMID_FIRST_RESERVED)
		return -XEN_EINVAL;
	xb_self = (int)v;
	return xb_self;
}

int xb_switch_state(const char *dir, enum xenbus_state state)
{
	char path[XB_PATH_MAX];

	rt_snprintf(path, sizeof(path), "%s/state", dir);
	return xb_printf(path, "%d", (int)state);
}

int xb_read_state(const char *dir)
{
	char path[XB_PATH_MAX];
	uint64_t v;
	int r;

	rt_snprintf(path, sizeof(path), "%s/state", dir);
	r = xb_read_u64(path, &v);
	if (r == -XEN_ENOENT)
		return XenbusStateUnknown;
	if (r < 0)
		return r;
	return v > XENBUS_STATE_MAX ? XenbusStateUnknown : (int)v;
}

int xb_wait_state(const char *dir, unsigned mask, uint64_t timeout_ns)
{
	static unsigned seq;
	uint64_t deadline = rt_now_ns() + timeout_ns;
	char path[XB_PATH_MAX], token[XB_TOKEN_MAX];
	int st, r;

	rt_snprintf(path, sizeof(path), "%s/state", dir);
	rt_snprintf(token, sizeof(token), "rt-state-%u", ++seq);
	r = xb_watch(path, token);
	if (r < 0)
		return r;
	for (;;) {
		uint64_t now;

		st = xb_read_state(dir);
		if (st >= 0 && (mask & (1u << st)))
			break;
		now = rt_now_ns();
		if (st < 0 && st != -XEN_ENOENT)
			break;
		if (now >= deadline) {
			st = -XEN_ETIME;
			break;
		}
		xb_wait_watch(token, NULL, 0, deadline - now);
	}
	xb_unwatch(path, token);
	return st;
}

int xb_read_backend(const char *dev, char *be, unsigned size, unsigned *be_id)
{
	char path[XB_PATH_MAX];
	uint64_t id;
	int r;

	rt_snprintf(path, sizeof(path), "%s/backend", dev);
	r = xb_read(path, be, size);
	if (r < 0)
		return r;
	rt_snprintf(path, sizeof(path), "%s/backend-id", dev);
	r = xb_read_u64(path, &id);
	if (r < 0)
		return r;
	if (id >= DOMID_FIRST_RESERVED)
		return -XEN_EINVAL;
	*be_id = (unsigned)id;
	return 0;
}
