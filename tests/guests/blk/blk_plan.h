/*
 * The write plan the blk test guests follow and the host replays: from a
 * seed, a disk index and the disk's size, the i-th extent (sector, length,
 * write or discard) and the 8-byte words of the pattern written at each
 * byte offset.  Freestanding (stdint only), so the guest and the host tool
 * (blk-plan.c) compile the very same code and the test compares the image
 * with a file built by the host, not with numbers written down anywhere.
 */
#ifndef KEEL_BLK_PLAN_H
#define KEEL_BLK_PLAN_H

#include <stdint.h>

#define BP_WRITE   0
#define BP_DISCARD 1

struct bp_extent {
	uint64_t sector;
	uint32_t nsect;
	uint8_t op;
};

static inline uint64_t bp_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The pattern word at byte offset off (a multiple of 8) of disk `disk`. */
static inline uint64_t bp_word(uint64_t seed, unsigned disk, uint64_t off)
{
	return bp_mix(seed ^ ((uint64_t)disk << 56) ^ (off >> 3));
}

/*
 * Extent i of the plan on a disk of `sectors` sectors (at least 4096):
 * single sectors, unaligned runs, whole pages, 11-page requests, 1 MiB
 * requests (indirect descriptors), and every tenth a discard when
 * `discard` is set.
 */
static inline void bp_extent(uint64_t seed, unsigned disk, unsigned i, uint64_t sectors,
			     int discard, struct bp_extent *e)
{
	static const uint32_t sizes[8] = {1, 7, 8, 16, 88, 96, 2048, 512};
	uint64_t r = bp_mix(seed * 31 + disk * 7919 + i);

	e->nsect = sizes[r & 7];
	e->sector = (r >> 8) % (sectors - e->nsect + 1);
	e->op = discard && i % 10 == 9 ? BP_DISCARD : BP_WRITE;
	if (e->op == BP_DISCARD) { /* whole pages: discard granularity is 4 KiB */
		e->sector &= ~7ULL;
		e->nsect = (e->nsect + 7) & ~7U;
		if (e->sector + e->nsect > sectors)
			e->sector = (sectors - e->nsect) & ~7ULL;
	}
}

/* The kill-and-restart run: extent i is 16 sectors at 16 * i (no overlaps, any order). */
static inline void bp_seq_extent(unsigned i, struct bp_extent *e)
{
	e->sector = (uint64_t)i * 16;
	e->nsect = 16;
	e->op = BP_WRITE;
}

/* Fill buf with the pattern of sectors [sector, sector + nsect). */
static inline void bp_fill(uint64_t seed, unsigned disk, uint64_t sector, uint32_t nsect, void *buf)
{
	uint64_t *w = buf;

	for (uint64_t k = 0; k < (uint64_t)nsect * 64; k++)
		w[k] = bp_word(seed, disk, sector * 512 + k * 8);
}

#endif
