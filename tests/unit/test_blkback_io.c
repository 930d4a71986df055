/*
 * blkback end to end over the LOOPBACK TEST TRANSPORT: a test blkfront (this
 * thread) against blkback's queue threads and a raw image file in $TMPDIR.
 * Patterns written are read back through the ring and checked against the
 * file itself; flush, discard (holes really punched), indirect segments,
 * persistent grants (mapped once, pinned until disconnect), several queues
 * driven by several threads, multi-page rings with many requests in flight,
 * and a read-only image that refuses writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../../backends/block/blkfront_loop.h"

#define BBIO_DOM	5
#define BBIO_IMAGE_SIZE (8u << 20)
#define BBIO_NSECT	(BBIO_IMAGE_SIZE / 512)

struct bbio {
	char path[256];
	struct bk_loop *loop;
	struct bk_transport tp;
	struct blk_image *img;
	struct blkfront_loop bf;
	struct blk_dev *dev;
};

/* Where the next bbio_setup's queues count requests (xentop's counters), or NULL. */
static struct keel_vbd_stats_file *bbio_counters;

static int bbio_setup(struct bbio *t, bool ro, bool persistent, unsigned nq, unsigned order)
{
	const char *tmp = getenv("TMPDIR");
	struct blk_dev_params p = {0};
	int fd, err;

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s/blkback-io.XXXXXX", tmp ? tmp : "/tmp");
	fd = mkstemp(t->path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, BBIO_IMAGE_SIZE) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	bk_log_quiet(true);
	if ((err = bk_loop_create(0, &t->loop)) ||
	    (err = bk_loop_add_domain(t->loop, BBIO_DOM, 2048, 2048)))
		return err;
	bk_loop_transport(t->loop, &t->tp);
	err = blk_image_open(t->path, ro, &t->img);
	if (err)
		return err;
	err = blkfront_loop_init(&t->bf, t->loop, BBIO_DOM, 0, nq, order);
	if (err)
		return err;
	blkfront_loop_params(&t->bf, &p);
	p.img = t->img;
	p.tp = &t->tp;
	p.persistent = persistent;
	p.max_indirect = BLK_MAX_INDIRECT_SEGMENTS;
	p.discard = true;
	p.counters = bbio_counters;
	return blk_dev_connect(&p, &t->dev);
}

static void bbio_teardown(struct bbio *t)
{
	blk_dev_disconnect(t->dev);
	blk_image_close(t->img);
	bk_loop_destroy(t->loop);
	unlink(t->path);
	bk_log_quiet(false);
}

static void bbio_fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* Compare @len bytes of the image file at @off with @want, read with a fresh fd. */
static int bbio_file_equals(const char *path, off_t off, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len);
	int fd = open(path, O_RDONLY), ok;

	ok = buf && fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len && !memcmp(buf, want, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

static void test_blkback_pattern_rw(void)
{
	struct blkfront_buf w[11], r[11];
	struct bbio t;

	CU_ASSERT_FATAL(bbio_setup(&t, false, false, 1, 0) == 0);
	for (unsigned i = 0; i < 11; i++) {
		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, true, &w[i]) == 0);
		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &r[i]) == 0);
		bbio_fill(w[i].data, BK_PAGE_SIZE, i + 1);
	}
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, true, 64, w, 11), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, false, 64, r, 11), BLKIF_RSP_OKAY);
	for (unsigned i = 0; i < 11; i++) {
		CU_ASSERT(memcmp(w[i].data, r[i].data, BK_PAGE_SIZE) == 0);
		CU_ASSERT(bbio_file_equals(t.path, 64 * 512 + (off_t)i * 4096, w[i].data, 4096));
	}
	/* Partial pages: sectors 2..5 of a page land at the request's sector. */
	{
		struct blkif_request req = {.operation = BLKIF_OP_WRITE,
					    .nr_segments = 1,
					    .id = 77,
					    .sector_number = 1000};

		req.seg[0] = (struct blkif_request_segment){w[3].gref, 2, 5};
		CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_OKAY);
		CU_ASSERT(bbio_file_equals(t.path, 1000 * 512, w[3].data + 1024, 2048));
	}
	/* Nothing stays mapped without persistent grants. */
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t.loop, BBIO_DOM), 1u); /* the ring only */
	bbio_teardown(&t);
}

