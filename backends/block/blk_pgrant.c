/*
 * Persistent grants (feature-persistent): a frontend that offers them
 * reuses a fixed set of granted pages, so the backend maps each page once,
 * writable, and keeps it until the device disconnects.  The cache is a
 * per-queue open-addressing table (one thread per queue: no lock), bounded
 * by @max entries as Linux bounds it; beyond that, requests fall back to
 * mapping per request.  A gref the frontend never granted, or granted
 * read-only, fails to map and the request gets an error.
 */
#include <errno.h>
#include <stdlib.h>

#include "blkback.h"

struct blk_pgrant {
	grant_ref_t gref;
	bool used;
	void *page;
};

struct blk_pgrant_cache {
	const struct bk_transport *tp;
	uint16_t domid;
	unsigned max, count, mask;
	struct blk_pgrant *slots;
};

int blk_pgrant_init(struct blk_pgrant_cache **out, const struct bk_transport *tp, uint16_t domid,
		    unsigned max)
{
	struct blk_pgrant_cache *c = calloc(1, sizeof(*c));
	unsigned size = 16;

	if (!c)
		return -ENOMEM;
	/* At most half full, so probes stay short. */
	while (size < 2 * max)
		size <<= 1;
	c->slots = calloc(size, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return -ENOMEM;
	}
	c->tp = tp;
	c->domid = domid;
	c->max = max;
	c->mask = size - 1;
	*out = c;
	return 0;
}

void blk_pgrant_free(struct blk_pgrant_cache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i <= c->mask; i++)
		if (c->slots[i].used)
			bk_gnt_unmap(c->tp, c->slots[i].page, 1);
	free(c->slots);
	free(c);
}

static unsigned blk_pgrant_hash(grant_ref_t gref)
{
	return gref * 2654435761u;
}

void *blk_pgrant_get(struct blk_pgrant_cache *c, grant_ref_t gref, int *err)
{
	unsigned i = blk_pgrant_hash(gref) & c->mask;
	void *page;

	while (c->slots[i].used) {
		if (c->slots[i].gref == gref)
			return c->slots[i].page;
		i = (i + 1) & c->mask;
	}
	if (c->count >= c->max) {
		*err = -ENOSPC; /* the caller maps this one per request */
		return NULL;
	}
	*err = bk_gnt_map(c->tp, c->domid, &gref, 1, 0, &page, NULL);
	if (*err)
		return NULL;
	c->slots[i] = (struct blk_pgrant){.gref = gref, .used = true, .page = page};
	c->count++;
	return page;
}

unsigned blk_pgrant_count(const struct blk_pgrant_cache *c)
{
	return c ? c->count : 0;
}
