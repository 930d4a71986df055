/*
 * blkfront's side of the XenbusState handshake (Xen's blkif.h protocol,
 * the order Linux's and Mini-OS's blkfronts follow): wait for the backend's
 * InitWait, read what it offers, grant a ring of 2^ring-page-order pages
 * and allocate an event channel for the backend's domain, publish
 * ring-ref (or ring-page-order + ring-refN), event-channel, protocol and
 * feature-persistent, go Initialised; when the backend is Connected read
 * the disk's geometry and go Connected.  Closing waits for the backend to
 * let go of the ring before its grants are revoked.
 */
#include "blkfront_priv.h"

static int bf_read_uint(const struct blkfront *bf, const char *key, uint64_t dflt, uint64_t *v)
{
	char path[192];
	int r;

	rt_snprintf(path, sizeof(path), "%s/%s", bf->be, key);
	r = xb_read_u64(path, v);
	if (r == -XEN_ENOENT) {
		*v = dflt;
		return 0;
	}
	return r;
}

static int bf_write(const struct blkfront *bf, const char *key, const char *fmt, unsigned v)
{
	char path[112];

	rt_snprintf(path, sizeof(path), "%s/%s", bf->dev, key);
	return xb_printf(path, fmt, v);
}

/* The backend's error node, if it wrote one, for the log. */
static void bf_log_backend_error(const struct blkfront *bf)
{
	char path[224], msg[160];

	rt_snprintf(path, sizeof(path), "error/%s/error", bf->be);
	if (xb_read(path, msg, sizeof(msg)) > 0)
		rt_printf("blkfront %u: backend error: %s\n", bf->devid, msg);
}

/* Read the backend's offers (published before its InitWait). */
static int bf_read_features(struct blkfront *bf)
{
	uint64_t order, pers, ind, flush, disc, maxq;
	int r;

	r = bf_read_uint(bf, "max-ring-page-order", 0, &order);
	if (!r)
		r = bf_read_uint(bf, "multi-queue-max-queues", 1, &maxq);
	if (!r)
		r = bf_read_uint(bf, "feature-persistent", 0, &pers);
	if (!r)
		r = bf_read_uint(bf, "feature-max-indirect-segments", 0, &ind);
	if (!r)
		r = bf_read_uint(bf, "feature-flush-cache", 0, &flush);
	if (!r)
		r = bf_read_uint(bf, "feature-discard", 0, &disc);
	if (r)
		return r;
	bf->ring_order = bf->opts.ring_order;
	if (bf->ring_order > order)
		bf->ring_order = (unsigned)order;
	if (bf->ring_order > BF_MAX_RING_ORDER)
		bf->ring_order = BF_MAX_RING_ORDER;
	/* the number of rings is fixed at the first connect (shadows map to them) */
	if (!bf->nq) {
		bf->nq = bf->opts.queues ? bf->opts.queues : 1;
		if (bf->nq > maxq)
			bf->nq = maxq ? (unsigned)maxq : 1;
		if (bf->nq > BF_MAX_QUEUES)
			bf->nq = BF_MAX_QUEUES;
	}
	bf->info.persistent = pers == 1 && !bf->opts.no_persistent;
	bf->info.max_indirect =
		bf->opts.no_indirect ? 0 : (unsigned)(ind > BF_MAX_SEGS ? BF_MAX_SEGS : ind);
	bf->info.flush = flush == 1;
	bf->info.discard = disc == 1;
	bf->max_segs = bf->info.max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST
			       ? bf->info.max_indirect
			       : BLKIF_MAX_SEGMENTS_PER_REQUEST;
	if (bf->opts.max_segs && bf->opts.max_segs < bf->max_segs)
		bf->max_segs = bf->opts.max_segs;
	if (bf->max_segs > bf_pool_limit(bf))
		bf->max_segs = bf_pool_limit(bf); /* one request must fit the pool */
	return 0;
}

/*
 * One ring's pages granted, its channel allocated, its keys written under
 * dir ("" for a single queue, "queue-N/" for several).
 */
