/*
 * The TEST blkfront over the LOOPBACK TEST TRANSPORT (see blkfront_loop.h).
 * Rings are consecutive frames of the loopback domain so the frontend sees
 * them contiguously, as a guest's vmalloc'd ring; each frame is granted to
 * the backend separately, as Linux's blkfront does for multi-page rings.
 */
#include <errno.h>
#include <string.h>

#include "blkfront_loop.h"

static int blkfront_queue_init(struct blkfront_loop *bf, struct blkfront_queue *fq, unsigned order)
{
	unsigned pages = 1u << order;
	int err;

	fq->order = order;
	for (unsigned i = 0; i < pages; i++) {
		uint32_t gfn;

		err = bk_loop_alloc_page(bf->loop, bf->domid, &gfn);
		if (err)
			return err;
		if (i == 0)
			fq->ring_gfn = gfn;
		else if (gfn != fq->ring_gfn + i)
			return -ENOMEM; /* not contiguous: cannot happen with the bump allocator */
		err = bk_loop_grant(bf->loop, bf->domid, gfn, bf->be_domid, false,
				    &fq->ring_refs[i]);
		if (err)
			return err;
	}
	fq->sring = bk_loop_page(bf->loop, bf->domid, fq->ring_gfn);
	if (!fq->sring)
		return -EFAULT;
	blkif_sring_init(fq->sring);
	blkif_front_init(&fq->ring, fq->sring, (size_t)pages * BK_PAGE_SIZE);
	return bk_loop_evtchn_alloc(bf->loop, bf->domid, &fq->port);
}

int blkfront_loop_init(struct blkfront_loop *bf, struct bk_loop *loop, uint16_t domid,
		       uint16_t be_domid, unsigned nr_queues, unsigned order)
{
	memset(bf, 0, sizeof(*bf));
	if (!nr_queues || nr_queues > BLK_MAX_QUEUES || order > BLK_MAX_RING_PAGE_ORDER)
		return -EINVAL;
	bf->loop = loop;
	bf->domid = domid;
	bf->be_domid = be_domid;
	bf->nr_queues = nr_queues;
	for (unsigned i = 0; i < nr_queues; i++) {
		int err = blkfront_queue_init(bf, &bf->q[i], order);

		if (err)
			return err;
	}
	return 0;
}

void blkfront_loop_params(const struct blkfront_loop *bf, struct blk_dev_params *p)
{
	p->domid = bf->domid;
	p->nr_queues = bf->nr_queues;
	for (unsigned i = 0; i < bf->nr_queues; i++) {
		p->queue[i].ring_order = bf->q[i].order;
		p->queue[i].evtchn = bf->q[i].port;
		memcpy(p->queue[i].ring_refs, bf->q[i].ring_refs, sizeof(p->queue[i].ring_refs));
	}
}

int blkfront_loop_buf(struct blkfront_loop *bf, bool readonly, struct blkfront_buf *out)
{
	int err = bk_loop_alloc_page(bf->loop, bf->domid, &out->gfn);

	if (err)
		return err;
	out->data = bk_loop_page(bf->loop, bf->domid, out->gfn);
	return bk_loop_grant(bf->loop, bf->domid, out->gfn, bf->be_domid, readonly, &out->gref);
}

int blkfront_loop_submit(struct blkfront_loop *bf, unsigned qi, const struct blkif_request *req)
{
	struct blkfront_queue *fq;

	if (qi >= bf->nr_queues)
		return -EINVAL;
	fq = &bf->q[qi];
	if (blkif_front_full(&fq->ring))
		return -EBUSY;
	*blkif_front_request(&fq->ring, fq->ring.req_prod_pvt++) = *req;
	if (blkif_front_push_check_notify(&fq->ring))
		return bk_loop_evtchn_front_notify(bf->loop, bf->domid, fq->port);
	return 0;
}

int blkfront_loop_response(struct blkfront_loop *bf, unsigned qi, struct blkif_response *rsp,
			   int timeout_ms)
{
	struct blkfront_queue *fq;

	if (qi >= bf->nr_queues)
		return -EINVAL;
	fq = &bf->q[qi];
	for (;;) {
		int err;

		if (blkif_front_final_check(&fq->ring)) {
			blkif_front_copy_response(&fq->ring, fq->ring.rsp_cons++, rsp);
			return 0;
		}
		err = bk_loop_evtchn_front_wait(bf->loop, bf->domid, fq->port, timeout_ms);
		if (err)
			return err;
	}
}

int blkfront_loop_do(struct blkfront_loop *bf, unsigned qi, const struct blkif_request *req)
{
	struct blkif_response rsp;
	uint8_t op;
	int err = blkfront_loop_submit(bf, qi, req);

	if (!err)
		err = blkfront_loop_response(bf, qi, &rsp, 5000);
	if (err)
		return err;
	/* Xen answers an indirect request with its data operation */
	op = req->operation == BLKIF_OP_INDIRECT
		     ? ((const struct blkif_request_indirect *)req)->indirect_op
		     : req->operation;
	if (rsp.id != req->id || rsp.operation != op)
		return -EPROTO;
	return rsp.status;
}

int blkfront_loop_rw(struct blkfront_loop *bf, unsigned qi, bool write, uint64_t sector,
		     const struct blkfront_buf *bufs, unsigned n)
{
	struct blkif_request req = {
		.operation = write ? BLKIF_OP_WRITE : BLKIF_OP_READ,
		.nr_segments = (uint8_t)n,
		.id = sector ^ 0x5a5a0000u,
		.sector_number = sector,
	};

	if (n == 0 || n > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		req.seg[i] = (struct blkif_request_segment){bufs[i].gref, 0, 7};
	return blkfront_loop_do(bf, qi, &req);
}
