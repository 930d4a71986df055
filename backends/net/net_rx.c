/*
 * netback receive, by copy: a frame read from the port is copied with grant
 * copies into the pages the frontend posted on its rx ring, one response
 * per page (status = bytes in that page, NETRXF_more_data on all but the
 * last).  The frame waits (and the port is not read) until enough rx
 * requests are posted; a frame the frontend cannot take at all (more slots
 * than feature-sg allows, or than the ring holds) is dropped.  Checksum
 * state from the kernel's virtio_net_hdr becomes NETRXF_csum_blank /
 * NETRXF_data_validated.  An rx producer that overruns the ring makes the
 * frontend hostile.  Frames are copied a batch at a time (below).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netback.h"

#define NET_RX_HDR sizeof(struct virtio_net_hdr)

/* rx frames copied per grant-copy batch: frames, pieces (one per page) */
#define NET_RX_BATCH	 32
#define NET_RX_BATCH_OPS 128

/*
 * Frames are copied in batches: as long as the port has frames and the
 * frontend has posted pages for them, up to NET_RX_BATCH frames (at most
 * NET_RX_BATCH_OPS pages, NET_RX_BUF bytes) are read and their requests
 * consumed, the pages filled with one bk_gnt_copy (one keeld round trip
 * for the lot), then the responses written in ring order.  A frame read
 * but waiting for pages stays in rx_buf at rx_off (rx_len bytes).
 */
struct net_rx_batch {
	struct bk_gnt_copy cp[NET_RX_BATCH_OPS];
	struct netif_rx_request req[NET_RX_BATCH_OPS];
	struct {
		size_t off, len;
		unsigned first, need;
	} f[NET_RX_BATCH];
	unsigned n, ncp;
	size_t used; /* bytes of rx_buf the batch's frames occupy */
};

struct net_rx_batch *net_rx_batch_alloc(void)
{
	return calloc(1, sizeof(struct net_rx_batch));
}

/* Read one frame from the port into rx_buf at off (header first). 0: nothing to read. */
static ssize_t net_rx_read(struct net_queue *q, size_t off)
{
	ssize_t n;

	do
		n = read(q->port_fd, q->rx_buf + off, NET_RX_HDR + NET_MAX_FRAME);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

static unsigned net_rx_slots_needed(size_t len)
{
	return (unsigned)((len + BK_PAGE_SIZE - 1) / BK_PAGE_SIZE);
}

/* Take the pending frame into the batch: consume its `need` requests. */
static void net_rx_add(struct net_queue *q, struct net_rx_batch *b, unsigned need)
{
	const uint8_t *frame = q->rx_buf + q->rx_off + NET_RX_HDR;
	size_t len = q->rx_len, off = 0;

	b->f[b->n].off = q->rx_off;
	b->f[b->n].len = len;
	b->f[b->n].first = b->ncp;
	b->f[b->n].need = need;
	for (unsigned i = 0; i < need; i++) {
		size_t chunk = len - off > BK_PAGE_SIZE ? BK_PAGE_SIZE : len - off;
		struct netif_rx_request *req = &b->req[b->ncp];

		netif_rx_back_copy_request(&q->rx, q->rx.req_cons++, req);
		b->cp[b->ncp++] = (struct bk_gnt_copy){.domid = q->domid,
						       .gref = req->gref,
						       .offset = 0,
						       .len = (uint16_t)chunk,
						       .local = (void *)(frame + off),
						       .to_grant = true};
		off += chunk;
	}
	b->n++;
	b->used = q->rx_off + NET_RX_HDR + len;
	q->rx_len = 0;
}

/* Copy the batch's frames into their pages in one go, then one response
 * per page (status = bytes in that page, NETRXF_more_data on all but the
 * last of a frame); returns whether the frontend must be notified. */
static bool net_rx_flush(struct net_queue *q, struct net_rx_batch *b)
{
	bool notify = false;

	if (b->ncp)
		bk_gnt_copy(q->tp, b->cp, b->ncp); /* statuses per page */
	for (unsigned k = 0; k < b->n; k++) {
		struct virtio_net_hdr h;
		uint16_t first_flags = 0;
		const struct bk_gnt_copy *failed = NULL;

		/* Frames are packed in rx_buf: a header may sit at any offset. */
		memcpy(&h, q->rx_buf + b->f[k].off, sizeof(h));
		if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			first_flags = NETRXF_csum_blank | NETRXF_data_validated;
		else if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID)
			first_flags = NETRXF_data_validated;
		for (unsigned i = 0; i < b->f[k].need; i++) {
			unsigned c = b->f[k].first + i;
			struct netif_rx_response *r =
				netif_rx_back_response(&q->rx, q->rx.rsp_prod_pvt++);
			uint16_t flags = i ? 0 : first_flags;

			if (i + 1 < b->f[k].need)
				flags |= NETRXF_more_data;
			if (b->cp[c].status && !failed)
				failed = &b->cp[c];
			ring_store(&r->id, b->req[c].id);
			ring_store(&r->offset, 0);
			ring_store(&r->flags, flags);
			ring_store(&r->status, b->cp[c].status ? (int16_t)NETIF_RSP_ERROR
							       : (int16_t)b->cp[c].len);
		}
		if (failed) {
			q->stats.rx_dropped++;
			net_queue_grant_error(q, false, failed);
		} else {
			q->stats.rx_packets++;
			q->stats.rx_bytes += b->f[k].len;
		}
		notify |= netif_rx_back_push_check_notify(&q->rx);
	}
	b->n = b->ncp = 0;
	b->used = 0;
	return notify;
}

bool net_rx_process(struct net_queue *q)
{
	struct net_rx_batch *b = q->rx_batch;
	bool notify = false;

	b->n = b->ncp = 0;
	/* A frame left waiting by the last call sits at rx_off. */
	b->used = q->rx_len ? q->rx_off + NET_RX_HDR + q->rx_len : 0;
	for (;;) {
		ring_idx_t rp;
		uint32_t avail;
		unsigned need;

		if (!q->rx_len) {
			ssize_t n;

			if (b->used + NET_RX_HDR + NET_MAX_FRAME > NET_RX_BUF)
				notify |= net_rx_flush(q, b);
			n = net_rx_read(q, b->used);
			if (n <= 0)
				break;
			if ((size_t)n < NET_RX_HDR + NET_ETH_HLEN) {
				q->stats.rx_dropped++;
				continue;
			}
			q->rx_off = b->used;
			q->rx_len = (size_t)n - NET_RX_HDR;
		}
		need = net_rx_slots_needed(q->rx_len);
		if ((need > 1 && !q->frontend_sg) || need > NET_SLOTS_MAX || need > q->rx.nr_ents) {
			q->stats.rx_dropped++;
			q->rx_len = 0;
			continue;
		}
		if (b->n == NET_RX_BATCH || b->ncp + need > NET_RX_BATCH_OPS)
			notify |= net_rx_flush(q, b);
		rp = ring_load(&q->rx.sring->req_prod);
		ring_rmb();
		if (netif_rx_back_prod_overflow(&q->rx, rp)) {
			net_queue_fatal(q, "runaway rx producer");
			break;
		}
		avail = rp - q->rx.req_cons;
		if (avail < need) {
			/* Ask to be told when more pages are posted, then look once more. */
			ring_store(&q->rx.sring->req_event, q->rx.req_cons + need);
			ring_mb();
			if (ring_load(&q->rx.sring->req_prod) - q->rx.req_cons >= need)
				continue;
			break;
		}
		net_rx_add(q, b, need);
	}
	return notify | net_rx_flush(q, b);
}
