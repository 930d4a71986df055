/*
 * keel-xenstored: the journal.  A store rebuilt from the journal equals the
 * one that wrote it (nodes, values, permissions, introduced domains); a
 * transaction is one batch; a torn tail is cut at the last whole batch;
 * compaction keeps the content and shrinks the file; a batch left open
 * outside a request survives a flush of what came before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../../xenstore-like/xs_store.h"

int xs_t_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val);

static char xs_j_dir[64];
static char xs_j_file[96];

static int xs_j_dump_node(void *o, const char *path, const struct xs_node *n)
{
	struct xs_buf *b = o;
	char perm[16];
	unsigned i;

	xs_buf_put(b, path, strlen(path));
	xs_buf_put(b, "=", 1);
	xs_buf_put(b, n->value, n->vlen);
	for (i = 0; i < n->nperms; i++) {
		int l = xs_perm_format(&xs_node_perms(n)[i], perm, sizeof(perm));

		xs_buf_put(b, " ", 1);
		xs_buf_put(b, perm, (size_t)l);
	}
	xs_buf_put(b, "\n", 1);
	return 0;
}

/* The whole tree as text, for comparing two stores. */
static char *xs_j_dump(struct xs_server *s)
{
	struct xs_buf b = {0};

	xs_tree_walk(&s->tree, xs_j_dump_node, &b);
	xs_buf_put(&b, "", 1);
	return b.p;
}

static unsigned xs_j_batches(void)
{
	FILE *f = fopen(xs_j_file, "rb");
	uint32_t hdr[2];
	unsigned n = 0;

	if (!f)
		return 0;
	fseek(f, 8, SEEK_SET);
	while (fread(hdr, 8, 1, f) == 1 && !fseek(f, hdr[0], SEEK_CUR))
		n++;
	fclose(f);
	return n;
}

static int xs_j_open(struct xs_server *s)
{
	int rc = xs_server_init(s, NULL);

	return rc ? rc : xs_server_open_journal(s, xs_j_dir, false);
}

static int xs_j_init(void)
{
	xs_log_quiet = true;
	strcpy(xs_j_dir, "/tmp/keel-xs-journal-XXXXXX");
	if (!mkdtemp(xs_j_dir))
		return -1;
	snprintf(xs_j_file, sizeof(xs_j_file), "%s/journal", xs_j_dir);
	return 0;
}

static int xs_j_cleanup(void)
{
	unlink(xs_j_file);
	rmdir(xs_j_dir);
	return 0;
}