static void test_blkback_flush(void)
{
	struct blkfront_buf b;
	struct blkif_request flush = {.operation = BLKIF_OP_FLUSH_DISKCACHE, .id = 9};
	struct bbio t;

	CU_ASSERT_FATAL(bbio_setup(&t, false, false, 1, 0) == 0);
	CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &b) == 0);
	bbio_fill(b.data, BK_PAGE_SIZE, 42);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, true, 8, &b, 1), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &flush), BLKIF_RSP_OKAY);
	CU_ASSERT(bbio_file_equals(t.path, 8 * 512, b.data, 4096));
	/* A flush that carries data writes it first. */
	bbio_fill(b.data, BK_PAGE_SIZE, 43);
	flush.nr_segments = 1;
	flush.sector_number = 16;
	flush.seg[0] = (struct blkif_request_segment){b.gref, 0, 7};
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &flush), BLKIF_RSP_OKAY);
	CU_ASSERT(bbio_file_equals(t.path, 16 * 512, b.data, 4096));
	bbio_teardown(&t);
}

/* Allocated 512-byte blocks of the image. */
static long long bbio_blocks(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_blocks : -1;
}

static void test_blkback_indirect_and_discard(void)
{
	struct blkfront_buf ind, data[BLK_MAX_INDIRECT_SEGMENTS];
	struct blkif_request req = {0};
	struct blkif_request_indirect *ir = (struct blkif_request_indirect *)&req;
	struct blkif_request_discard *dr = (struct blkif_request_discard *)&req;
	struct blkif_request_segment *segs;
	uint8_t *zero = calloc(1, 1u << 20), *want = malloc(1u << 20);
	long long before;
	struct bbio t;

	CU_ASSERT_FATAL(zero && want);
	CU_ASSERT_FATAL(bbio_setup(&t, false, false, 1, 0) == 0);
	CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, true, &ind) == 0);
	segs = (struct blkif_request_segment *)ind.data;
	for (unsigned i = 0; i < BLK_MAX_INDIRECT_SEGMENTS; i++) {
		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &data[i]) == 0);
		bbio_fill(data[i].data, BK_PAGE_SIZE, 1000 + i);
		memcpy(want + (size_t)i * 4096, data[i].data, 4096);
		segs[i] = (struct blkif_request_segment){data[i].gref, 0, 7};
	}
	/* 1 MiB in one request: 256 segments in one indirect page. */
	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = BLKIF_OP_WRITE;
	ir->nr_segments = BLK_MAX_INDIRECT_SEGMENTS;
	ir->id = 1;
	ir->sector_number = 4096;
	ir->indirect_grefs[0] = ind.gref;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_OKAY);
	CU_ASSERT(bbio_file_equals(t.path, 4096 * 512, want, 1u << 20));
	for (unsigned i = 0; i < BLK_MAX_INDIRECT_SEGMENTS; i++)
		memset(data[i].data, 0xee, 4096);
	ir->indirect_op = BLKIF_OP_READ;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_OKAY);
	for (unsigned i = 0; i < BLK_MAX_INDIRECT_SEGMENTS; i++)
		CU_ASSERT(memcmp(data[i].data, want + (size_t)i * 4096, 4096) == 0);

	/* Discard the MiB: the file gets a hole and reads back zeros. */
	before = bbio_blocks(t.path);
	memset(&req, 0, sizeof(req));
	dr->operation = BLKIF_OP_DISCARD;
	dr->id = 2;
	dr->sector_number = 4096;
	dr->nr_sectors = 2048;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_OKAY);
	CU_ASSERT(bbio_blocks(t.path) <= before - 2048);
	CU_ASSERT(bbio_file_equals(t.path, 4096 * 512, zero, 1u << 20));
	/* Secure discard is not offered. */
	dr->flag = BLKIF_DISCARD_SECURE;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_EOPNOTSUPP);
	bbio_teardown(&t);
	free(zero);
	free(want);
}

