/*
 * netback: Keel's network backend, serving Xen's netif protocol.  A vif's
 * host side is a "port": a file descriptor that carries whole Ethernet
 * frames, each preceded by a struct virtio_net_hdr (checksum and GSO
 * metadata).  The real port is a TAP device vif<dom>.<id> opened with
 * IFF_TAP|IFF_NO_PI|IFF_VNET_HDR and enslaved to a Linux bridge (net_port.c,
 * ioctls only); unit tests use one end of a SOCK_SEQPACKET pair instead.
 * net_tx.c moves frontend frames (scatter-gather slots, checksum and GSO
 * extra info, credit-based rate limiting as Linux netback does) to the
 * port; net_rx.c copies frames from the port into the frontend's posted rx
 * pages.  net_vif.c ties one connected vif together with its thread;
 * net_xenbus.c is the "vif" xenbus driver.
 */
#ifndef KEEL_NETBACK_H
#define KEEL_NETBACK_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/netif.h"
#include "../common/bk_transport.h"

#define NET_MAX_FRAME	(XEN_NETIF_MAX_TX_SIZE + 1) /* largest frame + 1 */
#define NET_ETH_HLEN	14
#define NET_SLOTS_MAX	XEN_NETIF_NR_SLOTS_MIN /* slots per packet we accept */
#define NET_SLOTS_FATAL 20		       /* more than this: hostile, disconnect */
/* tx packets copied per grant-copy batch (net_tx.c): packets, pieces, bytes */
#define NET_TX_BATCH	 32
#define NET_TX_BATCH_OPS 128
#define NET_TX_BUF	 (4 * NET_MAX_FRAME)
/* rx: frames read from the port for one grant-copy batch (net_rx.c) */
#define NET_RX_BUF    (4 * (sizeof(struct virtio_net_hdr) + NET_MAX_FRAME))
#define NET_MAX_BURST 131072ul /* credit may accumulate up to this */

/* ---- ports: TAP devices and bridges (net_port.c) ---- */

/* Open TAP @name (IFF_VNET_HDR), host-side MAC fe:ff:ff:ff:ff:ff, @mtu, up. */
int net_tap_open(const char *name, unsigned mtu, bool up, int *fd);
/* Enable checksum offload from the kernel (only if the frontend accepts csum_blank). */
int net_tap_set_offload(int fd, bool csum);
/* Create bridge @br if missing and bring it up (what keel-dom0-up does). */
int net_bridge_create(const char *br);
int net_bridge_add(const char *br, const char *ifname);
int net_bridge_del_if(const char *br, const char *ifname);

/* ---- a connected vif (net_vif.c) ---- */

struct net_vif_params {
	const struct bk_transport *tp;
	uint16_t domid;
	uint32_t devid; /* the vif's number, for messages (vif<domid>.<devid>) */
	grant_ref_t tx_ring_ref, rx_ring_ref;
	uint32_t evtchn_tx, evtchn_rx; /* equal unless split event channels */
	int port_fd;		       /* borrowed; frames with a virtio_net_hdr */
	bool frontend_sg;	       /* feature-sg: multi-slot rx packets allowed */
	bool frontend_csum;	       /* not feature-no-csum-offload */
	uint64_t credit_bytes;	       /* 0: unlimited */
	uint64_t credit_usec;
	void (*on_fatal)(void *arg);
	void *fatal_arg;
};

/*
 * A vif's counters, named from the frontend's side as netif's rings are (tx:
 * guest -> port).  tx_errors counts every tx packet answered with an error,
 * rx_dropped every frame the frontend did not get; *_grant_errors the part
 * of those a failed grant copy caused (a bad, revoked or foreign grant), the
 * drops Linux's netback reports as "Bad grant reference" / rx errors.
 */
struct net_stats {
	uint64_t tx_packets, tx_bytes, tx_errors, tx_credit_waits, tx_grant_errors;
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_grant_errors;
};

struct net_vif;
struct net_tx_batch;
/* The tx batch state (net_tx.c), allocated with the queue. */
struct net_tx_batch *net_tx_batch_alloc(void);
struct net_rx_batch;
struct net_rx_batch *net_rx_batch_alloc(void);

int net_vif_connect(const struct net_vif_params *p, struct net_vif **out);
void net_vif_disconnect(struct net_vif *vif);
bool net_vif_broken(struct net_vif *vif);
/* Log the vif's ring indices and counters (SIGUSR1). */
void net_vif_dump(struct net_vif *vif);
void net_vif_stats(struct net_vif *vif, struct net_stats *out);

/* The state net_tx.c and net_rx.c share (one thread per vif: no locks). */
struct net_queue {
	const struct bk_transport *tp;
	uint16_t domid;
	uint32_t devid;
	int port_fd;
	bool frontend_sg, frontend_csum;
	struct netif_tx_back_ring tx;
	struct netif_rx_back_ring rx;
	void *tx_ring, *rx_ring;
	/* credit scheduling */
	uint64_t credit_bytes, credit_usec, remaining_credit, credit_window_start;
	bool credit_wait;
	/* one frame read from the port waiting for rx slots */
	uint8_t *rx_buf;	       /* NET_RX_BUF bytes: a batch of frames */
	size_t rx_len;		       /* 0: none pending */
	size_t rx_off;		       /* where the pending frame is in rx_buf */
	struct net_rx_batch *rx_batch; /* net_rx.c's */
	uint8_t *tx_buf;	       /* NET_TX_BUF bytes: a batch of tx packets */
	struct net_tx_batch *tx_batch; /* net_tx.c's */
	int broken;
	struct net_stats stats;
	uint64_t grant_log_us[2]; /* when a tx [1] / rx [0] grant failure was last logged */
	void (*on_fatal)(void *arg);
	void *fatal_arg;
};

/* Serve tx requests; returns whether the frontend must be notified. */
bool net_tx_process(struct net_queue *q, uint64_t now_us);
/* Microseconds until the credit window reopens (when credit_wait). */
uint64_t net_tx_credit_wait_us(const struct net_queue *q, uint64_t now_us);
/* Move frames from the port to posted rx pages; returns whether to notify. */
bool net_rx_process(struct net_queue *q);
void net_queue_fatal(struct net_queue *q, const char *why);
/* Count a frame lost to a failed grant copy (@tx: guest -> port) and log it,
 * at most once per NET_GRANT_LOG_US per vif, with Xen's GNTST_* name. */
void net_queue_grant_error(struct net_queue *q, bool tx, const struct bk_gnt_copy *cp);
#define NET_GRANT_LOG_US 10000000u
/* "vif<domid>.<devid>: tx N packets, E errors (G bad grants); rx ..." */
void net_stats_format(const struct net_queue *q, char *buf, size_t len);
uint64_t net_now_us(void);

/* ---- the xenbus "vif" driver (net_xenbus.c) ---- */
struct xb_driver;
extern const struct xb_driver net_xenbus_driver;
/* Bridge to use when the backend node names none (xl's default). */
#define NET_DEFAULT_BRIDGE "xenbr0"

#endif
