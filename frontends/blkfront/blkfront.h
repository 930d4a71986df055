/*
 * blkfront for Keel's guest runtime: Xen's blkif frontend (64-bit ring).
 * blkfront_open runs the XenbusState handshake for device/vbd/<devid>:
 * reads the backend's features and geometry, grants a ring (ring-page-order
 * when offered), allocates an event channel for the backend's domain,
 * writes ring-ref(s), event-channel (per queue-N/ when several rings are
 * asked for and offered), protocol=x86_64-abi, and goes
 * Initialised, then Connected once the backend is.  Requests are
 * synchronous from the caller's view but several may be in flight
 * (blkfront_submit / blkfront_complete); each data page is granted per
 * request, or once for the device's life with feature-persistent.
 * Transfers bigger than 11 segments use indirect descriptors when the
 * backend offers feature-max-indirect-segments.
 *
 * Errors are negative Xen errnos; a request the backend answered with
 * BLKIF_RSP_ERROR is -XEN_EIO, BLKIF_RSP_EOPNOTSUPP -XEN_EOPNOTSUPP; no
 * answer in time is -XEN_ETIME.  A device whose backend went away
 * (Closing/Closed) is reconnected by blkfront_reconnect, which re-issues
 * the requests that had no response.  A backend process that restarts and
 * re-attaches to the same ring (keel-blkback does) needs nothing from the
 * frontend: requests wait for it within their timeout.
 */
#ifndef KEEL_BLKFRONT_H
#define KEEL_BLKFRONT_H

#include <stdint.h>

#include "abi/blkif.h"

struct blkfront;

struct blkfront_info {
	uint64_t sectors;      /* in 512-byte units (the "sectors" key) */
	unsigned sector_size;  /* "sector-size" */
	unsigned info;	       /* VDISK_* ("info"): VDISK_READONLY for mode r */
	unsigned ring_pages;   /* 1 << ring-page-order in use */
	unsigned queues;       /* rings in use (multi-queue-num-queues, or 1) */
	unsigned max_indirect; /* feature-max-indirect-segments (0: none) */
	int persistent;	       /* both ends agreed feature-persistent */
	int flush, discard;    /* feature-flush-cache, feature-discard */
	unsigned backend_id;
};

struct blkfront_opts {
	int no_persistent;   /* do not ask for persistent grants */
	int no_indirect;     /* never use indirect descriptors */
	unsigned ring_order; /* wanted ring-page-order (capped by the backend's max) */
	unsigned queues;     /* wanted rings (multi-queue; capped by the backend's max, 4) */
	unsigned pool_pages; /* data pages (bounce buffers) to keep; 0: 128 */
	unsigned max_segs;   /* largest request in pages; 0: what the backend allows */
};

/* Connect device/vbd/<devid>; opts may be NULL.  0 and *out, or an error. */
int blkfront_open(unsigned devid, const struct blkfront_opts *opts, struct blkfront **out);
const struct blkfront_info *blkfront_info(const struct blkfront *bf);

/* nsect 512-byte sectors at sector from/to buf (any address; whole pages fastest). */
int blkfront_read(struct blkfront *bf, uint64_t sector, void *buf, unsigned nsect);
int blkfront_write(struct blkfront *bf, uint64_t sector, const void *buf, unsigned nsect);
int blkfront_flush(struct blkfront *bf);
int blkfront_discard(struct blkfront *bf, uint64_t sector, uint64_t nsect);

/*
 * Asynchronous form: queue one read or write of page-aligned buf (at most
 * the request's segment limit); returns a tag >= 0.  blkfront_complete
 * waits (up to timeout_ns) for any response and returns its tag with the
 * status in *status (0, -XEN_EIO, ...), or -XEN_ETIME.
 */
int blkfront_submit(struct blkfront *bf, int write, uint64_t sector, void *buf, unsigned nsect);
int blkfront_complete(struct blkfront *bf, int *status, uint64_t timeout_ns);
/* Pages one request may carry (11, or the indirect limit in use). */
unsigned blkfront_max_segs(const struct blkfront *bf);
unsigned blkfront_in_flight(const struct blkfront *bf);

/* Backend state changed (restart, Closing): tear the ring down and redo the handshake. */
int blkfront_reconnect(struct blkfront *bf, uint64_t timeout_ns);
/* Clean close: Closing, wait for the backend's Closed, revoke grants, Closed. */
int blkfront_close(struct blkfront *bf);
/*
 * Wait up to timeout_ns for the backend to leave Connected (the toolstack
 * detaching the disk: xl block-detach, or the backend giving up), then
 * close cleanly as above.  0, or -XEN_ETIME if the backend stayed.
 */
int blkfront_wait_detach(struct blkfront *bf, uint64_t timeout_ns);

#endif
