/*
 * keel-xenstored: the store-ring transport.  A memfd page laid out as
 * xenstore_domain_interface and two eventfds stand in for the guest frame
 * and its event channel; a thread plays the guest, speaking xs_wire through
 * the rings (messages larger than a ring included) while the test pumps the
 * server's event loop.  A request left on the ring without a kick is
 * served by the loop's last look before it sleeps.  Then a guest that
 * corrupts its indices is cut off
 * with XENSTORE_ERROR_RINGIDX, and RELEASE unmaps the page.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "../../xenstore-like/xs_store.h"

int xs_t_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val);

struct xs_r_guest {
	volatile struct xenstore_domain_interface *intf;
	int kick_fd, notify_fd;
	int unmaps;
	volatile int done;
	int failures;
	char why[128];
	char event_path[128];
};

static int xs_r_map(void *o, unsigned domid, uint64_t mfn, uint32_t evtchn, void **page, int *kick,
		    int *notify)
{
	struct xs_r_guest *g = o;

	*page = (void *)g->intf;
	*kick = g->kick_fd;
	*notify = g->notify_fd;
	return 0;
}

static void xs_r_unmap(void *o, unsigned domid, void *page, int kick, int notify)
{
	((struct xs_r_guest *)o)->unmaps++;
}

static void xs_r_kick(struct xs_r_guest *g)
{
	uint64_t one = 1;

	if (write(g->kick_fd, &one, 8) != 8)
		g->failures++;
}

static int xs_r_wait(struct xs_r_guest *g)
{
	struct pollfd p = {g->notify_fd, POLLIN, 0};
	uint64_t v;

	if (poll(&p, 1, 2000) != 1)
		return -ETIMEDOUT;
	return read(g->notify_fd, &v, 8) == 8 ? 0 : -EIO;
}

static int xs_r_send(struct xs_r_guest *g, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		uint32_t prod = g->intf->req_prod;
		uint32_t space = XENSTORE_RING_SIZE -
				 (prod - __atomic_load_n(&g->intf->req_cons, __ATOMIC_ACQUIRE));
		uint32_t n = 0;

		while (n < space && n < len) {
			g->intf->req[MASK_XENSTORE_IDX(prod + n)] = p[n];
			n++;
		}
		__atomic_store_n(&g->intf->req_prod, prod + n, __ATOMIC_RELEASE);
		p += n;
		len -= n;
		xs_r_kick(g);
		if (len && xs_r_wait(g))
			return -ETIMEDOUT;
	}
	return 0;
}

static int xs_r_recv(struct xs_r_guest *g, void *data, size_t len)
{
	char *p = data;

	while (len) {
		uint32_t cons = g->intf->rsp_cons;
		uint32_t avail = __atomic_load_n(&g->intf->rsp_prod, __ATOMIC_ACQUIRE) - cons;
		uint32_t n = 0;

		if (!avail) {
			if (xs_r_wait(g))
				return -ETIMEDOUT;
			continue;
		}
		while (n < avail && n < len) {
			p[n] = g->intf->rsp[MASK_XENSTORE_IDX(cons + n)];
			n++;
		}
		__atomic_store_n(&g->intf->rsp_cons, cons + n, __ATOMIC_RELEASE);
		xs_r_kick(g); /* room for more replies */
		p += n;
		len -= n;
	}
	return 0;
}

/* One request; returns the reply type, reply body in out. Events are noted. */
static int xs_r_call(struct xs_r_guest *g, uint32_t type, const void *payload, uint32_t len,
		     char *out, uint32_t *olen)
{
	struct xsd_sockmsg h = {type, 42, 0, len};

	if (xs_r_send(g, &h, sizeof(h)) || xs_r_send(g, payload, len))
		return -1;
	for (;;) {
		if (xs_r_recv(g, &h, sizeof(h)) || h.len > XENSTORE_PAYLOAD_MAX ||
		    xs_r_recv(g, out, h.len))
			return -1;
		out[h.len] = 0;
		if (h.type != XS_WATCH_EVENT)
			break;
		snprintf(g->event_path, sizeof(g->event_path), "%.100s", out);
	}
	*olen = h.len;
	return h.req_id == 42 ? (int)h.type : -1;
}