static void test_blkback_persistent(void)
{
	struct blkfront_buf b[4];
	struct blk_stats st;
	struct bbio t;

	CU_ASSERT_FATAL(bbio_setup(&t, false, true, 1, 0) == 0);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &b[i]) == 0);
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 4; i++)
			bbio_fill(b[i].data, 4096, round * 4 + i);
		CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, true, round * 32, b, 4), BLKIF_RSP_OKAY);
		CU_ASSERT(bbio_file_equals(t.path, round * 32 * 512, b[0].data, 4096));
		CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, false, round * 32, b, 4),
				BLKIF_RSP_OKAY);
	}
	blk_dev_stats(t.dev, &st);
	CU_ASSERT_EQUAL(st.pgrant_maps, 4); /* each page mapped once */
	CU_ASSERT_EQUAL(st.grant_maps, 0);
	/* Still mapped, so the frontend cannot revoke them yet. */
	CU_ASSERT_EQUAL(bk_loop_end_grant(t.loop, BBIO_DOM, b[0].gref), -EBUSY);
	blk_dev_disconnect(t.dev);
	t.dev = NULL;
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t.loop, BBIO_DOM), 0);
	CU_ASSERT_EQUAL(bk_loop_end_grant(t.loop, BBIO_DOM, b[0].gref), 0);
	bbio_teardown(&t);
}

struct bbio_worker {
	struct bbio *t;
	unsigned q;
	int failures;
};

/* One thread per queue, each writing and reading back its own region. */
static void *bbio_queue_worker(void *arg)
{
	struct bbio_worker *w = arg;
	struct blkfront_buf b[8];

	for (unsigned i = 0; i < 8; i++)
		if (blkfront_loop_buf(&w->t->bf, false, &b[i]))
			w->failures++;
	for (unsigned round = 0; round < 50 && !w->failures; round++) {
		uint64_t sector = (uint64_t)w->q * 4096 + round * 64;

		for (unsigned i = 0; i < 8; i++)
			bbio_fill(b[i].data, 4096, w->q * 1000 + round + i);
		if (blkfront_loop_rw(&w->t->bf, w->q, true, sector, b, 8) != BLKIF_RSP_OKAY)
			w->failures++;
		if (!bbio_file_equals(w->t->path, (off_t)sector * 512, b[0].data, 4096) ||
		    !bbio_file_equals(w->t->path, (off_t)(sector + 56) * 512, b[7].data, 4096))
			w->failures++;
	}
	return NULL;
}

static void test_blkback_multiqueue(void)
{
	struct bbio_worker w[4];
	pthread_t th[4];
	struct bbio t;

	CU_ASSERT_FATAL(bbio_setup(&t, false, true, 4, 1) == 0);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct bbio_worker){&t, i, 0};
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, bbio_queue_worker, &w[i]) == 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(w[i].failures, 0);
	}
	bbio_teardown(&t);
}

/* A 16-page ring (512 slots) with 300 requests in flight at once. */
static void test_blkback_multipage_ring(void)
{
	struct blkfront_buf b;
	struct blkif_response rsp;
	unsigned got = 0, bad = 0;
	struct bbio t;

	CU_ASSERT_FATAL(bbio_setup(&t, false, false, 1, BLK_MAX_RING_PAGE_ORDER) == 0);
	CU_ASSERT_EQUAL(t.bf.q[0].ring.nr_ents, 512u);
	CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &b) == 0);
	for (unsigned i = 0; i < 300; i++) {
		struct blkif_request req = {.operation = BLKIF_OP_READ,
					    .nr_segments = 1,
					    .id = i,
					    .sector_number = i * 8};

		req.seg[0] = (struct blkif_request_segment){b.gref, 0, 7};
		*blkif_front_request(&t.bf.q[0].ring, t.bf.q[0].ring.req_prod_pvt++) = req;
	}
	if (blkif_front_push_check_notify(&t.bf.q[0].ring))
		bk_loop_evtchn_front_notify(t.loop, BBIO_DOM, t.bf.q[0].port);
	while (got < 300 && blkfront_loop_response(&t.bf, 0, &rsp, 5000) == 0) {
		if (rsp.id != got || rsp.status != BLKIF_RSP_OKAY)
			bad++;
		got++;
	}
	CU_ASSERT_EQUAL(got, 300);
	CU_ASSERT_EQUAL(bad, 0);
	bbio_teardown(&t);
}

static void test_blkback_readonly(void)
{
	struct blkfront_buf b;
	struct blkif_request req = {0};
	struct blkif_request_discard *dr = (struct blkif_request_discard *)&req;
	struct bbio t;
	int fd;

	CU_ASSERT_FATAL(bbio_setup(&t, true, false, 1, 0) == 0);
	fd = open(t.path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(pwrite(fd, "keel-ro!", 8, 512) == 8);
	close(fd);
	CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &b) == 0);
	memset(b.data, 0x55, 4096);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, true, 0, &b, 1), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, false, 0, &b, 1), BLKIF_RSP_OKAY);
	CU_ASSERT(memcmp(b.data + 512, "keel-ro!", 8) == 0);
	dr->operation = BLKIF_OP_DISCARD;
	dr->nr_sectors = 8;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_EOPNOTSUPP);
	CU_ASSERT(bbio_file_equals(t.path, 512, (const uint8_t *)"keel-ro!", 8));
	bbio_teardown(&t);
}

