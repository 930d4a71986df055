/*
 * keel-xenstored: the message handlers through the real dispatcher (over the
 * in-memory transport): reads, writes, permissions for unprivileged
 * domains, SET_TARGET, privileged-only operations, malformed requests,
 * DIRECTORY_PART, and the per-domain quotas.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../xenstore-like/xs_store.h"

static struct xs_server xs_o_srv;
static char xs_o_buf[XENSTORE_PAYLOAD_MAX + 1];

#define XS_O_CALL(c, type, tx, ...) \
	xs_memconn_callv(c, type, tx, xs_o_buf, sizeof(xs_o_buf), __VA_ARGS__, XS_END)

int xs_t_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val);
int xs_t_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val)
{
	char p[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(val);

	memcpy(p, path, pl);
	memcpy(p + pl, val, vl);
	return xs_memconn_call(c, XS_WRITE, tx, p, pl + vl, NULL, 0);
}

static int xs_o_init(void)
{
	xs_log_quiet = true;
	return 0;
}

static void xs_o_setup(void)
{
	xs_server_destroy(&xs_o_srv);
	CU_ASSERT_EQUAL_FATAL(xs_server_init(&xs_o_srv, NULL), 0);
}

static void test_xs_ops_basic(void)
{
	struct xs_conn *d0;

	xs_o_setup();
	d0 = xs_memconn_new(&xs_o_srv, 0, true);
	CU_ASSERT_EQUAL(xs_t_write(d0, 0, "/a/b", "hello"), 3); /* "OK\0" */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 0, "/a/b"), 5);
	CU_ASSERT_STRING_EQUAL(xs_o_buf, "hello");
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 0, "/a"), 0);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 0, "/nope"), -ENOENT);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_MKDIR, 0, "/a/b"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 0, "/a/b"), 5); /* mkdir keeps the value */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_DIRECTORY, 0, "/a"), 2);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_GET_PERMS, 0, "/a/b"), 3);
	CU_ASSERT_STRING_EQUAL(xs_o_buf, "n0");
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RM, 0, "/a/b"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RM, 0, "/a/b"), 3);	   /* parent exists: fine */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RM, 0, "/x/y"), -ENOENT); /* no parent */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RM, 0, "/"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_GET_DOMAIN_PATH, 0, "12"), 17);
	CU_ASSERT_STRING_EQUAL(xs_o_buf, "/local/domain/12");
	/* Relative paths for dom0. */
	CU_ASSERT_EQUAL(xs_t_write(d0, 0, "rel", "r"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 0, "/local/domain/0/rel"), 1);
}

static void test_xs_ops_malformed(void)
{
	struct xs_conn *d0;

	xs_o_setup();
	d0 = xs_memconn_new(&xs_o_srv, 0, true);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_READ, 0, "/a", 2, NULL, 0), -EINVAL); /* no NUL */
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_READ, 0, "", 0, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_READ, 0, "/a\0/b", 6, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_WRITE, 0, "/nonul", 6, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, 99, 0, "", 1, NULL, 0), -ENOSYS);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_WATCH_EVENT, 0, "", 1, NULL, 0), -ENOSYS);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_ERROR, 0, "", 1, NULL, 0), -ENOSYS);
	CU_ASSERT_EQUAL(xs_memconn_call(d0, XS_RESTRICT_OBSOLETE, 0, "", 1, NULL, 0), -ENOSYS);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 77, "/"), -ENOENT); /* unknown transaction */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_SET_PERMS, 0, "/", "q1"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_SET_PERMS, 0, "/"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_INTRODUCE, 0, "5", "x", "1"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_INTRODUCE, 0, "99999", "1", "1"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_DIRECTORY_PART, 0, "/", "abc"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_READ, 0, "@releaseDomain"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_CONTROL, 0, "nosuch"), -EINVAL);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_CONTROL, 0, "check"), 3);
	CU_ASSERT_FALSE(d0->dead);
}

