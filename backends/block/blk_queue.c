/*
 * One blkif queue: a shared ring of 2^order pages, its event channel, its
 * persistent grants and the thread that serves it.  Every request is copied
 * out of the ring once and validated before anything is mapped or read:
 * operation, segment count, first/last sector of each segment, the sector
 * range against the disk, the access mode, every grant reference (the
 * transport refuses references not granted to us, or granted read-only for
 * a read from disk into them).  A bad request gets BLKIF_RSP_ERROR (or
 * EOPNOTSUPP); a frontend that breaks the ring itself (a producer index
 * beyond what the ring can hold) has its queue stopped and its device
 * handed to on_fatal for disconnection.  Data goes to and from the image
 * with one preadv/pwritev per request over the mapped pages.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blkback.h"

#define BLK_SECTORS_PER_PAGE (BK_PAGE_SIZE / BLKIF_SECTOR_SIZE)

struct blk_queue {
	unsigned index;
	const struct bk_transport *tp;
	uint16_t domid;
	struct blk_image *img;
	bool persistent, discard;
	unsigned max_indirect;
	void (*on_fatal)(void *arg);
	void *fatal_arg;

	void *ring_addr;
	unsigned ring_pages;
	struct blkif_back_ring ring;
	uint32_t lport;
	bool bound;
	int ev_fd, stop_fd;
	pthread_t thread;
	bool running;
	int broken;
	struct blk_pgrant_cache *pgrants;
	struct blk_stats stats;
	struct keel_vbd_stats_queue *counters; /* xentop's, published (or own_counters) */
	struct keel_vbd_stats_queue own_counters;

	/* Scratch for one request (one thread per queue). */
	struct blkif_request_segment segs[BLK_MAX_INDIRECT_SEGMENTS];
	struct iovec iov[BLK_MAX_INDIRECT_SEGMENTS];
	grant_ref_t map_refs[BLK_MAX_INDIRECT_SEGMENTS];
	unsigned map_seg[BLK_MAX_INDIRECT_SEGMENTS];
	uint8_t *seg_page[BLK_MAX_INDIRECT_SEGMENTS];
};

/* xentop's counters: one writer (this queue's thread), readers in other processes. */
static void blk_count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

typedef int16_t (*blk_op_fn)(struct blk_queue *q, const struct blkif_request *req);

static uint64_t blk_nr_sectors(const struct blk_queue *q)
{
	return q->img->size / BLKIF_SECTOR_SIZE;
}

/*
 * Find a page for every segment: from the persistent cache when possible,
 * the rest mapped in one batch (*batch, unmapped by the caller).
 */
static int blk_map_segments(struct blk_queue *q, bool write, unsigned nseg, void **batch,
			    unsigned *nbatch)
{
	unsigned n = 0;
	void *base = NULL;
	int err;

	for (unsigned i = 0; i < nseg; i++) {
		q->seg_page[i] = NULL;
		if (q->pgrants) {
			q->seg_page[i] = blk_pgrant_get(q->pgrants, q->segs[i].gref, &err);
			if (!q->seg_page[i] && err != -ENOSPC)
				return err;
		}
		if (!q->seg_page[i]) {
			q->map_refs[n] = q->segs[i].gref;
			q->map_seg[n++] = i;
		}
	}
	*nbatch = n;
	*batch = NULL;
	if (!n)
		return 0;
	/* Writing to disk only reads the frontend's pages: a read-only map will do. */
	err = bk_gnt_map(q->tp, q->domid, q->map_refs, n, write ? BK_GNT_READONLY : 0, &base, NULL);
	if (err)
		return err;
	q->stats.grant_maps++;
	for (unsigned j = 0; j < n; j++)
		q->seg_page[q->map_seg[j]] = (uint8_t *)base + (size_t)j * BK_PAGE_SIZE;
	*batch = base;
	return 0;
}