/*
 * xentop's counters: each request counted once by kind, sectors as Linux's
 * blkback counts them (a flush's data as written sectors), and the file
 * blk_stats_publish makes under $KEEL_RUNDIR/stats is the one xl reads and
 * goes with the device.
 */
static void test_blkback_counters(void)
{
	struct keel_vbd_stats_file f = {0}, *pub;
	struct blkif_request flush = {.operation = BLKIF_OP_FLUSH_DISKCACHE, .id = 3};
	struct blkif_request req = {0};
	struct blkif_request_discard *dr = (struct blkif_request_discard *)&req;
	struct blkfront_buf b[11];
	struct blk_stats_pub *sp;
	char dir[] = "/tmp/blkstats.XXXXXX", path[96];
	const char *old = getenv("KEEL_RUNDIR");
	char *saved = old ? strdup(old) : NULL;
	struct bbio t;

	bbio_counters = &f;
	CU_ASSERT_FATAL(bbio_setup(&t, false, false, 1, 0) == 0);
	bbio_counters = NULL;
	for (unsigned i = 0; i < 11; i++)
		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &b[i]) == 0);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, true, 64, b, 11), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, false, 64, b, 11), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, false, 0, b, 2), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &flush), BLKIF_RSP_OKAY);
	flush.nr_segments = 1;
	flush.sector_number = 16;
	flush.seg[0] = (struct blkif_request_segment){b[0].gref, 0, 3};
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &flush), BLKIF_RSP_OKAY);
	dr->operation = BLKIF_OP_DISCARD;
	dr->sector_number = 4096;
	dr->nr_sectors = 8;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_OKAY);
	/* out of range: counted as a read, no sectors moved */
	CU_ASSERT_EQUAL(blkfront_loop_rw(&t.bf, 0, false, BBIO_NSECT, b, 1), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(f.queue[0].wr_req, 1u);
	CU_ASSERT_EQUAL(f.queue[0].wr_sect, 88u + 4u);
	CU_ASSERT_EQUAL(f.queue[0].rd_req, 3u);
	CU_ASSERT_EQUAL(f.queue[0].rd_sect, 88u + 16u);
	CU_ASSERT_EQUAL(f.queue[0].f_req, 2u);
	CU_ASSERT_EQUAL(f.queue[0].ds_req, 1u);
	CU_ASSERT_EQUAL(f.queue[0].oo_req, 0u);
	CU_ASSERT_EQUAL(f.queue[1].rd_req, 0u);
	bbio_teardown(&t);

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	setenv("KEEL_RUNDIR", dir, 1);
	CU_ASSERT_FATAL(blk_stats_publish(7, 51712, &sp) == 0);
	pub = blk_stats_file(sp);
	snprintf(path, sizeof(path), "%s/stats/vbd-7-51712", dir);
	CU_ASSERT(pub && memcmp(pub->magic, KEEL_VBD_STATS_MAGIC, 8) == 0);
	if (pub)
		pub->queue[0].rd_sect = 1234;
	CU_ASSERT(bbio_file_equals(path, offsetof(struct keel_vbd_stats_file, queue[0].rd_sect),
				   (const uint8_t *)&(uint64_t){1234}, 8));
	blk_stats_withdraw(sp);
	CU_ASSERT(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/stats", dir);
	rmdir(path);
	rmdir(dir);
	if (saved)
		setenv("KEEL_RUNDIR", saved, 1);
	else
		unsetenv("KEEL_RUNDIR");
	free(saved);
}

UNIT_SUITE(blkback_io, NULL, NULL, UNIT_TEST(test_blkback_pattern_rw),
	   UNIT_TEST(test_blkback_flush), UNIT_TEST(test_blkback_indirect_and_discard),
	   UNIT_TEST(test_blkback_persistent), UNIT_TEST(test_blkback_multiqueue),
	   UNIT_TEST(test_blkback_multipage_ring), UNIT_TEST(test_blkback_readonly),
	   UNIT_TEST(test_blkback_counters))
