/*
 * netfront: the guest side of Xen's netif (see netfront.h) on the runtime's
 * core: xenbus.h for the store and the handshake, gnttab.h for grants,
 * page.h for ring and buffer pages, evtchn.h for the (masked, polled) event
 * channel.  Everything the backend writes into shared pages is copied out
 * once and checked before use: a response's id must name a buffer we gave,
 * its status and offset must fit the page.
 */
#include "netfront.h"

#include "../runtime/evtchn.h"
#include "../runtime/gnttab.h"
#include "../runtime/keel_guest.h"
#include "../runtime/page.h"
#include "../runtime/xenbus.h"

#define NF_MS 1000000ull /* ns per ms */

static int nf_page(struct nf_buf *b, uint16_t domid, int readonly)
{
	int ref;

	b->va = rt_page_alloc();
	if (!b->va)
		return -XEN_ENOMEM;
	b->frame = rt_virt_to_mfn(b->va);
	ref = gnt_grant(domid, b->frame, readonly);
	if (ref < 0) {
		rt_page_free(b->va);
		b->va = 0;
		return ref;
	}
	b->gref = (grant_ref_t)ref;
	return 0;
}

/* Revoke and free; a page the backend still holds is leaked, never reused. */
static void nf_page_release(struct nf_buf *b)
{
	if (!b->va)
		return;
	if (gnt_end(b->gref) == 0)
		rt_page_free(b->va);
	b->va = 0;
}

static int nf_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[3 * i + k];

			if (c >= '0' && c <= '9')
				v = v * 16 + (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v = v * 16 + (unsigned)(c - 'A' + 10);
			else
				return -XEN_EINVAL;
		}
		if (s[3 * i + 2] != (i < 5 ? ':' : '\0'))
			return -XEN_EINVAL;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

static int nf_key(struct netfront *nf, const char *key, const char *fmt, unsigned v)
{
	char path[128];

	rt_snprintf(path, sizeof(path), "%s/%s", nf->fe_path, key);
	return xb_printf(path, fmt, v);
}

/* A backend feature flag (absent = 0). */
static int nf_be_feature(struct netfront *nf, const char *key)
{
	char path[192];
	uint64_t v = 0;

	rt_snprintf(path, sizeof(path), "%s/%s", nf->be_path, key);
	return xb_read_u64(path, &v) == 0 && v == 1;
}

static void nf_post_rx(struct netfront *nf, uint16_t id)
{
	struct netif_rx_request *r = netif_rx_front_request(&nf->rx, nf->rx.req_prod_pvt++);

	r->id = id;
	r->gref = nf->rxb[id].gref;
	nf->rx_busy[id] = 1;
}

static void nf_push_rx(struct netfront *nf)
{
	if (netif_rx_front_push_check_notify(&nf->rx))
		rt_evtchn_notify(nf->evtchn);
}

static int nf_setup(struct netfront *nf)
{
	int err;

	if ((err = nf_page(&nf->tx_ring_page, nf->be_domid, 0)) ||
	    (err = nf_page(&nf->rx_ring_page, nf->be_domid, 0)))
		return err;
	netif_tx_sring_init((struct netif_tx_sring *)nf->tx_ring_page.va);
	netif_rx_sring_init((struct netif_rx_sring *)nf->rx_ring_page.va);
	netif_tx_front_init(&nf->tx, (struct netif_tx_sring *)nf->tx_ring_page.va, NF_PAGE_SIZE);
	netif_rx_front_init(&nf->rx, (struct netif_rx_sring *)nf->rx_ring_page.va, NF_PAGE_SIZE);
	for (unsigned i = 0; i < NF_TX_BUFS; i++) {
		if ((err = nf_page(&nf->txb[i], nf->be_domid, 1)))
			return err;
		nf->tx_free[nf->tx_nfree++] = (uint16_t)i;
	}
	for (unsigned i = 0; i < NF_RX_BUFS; i++)
		if ((err = nf_page(&nf->rxb[i], nf->be_domid, 0)))
			return err;
	return rt_evtchn_alloc_unbound(nf->be_domid, &nf->evtchn);
}

static int nf_publish(struct netfront *nf)
{
	static const struct {
		const char *key;
		unsigned value;
	} flags[] = {
		{"request-rx-copy", 1},	  {"feature-rx-notify", 1}, {"feature-sg", 1},
		{"feature-gso-tcpv4", 0}, {"feature-gso-tcpv6", 0},
	};
	int err;

	if ((err = nf_key(nf, "tx-ring-ref", "%u", nf->tx_ring_page.gref)) ||
	    (err = nf_key(nf, "rx-ring-ref", "%u", nf->rx_ring_page.gref)) ||
	    (err = nf_key(nf, "event-channel", "%u", nf->evtchn)))
		return err;
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if ((err = nf_key(nf, flags[i].key, "%u", flags[i].value)))
			return err;
	return nf_key(nf, "feature-no-csum-offload", "%u", nf->csum_offload ? 0 : 1);
}

