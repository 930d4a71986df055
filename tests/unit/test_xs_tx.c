/*
 * keel-xenstored: transactions (snapshot reads, isolation, commit, EAGAIN on
 * conflict, creation and removal inside a transaction) and watches (initial
 * event, firing below, relative paths, recursive removal, special events,
 * permission filtering, bounded backlog for a client that never reads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../xenstore-like/xs_store.h"

static struct xs_server xs_x_srv;
static char xs_x_buf[XENSTORE_PAYLOAD_MAX + 1];

#define XS_X_CALL(c, type, tx, ...) \
	xs_memconn_callv(c, type, tx, xs_x_buf, sizeof(xs_x_buf), __VA_ARGS__, XS_END)

int xs_t_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val);

static int xs_x_init(void)
{
	xs_log_quiet = true;
	return 0;
}

static void xs_x_setup(void)
{
	xs_server_destroy(&xs_x_srv);
	CU_ASSERT_EQUAL_FATAL(xs_server_init(&xs_x_srv, NULL), 0);
}

static uint32_t xs_x_start(struct xs_conn *c)
{
	if (XS_X_CALL(c, XS_TRANSACTION_START, 0, "") <= 0)
		return 0;
	return (uint32_t)strtoul(xs_x_buf, NULL, 10);
}

static const char *xs_x_read(struct xs_conn *c, uint32_t tx, const char *path)
{
	return XS_X_CALL(c, XS_READ, tx, path) >= 0 ? xs_x_buf : "<error>";
}

static void test_xs_tx_isolation_and_conflict(void)
{
	struct xs_conn *a, *b;
	uint32_t t;

	xs_x_setup();
	a = xs_memconn_new(&xs_x_srv, 0, true);
	b = xs_memconn_new(&xs_x_srv, 0, true);
	xs_t_write(a, 0, "/k", "a");
	t = xs_x_start(a);
	CU_ASSERT_NOT_EQUAL_FATAL(t, 0);
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, t, "/k"), "a");
	xs_t_write(b, 0, "/k", "b");
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, t, "/k"), "a"); /* the snapshot holds */
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, 0, "/k"), "b");
	CU_ASSERT_EQUAL(xs_t_write(a, t, "/k", "c"), 3);
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, t, "/k"), "c");
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "T"), -EAGAIN);
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, 0, "/k"), "b");		    /* nothing applied */
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "T"), -ENOENT); /* gone */
	/* Without interference the commit applies. */
	t = xs_x_start(a);
	CU_ASSERT_EQUAL(xs_t_write(a, t, "/k", "d"), 3);
	CU_ASSERT_STRING_EQUAL(xs_x_read(b, 0, "/k"), "b"); /* invisible until commit */
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "T"), 3);
	CU_ASSERT_STRING_EQUAL(xs_x_read(b, 0, "/k"), "d");
	/* Abort discards. */
	t = xs_x_start(a);
	xs_t_write(a, t, "/k", "e");
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "F"), 3);
	CU_ASSERT_STRING_EQUAL(xs_x_read(b, 0, "/k"), "d");
	/* A sibling created meanwhile conflicts with a transaction that created a child. */
	t = xs_x_start(a);
	xs_t_write(a, t, "/dir/new", "1");
	xs_t_write(b, 0, "/dir/other", "2");
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "T"), -EAGAIN);
	/* Bad END argument, nesting, unknown ids. */
	t = xs_x_start(a);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "X"), -EINVAL);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_START, t, ""), -EBUSY);
	CU_ASSERT_EQUAL(XS_X_CALL(b, XS_READ, t, "/k"), -ENOENT); /* not b's */
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, 0, "T"), -ENOENT);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "F"), 3);
}

static void test_xs_tx_create_remove(void)
{
	struct xs_conn *a;
	uint32_t t;

	xs_x_setup();
	a = xs_memconn_new(&xs_x_srv, 0, true);
	xs_t_write(a, 0, "/old/x", "1");
	xs_t_write(a, 0, "/old/y", "2");
	t = xs_x_start(a);
	CU_ASSERT_EQUAL(xs_t_write(a, t, "/new/deep/leaf", "L"), 3);
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, t, "/new/deep"), "");
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_DIRECTORY, t, "/new"), 5);
	CU_ASSERT_STRING_EQUAL(xs_x_buf, "deep");
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_READ, 0, "/new"), -ENOENT);
	/* Remove a subtree, then recreate part of it. */
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_RM, t, "/old"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_READ, t, "/old/x"), -ENOENT);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_READ, 0, "/old/x"), 1);
	CU_ASSERT_EQUAL(xs_t_write(a, t, "/old/z", "3"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_READ, t, "/old/y"), -ENOENT);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_DIRECTORY, t, "/old"), 2);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_SET_PERMS, t, "/old/z", "r0", "w4"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_TRANSACTION_END, t, "T"), 3);
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, 0, "/new/deep/leaf"), "L");
	CU_ASSERT_STRING_EQUAL(xs_x_read(a, 0, "/old/z"), "3");
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_READ, 0, "/old/x"), -ENOENT);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_READ, 0, "/old/y"), -ENOENT);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_GET_PERMS, 0, "/old/z"), 6);
	CU_ASSERT_EQUAL(memcmp(xs_x_buf, "r0\0w4", 6), 0);
	CU_ASSERT_EQUAL(XS_X_CALL(a, XS_CONTROL, 0, "check"), 3);
}

