/*
 * keel-consoled's store side against a real keel-xenstored (private socket,
 * journal off), with the console page and event channel of the domain
 * provided by the LOOPBACK TEST TRANSPORT: a domain is served once the
 * toolstack writes console/port (its log named after /local/domain/<id>/
 * name), a domain without a console or with a malformed port is not, and a
 * destroyed domain (its directory removed) stops being served, its socket
 * gone.  The daemon's own loop (cons_xs_serve) runs in a thread.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "unit_store.h"
#include "abi/console.h"
#include "../../backends/common/bk_loop.h"
#include "../../backends/console/cons.h"
#include "../../backends/console/cons_client.h"
#include "../../backends/console/cons_xs.h"
#include "../../dom0/libkeelstore/keelstore.h"

struct tcx {
	struct unit_store st;
	struct ks_handle *ks, *tool;
	struct bk_loop *loop;
	struct bk_transport tp;
	struct cons_server *srv;
	pthread_t thread;
	volatile int stop;
	int serve_err;
};

static int tcx_start_store(struct tcx *t)
{
	int err = unit_store_start(&t->st);

	if (err || (err = ks_open(t->st.sock, &t->tool)))
		return err;
	return ks_open(t->st.sock, &t->ks);
}

static void *tcx_serve(void *arg)
{
	struct tcx *t = arg;

	t->serve_err = cons_xs_serve(t->srv, t->ks, 0, &t->stop);
	return NULL;
}

/* A loopback domain with a console page behind grant 0 and a console port. */
static int tcx_domain(struct tcx *t, uint16_t domid, struct xencons_interface **intf,
		      uint32_t *port)
{
	struct grant_entry_v1 *e;
	uint32_t gfn;
	int err;

	if ((err = bk_loop_add_domain(t->loop, domid, 4, 16)) ||
	    (err = bk_loop_alloc_page(t->loop, domid, &gfn)) ||
	    (err = bk_loop_evtchn_alloc(t->loop, domid, port)))
		return err;
	*intf = bk_loop_page(t->loop, domid, gfn);
	e = bk_loop_grant_entry(t->loop, domid, GNTTAB_RESERVED_CONSOLE);
	e->domid = 0;
	e->frame = gfn;
	__atomic_store_n(&e->flags, GTF_permit_access, __ATOMIC_RELEASE);
	return 0;
}

static void tcx_w(struct tcx *t, const char *path, const char *val)
{
	CU_ASSERT_EQUAL(ks_write_str(t->tool, KS_TX_NONE, path, val), 0);
}

static bool tcx_wait_served(struct tcx *t, uint16_t domid, bool want)
{
	for (int i = 0; i < 200 && cons_server_has(t->srv, domid) != want; i++)
		usleep(10000);
	return cons_server_has(t->srv, domid) == want;
}

static void test_console_xenstore_discovery(void)
{
	struct cons_server_cfg cfg = {0};
	struct xencons_interface *intf;
	char port_s[16], path[600], buf[64] = "";
	uint32_t port, port2;
	struct xencons_interface *intf2;
	struct stat st;
	struct tcx t;
	int fd;

	memset(&t, 0, sizeof(t));
	bk_log_quiet(true);
	CU_ASSERT_FATAL(tcx_start_store(&t) == 0);
	CU_ASSERT_FATAL(bk_loop_create(0, &t.loop) == 0);
	bk_loop_transport(t.loop, &t.tp);
	CU_ASSERT_FATAL(tcx_domain(&t, 12, &intf, &port) == 0);
	CU_ASSERT_FATAL(tcx_domain(&t, 13, &intf2, &port2) == 0);
	cfg.rundir = t.st.dir;
	cfg.tp = &t.tp;
	CU_ASSERT_FATAL(cons_server_create(&cfg, &t.srv) == 0);
	CU_ASSERT_FATAL(cons_xs_watch(t.ks) == 0);
	CU_ASSERT_FATAL(pthread_create(&t.thread, NULL, tcx_serve, &t) == 0);

	/* Domain 12 as a toolstack builds it. */
	snprintf(port_s, sizeof(port_s), "%u", port);
	tcx_w(&t, "/local/domain/12/name", "web1");
	tcx_w(&t, "/local/domain/12/console/ring-ref", "0");
	tcx_w(&t, "/local/domain/12/console/port", port_s);
	/* Domain 13 has a malformed port; domain 14 no console at all. */
	tcx_w(&t, "/local/domain/13/console/port", "12x");
	tcx_w(&t, "/local/domain/14/name", "noconsole");
	CU_ASSERT(tcx_wait_served(&t, 12, true));
	CU_ASSERT(!cons_server_has(t.srv, 13));
	CU_ASSERT(!cons_server_has(t.srv, 14));

	/* Its output reaches the log named after it. */
	memcpy(intf->out, "booting web1\n", 13);
	__atomic_store_n(&intf->out_prod, 13, __ATOMIC_RELEASE);
	bk_loop_evtchn_front_notify(t.loop, 12, port);
	snprintf(path, sizeof(path), "%s/console/guest-web1.log", t.st.dir);
	for (int i = 0; i < 200 && strlen(buf) < 13; i++) {
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);

			buf[n > 0 ? n : 0] = 0;
			close(fd);
		}
		usleep(10000);
	}
	CU_ASSERT_STRING_EQUAL(buf, "booting web1\n");

	/* The domain is destroyed: no longer served, its socket gone. */
	CU_ASSERT_EQUAL(ks_rm(t.tool, KS_TX_NONE, "/local/domain/12"), 0);
	CU_ASSERT(tcx_wait_served(&t, 12, false));
	CU_ASSERT_EQUAL(cons_client_open(t.st.dir, 12, &fd), -ENOENT);
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t.loop, 12), 0);
	snprintf(path, sizeof(path), "%s/console/12.sock", t.st.dir);
	CU_ASSERT(stat(path, &st) < 0);

	t.stop = 1;
	pthread_join(t.thread, NULL);
	CU_ASSERT_EQUAL(t.serve_err, 0);
	cons_server_destroy(t.srv);
	bk_loop_destroy(t.loop);
	ks_close(t.ks);
	ks_close(t.tool);
	CU_ASSERT(unit_store_stop(&t.st) == 0);
	bk_log_quiet(false);
}

UNIT_SUITE(console_xenstore, NULL, NULL, UNIT_TEST(test_console_xenstore_discovery))
