/*
 * blkback against a hostile frontend, over the LOOPBACK TEST TRANSPORT: bad
 * and foreign grant references, read-only grants used for reads, revoked
 * grants, too many or zero segments, bad first/last sectors, sectors out
 * of range (including wrapping ones), unknown operations, bad indirect
 * descriptors, then ring corruption (a runaway producer, a producer moved
 * backwards) that must stop the queue and report the device for
 * disconnection; finally random garbage requests.  Each case must end in
 * an error response or a disconnect -- never a crash, and (under SAN=1)
 * never an access outside the granted pages.  A good request after the
 * error cases shows the device still serves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "../../backends/block/blkfront_loop.h"

#define BBH_DOM	  6
#define BBH_SIZE  (1u << 20)
#define BBH_NSECT (BBH_SIZE / 512)

struct bbh {
	char path[256];
	struct bk_loop *loop;
	struct bk_transport tp;
	struct blk_image *img;
	struct blkfront_loop bf;
	struct blk_dev_params p;
	struct blk_dev *dev;
	struct blkfront_buf buf, ro_buf, foreign_buf;
	int fatal_calls;
};

static void bbh_on_fatal(void *arg)
{
	__atomic_fetch_add(&((struct bbh *)arg)->fatal_calls, 1, __ATOMIC_RELAXED);
}

static int bbh_setup(struct bbh *t)
{
	const char *tmp = getenv("TMPDIR");
	int fd, err;

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s/blkback-hostile.XXXXXX", tmp ? tmp : "/tmp");
	fd = mkstemp(t->path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, BBH_SIZE) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	bk_log_quiet(true);
	if ((err = bk_loop_create(0, &t->loop)) ||
	    (err = bk_loop_add_domain(t->loop, BBH_DOM, 256, 512)))
		return err;
	bk_loop_transport(t->loop, &t->tp);
	if ((err = blk_image_open(t->path, false, &t->img)) ||
	    (err = blkfront_loop_init(&t->bf, t->loop, BBH_DOM, 0, 1, 0)) ||
	    (err = blkfront_loop_buf(&t->bf, false, &t->buf)) ||
	    (err = blkfront_loop_buf(&t->bf, true, &t->ro_buf)))
		return err;
	/* A page granted to some other domain (7), not to the backend. */
	if ((err = bk_loop_alloc_page(t->loop, BBH_DOM, &t->foreign_buf.gfn)) ||
	    (err = bk_loop_grant(t->loop, BBH_DOM, t->foreign_buf.gfn, 7, false,
				 &t->foreign_buf.gref)))
		return err;
	blkfront_loop_params(&t->bf, &t->p);
	t->p.img = t->img;
	t->p.tp = &t->tp;
	t->p.max_indirect = BLK_MAX_INDIRECT_SEGMENTS;
	t->p.discard = true;
	t->p.on_fatal = bbh_on_fatal;
	t->p.fatal_arg = t;
	return blk_dev_connect(&t->p, &t->dev);
}

static void bbh_teardown(struct bbh *t)
{
	blk_dev_disconnect(t->dev);
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t->loop, BBH_DOM), 0);
	blk_image_close(t->img);
	bk_loop_destroy(t->loop);
	unlink(t->path);
	bk_log_quiet(false);
}

static int bbh_one(struct bbh *t, uint8_t op, uint8_t nseg, uint64_t sector, grant_ref_t gref,
		   uint8_t first, uint8_t last)
{
	struct blkif_request req = {
		.operation = op, .nr_segments = nseg, .id = 0xabcdef, .sector_number = sector};

	for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		req.seg[i] = (struct blkif_request_segment){gref, first, last};
	return blkfront_loop_do(&t->bf, 0, &req);
}

static void test_blkback_bad_grants(void)
{
	struct bbh t;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	/* Out of the table, an empty entry, a reserved entry. */
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, 100000, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, 400, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE, 1, 0, 0, 0, 7), BLKIF_RSP_ERROR);
	/* Granted to another domain. */
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, t.foreign_buf.gref, 0, 7),
			BLKIF_RSP_ERROR);
	/* Read-only: fine to write to disk from, not to read from disk into. */
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, t.ro_buf.gref, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE, 1, 0, t.ro_buf.gref, 0, 7), BLKIF_RSP_OKAY);
	/* An entry that points outside the domain's memory. */
	bk_loop_grant_entry(t.loop, BBH_DOM, t.ro_buf.gref)->frame = 1u << 30;
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE, 1, 0, t.ro_buf.gref, 0, 7), BLKIF_RSP_ERROR);
	/* A grant the frontend revoked. */
	CU_ASSERT_EQUAL(bk_loop_end_grant(t.loop, BBH_DOM, t.buf.gref), 0);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, t.buf.gref, 0, 7), BLKIF_RSP_ERROR);
	/* One good segment among bad ones fails as a whole and maps nothing. */
	{
		struct blkif_request req = {.operation = BLKIF_OP_READ, .nr_segments = 2};
		struct blkfront_buf good;

		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &good) == 0);
		req.seg[0] = (struct blkif_request_segment){good.gref, 0, 7};
		req.seg[1] = (struct blkif_request_segment){t.foreign_buf.gref, 0, 7};
		CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
		CU_ASSERT_EQUAL(bk_loop_mapped_count(t.loop, BBH_DOM), 1); /* the ring */
		CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, good.gref, 0, 7), BLKIF_RSP_OKAY);
	}
	CU_ASSERT(!blk_dev_broken(t.dev));
	bbh_teardown(&t);
}