static void test_xs_watch_basic(void)
{
	struct xs_conn *w, *d;
	char path[256], tok[64];

	xs_x_setup();
	w = xs_memconn_new(&xs_x_srv, 0, true);
	d = xs_memconn_new(&xs_x_srv, 0, true);
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_WATCH, 0, "/w", "tok"), 3);
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0); /* fires when set */
	CU_ASSERT_STRING_EQUAL(path, "/w");
	CU_ASSERT_STRING_EQUAL(tok, "tok");
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_WATCH, 0, "/w", "tok"), -EEXIST);
	xs_t_write(d, 0, "/w/a", "1");
	xs_t_write(d, 0, "/wx", "not below /w");
	xs_t_write(d, 0, "/w/b/c", "2");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "/w/a");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "/w/b/c");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), -ENOENT);
	/* Removing an ancestor fires watches below it with their own path. */
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_WATCH, 0, "/w/b/c", "deep"), 3);
	xs_memconn_event(w, path, tok, sizeof(path));
	XS_X_CALL(d, XS_RM, 0, "/w");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "/w");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "/w/b/c");
	CU_ASSERT_STRING_EQUAL(tok, "deep");
	/* Transactions fire at commit, per operation, in order. */
	{
		uint32_t t = xs_x_start(d);

		xs_t_write(d, t, "/w/t1", "1");
		xs_t_write(d, t, "/w/t2", "2");
		CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), -ENOENT);
		XS_X_CALL(d, XS_TRANSACTION_END, t, "T");
		CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
		CU_ASSERT_STRING_EQUAL(path, "/w/t1");
		CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
		CU_ASSERT_STRING_EQUAL(path, "/w/t2");
	}
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_UNWATCH, 0, "/w", "tok"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_UNWATCH, 0, "/w", "tok"), -ENOENT);
	xs_t_write(d, 0, "/w/after", "1");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), -ENOENT);
}

