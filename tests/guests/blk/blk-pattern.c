/*
 * blk-pattern: blkfront against keel-blkback on real disks.  For each
 * read-write disk (rw0=, rw1= devids, with their expected sizes rw0s=,
 * rw1s= in sectors) it checks the geometry the backend published, follows
 * the write plan of blk_plan.h (count= extents from seed=: single sectors
 * to 1 MiB indirect requests, discards when discard=1), reading each
 * extent back right after it is written, FLUSHes, and tries sectors out
 * of range (BLKIF_RSP_ERROR expected).  The read-only disk (ro=, ros=) must
 * say VDISK_READONLY, read back the pattern the host filled it with and
 * refuse a write.  The host then compares the images with keel-blk-plan's.
 *
 * The second disk runs without persistent grants (each request's pages
 * granted and revoked) on two rings (multi-queue) of 4 pages
 * (ring-page-order 2).
 *
 * With detach=1 the read-only disk is left open until the host detaches it
 * (xl block-detach): the guest must see the backend leave and close.
 *
 * kill=1 is the backend-restart run: on rw0 only, 16-sector writes at
 * 16 * i, four in flight, paced; after a third of them the guest writes
 * data/blk-phase=kill so the test kill -9s keel-blkback and starts it
 * again.  Every write must still be acknowledged and read back.
 */
#include "../../../frontends/blkfront/blkfront.h"
#include "../../../frontends/runtime/evtchn.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/page.h"
#include "../../../frontends/runtime/xenbus.h"
#include "blk_plan.h"

#define BUF_SECTORS 2048

static uint64_t seed;
static char *wbuf, *rbuf;

static int same(const void *a, const void *b, uint64_t n)
{
	return rt_memcmp(a, b, n) == 0;
}

static struct blkfront *open_disk(const char *key, const char *skey, int ro,
				  const struct blkfront_opts *opts)
{
	struct blkfront *bf = NULL;
	long devid = rt_cmdline_num(key), sectors = rt_cmdline_num(skey);
	const struct blkfront_info *in;
	int r;

	if (devid < 0)
		return NULL;
	r = blkfront_open((unsigned)devid, opts, &bf);
	rt_check(r == 0, "blkfront connected", r);
	if (r)
		return NULL;
	in = blkfront_info(bf);
	rt_printf("blk-pattern: vbd %ld: %lu sectors of %u, info %u, queues %u, ring pages %u, "
		  "indirect %u, persistent %d, flush %d, discard %d\n",
		  devid, (unsigned long)in->sectors, in->sector_size, in->info, in->queues,
		  in->ring_pages, in->max_indirect, in->persistent, in->flush, in->discard);
	rt_check(in->sectors == (uint64_t)sectors, "sectors as the image's size",
		 (long)in->sectors);
	rt_check(in->sector_size == 512, "sector-size 512", in->sector_size);
	rt_check(!!(in->info & VDISK_READONLY) == ro, "info: VDISK_READONLY iff mode r", in->info);
	return bf;
}

static void out_of_range(struct blkfront *bf)
{
	uint64_t n = blkfront_info(bf)->sectors;
	int r;

	r = blkfront_read(bf, n, rbuf, 1);
	rt_check(r == -XEN_EIO, "REFUSED: read past the end (BLKIF_RSP_ERROR)", r);
	r = blkfront_read(bf, n - 1, rbuf, 2);
	rt_check(r == -XEN_EIO, "REFUSED: read crossing the end", r);
	r = blkfront_write(bf, ~0ULL >> 8, wbuf, 8);
	rt_check(r == -XEN_EIO, "REFUSED: write far past the end", r);
}

static void rw_disk(struct blkfront *bf, unsigned disk, unsigned count, int discard)
{
	uint64_t sectors = blkfront_info(bf)->sectors;
	unsigned bad = 0, errors = 0, discards = 0;
	int r;

	discard = discard && blkfront_info(bf)->discard;
	for (unsigned i = 0; i < count; i++) {
		struct bp_extent e;
		uint64_t len;

		bp_extent(seed, disk, i, sectors, discard, &e);
		len = (uint64_t)e.nsect * 512;
		if (e.op == BP_DISCARD) {
			r = blkfront_discard(bf, e.sector, e.nsect);
			rt_memset(wbuf, 0, len);
			discards++;
		} else {
			bp_fill(seed, disk, e.sector, e.nsect, wbuf);
			r = blkfront_write(bf, e.sector, wbuf, e.nsect);
		}
		if (!r && i % 8 == 7)
			r = blkfront_flush(bf);
		if (!r)
			r = blkfront_read(bf, e.sector, rbuf, e.nsect);
		if (r) {
			errors++;
			rt_printf("blk-pattern: extent %u (%lu+%u op %u): error %d\n", i,
				  (unsigned long)e.sector, e.nsect, e.op, r);
		} else if (!same(wbuf, rbuf, len)) {
			bad++;
			rt_printf("blk-pattern: extent %u (%lu+%u) reads back different\n", i,
				  (unsigned long)e.sector, e.nsect);
		}
	}
	rt_check(!errors, "every extent written (and discarded) without error", errors);
	rt_check(!bad, "every extent reads back as written", bad);
	rt_printf("blk-pattern: disk %u: %u extents, %u discards\n", disk, count, discards);
	r = blkfront_flush(bf);
	rt_check(r == 0, "FLUSH_DISKCACHE", r);
	out_of_range(bf);
}