static void test_blkback_bad_segments(void)
{
	struct bbh t;
	grant_ref_t g;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	g = t.buf.gref;
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 0, 0, g, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 12, 0, g, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE, 255, 0, g, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, g, 5, 3), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, g, 0, 8), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, g, 255, 255), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_FLUSH_DISKCACHE, 200, 0, g, 0, 7), BLKIF_RSP_ERROR);
	/* Sector ranges: the last full page fits, one sector more does not; no wrapping. */
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, BBH_NSECT - 8, g, 0, 7), BLKIF_RSP_OKAY);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, BBH_NSECT - 7, g, 0, 7), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE, 1, BBH_NSECT, g, 0, 0), BLKIF_RSP_ERROR);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 11, UINT64_MAX - 3, g, 0, 7), BLKIF_RSP_ERROR);
	/* Operations we do not offer. */
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE_BARRIER, 1, 0, g, 0, 7), BLKIF_RSP_EOPNOTSUPP);
	CU_ASSERT_EQUAL(bbh_one(&t, 77, 1, 0, g, 0, 7), BLKIF_RSP_EOPNOTSUPP);
	/* Discard: beyond the end, and a length that wraps. */
	{
		struct blkif_request req = {0};
		struct blkif_request_discard *d = (struct blkif_request_discard *)&req;

		d->operation = BLKIF_OP_DISCARD;
		d->sector_number = BBH_NSECT - 4;
		d->nr_sectors = 8;
		CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
		d->sector_number = 8;
		d->nr_sectors = UINT64_MAX - 4;
		CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	}
	/* Still serving. */
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_WRITE, 3, 16, g, 0, 7), BLKIF_RSP_OKAY);
	CU_ASSERT(!blk_dev_broken(t.dev));
	CU_ASSERT_EQUAL(t.fatal_calls, 0);
	bbh_teardown(&t);
}

static void test_blkback_bad_indirect(void)
{
	struct blkif_request req = {0};
	struct blkif_request_indirect *ir = (struct blkif_request_indirect *)&req;
	struct blkif_request_segment *segs;
	struct blkfront_buf ind;
	struct bbh t;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, true, &ind) == 0);
	segs = (struct blkif_request_segment *)ind.data;
	for (unsigned i = 0; i < 512; i++)
		segs[i] = (struct blkif_request_segment){t.buf.gref, 0, 7};
	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = BLKIF_OP_READ;
	ir->indirect_grefs[0] = ind.gref;
	ir->nr_segments = 4;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_OKAY);
	ir->nr_segments = BLK_MAX_INDIRECT_SEGMENTS + 1;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	ir->nr_segments = 0xffff;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	ir->nr_segments = 0;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	ir->nr_segments = 4;
	ir->indirect_op = BLKIF_OP_DISCARD;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	ir->indirect_op = BLKIF_OP_READ;
	ir->indirect_grefs[0] = t.foreign_buf.gref;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	ir->indirect_grefs[0] = 99999;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	/* Descriptors inside the indirect page are validated like direct ones. */
	ir->indirect_grefs[0] = ind.gref;
	segs[2].last_sect = 9;
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	segs[2] = (struct blkif_request_segment){t.foreign_buf.gref, 0, 7};
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_ERROR);
	/* A device without indirect support says so. */
	blk_dev_disconnect(t.dev);
	t.p.max_indirect = 0;
	CU_ASSERT_FATAL(blk_dev_connect(&t.p, &t.dev) == 0);
	segs[2] = (struct blkif_request_segment){t.buf.gref, 0, 7};
	CU_ASSERT_EQUAL(blkfront_loop_do(&t.bf, 0, &req), BLKIF_RSP_EOPNOTSUPP);
	bbh_teardown(&t);
}

