/*
 * blk-hostile: a frontend that breaks the blkif protocol on purpose, to
 * show keel-blkback answers with errors or disconnects the device, and
 * nothing else.  On the hostile disk (hostile= devid, its size hs=) it
 * connects through blkfront, then puts hand-made requests on the ring:
 * grant references past the table, granted to another domain, read-only
 * for a read from disk, segments 12 (over 11) and indirect counts over the
 * backend's limit, a bad indirect page, first_sect > last_sect, sectors out
 * of range, unknown and unsupported operations, a secure discard.  Each
 * must come back BLKIF_RSP_ERROR or EOPNOTSUPP while the device stays
 * connected.  Then a runaway req_prod: the backend must stop the queue and
 * take the device to Closing.  Between the steps the well-behaved disk of
 * the same backend (good= devid) writes and reads its plan (blk_plan.h,
 * disk 1, seed=) and must keep working; at the end the hostile disk
 * reconnects and works again, then reconnects= more times.  A third disk (badring= devid) publishes a
 * ring-ref it never granted: the backend must refuse to connect it.
 */
#include "../../../frontends/blkfront/blkfront_priv.h"
#include "blk_plan.h"

static char *page, *ind;
static uint64_t seed;
static unsigned good_done, reconnects;

/* One hand-made request straight on the ring; the response's status, or -100 on timeout. */
static int raw(struct blkfront *bf, const struct blkif_request *rq, const char *what)
{
	struct blkif_response rsp;
	uint64_t end = rt_now_ns() + 5000000000ULL;

	*blkif_front_request(&bf->q[0].ring, bf->q[0].ring.req_prod_pvt++) = *rq;
	bf_push(bf, 0);
	while (ring_load(&bf->q[0].ring.sring->rsp_prod) == bf->q[0].ring.rsp_cons) {
		if (rt_now_ns() > end) {
			rt_printf("blk-hostile: %s: no response\n", what);
			return -100;
		}
		rt_evtchn_wait(&bf->q[0].port, 1, 100000000ULL);
	}
	ring_rmb();
	blkif_front_copy_response(&bf->q[0].ring, bf->q[0].ring.rsp_cons++, &rsp);
	rt_printf("blk-hostile: %s: status %d (id %lu)\n", what, rsp.status, (unsigned long)rsp.id);
	return rsp.status;
}

static struct blkif_request rq_rw(uint8_t op, uint64_t sector, unsigned nseg, grant_ref_t gref)
{
	struct blkif_request r = {.operation = op,
				  .nr_segments = (uint8_t)nseg,
				  .id = 0xabc,
				  .sector_number = sector};

	for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.seg[i] = (struct blkif_request_segment){gref, 0, 7};
	return r;
}

/* The good disk: the next 4 extents of its plan, written and read back. */
static void good_disk(struct blkfront *g, const char *when)
{
	static char *w, *r;
	unsigned bad = 0;
	int err = 0;

	if (!w) {
		w = rt_pages_alloc(256);
		r = rt_pages_alloc(256);
	}
	for (unsigned k = 0; k < 4 && !err; k++, good_done++) {
		struct bp_extent e;

		bp_extent(seed, 1, good_done, blkfront_info(g)->sectors, 0, &e);
		bp_fill(seed, 1, e.sector, e.nsect, w);
		err = blkfront_write(g, e.sector, w, e.nsect);
		if (!err)
			err = blkfront_read(g, e.sector, r, e.nsect);
		bad += !err && rt_memcmp(w, r, (uint64_t)e.nsect * 512);
	}
	rt_check(!err && !bad, when, err);
}

