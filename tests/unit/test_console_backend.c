/*
 * keel-consoled's engine over the LOOPBACK TEST TRANSPORT: a test thread
 * plays the guest on a real console page (grant 0 of a loopback domain, an
 * event channel as an eventfd pair) while a server thread runs the poll
 * loop.  Output reaches the log file and an attached client (through the
 * same cons_client_open xl's console_open would call); client input reaches
 * the guest's input ring; a guest printing a lot rotates the log and stays
 * within its bound; bad ring indices cut the domain off without harm.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "abi/console.h"
#include "../../backends/common/bk_loop.h"
#include "../../backends/console/cons.h"
#include "../../backends/console/cons_client.h"

#define TC_DOM 3

struct tc {
	char rundir[256];
	struct bk_loop *loop;
	struct bk_transport tp;
	struct cons_server *srv;
	struct xencons_interface *intf;
	uint32_t port;
	pthread_t thread;
	volatile int stop;
};

static void *tc_server_thread(void *arg)
{
	struct tc *t = arg;

	while (!t->stop)
		cons_server_poll(t->srv, 20);
	return NULL;
}

static int tc_setup(struct tc *t, size_t log_max)
{
	const char *tmp = getenv("TMPDIR");
	struct cons_server_cfg cfg = {0};
	struct cons_dom_params p = {.domid = TC_DOM, .gref = GNTTAB_RESERVED_CONSOLE};
	struct grant_entry_v1 *e;
	uint32_t gfn;
	int err;

	memset(t, 0, sizeof(*t));
	snprintf(t->rundir, sizeof(t->rundir), "%s/cons.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(t->rundir))
		return -errno;
	bk_log_quiet(true);
	if ((err = bk_loop_create(0, &t->loop)) ||
	    (err = bk_loop_add_domain(t->loop, TC_DOM, 4, 16)))
		return err;
	bk_loop_transport(t->loop, &t->tp);
	/* The toolstack's console grant: reserved entry 0, as Xen's domain builder sets it. */
	if ((err = bk_loop_alloc_page(t->loop, TC_DOM, &gfn)))
		return err;
	t->intf = bk_loop_page(t->loop, TC_DOM, gfn);
	e = bk_loop_grant_entry(t->loop, TC_DOM, GNTTAB_RESERVED_CONSOLE);
	e->domid = 0;
	e->frame = gfn;
	__atomic_store_n(&e->flags, GTF_permit_access, __ATOMIC_RELEASE);
	if ((err = bk_loop_evtchn_alloc(t->loop, TC_DOM, &t->port)))
		return err;
	p.port = t->port;
	snprintf(p.name, sizeof(p.name), "tc-guest");
	cfg.rundir = t->rundir;
	cfg.tp = &t->tp;
	cfg.log_max = log_max;
	cfg.log_keep = 2;
	if ((err = cons_server_create(&cfg, &t->srv)) || (err = cons_server_add(t->srv, &p)))
		return err;
	return -pthread_create(&t->thread, NULL, tc_server_thread, t);
}

static void tc_teardown(struct tc *t)
{
	char cmd[600];

	t->stop = 1;
	cons_server_wake(t->srv);
	pthread_join(t->thread, NULL);
	cons_server_destroy(t->srv);
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t->loop, TC_DOM), 0);
	bk_loop_destroy(t->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->rundir);
	CU_ASSERT(system(cmd) == 0);
	bk_log_quiet(false);
}

/* The guest's console write: as much as fits, then kick. */
static size_t tc_guest_write(struct tc *t, const char *s, size_t len)
{
	XENCONS_RING_IDX prod = t->intf->out_prod;
	size_t n = 0;

	while (n < len &&
	       prod - __atomic_load_n(&t->intf->out_cons, __ATOMIC_ACQUIRE) < sizeof(t->intf->out))
		t->intf->out[MASK_XENCONS_IDX(prod++, t->intf->out)] = s[n++];
	__atomic_store_n(&t->intf->out_prod, prod, __ATOMIC_RELEASE);
	bk_loop_evtchn_front_notify(t->loop, TC_DOM, t->port);
	return n;
}

