/*
 * The backend xenbus machinery against a real keel-xenstored (started from
 * the runner's own bin directory on a private socket, journal off): a
 * recording test driver shows devices discovered under
 * /local/domain/0/backend/<type>, several domains at once, and the
 * XenbusState moves Linux backends make as the frontend's state changes
 * (InitWait, Connected, Closing, Closed, reconnect from Initialising,
 * removal once online=0 or the node is gone); bad toolstack input and a
 * failed connect end in Closing with an error node; a driver that waits
 * for its hotplug script connects only once hotplug-status is "connected".
 * Then the real "vbd"
 * driver over the LOOPBACK TEST TRANSPORT: the test blkfront publishes its
 * ring through the store and does I/O once the handshake reaches Connected;
 * a runaway producer then gets the device disconnected (Closing).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "unit_store.h"
#include "../../backends/block/blkfront_loop.h"
#include "../../backends/common/bk_loop.h"
#include "../../backends/common/xenbus_back.h"
#include "../../dom0/libkeelstore/keelstore.h"

struct txb_store {
	struct unit_store st;
	struct ks_handle *ks; /* the toolstack's and frontends' view */
};

static int txb_start_store(struct txb_store *s)
{
	int err = unit_store_start(&s->st);

	s->ks = NULL;
	return err ? err : ks_open(s->st.sock, &s->ks);
}

static void txb_stop_store(struct txb_store *s)
{
	if (s->ks)
		ks_close(s->ks);
	if (unit_store_stop(&s->st))
		fprintf(stderr, "cannot remove %s\n", s->st.dir);
}

/* ---- a recording driver ---- */

static int txb_probes, txb_connects, txb_disconnects, txb_removes;
static int txb_fail_connect_devid = -1;

static int txb_probe(struct xb_device *d)
{
	txb_probes++;
	return xb_write_be(d, "feature-test", "1");
}

static int txb_connect(struct xb_device *d)
{
	char *v = NULL;
	int err;

	txb_connects++;
	if ((int)d->devid == txb_fail_connect_devid)
		return -EINVAL;
	/* A frontend key read through the device's paths. */
	err = xb_read_fe(d, "ring-ref", &v);
	free(v);
	return err;
}

static void txb_disconnect(struct xb_device *d)
{
	txb_disconnects++;
}

static void txb_remove(struct xb_device *d)
{
	txb_removes++;
}

static const struct xb_driver txb_driver = {
	.type = "test",
	.probe = txb_probe,
	.connect = txb_connect,
	.disconnect = txb_disconnect,
	.remove = txb_remove,
};

static void txb_w(struct txb_store *s, const char *path, const char *val)
{
	CU_ASSERT_EQUAL(ks_write_str(s->ks, KS_TX_NONE, path, val), 0);
}

static int txb_state(struct txb_store *s, const char *path)
{
	char *v = NULL;
	unsigned len;
	int st = -1;

	if (ks_read(s->ks, KS_TX_NONE, path, &v, &len) == 0)
		st = atoi(v);
	free(v);
	return st;
}

/* Pump the bus until @path holds @want (or give up after ~3 s). */
static int txb_wait_state(struct xb_bus *bus, struct txb_store *s, const char *path, int want)
{
	for (int i = 0; i < 150; i++) {
		if (bus)
			xb_bus_process(bus, 20);
		else
			usleep(20000);
		if (txb_state(s, path) == want)
			return want;
	}
	return txb_state(s, path);
}

/* Pump the bus a little while, expecting nothing in particular. */
static void txb_pump(struct xb_bus *bus, int rounds)
{
	for (int i = 0; i < rounds; i++)
		xb_bus_process(bus, 20);
}

/* Backend and frontend nodes as a toolstack writes them: in one transaction. */
static void txb_add_device(struct txb_store *s, const char *type, unsigned dom, unsigned dev)
{
	char be[128], fe[128], path[192], id[16];
	int err;

	snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%u", type, dom, dev);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%u", dom, type, dev);
	snprintf(id, sizeof(id), "%u", dom);
	do {
		ks_tx_t tx;

		CU_ASSERT_FATAL(ks_tx_start(s->ks, &tx) == 0);
		snprintf(path, sizeof(path), "%s/state", fe);
		ks_write_str(s->ks, tx, path, "1");
		snprintf(path, sizeof(path), "%s/backend", fe);
		ks_write_str(s->ks, tx, path, be);
		snprintf(path, sizeof(path), "%s/frontend", be);
		ks_write_str(s->ks, tx, path, fe);
		snprintf(path, sizeof(path), "%s/frontend-id", be);
		ks_write_str(s->ks, tx, path, id);
		snprintf(path, sizeof(path), "%s/online", be);
		ks_write_str(s->ks, tx, path, "1");
		err = ks_tx_end(s->ks, tx, true);
	} while (err == -EAGAIN);
	CU_ASSERT_EQUAL(err, 0);
}

