/*
 * keel-xenstored: the node tree, path canonicalisation and permission
 * strings, tested directly on xs_tree.c and xs_path.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "../../xenstore-like/xs_store.h"

static const struct xs_perm xs_t_p0 = {0, XS_PERM_NONE, 0};

static void test_xs_tree_create_lookup(void)
{
	struct xs_tree t;
	struct xs_node *n;
	char buf[64];
	unsigned missing;

	CU_ASSERT_EQUAL_FATAL(xs_tree_init(&t), 0);
	CU_ASSERT_PTR_NOT_NULL(xs_tree_lookup(&t, "/"));
	CU_ASSERT_PTR_NULL(xs_tree_lookup(&t, "/a"));
	CU_ASSERT_EQUAL(xs_tree_create(&t, "/a/b/c", &xs_t_p0, 1, "val", 3, &n), 0);
	CU_ASSERT_EQUAL(t.count, 4);
	CU_ASSERT_PTR_EQUAL(xs_tree_lookup(&t, "/a/b/c"), n);
	CU_ASSERT_EQUAL(n->vlen, 3);
	CU_ASSERT_EQUAL(memcmp(n->value, "val", 3), 0);
	CU_ASSERT_EQUAL(xs_tree_lookup(&t, "/a/b")->vlen, 0);
	CU_ASSERT_EQUAL(xs_tree_create(&t, "/a/b", &xs_t_p0, 1, "", 0, NULL), -EEXIST);
	CU_ASSERT_EQUAL(xs_node_path(n, buf, sizeof(buf)), 6);
	CU_ASSERT_STRING_EQUAL(buf, "/a/b/c");
	n = xs_tree_nearest(&t, "/a/b/x/y", &missing);
	CU_ASSERT_EQUAL(missing, 2);
	CU_ASSERT_PTR_EQUAL(n, xs_tree_lookup(&t, "/a/b"));
	/* Prefix names are distinct nodes. */
	CU_ASSERT_EQUAL(xs_tree_create(&t, "/ab", &xs_t_p0, 1, "", 0, NULL), 0);
	CU_ASSERT_PTR_NULL(xs_tree_lookup(&t, "/a/bc"));
	xs_tree_destroy(&t);
}

static void test_xs_tree_children_order_and_gen(void)
{
	struct xs_tree t;
	struct xs_node *d, *c;
	uint64_t g;
	const char *want[] = {"z", "a", "m"};
	int i = 0;

	xs_tree_init(&t);
	xs_tree_create(&t, "/d", &xs_t_p0, 1, "", 0, &d);
	g = d->gen;
	xs_tree_create(&t, "/d/z", &xs_t_p0, 1, "", 0, NULL);
	CU_ASSERT(d->gen > g); /* child set changed: parent's generation moves */
	xs_tree_create(&t, "/d/a", &xs_t_p0, 1, "", 0, NULL);
	xs_tree_create(&t, "/d/m", &xs_t_p0, 1, "", 0, NULL);
	for (c = d->first; c; c = c->next, i++)
		CU_ASSERT_STRING_EQUAL(c->name, want[i]); /* creation order, as Xen */
	CU_ASSERT_EQUAL(d->nchildren, 3);
	CU_ASSERT_EQUAL(d->childbytes, 6);
	g = d->gen;
	CU_ASSERT_EQUAL(xs_tree_delete(&t, xs_tree_lookup(&t, "/d/a"), "/d/a"), 0);
	CU_ASSERT(d->gen > g);
	CU_ASSERT_EQUAL(d->nchildren, 2);
	CU_ASSERT_STRING_EQUAL(d->first->next->name, "m");
	CU_ASSERT_EQUAL(xs_tree_delete(&t, t.root, "/"), -EINVAL);
	xs_tree_destroy(&t);
}

static void test_xs_tree_delete_subtree(void)
{
	struct xs_tree t;
	char p[64];
	int i;

	xs_tree_init(&t);
	for (i = 0; i < 100; i++) {
		snprintf(p, sizeof(p), "/s/%d/leaf", i);
		CU_ASSERT_EQUAL(xs_tree_create(&t, p, &xs_t_p0, 1, "x", 1, NULL), 0);
	}
	CU_ASSERT_EQUAL(t.count, 1 + 1 + 200);
	CU_ASSERT_EQUAL(xs_tree_delete(&t, xs_tree_lookup(&t, "/s"), "/s"), 0);
	CU_ASSERT_EQUAL(t.count, 1);
	CU_ASSERT_PTR_NULL(xs_tree_lookup(&t, "/s/5/leaf"));
	xs_tree_destroy(&t);
}

static int xs_t_walk_count(void *o, const char *path, const struct xs_node *n)
{
	(*(int *)o)++;
	return 0;
}

