/*
 * blk-bench: the guest half of tests/bench/io.  On disk dev= it runs two
 * timed phases through blkfront and keel-blkback: 4 KiB reads at random
 * page offsets with qd= requests in flight, then 1 MiB sequential reads
 * (indirect requests of 256 segments) with 4 in flight, secs= seconds
 * (a backend without indirect descriptors, QEMU's qdisk, gets requests of
 * the 11 segments a plain request holds: seq_kb= says which)
 * each.  It marks each phase in data/bench (rand, seq, done) so the host
 * can sample the dom0 processes' CPU time at the boundaries, and prints
 * the I/O counts and the guest's own clock for each phase.
 */
#include "../../../frontends/blkfront/blkfront.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/page.h"
#include "../../../frontends/runtime/xenbus.h"
#include "blk_plan.h"

#define BENCH_MAX_QD 32

static int nocopy; /* nocopy=1: leave the data in blkfront's pages (no bounce copy out) */

struct bench_phase {
	uint64_t ios, bytes, ns;
	int errors;
};

/* The sequential phase's request: 1 MiB, or what one plain request holds. */
static uint32_t bench_seq_sectors(struct blkfront *bf)
{
	return blkfront_info(bf)->max_indirect >= 256 ? 2048 : BLKIF_MAX_SEGMENTS_PER_REQUEST * 8;
}

static void bench_run(struct blkfront *bf, int seq, unsigned qd, uint64_t secs,
		      struct bench_phase *ph)
{
	static char *bufs[BENCH_MAX_QD];
	uint64_t sectors = blkfront_info(bf)->sectors, pages = sectors / 8;
	uint32_t nsect = seq ? bench_seq_sectors(bf) : 8;
	uint64_t pos = 0, rnd = 12345, submitted = 0, t0, end;
	int st, tag;

	for (unsigned i = 0; i < qd; i++)
		if (!bufs[i])
			bufs[i] = rt_pages_alloc(256);
	t0 = rt_now_ns();
	end = t0 + secs * 1000000000ULL;
	for (;;) {
		uint64_t now = rt_now_ns();

		while (now < end && submitted - ph->ios < qd) {
			uint64_t sector;

			if (seq) {
				if (pos + nsect > sectors)
					pos = 0;
				sector = pos;
				pos += nsect;
			} else {
				rnd = bp_mix(rnd);
				sector = (rnd % pages) * 8;
			}
			tag = blkfront_submit(bf, 0, sector, nocopy ? NULL : bufs[submitted % qd],
					      nsect);
			if (tag < 0) {
				ph->errors++;
				break;
			}
			submitted++;
		}
		if (submitted == ph->ios)
			break;
		tag = blkfront_complete(bf, &st, 10000000000ULL);
		if (tag < 0 || st) {
			ph->errors++;
			if (tag < 0)
				break;
		}
		ph->ios++;
		ph->bytes += (uint64_t)nsect * 512;
	}
	ph->ns = rt_now_ns() - t0;
}

void test_main(void)
{
	struct blkfront_opts o = {.pool_pages = 1040};
	struct blkfront *bf = NULL;
	struct bench_phase rnd = {0}, seq = {0};
	long dev = rt_cmdline_num("dev"), qd = rt_cmdline_num("qd"), secs = rt_cmdline_num("secs");
	int r;

	nocopy = rt_cmdline_num("nocopy") == 1;
	if (rt_cmdline_num("queues") > 0)
		o.queues = (unsigned)rt_cmdline_num("queues");
	if (qd <= 0 || qd > BENCH_MAX_QD)
		qd = 16;
	if (secs <= 0)
		secs = 3;
	r = blkfront_open(dev > 0 ? (unsigned)dev : 51712, &o, &bf);
	rt_check(r == 0, "bench disk connected", r);
	if (r)
		return;
	xb_write("data/bench", "rand");
	bench_run(bf, 0, (unsigned)qd, (uint64_t)secs, &rnd);
	xb_write("data/bench", "seq");
	bench_run(bf, 1, 4, (uint64_t)secs, &seq);
	xb_write("data/bench", "done");
	rt_printf("blk-bench: rand4k_ios=%lu rand4k_ns=%lu seq1m_ios=%lu seq1m_ns=%lu seq_kb=%u "
		  "qd=%ld queues=%u\n",
		  (unsigned long)rnd.ios, (unsigned long)rnd.ns, (unsigned long)seq.ios,
		  (unsigned long)seq.ns, bench_seq_sectors(bf) / 2, qd, blkfront_info(bf)->queues);
	rt_check(!rnd.errors && !seq.errors, "no I/O errors", rnd.errors + seq.errors);
	rt_check(rnd.ios > 0 && seq.ios > 0, "both phases did I/O", (long)seq.ios);
	blkfront_close(bf);
}
