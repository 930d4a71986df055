/*
 * netback transmit: frames the frontend sends, out of its granted pages and
 * into the port.  A packet is a first request (size = the whole frame),
 * optional extra-info slots (GSO, multicast, hash) and, while
 * NETTXF_more_data is set, more fragment requests.  As Linux netback does,
 * a packet is dropped with NETIF_RSP_ERROR when its sizes do not add up, it
 * is shorter than an Ethernet header or longer than 64 KiB, it spans more
 * than XEN_NETIF_NR_SLOTS_MIN slots, or a grant fails; the frontend is
 * treated as hostile (queue stopped, device disconnected) when a fragment
 * crosses its page, a packet claims more than NET_SLOTS_FATAL slots, an
 * extra-info type is unknown, or its producer index overruns the ring.
 * Data is copied with grant copies (never mapped), a batch of packets at a
 * time.  Checksum offload
 * (NETTXF_csum_blank) and GSO become a virtio_net_hdr for the kernel.
 * Credit scheduling: at most credit_bytes per credit_usec, as `rate=`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "netback.h"

struct net_tx_pkt {
	struct netif_tx_request slot[NET_SLOTS_FATAL + 1];
	unsigned nslots, nextras;
	struct netif_extra_info gso;
	bool has_gso;
};

void net_queue_fatal(struct net_queue *q, const char *why)
{
	bk_log("vif %u: %s; disconnecting", q->domid, why);
	__atomic_store_n(&q->broken, 1, __ATOMIC_RELEASE);
	if (q->on_fatal)
		q->on_fatal(q->fatal_arg);
}

void net_queue_grant_error(struct net_queue *q, bool tx, const struct bk_gnt_copy *cp)
{
	uint64_t now = net_now_us();
	int16_t st = bk_gnt_copy_gntst(cp->status);
	char counts[160];

	if (tx)
		q->stats.tx_grant_errors++;
	else
		q->stats.rx_grant_errors++;
	/* One line per vif and direction per window: a hostile frontend may fail
	 * every copy. */
	if (q->grant_log_us[tx] && now - q->grant_log_us[tx] < NET_GRANT_LOG_US)
		return;
	q->grant_log_us[tx] = now;
	net_stats_format(q, counts, sizeof(counts));
	bk_log("vif%u.%u: %s frame dropped: grant copy %s gref %u of domain %u failed: "
	       "GNTST %d (%s); %s",
	       q->domid, q->devid, tx ? "tx" : "rx", cp->to_grant ? "to" : "from", cp->gref,
	       cp->domid, st, gnttab_status_name(st), counts);
}