static void test_xs_ops_permissions(void)
{
	struct xs_conn *d0, *d5, *d6, *d7, *d8;

	xs_o_setup();
	d0 = xs_memconn_new(&xs_o_srv, 0, true);
	d5 = xs_memconn_new(&xs_o_srv, 5, false);
	d6 = xs_memconn_new(&xs_o_srv, 6, false);
	d7 = xs_memconn_new(&xs_o_srv, 7, false);
	d8 = xs_memconn_new(&xs_o_srv, 8, false);
	xs_t_write(d0, 0, "/secret/key", "s");
	xs_t_write(d0, 0, "/local/domain/5", "");
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_SET_PERMS, 0, "/local/domain/5", "n5"), 3);
	/* Default n0: nobody else reads; a missing child under it is EACCES too. */
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, 0, "/secret/key"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, 0, "/secret/none"), -EACCES);
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "/secret/key", "x"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_DIRECTORY, 0, "/secret"), -EACCES);
	/* A domain's home: it writes there, owns what it creates. */
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "data/x", "5x"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, 0, "data/x"), 2);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_GET_PERMS, 0, "/local/domain/5/data/x"), 3);
	CU_ASSERT_STRING_EQUAL(xs_o_buf, "n5");
	CU_ASSERT_EQUAL(XS_O_CALL(d6, XS_READ, 0, "/local/domain/5/data/x"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, 0, "missing"), -ENOENT);
	/* The owner grants: r6 reads, others default n. */
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_SET_PERMS, 0, "data/x", "n5", "r6"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d6, XS_READ, 0, "/local/domain/5/data/x"), 2);
	CU_ASSERT_EQUAL(xs_t_write(d6, 0, "/local/domain/5/data/x", "6"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d7, XS_READ, 0, "/local/domain/5/data/x"), -EACCES);
	/* Only the owner sets perms; an unprivileged owner cannot give a node away. */
	CU_ASSERT_EQUAL(XS_O_CALL(d6, XS_SET_PERMS, 0, "/local/domain/5/data/x", "b6"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_SET_PERMS, 0, "data/x", "b6"), -EPERM);
	/* Default letter for unlisted domains: owner's entry. */
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_SET_PERMS, 0, "data/x", "r5"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d7, XS_READ, 0, "/local/domain/5/data/x"), 2);
	CU_ASSERT_EQUAL(xs_t_write(d7, 0, "/local/domain/5/data/x", "7"), -EACCES);
	/* SET_TARGET: domain 8 acts for domain 5 (a device model). */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_SET_TARGET, 0, "8", "5"), -ENOENT);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_INTRODUCE, 0, "8", "100", "3"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_SET_TARGET, 0, "8", "5"), 3);
	CU_ASSERT_EQUAL(xs_t_write(d8, 0, "/local/domain/5/data/x", "dm"), 3);
	/* Privileged operations are refused to guests. */
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_INTRODUCE, 0, "9", "1", "1"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_RELEASE, 0, "8"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_CONTROL, 0, "check"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_IS_DOMAIN_INTRODUCED, 0, "8"), -EACCES);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_IS_DOMAIN_INTRODUCED, 0, "8"), 2);
	CU_ASSERT_STRING_EQUAL(xs_o_buf, "T");
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RELEASE, 0, "8"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_IS_DOMAIN_INTRODUCED, 0, "8"), 2);
	CU_ASSERT_STRING_EQUAL(xs_o_buf, "F");
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RELEASE, 0, "8"), -ENOENT);
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_RESUME, 0, "8"), -ENOENT);
}

static void test_xs_ops_directory_part(void)
{
	struct xs_conn *d0;
	char path[64], all[20000], gen[32];
	size_t have = 0;
	unsigned off = 0, i;
	int n;

	xs_o_setup();
	d0 = xs_memconn_new(&xs_o_srv, 0, true);
	for (i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "/big/entry-with-a-long-name-%03u", i);
		CU_ASSERT_EQUAL_FATAL(xs_t_write(d0, 0, path, "v"), 3);
	}
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_DIRECTORY, 0, "/big"), -E2BIG);
	gen[0] = 0;
	for (;;) {
		char offs[16];
		size_t gl;

		snprintf(offs, sizeof(offs), "%u", off);
		n = XS_O_CALL(d0, XS_DIRECTORY_PART, 0, "/big", offs);
		CU_ASSERT_FATAL(n > 0 && n <= XENSTORE_PAYLOAD_MAX);
		gl = strlen(xs_o_buf) + 1;
		if (gen[0])
			CU_ASSERT_STRING_EQUAL(gen, xs_o_buf);
		strcpy(gen, xs_o_buf);
		memcpy(all + have, xs_o_buf + gl, (size_t)n - gl);
		have += (size_t)n - gl;
		off += (unsigned)((size_t)n - gl);
		if (have >= 2 && all[have - 2] == 0)
			break;
	}
	/* 400 names of 26 chars + NUL, then the end marker. */
	CU_ASSERT_EQUAL(have, 400 * 27 + 1);
	CU_ASSERT_STRING_EQUAL(all + 399 * 27, "entry-with-a-long-name-399");
	/* Offset past the end: an empty list. */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_DIRECTORY_PART, 0, "/big", "99999"), (int)strlen(gen) + 2);
}

