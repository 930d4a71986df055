/*
 * Internals of THE LOOPBACK TEST TRANSPORT shared by bk_loop.c (domains and
 * grants) and bk_loop_evtchn.c (event channels).  Not for backends.
 */
#ifndef KEEL_BK_LOOP_PRIV_H
#define KEEL_BK_LOOP_PRIV_H

#include <errno.h>
#include <pthread.h>
#include <sys/types.h>

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
	pid_t binder; /* a bound port whose process died is free again, as in Xen */
	uint16_t domid;
	uint32_t port;	 /* the frontend's port number */
	int to_back_fd;	 /* frontend -> backend */
	int to_front_fd; /* backend -> frontend */
};

/* One live mapping of this process, remembered so unmap can unpin its entries. */
struct bk_loop_map {
	struct bk_loop *loop;
	void *addr;
	unsigned count;
	uint16_t domid;
	bool readonly;
	grant_ref_t *refs;
};

/*
 * Lives in a MAP_SHARED mapping (as do the grant tables and pin counts), so
 * a forked backend process sees the same "hypervisor" as its parent and can
 * be killed and restarted, as a real backend can.  The mutex is robust and
 * process-shared: a backend killed while holding it does not wedge the rest.
 */
struct bk_loop {
	pthread_mutex_t lock;
	uint16_t backend_domid;
	struct bk_loop_dom doms[BK_LOOP_MAX_DOMS];
	struct bk_loop_chan chans[BK_LOOP_MAX_CHANS];
};

static inline void bk_loop_lock(struct bk_loop *loop)
{
	if (pthread_mutex_lock(&loop->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&loop->lock);
}

static inline void bk_loop_unlock(struct bk_loop *loop)
{
	pthread_mutex_unlock(&loop->lock);
}

struct bk_loop_dom *bk_loop_dom(struct bk_loop *loop, uint16_t domid);
extern const struct bk_evtchn_ops bk_loop_evtchn_ops;

#endif