#define XS_R_CHECK(g, cond)                                                                   \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			snprintf((g)->why, sizeof((g)->why), "line %d: %s", __LINE__, #cond); \
			(g)->failures++;                                                      \
			goto out;                                                             \
		}                                                                             \
	} while (0)

static void *xs_r_guest_main(void *arg)
{
	struct xs_r_guest *g = arg;
	static char big[3000 + 16], out[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t len;
	struct xsd_sockmsg h;
	int i;

	/* A write bigger than the request ring has to stream through it. */
	memcpy(big, "data/big", 9);
	memset(big + 9, 'z', 2000); /* under the 2048-byte node quota */
	i = xs_r_call(g, XS_WRITE, big, 9 + 2000, out, &len);
	if (i != XS_WRITE)
		fprintf(stderr, "write: %d %s\n", i, i >= 0 ? out : "");
	XS_R_CHECK(g, i == XS_WRITE);
	XS_R_CHECK(g, !strcmp(out, "OK"));
	/* ... and a reply bigger than the response ring too. */
	XS_R_CHECK(g, xs_r_call(g, XS_READ, "data/big", 9, out, &len) == XS_READ);
	XS_R_CHECK(g, len == 2000 && out[0] == 'z' && out[1999] == 'z');
	XS_R_CHECK(g, xs_r_call(g, XS_READ, "/secret", 8, out, &len) == XS_ERROR);
	XS_R_CHECK(g, !strcmp(out, "EACCES"));
	XS_R_CHECK(g, xs_r_call(g, XS_WATCH, "data\0t", 7, out, &len) == XS_WATCH);
	XS_R_CHECK(g, xs_r_call(g, XS_WRITE, "data/new\0v", 10, out, &len) == XS_WRITE);
	/* The initial event came with the WRITE reply or is still to come. */
	while (strcmp(g->event_path, "data/new")) {
		XS_R_CHECK(g, !xs_r_recv(g, &h, sizeof(h)) && h.len <= XENSTORE_PAYLOAD_MAX);
		XS_R_CHECK(g, !xs_r_recv(g, out, h.len) && h.type == XS_WATCH_EVENT);
		out[h.len] = 0;
		snprintf(g->event_path, sizeof(g->event_path), "%.100s", out);
	}
	XS_R_CHECK(g, g->intf->error == XENSTORE_ERROR_NONE);
	XS_R_CHECK(g, g->intf->server_features & XENSTORE_SERVER_FEATURE_RECONNECTION);
out:
	g->done = 1;
	return NULL;
}

static void test_xs_ring_guest(void)
{
	struct xs_server s;
	struct xs_r_guest g = {0};
	struct xs_conn *d0;
	pthread_t thr;
	int memfd, i;
	char buf[64];

	xs_log_quiet = true;
	memfd = memfd_create("xs-ring", MFD_CLOEXEC);
	CU_ASSERT_FATAL(memfd >= 0 && ftruncate(memfd, 4096) == 0);
	g.intf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CU_ASSERT_FATAL(g.intf != MAP_FAILED);
	g.kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	g.notify_fd = eventfd(0, EFD_CLOEXEC);
	CU_ASSERT_FATAL(g.kick_fd >= 0 && g.notify_fd >= 0);

	CU_ASSERT_EQUAL_FATAL(xs_server_init(&s, NULL), 0);
	s.mapper.map = xs_r_map;
	s.mapper.unmap = xs_r_unmap;
	s.mapper.opaque = &g;
	d0 = xs_memconn_new(&s, 0, true);
	xs_t_write(d0, 0, "/secret", "s");
	xs_t_write(d0, 0, "/local/domain/7/data", "");
	xs_memconn_callv(d0, XS_SET_PERMS, 0, NULL, 0, "/local/domain/7", "n7", XS_END);
	xs_memconn_callv(d0, XS_SET_PERMS, 0, NULL, 0, "/local/domain/7/data", "n7", XS_END);
	CU_ASSERT_EQUAL(xs_memconn_callv(d0, XS_INTRODUCE, 0, NULL, 0, "7", "4096", "3", XS_END),
			3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xs_domain_find(&s, 7)->conn);

	CU_ASSERT_EQUAL_FATAL(pthread_create(&thr, NULL, xs_r_guest_main, &g), 0);
	for (i = 0; i < 1000 && !g.done; i++)
		xs_server_run_once(&s, 5);
	pthread_join(thr, NULL);
	CU_ASSERT_EQUAL(g.failures, 0);
	if (g.failures)
		fprintf(stderr, "ring guest: %s\n", g.why);
	CU_ASSERT_EQUAL(xs_memconn_callv(d0, XS_READ, 0, buf, sizeof(buf),
					 "/local/domain/7/data/new", XS_END),
			1);

	/* Reconnection: the guest asks, we drop its watches and reset the rings. */
	CU_ASSERT_EQUAL(xs_domain_find(&s, 7)->conn->nwatches, 1);
	g.intf->connection = XENSTORE_RECONNECT;
	xs_r_kick(&g);
	for (i = 0; i < 100 && g.intf->connection != XENSTORE_CONNECTED; i++)
		xs_server_run_once(&s, 5);
	CU_ASSERT_EQUAL(g.intf->connection, XENSTORE_CONNECTED);
	CU_ASSERT_EQUAL(g.intf->req_prod, 0);
	CU_ASSERT_EQUAL(g.intf->rsp_cons, 0);
	CU_ASSERT_EQUAL(xs_domain_find(&s, 7)->conn->nwatches, 0);

	/*
	 * A request that came without a kick (Linux kicks only when it finds
	 * everything before its bytes consumed, and may have seen our consumer
	 * index late) is still served: each pass of the loop looks at the
	 * rings once more before sleeping, whatever woke it -- here nothing.
	 */
	{
		static const char path[] = "/local/domain/7/data";
		struct xsd_sockmsg h = {XS_READ, 9, 0, sizeof(path)};
		struct xsd_sockmsg rh;
		uint32_t prod = g.intf->req_prod;

		for (i = 0; i < (int)sizeof(h); i++)
			g.intf->req[MASK_XENSTORE_IDX(prod + i)] = ((const char *)&h)[i];
		for (i = 0; i < (int)sizeof(path); i++)
			g.intf->req[MASK_XENSTORE_IDX(prod + sizeof(h) + i)] = path[i];
		__atomic_store_n(&g.intf->req_prod, prod + sizeof(h) + sizeof(path),
				 __ATOMIC_RELEASE);
		for (i = 0; i < 3 && g.intf->rsp_prod == g.intf->rsp_cons; i++)
			xs_server_run_once(&s, 0);
		CU_ASSERT_EQUAL(g.intf->req_cons, g.intf->req_prod);
		CU_ASSERT_FATAL(g.intf->rsp_prod - g.intf->rsp_cons >= sizeof(rh));
		for (i = 0; i < (int)sizeof(rh); i++)
			((char *)&rh)[i] = g.intf->rsp[MASK_XENSTORE_IDX(g.intf->rsp_cons + i)];
		CU_ASSERT_EQUAL(rh.type, XS_READ);
		CU_ASSERT_EQUAL(rh.req_id, 9);
		g.intf->rsp_cons = g.intf->rsp_prod;
	}

	/* A guest that lies about its indices is cut off, not believed. */
	g.intf->req_prod = g.intf->req_cons + 5000;
	xs_r_kick(&g);
	for (i = 0; i < 10; i++)
		xs_server_run_once(&s, 5);
	CU_ASSERT_EQUAL(g.intf->error, XENSTORE_ERROR_RINGIDX);
	CU_ASSERT_PTR_NULL(xs_domain_find(&s, 7)->conn);
	CU_ASSERT_EQUAL(g.unmaps, 1);
	CU_ASSERT_EQUAL(xs_memconn_callv(d0, XS_RELEASE, 0, NULL, 0, "7", XS_END), 3);
	xs_server_destroy(&s);
	munmap((void *)g.intf, 4096);
	close(memfd);
	close(g.kick_fd);
	close(g.notify_fd);
}

UNIT_SUITE(xs_ring, NULL, NULL, UNIT_TEST(test_xs_ring_guest))
