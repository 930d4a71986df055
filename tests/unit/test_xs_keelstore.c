/*
 * libkeelstore against a real keel-xenstored server (socket transport,
 * event loop in a thread): every call of the library, its error mapping,
 * watch events queued while waiting for a reply, and transactions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "../../dom0/libkeelstore/keelstore.h"
#include "../../xenstore-like/xs_store.h"

static struct xs_server xs_k_srv;
static pthread_t xs_k_thr;
static volatile int xs_k_stop;
static char xs_k_sock[64];

static void *xs_k_loop(void *arg)
{
	while (!xs_k_stop)
		xs_server_run_once(&xs_k_srv, 20);
	return NULL;
}

static int xs_k_init(void)
{
	xs_log_quiet = true;
	snprintf(xs_k_sock, sizeof(xs_k_sock), "/tmp/keel-xs-ks-%d.sock", (int)getpid());
	if (xs_server_init(&xs_k_srv, NULL) || xs_server_listen(&xs_k_srv, xs_k_sock))
		return -1;
	return pthread_create(&xs_k_thr, NULL, xs_k_loop, NULL);
}

static int xs_k_cleanup(void)
{
	xs_k_stop = 1;
	pthread_join(xs_k_thr, NULL);
	xs_server_destroy(&xs_k_srv);
	return 0;
}

static void test_ks_nodes(void)
{
	struct ks_handle *h;
	struct ks_perm perms[2] = {{0, 'n'}, {3, 'r'}}, *got;
	char *v, **names;
	unsigned len, n;

	CU_ASSERT_EQUAL_FATAL(ks_open(xs_k_sock, &h), 0);
	CU_ASSERT_EQUAL(ks_write_str(h, KS_TX_NONE, "/ks/a", "alpha"), 0);
	CU_ASSERT_EQUAL(ks_write(h, KS_TX_NONE, "/ks/bin", "x\0y", 3), 0);
	CU_ASSERT_EQUAL(ks_read(h, KS_TX_NONE, "/ks/a", &v, &len), 0);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_STRING_EQUAL(v, "alpha");
	free(v);
	CU_ASSERT_EQUAL(ks_read(h, KS_TX_NONE, "/ks/bin", &v, &len), 0);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_EQUAL(memcmp(v, "x\0y", 3), 0);
	free(v);
	CU_ASSERT_EQUAL(ks_read(h, KS_TX_NONE, "/ks/none", &v, &len), -ENOENT);
	CU_ASSERT_EQUAL(ks_read(h, KS_TX_NONE, "/bad//path", &v, &len), -EINVAL);
	CU_ASSERT_EQUAL(ks_mkdir(h, KS_TX_NONE, "/ks/dir"), 0);
	CU_ASSERT_EQUAL(ks_directory(h, KS_TX_NONE, "/ks", &names, &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	if (n == 3) {
		CU_ASSERT_STRING_EQUAL(names[0], "a");
		CU_ASSERT_STRING_EQUAL(names[2], "dir");
	}
	free(names);
	CU_ASSERT_EQUAL(ks_set_perms(h, KS_TX_NONE, "/ks/a", perms, 2), 0);
	CU_ASSERT_EQUAL(ks_get_perms(h, KS_TX_NONE, "/ks/a", &got, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	if (n == 2) {
		CU_ASSERT_EQUAL(got[1].perm, 'r');
		CU_ASSERT_EQUAL(got[1].domid, 3);
	}
	free(got);
	CU_ASSERT_EQUAL(ks_rm(h, KS_TX_NONE, "/ks"), 0);
	CU_ASSERT_EQUAL(ks_read(h, KS_TX_NONE, "/ks/a", &v, &len), -ENOENT);
	ks_close(h);
}

static void test_ks_watch_and_tx(void)
{
	struct ks_handle *h, *w;
	char *path, *token, *v;
	ks_tx_t tx, tx2;
	unsigned len;

	CU_ASSERT_EQUAL_FATAL(ks_open(xs_k_sock, &h), 0);
	CU_ASSERT_EQUAL_FATAL(ks_open(xs_k_sock, &w), 0);
	CU_ASSERT_EQUAL(ks_watch(w, "/kw", "tk"), 0);
	CU_ASSERT_EQUAL(ks_read_watch(w, 1000, &path, &token), 0);
	CU_ASSERT_STRING_EQUAL(path, "/kw");
	CU_ASSERT_STRING_EQUAL(token, "tk");
	free(path);
	free(token);
	CU_ASSERT_EQUAL(ks_read_watch(w, 50, &path, &token), -ETIMEDOUT);
	CU_ASSERT_EQUAL(ks_write_str(h, KS_TX_NONE, "/kw/x", "1"), 0);
	/* The event arrives while w waits for an unrelated reply: it is queued. */
	CU_ASSERT_EQUAL(ks_write_str(w, KS_TX_NONE, "/other", "o"), 0);
	CU_ASSERT_EQUAL(ks_read_watch(w, 1000, &path, &token), 0);
	CU_ASSERT_STRING_EQUAL(path, "/kw/x");
	free(path);
	free(token);
	/* Transactions: isolated, committed, conflicting. */
	CU_ASSERT_EQUAL(ks_tx_start(h, &tx), 0);
	CU_ASSERT_EQUAL(ks_write_str(h, tx, "/kw/x", "2"), 0);
	CU_ASSERT_EQUAL(ks_read(w, KS_TX_NONE, "/kw/x", &v, &len), 0);
	CU_ASSERT_STRING_EQUAL(v, "1");
	free(v);
	CU_ASSERT_EQUAL(ks_tx_end(h, tx, true), 0);
	CU_ASSERT_EQUAL(ks_read(w, KS_TX_NONE, "/kw/x", &v, &len), 0);
	CU_ASSERT_STRING_EQUAL(v, "2");
	free(v);
	CU_ASSERT_EQUAL(ks_tx_start(h, &tx2), 0);
	CU_ASSERT_EQUAL(ks_read(h, tx2, "/kw/x", &v, &len), 0);
	free(v);
	CU_ASSERT_EQUAL(ks_write_str(w, KS_TX_NONE, "/kw/x", "3"), 0);
	CU_ASSERT_EQUAL(ks_write_str(h, tx2, "/kw/x", "4"), 0);
	CU_ASSERT_EQUAL(ks_tx_end(h, tx2, true), -EAGAIN);
	CU_ASSERT_EQUAL(ks_unwatch(w, "/kw", "tk"), 0);
	CU_ASSERT_EQUAL(ks_unwatch(w, "/kw", "tk"), -ENOENT);
	ks_close(w);
	ks_close(h);
}