static void test_xenbus_backend_handshake(void)
{
	const char *be = "/local/domain/0/backend/test/5/0/state";
	const char *fe = "/local/domain/5/device/test/0/state";
	struct bk_transport tp = {.self_domid = 0};
	struct txb_store s;
	struct xb_bus *bus;

	txb_probes = txb_connects = txb_disconnects = txb_removes = 0;
	CU_ASSERT_FATAL(txb_start_store(&s) == 0);
	bk_log_quiet(true);
	CU_ASSERT_FATAL(xb_bus_open(s.st.sock, &txb_driver, &tp, &bus) == 0);
	txb_add_device(&s, "test", 5, 0);
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateInitWait), XenbusStateInitWait);
	CU_ASSERT_EQUAL(txb_probes, 1);
	CU_ASSERT_EQUAL(txb_state(&s, "/local/domain/0/backend/test/5/0/feature-test"), 1);
	/* The frontend publishes its ring and says Initialised: we connect. */
	txb_w(&s, "/local/domain/5/device/test/0/ring-ref", "8");
	txb_w(&s, fe, "3");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateConnected), XenbusStateConnected);
	CU_ASSERT_EQUAL(txb_connects, 1);
	txb_w(&s, fe, "4");
	txb_pump(bus, 10); /* nothing may change */
	CU_ASSERT_EQUAL(txb_state(&s, be), XenbusStateConnected);
	CU_ASSERT_EQUAL(txb_connects, 1);
	/* Frontend closes: Closing, then Closed, device kept (online=1). */
	txb_w(&s, fe, "5");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateClosing), XenbusStateClosing);
	CU_ASSERT_EQUAL(txb_disconnects, 1);
	txb_w(&s, fe, "6");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateClosed), XenbusStateClosed);
	CU_ASSERT_EQUAL(xb_bus_device_count(bus), 1);
	/* It comes back (a frontend re-initialising after a kexec or resume). */
	txb_w(&s, fe, "1");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateInitWait), XenbusStateInitWait);
	txb_w(&s, fe, "4");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateConnected), XenbusStateConnected);
	CU_ASSERT_EQUAL(txb_connects, 2);
	/* Detach: the toolstack sets online=0, the frontend closes, the device goes. */
	txb_w(&s, "/local/domain/0/backend/test/5/0/online", "0");
	txb_w(&s, fe, "5");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateClosing), XenbusStateClosing);
	txb_w(&s, fe, "6");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, be, XenbusStateClosed), XenbusStateClosed);
	CU_ASSERT_EQUAL(xb_bus_device_count(bus), 0);
	CU_ASSERT_EQUAL(txb_removes, 1);
	xb_bus_close(bus);
	txb_stop_store(&s);
	bk_log_quiet(false);
}

/* A driver that waits for its hotplug script, as the "vif" driver does. */
static bool txb_hotplug_done(struct xb_device *d)
{
	char *v = NULL;
	bool done = xb_read_be(d, "hotplug-status", &v) == 0 && !strcmp(v, "connected");

	free(v);
	return done;
}

static const struct xb_driver txb_hotplug_driver = {
	.type = "test",
	.probe = txb_probe,
	.connect = txb_connect,
	.disconnect = txb_disconnect,
	.remove = txb_remove,
	.hotplug_done = txb_hotplug_done,
};

/*
 * The frontend is ready before the hotplug script has run (a driver
 * domain's xl devd bridges the TAP after InitWait): nothing is connected
 * and the backend stays in InitWait until hotplug-status says
 * "connected"; an "error" does not count.
 */
static void test_xenbus_backend_hotplug_wait(void)
{
	const char *be = "/local/domain/0/backend/test/6/0";
	char state[96], hs[96];
	struct bk_transport tp = {.self_domid = 0};
	struct txb_store s;
	struct xb_bus *bus;

	snprintf(state, sizeof(state), "%s/state", be);
	snprintf(hs, sizeof(hs), "%s/hotplug-status", be);
	txb_probes = txb_connects = txb_disconnects = txb_removes = 0;
	CU_ASSERT_FATAL(txb_start_store(&s) == 0);
	bk_log_quiet(true);
	CU_ASSERT_FATAL(xb_bus_open(s.st.sock, &txb_hotplug_driver, &tp, &bus) == 0);
	txb_add_device(&s, "test", 6, 0);
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, state, XenbusStateInitWait), XenbusStateInitWait);
	txb_w(&s, "/local/domain/6/device/test/0/ring-ref", "8");
	txb_w(&s, "/local/domain/6/device/test/0/state", "4");
	txb_pump(bus, 10);
	CU_ASSERT_EQUAL(txb_state(&s, state), XenbusStateInitWait);
	CU_ASSERT_EQUAL(txb_connects, 0);
	txb_w(&s, hs, "error");
	txb_pump(bus, 10);
	CU_ASSERT_EQUAL(txb_state(&s, state), XenbusStateInitWait);
	CU_ASSERT_EQUAL(txb_connects, 0);
	txb_w(&s, hs, "connected");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, state, XenbusStateConnected), XenbusStateConnected);
	CU_ASSERT_EQUAL(txb_connects, 1);
	xb_bus_close(bus);
	txb_stop_store(&s);
	bk_log_quiet(false);
}