static void test_xs_tree_many_nodes(void)
{
	struct xs_tree t;
	char p[64];
	int i, visited = 0;

	xs_tree_init(&t);
	for (i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "/many/%d/k%d", i % 50, i);
		CU_ASSERT_EQUAL_FATAL(xs_tree_create(&t, p, &xs_t_p0, 1, "0123456789", 10, NULL),
				      0);
	}
	for (i = 0; i < 20000; i += 997) {
		snprintf(p, sizeof(p), "/many/%d/k%d", i % 50, i);
		CU_ASSERT_PTR_NOT_NULL(xs_tree_lookup(&t, p));
	}
	xs_tree_walk(&t, xs_t_walk_count, &visited);
	CU_ASSERT_EQUAL(visited, (int)t.count);
	CU_ASSERT_EQUAL(t.count, 1 + 1 + 50 + 20000);
	xs_tree_destroy(&t);
}

static void test_xs_path_canonical(void)
{
	char out[XENSTORE_ABS_PATH_MAX + 1], big[4000];

	CU_ASSERT_EQUAL(xs_path_canonical("/a/b", 0, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/a/b");
	CU_ASSERT_EQUAL(xs_path_canonical("device/vbd", 7, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/local/domain/7/device/vbd");
	CU_ASSERT_EQUAL(xs_path_canonical("/", 0, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(xs_path_canonical("@releaseDomain", 0, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(xs_path_canonical("", 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(xs_path_canonical("/a//b", 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(xs_path_canonical("/a/", 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(xs_path_canonical("/a b", 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(xs_path_canonical("/a\xff", 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(xs_path_canonical("/a.b", 0, out, sizeof(out)), -EINVAL);
	/* Relative part limit 2048, absolute 3072. */
	memset(big, 'x', sizeof(big));
	big[2048] = 0;
	CU_ASSERT_EQUAL(xs_path_canonical(big, 3, out, sizeof(out)), 0);
	big[2048] = 'x';
	big[2049] = 0;
	CU_ASSERT_EQUAL(xs_path_canonical(big, 3, out, sizeof(out)), -EINVAL);
	memset(big, 'x', sizeof(big));
	big[0] = '/';
	big[3072] = 0;
	CU_ASSERT_EQUAL(xs_path_canonical(big, 0, out, sizeof(out)), 0);
	big[3072] = 'x';
	big[3073] = 0;
	CU_ASSERT_EQUAL(xs_path_canonical(big, 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(xs_path_relative("/local/domain/7/x/y", 7), "x/y");
	CU_ASSERT_STRING_EQUAL(xs_path_relative("/local/domain/77/x", 7), "/local/domain/77/x");
	CU_ASSERT(xs_path_is_child("/a", "/a/b"));
	CU_ASSERT(xs_path_is_child("/a", "/a"));
	CU_ASSERT(!xs_path_is_child("/a", "/ab"));
	CU_ASSERT(xs_path_is_child("/", "/ab"));
}

static void test_xs_perm_strings(void)
{
	struct xs_perm p;
	char buf[16];

	CU_ASSERT_EQUAL(xs_perm_parse("r5", &p), 0);
	CU_ASSERT_EQUAL(p.perm, XS_PERM_READ);
	CU_ASSERT_EQUAL(p.domid, 5);
	CU_ASSERT_EQUAL(xs_perm_parse("b65535", &p), 0);
	CU_ASSERT_EQUAL(p.perm, XS_PERM_BOTH);
	CU_ASSERT_EQUAL(xs_perm_parse("n0", &p), 0);
	CU_ASSERT_EQUAL(xs_perm_parse("w", &p), -EINVAL);
	CU_ASSERT_EQUAL(xs_perm_parse("x1", &p), -EINVAL);
	CU_ASSERT_EQUAL(xs_perm_parse("r65536", &p), -EINVAL);
	CU_ASSERT_EQUAL(xs_perm_parse("r1a", &p), -EINVAL);
	CU_ASSERT_EQUAL(xs_perm_parse("r-1", &p), -EINVAL);
	p.perm = XS_PERM_WRITE;
	p.domid = 12;
	CU_ASSERT_EQUAL(xs_perm_format(&p, buf, sizeof(buf)), 3);
	CU_ASSERT_STRING_EQUAL(buf, "w12");
	CU_ASSERT_STRING_EQUAL(xs_errno_name(ENOENT), "ENOENT");
	CU_ASSERT_STRING_EQUAL(xs_errno_name(E2BIG), "E2BIG");
	CU_ASSERT_STRING_EQUAL(xs_errno_name(12345), "EINVAL");
	CU_ASSERT_EQUAL(xs_errno_from_name("EAGAIN"), EAGAIN);
}

static int xs_t_tree_init(void)
{
	xs_log_quiet = true;
	return 0;
}

UNIT_SUITE(xs_tree, xs_t_tree_init, NULL, UNIT_TEST(test_xs_tree_create_lookup),
	   UNIT_TEST(test_xs_tree_children_order_and_gen), UNIT_TEST(test_xs_tree_delete_subtree),
	   UNIT_TEST(test_xs_tree_many_nodes), UNIT_TEST(test_xs_path_canonical),
	   UNIT_TEST(test_xs_perm_strings))