static void test_xs_journal_replay(void)
{
	struct xs_server a, b;
	struct xs_conn *c;
	char *da, *db, buf[32];
	unsigned before;
	uint32_t t;

	unlink(xs_j_file);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	c = xs_memconn_new(&a, 0, true);
	xs_t_write(c, 0, "/a/b/c", "v1");
	xs_t_write(c, 0, "/a/b/c", "v2");
	xs_t_write(c, 0, "/gone/x", "1");
	xs_memconn_callv(c, XS_RM, 0, NULL, 0, "/gone", XS_END);
	xs_memconn_callv(c, XS_SET_PERMS, 0, NULL, 0, "/a/b", "r3", "w4", "b5", XS_END);
	xs_memconn_callv(c, XS_INTRODUCE, 0, NULL, 0, "9", "1234", "5", XS_END);
	before = xs_j_batches();
	xs_memconn_callv(c, XS_TRANSACTION_START, 0, buf, sizeof(buf), "", XS_END);
	t = (uint32_t)strtoul(buf, NULL, 10);
	xs_t_write(c, t, "/tx/1", "a");
	xs_t_write(c, t, "/tx/2", "b");
	xs_t_write(c, t, "/tx/3", "c");
	CU_ASSERT_EQUAL(xs_memconn_callv(c, XS_TRANSACTION_END, t, NULL, 0, "T", XS_END), 3);
	CU_ASSERT_EQUAL(xs_j_batches(), before + 1); /* one commit, one batch */
	da = xs_j_dump(&a);
	xs_server_destroy(&a);

	CU_ASSERT_EQUAL_FATAL(xs_j_open(&b), 0);
	db = xs_j_dump(&b);
	CU_ASSERT_STRING_EQUAL(da, db);
	CU_ASSERT_PTR_NOT_NULL(strstr(db, "/a/b= r3 w4 b5\n"));
	CU_ASSERT_PTR_NULL(strstr(db, "/gone"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(xs_domain_find(&b, 9));
	CU_ASSERT_TRUE(xs_domain_find(&b, 9)->introduced);
	CU_ASSERT_EQUAL(xs_domain_find(&b, 9)->mfn, 1234);
	/* Node accounting is rebuilt too. */
	CU_ASSERT_EQUAL(xs_domain_nodes(&b, 3), 1);
	xs_server_destroy(&b);
	free(da);
	free(db);
}

/*
 * A change made outside any request (keeld's "destroyed" event releasing a
 * domain) leaves its batch open while the loop flushes what is closed: the
 * open batch must follow the buffer's front, or the next batch's header is
 * computed from a stale offset (keel-xenstored crashed in crc32 so).
 */
static void test_xs_journal_open_batch_flush(void)
{
	struct xs_server a, b;
	struct xs_conn *c;
	char *db;

	unlink(xs_j_file);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	c = xs_memconn_new(&a, 0, true);
	xs_t_write(c, 0, "/x", "1");
	xs_memconn_callv(c, XS_INTRODUCE, 0, NULL, 0, "9", "1234", "5", XS_END);
	/* a closed batch not yet written, then the release's open one */
	xs_journal_domain(&a.journal, xs_domain_find(&a, 9));
	xs_journal_end_batch(&a.journal);
	CU_ASSERT_EQUAL(xs_domain_release(&a, 9), 0); /* not through a request */
	CU_ASSERT_EQUAL(xs_journal_flush(&a.journal), 0);
	xs_t_write(c, 0, "/y", "2");
	CU_ASSERT_EQUAL(xs_journal_flush(&a.journal), 0);
	xs_server_destroy(&a);

	CU_ASSERT_EQUAL_FATAL(xs_j_open(&b), 0);
	db = xs_j_dump(&b);
	CU_ASSERT_PTR_NOT_NULL(strstr(db, "/x=1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(db, "/y=2"));
	CU_ASSERT_TRUE(!xs_domain_find(&b, 9) || !xs_domain_find(&b, 9)->introduced);
	xs_server_destroy(&b);
	free(db);
}

static void test_xs_journal_torn_tail(void)
{
	struct xs_server a;
	struct xs_conn *c;
	struct stat st;
	off_t full;
	char buf[16];

	unlink(xs_j_file);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	c = xs_memconn_new(&a, 0, true);
	xs_t_write(c, 0, "/keep", "1");
	xs_t_write(c, 0, "/torn", "2");
	xs_server_destroy(&a);
	stat(xs_j_file, &st);
	full = st.st_size;
	CU_ASSERT_EQUAL(truncate(xs_j_file, full - 3), 0);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	c = xs_memconn_new(&a, 0, true);
	CU_ASSERT_EQUAL(xs_memconn_callv(c, XS_READ, 0, buf, sizeof(buf), "/keep", XS_END), 1);
	CU_ASSERT_EQUAL(xs_memconn_callv(c, XS_READ, 0, buf, sizeof(buf), "/torn", XS_END),
			-ENOENT);
	/* The tail was cut at a batch boundary: new writes replay fine. */
	xs_t_write(c, 0, "/after", "3");
	xs_server_destroy(&a);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	c = xs_memconn_new(&a, 0, true);
	CU_ASSERT_EQUAL(xs_memconn_callv(c, XS_READ, 0, buf, sizeof(buf), "/after", XS_END), 1);
	xs_server_destroy(&a);
}

static void test_xs_journal_compaction(void)
{
	struct xs_server a;
	struct xs_conn *c;
	struct stat st;
	char *d1, *d2, val[64];
	int i;

	unlink(xs_j_file);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	a.journal.compact_min = 16384;
	c = xs_memconn_new(&a, 0, true);
	xs_t_write(c, 0, "/stable/a", "A");
	for (i = 0; i < 3000; i++) {
		snprintf(val, sizeof(val), "value-%d", i);
		xs_t_write(c, 0, "/hot", val);
	}
	stat(xs_j_file, &st);
	/* 3000 records of ~40 bytes would be ~120 KB; compaction kept it small. */
	CU_ASSERT(st.st_size < 4 * 16384);
	CU_ASSERT(xs_j_batches() < 3000);
	d1 = xs_j_dump(&a);
	xs_server_destroy(&a);
	CU_ASSERT_EQUAL_FATAL(xs_j_open(&a), 0);
	d2 = xs_j_dump(&a);
	CU_ASSERT_STRING_EQUAL(d1, d2);
	CU_ASSERT_PTR_NOT_NULL(strstr(d2, "/hot=value-2999"));
	xs_server_destroy(&a);
	free(d1);
	free(d2);
}

static void test_xs_journal_rejects_garbage(void)
{
	struct xs_server a;
	int fd;

	unlink(xs_j_file);
	fd = open(xs_j_file, O_WRONLY | O_CREAT, 0600);
	CU_ASSERT_EQUAL(write(fd, "NOTAJOURNAL-----", 16), 16);
	close(fd);
	CU_ASSERT_EQUAL(xs_server_init(&a, NULL), 0);
	CU_ASSERT_EQUAL(xs_server_open_journal(&a, xs_j_dir, false), -EINVAL);
	xs_server_destroy(&a);
	unlink(xs_j_file);
}

UNIT_SUITE(xs_journal, xs_j_init, xs_j_cleanup, UNIT_TEST(test_xs_journal_replay),
	   UNIT_TEST(test_xs_journal_open_batch_flush), UNIT_TEST(test_xs_journal_torn_tail),
	   UNIT_TEST(test_xs_journal_compaction), UNIT_TEST(test_xs_journal_rejects_garbage))