static int bf_publish_queue(struct blkfront *bf, unsigned qi, const char *dir)
{
	struct bf_queue *q = &bf->q[qi];
	unsigned n = 1u << bf->ring_order;
	char key[40];
	int r;

	if (!q->ring_mem) {
		q->ring_mem = rt_pages_alloc(n);
		if (!q->ring_mem)
			return -XEN_ENOMEM;
	}
	blkif_sring_init(q->ring_mem);
	blkif_front_init(&q->ring, q->ring_mem, n * RT_PAGE_SIZE);
	q->kicked = 0;
	for (unsigned i = 0; i < n; i++) {
		r = gnt_grant((uint16_t)bf->info.backend_id,
			      rt_virt_to_mfn((char *)q->ring_mem + i * RT_PAGE_SIZE), 0);
		if (r < 0)
			return r;
		q->ring_refs[i] = (grant_ref_t)r;
	}
	r = rt_evtchn_alloc_unbound((uint16_t)bf->info.backend_id, &q->port);
	if (r)
		return r;
	bf->ports[qi] = q->port;
	for (unsigned i = 0; !r && i < n; i++) {
		if (bf->ring_order == 0)
			rt_snprintf(key, sizeof(key), "%sring-ref", dir);
		else
			rt_snprintf(key, sizeof(key), "%sring-ref%u", dir, i);
		r = bf_write(bf, key, "%u", q->ring_refs[i]);
	}
	rt_snprintf(key, sizeof(key), "%sevent-channel", dir);
	return r ? r : bf_write(bf, key, "%u", q->port);
}

/* Rings granted, channels allocated, keys written. */
static int bf_publish(struct blkfront *bf)
{
	int r = 0;

	if (bf->nq > 1)
		r = bf_write(bf, "multi-queue-num-queues", "%u", bf->nq);
	if (!r && bf->ring_order)
		r = bf_write(bf, "ring-page-order", "%u", bf->ring_order);
	for (unsigned i = 0; !r && i < bf->nq; i++) {
		char dir[16] = "";

		if (bf->nq > 1)
			rt_snprintf(dir, sizeof(dir), "queue-%u/", i);
		r = bf_publish_queue(bf, i, dir);
	}
	if (!r) {
		char path[96];

		rt_snprintf(path, sizeof(path), "%s/protocol", bf->dev);
		r = xb_write(path, "x86_64-abi");
	}
	if (!r)
		r = bf_write(bf, "feature-persistent", "%u", (unsigned)bf->info.persistent);
	return r;
}

int bf_connect(struct blkfront *bf)
{
	uint64_t sectors, ssize, info;
	int st, r;

	r = xb_read_backend(bf->dev, bf->be, sizeof(bf->be), &bf->info.backend_id);
	if (r)
		return r;
	xb_switch_state(bf->dev, XenbusStateInitialising);
	st = xb_wait_state(bf->be, 1u << XenbusStateInitWait, BF_TIMEOUT_NS);
	if (st != XenbusStateInitWait) {
		rt_printf("blkfront %u: backend %s not in InitWait (%d)\n", bf->devid, bf->be, st);
		bf_log_backend_error(bf);
		return st < 0 ? st : -XEN_EIO;
	}
	r = bf_read_features(bf);
	if (!r)
		r = bf_publish(bf);
	if (!r)
		r = xb_switch_state(bf->dev, XenbusStateInitialised);
	if (r)
		return r;
	st = xb_wait_state(bf->be,
			   1u << XenbusStateConnected | 1u << XenbusStateClosing |
				   1u << XenbusStateClosed,
			   BF_TIMEOUT_NS);
	if (st != XenbusStateConnected) {
		rt_printf("blkfront %u: backend did not connect (%d)\n", bf->devid, st);
		bf_log_backend_error(bf);
		return st < 0 ? st : -XEN_EIO;
	}
	r = bf_read_uint(bf, "sectors", 0, &sectors);
	if (!r)
		r = bf_read_uint(bf, "sector-size", 512, &ssize);
	if (!r)
		r = bf_read_uint(bf, "info", 0, &info);
	if (r)
		return r;
	if (ssize < 512 || ssize > RT_PAGE_SIZE || (ssize & (ssize - 1)))
		return -XEN_EINVAL;
	bf->info.sectors = sectors;
	bf->info.sector_size = (unsigned)ssize;
	bf->info.info = (unsigned)info;
	bf->info.ring_pages = 1u << bf->ring_order;
	bf->info.queues = bf->nq;
	r = xb_switch_state(bf->dev, XenbusStateConnected);
	if (r)
		return r;
	bf->connected = 1;
	return 0;
}