void net_stats_format(const struct net_queue *q, char *buf, size_t len)
{
	const struct net_stats *s = &q->stats;

	snprintf(buf, len,
		 "tx %llu packets, %llu errors (%llu bad grants); "
		 "rx %llu packets, %llu dropped (%llu bad grants)",
		 (unsigned long long)s->tx_packets, (unsigned long long)s->tx_errors,
		 (unsigned long long)s->tx_grant_errors, (unsigned long long)s->rx_packets,
		 (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_grant_errors);
}

/* Where the L4 header starts and where its checksum lives (csum_blank packets). */
static int net_csum_setup(const uint8_t *f, size_t len, struct virtio_net_hdr *h)
{
	size_t l3 = NET_ETH_HLEN, l4;
	unsigned type, proto;

	if (len < NET_ETH_HLEN)
		return -EINVAL;
	type = (unsigned)f[12] << 8 | f[13];
	if (type == 0x8100) { /* one VLAN tag */
		if (len < 18)
			return -EINVAL;
		type = (unsigned)f[16] << 8 | f[17];
		l3 = 18;
	}
	if (type == 0x0800) {
		if (len < l3 + 20 || (f[l3] >> 4) != 4 || (f[l3] & 0xf) < 5)
			return -EINVAL;
		if ((f[l3 + 6] & 0x3f) || f[l3 + 7]) /* a fragment: no L4 header to fix */
			return -EINVAL;
		proto = f[l3 + 9];
		l4 = l3 + (size_t)(f[l3] & 0xf) * 4;
	} else if (type == 0x86dd) {
		if (len < l3 + 40)
			return -EINVAL;
		proto = f[l3 + 6];
		l4 = l3 + 40;
	} else {
		return -EINVAL;
	}
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l4;
	if (proto == 6)
		h->csum_offset = 16;
	else if (proto == 17)
		h->csum_offset = 6;
	else
		return -EINVAL;
	if (l4 + h->csum_offset + 2 > len)
		return -EINVAL;
	if (proto == 6 && l4 + 20 <= len)
		h->hdr_len = (uint16_t)(l4 + (size_t)(f[l4 + 12] >> 4) * 4);
	return 0;
}

static void net_tx_respond(struct net_queue *q, uint16_t id, int16_t status)
{
	struct netif_tx_response *r = netif_tx_back_response(&q->tx, q->tx.rsp_prod_pvt++);

	ring_store(&r->id, id);
	ring_store(&r->status, status);
}

/* Responses for a whole packet, in slot order (extra slots get RSP_NULL). */
static void net_tx_respond_pkt(struct net_queue *q, const struct net_tx_pkt *p, int16_t status)
{
	net_tx_respond(q, p->slot[0].id, status);
	for (unsigned i = 0; i < p->nextras; i++)
		net_tx_respond(q, 0, NETIF_RSP_NULL);
	for (unsigned i = 1; i < p->nslots; i++)
		net_tx_respond(q, p->slot[i].id, status);
}

/*
 * Gather one packet's slots starting at req_cons without consuming them.
 * Returns the slots used, 0 if the packet is not complete yet, -EPROTO if
 * the frontend is hostile.
 */
static int net_tx_gather(struct net_queue *q, ring_idx_t rp, struct net_tx_pkt *p)
{
	ring_idx_t idx = q->tx.req_cons;
	uint16_t flags;

	memset(p, 0, sizeof(*p));
	netif_tx_back_copy_request(&q->tx, idx++, &p->slot[0]);
	p->nslots = 1;
	flags = p->slot[0].flags;
	if (flags & NETTXF_extra_info) {
		struct netif_extra_info e;

		do {
			if (idx == rp)
				return 0;
			e = *(volatile struct netif_extra_info *)netif_tx_back_request(&q->tx,
										       idx++);
			if (e.type == XEN_NETIF_EXTRA_TYPE_NONE ||
			    e.type >= XEN_NETIF_EXTRA_TYPE_MAX ||
			    ++p->nextras > XEN_NETIF_EXTRA_TYPE_MAX)
				return -EPROTO;
			if (e.type == XEN_NETIF_EXTRA_TYPE_GSO) {
				p->gso = e;
				p->has_gso = true;
			}
		} while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	}
	while (flags & NETTXF_more_data) {
		if (idx == rp)
			return 0;
		if (p->nslots > NET_SLOTS_FATAL)
			return -EPROTO;
		netif_tx_back_copy_request(&q->tx, idx++, &p->slot[p->nslots]);
		flags = p->slot[p->nslots++].flags;
	}
	return (int)(idx - q->tx.req_cons);
}

/*
 * Packets are copied in batches: up to NET_TX_BATCH packets (at most
 * NET_TX_BATCH_OPS grant copies, NET_TX_BUF bytes) are gathered and
 * checked, their pieces copied with one bk_gnt_copy (one keeld round trip
 * for the lot), then each is handed to the port and answered in ring
 * order.
 */
struct net_tx_batch {
	struct net_tx_pkt pkt[NET_TX_BATCH];
	int16_t st[NET_TX_BATCH]; /* NETIF_RSP_OKAY: copy and send; else answer so */
	size_t off[NET_TX_BATCH]; /* where the packet's bytes go in tx_buf */
	unsigned first_cp[NET_TX_BATCH];
	struct bk_gnt_copy cp[NET_TX_BATCH_OPS];
	unsigned n, ncp;
	size_t used;
};

struct net_tx_batch *net_tx_batch_alloc(void)
{
	return calloc(1, sizeof(struct net_tx_batch));
}

/* Does a packet of nslots slots and total bytes still fit in the batch? */
static bool net_tx_batch_fits(const struct net_tx_batch *b, unsigned nslots, size_t total)
{
	return b->n < NET_TX_BATCH && b->ncp + nslots <= NET_TX_BATCH_OPS &&
	       b->used + total <= NET_TX_BUF;
}

/* Check one gathered packet and queue its copies; the status it will get
 * unless a copy fails (NETIF_RSP_OKAY: copies queued). */
static int16_t net_tx_prepare(struct net_queue *q, struct net_tx_batch *b,
			      const struct net_tx_pkt *p)
{
	size_t total = p->slot[0].size, rest = 0, off = b->used;

	for (unsigned i = 1; i < p->nslots; i++)
		rest += p->slot[i].size;
	if (rest > total)
		return NETIF_RSP_ERROR;
	/* The first slot's own data is what the others do not carry. */
	for (unsigned i = 0; i < p->nslots; i++) {
		size_t len = i ? p->slot[i].size : total - rest;

		if (p->slot[i].offset + len > BK_PAGE_SIZE) {
			net_queue_fatal(q, "tx fragment crosses a page");
			return NETIF_RSP_ERROR;
		}
	}
	if (p->nslots > NET_SLOTS_MAX || total < NET_ETH_HLEN)
		return NETIF_RSP_ERROR;
	b->off[b->n] = off;
	b->first_cp[b->n] = b->ncp;
	for (unsigned i = 0; i < p->nslots; i++) {
		uint16_t len = i ? p->slot[i].size : (uint16_t)(total - rest);

		b->cp[b->ncp++] = (struct bk_gnt_copy){.domid = q->domid,
						       .gref = p->slot[i].gref,
						       .offset = p->slot[i].offset,
						       .len = len,
						       .local = q->tx_buf + off};
		off += len;
	}
	b->used = off;
	return NETIF_RSP_OKAY;
}

/* The first of packet @k's copies that failed, or NULL. */
static const struct bk_gnt_copy *net_tx_failed_copy(const struct net_tx_batch *b, unsigned k)
{
	for (unsigned i = 0; i < b->pkt[k].nslots; i++)
		if (b->cp[b->first_cp[k] + i].status)
			return &b->cp[b->first_cp[k] + i];
	return NULL;
}

/* Send one packet whose copies all succeeded to the port; the status for
 * its responses. */
static int16_t net_tx_send(struct net_queue *q, struct net_tx_batch *b, unsigned k)
{
	const struct net_tx_pkt *p = &b->pkt[k];
	uint8_t *frame = q->tx_buf + b->off[k];
	struct virtio_net_hdr h = {0};
	size_t total = p->slot[0].size;
	struct iovec iov[2];

	if (p->slot[0].flags & NETTXF_csum_blank) {
		if (net_csum_setup(frame, total, &h))
			return NETIF_RSP_ERROR;
	} else if (p->slot[0].flags & NETTXF_data_validated) {
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if (p->has_gso) {
		if (p->gso.u.gso.size == 0 || !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return NETIF_RSP_ERROR;
		if (p->gso.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4)
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		else if (p->gso.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6)
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
		else
			return NETIF_RSP_ERROR;
		h.gso_size = p->gso.u.gso.size;
	}
	iov[0] = (struct iovec){&h, sizeof(h)};
	iov[1] = (struct iovec){frame, total};
	/* A full port queue drops the frame, as a full qdisc would. */
	if (writev(q->port_fd, iov, 2) < 0)
		return errno == EAGAIN || errno == ENOBUFS ? NETIF_RSP_DROPPED : NETIF_RSP_ERROR;
	q->stats.tx_packets++;
	q->stats.tx_bytes += total;
	return NETIF_RSP_OKAY;
}

/* Copy the batch's pieces in one go, send and answer its packets in order;
 * returns whether the frontend must be notified. */
static bool net_tx_flush(struct net_queue *q, struct net_tx_batch *b)
{
	bool notify = false;

	if (b->ncp)
		bk_gnt_copy(q->tp, b->cp, b->ncp); /* statuses per piece */
	for (unsigned k = 0; k < b->n; k++) {
		int16_t st = b->st[k];
		const struct bk_gnt_copy *bad = NULL;

		if (st == NETIF_RSP_OKAY) {
			bad = net_tx_failed_copy(b, k);
			st = bad ? NETIF_RSP_ERROR : net_tx_send(q, b, k);
		}
		if (st != NETIF_RSP_OKAY)
			q->stats.tx_errors++;
		if (bad)
			net_queue_grant_error(q, true, bad);
		net_tx_respond_pkt(q, &b->pkt[k], st);
		notify |= netif_tx_back_push_check_notify(&q->tx);
	}
	b->n = b->ncp = 0;
	b->used = 0;
	return notify;
}

/* Linux netback's tx_add_credit: one more window's worth, bounded by a burst. */
static void net_tx_add_credit(struct net_queue *q, uint64_t now_us)
{
	uint64_t burst = q->credit_bytes > NET_MAX_BURST ? q->credit_bytes : NET_MAX_BURST;
	uint64_t credit = q->remaining_credit + q->credit_bytes;

	q->remaining_credit = credit < burst ? credit : burst;
	q->credit_window_start = now_us;
}

/* May a packet of @size go now?  If not, credit_wait is set. */
static bool net_tx_credit_ok(struct net_queue *q, uint64_t size, uint64_t now_us)
{
	if (!q->credit_bytes)
		return true;
	if (size <= q->remaining_credit)
		goto take;
	if (now_us >= q->credit_window_start + q->credit_usec) {
		net_tx_add_credit(q, now_us);
		if (size <= q->remaining_credit || q->remaining_credit >= NET_MAX_BURST)
			goto take;
	}
	q->credit_wait = true;
	q->stats.tx_credit_waits++;
	return false;
take:
	q->remaining_credit -= size < q->remaining_credit ? size : q->remaining_credit;
	return true;
}

uint64_t net_tx_credit_wait_us(const struct net_queue *q, uint64_t now_us)
{
	uint64_t next = q->credit_window_start + q->credit_usec;

	return next > now_us ? next - now_us : 0;
}

bool net_tx_process(struct net_queue *q, uint64_t now_us)
{
	struct net_tx_batch *b = q->tx_batch;
	bool notify = false;

	b->n = b->ncp = 0;
	b->used = 0;
	q->credit_wait = false;
	for (;;) {
		ring_idx_t rp = ring_load(&q->tx.sring->req_prod);
		bool incomplete = false;

		ring_rmb();
		if (netif_tx_back_prod_overflow(&q->tx, rp)) {
			net_queue_fatal(q, "runaway tx producer");
			return notify;
		}
		while (q->tx.req_cons != rp) {
			struct net_tx_pkt p;
			int n = net_tx_gather(q, rp, &p);

			if (n < 0) {
				net_queue_fatal(q, "malformed tx packet");
				return notify;
			}
			if (n == 0) {
				incomplete = true;
				break;
			}
			if (!net_tx_credit_ok(q, p.slot[0].size, now_us))
				return notify | net_tx_flush(q, b);
			if (!net_tx_batch_fits(b, p.nslots, p.slot[0].size))
				notify |= net_tx_flush(q, b);
			q->tx.req_cons += (ring_idx_t)n;
			b->pkt[b->n] = p;
			b->st[b->n] = net_tx_prepare(q, b, &b->pkt[b->n]);
			if (__atomic_load_n(&q->broken, __ATOMIC_ACQUIRE))
				return notify;
			b->n++;
		}
		notify |= net_tx_flush(q, b);
		if (incomplete) {
			/* Wake us when the rest of the packet is published. */
			ring_store(&q->tx.sring->req_event, rp + 1);
			ring_mb();
			if (ring_load(&q->tx.sring->req_prod) == rp)
				return notify;
			continue;
		}
		if (!netif_tx_back_final_check(&q->tx))
			return notify;
	}
}