static void ro_disk(struct blkfront *bf, unsigned disk)
{
	uint64_t sectors = blkfront_info(bf)->sectors;
	unsigned bad = 0;
	int r = 0;

	for (uint64_t s = 0; s < sectors && !r; s += BUF_SECTORS) {
		uint32_t n = sectors - s < BUF_SECTORS ? (uint32_t)(sectors - s) : BUF_SECTORS;

		r = blkfront_read(bf, s, rbuf, n);
		bp_fill(seed, disk, s, n, wbuf);
		bad += !r && !same(wbuf, rbuf, (uint64_t)n * 512);
	}
	rt_check(r == 0 && !bad, "read-only disk holds the host's pattern", bad);
	r = blkfront_write(bf, 0, wbuf, 8);
	rt_check(r == -XEN_EIO, "REFUSED: write to an access=ro disk", r);
	out_of_range(bf);
}

/* The kill-and-restart run: writes keep going while the backend dies and comes back. */
static void kill_run(struct blkfront *bf, unsigned count)
{
	static char *bufs[4];
	int tag_extent[32];
	unsigned next = 0, acked = 0, errors = 0, bad = 0;
	uint64_t t0 = 0, worst = 0;
	int st, tag;

	for (unsigned i = 0; i < 4; i++)
		bufs[i] = rt_pages_alloc(2);
	if (count * 16 > blkfront_info(bf)->sectors)
		count = (unsigned)(blkfront_info(bf)->sectors / 16);
	while (acked < count) {
		while (next < count && next - acked < 4) { /* submitted, not yet collected */
			struct bp_extent e;
			char *b = bufs[next % 4];

			bp_seq_extent(next, &e);
			bp_fill(seed, 0, e.sector, e.nsect, b);
			tag = blkfront_submit(bf, 1, e.sector, b, e.nsect);
			if (tag < 0) {
				rt_printf("blk-pattern: submit of write %u: %d\n", next, tag);
				errors++;
				break;
			}
			tag_extent[tag] = (int)next++;
			if (next == count / 3) {
				xb_write("data/blk-phase", "kill");
				rt_printf("blk-pattern: phase kill at write %u\n", next);
			}
			rt_sleep_ns(5000000);
		}
		t0 = rt_now_ns();
		tag = blkfront_complete(bf, &st, 30000000000ULL);
		if (rt_now_ns() - t0 > worst)
			worst = rt_now_ns() - t0;
		if (tag < 0) {
			rt_printf("blk-pattern: no completion (%d) after %u acked\n", tag, acked);
			errors++;
			break;
		}
		if (st) {
			rt_printf("blk-pattern: write %d failed: %d\n", tag_extent[tag], st);
			errors++;
		}
		acked++;
	}
	rt_check(acked == count && !errors, "every write acknowledged through the restart", acked);
	rt_printf("blk-pattern: longest wait for a completion %lu ms\n",
		  (unsigned long)(worst / 1000000));
	for (unsigned i = 0; i < count; i++) {
		struct bp_extent e;

		bp_seq_extent(i, &e);
		bp_fill(seed, 0, e.sector, e.nsect, wbuf);
		if (blkfront_read(bf, e.sector, rbuf, e.nsect) || !same(wbuf, rbuf, 16 * 512))
			bad++;
	}
	rt_check(!bad, "every acknowledged write reads back", bad);
	xb_write("data/blk-phase", "done");
}

void test_main(void)
{
	struct blkfront *rw0, *rw1, *ro;
	long count = rt_cmdline_num("count"), s = rt_cmdline_num("seed");
	int discard = rt_cmdline_num("discard") == 1, r;

	seed = s > 0 ? (uint64_t)s : 1;
	if (count < 0)
		count = 40;
	rt_printf("blk-pattern: seed %lu\n", (unsigned long)seed);
	wbuf = rt_pages_alloc(BUF_SECTORS / 8);
	rbuf = rt_pages_alloc(BUF_SECTORS / 8);
	rt_check(wbuf && rbuf, "1 MiB buffers", 0);
	if (!wbuf || !rbuf)
		return;
	/* rw1 without persistent grants (grant per request), two 4-page rings */
	struct blkfront_opts o1 = {.no_persistent = 1, .ring_order = 2, .queues = 2};

	rw0 = open_disk("rw0", "rw0s", 0, NULL);
	if (rt_cmdline_num("kill") == 1) {
		if (rw0)
			kill_run(rw0, (unsigned)count);
		if (rw0)
			rt_check(blkfront_close(rw0) == 0, "clean close", 0);
		return;
	}
	rw1 = open_disk("rw1", "rw1s", 0, &o1);
	if (rw1)
		rt_check(blkfront_info(rw1)->ring_pages == 4 && !blkfront_info(rw1)->persistent &&
				 blkfront_info(rw1)->queues == 2,
			 "second disk: 2 queues, ring-page-order 2, no persistent grants",
			 blkfront_info(rw1)->ring_pages);
	ro = open_disk("ro", "ros", 1, NULL);
	if (rw0)
		rw_disk(rw0, 0, (unsigned)count, discard);
	if (rw1)
		rw_disk(rw1, 1, (unsigned)count, discard);
	if (ro)
		ro_disk(ro, 2);
	rt_check(rw0 || rw1 || ro, "at least one disk on the command line", 0);
	if (rw0) {
		r = blkfront_close(rw0);
		rt_check(r == 0, "clean close (Closing, backend Closed, grants revoked)", r);
	}
	if (rw1)
		rt_check(blkfront_close(rw1) == 0, "clean close of the second disk", 0);
	if (ro && rt_cmdline_num("detach") == 1) {
		/* the host runs xl block-detach on this disk when it sees the phase */
		xb_write("data/blk-phase", "detach");
		r = blkfront_wait_detach(ro, 20000000000ULL);
		rt_check(r == 0, "xl block-detach: backend Closing seen, closed cleanly", r);
	} else if (ro) {
		rt_check(blkfront_close(ro) == 0, "clean close of the read-only disk", 0);
	}
}