static void hostile_requests(struct blkfront *bf, struct blkfront *g)
{
	uint64_t n = blkfront_info(bf)->sectors;
	int ok_ref = gnt_grant(0, rt_virt_to_mfn(page), 0);
	int ro_ref = gnt_grant(0, rt_virt_to_mfn(page), 1);
	int foreign = gnt_grant(7, rt_virt_to_mfn(page), 0);
	int ind_ref = gnt_grant(0, rt_virt_to_mfn(ind), 1);
	struct blkif_request r;
	struct blkif_request_indirect *ir = (struct blkif_request_indirect *)&r;
	struct blkif_request_segment *segs = (struct blkif_request_segment *)ind;
	int st;

	rt_check(ok_ref > 0 && ro_ref > 0 && foreign > 0 && ind_ref > 0, "grants for the requests",
		 ok_ref);
	r = rq_rw(BLKIF_OP_READ, 0, 1, (grant_ref_t)ok_ref);
	rt_check(raw(bf, &r, "well-formed read by hand") == BLKIF_RSP_OKAY,
		 "a hand-made correct request works", 0);
	r = rq_rw(BLKIF_OP_READ, 0, 1, 100000);
	rt_check(raw(bf, &r, "grant ref past the table") == BLKIF_RSP_ERROR,
		 "REFUSED: grant reference past the table", 0);
	r = rq_rw(BLKIF_OP_WRITE, 0, 1, 5);
	rt_check(raw(bf, &r, "reserved, never granted ref") == BLKIF_RSP_ERROR,
		 "REFUSED: a reference never granted", 0);
	r = rq_rw(BLKIF_OP_READ, 0, 1, (grant_ref_t)foreign);
	rt_check(raw(bf, &r, "grant for domain 7") == BLKIF_RSP_ERROR,
		 "REFUSED: a grant made to another domain", 0);
	r = rq_rw(BLKIF_OP_READ, 0, 1, (grant_ref_t)ro_ref);
	rt_check(raw(bf, &r, "read into a read-only grant") == BLKIF_RSP_ERROR,
		 "REFUSED: disk read into a read-only grant", 0);
	r = rq_rw(BLKIF_OP_READ, 0, 11, (grant_ref_t)ok_ref);
	r.nr_segments = 12;
	rt_check(raw(bf, &r, "12 segments") == BLKIF_RSP_ERROR, "REFUSED: 12 segments (max 11)", 0);
	r = rq_rw(BLKIF_OP_WRITE, 0, 0, 0);
	rt_check(raw(bf, &r, "write with 0 segments") == BLKIF_RSP_ERROR,
		 "REFUSED: read/write without segments", 0);
	r = rq_rw(BLKIF_OP_READ, 0, 1, (grant_ref_t)ok_ref);
	r.seg[0].first_sect = 5;
	r.seg[0].last_sect = 2;
	rt_check(raw(bf, &r, "first_sect > last_sect") == BLKIF_RSP_ERROR,
		 "REFUSED: first_sect > last_sect", 0);
	r.seg[0].first_sect = 0;
	r.seg[0].last_sect = 8;
	rt_check(raw(bf, &r, "last_sect 8") == BLKIF_RSP_ERROR, "REFUSED: last_sect past the page",
		 0);
	r = rq_rw(BLKIF_OP_READ, n, 1, (grant_ref_t)ok_ref);
	rt_check(raw(bf, &r, "sector = disk size") == BLKIF_RSP_ERROR,
		 "REFUSED: first sector past the end", 0);
	r = rq_rw(BLKIF_OP_WRITE, ~0ULL - 3, 1, (grant_ref_t)ok_ref);
	rt_check(raw(bf, &r, "sector near 2^64") == BLKIF_RSP_ERROR,
		 "REFUSED: sector + length wrapping 2^64", 0);
	r = rq_rw(42, 0, 1, (grant_ref_t)ok_ref);
	st = raw(bf, &r, "operation 42");
	rt_check(st == BLKIF_RSP_EOPNOTSUPP || st == BLKIF_RSP_ERROR, "REFUSED: unknown operation",
		 st);
	r = rq_rw(BLKIF_OP_WRITE_BARRIER, 0, 1, (grant_ref_t)ok_ref);
	rt_check(raw(bf, &r, "write barrier") == BLKIF_RSP_EOPNOTSUPP,
		 "write barrier: EOPNOTSUPP (not offered)", 0);
	{
		struct blkif_request_discard *d = (struct blkif_request_discard *)&r;

		r = (struct blkif_request){0};
		d->operation = BLKIF_OP_DISCARD;
		d->flag = BLKIF_DISCARD_SECURE;
		d->nr_sectors = 8;
		st = raw(bf, &r, "secure discard");
		rt_check(st == BLKIF_RSP_EOPNOTSUPP, "secure discard: EOPNOTSUPP", st);
	}
	/* indirect: too many segments, a bad indirect page, a bad data gref inside */
	r = (struct blkif_request){0};
	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = BLKIF_OP_READ;
	ir->nr_segments = 1000;
	ir->indirect_grefs[0] = (grant_ref_t)ind_ref;
	for (unsigned i = 0; i < 512; i++)
		segs[i] = (struct blkif_request_segment){(grant_ref_t)ok_ref, 0, 7};
	rt_check(raw(bf, &r, "indirect with 1000 segments") == BLKIF_RSP_ERROR,
		 "REFUSED: indirect segments over the backend's maximum", 0);
	ir->nr_segments = 2;
	ir->indirect_grefs[0] = 99999;
	rt_check(raw(bf, &r, "indirect page ref past the table") == BLKIF_RSP_ERROR,
		 "REFUSED: bad indirect page reference", 0);
	ir->indirect_grefs[0] = (grant_ref_t)ind_ref;
	segs[1].gref = (grant_ref_t)foreign;
	rt_check(raw(bf, &r, "indirect segment with a foreign grant") == BLKIF_RSP_ERROR,
		 "REFUSED: foreign grant inside an indirect page", 0);
	ir->indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
	segs[1].gref = (grant_ref_t)ok_ref;
	rt_check(raw(bf, &r, "indirect flush") == BLKIF_RSP_ERROR,
		 "REFUSED: indirect with an operation other than read/write", 0);
	/* the frontend scribbling the backend's indices changes nothing */
	ring_store(&bf->q[0].ring.sring->rsp_prod, bf->q[0].ring.rsp_cons + 7);
	ring_store(&bf->q[0].ring.sring->rsp_prod, bf->q[0].ring.rsp_cons);
	ring_store(&bf->q[0].ring.sring->rsp_event, 12345);
	r = rq_rw(BLKIF_OP_READ, 8, 1, (grant_ref_t)ok_ref);
	ring_store(&bf->q[0].ring.sring->rsp_event, bf->q[0].ring.rsp_cons + 1);
	rt_check(raw(bf, &r, "read after index scribbling") == BLKIF_RSP_OKAY,
		 "still served after the frontend scribbled rsp_prod/rsp_event", 0);
	good_disk(g, "the good disk works between the hostile requests");
	rt_check(xb_read_state(bf->be) == XenbusStateConnected,
		 "the hostile device is still Connected after per-request errors",
		 xb_read_state(bf->be));
	gnt_end((grant_ref_t)foreign);
	gnt_end((grant_ref_t)ro_ref);
}