/*
 * Let go of the ring: the backend unmaps it when it leaves Connected, so
 * only then are the ring grants revoked (a busy one is left granted rather
 * than reused while the backend may still write it).
 */
void bf_disconnect(struct blkfront *bf)
{
	unsigned n = 1u << bf->ring_order;

	for (unsigned qi = 0; qi < bf->nq; qi++) {
		struct bf_queue *q = &bf->q[qi];

		if (q->port) {
			rt_evtchn_close(q->port);
			q->port = bf->ports[qi] = 0;
		}
		for (unsigned i = 0; i < n; i++) {
			if (q->ring_refs[i] && gnt_end(q->ring_refs[i]) < 0)
				rt_printf("blkfront %u: ring grant %u still in use\n", bf->devid,
					  q->ring_refs[i]);
			q->ring_refs[i] = 0;
		}
	}
	bf->connected = 0;
}

int blkfront_open(unsigned devid, const struct blkfront_opts *opts, struct blkfront **out)
{
	struct blkfront *bf;
	unsigned npages = (sizeof(*bf) + RT_PAGE_SIZE - 1) / RT_PAGE_SIZE;
	int r;

	r = xb_init();
	if (!r)
		r = gnt_init();
	if (r)
		return r;
	bf = rt_pages_alloc(npages);
	if (!bf)
		return -XEN_ENOMEM;
	bf->devid = devid;
	if (opts)
		bf->opts = *opts;
	rt_snprintf(bf->dev, sizeof(bf->dev), "device/vbd/%u", devid);
	r = bf_connect(bf);
	if (r) {
		bf_disconnect(bf);
		xb_switch_state(bf->dev, XenbusStateClosed);
		return r;
	}
	*out = bf;
	return 0;
}

const struct blkfront_info *blkfront_info(const struct blkfront *bf)
{
	return &bf->info;
}

int blkfront_reconnect(struct blkfront *bf, uint64_t timeout_ns)
{
	int r;

	/* Closing, the backend lets go of the ring, Closed, then the handshake again. */
	xb_switch_state(bf->dev, XenbusStateClosing);
	xb_wait_state(bf->be, 1u << XenbusStateClosing | 1u << XenbusStateClosed, timeout_ns);
	bf_disconnect(bf);
	xb_switch_state(bf->dev, XenbusStateClosed);
	r = xb_wait_state(bf->be, 1u << XenbusStateClosed | 1u << XenbusStateInitWait, timeout_ns);
	if (r < 0)
		return r;
	r = bf_connect(bf);
	if (r)
		return r;
	return bf_requeue(bf);
}

int blkfront_close(struct blkfront *bf)
{
	int st, r = 0;

	if (bf->in_flight)
		rt_printf("blkfront %u: closing with %u requests in flight\n", bf->devid,
			  bf->in_flight);
	/* (a backend directory already removed reads as Unknown: gone is closed) */
	xb_switch_state(bf->dev, XenbusStateClosing);
	st = xb_wait_state(bf->be,
			   1u << XenbusStateClosing | 1u << XenbusStateClosed |
				   1u << XenbusStateUnknown,
			   BF_TIMEOUT_NS);
	if (st < 0)
		r = st;
	bf_disconnect(bf);
	/* Persistent grants go once the backend has dropped its maps. */
	for (unsigned i = 0; i < bf->npool; i++)
		if (bf->info.persistent && bf->pool_ref[i] && gnt_end(bf->pool_ref[i]) == 0)
			bf->pool_ref[i] = 0;
	for (unsigned i = 0; i < BF_MAX_INFLIGHT; i++)
		if (bf->shadow[i].ind_ref && gnt_end(bf->shadow[i].ind_ref) == 0)
			bf->shadow[i].ind_ref = 0;
	xb_switch_state(bf->dev, XenbusStateClosed);
	st = xb_wait_state(bf->be, 1u << XenbusStateClosed | 1u << XenbusStateUnknown,
			   BF_TIMEOUT_NS);
	if (st < 0 && !r)
		r = st;
	return r;
}

int blkfront_wait_detach(struct blkfront *bf, uint64_t timeout_ns)
{
	int st = xb_wait_state(bf->be,
			       1u << XenbusStateClosing | 1u << XenbusStateClosed |
				       1u << XenbusStateUnknown,
			       timeout_ns);

	if (st < 0)
		return st;
	return blkfront_close(bf);
}
