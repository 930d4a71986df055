/*
 * blkfront's requests.  Data goes through a pool of bounce pages that
 * belong to the device: with persistent grants each page is granted once
 * and the backend keeps it mapped, so a request costs no grant work at all
 * (Linux's blkfront does the same); without, the pages of a request are
 * granted when it is queued and revoked when its answer comes.  Requests
 * of up to 11 pages fit in the ring slot; bigger ones put their segments
 * in an indirect page (one per shadow; read-only unless persistent).  Every response
 * is checked: an id that is not a request in flight is counted and
 * ignored, never trusted.
 */
#include "blkfront_priv.h"

/* Take n pool pages (growing the pool up to its limit); 0 or -XEN_EAGAIN. */
static int bf_pool_get(struct blkfront *bf, unsigned n, uint16_t *idx)
{
	unsigned limit = bf_pool_limit(bf);

	while (bf->nfree < n && bf->npool < limit) {
		void *p = rt_page_alloc();
		int ref = 0;

		if (!p)
			break;
		if (bf->info.persistent) {
			ref = gnt_grant((uint16_t)bf->info.backend_id, rt_virt_to_mfn(p), 0);
			if (ref < 0) {
				rt_page_free(p);
				break;
			}
		}
		bf->pool[bf->npool] = p;
		bf->pool_ref[bf->npool] = (grant_ref_t)ref;
		bf->pool_free[bf->nfree++] = (uint16_t)bf->npool++;
	}
	if (bf->nfree < n)
		return -XEN_EAGAIN;
	for (unsigned i = 0; i < n; i++)
		idx[i] = bf->pool_free[--bf->nfree];
	return 0;
}

static void bf_pool_put(struct blkfront *bf, const uint16_t *idx, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		bf->pool_free[bf->nfree++] = idx[i];
}

static int bf_shadow_get(struct blkfront *bf)
{
	for (int i = 0; i < BF_MAX_INFLIGHT; i++) {
		struct bf_shadow *s = &bf->shadow[i];

		if (s->busy || s->done) /* a completion not yet collected */
			continue;
		if (!s->pages) {
			/* one page: the pool indices and the per-request grants */
			s->pages = rt_page_alloc();
			if (!s->pages)
				return -XEN_ENOMEM;
			s->grefs = (grant_ref_t *)(s->pages + BF_MAX_SEGS);
		}
		return i;
	}
	return -XEN_EAGAIN;
}

/* The grant for segment i of shadow s. */
static int bf_seg_ref(struct blkfront *bf, struct bf_shadow *s, unsigned i, int readonly)
{
	int r;

	if (bf->info.persistent)
		return (int)bf->pool_ref[s->pages[i]];
	r = gnt_grant((uint16_t)bf->info.backend_id, rt_virt_to_mfn(bf->pool[s->pages[i]]),
		      readonly);
	if (r >= 0)
		s->grefs[i] = (grant_ref_t)r;
	return r;
}

/* Fill the ring slot for shadow id (its pages and grants set up). */
static int bf_fill_slot(struct blkfront *bf, unsigned id)
{
	struct bf_shadow *s = &bf->shadow[id];
	struct blkif_front_ring *ring = &bf->q[s->queue].ring;
	struct blkif_request *req = blkif_front_request(ring, ring->req_prod_pvt);
	struct blkif_request_segment seg;
	unsigned left = s->nsect;
	int indirect = s->npages > BLKIF_MAX_SEGMENTS_PER_REQUEST;
	struct blkif_request_segment *segs = req->seg;

	if (indirect) {
		struct blkif_request_indirect *ind = (struct blkif_request_indirect *)req;

		if (!s->ind) {
			int r;

			s->ind = rt_page_alloc();
			if (!s->ind)
				return -XEN_ENOMEM;
			/* writable when persistent: the backend keeps it mapped as a
			 * persistent grant (its cache maps read-write), as Linux's does */
			r = gnt_grant((uint16_t)bf->info.backend_id, rt_virt_to_mfn(s->ind),
				      !bf->info.persistent);
			if (r < 0)
				return r;
			s->ind_ref = (grant_ref_t)r;
		}
		ind->operation = BLKIF_OP_INDIRECT;
		ind->indirect_op = s->op;
		ind->nr_segments = (uint16_t)s->npages;
		ind->id = id;
		ind->sector_number = s->sector;
		ind->handle = (blkif_vdev_t)bf->devid;
		ind->indirect_grefs[0] = s->ind_ref;
		segs = s->ind;
	} else {
		req->operation = s->op;
		req->nr_segments = (uint8_t)s->npages;
		req->handle = (blkif_vdev_t)bf->devid;
		req->id = id;
		req->sector_number = s->sector;
	}
	for (unsigned i = 0; i < s->npages; i++) {
		int ref = bf_seg_ref(bf, s, i, s->op == BLKIF_OP_WRITE);
		unsigned n = left > BF_SECTORS_PER_PAGE ? BF_SECTORS_PER_PAGE : left;

		if (ref < 0)
			return ref;
		seg.gref = (grant_ref_t)ref;
		seg.first_sect = 0;
		seg.last_sect = (uint8_t)(n - 1);
		segs[i] = seg;
		left -= n;
	}
	ring->req_prod_pvt++;
	return 0;
}

