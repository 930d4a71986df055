/*
 * kill -9 of blkback, then a restart: the backend runs in a forked child
 * process (the LOOPBACK TEST TRANSPORT's grant tables and event channels
 * are shared across fork, as a hypervisor's are across dom0 processes); the
 * test is the frontend.  Writes acknowledged before the kill are on the
 * image; requests published while no backend runs, or in flight when it
 * dies, are served by the next backend, which attaches to the ring where
 * responses stopped.  Every write is acknowledged in the end and none is
 * lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "../../backends/block/blkfront_loop.h"

#define TBR_DOM	  7
#define TBR_N	  96
#define TBR_ORDER 2 /* 128 slots: everything can be in flight at once */

struct tbr {
	char path[256];
	struct bk_loop *loop;
	struct bk_transport tp;
	struct blkfront_loop bf;
	struct blkfront_buf buf[TBR_N];
	bool acked[TBR_N];
};

/* The backend process: connect and serve until killed. */
static pid_t tbr_spawn(struct tbr *t)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct blk_dev_params p = {0};
		struct blk_image *img;
		struct blk_dev *dev;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		blkfront_loop_params(&t->bf, &p);
		p.tp = &t->tp;
		if (blk_image_open(t->path, false, &img))
			_exit(1);
		p.img = img;
		p.persistent = true;
		if (blk_dev_connect(&p, &dev))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	return pid;
}

static void tbr_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int tbr_submit(struct tbr *t, unsigned i)
{
	struct blkif_request req = {.operation = BLKIF_OP_WRITE,
				    .nr_segments = 1,
				    .id = i,
				    .sector_number = (uint64_t)i * 8};

	req.seg[0] = (struct blkif_request_segment){t->buf[i].gref, 0, 7};
	return blkfront_loop_submit(&t->bf, 0, &req);
}

/* Collect responses until @n writes are acknowledged (or nothing comes for a while). */
static unsigned tbr_collect(struct tbr *t, unsigned n, int timeout_ms)
{
	struct blkif_response rsp;
	unsigned got = 0;

	for (unsigned i = 0; i < TBR_N; i++)
		got += t->acked[i];
	while (got < n && blkfront_loop_response(&t->bf, 0, &rsp, timeout_ms) == 0) {
		if (rsp.id < TBR_N && rsp.status == BLKIF_RSP_OKAY && !t->acked[rsp.id]) {
			t->acked[rsp.id] = true;
			got++;
		}
	}
	return got;
}

static void test_blkback_kill9_restart(void)
{
	const char *tmp = getenv("TMPDIR");
	unsigned lost = 0;
	struct tbr t;
	pid_t pid;
	int fd;

	memset(&t, 0, sizeof(t));
	snprintf(t.path, sizeof(t.path), "%s/blkback-restart.XXXXXX", tmp ? tmp : "/tmp");
	fd = mkstemp(t.path);
	CU_ASSERT_FATAL(fd >= 0 && ftruncate(fd, 4 << 20) == 0);
	close(fd);
	bk_log_quiet(true);
	CU_ASSERT_FATAL(bk_loop_create(0, &t.loop) == 0);
	CU_ASSERT_FATAL(bk_loop_add_domain(t.loop, TBR_DOM, 512, 512) == 0);
	bk_loop_transport(t.loop, &t.tp);
	CU_ASSERT_FATAL(blkfront_loop_init(&t.bf, t.loop, TBR_DOM, 0, 1, TBR_ORDER) == 0);
	for (unsigned i = 0; i < TBR_N; i++) {
		CU_ASSERT_FATAL(blkfront_loop_buf(&t.bf, false, &t.buf[i]) == 0);
		for (unsigned j = 0; j < 4096; j++)
			t.buf[i].data[j] = (uint8_t)(i * 7 + j * 3 + 1);
	}

	/* Backend 1 acknowledges 32 writes, then dies. */
	pid = tbr_spawn(&t);
	CU_ASSERT_FATAL(pid > 0);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT(tbr_submit(&t, i) == 0);
	CU_ASSERT_EQUAL(tbr_collect(&t, 32, 3000), 32);
	tbr_kill(pid);
	/* 32 more published while no backend runs: nothing answers them. */
	for (unsigned i = 32; i < 64; i++)
		CU_ASSERT(tbr_submit(&t, i) == 0);
	CU_ASSERT_EQUAL(tbr_collect(&t, 64, 200), 32);

	/* Backend 2 picks the ring up where responses stopped; then is killed mid-stream. */
	pid = tbr_spawn(&t);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(tbr_collect(&t, 64, 3000), 64);
	for (unsigned i = 64; i < TBR_N; i++)
		CU_ASSERT(tbr_submit(&t, i) == 0);
	tbr_kill(pid);

	/* Backend 3 finishes whatever backend 2 left. */
	pid = tbr_spawn(&t);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(tbr_collect(&t, TBR_N, 3000), TBR_N);
	tbr_kill(pid);

	/* Every acknowledged write is on the image. */
	fd = open(t.path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned i = 0; i < TBR_N; i++) {
		uint8_t page[4096];

		if (!t.acked[i] || pread(fd, page, 4096, (off_t)i * 4096) != 4096 ||
		    memcmp(page, t.buf[i].data, 4096))
			lost++;
	}
	close(fd);
	CU_ASSERT_EQUAL(lost, 0);
	bk_loop_destroy(t.loop);
	unlink(t.path);
	bk_log_quiet(false);
}

UNIT_SUITE(blkback_restart, NULL, NULL, UNIT_TEST(test_blkback_kill9_restart))
