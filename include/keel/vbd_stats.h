/*
 * A vbd's request counters as keel-blkback publishes them for xentop (`xl
 * top`): the figures Linux's xen-blkback shows in sysfs under
 * /sys/bus/xen-backend/devices/vbd-D-N/statistics/ (oo_req, rd_req,
 * wr_req, f_req, ds_req, rd_sect, wr_sect), in a small file per device,
 * RUNDIR/stats/vbd-D-N, that blkback maps shared and updates in place from
 * each queue's thread (one slot per queue, one writer per slot), so
 * counting costs the request path no system call and a reader sees the
 * current figures.  A reader sums the slots of the first nr_queues.
 */
#ifndef KEEL_VBD_STATS_H
#define KEEL_VBD_STATS_H

#include <stdint.h>

#define KEEL_VBD_STATS_MAGIC  "KEELVBD1"
#define KEEL_VBD_STATS_QUEUES 8
#define KEEL_VBD_STATS_DIR    "stats"

struct keel_vbd_stats_queue {
	uint64_t oo_req;  /* requests that waited for a free slot (none in Keel: always 0) */
	uint64_t rd_req;  /* read requests */
	uint64_t wr_req;  /* write requests */
	uint64_t f_req;	  /* flushes (with or without data) */
	uint64_t ds_req;  /* discards */
	uint64_t rd_sect; /* 512-byte sectors read */
	uint64_t wr_sect; /* 512-byte sectors written */
	uint64_t pad;
};

struct keel_vbd_stats_file {
	char magic[8];
	uint32_t nr_queues;
	uint32_t pad;
	struct keel_vbd_stats_queue queue[KEEL_VBD_STATS_QUEUES];
};

_Static_assert(sizeof(struct keel_vbd_stats_queue) == 64, "one cache line per queue");
_Static_assert(sizeof(struct keel_vbd_stats_file) == 16 + 64 * KEEL_VBD_STATS_QUEUES,
	       "vbd stats file layout");

#endif