/*
 * Queued requests are made visible at once (blkif_front_push): a backend
 * thread that is awake, or about to look, takes them anyway.  bf_kick,
 * just before the frontend waits, sends each queue the one notification
 * its backend asked for (req_event) about everything published since the
 * last kick -- one hypercall per batch, not per request.
 */
void bf_kick(struct blkfront *bf)
{
	for (unsigned i = 0; i < bf->nq; i++) {
		struct bf_queue *q = &bf->q[i];
		ring_idx_t now = q->ring.req_prod_pvt;

		if (now == q->kicked)
			continue;
		ring_mb(); /* req_prod visible before req_event is read */
		if (ring_need_notify(q->kicked, now, ring_load(&q->ring.sring->req_event)))
			rt_evtchn_notify(q->port);
		q->kicked = now;
	}
}

void bf_push(struct blkfront *bf, unsigned q)
{
	blkif_front_push(&bf->q[q].ring);
	bf_kick(bf);
}

/* Queue a request with data (op READ/WRITE/FLUSH with nsect > 0) or without. */
static int bf_queue(struct blkfront *bf, uint8_t op, uint64_t sector, const void *wbuf, void *rbuf,
		    unsigned nsect)
{
	unsigned npages = (nsect + BF_SECTORS_PER_PAGE - 1) / BF_SECTORS_PER_PAGE;
	struct bf_shadow *s;
	int id, r;

	if (!bf->connected)
		return -XEN_ENODEV;
	if (npages > bf->max_segs)
		return -XEN_E2BIG;
	id = bf_shadow_get(bf);
	if (id < 0)
		return id;
	s = &bf->shadow[id];
	s->queue = bf->next_queue++ % bf->nq; /* round robin over the rings */
	if (blkif_front_full(&bf->q[s->queue].ring))
		return -XEN_EAGAIN;
	r = bf_pool_get(bf, npages, s->pages);
	if (r)
		return r;
	s->op = op;
	s->sector = sector;
	s->nsect = nsect;
	s->npages = npages;
	s->user = rbuf;
	s->done = 0;
	for (unsigned i = 0; wbuf && i < npages; i++) {
		unsigned n = nsect - i * BF_SECTORS_PER_PAGE;

		if (n > BF_SECTORS_PER_PAGE)
			n = BF_SECTORS_PER_PAGE;
		rt_memcpy(bf->pool[s->pages[i]], (const char *)wbuf + i * RT_PAGE_SIZE,
			  n * BLKIF_SECTOR_SIZE);
	}
	r = bf_fill_slot(bf, (unsigned)id);
	if (r) {
		bf_pool_put(bf, s->pages, npages);
		return r;
	}
	s->busy = 1;
	bf->in_flight++;
	blkif_front_push(&bf->q[s->queue].ring);
	return id;
}

int blkfront_submit(struct blkfront *bf, int write, uint64_t sector, void *buf, unsigned nsect)
{
	if (!nsect)
		return -XEN_EINVAL;
	return bf_queue(bf, write ? BLKIF_OP_WRITE : BLKIF_OP_READ, sector, write ? buf : NULL,
			write ? NULL : buf, nsect);
}

