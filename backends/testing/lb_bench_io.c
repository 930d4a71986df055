/*
 * keel-backend-loopback bench-io: blkback over the LOOPBACK TEST TRANSPORT
 * (a frontend thread in this process, not a guest) against this process
 * doing the same preadv on the same file, in the same run: 4 KiB random
 * reads (IOPS) and 1 MiB sequential reads (MB/s).  The frontend keeps
 * --qd requests in flight with persistent grants, as Linux's blkfront
 * does; 1 MiB requests are indirect (256 segments).  Prints key=value
 * lines for tests/bench/io/run, including process CPU time per I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../block/blkfront_loop.h"
#include "../common/bk_loop.h"
#include "lb.h"

#define LB_DOM	    2
#define LB_MAX_QD   32
#define LB_SEQ_SEGS 256
#define LB_SEQ_QD   4 /* 1 MiB requests in flight: 1024 distinct pages, as the host's */

static double lb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double lb_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct lb_result {
	double ops, secs, cpu;
};

/* The baseline: the same preadv calls, straight on the file. */
static struct lb_result lb_host(int fd, uint64_t blocks, bool seq, double secs)
{
	static uint8_t buf[LB_SEQ_SEGS][4096] __attribute__((aligned(4096)));
	struct iovec iov[LB_SEQ_SEGS];
	unsigned n = seq ? LB_SEQ_SEGS : 1, seed = 1;
	double t0 = lb_now(), c0 = lb_cpu(), ops = 0;
	uint64_t next = 0;

	for (unsigned i = 0; i < n; i++)
		iov[i] = (struct iovec){buf[i], 4096};
	while (lb_now() - t0 < secs) {
		uint64_t blk = seq ? next : (uint64_t)rand_r(&seed) % blocks;

		if (seq)
			next = (next + n) % (blocks - blocks % n);
		if (preadv(fd, iov, (int)n, (off_t)blk * 4096) != (ssize_t)(n * 4096))
			break;
		ops++;
	}
	return (struct lb_result){ops, lb_now() - t0, lb_cpu() - c0};
}

/* The request for slot @slot of the pipeline (random 4 KiB, or indirect 1 MiB). */
static void lb_make_req(struct blkif_request *req, bool seq, unsigned slot, uint64_t blk,
			struct blkfront_buf *data, struct blkfront_buf *ind)
{
	memset(req, 0, sizeof(*req));
	req->id = slot;
	if (!seq) {
		req->operation = BLKIF_OP_READ;
		req->nr_segments = 1;
		req->sector_number = blk * 8;
		req->seg[0] = (struct blkif_request_segment){data[slot].gref, 0, 7};
	} else {
		struct blkif_request_indirect *ir = (struct blkif_request_indirect *)req;

		ir->operation = BLKIF_OP_INDIRECT;
		ir->indirect_op = BLKIF_OP_READ;
		ir->nr_segments = LB_SEQ_SEGS;
		ir->id = slot;
		ir->sector_number = blk * 8;
		ir->indirect_grefs[0] = ind[slot].gref;
	}
}

static int lb_loop_run(struct blkfront_loop *bf, bool seq, unsigned qd, uint64_t blocks,
		       double secs, struct blkfront_buf *data, struct blkfront_buf *ind,
		       struct lb_result *res)
{
	double t0 = lb_now(), c0 = lb_cpu(), ops = 0;
	unsigned seed = 1, inflight = 0, submitted = 0;
	uint64_t next = 0;
	struct blkif_request req;
	struct blkif_response rsp;
	bool stop = false;

	for (;;) {
		while (!stop && inflight < qd) {
			uint64_t blk = seq ? next : (uint64_t)rand_r(&seed) % blocks;

			if (seq)
				next = (next + LB_SEQ_SEGS) % (blocks - blocks % LB_SEQ_SEGS);
			/* One queue answers in order: the slot reused is the one just done. */
			lb_make_req(&req, seq, submitted % qd, blk, data, ind);
			req.id = submitted++;
			if (blkfront_loop_submit(bf, 0, &req))
				return -EIO;
			inflight++;
		}
		if (!inflight)
			break;
		if (blkfront_loop_response(bf, 0, &rsp, 5000) || rsp.status != BLKIF_RSP_OKAY)
			return -EIO;
		inflight--;
		ops++;
		stop = lb_now() - t0 >= secs;
	}
	*res = (struct lb_result){ops, lb_now() - t0, lb_cpu() - c0};
	return 0;
}

