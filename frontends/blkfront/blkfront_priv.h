/*
 * blkfront's internals shared by its two files: blkfront_xenbus.c (the
 * XenbusState handshake, ring and grant set-up and tear-down) and
 * blkfront.c (requests on the ring and their data pages).
 */
#ifndef KEEL_BLKFRONT_PRIV_H
#define KEEL_BLKFRONT_PRIV_H

#include "../runtime/evtchn.h"
#include "../runtime/gnttab.h"
#include "../runtime/keel_guest.h"
#include "../runtime/page.h"
#include "../runtime/xenbus.h"
#include "blkfront.h"

#define BF_MAX_INFLIGHT	    32	/* shadows: requests on the ring at once */
#define BF_MAX_SEGS	    256 /* pages per request with indirect descriptors */
#define BF_MAX_RING_ORDER   2
#define BF_MAX_QUEUES	    4
#define BF_DEFAULT_POOL	    256
#define BF_MAX_POOL	    1024
#define BF_TIMEOUT_NS	    20000000000ULL /* one handshake step, one request */
#define BF_SPIN_NS	    30000	   /* poll the ring this long before sleeping */
#define BF_SECTORS_PER_PAGE (RT_PAGE_SIZE / BLKIF_SECTOR_SIZE)

/* One request in flight: what it carries and where the answer goes. */
struct bf_shadow {
	int busy, done;
	int16_t status;
	uint8_t op;	 /* BLKIF_OP_* (the data operation for indirect ones) */
	uint64_t sector; /* for re-issue after a reconnect */
	void *user;	 /* read: copy the data here on completion (may be NULL) */
	unsigned nsect;	 /* sectors carried */
	unsigned npages; /* pool pages used */
	uint16_t *pages; /* pool indices, BF_MAX_SEGS of them */
	void *ind;	 /* this shadow's indirect segment page */
	grant_ref_t ind_ref;
	grant_ref_t *grefs; /* per-request grants when not persistent */
	unsigned queue;	    /* the ring it went on */
};

/* One ring (Xen's multi-queue blkif: one per queue, each with its channel). */
struct bf_queue {
	void *ring_mem;
	grant_ref_t ring_refs[1u << BF_MAX_RING_ORDER];
	struct blkif_front_ring ring;
	ring_idx_t kicked; /* req_prod at the last kick */
	uint32_t port;
};

struct blkfront {
	unsigned devid;
	char dev[48], be[128];
	struct blkfront_info info;
	struct blkfront_opts opts;
	int connected;

	unsigned ring_order, nq, next_queue;
	struct bf_queue q[BF_MAX_QUEUES];
	uint32_t ports[BF_MAX_QUEUES]; /* q[i].port, for waiting on all */

	unsigned max_segs; /* per request, as negotiated */
	struct bf_shadow shadow[BF_MAX_INFLIGHT];
	unsigned in_flight;

	/* Data pages: bounce buffers, granted once when persistent. */
	unsigned npool;
	void *pool[BF_MAX_POOL];
	grant_ref_t pool_ref[BF_MAX_POOL];
	uint16_t pool_free[BF_MAX_POOL];
	unsigned nfree;
	uint64_t bogus_responses; /* ids the backend made up */
};

/* Pool pages this device may hold (opts.pool_pages, default, cap). */
static inline unsigned bf_pool_limit(const struct blkfront *bf)
{
	unsigned n = bf->opts.pool_pages ? bf->opts.pool_pages : BF_DEFAULT_POOL;

	return n > BF_MAX_POOL ? BF_MAX_POOL : n;
}

/* blkfront_xenbus.c */
int bf_connect(struct blkfront *bf);
void bf_disconnect(struct blkfront *bf);
/* blkfront.c: re-issue what had no answer after a reconnect */
int bf_requeue(struct blkfront *bf);
/* Kick each queue's backend thread that asked to hear (req_event) about
 * requests published since the last kick; bf_push: publish queue q, kick all. */
void bf_kick(struct blkfront *bf);
void bf_push(struct blkfront *bf, unsigned q);

#endif