static void test_xenbus_backend_many_and_bad(void)
{
	struct bk_transport tp = {.self_domid = 0};
	struct txb_store s;
	struct xb_bus *bus;
	char *v = NULL;
	unsigned len;

	txb_probes = txb_connects = txb_disconnects = txb_removes = 0;
	txb_fail_connect_devid = 99;
	CU_ASSERT_FATAL(txb_start_store(&s) == 0);
	bk_log_quiet(true);
	/* Devices written before the backend starts are found too. */
	txb_add_device(&s, "test", 6, 0);
	txb_add_device(&s, "test", 6, 1);
	CU_ASSERT_FATAL(xb_bus_open(s.st.sock, &txb_driver, &tp, &bus) == 0);
	txb_add_device(&s, "test", 7, 99);
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, "/local/domain/0/backend/test/6/0/state", 2), 2);
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, "/local/domain/0/backend/test/6/1/state", 2), 2);
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, "/local/domain/0/backend/test/7/99/state", 2), 2);
	CU_ASSERT_EQUAL(xb_bus_device_count(bus), 3);
	/* A connect that fails: Closing, and the error where xenbus puts it. */
	txb_w(&s, "/local/domain/7/device/test/99/state", "3");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, "/local/domain/0/backend/test/7/99/state", 5), 5);
	CU_ASSERT_EQUAL(ks_read(s.ks, KS_TX_NONE,
				"/local/domain/0/error/local/domain/0/backend/test/7/99/error", &v,
				&len),
			0);
	free(v);
	/* A frontend-id that does not match the directory: never probed. */
	txb_w(&s, "/local/domain/0/backend/test/8/0/frontend", "/local/domain/8/device/test/0");
	txb_w(&s, "/local/domain/0/backend/test/8/0/frontend-id", "3");
	CU_ASSERT_EQUAL(txb_wait_state(bus, &s, "/local/domain/0/backend/test/8/0/state", 5), 5);
	CU_ASSERT_EQUAL(txb_probes, 3);
	/* Junk names under the backend directory are ignored. */
	txb_w(&s, "/local/domain/0/backend/test/notadomain/0/frontend", "/x");
	txb_w(&s, "/local/domain/0/backend/test/9/-1/frontend", "/x");
	/* The toolstack removes a backend node: its device goes. */
	CU_ASSERT_EQUAL(ks_rm(s.ks, KS_TX_NONE, "/local/domain/0/backend/test/6/1"), 0);
	for (int i = 0; i < 100 && xb_bus_device_count(bus) != 3; i++)
		xb_bus_process(bus, 20);
	CU_ASSERT_EQUAL(xb_bus_device_count(bus), 3); /* 6/0, 7/99, 8/0 */
	xb_bus_close(bus);
	CU_ASSERT_EQUAL(txb_removes, 4);
	txb_stop_store(&s);
	txb_fail_connect_devid = -1;
	bk_log_quiet(false);
}

/* ---- the real vbd driver over xenbus and the loopback transport ---- */

static volatile int txb_bus_stop;

static void *txb_bus_thread(void *arg)
{
	xb_bus_run(arg, &txb_bus_stop, 20);
	return NULL;
}