static void test_ks_domains(void)
{
	struct ks_handle *h;
	const char *argv[] = {"check"};
	char *path, *out;
	bool in;

	CU_ASSERT_EQUAL_FATAL(ks_open(xs_k_sock, &h), 0);
	CU_ASSERT_EQUAL(ks_is_introduced(h, 12, &in), 0);
	CU_ASSERT_FALSE(in);
	CU_ASSERT_EQUAL(ks_introduce(h, 12, 777, 4), 0);
	CU_ASSERT_EQUAL(ks_is_introduced(h, 12, &in), 0);
	CU_ASSERT_TRUE(in);
	CU_ASSERT_EQUAL(ks_set_target(h, 12, 3), 0);
	CU_ASSERT_EQUAL(ks_resume(h, 12), 0);
	CU_ASSERT_EQUAL(ks_get_domain_path(h, 12, &path), 0);
	CU_ASSERT_STRING_EQUAL(path, "/local/domain/12");
	free(path);
	CU_ASSERT_EQUAL(ks_release(h, 12), 0);
	CU_ASSERT_EQUAL(ks_release(h, 12), -ENOENT);
	CU_ASSERT_EQUAL(ks_control(h, argv, 1, &out), 0);
	CU_ASSERT_STRING_EQUAL(out, "OK");
	free(out);
	ks_close(h);
	CU_ASSERT_EQUAL(ks_open("/nonexistent/keel/socket", &h), -ENOENT);
}

UNIT_SUITE(xs_keelstore, xs_k_init, xs_k_cleanup, UNIT_TEST(test_ks_nodes),
	   UNIT_TEST(test_ks_watch_and_tx), UNIT_TEST(test_ks_domains))
