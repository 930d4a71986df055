/*
 * Keel's copy of Xen's block-device ring protocol (io/blkif.h): the request
 * and response a blkfront and a blkback exchange on their shared ring, the
 * discard and indirect request forms, the operations, status codes and the
 * VDISK_* bits of the backend's "info" key.  The request is 112 bytes on
 * x86_64, so 32 of them fit in a one-page ring.
 */
#ifndef KEEL_ABI_BLKIF_H
#define KEEL_ABI_BLKIF_H

#include <stddef.h>
#include <stdint.h>

#include "abi/grant_table.h"
#include "abi/ring.h"

typedef uint16_t blkif_vdev_t;
typedef uint64_t blkif_sector_t;

/* Operations. */
#define BLKIF_OP_READ		 0
#define BLKIF_OP_WRITE		 1
#define BLKIF_OP_WRITE_BARRIER	 2 /* backend key feature-barrier */
#define BLKIF_OP_FLUSH_DISKCACHE 3 /* backend key feature-flush-cache */
#define BLKIF_OP_RESERVED_1	 4
#define BLKIF_OP_DISCARD	 5 /* backend key feature-discard */
#define BLKIF_OP_INDIRECT	 6 /* backend key feature-max-indirect-segments */

#define BLKIF_MAX_SEGMENTS_PER_REQUEST	     11
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* Sectors are always 512 bytes in the protocol, whatever the disk's sector size. */
#define BLKIF_SECTOR_SIZE 512

/* One data page of a request: sectors first_sect..last_sect (inclusive) of it. */
struct blkif_request_segment {
	grant_ref_t gref;
	uint8_t first_sect;
	uint8_t last_sect;
};

/* Segments in one indirect page. */
#define BLKIF_SEGS_PER_INDIRECT_FRAME (4096 / sizeof(struct blkif_request_segment))

struct blkif_request {
	uint8_t operation;	      /* BLKIF_OP_* */
	uint8_t nr_segments;	      /* 1..BLKIF_MAX_SEGMENTS_PER_REQUEST for read/write */
	blkif_vdev_t handle;	      /* the virtual device */
	uint64_t id;		      /* echoed in the response */
	blkif_sector_t sector_number; /* first sector */
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

/* The request when operation == BLKIF_OP_DISCARD. */
#define BLKIF_DISCARD_SECURE (1u << 0)
struct blkif_request_discard {
	uint8_t operation; /* BLKIF_OP_DISCARD */
	uint8_t flag;	   /* BLKIF_DISCARD_SECURE or 0 */
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	uint64_t nr_sectors;
};

/* The request when operation == BLKIF_OP_INDIRECT: segments live in granted pages. */
struct blkif_request_indirect {
	uint8_t operation;    /* BLKIF_OP_INDIRECT */
	uint8_t indirect_op;  /* BLKIF_OP_READ or BLKIF_OP_WRITE */
	uint16_t nr_segments; /* up to feature-max-indirect-segments */
	uint64_t id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t pad;
};

struct blkif_response {
	uint64_t id;	   /* from the request */
	uint8_t operation; /* from the request */
	int16_t status;	   /* BLKIF_RSP_* */
};

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR	     (-1)
#define BLKIF_RSP_OKAY	     0

/* Bits of the backend's "info" key. */
#define VDISK_CDROM	0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY	0x4

/* cppcheck sees the generated one-line functions as one: false CTU reports */
// cppcheck-suppress [ctunullpointer, ctuuninitvar]
KEEL_RING_DEFINE(blkif, struct blkif_request, struct blkif_response);

#if defined(__x86_64__)
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(offsetof(struct blkif_request_segment, first_sect) == 4, "first_sect");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(offsetof(struct blkif_request, nr_segments) == 1, "req.nr_segments");
_Static_assert(offsetof(struct blkif_request, handle) == 2, "req.handle");
_Static_assert(offsetof(struct blkif_request, id) == 8, "req.id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "req.sector_number");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "req.seg");
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif_request_discard");
_Static_assert(offsetof(struct blkif_request_discard, id) == 8, "discard.id");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard.nr");
_Static_assert(offsetof(struct blkif_request_indirect, nr_segments) == 2, "ind.nr_segments");
_Static_assert(offsetof(struct blkif_request_indirect, id) == 8, "ind.id");
_Static_assert(offsetof(struct blkif_request_indirect, sector_number) == 16, "ind.sector");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "ind.handle");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "ind.grefs");
_Static_assert(sizeof(struct blkif_request_indirect) <= sizeof(struct blkif_request), "ind");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");
_Static_assert(offsetof(struct blkif_response, operation) == 8, "rsp.operation");
_Static_assert(offsetof(struct blkif_response, status) == 10, "rsp.status");
_Static_assert(BLKIF_SEGS_PER_INDIRECT_FRAME == 512, "segments per indirect page");
#endif

#endif