/* A response arrived for shadow id: copy read data out, release its pages. */
static void bf_finish(struct blkfront *bf, unsigned id, int16_t status)
{
	struct bf_shadow *s = &bf->shadow[id];

	for (unsigned i = 0; !bf->info.persistent && i < s->npages; i++)
		while (gnt_end(s->grefs[i]) == -XEN_EBUSY)
			rt_sleep_ns(100000); /* the backend unmaps right after answering */
	if (status == BLKIF_RSP_OKAY && s->user && s->op == BLKIF_OP_READ)
		for (unsigned i = 0; i < s->npages; i++) {
			unsigned n = s->nsect - i * BF_SECTORS_PER_PAGE;

			if (n > BF_SECTORS_PER_PAGE)
				n = BF_SECTORS_PER_PAGE;
			rt_memcpy((char *)s->user + i * RT_PAGE_SIZE, bf->pool[s->pages[i]],
				  n * BLKIF_SECTOR_SIZE);
		}
	bf_pool_put(bf, s->pages, s->npages);
	s->npages = 0;
	s->status = status;
	s->done = 1;
	s->busy = 0;
	bf->in_flight--;
}

static int bf_status_errno(int16_t st)
{
	return st == BLKIF_RSP_OKAY ? 0 : st == BLKIF_RSP_EOPNOTSUPP ? -XEN_EOPNOTSUPP : -XEN_EIO;
}

/*
 * Consume the responses on the ring; the number that matched a request.
 * With arm, leave rsp_event set for the next one (the caller will sleep);
 * without, the backend is not asked to notify (the caller polls).
 */
static unsigned bf_poll_one(struct blkfront *bf, unsigned qi, int arm)
{
	struct blkif_front_ring *ring = &bf->q[qi].ring;
	unsigned got = 0;

	for (;;) {
		ring_idx_t prod = ring_load(&ring->sring->rsp_prod);

		ring_rmb();
		if (blkif_front_prod_overflow(ring, prod)) {
			bf->bogus_responses++;
			return got; /* a backend gone mad: ignore the ring */
		}
		while (ring->rsp_cons != prod) {
			struct blkif_response rsp;

			blkif_front_copy_response(ring, ring->rsp_cons++, &rsp);
			if (rsp.id >= BF_MAX_INFLIGHT || !bf->shadow[rsp.id].busy ||
			    bf->shadow[rsp.id].queue != qi) {
				bf->bogus_responses++;
				continue;
			}
			bf_finish(bf, (unsigned)rsp.id, rsp.status);
			got++;
		}
		if (!arm || !blkif_front_final_check(ring))
			return got;
	}
}

static unsigned bf_poll_ring(struct blkfront *bf, int arm)
{
	unsigned got = 0;

	for (unsigned i = 0; i < bf->nq; i++)
		got += bf_poll_one(bf, i, arm);
	return got;
}

/* Spin up to BF_SPIN_NS for a response before paying for a sleep and a wake-up. */
static int bf_spin(struct blkfront *bf)
{
	uint64_t end = rt_now_ns() + BF_SPIN_NS;

	do {
		for (unsigned i = 0; i < bf->nq; i++)
			if (ring_load(&bf->q[i].ring.sring->rsp_prod) != bf->q[i].ring.rsp_cons)
				return 1;
		__asm__ volatile("pause");
	} while (rt_now_ns() < end);
	return 0;
}

/* A completion not yet handed out: its tag, or -1. */
static int bf_take_done(struct blkfront *bf, int *status)
{
	for (unsigned i = 0; i < BF_MAX_INFLIGHT; i++)
		if (bf->shadow[i].done) {
			bf->shadow[i].done = 0;
			*status = bf_status_errno(bf->shadow[i].status);
			return (int)i;
		}
	return -1;
}

int blkfront_complete(struct blkfront *bf, int *status, uint64_t timeout_ns)
{
	uint64_t deadline = rt_now_ns() + timeout_ns;

	for (;;) {
		uint64_t now;
		int tag;

		bf_poll_ring(bf, 0);
		tag = bf_take_done(bf, status);
		if (tag >= 0)
			return tag;
		if (!bf->in_flight)
			return -XEN_ENOENT;
		bf_kick(bf);
		if (timeout_ns && bf_spin(bf))
			continue;
		bf_poll_ring(bf, 1);
		tag = bf_take_done(bf, status);
		if (tag >= 0)
			return tag;
		now = rt_now_ns();
		if (now >= deadline)
			return -XEN_ETIME;
		rt_evtchn_wait(bf->ports, bf->nq, deadline - now);
	}
}

unsigned blkfront_in_flight(const struct blkfront *bf)
{
	return bf->in_flight;
}

unsigned blkfront_max_segs(const struct blkfront *bf)
{
	return bf->max_segs;
}