/* A producer index more than a ring ahead: the queue stops, the device is reported. */
static void test_blkback_runaway_producer(void)
{
	struct blkfront_queue *fq;
	struct blkif_response rsp;
	struct bbh t;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	fq = &t.bf.q[0];
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, t.buf.gref, 0, 7), BLKIF_RSP_OKAY);
	ring_store(&fq->sring->req_prod, fq->ring.req_prod_pvt + fq->ring.nr_ents + 5);
	bk_loop_evtchn_front_notify(t.loop, BBH_DOM, fq->port);
	for (int i = 0; i < 200 && !blk_dev_broken(t.dev); i++)
		usleep(5000);
	CU_ASSERT(blk_dev_broken(t.dev));
	CU_ASSERT_EQUAL(t.fatal_calls, 1);
	/* No response was produced for the bogus slots. */
	CU_ASSERT_EQUAL(blkfront_loop_response(&t.bf, 0, &rsp, 50), -ETIMEDOUT);
	/* More kicks are ignored quietly. */
	bk_loop_evtchn_front_notify(t.loop, BBH_DOM, fq->port);
	usleep(20000);
	CU_ASSERT_EQUAL(t.fatal_calls, 1);
	bbh_teardown(&t);
}

static void test_blkback_producer_backwards(void)
{
	struct blkfront_queue *fq;
	struct bbh t;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	fq = &t.bf.q[0];
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, t.buf.gref, 0, 7), BLKIF_RSP_OKAY);
	ring_store(&fq->sring->req_prod, fq->ring.req_prod_pvt - 3);
	bk_loop_evtchn_front_notify(t.loop, BBH_DOM, fq->port);
	for (int i = 0; i < 200 && !blk_dev_broken(t.dev); i++)
		usleep(5000);
	CU_ASSERT(blk_dev_broken(t.dev));
	bbh_teardown(&t);
}

/* Bad ring references or ports at connect: refused, nothing left mapped or bound. */
static void test_blkback_bad_connect(void)
{
	struct blk_dev *dev = NULL;
	struct bbh t;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	blk_dev_disconnect(t.dev);
	t.dev = NULL;
	t.p.queue[0].ring_refs[0] = t.foreign_buf.gref;
	CU_ASSERT_EQUAL(blk_dev_connect(&t.p, &dev), -EACCES);
	t.p.queue[0].ring_refs[0] = t.bf.q[0].ring_refs[0];
	t.p.queue[0].evtchn = 4242;
	CU_ASSERT(blk_dev_connect(&t.p, &dev) < 0);
	t.p.queue[0].evtchn = t.bf.q[0].port;
	t.p.queue[0].ring_order = BLK_MAX_RING_PAGE_ORDER + 1;
	CU_ASSERT_EQUAL(blk_dev_connect(&t.p, &dev), -EINVAL);
	t.p.queue[0].ring_order = 0;
	t.p.nr_queues = BLK_MAX_QUEUES + 1;
	CU_ASSERT_EQUAL(blk_dev_connect(&t.p, &dev), -EINVAL);
	t.p.nr_queues = 1;
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t.loop, BBH_DOM), 0);
	CU_ASSERT(!bk_loop_evtchn_bound(t.loop, BBH_DOM, t.bf.q[0].port));
	CU_ASSERT_FATAL(blk_dev_connect(&t.p, &t.dev) == 0);
	CU_ASSERT_EQUAL(bbh_one(&t, BLKIF_OP_READ, 1, 0, t.buf.gref, 0, 7), BLKIF_RSP_OKAY);
	bbh_teardown(&t);
}

/* Random requests (random bytes, some made plausible): answered, never fatal. */
static void test_blkback_garbage(void)
{
	unsigned seed = 12345, answered = 0;
	struct bbh t;

	CU_ASSERT_FATAL(bbh_setup(&t) == 0);
	for (unsigned i = 0; i < 2000; i++) {
		struct blkif_request req;
		uint8_t *b = (uint8_t *)&req;
		int st;

		for (size_t j = 0; j < sizeof(req); j++)
			b[j] = (uint8_t)(rand_r(&seed) >> 7);
		req.operation %= 8;
		if (i & 1) {
			req.nr_segments %= 12;
			req.sector_number %= BBH_NSECT + 64;
			for (unsigned s = 0; s < BLKIF_MAX_SEGMENTS_PER_REQUEST; s++) {
				req.seg[s].gref %= 16;
				req.seg[s].first_sect %= 9;
				req.seg[s].last_sect %= 9;
			}
		}
		st = blkfront_loop_do(&t.bf, 0, &req);
		if (st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP)
			answered++;
	}
	CU_ASSERT_EQUAL(answered, 2000);
	CU_ASSERT(!blk_dev_broken(t.dev));
	bbh_teardown(&t);
}

UNIT_SUITE(blkback_hostile, NULL, NULL, UNIT_TEST(test_blkback_bad_grants),
	   UNIT_TEST(test_blkback_bad_segments), UNIT_TEST(test_blkback_bad_indirect),
	   UNIT_TEST(test_blkback_runaway_producer), UNIT_TEST(test_blkback_producer_backwards),
	   UNIT_TEST(test_blkback_bad_connect), UNIT_TEST(test_blkback_garbage))