static void test_xs_ops_quotas(void)
{
	struct xs_conn *d0, *d5;
	char path[64], big[3000];
	int i;

	xs_o_setup();
	xs_o_srv.quota.nodes = 5;
	xs_o_srv.quota.node_size = 100;
	xs_o_srv.quota.perms = 3;
	xs_o_srv.quota.watches = 2;
	xs_o_srv.quota.transactions = 2;
	d0 = xs_memconn_new(&xs_o_srv, 0, true);
	d5 = xs_memconn_new(&xs_o_srv, 5, false);
	xs_t_write(d0, 0, "/local/domain/5", "");
	XS_O_CALL(d0, XS_SET_PERMS, 0, "/local/domain/5", "n5");
	/* Node quota counts what domain 5 owns: its home (1) + 4 more. */
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "n%d", i);
		CU_ASSERT_EQUAL(xs_t_write(d5, 0, path, "v"), 3);
	}
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "one-too-many", "v"), -ENOSPC);
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "n0", "overwrite is fine"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_RM, 0, "n3"), 3);
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "again", "v"), 3);
	/* dom0 is not limited. */
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/d0/n%d", i);
		CU_ASSERT_EQUAL(xs_t_write(d0, 0, path, "v"), 3);
	}
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "n0", big), -ENOSPC);
	CU_ASSERT_EQUAL(xs_t_write(d0, 0, "/d0/big", big), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_SET_PERMS, 0, "n0", "n5", "r1", "r2", "r3"), -ENOSPC);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_SET_PERMS, 0, "n0", "n5", "r1", "r2"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_WATCH, 0, "a", "t"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_WATCH, 0, "b", "t"), 3);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_WATCH, 0, "c", "t"), -E2BIG);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_TRANSACTION_START, 0, ""), 2);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_TRANSACTION_START, 0, ""), 2);
	CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_TRANSACTION_START, 0, ""), -ENOSPC);
	/* A guest transaction may touch only tx_nodes nodes. */
	{
		uint32_t t = (uint32_t)strtoul(xs_o_buf, NULL, 10);

		xs_o_srv.quota.tx_nodes = 3;
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_TRANSACTION_START, 0, ""), -ENOSPC);
		XS_O_CALL(d5, XS_TRANSACTION_END, 1, "F");
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_TRANSACTION_START, 0, ""), 2);
		t = (uint32_t)strtoul(xs_o_buf, NULL, 10);
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, t, "n0"), 17);
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, t, "n1"), 1);
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, t, "n2"), 1);
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_READ, t, "again"), -ENOSPC);
		CU_ASSERT_EQUAL(XS_O_CALL(d5, XS_TRANSACTION_END, t, "F"), 3);
		xs_o_srv.quota.tx_nodes = 4096;
	}
	/* Quotas can be changed at run time through CONTROL. */
	CU_ASSERT_EQUAL(XS_O_CALL(d0, XS_CONTROL, 0, "quota", "nodes", "100"), 3);
	CU_ASSERT_EQUAL(xs_o_srv.quota.nodes, 100);
	CU_ASSERT_EQUAL(xs_t_write(d5, 0, "more", "v"), 3);
}

/* A client that never reads: we stop reading it; its output stays bounded. */
static void test_xs_ops_outstanding(void)
{
	struct xs_conn *d0, *lazy;
	char req[64];
	struct xsd_sockmsg h = {XS_READ, 1, 0, 3};
	int i;

	xs_o_setup();
	d0 = xs_memconn_new(&xs_o_srv, 0, true);
	lazy = xs_memconn_new(&xs_o_srv, 0, true);
	xs_t_write(d0, 0, "/v", "x");
	xs_memconn_set_cap(lazy, 1); /* reads nothing (one byte) */
	for (i = 0; i < 1000; i++) {
		memcpy(req, &h, sizeof(h));
		memcpy(req + sizeof(h), "/v", 3);
		xs_memconn_feed(lazy, req, sizeof(h) + 3);
	}
	CU_ASSERT_TRUE(lazy->blocked);
	CU_ASSERT(lazy->out.len <=
		  (size_t)(xs_o_srv.quota.outstanding + 1) * (XENSTORE_PAYLOAD_MAX + 16));
	CU_ASSERT(lazy->in_have <= sizeof(lazy->in.raw));
	/* Once it reads, it is served again. */
	xs_memconn_set_cap(lazy, 0);
	xs_server_want_flush(&xs_o_srv, lazy);
	xs_server_commit(&xs_o_srv);
	CU_ASSERT_FALSE(lazy->dead);
}

static int xs_o_cleanup(void)
{
	xs_server_destroy(&xs_o_srv);
	return 0;
}

UNIT_SUITE(xs_ops, xs_o_init, xs_o_cleanup, UNIT_TEST(test_xs_ops_basic),
	   UNIT_TEST(test_xs_ops_malformed), UNIT_TEST(test_xs_ops_permissions),
	   UNIT_TEST(test_xs_ops_directory_part), UNIT_TEST(test_xs_ops_quotas),
	   UNIT_TEST(test_xs_ops_outstanding))
