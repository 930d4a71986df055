/*
 * netfront: Xen's netif frontend for Keel's guest runtime.  One queue, a tx
 * ring and an rx ring of one page each, one event channel shared by both
 * (the backend's feature-split-event-channels is not needed), rx by copy
 * (request-rx-copy=1), no checksum offload unless asked for
 * (feature-no-csum-offload=1: every frame carries a full checksum both
 * ways; see netfront_init_opts), feature-sg for frames larger
 * than a page.  Frames are copied into tx pages granted read-only to the
 * backend once, at connect; rx pages are granted writable and re-posted as
 * soon as their data is copied out.  The XenbusState handshake follows
 * Linux's netfront: wait for the backend's InitWait, publish the rings and
 * the event channel in one transaction, Connected, wait for the backend's
 * Connected.  Closing answers the backend's Closing.
 *
 * The rings and the buffer tables are public so the hostile test guest can
 * misuse them on purpose (tests/guests/net/net-hostile.c).
 */
#ifndef KEEL_NETFRONT_H
#define KEEL_NETFRONT_H

#include <stdint.h>

#include "abi/grant_table.h"
#include "abi/netif.h"

#define NF_PAGE_SIZE 4096u
#define NF_TX_BUFS   64u /* tx pages: at most this many slots in flight */
#define NF_RX_BUFS   64u /* rx pages posted to the backend */
#define NF_MAX_FRAME 65535u

struct nf_buf {
	uint8_t *va;
	uint64_t frame; /* the frame number put in the grant entry */
	grant_ref_t gref;
};

struct netfront_stats {
	uint64_t tx_packets, tx_bytes, tx_errors, rx_packets, rx_bytes, rx_errors, waits;
};

struct netfront {
	unsigned devid;
	uint16_t be_domid;
	char fe_path[64], be_path[128];
	uint8_t mac[6];
	int backend_sg;
	struct netif_tx_front_ring tx;
	struct netif_rx_front_ring rx;
	struct nf_buf tx_ring_page, rx_ring_page;
	uint32_t evtchn;
	struct nf_buf txb[NF_TX_BUFS], rxb[NF_RX_BUFS];
	uint16_t tx_free[NF_TX_BUFS]; /* stack of free tx buffer ids */
	unsigned tx_nfree;
	/* ids the backend holds: a response for any other id is ignored */
	uint8_t tx_busy[NF_TX_BUFS], rx_busy[NF_RX_BUFS];
	int connected;
	int csum_offload;  /* NF_OPT_CSUM_OFFLOAD: partial checksums both ways */
	uint16_t rx_flags; /* NETRXF_* of the last frame received */
	struct netfront_stats stats;
};

/*
 * Bring vif @devid up: read device/vif/<devid>/{backend,backend-id,mac},
 * allocate and grant the rings and buffers, the handshake to Connected
 * (waits at most @timeout_ms for each backend state).  0 or a negative Xen
 * errno.
 */
int netfront_init(struct netfront *nf, unsigned devid, unsigned timeout_ms);
/*
 * The same with options: NF_OPT_CSUM_OFFLOAD leaves out
 * feature-no-csum-offload, so frames may be sent with NETTXF_csum_blank (the
 * L4 checksum field holding only the pseudo-header sum, the backend's side
 * completes it) and may arrive with NETRXF_csum_blank (rx_flags says so).
 */
#define NF_OPT_CSUM_OFFLOAD 1u
int netfront_init_opts(struct netfront *nf, unsigned devid, unsigned timeout_ms, unsigned opts);
/*
 * Send one Ethernet frame (14..65535 bytes): copied into tx pages, one slot
 * per page (several only if the backend offers feature-sg).  Waits for tx
 * slots when the ring is full.  0 or a negative Xen errno (-XEN_E2BIG: too
 * long or too many slots without feature-sg; -XEN_ETIME: no slots freed); a tx response with an
 * error counts in stats.tx_errors.
 */
int netfront_send(struct netfront *nf, const void *frame, unsigned len);
/*
 * The same without publishing it: frames queued this way go to the backend
 * (one notification for all) at the next netfront_push or netfront_send, or
 * when netfront_queue itself must wait for tx slots.
 */
int netfront_queue(struct netfront *nf, const void *frame, unsigned len);
/* With NETTXF_csum_blank / NETTXF_data_validated on the packet. */
int netfront_queue_flags(struct netfront *nf, const void *frame, unsigned len, uint16_t txflags);
void netfront_push(struct netfront *nf);
/*
 * Receive one frame into @buf (at most @max bytes), waiting at most
 * @timeout_ms.  Returns its length, -XEN_ETIME, or -XEN_EIO for a response
 * that makes no sense (bad id, status, offset or a frame longer than @max).
 */
int netfront_recv(struct netfront *nf, void *buf, unsigned max, unsigned timeout_ms);
/* Reap tx responses (free their slots); returns how many packets completed. */
unsigned netfront_tx_reap(struct netfront *nf);
/* Kick the backend. */
void netfront_notify(struct netfront *nf);
/* Wait for an event on the vif's channel, at most @timeout_ms. */
void netfront_wait(struct netfront *nf, unsigned timeout_ms);
/* The backend's XenbusState (negative errno if it cannot be read). */
int netfront_backend_state(struct netfront *nf);
/*
 * Wait (bounded) for the responses to frames already sent, Closing, wait
 * for the backend to close (bounded), Closed; the rings, the
 * buffers' grants and the event channel are released.
 */
void netfront_close(struct netfront *nf, unsigned timeout_ms);

#endif