int lb_cmd_bench_io(int argc, char **argv)
{
	const char *image = lb_opt(argc, argv, "--image", NULL);
	double secs = atof(lb_opt(argc, argv, "--seconds", "2"));
	unsigned qd = (unsigned)atoi(lb_opt(argc, argv, "--qd", "16"));
	static struct blkfront_buf data[LB_SEQ_QD * LB_SEQ_SEGS], ind[LB_MAX_QD];
	struct blk_dev_params p = {0};
	struct lb_result h4, l4, h1m, l1m;
	struct blkfront_loop bf;
	struct blk_image *img;
	struct bk_transport tp;
	struct bk_loop *loop;
	struct blk_dev *dev;
	uint64_t blocks;
	int fd, err;

	if (!image || secs <= 0 || qd == 0 || qd > LB_MAX_QD) {
		fprintf(stderr, "usage: bench-io --image FILE [--seconds S] [--qd 1..32]\n");
		return 2;
	}
	fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (err = blk_image_open(image, true, &img))) {
		perror(image);
		return 1;
	}
	blocks = img->size / 4096;
	if (blocks < 2 * LB_SEQ_SEGS) {
		fprintf(stderr, "bench-io: image too small\n");
		return 1;
	}
	if ((err = bk_loop_create(0, &loop)) ||
	    (err = bk_loop_add_domain(loop, LB_DOM, 8192, 8192)) ||
	    (err = blkfront_loop_init(&bf, loop, LB_DOM, 0, 1, 1)))
		goto fail;
	bk_loop_transport(loop, &tp);
	blkfront_loop_params(&bf, &p);
	p.img = img;
	p.tp = &tp;
	p.persistent = true;
	p.max_indirect = BLK_MAX_INDIRECT_SEGMENTS;
	if ((err = blk_dev_connect(&p, &dev)))
		goto fail;
	/* Distinct data pages for every segment in flight, like the host's buffers. */
	for (unsigned i = 0; i < LB_SEQ_QD * LB_SEQ_SEGS; i++)
		if ((err = blkfront_loop_buf(&bf, false, &data[i])))
			goto fail;
	for (unsigned i = 0; i < LB_MAX_QD; i++)
		if ((err = blkfront_loop_buf(&bf, true, &ind[i])))
			goto fail;
	for (unsigned i = 0; i < LB_SEQ_QD; i++) {
		struct blkif_request_segment *segs = (struct blkif_request_segment *)ind[i].data;

		for (unsigned s = 0; s < LB_SEQ_SEGS; s++)
			segs[s] = (struct blkif_request_segment){data[i * LB_SEQ_SEGS + s].gref, 0,
								 7};
	}
	h4 = lb_host(fd, blocks, false, secs);
	if ((err = lb_loop_run(&bf, false, qd, blocks, secs, data, ind, &l4)))
		goto fail;
	h1m = lb_host(fd, blocks, true, secs);
	if ((err = lb_loop_run(&bf, true, qd < LB_SEQ_QD ? qd : LB_SEQ_QD, blocks, secs, data, ind,
			       &l1m)))
		goto fail;
	printf("transport=loopback-test (in-process frontend thread, NOT a guest)\n");
	printf("qd=%u\n", qd);
	printf("host_rand4k_iops=%.0f\n", h4.ops / h4.secs);
	printf("blkback_rand4k_iops=%.0f\n", l4.ops / l4.secs);
	printf("host_rand4k_cpu_us=%.2f\n", h4.cpu * 1e6 / h4.ops);
	printf("blkback_rand4k_cpu_us=%.2f\n", l4.cpu * 1e6 / l4.ops);
	printf("host_seq1m_mbps=%.1f\n", h1m.ops / h1m.secs);
	printf("blkback_seq1m_mbps=%.1f\n", l1m.ops / l1m.secs);
	blk_dev_disconnect(dev);
	bk_loop_destroy(loop);
	blk_image_close(img);
	close(fd);
	return 0;
fail:
	fprintf(stderr, "bench-io: %s\n", strerror(-err));
	return 1;
}