/* Read or write @nseg segments (already in q->segs) starting at @sector. */
static int16_t blk_do_rw(struct blk_queue *q, bool write, uint64_t sector, unsigned nseg)
{
	uint64_t total = 0, nsect = blk_nr_sectors(q);
	unsigned nbatch = 0;
	void *batch = NULL;
	int iovcnt = 0, err;

	if (write && q->img->readonly)
		return BLKIF_RSP_ERROR;
	for (unsigned i = 0; i < nseg; i++) {
		const struct blkif_request_segment *s = &q->segs[i];

		if (s->first_sect > s->last_sect || s->last_sect >= BLK_SECTORS_PER_PAGE)
			return BLKIF_RSP_ERROR;
		total += s->last_sect - s->first_sect + 1u;
	}
	if (sector > nsect || total > nsect - sector)
		return BLKIF_RSP_ERROR;
	blk_count(write ? &q->counters->wr_sect : &q->counters->rd_sect, total);
	err = blk_map_segments(q, write, nseg, &batch, &nbatch);
	if (err) {
		bk_log("vbd %u queue %u: grant map: %s", q->domid, q->index, strerror(-err));
		if (batch)
			bk_gnt_unmap(q->tp, batch, nbatch);
		return BLKIF_RSP_ERROR;
	}
	for (unsigned i = 0; i < nseg; i++) {
		uint8_t *base = q->seg_page[i] + q->segs[i].first_sect * BLKIF_SECTOR_SIZE;
		size_t len = (size_t)(q->segs[i].last_sect - q->segs[i].first_sect + 1) *
			     BLKIF_SECTOR_SIZE;

		/* Segments are consecutive on disk; merge those consecutive in memory too. */
		if (iovcnt &&
		    (uint8_t *)q->iov[iovcnt - 1].iov_base + q->iov[iovcnt - 1].iov_len == base) {
			q->iov[iovcnt - 1].iov_len += len;
			continue;
		}
		q->iov[iovcnt].iov_base = base;
		q->iov[iovcnt++].iov_len = len;
	}
	err = blk_image_rw(q->img, write, q->iov, iovcnt, (off_t)(sector * BLKIF_SECTOR_SIZE));
	if (batch)
		bk_gnt_unmap(q->tp, batch, nbatch);
	if (err) {
		bk_log("vbd %u: %s at sector %llu: %s", q->domid, write ? "write" : "read",
		       (unsigned long long)sector, strerror(-err));
		return BLKIF_RSP_ERROR;
	}
	return BLKIF_RSP_OKAY;
}

