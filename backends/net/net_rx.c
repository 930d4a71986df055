/*
 * netback receive, by copy: a frame read from the port is copied with grant
 * copies into the pages the frontend posted on its rx ring, one response
 * per page (status = bytes in that page, NETRXF_more_data on all but the
 * last).  The frame waits (and the port is not read) until enough rx
 * requests are posted; a frame the frontend cannot take at all (more slots
 * than feature-sg allows, or than the ring holds) is dropped.  Checksum
 * state from the kernel's virtio_net_hdr becomes NETRXF_csum_blank /
 * NETRXF_data_validated.  An rx producer that overruns the ring makes the
 * frontend hostile.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netback.h"

#define NET_RX_HDR sizeof(struct virtio_net_hdr)

/* Read one frame from the port into rx_buf (header first). 0: nothing to read. */
static ssize_t net_rx_read(struct net_queue *q)
{
	ssize_t n;

	do
		n = read(q->port_fd, q->rx_buf, NET_RX_HDR + NET_MAX_FRAME);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

static unsigned net_rx_slots_needed(size_t len)
{
	return (unsigned)((len + BK_PAGE_SIZE - 1) / BK_PAGE_SIZE);
}

/* Copy the pending frame into posted pages: one grant-copy batch for the
 * whole frame (one keeld round trip), then one response per page. */
static void net_rx_deliver(struct net_queue *q, unsigned need)
{
	const struct virtio_net_hdr *h = (const struct virtio_net_hdr *)q->rx_buf;
	const uint8_t *frame = q->rx_buf + NET_RX_HDR;
	struct bk_gnt_copy cp[NET_SLOTS_MAX];
	struct netif_rx_request req[NET_SLOTS_MAX];
	size_t len = q->rx_len, off = 0;
	bool failed = false;
	uint16_t first_flags = 0;

	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		first_flags = NETRXF_csum_blank | NETRXF_data_validated;
	else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
		first_flags = NETRXF_data_validated;
	for (unsigned i = 0; i < need; i++) {
		size_t chunk = len - off > BK_PAGE_SIZE ? BK_PAGE_SIZE : len - off;

		netif_rx_back_copy_request(&q->rx, q->rx.req_cons++, &req[i]);
		cp[i] = (struct bk_gnt_copy){.domid = q->domid,
					     .gref = req[i].gref,
					     .offset = 0,
					     .len = (uint16_t)chunk,
					     .local = (void *)(frame + off),
					     .to_grant = true};
		off += chunk;
	}
	if (bk_gnt_copy(q->tp, cp, need))
		failed = true;
	for (unsigned i = 0; i < need; i++) {
		struct netif_rx_response *r = netif_rx_back_response(&q->rx, q->rx.rsp_prod_pvt++);
		uint16_t flags = i ? 0 : first_flags;

		if (i + 1 < need)
			flags |= NETRXF_more_data;
		ring_store(&r->id, req[i].id);
		ring_store(&r->offset, 0);
		ring_store(&r->flags, flags);
		ring_store(&r->status,
			   cp[i].status ? (int16_t)NETIF_RSP_ERROR : (int16_t)cp[i].len);
	}
	if (failed)
		q->stats.rx_dropped++;
	else {
		q->stats.rx_packets++;
		q->stats.rx_bytes += len;
	}
	q->rx_len = 0;
}

bool net_rx_process(struct net_queue *q)
{
	bool notify = false;

	for (;;) {
		ring_idx_t rp;
		uint32_t avail;
		unsigned need;

		if (!q->rx_len) {
			ssize_t n = net_rx_read(q);

			if (n <= 0)
				break;
			if ((size_t)n < NET_RX_HDR + NET_ETH_HLEN) {
				q->stats.rx_dropped++;
				continue;
			}
			q->rx_len = (size_t)n - NET_RX_HDR;
		}
		need = net_rx_slots_needed(q->rx_len);
		if ((need > 1 && !q->frontend_sg) || need > NET_SLOTS_MAX || need > q->rx.nr_ents) {
			q->stats.rx_dropped++;
			q->rx_len = 0;
			continue;
		}
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
		net_rx_deliver(q, need);
		notify |= netif_rx_back_push_check_notify(&q->rx);
	}
	return notify;
}
