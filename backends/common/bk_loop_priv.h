/*
 * Internals of THE LOOPBACK TEST TRANSPORT shared by bk_loop.c (domains and
 * grants) and bk_loop_evtchn.c (event channels).  Not for backends.
 */
#ifndef KEEL_BK_LOOP_PRIV_H
#define KEEL_BK_LOOP_PRIV_H

#include <pthread.h>

#include "bk_loop.h"

#define BK_LOOP_MAX_DOMS  16
#define BK_LOOP_MAX_CHANS 256

struct bk_loop_dom {
	bool used;
	uint16_t domid;
	int memfd;
	uint8_t *mem; /* the frontend's own view of its RAM */
	unsigned nr_pages, next_free;
	struct grant_entry_v1 *gnttab;
	uint32_t *pins; /* active maps per entry */
	unsigned nr_grants;
};

struct bk_loop_chan {
	bool used, bound;
	uint16_t domid;
	uint32_t port;	 /* the frontend's port number */
	int to_back_fd;	 /* frontend -> backend */
	int to_front_fd; /* backend -> frontend */
};

/* One live mapping, remembered so unmap can unpin its entries. */
struct bk_loop_map {
	void *addr;
	unsigned count;
	uint16_t domid;
	bool readonly;
	grant_ref_t *refs;
};

struct bk_loop {
	pthread_mutex_t lock;
	uint16_t backend_domid;
	struct bk_loop_dom doms[BK_LOOP_MAX_DOMS];
	struct bk_loop_chan chans[BK_LOOP_MAX_CHANS];
	struct bk_loop_map *maps;
	unsigned nr_maps, cap_maps;
};

struct bk_loop_dom *bk_loop_dom(struct bk_loop *loop, uint16_t domid);
extern const struct bk_evtchn_ops bk_loop_evtchn_ops;

#endif