static int16_t blk_op_rw(struct blk_queue *q, const struct blkif_request *req)
{
	if (req->nr_segments == 0 || req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	memcpy(q->segs, req->seg, req->nr_segments * sizeof(req->seg[0]));
	blk_count(req->operation == BLKIF_OP_WRITE ? &q->counters->wr_req : &q->counters->rd_req,
		  1);
	return blk_do_rw(q, req->operation == BLKIF_OP_WRITE, req->sector_number, req->nr_segments);
}

/* A flush may carry data: write it, then make everything acknowledged durable. */
static int16_t blk_op_flush(struct blk_queue *q, const struct blkif_request *req)
{
	blk_count(&q->counters->f_req, 1);
	if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	if (req->nr_segments) {
		int16_t st;

		memcpy(q->segs, req->seg, req->nr_segments * sizeof(req->seg[0]));
		st = blk_do_rw(q, true, req->sector_number, req->nr_segments);
		if (st != BLKIF_RSP_OKAY)
			return st;
	}
	return blk_image_flush(q->img) ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
}

static int16_t blk_op_discard(struct blk_queue *q, const struct blkif_request *req)
{
	const struct blkif_request_discard *d = (const struct blkif_request_discard *)req;
	uint64_t nsect = blk_nr_sectors(q);
	int err;

	blk_count(&q->counters->ds_req, 1);
	if (!q->discard || (d->flag & BLKIF_DISCARD_SECURE))
		return BLKIF_RSP_EOPNOTSUPP;
	if (q->img->readonly || d->sector_number > nsect ||
	    d->nr_sectors > nsect - d->sector_number)
		return BLKIF_RSP_ERROR;
	err = blk_image_discard(q->img, d->sector_number * BLKIF_SECTOR_SIZE,
				d->nr_sectors * BLKIF_SECTOR_SIZE);
	if (err == -EOPNOTSUPP)
		return BLKIF_RSP_EOPNOTSUPP;
	return err ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
}

/*
 * Segments in granted indirect pages, copied out before use (the frontend
 * may change its pages at any time).  With persistent grants the indirect
 * pages are persistent too, as in Linux's blkback: mapped once, then a
 * memcpy per request instead of a map and an unmap through keeld.  It is
 * also needed for correctness: Linux's blkfront takes indirect pages from
 * the same pool as data pages, so the gref may be one the cache holds
 * mapped, and a second map and unmap of it would clear the entry's busy
 * bits in keeld (no per-gref count) under the cache's map; Linux would then
 * revoke and reuse the gref for another page (stale reads).
 */
static int16_t blk_op_indirect(struct blk_queue *q, const struct blkif_request *req)
{
	const struct blkif_request_indirect *ind = (const struct blkif_request_indirect *)req;
	struct bk_gnt_copy cp[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned nseg = ind->nr_segments, npages, left, ncp = 0;

	if (!q->max_indirect)
		return BLKIF_RSP_EOPNOTSUPP;
	if (ind->indirect_op != BLKIF_OP_READ && ind->indirect_op != BLKIF_OP_WRITE)
		return BLKIF_RSP_ERROR;
	if (nseg == 0 || nseg > q->max_indirect)
		return BLKIF_RSP_ERROR;
	npages = (unsigned)((nseg + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) /
			    BLKIF_SEGS_PER_INDIRECT_FRAME);
	left = nseg * (unsigned)sizeof(struct blkif_request_segment);
	for (unsigned i = 0; i < npages; i++) {
		uint16_t len = (uint16_t)(left > BK_PAGE_SIZE ? BK_PAGE_SIZE : left);
		uint8_t *local = (uint8_t *)q->segs + (size_t)i * BK_PAGE_SIZE;
		void *page = NULL;
		int err = -ENOSPC;

		left -= len;
		if (q->pgrants)
			page = blk_pgrant_get(q->pgrants, ind->indirect_grefs[i], &err);
		if (page) {
			memcpy(local, page, len);
			continue;
		}
		/* not cacheable (cache full, or a read-only grant): copy through keeld */
		cp[ncp++] = (struct bk_gnt_copy){
			.domid = q->domid,
			.gref = ind->indirect_grefs[i],
			.len = len,
			.local = local,
		};
	}
	if (ncp && bk_gnt_copy(q->tp, cp, ncp))
		return BLKIF_RSP_ERROR;
	blk_count(ind->indirect_op == BLKIF_OP_WRITE ? &q->counters->wr_req : &q->counters->rd_req,
		  1);
	return blk_do_rw(q, ind->indirect_op == BLKIF_OP_WRITE, ind->sector_number, nseg);
}

static const struct {
	uint8_t op;
	blk_op_fn fn;
} blk_ops[] = {
	{BLKIF_OP_READ, blk_op_rw},
	{BLKIF_OP_WRITE, blk_op_rw},
	{BLKIF_OP_FLUSH_DISKCACHE, blk_op_flush},
	{BLKIF_OP_DISCARD, blk_op_discard},
	{BLKIF_OP_INDIRECT, blk_op_indirect},
};

static int16_t blk_handle_request(struct blk_queue *q, const struct blkif_request *req)
{
	for (size_t i = 0; i < sizeof(blk_ops) / sizeof(blk_ops[0]); i++)
		if (blk_ops[i].op == req->operation)
			return blk_ops[i].fn(q, req);
	return BLKIF_RSP_EOPNOTSUPP; /* barriers, reserved and unknown operations */
}

static void blk_queue_fatal(struct blk_queue *q, const char *why, ring_idx_t prod)
{
	bk_log("vbd %u queue %u: %s (req_prod %u, rsp_prod %u); queue stopped", q->domid, q->index,
	       why, prod, q->ring.rsp_prod_pvt);
	__atomic_store_n(&q->broken, 1, __ATOMIC_RELEASE);
	if (q->on_fatal)
		q->on_fatal(q->fatal_arg);
}

static uint8_t blk_response_op(const struct blkif_request *req)
{
	if (req->operation == BLKIF_OP_INDIRECT)
		return ((const struct blkif_request_indirect *)req)->indirect_op;
	return req->operation;
}

/* Serve what is on the ring; returns whether the frontend must be notified. */
static bool blk_queue_process(struct blk_queue *q)
{
	bool notify = false;
	ring_idx_t rp = ring_load(&q->ring.sring->req_prod);

	ring_rmb();
	if (blkif_back_prod_overflow(&q->ring, rp)) {
		blk_queue_fatal(q, "runaway request producer", rp);
		return false;
	}
	while (q->ring.req_cons != rp && !blkif_back_cons_overflow(&q->ring, q->ring.req_cons)) {
		struct blkif_request req;
		struct blkif_response *rsp;
		int16_t st;

		blkif_back_copy_request(&q->ring, q->ring.req_cons, &req);
		q->ring.req_cons++;
		st = blk_handle_request(q, &req);
		q->stats.requests++;
		if (st == BLKIF_RSP_ERROR)
			q->stats.errors++;
		else if (st == BLKIF_RSP_EOPNOTSUPP)
			q->stats.eopnotsupp++;
		rsp = blkif_back_response(&q->ring, q->ring.rsp_prod_pvt++);
		ring_store(&rsp->id, req.id);
		/* An indirect request is answered with its data operation (Linux's
		 * blkfront disables the disk on "wrong operation" otherwise). */
		ring_store(&rsp->operation, blk_response_op(&req));
		ring_store(&rsp->status, st);
		notify |= blkif_back_push_check_notify(&q->ring);
	}
	return notify;
}

static void *blk_queue_thread(void *arg)
{
	struct blk_queue *q = arg;
	struct pollfd p[2] = {{q->ev_fd, POLLIN, 0}, {q->stop_fd, POLLIN, 0}};

	for (;;) {
		bool notify = false;

		while (!__atomic_load_n(&q->broken, __ATOMIC_ACQUIRE)) {
			notify |= blk_queue_process(q);
			if (__atomic_load_n(&q->broken, __ATOMIC_ACQUIRE))
				break;
			if (notify) { /* answer first, then look for more */
				bk_evtchn_notify(q->tp, q->lport);
				notify = false;
			}
			if (!blkif_back_final_check(&q->ring))
				break;
		}
		if (notify)
			bk_evtchn_notify(q->tp, q->lport);
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents)
			bk_evtchn_consume(q->tp, q->lport);
	}
	return NULL;
}

int blk_queue_start(struct blk_dev *dev, const struct blk_dev_params *p, unsigned index,
		    struct blk_queue **out)
{
	const struct blk_queue_params *qp = &p->queue[index];
	struct blk_queue *q;
	int err;

	if (qp->ring_order > BLK_MAX_RING_PAGE_ORDER)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->index = index;
	q->tp = p->tp;
	q->domid = p->domid;
	q->img = p->img;
	q->persistent = p->persistent;
	q->discard = p->discard && p->img->can_discard && !p->img->readonly;
	q->max_indirect = p->max_indirect > BLK_MAX_INDIRECT_SEGMENTS ? BLK_MAX_INDIRECT_SEGMENTS
								      : p->max_indirect;
	q->on_fatal = p->on_fatal;
	q->fatal_arg = p->fatal_arg;
	q->counters = p->counters ? &p->counters->queue[index] : &q->own_counters;
	q->ev_fd = q->stop_fd = -1;
	q->ring_pages = 1u << qp->ring_order;
	err = bk_gnt_map(q->tp, q->domid, qp->ring_refs, q->ring_pages, 0, &q->ring_addr, NULL);
	if (err) {
		q->ring_addr = NULL;
		goto fail;
	}
	/* Attach where responses stopped, so a restarted backend carries on. */
	blkif_back_attach(&q->ring, q->ring_addr,
			  ring_load(&((struct blkif_sring *)q->ring_addr)->rsp_prod),
			  (size_t)q->ring_pages * BK_PAGE_SIZE);
	err = bk_evtchn_bind(q->tp, q->domid, qp->evtchn, &q->lport);
	if (err)
		goto fail;
	q->bound = true;
	q->ev_fd = bk_evtchn_fd(q->tp, q->lport);
	if (q->ev_fd < 0) {
		err = q->ev_fd;
		goto fail;
	}
	if (q->persistent) {
		err = blk_pgrant_init(&q->pgrants, q->tp, q->domid, BLK_MAX_PERSISTENT_GRANTS);
		if (err)
			goto fail;
	}
	q->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (q->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&q->thread, NULL, blk_queue_thread, q);
	if (err)
		goto fail;
	q->running = true;
	*out = q;
	return 0;
fail:
	blk_queue_stop(q);
	return err;
}

void blk_queue_stop(struct blk_queue *q)
{
	uint64_t one = 1;

	if (!q)
		return;
	if (q->running) {
		if (write(q->stop_fd, &one, sizeof(one)) != sizeof(one))
			bk_log("vbd %u: cannot stop queue %u", q->domid, q->index);
		pthread_join(q->thread, NULL);
	}
	if (q->stop_fd >= 0)
		close(q->stop_fd);
	blk_pgrant_free(q->pgrants);
	if (q->bound)
		bk_evtchn_unbind(q->tp, q->lport);
	if (q->ring_addr)
		bk_gnt_unmap(q->tp, q->ring_addr, q->ring_pages);
	free(q);
}

bool blk_queue_broken(struct blk_queue *q)
{
	return __atomic_load_n(&q->broken, __ATOMIC_ACQUIRE);
}

void blk_queue_stats_add(struct blk_queue *q, struct blk_stats *acc)
{
	acc->requests += q->stats.requests;
	acc->errors += q->stats.errors;
	acc->eopnotsupp += q->stats.eopnotsupp;
	acc->grant_maps += q->stats.grant_maps;
	acc->pgrant_maps += blk_pgrant_count(q->pgrants);
}
