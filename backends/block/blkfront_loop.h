/*
 * A TEST blkfront over the LOOPBACK TEST TRANSPORT (bk_loop.h): the guest
 * side of blkif, played by a thread of the test process.  It allocates and
 * grants its rings and data pages in a loopback domain, publishes requests
 * and waits for responses exactly as a blkfront does, and gives tests raw
 * access to the shared ring so they can misbehave.  Used by the unit tests,
 * the xenbus harness and the I/O benchmark; never by the daemons.
 */
#ifndef KEEL_BLKFRONT_LOOP_H
#define KEEL_BLKFRONT_LOOP_H

#include "../common/bk_loop.h"
#include "blkback.h"

struct blkfront_queue {
	uint32_t ring_gfn;
	grant_ref_t ring_refs[1u << BLK_MAX_RING_PAGE_ORDER];
	unsigned order;
	struct blkif_sring *sring;
	struct blkif_front_ring ring;
	uint32_t port;
};

struct blkfront_loop {
	struct bk_loop *loop;
	uint16_t domid, be_domid;
	unsigned nr_queues;
	struct blkfront_queue q[BLK_MAX_QUEUES];
};

/* A data page of the frontend, granted to the backend. */
struct blkfront_buf {
	uint32_t gfn;
	grant_ref_t gref;
	uint8_t *data;
};

int blkfront_loop_init(struct blkfront_loop *bf, struct bk_loop *loop, uint16_t domid,
		       uint16_t be_domid, unsigned nr_queues, unsigned order);
/* Fill the queue part of @p (ring refs, order, ports) from @bf. */
void blkfront_loop_params(const struct blkfront_loop *bf, struct blk_dev_params *p);
int blkfront_loop_buf(struct blkfront_loop *bf, bool readonly, struct blkfront_buf *out);

/* Put @req on queue @qi, publish it, notify if the backend asked. */
int blkfront_loop_submit(struct blkfront_loop *bf, unsigned qi, const struct blkif_request *req);
/* Next response of queue @qi, waiting up to @timeout_ms; -ETIMEDOUT if none. */
int blkfront_loop_response(struct blkfront_loop *bf, unsigned qi, struct blkif_response *rsp,
			   int timeout_ms);
/* One synchronous request: returns the response status (or -errno). */
int blkfront_loop_do(struct blkfront_loop *bf, unsigned qi, const struct blkif_request *req);
/* READ or WRITE whole pages @bufs[0..n) at @sector (n <= 11). */
int blkfront_loop_rw(struct blkfront_loop *bf, unsigned qi, bool write, uint64_t sector,
		     const struct blkfront_buf *bufs, unsigned n);

#endif