static void tc_guest_write_all(struct tc *t, const char *s, size_t len)
{
	for (int spins = 0; len && spins < 20000; spins++) {
		size_t n = tc_guest_write(t, s, len);

		s += n;
		len -= n;
		if (len)
			usleep(100);
	}
}

static size_t tc_guest_read(struct tc *t, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;

	for (int waited = 0; waited < timeout_ms && !n; waited += 5) {
		XENCONS_RING_IDX cons = t->intf->in_cons;
		XENCONS_RING_IDX prod = __atomic_load_n(&t->intf->in_prod, __ATOMIC_ACQUIRE);

		while (cons != prod && n < len)
			buf[n++] = t->intf->in[MASK_XENCONS_IDX(cons++, t->intf->in)];
		__atomic_store_n(&t->intf->in_cons, cons, __ATOMIC_RELEASE);
		if (!n)
			usleep(5000);
	}
	return n;
}

static size_t tc_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (size_t)n : 0;
}

static void test_console_output_input(void)
{
	char buf[256], path[512];
	struct tc t;
	int fd = -1;
	size_t got = 0;

	CU_ASSERT_FATAL(tc_setup(&t, 0) == 0);
	CU_ASSERT_EQUAL(t.intf->connection, XENCONSOLE_CONNECTED);
	CU_ASSERT_FATAL(cons_client_open(t.rundir, TC_DOM, &fd) == 0);
	for (int i = 0; i < 400 && !cons_server_client_count(t.srv, TC_DOM); i++)
		usleep(5000); /* the server accepts the client */
	CU_ASSERT_EQUAL(cons_server_client_count(t.srv, TC_DOM), 1);
	tc_guest_write_all(&t, "hello from the guest\n", 21);
	while (got < 21) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 2000) != 1)
			break;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	CU_ASSERT_STRING_EQUAL(buf, "hello from the guest\n");
	/* Input: the client types, the guest reads it from its ring. */
	CU_ASSERT(write(fd, "ls -l\r", 6) == 6);
	got = tc_guest_read(&t, buf, sizeof(buf), 2000);
	CU_ASSERT_EQUAL(got, 6);
	CU_ASSERT(memcmp(buf, "ls -l\r", 6) == 0);
	close(fd);
	/* The log has the output, named after the domain. */
	snprintf(path, sizeof(path), "%s/console/guest-tc-guest.log", t.rundir);
	for (int i = 0; i < 100 && tc_read_file(path, buf, sizeof(buf)) < 21; i++)
		usleep(10000);
	CU_ASSERT_STRING_EQUAL(buf, "hello from the guest\n");
	/* No console for a domain that is not served. */
	CU_ASSERT_EQUAL(cons_client_open(t.rundir, 99, &fd), -ENOENT);
	tc_teardown(&t);
}

static off_t tc_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_console_log_rotation(void)
{
	char path[512], rot[600], line[100];
	struct tc t;

	CU_ASSERT_FATAL(tc_setup(&t, 4096) == 0);
	for (int i = 0; i < 400; i++) {
		int n = snprintf(line, sizeof(line), "line %04d of a chatty guest\n", i);

		tc_guest_write_all(&t, line, (size_t)n);
	}
	snprintf(path, sizeof(path), "%s/console/guest-tc-guest.log", t.rundir);
	/* Wait for the last line to land. */
	for (int i = 0; i < 200; i++) {
		char buf[8192];

		if (tc_read_file(path, buf, sizeof(buf)) && strstr(buf, "line 0399"))
			break;
		usleep(10000);
	}
	CU_ASSERT(tc_size(path) > 0 && tc_size(path) <= 4096);
	snprintf(rot, sizeof(rot), "%s.1", path);
	CU_ASSERT(tc_size(rot) == 4096);
	snprintf(rot, sizeof(rot), "%s.2", path);
	CU_ASSERT(tc_size(rot) == 4096);
	snprintf(rot, sizeof(rot), "%s.3", path); /* keep = 2: never a third */
	CU_ASSERT(tc_size(rot) == -1);
	tc_teardown(&t);
}