int netfront_init(struct netfront *nf, unsigned devid, unsigned timeout_ms)
{
	return netfront_init_opts(nf, devid, timeout_ms, 0);
}

int netfront_init_opts(struct netfront *nf, unsigned devid, unsigned timeout_ms, unsigned opts)
{
	char mac[32];
	unsigned be_id;
	int err, st;

	rt_memset(nf, 0, sizeof(*nf));
	nf->devid = devid;
	nf->csum_offload = !!(opts & NF_OPT_CSUM_OFFLOAD);
	if ((err = xb_init()) < 0 || (err = gnt_init()) < 0)
		return err;
	rt_snprintf(nf->fe_path, sizeof(nf->fe_path), "device/vif/%u", devid);
	if ((err = xb_read_backend(nf->fe_path, nf->be_path, sizeof(nf->be_path), &be_id)) < 0)
		return err;
	if (be_id > 0x7fef)
		return -XEN_EINVAL;
	nf->be_domid = (uint16_t)be_id;
	rt_snprintf(mac, sizeof(mac), "%s/mac", nf->fe_path);
	if ((err = xb_read(mac, mac, sizeof(mac))) < 0)
		return err;
	if ((err = nf_parse_mac(mac, nf->mac)))
		return err;
	xb_switch_state(nf->fe_path, XenbusStateInitialising);
	st = xb_wait_state(nf->be_path, 1u << XenbusStateInitWait, timeout_ms * NF_MS);
	if (st < 0)
		return st;
	nf->backend_sg = nf_be_feature(nf, "feature-sg");
	if (!nf_be_feature(nf, "feature-rx-copy"))
		return -XEN_EOPNOTSUPP;
	if ((err = nf_setup(nf)) || (err = nf_publish(nf)))
		return err;
	for (unsigned i = 0; i < NF_RX_BUFS; i++)
		nf_post_rx(nf, (uint16_t)i);
	netif_rx_front_push(&nf->rx);
	if ((err = xb_switch_state(nf->fe_path, XenbusStateConnected)) < 0)
		return err;
	st = xb_wait_state(nf->be_path,
			   1u << XenbusStateConnected | 1u << XenbusStateClosing |
				   1u << XenbusStateClosed,
			   timeout_ms * NF_MS);
	if (st < 0)
		return st;
	if (st != XenbusStateConnected)
		return -XEN_ENODEV;
	nf->connected = 1;
	return 0;
}

void netfront_notify(struct netfront *nf)
{
	rt_evtchn_notify(nf->evtchn);
}

void netfront_wait(struct netfront *nf, unsigned timeout_ms)
{
	nf->stats.waits++;
	rt_evtchn_wait(&nf->evtchn, 1, (uint64_t)timeout_ms * NF_MS);
}

unsigned netfront_tx_reap(struct netfront *nf)
{
	unsigned done = 0;
	uint32_t prod = ring_load(&nf->tx.sring->rsp_prod);

	ring_rmb();
	if (netif_tx_front_prod_overflow(&nf->tx, prod))
		return 0; /* a backend gone mad: take nothing from it */
	while (nf->tx.rsp_cons != prod) {
		struct netif_tx_response r;

		netif_tx_front_copy_response(&nf->tx, nf->tx.rsp_cons++, &r);
		if (r.status == NETIF_RSP_NULL)
			continue;
		if (r.id >= NF_TX_BUFS || !nf->tx_busy[r.id]) {
			nf->stats.tx_errors++; /* not a slot we gave: never free a page twice */
			continue;
		}
		nf->tx_busy[r.id] = 0;
		nf->tx_free[nf->tx_nfree++] = r.id;
		if (r.status != NETIF_RSP_OKAY)
			nf->stats.tx_errors++;
		done++;
	}
	return done;
}

void netfront_push(struct netfront *nf)
{
	if (netif_tx_front_push_check_notify(&nf->tx))
		rt_evtchn_notify(nf->evtchn);
}

int netfront_send(struct netfront *nf, const void *frame, unsigned len)
{
	int err = netfront_queue(nf, frame, len);

	if (!err)
		netfront_push(nf);
	return err;
}

int netfront_queue(struct netfront *nf, const void *frame, unsigned len)
{
	return netfront_queue_flags(nf, frame, len, 0);
}