static void test_xs_watch_relative_special_perms(void)
{
	struct xs_conn *d0, *d5;
	char path[256], tok[64];

	xs_x_setup();
	d0 = xs_memconn_new(&xs_x_srv, 0, true);
	d5 = xs_memconn_new(&xs_x_srv, 5, false);
	xs_t_write(d0, 0, "/local/domain/5", "");
	XS_X_CALL(d0, XS_SET_PERMS, 0, "/local/domain/5", "n5");
	xs_t_write(d0, 0, "/local/domain/5/device", "");
	XS_X_CALL(d0, XS_SET_PERMS, 0, "/local/domain/5/device", "n0");
	CU_ASSERT_EQUAL(XS_X_CALL(d5, XS_WATCH, 0, "device", "rel"), 3);
	CU_ASSERT_EQUAL(xs_memconn_event(d5, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "device");
	xs_t_write(d0, 0, "/local/domain/5/device/vif/0", "x");
	CU_ASSERT_EQUAL(xs_memconn_event(d5, path, tok, sizeof(path)),
			-ENOENT); /* n0: unreadable */
	XS_X_CALL(d0, XS_SET_PERMS, 0, "/local/domain/5/device/vif/0", "n0", "r5");
	CU_ASSERT_EQUAL(xs_memconn_event(d5, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "device/vif/0");
	/* @introduceDomain / @releaseDomain[/id] reach privileged watchers. */
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_WATCH, 0, "@introduceDomain", "i"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_WATCH, 0, "@releaseDomain", "r"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_WATCH, 0, "@releaseDomain/9", "r9"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(d5, XS_WATCH, 0, "@introduceDomain", "i5"), 3);
	while (xs_memconn_event(d0, path, tok, sizeof(path)) == 0)
		;
	while (xs_memconn_event(d5, path, tok, sizeof(path)) == 0)
		;
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_INTRODUCE, 0, "9", "4242", "7"), 3);
	CU_ASSERT_EQUAL(xs_memconn_event(d0, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "@introduceDomain");
	CU_ASSERT_EQUAL(xs_memconn_event(d5, path, tok, sizeof(path)), -ENOENT);
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_RELEASE, 0, "9"), 3);
	CU_ASSERT_EQUAL(xs_memconn_event(d0, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "@releaseDomain");
	CU_ASSERT_EQUAL(xs_memconn_event(d0, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "@releaseDomain/9");
	CU_ASSERT_STRING_EQUAL(tok, "r9");
	/* Special nodes' permissions decide who else hears them. */
	CU_ASSERT_EQUAL(XS_X_CALL(d5, XS_WATCH, 0, "@releaseDomain", "r5"), 3);
	while (xs_memconn_event(d5, path, tok, sizeof(path)) == 0)
		;
	CU_ASSERT_EQUAL(XS_X_CALL(d5, XS_SET_PERMS, 0, "@releaseDomain", "n5"), -EACCES);
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_SET_PERMS, 0, "@releaseDomain", "n0", "r5"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_GET_PERMS, 0, "@releaseDomain"), 6);
	CU_ASSERT_EQUAL(memcmp(xs_x_buf, "n0\0r5", 6), 0);
	CU_ASSERT_EQUAL(XS_X_CALL(d0, XS_GET_PERMS, 0, "@nosuch"), -ENOENT);
	XS_X_CALL(d0, XS_INTRODUCE, 0, "9", "4242", "7");
	XS_X_CALL(d0, XS_RELEASE, 0, "9");
	CU_ASSERT_EQUAL(xs_memconn_event(d5, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(path, "@releaseDomain");
	CU_ASSERT_EQUAL(xs_memconn_event(d5, path, tok, sizeof(path)), -ENOENT);
	/* RESET_WATCHES drops them all. */
	CU_ASSERT_EQUAL(XS_X_CALL(d5, XS_RESET_WATCHES, 0, ""), 3);
	CU_ASSERT_EQUAL(d5->nwatches, 0);
}

/* Many watches: only the changed node's and its ancestors' fire, in order. */
static void test_xs_watch_many(void)
{
	struct xs_conn *w, *d;
	char path[256], tok[64];
	int i;

	xs_x_setup();
	w = xs_memconn_new(&xs_x_srv, 0, true);
	d = xs_memconn_new(&xs_x_srv, 0, true);
	for (i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "/m/%d", i);
		CU_ASSERT_EQUAL_FATAL(XS_X_CALL(w, XS_WATCH, 0, path, "t"), 3);
	}
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_WATCH, 0, "/m", "first"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_WATCH, 0, "/m", "second"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_WATCH, 0, "/", "root"), 3);
	CU_ASSERT_EQUAL(XS_X_CALL(w, XS_UNWATCH, 0, "/m/1500", "t"), 3);
	while (xs_memconn_event(w, path, tok, sizeof(path)) == 0)
		;
	xs_t_write(d, 0, "/m/1234/x", "v");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(tok, "t"); /* nearest first: /m/1234 */
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(tok, "first"); /* same path: registration order */
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(tok, "second");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(tok, "root");
	CU_ASSERT_STRING_EQUAL(path, "/m/1234/x");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), -ENOENT);
	xs_t_write(d, 0, "/m/1500", "unwatched");
	CU_ASSERT_EQUAL(xs_memconn_event(w, path, tok, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(tok, "first");
	/* Removing /m fires every watch below it once, with its own path. */
	while (xs_memconn_event(w, path, tok, sizeof(path)) == 0)
		;
	XS_X_CALL(d, XS_RM, 0, "/m");
	for (i = 0; xs_memconn_event(w, path, tok, sizeof(path)) == 0; i++)
		;
	CU_ASSERT_EQUAL(i, 2999 + 3);
	CU_ASSERT_EQUAL(w->nwatches, 3002);
}

/* A watcher that never reads: events are dropped, memory stays bounded. */
static void test_xs_watch_flood_bounded(void)
{
	struct xs_conn *w, *d;
	char path[64];
	int i;

	xs_x_setup();
	w = xs_memconn_new(&xs_x_srv, 0, true);
	d = xs_memconn_new(&xs_x_srv, 0, true);
	XS_X_CALL(w, XS_WATCH, 0, "/", "all");
	xs_memconn_set_cap(w, 1);
	for (i = 0; i < 60000; i++) {
		snprintf(path, sizeof(path), "/flood/%d", i % 100);
		xs_t_write(d, 0, path, "0123456789012345678901234567890123456789");
	}
	CU_ASSERT(w->events_dropped > 0);
	CU_ASSERT(w->out.len < (2u << 20));
	CU_ASSERT_FALSE(w->dead);
	CU_ASSERT_FALSE(d->dead);
}

static int xs_x_cleanup(void)
{
	xs_server_destroy(&xs_x_srv);
	return 0;
}

UNIT_SUITE(xs_tx, xs_x_init, xs_x_cleanup, UNIT_TEST(test_xs_tx_isolation_and_conflict),
	   UNIT_TEST(test_xs_tx_create_remove), UNIT_TEST(test_xs_watch_basic),
	   UNIT_TEST(test_xs_watch_relative_special_perms), UNIT_TEST(test_xs_watch_many),
	   UNIT_TEST(test_xs_watch_flood_bounded))