static void test_console_bad_indices(void)
{
	char buf[16];
	struct tc t;
	int fd;

	CU_ASSERT_FATAL(tc_setup(&t, 0) == 0);
	/* The guest claims 1 MiB of output in a 2 KiB ring. */
	__atomic_store_n(&t.intf->out_prod, t.intf->out_cons + (1u << 20), __ATOMIC_RELEASE);
	bk_loop_evtchn_front_notify(t.loop, TC_DOM, t.port);
	for (int i = 0; i < 200 && !cons_server_broken(t.srv, TC_DOM); i++)
		usleep(5000);
	CU_ASSERT(cons_server_broken(t.srv, TC_DOM));
	/* Input is no longer delivered. */
	CU_ASSERT_FATAL(cons_client_open(t.rundir, TC_DOM, &fd) == 0);
	CU_ASSERT(write(fd, "x", 1) == 1);
	CU_ASSERT_EQUAL(tc_guest_read(&t, buf, sizeof(buf), 100), 0);
	close(fd);
	tc_teardown(&t);
}

static void test_console_bad_input_indices(void)
{
	struct tc t;
	int fd;

	CU_ASSERT_FATAL(tc_setup(&t, 0) == 0);
	/* The guest moves its input consumer past our producer. */
	__atomic_store_n(&t.intf->in_cons, 5000, __ATOMIC_RELEASE);
	CU_ASSERT_FATAL(cons_client_open(t.rundir, TC_DOM, &fd) == 0);
	usleep(30000);
	CU_ASSERT(write(fd, "abc", 3) == 3);
	for (int i = 0; i < 200 && !cons_server_broken(t.srv, TC_DOM); i++)
		usleep(5000);
	CU_ASSERT(cons_server_broken(t.srv, TC_DOM));
	close(fd);
	tc_teardown(&t);
}

/* Pure ring functions: wrap-around and exact fullness. */
static void test_console_ring_wrap(void)
{
	static struct xencons_interface intf;
	char in[1500], out[1500];

	memset(&intf, 0, sizeof(intf));
	intf.out_cons = intf.out_prod = 0xfffffff0u;
	for (int i = 0; i < 1500; i++)
		in[i] = (char)i;
	for (int i = 0; i < 1500; i++)
		intf.out[MASK_XENCONS_IDX(intf.out_prod++, intf.out)] = in[i];
	CU_ASSERT_EQUAL(cons_ring_read_out(&intf, out, sizeof(out)), 1500);
	CU_ASSERT(memcmp(in, out, 1500) == 0);
	CU_ASSERT_EQUAL(intf.out_cons, intf.out_prod);
	intf.in_cons = intf.in_prod = 0xffffff00u;
	CU_ASSERT_EQUAL(cons_ring_write_in(&intf, in, 1500), 1024); /* full at 1 KiB */
	CU_ASSERT_EQUAL(cons_ring_write_in(&intf, in, 10), 0);
	intf.in_cons += 24;
	CU_ASSERT_EQUAL(cons_ring_write_in(&intf, in, 100), 24);
	intf.in_prod = intf.in_cons + 2000;
	CU_ASSERT_EQUAL(cons_ring_write_in(&intf, in, 1), -EPROTO);
}

UNIT_SUITE(console_backend, NULL, NULL, UNIT_TEST(test_console_output_input),
	   UNIT_TEST(test_console_log_rotation), UNIT_TEST(test_console_bad_indices),
	   UNIT_TEST(test_console_bad_input_indices), UNIT_TEST(test_console_ring_wrap))