static void test_xenbus_backend_vbd(void)
{
	const char *tmp = getenv("TMPDIR");
	const char *be = "/local/domain/0/backend/vbd/4/51712";
	char img[256], path[256], val[64];
	struct blkfront_buf b[2];
	struct blkfront_loop bf;
	struct bk_transport tp;
	struct bk_loop *loop;
	struct txb_store s;
	struct xb_bus *bus;
	pthread_t th;
	int fd;

	snprintf(img, sizeof(img), "%s/xb-vbd.XXXXXX", tmp ? tmp : "/tmp");
	fd = mkstemp(img);
	CU_ASSERT_FATAL(fd >= 0 && ftruncate(fd, 4 << 20) == 0);
	close(fd);
	CU_ASSERT_FATAL(txb_start_store(&s) == 0);
	bk_log_quiet(true);
	CU_ASSERT_FATAL(bk_loop_create(0, &loop) == 0);
	CU_ASSERT_FATAL(bk_loop_add_domain(loop, 4, 64, 64) == 0);
	bk_loop_transport(loop, &tp);
	CU_ASSERT_FATAL(xb_bus_open(s.st.sock, &blk_xenbus_driver, &tp, &bus) == 0);
	txb_bus_stop = 0;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, txb_bus_thread, bus) == 0);
	/* The toolstack's part. */
	txb_add_device(&s, "vbd", 4, 51712);
	snprintf(path, sizeof(path), "%s/params", be);
	txb_w(&s, path, img);
	snprintf(path, sizeof(path), "%s/mode", be);
	txb_w(&s, path, "w");
	snprintf(path, sizeof(path), "%s/state", be);
	CU_ASSERT_EQUAL(txb_wait_state(NULL, &s, path, 2), 2);
	snprintf(path, sizeof(path), "%s/sectors", be);
	CU_ASSERT_EQUAL(txb_state(&s, path), 8192);
	snprintf(path, sizeof(path), "%s/feature-max-indirect-segments", be);
	CU_ASSERT_EQUAL(txb_state(&s, path), BLK_MAX_INDIRECT_SEGMENTS);
	/* The frontend's part: two queues of two-page rings, published, Initialised. */
	CU_ASSERT_FATAL(blkfront_loop_init(&bf, loop, 4, 0, 2, 1) == 0);
	txb_w(&s, "/local/domain/4/device/vbd/51712/multi-queue-num-queues", "2");
	txb_w(&s, "/local/domain/4/device/vbd/51712/ring-page-order", "1");
	txb_w(&s, "/local/domain/4/device/vbd/51712/protocol", "x86_64-abi");
	txb_w(&s, "/local/domain/4/device/vbd/51712/feature-persistent", "1");
	for (unsigned q = 0; q < 2; q++) {
		for (unsigned i = 0; i < 2; i++) {
			snprintf(path, sizeof(path),
				 "/local/domain/4/device/vbd/51712/queue-%u/ring-ref%u", q, i);
			snprintf(val, sizeof(val), "%u", bf.q[q].ring_refs[i]);
			txb_w(&s, path, val);
		}
		snprintf(path, sizeof(path),
			 "/local/domain/4/device/vbd/51712/queue-%u/event-channel", q);
		snprintf(val, sizeof(val), "%u", bf.q[q].port);
		txb_w(&s, path, val);
	}
	txb_w(&s, "/local/domain/4/device/vbd/51712/state", "3");
	snprintf(path, sizeof(path), "%s/state", be);
	CU_ASSERT_EQUAL_FATAL(txb_wait_state(NULL, &s, path, 4), 4);
	for (unsigned i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(blkfront_loop_buf(&bf, false, &b[i]) == 0);
		memset(b[i].data, 0x30 + i, 4096);
	}
	CU_ASSERT_EQUAL(blkfront_loop_rw(&bf, 1, true, 80, b, 2), BLKIF_RSP_OKAY);
	memset(b[0].data, 0, 4096);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&bf, 0, false, 88, b, 1), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(b[0].data[100], 0x31);
	/* A runaway producer on queue 1: the device is disconnected (Closing). */
	ring_store(&bf.q[1].sring->req_prod, bf.q[1].ring.req_prod_pvt + 1000);
	bk_loop_evtchn_front_notify(loop, 4, bf.q[1].port);
	CU_ASSERT_EQUAL(txb_wait_state(NULL, &s, path, 5), 5);
	CU_ASSERT_EQUAL(bk_loop_mapped_count(loop, 4), 0);
	/* Detach: everything unmapped and unbound once the frontend is Closed. */
	txb_w(&s, "/local/domain/4/device/vbd/51712/state", "5");
	CU_ASSERT_EQUAL(txb_wait_state(NULL, &s, path, 5), 5);
	txb_w(&s, "/local/domain/4/device/vbd/51712/state", "6");
	CU_ASSERT_EQUAL(txb_wait_state(NULL, &s, path, 6), 6);
	CU_ASSERT_EQUAL(bk_loop_mapped_count(loop, 4), 0);
	CU_ASSERT(!bk_loop_evtchn_bound(loop, 4, bf.q[0].port));
	txb_bus_stop = 1;
	pthread_join(th, NULL);
	xb_bus_close(bus);
	bk_loop_destroy(loop);
	txb_stop_store(&s);
	unlink(img);
	bk_log_quiet(false);
}

UNIT_SUITE(xenbus_backend, NULL, NULL, UNIT_TEST(test_xenbus_backend_handshake),
	   UNIT_TEST(test_xenbus_backend_hotplug_wait), UNIT_TEST(test_xenbus_backend_many_and_bad),
	   UNIT_TEST(test_xenbus_backend_vbd))
