/*
 * THE LOOPBACK TEST TRANSPORT (see bk_loop.h): frontend domains as memfds
 * with version-1 grant tables and the backend-side grant ops over them
 * (event channels are in bk_loop_evtchn.c).  One mutex guards the
 * tables; the frontend writes its grant entries directly, as a guest does,
 * so every map re-reads and re-checks the shared entry.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bk_loop_priv.h"

/* This process's mappings (a forked backend has its own), under loop->lock. */
static struct {
	struct bk_loop_map *maps;
	unsigned nr, cap;
} bk_loop_local;

struct bk_loop_dom *bk_loop_dom(struct bk_loop *loop, uint16_t domid)
{
	for (unsigned i = 0; i < BK_LOOP_MAX_DOMS; i++)
		if (loop->doms[i].used && loop->doms[i].domid == domid)
			return &loop->doms[i];
	return NULL;
}

static void *bk_loop_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int bk_loop_create(uint16_t backend_domid, struct bk_loop **out)
{
	struct bk_loop *loop = bk_loop_shared_alloc(sizeof(*loop));
	pthread_mutexattr_t a;

	if (!loop)
		return -ENOMEM;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&loop->lock, &a);
	pthread_mutexattr_destroy(&a);
	loop->backend_domid = backend_domid;
	*out = loop;
	return 0;
}

void bk_loop_destroy(struct bk_loop *loop)
{
	if (!loop)
		return;
	for (unsigned i = 0; i < bk_loop_local.nr;) {
		struct bk_loop_map *m = &bk_loop_local.maps[i];

		if (m->loop != loop) {
			i++;
			continue;
		}
		munmap(m->addr, (size_t)m->count * BK_PAGE_SIZE);
		free(m->refs);
		*m = bk_loop_local.maps[--bk_loop_local.nr];
	}
	if (!bk_loop_local.nr) {
		free(bk_loop_local.maps);
		bk_loop_local.maps = NULL;
		bk_loop_local.cap = 0;
	}
	for (unsigned i = 0; i < BK_LOOP_MAX_DOMS; i++) {
		struct bk_loop_dom *d = &loop->doms[i];

		if (!d->used)
			continue;
		munmap(d->mem, (size_t)d->nr_pages * BK_PAGE_SIZE);
		close(d->memfd);
		munmap(d->gnttab, d->nr_grants * sizeof(*d->gnttab));
		munmap(d->pins, d->nr_grants * sizeof(*d->pins));
	}
	for (unsigned i = 0; i < BK_LOOP_MAX_CHANS; i++) {
		if (!loop->chans[i].used)
			continue;
		close(loop->chans[i].to_back_fd);
		close(loop->chans[i].to_front_fd);
	}
	pthread_mutex_destroy(&loop->lock);
	munmap(loop, sizeof(*loop));
}

int bk_loop_add_domain(struct bk_loop *loop, uint16_t domid, unsigned nr_pages, unsigned nr_grants)
{
	struct bk_loop_dom *d = NULL;
	int err = -ENOSPC;

	if (!nr_pages || nr_pages > (1u << 20) || nr_grants <= GNTTAB_NR_RESERVED_ENTRIES ||
	    nr_grants > (1u << 20))
		return -EINVAL;
	bk_loop_lock(loop);
	if (bk_loop_dom(loop, domid)) {
		err = -EEXIST;
		goto out;
	}
	for (unsigned i = 0; i < BK_LOOP_MAX_DOMS && !d; i++)
		if (!loop->doms[i].used)
			d = &loop->doms[i];
	if (!d)
		goto out;
	memset(d, 0, sizeof(*d));
	d->memfd = memfd_create("keel-loop-domain", MFD_CLOEXEC);
	if (d->memfd < 0 || ftruncate(d->memfd, (off_t)nr_pages * BK_PAGE_SIZE) < 0) {
		err = -errno;
		goto fail;
	}
	d->mem = mmap(NULL, (size_t)nr_pages * BK_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->memfd, 0);
	if (d->mem == MAP_FAILED) {
		err = -errno;
		d->mem = NULL;
		goto fail;
	}
	d->gnttab = bk_loop_shared_alloc(nr_grants * sizeof(*d->gnttab));
	d->pins = bk_loop_shared_alloc(nr_grants * sizeof(*d->pins));
	if (!d->gnttab || !d->pins) {
		err = -ENOMEM;
		goto fail;
	}
	d->used = true;
	d->domid = domid;
	d->nr_pages = nr_pages;
	d->nr_grants = nr_grants;
	err = 0;
	goto out;
fail:
	if (d->mem)
		munmap(d->mem, (size_t)nr_pages * BK_PAGE_SIZE);
	if (d->memfd >= 0)
		close(d->memfd);
	if (d->gnttab)
		munmap(d->gnttab, nr_grants * sizeof(*d->gnttab));
	if (d->pins)
		munmap(d->pins, nr_grants * sizeof(*d->pins));
	memset(d, 0, sizeof(*d));
out:
	bk_loop_unlock(loop);
	return err;
}

