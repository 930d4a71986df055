/*
 * A TEST netfront over the LOOPBACK TEST TRANSPORT (bk_loop.h): the guest
 * side of netif, played by a thread of the test process.  It owns a tx and
 * an rx ring and a pool of granted pages, sends frames split over slots
 * (optionally at page offsets, with extra-info slots), posts rx pages and
 * reassembles received frames.  Tests reach its rings directly to
 * misbehave.  Never used by the daemons.
 */
#ifndef KEEL_NETFRONT_LOOP_H
#define KEEL_NETFRONT_LOOP_H

#include "../common/bk_loop.h"
#include "netback.h"

#define NF_BUFS 256

struct nf_page {
	uint32_t gfn;
	grant_ref_t gref;
	uint8_t *data;
};

struct netfront_loop {
	struct bk_loop *loop;
	uint16_t domid, be_domid;
	struct netif_tx_front_ring tx;
	struct netif_rx_front_ring rx;
	grant_ref_t tx_ref, rx_ref;
	uint32_t port;
	struct nf_page txb[NF_BUFS], rxb[NF_BUFS];
	unsigned tx_next;
};

int netfront_loop_init(struct netfront_loop *nf, struct bk_loop *loop, uint16_t domid,
		       uint16_t be_domid);
void netfront_loop_params(const struct netfront_loop *nf, struct net_vif_params *p);
/* Post @n rx pages (ids = page indexes, round robin). */
int netfront_loop_post_rx(struct netfront_loop *nf, unsigned n);
/*
 * Queue one frame: slots of at most @slot_max bytes, the first at page
 * offset @offset; @first_flags on the first slot (NETTXF_csum_blank...),
 * @gso (may be NULL) as an extra-info slot.  Publishes and notifies.
 */
int netfront_loop_send(struct netfront_loop *nf, const void *frame, size_t len, unsigned slot_max,
		       unsigned offset, uint16_t first_flags, const struct netif_extra_info *gso);
/* Next tx response (waiting up to @timeout_ms). */
int netfront_loop_tx_response(struct netfront_loop *nf, struct netif_tx_response *rsp,
			      int timeout_ms);
/* Next received frame into @buf; returns its length, -ETIMEDOUT, or -EPROTO. */
int netfront_loop_recv(struct netfront_loop *nf, void *buf, size_t max, uint16_t *flags,
		       int timeout_ms);

#endif