/* A runaway producer: far more requests than the ring holds. */
static void runaway(struct blkfront *bf, struct blkfront *g)
{
	int st;

	ring_store(&bf->q[0].ring.sring->req_prod, bf->q[0].ring.req_prod_pvt + 100000);
	rt_evtchn_notify(bf->q[0].port);
	st = xb_wait_state(bf->be, 1u << XenbusStateClosing | 1u << XenbusStateClosed,
			   10000000000ULL);
	rt_printf("blk-hostile: runaway req_prod: backend state %d\n", st);
	rt_check(st == XenbusStateClosing || st == XenbusStateClosed,
		 "runaway req_prod: the backend disconnects the device (Closing)", st);
	good_disk(g, "the good disk works after the hostile one was disconnected");
	/* the hostile device can start over cleanly */
	bf->q[0].ring.req_prod_pvt = bf->q[0].ring.rsp_cons;
	st = blkfront_reconnect(bf, 10000000000ULL);
	rt_check(st == 0, "the hostile device reconnects", st);
	if (!st) {
		rt_memset(page, 0x5a, 4096);
		st = blkfront_write(bf, 64, page, 8);
		if (!st)
			st = blkfront_read(bf, 64, ind, 8);
		rt_check(!st && !rt_memcmp(page, ind, 4096), "and works again", st);
	}
	/* many reconnects: each binds the device's port to dom0 again */
	for (unsigned i = 0; i < reconnects && !st; i++) {
		st = blkfront_reconnect(bf, 10000000000ULL);
		if (!st)
			st = blkfront_read(bf, 64, ind, 8);
		if (st)
			rt_printf("blk-hostile: reconnect %u: %d\n", i + 1, st);
	}
	rt_check(!st, "the device survives repeated reconnects", (long)reconnects);
}