void *bk_loop_page(struct bk_loop *loop, uint16_t domid, uint32_t gfn)
{
	struct bk_loop_dom *d;
	void *p = NULL;

	bk_loop_lock(loop);
	d = bk_loop_dom(loop, domid);
	if (d && gfn < d->nr_pages)
		p = d->mem + (size_t)gfn * BK_PAGE_SIZE;
	bk_loop_unlock(loop);
	return p;
}

int bk_loop_alloc_page(struct bk_loop *loop, uint16_t domid, uint32_t *gfn)
{
	struct bk_loop_dom *d;
	int err = -ENOMEM;

	bk_loop_lock(loop);
	d = bk_loop_dom(loop, domid);
	if (!d)
		err = -ESRCH;
	else if (d->next_free < d->nr_pages) {
		*gfn = d->next_free++;
		err = 0;
	}
	bk_loop_unlock(loop);
	return err;
}

int bk_loop_grant(struct bk_loop *loop, uint16_t domid, uint32_t gfn, uint16_t to_domid,
		  bool readonly, grant_ref_t *ref)
{
	struct bk_loop_dom *d;
	int err = -ENOSPC;

	bk_loop_lock(loop);
	d = bk_loop_dom(loop, domid);
	if (!d) {
		err = -ESRCH;
		goto out;
	}
	for (grant_ref_t r = GNTTAB_NR_RESERVED_ENTRIES; r < d->nr_grants; r++) {
		struct grant_entry_v1 *e = &d->gnttab[r];

		if (__atomic_load_n(&e->flags, __ATOMIC_RELAXED) || d->pins[r])
			continue;
		e->domid = to_domid;
		e->frame = gfn;
		/* The entry is complete before it becomes valid, as a guest must do. */
		__atomic_store_n(&e->flags, GTF_permit_access | (readonly ? GTF_readonly : 0),
				 __ATOMIC_RELEASE);
		*ref = r;
		err = 0;
		break;
	}
out:
	bk_loop_unlock(loop);
	return err;
}

int bk_loop_end_grant(struct bk_loop *loop, uint16_t domid, grant_ref_t ref)
{
	struct bk_loop_dom *d;
	int err = 0;

	bk_loop_lock(loop);
	d = bk_loop_dom(loop, domid);
	if (!d || ref >= d->nr_grants)
		err = -EINVAL;
	else if (d->pins[ref])
		err = -EBUSY;
	else
		__atomic_store_n(&d->gnttab[ref].flags, 0, __ATOMIC_RELEASE);
	bk_loop_unlock(loop);
	return err;
}

struct grant_entry_v1 *bk_loop_grant_entry(struct bk_loop *loop, uint16_t domid, grant_ref_t ref)
{
	struct bk_loop_dom *d;
	struct grant_entry_v1 *e = NULL;

	bk_loop_lock(loop);
	d = bk_loop_dom(loop, domid);
	if (d && ref < d->nr_grants)
		e = &d->gnttab[ref];
	bk_loop_unlock(loop);
	return e;
}

unsigned bk_loop_mapped_count(struct bk_loop *loop, uint16_t domid)
{
	unsigned n = 0;

	bk_loop_lock(loop);
	for (unsigned i = 0; i < bk_loop_local.nr; i++)
		if (bk_loop_local.maps[i].loop == loop && bk_loop_local.maps[i].domid == domid)
			n += bk_loop_local.maps[i].count;
	bk_loop_unlock(loop);
	return n;
}

/* Xen's checks on one entry for a map by the backend domain. */
static int bk_loop_check_entry(struct bk_loop *loop, struct bk_loop_dom *d, grant_ref_t ref,
			       bool readonly, uint32_t *frame)
{
	struct grant_entry_v1 e;

	if (ref >= d->nr_grants)
		return -ENOENT;
	e.flags = __atomic_load_n(&d->gnttab[ref].flags, __ATOMIC_ACQUIRE);
	e.domid = __atomic_load_n(&d->gnttab[ref].domid, __ATOMIC_RELAXED);
	e.frame = __atomic_load_n(&d->gnttab[ref].frame, __ATOMIC_RELAXED);
	if ((e.flags & GTF_type_mask) != GTF_permit_access)
		return -ENOENT;
	if (e.domid != loop->backend_domid)
		return -EACCES;
	if (!readonly && (e.flags & GTF_readonly))
		return -EPERM;
	if (e.frame >= d->nr_pages)
		return -EFAULT;
	*frame = e.frame;
	return 0;
}

static void bk_loop_pin(struct bk_loop_dom *d, grant_ref_t ref, bool readonly, int delta)
{
	uint16_t busy = GTF_reading | (readonly ? 0 : GTF_writing);

	d->pins[ref] += delta;
	if (delta > 0)
		__atomic_fetch_or(&d->gnttab[ref].flags, busy, __ATOMIC_RELEASE);
	else if (!d->pins[ref])
		__atomic_fetch_and(&d->gnttab[ref].flags, (uint16_t) ~(GTF_reading | GTF_writing),
				   __ATOMIC_RELEASE);
}