/* Wait for everything in flight; the first error seen. */
static int bf_drain(struct blkfront *bf)
{
	int first = 0, st, r;

	while (bf->in_flight) {
		r = blkfront_complete(bf, &st, BF_TIMEOUT_NS);
		if (r < 0)
			return r;
		if (st && !first)
			first = st;
	}
	/* collect completions nobody asked for */
	while (blkfront_complete(bf, &st, 0) >= 0)
		if (st && !first)
			first = st;
	return first;
}

/* Split a transfer into requests of at most max_segs pages, keeping the ring busy. */
static int bf_rw(struct blkfront *bf, int write, uint64_t sector, char *buf, unsigned nsect)
{
	unsigned per = bf->max_segs * BF_SECTORS_PER_PAGE;
	int first = 0, st, r;

	if (!bf->connected)
		return -XEN_ENODEV;
	while (nsect) {
		unsigned n = nsect > per ? per : nsect;

		r = bf_queue(bf, write ? BLKIF_OP_WRITE : BLKIF_OP_READ, sector, write ? buf : NULL,
			     write ? NULL : buf, n);
		if (r == -XEN_EAGAIN) {
			r = blkfront_complete(bf, &st, BF_TIMEOUT_NS);
			if (r == -XEN_ENOENT)
				return -XEN_ENOMEM; /* nothing to wait for: the pool is too small */
			if (r < 0)
				return r;
			if (st && !first)
				first = st;
			continue;
		}
		if (r < 0)
			return r;
		sector += n;
		buf += (size_t)n * BLKIF_SECTOR_SIZE;
		nsect -= n;
	}
	r = bf_drain(bf);
	return first ? first : r;
}

int blkfront_read(struct blkfront *bf, uint64_t sector, void *buf, unsigned nsect)
{
	return bf_rw(bf, 0, sector, buf, nsect);
}

int blkfront_write(struct blkfront *bf, uint64_t sector, const void *buf, unsigned nsect)
{
	return bf_rw(bf, 1, sector, (char *)buf, nsect);
}

int blkfront_flush(struct blkfront *bf)
{
	int r;

	if (!bf->info.flush)
		return -XEN_EOPNOTSUPP;
	r = bf_drain(bf);
	if (r)
		return r;
	r = bf_queue(bf, BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, NULL, 0);
	if (r < 0)
		return r;
	return bf_drain(bf);
}

int blkfront_discard(struct blkfront *bf, uint64_t sector, uint64_t nsect)
{
	struct blkif_request_discard *d;
	int id, r;

	if (!bf->info.discard)
		return -XEN_EOPNOTSUPP;
	r = bf_drain(bf);
	if (r)
		return r;
	id = bf_shadow_get(bf);
	if (id < 0)
		return id;
	d = (struct blkif_request_discard *)blkif_front_request(&bf->q[0].ring,
								bf->q[0].ring.req_prod_pvt++);
	d->operation = BLKIF_OP_DISCARD;
	d->flag = 0;
	d->handle = (blkif_vdev_t)bf->devid;
	d->id = (uint64_t)id;
	d->sector_number = sector;
	d->nr_sectors = nsect;
	bf->shadow[id] = (struct bf_shadow){.busy = 1,
					    .op = BLKIF_OP_DISCARD,
					    .pages = bf->shadow[id].pages,
					    .grefs = bf->shadow[id].grefs,
					    .ind = bf->shadow[id].ind,
					    .ind_ref = bf->shadow[id].ind_ref};
	bf->in_flight++;
	bf_push(bf, 0);
	return bf_drain(bf);
}

/* After a reconnect: put every request still waiting for an answer on the new ring. */
int bf_requeue(struct blkfront *bf)
{
	for (unsigned i = 0; i < BF_MAX_INFLIGHT; i++) {
		struct bf_shadow *s = &bf->shadow[i];
		int r;

		if (!s->busy)
			continue;
		if (s->op == BLKIF_OP_DISCARD) {
			bf_finish(bf, i, BLKIF_RSP_ERROR); /* not re-issued */
			continue;
		}
		s->queue = i % bf->nq; /* the number of rings may have changed */
		/* old per-request grants were for the old connection: drop them */
		for (unsigned j = 0; !bf->info.persistent && j < s->npages; j++)
			gnt_end(s->grefs[j]);
		r = bf_fill_slot(bf, i);
		if (r)
			return r;
		blkif_front_push(&bf->q[s->queue].ring);
	}
	bf_kick(bf);
	return 0;
}
