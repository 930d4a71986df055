/*
 * Keel's copy of Xen's network ring protocol (io/netif.h): the transmit and
 * receive requests and responses a netfront and a netback exchange on their
 * two shared rings, the "extra info" slots (GSO, multicast, hash) that may
 * follow a request, and the NETTXF_/NETRXF_ flag bits and status codes.
 * 256 slots of each ring fit in one page.
 */
#ifndef KEEL_ABI_NETIF_H
#define KEEL_ABI_NETIF_H

#include <stddef.h>
#include <stdint.h>

#include "abi/grant_table.h"
#include "abi/ring.h"

/* A packet may span at least this many tx slots; backends must accept it. */
#define XEN_NETIF_NR_SLOTS_MIN 18

#define XEN_NETIF_MAX_TX_SIZE 0xFFFF

/* Transmit request flags. */
#define _NETTXF_csum_blank     0
#define NETTXF_csum_blank      (1u << _NETTXF_csum_blank) /* checksum to be filled in */
#define _NETTXF_data_validated 1
#define NETTXF_data_validated  (1u << _NETTXF_data_validated) /* checksum verified */
#define _NETTXF_more_data      2
#define NETTXF_more_data       (1u << _NETTXF_more_data) /* packet continues in the next slot */
#define _NETTXF_extra_info     3
#define NETTXF_extra_info      (1u << _NETTXF_extra_info) /* a netif_extra_info slot follows */

/* Transmit request: one fragment; in the first, size is the whole packet's length. */
struct netif_tx_request {
	grant_ref_t gref;
	uint16_t offset;
	uint16_t flags; /* NETTXF_* */
	uint16_t id;	/* echoed in the response */
	uint16_t size;
};

/* Extra info slots. */
#define XEN_NETIF_EXTRA_TYPE_NONE      0
#define XEN_NETIF_EXTRA_TYPE_GSO       1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_TYPE_HASH      4
#define XEN_NETIF_EXTRA_TYPE_MAX       5

#define _XEN_NETIF_EXTRA_FLAG_MORE 0
#define XEN_NETIF_EXTRA_FLAG_MORE  (1u << _XEN_NETIF_EXTRA_FLAG_MORE)

#define XEN_NETIF_GSO_TYPE_NONE	 0
#define XEN_NETIF_GSO_TYPE_TCPV4 1
#define XEN_NETIF_GSO_TYPE_TCPV6 2

struct netif_extra_info {
	uint8_t type;  /* XEN_NETIF_EXTRA_TYPE_* */
	uint8_t flags; /* XEN_NETIF_EXTRA_FLAG_* */
	union {
		struct {
			uint16_t size; /* MSS */
			uint8_t type;  /* XEN_NETIF_GSO_TYPE_* */
			uint8_t pad;
			uint16_t features;
		} gso;
		struct {
			uint8_t addr[6];
		} mcast;
		struct {
			uint8_t type;
			uint8_t algorithm;
			uint8_t value[4];
		} hash;
		uint16_t pad[3];
	} u;
};

struct netif_tx_response {
	uint16_t id;
	int16_t status; /* NETIF_RSP_* */
};

struct netif_rx_request {
	uint16_t id;
	uint16_t pad;
	grant_ref_t gref; /* page the backend copies the packet into */
};

/* Receive response flags. */
#define _NETRXF_data_validated 0
#define NETRXF_data_validated  (1u << _NETRXF_data_validated)
#define _NETRXF_csum_blank     1
#define NETRXF_csum_blank      (1u << _NETRXF_csum_blank)
#define _NETRXF_more_data      2
#define NETRXF_more_data       (1u << _NETRXF_more_data)
#define _NETRXF_extra_info     3
#define NETRXF_extra_info      (1u << _NETRXF_extra_info)
#define _NETRXF_gso_prefix     4
#define NETRXF_gso_prefix      (1u << _NETRXF_gso_prefix)

struct netif_rx_response {
	uint16_t id;
	uint16_t offset;
	uint16_t flags; /* NETRXF_* */
	int16_t status; /* length (>= 0) or NETIF_RSP_* error */
};

#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR	  (-1)
#define NETIF_RSP_OKAY	  0
#define NETIF_RSP_NULL	  1 /* no response: used for extra-info slots */

/* cppcheck sees the generated one-line functions as one: false CTU reports */
// cppcheck-suppress [ctunullpointer, ctuuninitvar]
KEEL_RING_DEFINE(netif_tx, struct netif_tx_request, struct netif_tx_response);
// cppcheck-suppress [ctunullpointer, ctuuninitvar]
KEEL_RING_DEFINE(netif_rx, struct netif_rx_request, struct netif_rx_response);

#if defined(__x86_64__)
_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");
_Static_assert(offsetof(struct netif_tx_request, offset) == 4, "tx.offset");
_Static_assert(offsetof(struct netif_tx_request, flags) == 6, "tx.flags");
_Static_assert(offsetof(struct netif_tx_request, id) == 8, "tx.id");
_Static_assert(offsetof(struct netif_tx_request, size) == 10, "tx.size");
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info");
_Static_assert(offsetof(struct netif_extra_info, u) == 2, "extra.u");
_Static_assert(offsetof(struct netif_extra_info, u.gso.features) == 6, "extra.gso.features");
_Static_assert(sizeof(struct netif_extra_info) <= sizeof(struct netif_tx_request), "extra");
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request");
_Static_assert(offsetof(struct netif_rx_request, gref) == 4, "rx.gref");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response");
_Static_assert(offsetof(struct netif_rx_response, status) == 6, "rx.status");
#endif

#endif