int netfront_queue_flags(struct netfront *nf, const void *frame, unsigned len, uint16_t txflags)
{
	const uint8_t *src = frame;
	unsigned slots = (len + NF_PAGE_SIZE - 1) / NF_PAGE_SIZE, off = 0;
	uint64_t end = rt_now_ns() + 1000 * NF_MS;

	if (len < 14 || len > NF_MAX_FRAME || (slots > 1 && !nf->backend_sg) ||
	    slots > XEN_NETIF_NR_SLOTS_MIN)
		return -XEN_E2BIG;
	if (txflags & ~(NETTXF_csum_blank | NETTXF_data_validated))
		return -XEN_EINVAL;
	for (;;) {
		netfront_tx_reap(nf);
		if (nf->tx_nfree >= slots && netif_tx_front_free_requests(&nf->tx) >= slots)
			break;
		if (rt_now_ns() > end)
			return -XEN_ETIME;
		netfront_push(nf); /* what is queued must go before we wait for room */
		if (!netif_tx_front_final_check(&nf->tx))
			netfront_wait(nf, 10);
	}
	for (unsigned i = 0; i < slots; i++) {
		uint16_t id = nf->tx_free[--nf->tx_nfree];

		nf->tx_busy[id] = 1;
		struct netif_tx_request *r = netif_tx_front_request(&nf->tx, nf->tx.req_prod_pvt++);
		unsigned chunk = len - off > NF_PAGE_SIZE ? NF_PAGE_SIZE : len - off;

		rt_memcpy(nf->txb[id].va, src + off, chunk);
		r->gref = nf->txb[id].gref;
		r->offset = 0;
		r->id = id;
		r->size = (uint16_t)(i ? chunk : len);
		r->flags = (i + 1 < slots ? NETTXF_more_data : 0) | (i ? 0 : txflags);
		off += chunk;
	}
	nf->stats.tx_packets++;
	nf->stats.tx_bytes += len;
	return 0;
}

int netfront_recv(struct netfront *nf, void *buf, unsigned max, unsigned timeout_ms)
{
	uint64_t end = rt_now_ns() + (uint64_t)timeout_ms * NF_MS;
	unsigned len = 0;
	int first = 1, err = 0;

	for (;;) {
		struct netif_rx_response r;
		uint32_t prod;

		if (!netif_rx_front_final_check(&nf->rx)) {
			if (rt_now_ns() >= end)
				return first ? -XEN_ETIME : -XEN_EIO;
			netfront_wait(nf, timeout_ms < 10 ? timeout_ms + 1 : 10);
			continue;
		}
		prod = ring_load(&nf->rx.sring->rsp_prod);
		if (netif_rx_front_prod_overflow(&nf->rx, prod))
			return -XEN_EIO;
		netif_rx_front_copy_response(&nf->rx, nf->rx.rsp_cons++, &r);
		if (r.id >= NF_RX_BUFS || !nf->rx_busy[r.id]) {
			nf->stats.rx_errors++;
			return -XEN_EIO; /* not a page we posted: nothing to re-post */
		}
		nf->rx_busy[r.id] = 0;
		if (r.status < 0 || r.offset + (unsigned)r.status > NF_PAGE_SIZE ||
		    (r.flags & NETRXF_extra_info) || len + (unsigned)r.status > max) {
			err = -XEN_EIO;
		} else if (!err) {
			rt_memcpy((uint8_t *)buf + len, nf->rxb[r.id].va + r.offset,
				  (unsigned)r.status);
			len += (unsigned)r.status;
		}
		if (first)
			nf->rx_flags = r.flags;
		first = 0;
		nf_post_rx(nf, r.id);
		nf_push_rx(nf);
		if (r.flags & NETRXF_more_data)
			continue;
		if (err) {
			nf->stats.rx_errors++;
			return err;
		}
		nf->stats.rx_packets++;
		nf->stats.rx_bytes += len;
		return (int)len;
	}
}

int netfront_backend_state(struct netfront *nf)
{
	return xb_read_state(nf->be_path);
}

void netfront_close(struct netfront *nf, unsigned timeout_ms)
{
	uint64_t end = rt_now_ns() + (uint64_t)timeout_ms * NF_MS;

	/* Frames already queued go out first: wait (bounded) for their responses. */
	while (nf->connected && nf->tx_nfree < NF_TX_BUFS && rt_now_ns() < end &&
	       netfront_backend_state(nf) == XenbusStateConnected) {
		netfront_push(nf);
		netfront_tx_reap(nf);
		if (nf->tx_nfree < NF_TX_BUFS && !netif_tx_front_final_check(&nf->tx))
			netfront_wait(nf, 10);
	}
	/* A backend directory the toolstack already removed reads as Unknown: gone = closed. */
	xb_switch_state(nf->fe_path, XenbusStateClosing);
	xb_wait_state(nf->be_path,
		      1u << XenbusStateClosing | 1u << XenbusStateClosed | 1u << XenbusStateUnknown,
		      timeout_ms * NF_MS);
	xb_switch_state(nf->fe_path, XenbusStateClosed);
	xb_wait_state(nf->be_path, 1u << XenbusStateClosed | 1u << XenbusStateUnknown,
		      timeout_ms * NF_MS);
	nf->connected = 0;
	if (nf->evtchn)
		rt_evtchn_close(nf->evtchn);
	nf->evtchn = 0;
	nf_page_release(&nf->tx_ring_page);
	nf_page_release(&nf->rx_ring_page);
	for (unsigned i = 0; i < NF_TX_BUFS; i++)
		nf_page_release(&nf->txb[i]);
	for (unsigned i = 0; i < NF_RX_BUFS; i++)
		nf_page_release(&nf->rxb[i]);
	nf->tx_nfree = 0;
}