/* A device whose ring-ref was never granted: the backend must not connect it. */
static void bad_ring(unsigned devid)
{
	char dev[48], be[128], path[192];
	unsigned be_id;
	uint32_t port;
	int st;

	rt_snprintf(dev, sizeof(dev), "device/vbd/%u", devid);
	if (xb_read_backend(dev, be, sizeof(be), &be_id))
		return;
	st = xb_wait_state(be, 1u << XenbusStateInitWait, 10000000000ULL);
	rt_check(st == XenbusStateInitWait, "bad-ring device: backend in InitWait", st);
	rt_evtchn_alloc_unbound((uint16_t)be_id, &port);
	rt_snprintf(path, sizeof(path), "%s/ring-ref", dev);
	xb_printf(path, "%u", 1999u); /* in the table, never granted */
	rt_snprintf(path, sizeof(path), "%s/event-channel", dev);
	xb_printf(path, "%u", port);
	rt_snprintf(path, sizeof(path), "%s/protocol", dev);
	xb_write(path, "x86_64-abi");
	xb_switch_state(dev, XenbusStateInitialised);
	st = xb_wait_state(
		be, 1u << XenbusStateConnected | 1u << XenbusStateClosing | 1u << XenbusStateClosed,
		10000000000ULL);
	rt_printf("blk-hostile: ungranted ring-ref: backend state %d\n", st);
	rt_check(st == XenbusStateClosing || st == XenbusStateClosed,
		 "REFUSED: connect with a ring-ref never granted", st);
	/* the backend's error node is under dom0's tree: the host checks it */
}

void test_main(void)
{
	struct blkfront *bf = NULL, *g = NULL;
	struct blkfront_opts nop = {.no_indirect = 0};
	long hostile = rt_cmdline_num("hostile"), good = rt_cmdline_num("good");
	long badring = rt_cmdline_num("badring"), s = rt_cmdline_num("seed");
	int r;

	seed = s > 0 ? (uint64_t)s : 1;
	reconnects = rt_cmdline_num("reconnects") > 0 ? (unsigned)rt_cmdline_num("reconnects") : 0;
	rt_printf("blk-hostile: seed %lu\n", (unsigned long)seed);
	page = rt_page_alloc();
	ind = rt_page_alloc();
	rt_check(hostile > 0 && good > 0, "hostile= and good= on the command line", hostile);
	if (hostile <= 0 || good <= 0)
		return;
	r = blkfront_open((unsigned)good, NULL, &g);
	rt_check(r == 0, "good disk connected", r);
	r = blkfront_open((unsigned)hostile, &nop, &bf);
	rt_check(r == 0, "hostile disk connected", r);
	if (!g || !bf)
		return;
	good_disk(g, "the good disk works");
	hostile_requests(bf, g);
	runaway(bf, g);
	if (badring > 0)
		bad_ring((unsigned)badring);
	good_disk(g, "the good disk works at the end");
	rt_printf("blk-hostile: good disk extents %u\n", good_done);
	rt_check(blkfront_close(g) == 0, "good disk closes cleanly", 0);
	rt_check(blkfront_close(bf) == 0, "hostile disk closes cleanly", 0);
}
