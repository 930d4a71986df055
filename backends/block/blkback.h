/*
 * blkback: Keel's block backend, serving Xen's blkif protocol (64-bit
 * layout) from a raw image file or a block device.  Three layers:
 * blk_image (the disk: O_DIRECT where it works, preadv/pwritev, fdatasync,
 * discard), blk_queue (one shared ring, its event channel, its persistent
 * grants and the thread serving it; every request validated), and
 * blk_xenbus (the "vbd" xenbus driver that reads the toolstack's and the
 * frontend's keys and publishes the backend's).  The loopback test
 * frontend (blkfront_loop.h) speaks to blk_dev directly or through xenbus.
 */
#ifndef KEEL_BLKBACK_H
#define KEEL_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "abi/blkif.h"
#include "keel/vbd_stats.h"
#include "../common/bk_transport.h"

/* What we offer frontends (Linux blkback's defaults). */
#define BLK_MAX_INDIRECT_SEGMENTS 256
#define BLK_MAX_RING_PAGE_ORDER	  4
#define BLK_MAX_QUEUES		  8
#define BLK_MAX_PERSISTENT_GRANTS 1056

/* ---- the disk ---- */

struct blk_image {
	int fd;		 /* O_DIRECT when the file system allows it */
	int fd_buffered; /* for I/O O_DIRECT refuses (alignment) */
	bool readonly;
	bool is_bdev;
	bool direct;
	bool can_discard;
	uint64_t size; /* bytes */
	uint32_t sector_size, phys_sector_size;
};

int blk_image_open(const char *path, bool readonly, struct blk_image **out);
void blk_image_close(struct blk_image *img);
/* Whole transfers or -errno (short transfers are continued; EOF is -EIO). */
int blk_image_rw(struct blk_image *img, bool write, struct iovec *iov, int iovcnt, off_t off);
int blk_image_flush(struct blk_image *img);
int blk_image_discard(struct blk_image *img, uint64_t off, uint64_t len);

/* ---- a connected device: its queues ---- */

struct blk_queue_params {
	grant_ref_t ring_refs[1u << BLK_MAX_RING_PAGE_ORDER];
	unsigned ring_order; /* ring of 2^order pages */
	uint32_t evtchn;     /* the frontend's unbound port */
};

struct blk_dev_params {
	struct blk_image *img; /* borrowed */
	const struct bk_transport *tp;
	uint16_t domid;
	bool persistent;       /* both ends offered feature-persistent */
	unsigned max_indirect; /* 0 disables BLKIF_OP_INDIRECT */
	bool discard;	       /* feature-discard published */
	unsigned nr_queues;
	struct blk_queue_params queue[BLK_MAX_QUEUES];
	/* Where queue i counts its requests (queue[i]; NULL: not counted). */
	struct keel_vbd_stats_file *counters;
	/* Called from a queue thread when the frontend broke the protocol. */
	void (*on_fatal)(void *arg);
	void *fatal_arg;
};

struct blk_stats {
	uint64_t requests, errors, eopnotsupp;
	uint64_t pgrant_maps; /* persistent grants mapped */
	uint64_t grant_maps;  /* per-request batch maps */
};

struct blk_dev;
struct blk_queue;

/* Map the rings, bind the channels, start one thread per queue. */
int blk_dev_connect(const struct blk_dev_params *p, struct blk_dev **out);
/* Stop the threads, unmap everything, unbind (safe on NULL). */
void blk_dev_disconnect(struct blk_dev *dev);
/* Has any queue stopped because the frontend broke the protocol? */
bool blk_dev_broken(struct blk_dev *dev);
void blk_dev_stats(struct blk_dev *dev, struct blk_stats *out);

/* Queue internals shared by blk_dev.c and blk_queue.c. */
int blk_queue_start(struct blk_dev *dev, const struct blk_dev_params *p, unsigned index,
		    struct blk_queue **out);
void blk_queue_stop(struct blk_queue *q);
bool blk_queue_broken(struct blk_queue *q);
void blk_queue_stats_add(struct blk_queue *q, struct blk_stats *acc);

/* xentop's request counters, published in RUNDIR/stats/vbd-D-N (blk_stats.c). */
struct blk_stats_pub;
int blk_stats_publish(uint16_t domid, uint32_t devid, struct blk_stats_pub **out);
struct keel_vbd_stats_file *blk_stats_file(struct blk_stats_pub *s);
void blk_stats_withdraw(struct blk_stats_pub *s); /* unmaps and removes the file */

/* Persistent grants: gref -> mapped page, per queue. */
struct blk_pgrant_cache;
int blk_pgrant_init(struct blk_pgrant_cache **out, const struct bk_transport *tp, uint16_t domid,
		    unsigned max);
void blk_pgrant_free(struct blk_pgrant_cache *c);
/* The page of @gref, mapping and remembering it (NULL + *err when it cannot). */
void *blk_pgrant_get(struct blk_pgrant_cache *c, grant_ref_t gref, int *err);
unsigned blk_pgrant_count(const struct blk_pgrant_cache *c);

/* ---- the xenbus "vbd" driver ---- */
struct xb_driver;
extern const struct xb_driver blk_xenbus_driver;

#endif