static int bk_loop_map(void *ctx, uint16_t domid, const grant_ref_t *refs, unsigned count,
		       unsigned flags, void **addr, unsigned *bad_index)
{
	struct bk_loop *loop = ctx;
	bool ro = flags & BK_GNT_READONLY;
	struct bk_loop_dom *d;
	uint8_t *base = MAP_FAILED;
	grant_ref_t *copy = NULL;
	unsigned i = 0;
	int err = 0;

	if (!count || count > 4096)
		return -EINVAL;
	bk_loop_lock(loop);
	d = bk_loop_dom(loop, domid);
	if (!d) {
		err = -ESRCH;
		goto out;
	}
	copy = malloc(count * sizeof(*copy));
	if (!copy) {
		err = -ENOMEM;
		goto out;
	}
	if (bk_loop_local.nr == bk_loop_local.cap) {
		unsigned cap = bk_loop_local.cap ? bk_loop_local.cap * 2 : 64;
		void *n = realloc(bk_loop_local.maps, cap * sizeof(*bk_loop_local.maps));

		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		bk_loop_local.maps = n;
		bk_loop_local.cap = cap;
	}
	/* Reserve the whole area first so the pages land side by side. */
	base = mmap(NULL, (size_t)count * BK_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < count; i++) {
		uint32_t frame;
		void *p;

		err = bk_loop_check_entry(loop, d, refs[i], ro, &frame);
		if (err)
			break;
		p = mmap(base + (size_t)i * BK_PAGE_SIZE, BK_PAGE_SIZE,
			 PROT_READ | (ro ? 0 : PROT_WRITE), MAP_SHARED | MAP_FIXED, d->memfd,
			 (off_t)frame * BK_PAGE_SIZE);
		if (p == MAP_FAILED) {
			err = -errno;
			break;
		}
		copy[i] = refs[i];
	}
	if (err) {
		if (bad_index)
			*bad_index = i;
		munmap(base, (size_t)count * BK_PAGE_SIZE);
		goto out;
	}
	for (i = 0; i < count; i++)
		bk_loop_pin(d, copy[i], ro, +1);
	bk_loop_local.maps[bk_loop_local.nr++] =
		(struct bk_loop_map){loop, base, count, domid, ro, copy};
	copy = NULL;
	*addr = base;
out:
	bk_loop_unlock(loop);
	free(copy);
	return err;
}

static int bk_loop_unmap(void *ctx, void *addr, unsigned count)
{
	struct bk_loop *loop = ctx;
	int err = -EINVAL;

	bk_loop_lock(loop);
	for (unsigned i = 0; i < bk_loop_local.nr; i++) {
		struct bk_loop_map *m = &bk_loop_local.maps[i];
		struct bk_loop_dom *d;

		if (m->loop != loop || m->addr != addr)
			continue;
		if (m->count != count)
			break;
		d = bk_loop_dom(loop, m->domid);
		for (unsigned j = 0; d && j < m->count; j++)
			bk_loop_pin(d, m->refs[j], m->readonly, -1);
		munmap(m->addr, (size_t)m->count * BK_PAGE_SIZE);
		free(m->refs);
		*m = bk_loop_local.maps[--bk_loop_local.nr];
		err = 0;
		break;
	}
	bk_loop_unlock(loop);
	return err;
}

static int bk_loop_copy(void *ctx, struct bk_gnt_copy *ops, unsigned count)
{
	struct bk_loop *loop = ctx;
	int first = 0;

	bk_loop_lock(loop);
	for (unsigned i = 0; i < count; i++) {
		struct bk_gnt_copy *op = &ops[i];
		struct bk_loop_dom *d = bk_loop_dom(loop, op->domid);
		uint32_t frame;
		uint8_t *page;

		if (!d)
			op->status = -ESRCH;
		else if ((uint32_t)op->offset + op->len > BK_PAGE_SIZE)
			op->status = -EINVAL;
		else
			op->status = bk_loop_check_entry(loop, d, op->gref, !op->to_grant, &frame);
		if (op->status) {
			if (!first)
				first = op->status;
			continue;
		}
		page = d->mem + (size_t)frame * BK_PAGE_SIZE + op->offset;
		if (op->to_grant)
			memcpy(page, op->local, op->len);
		else
			memcpy(op->local, page, op->len);
	}
	bk_loop_unlock(loop);
	return first;
}

static const struct bk_gnt_ops bk_loop_gnt_ops = {
	.name = "loopback-test",
	.map = bk_loop_map,
	.unmap = bk_loop_unmap,
	.copy = bk_loop_copy,
};

void bk_loop_transport(struct bk_loop *loop, struct bk_transport *t)
{
	t->name = "loopback test transport";
	t->self_domid = loop->backend_domid;
	t->gnt = &bk_loop_gnt_ops;
	t->gnt_ctx = loop;
	t->evtchn = &bk_loop_evtchn_ops;
	t->evtchn_ctx = loop;
}
