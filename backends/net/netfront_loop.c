/*
 * The TEST netfront over the LOOPBACK TEST TRANSPORT (see netfront_loop.h).
 * One shared event channel for both rings, as a netfront without
 * feature-split-event-channels uses.
 */
#include <errno.h>
#include <string.h>

#include "netfront_loop.h"

static int nf_page(struct netfront_loop *nf, struct nf_page *pg)
{
	int err = bk_loop_alloc_page(nf->loop, nf->domid, &pg->gfn);

	if (err)
		return err;
	pg->data = bk_loop_page(nf->loop, nf->domid, pg->gfn);
	return bk_loop_grant(nf->loop, nf->domid, pg->gfn, nf->be_domid, false, &pg->gref);
}

int netfront_loop_init(struct netfront_loop *nf, struct bk_loop *loop, uint16_t domid,
		       uint16_t be_domid)
{
	struct nf_page txr, rxr;
	int err;

	memset(nf, 0, sizeof(*nf));
	nf->loop = loop;
	nf->domid = domid;
	nf->be_domid = be_domid;
	if ((err = nf_page(nf, &txr)) || (err = nf_page(nf, &rxr)))
		return err;
	nf->tx_ref = txr.gref;
	nf->rx_ref = rxr.gref;
	netif_tx_sring_init((struct netif_tx_sring *)txr.data);
	netif_rx_sring_init((struct netif_rx_sring *)rxr.data);
	netif_tx_front_init(&nf->tx, (struct netif_tx_sring *)txr.data, BK_PAGE_SIZE);
	netif_rx_front_init(&nf->rx, (struct netif_rx_sring *)rxr.data, BK_PAGE_SIZE);
	for (unsigned i = 0; i < NF_BUFS; i++)
		if ((err = nf_page(nf, &nf->txb[i])) || (err = nf_page(nf, &nf->rxb[i])))
			return err;
	return bk_loop_evtchn_alloc(loop, domid, &nf->port);
}

void netfront_loop_params(const struct netfront_loop *nf, struct net_vif_params *p)
{
	p->domid = nf->domid;
	p->tx_ring_ref = nf->tx_ref;
	p->rx_ring_ref = nf->rx_ref;
	p->evtchn_tx = p->evtchn_rx = nf->port;
}

int netfront_loop_post_rx(struct netfront_loop *nf, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ring_idx_t idx = nf->rx.req_prod_pvt;
		struct netif_rx_request *r;

		if (netif_rx_front_full(&nf->rx))
			break;
		r = netif_rx_front_request(&nf->rx, idx);
		r->id = (uint16_t)(idx % NF_BUFS);
		r->gref = nf->rxb[idx % NF_BUFS].gref;
		nf->rx.req_prod_pvt++;
	}
	if (netif_rx_front_push_check_notify(&nf->rx))
		return bk_loop_evtchn_front_notify(nf->loop, nf->domid, nf->port);
	return 0;
}

int netfront_loop_send(struct netfront_loop *nf, const void *frame, size_t len, unsigned slot_max,
		       unsigned offset, uint16_t first_flags, const struct netif_extra_info *gso)
{
	const uint8_t *src = frame;
	size_t off = 0;
	bool first = true;

	if (!slot_max || offset >= BK_PAGE_SIZE || len > 0xffff)
		return -EINVAL;
	do {
		struct nf_page *pg = &nf->txb[nf->tx_next % NF_BUFS];
		size_t room = BK_PAGE_SIZE - (first ? offset : 0);
		size_t chunk = len - off < slot_max ? len - off : slot_max;
		struct netif_tx_request *r;

		if (chunk > room)
			chunk = room;
		if (netif_tx_front_full(&nf->tx))
			return -EBUSY;
		r = netif_tx_front_request(&nf->tx, nf->tx.req_prod_pvt++);
		memcpy(pg->data + (first ? offset : 0), src + off, chunk);
		r->gref = pg->gref;
		r->offset = (uint16_t)(first ? offset : 0);
		r->id = (uint16_t)(nf->tx_next++ % NF_BUFS);
		r->size = (uint16_t)(first ? len : chunk);
		r->flags = first ? first_flags : 0;
		off += chunk;
		if (off < len)
			r->flags |= NETTXF_more_data;
		if (first && gso) {
			struct netif_extra_info *e;

			r->flags |= NETTXF_extra_info;
			e = (struct netif_extra_info *)netif_tx_front_request(
				&nf->tx, nf->tx.req_prod_pvt++);
			*e = *gso;
		}
		first = false;
	} while (off < len);
	if (netif_tx_front_push_check_notify(&nf->tx))
		return bk_loop_evtchn_front_notify(nf->loop, nf->domid, nf->port);
	return 0;
}

int netfront_loop_tx_response(struct netfront_loop *nf, struct netif_tx_response *rsp,
			      int timeout_ms)
{
	for (;;) {
		int err;

		if (netif_tx_front_final_check(&nf->tx)) {
			netif_tx_front_copy_response(&nf->tx, nf->tx.rsp_cons++, rsp);
			return 0;
		}
		err = bk_loop_evtchn_front_wait(nf->loop, nf->domid, nf->port, timeout_ms);
		if (err)
			return err;
	}
}

int netfront_loop_recv(struct netfront_loop *nf, void *buf, size_t max, uint16_t *flags,
		       int timeout_ms)
{
	size_t len = 0;
	bool first = true;

	for (;;) {
		struct netif_rx_response r;
		int err;

		if (!netif_rx_front_final_check(&nf->rx)) {
			err = bk_loop_evtchn_front_wait(nf->loop, nf->domid, nf->port, timeout_ms);
			if (err)
				return err;
			continue;
		}
		netif_rx_front_copy_response(&nf->rx, nf->rx.rsp_cons++, &r);
		if (r.status < 0 || r.id >= NF_BUFS || r.offset + r.status > (int)BK_PAGE_SIZE ||
		    len + (size_t)r.status > max)
			return -EPROTO;
		memcpy((uint8_t *)buf + len, nf->rxb[r.id].data + r.offset, (size_t)r.status);
		len += (size_t)r.status;
		if (first && flags)
			*flags = r.flags;
		first = false;
		netfront_loop_post_rx(nf, 1);
		if (!(r.flags & NETRXF_more_data))
			return (int)len;
	}
}
