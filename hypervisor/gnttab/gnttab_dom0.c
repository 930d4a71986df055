/*
 * Grant copy for dom0 processes: Xen's GNTTABOP_copy as a dom0 backend
 * sees it (Linux's gntdev IOCTL_GNTDEV_GRANT_COPY), over keeld's control
 * socket.  Backends used to map each granted page (a round trip that
 * passes the guest's memfd), memcpy and unmap it (a second round trip);
 * a batch here moves up to KEELCTL_GCOPY_MAX pieces in one.
 *
 * The dom0 side of a copy is a buffer the process registered once: a
 * memfd keeld maps MAP_SHARED.  The memfd must be sealed against
 * shrinking (F_SEAL_SHRINK), or the process could truncate it and make
 * keeld's next access fault.  Buffers belong to the control connection
 * that registered them (at most KEELCTL_GCOPY_BUFS each) and are unmapped
 * when it closes.
 *
 * Each op is checked as Xen checks a copy: the grant side must be an entry
 * of the named domain permitting access to dom0 (GNTST_permission_denied
 * otherwise, also for a write into a read-only grant), the reference
 * inside its table (GNTST_bad_gntref), the frame the domain's own
 * (GNTST_bad_page), a written frame not a page table or descriptor page,
 * offset + len inside the page -- and inside a version-2 sub-page grant --
 * and inside the buffer (GNTST_bad_copy_arg).  The entry's busy bits
 * (GTF_reading, GTF_writing) are set by gnttab_acquire for the duration of
 * the copy, under evtchn_peers_lock, so a concurrent revoke either comes
 * first or fails; the copy gives back only the bits it set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/grant_table.h"
#include "../evtchn/evtchn.h"
#include "gnttab.h"
#include "gnttab_dom0.h"
#include "../core/kind.h"

#define GNTTAB_DOM0_MAX_BUFS 128 /* over all connections */

struct gnttab_dom0_buf {
	int conn; /* -1: free */
	uint32_t id;
	uint8_t *base;
	uint64_t size;
	size_t maplen;
};

/* Only keeld's control thread registers, unregisters and copies. */
static struct gnttab_dom0_buf gnttab_dom0_bufs[GNTTAB_DOM0_MAX_BUFS];
static uint32_t gnttab_dom0_next_id = 1;
static int gnttab_dom0_ready;

static void gnttab_dom0_init(void)
{
	if (gnttab_dom0_ready)
		return;
	for (int i = 0; i < GNTTAB_DOM0_MAX_BUFS; i++)
		gnttab_dom0_bufs[i].conn = -1;
	gnttab_dom0_ready = 1;
}

static struct gnttab_dom0_buf *gnttab_dom0_buf(int conn, uint32_t id)
{
	gnttab_dom0_init();
	for (int i = 0; i < GNTTAB_DOM0_MAX_BUFS; i++)
		if (gnttab_dom0_bufs[i].conn == conn && gnttab_dom0_bufs[i].id == id)
			return &gnttab_dom0_bufs[i];
	return NULL;
}

int gnttab_dom0_buf_register(int conn, int fd, uint64_t size, uint32_t *id)
{
	struct gnttab_dom0_buf *b = NULL;
	struct stat st;
	int seals, held = 0;
	void *p;

	gnttab_dom0_init();
	if (conn < 0 || fd < 0 || size == 0 || size > KEELCTL_GCOPY_BUF_MAX)
		return -EINVAL;
	for (int i = 0; i < GNTTAB_DOM0_MAX_BUFS; i++) {
		if (gnttab_dom0_bufs[i].conn == conn)
			held++;
		else if (gnttab_dom0_bufs[i].conn < 0 && !b)
			b = &gnttab_dom0_bufs[i];
	}
	if (held >= KEELCTL_GCOPY_BUFS || !b)
		return -ENOSPC;
	/* Not a sealed memfd (or not sealed against shrinking): refused. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPERM;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < size)
		return -EINVAL;
	b->maplen = (size + 4095) & ~(size_t)4095;
	p = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	b->conn = conn;
	b->base = p;
	b->size = size;
	b->id = gnttab_dom0_next_id++;
	if (!gnttab_dom0_next_id)
		gnttab_dom0_next_id = 1;
	*id = b->id;
	return 0;
}

static void gnttab_dom0_buf_free(struct gnttab_dom0_buf *b)
{
	munmap(b->base, b->maplen);
	memset(b, 0, sizeof(*b));
	b->conn = -1;
}

int gnttab_dom0_buf_unregister(int conn, uint32_t id)
{
	struct gnttab_dom0_buf *b = gnttab_dom0_buf(conn, id);

	if (!b)
		return -ENOENT;
	gnttab_dom0_buf_free(b);
	return 0;
}

void gnttab_dom0_conn_closed(int conn)
{
	gnttab_dom0_init();
	for (int i = 0; i < GNTTAB_DOM0_MAX_BUFS; i++)
		if (gnttab_dom0_bufs[i].conn == conn)
			gnttab_dom0_buf_free(&gnttab_dom0_bufs[i]);
}

/* One side of an op: where its bytes are, and the busy bits it holds. */
struct gnttab_dom0_side {
	uint8_t *p;
	struct domain *rd;    /* the granter, while busy bits are held */
	struct domain *owner; /* whose RAM p is in (gnttab_frame_owner) */
	uint64_t frame;
	uint32_t ref;
	uint16_t set;
};

/* The domain of the batch's grant sides, looked up once per domid. */
struct gnttab_dom0_peer {
	gnttab_dom0_find_fn find;
	int domid; /* -1: nothing cached */
	struct domain *d;
};

static int16_t gnttab_dom0_side(int conn, struct gnttab_dom0_peer *pc, uint16_t domid,
				const struct keelctl_gcopy_ptr *ptr, int gref, int write,
				uint16_t len, struct gnttab_dom0_side *s)
{
	struct gnttab_grant g;
	struct domain *rd;
	int16_t st;

	s->rd = NULL;
	s->set = 0;
	if (!gref) {
		struct gnttab_dom0_buf *b = gnttab_dom0_buf(conn, ptr->ref);

		if (!b || ptr->offset > b->size || len > b->size - ptr->offset)
			return GNTST_bad_copy_arg;
		s->p = b->base + ptr->offset;
		return GNTST_okay;
	}
	if (ptr->offset >= 4096 || len > 4096 - ptr->offset)
		return GNTST_bad_copy_arg;
	if (pc->domid != domid) {
		pc->d = domid ? pc->find(domid) : NULL; /* dom0 has no grant table here */
		pc->domid = domid;
	}
	rd = pc->d;
	if (!rd)
		return GNTST_bad_domain;
	st = gnttab_acquire(rd, ptr->ref, 0, write, 0, GNTST_permission_denied, &g);
	if (st != GNTST_okay)
		return st;
	s->rd = rd;
	s->ref = ptr->ref;
	s->set = g.set;
	/* A version-2 sub-page grant: only the bytes granted. */
	if (ptr->offset < g.off || len > g.len - (ptr->offset - g.off))
		return GNTST_general_error;
	s->owner = gnttab_frame_owner(rd, g.frame, write, &s->frame);
	if (!s->owner)
		return GNTST_bad_page;
	if (write && !s->owner->kind->frame_writable(s->owner, s->frame))
		return GNTST_general_error;
	s->p = s->owner->ram + (s->frame << DOMAIN_PAGE_SHIFT) + ptr->offset;
	return GNTST_okay;
}

static void gnttab_dom0_side_release(struct gnttab_dom0_side *s)
{
	if (s->rd && s->set)
		gnttab_release(s->rd, s->ref, s->set);
	s->rd = NULL;
}

static int16_t gnttab_dom0_copy_one(int conn, struct gnttab_dom0_peer *pc,
				    const struct keelctl_gcopy *op)
{
	struct gnttab_dom0_side src, dst;
	int16_t st;

	if (op->len > 4096 || op->flags & ~(KEELCTL_GCOPY_SOURCE_GREF | KEELCTL_GCOPY_DEST_GREF))
		return GNTST_bad_copy_arg;
	st = gnttab_dom0_side(conn, pc, op->domid, &op->source,
			      op->flags & KEELCTL_GCOPY_SOURCE_GREF, 0, op->len, &src);
	if (st != GNTST_okay) {
		gnttab_dom0_side_release(&src);
		return st;
	}
	st = gnttab_dom0_side(conn, pc, op->domid, &op->dest, op->flags & KEELCTL_GCOPY_DEST_GREF,
			      1, op->len, &dst);
	if (st == GNTST_okay) {
		memmove(dst.p, src.p, op->len);
		if (dst.rd) /* into a guest: KVM's dirty log never sees it */
			domain_dirty_mark(dst.owner, dst.frame);
	}
	gnttab_dom0_side_release(&dst);
	gnttab_dom0_side_release(&src);
	return st;
}

int gnttab_dom0_copy(int conn, gnttab_dom0_find_fn find, const struct keelctl_gcopy *ops,
		     uint32_t n, int16_t *status)
{
	struct gnttab_dom0_peer pc = {find, -1, NULL};

	if (n == 0 || n > KEELCTL_GCOPY_MAX)
		return -EINVAL;
	evtchn_peers_lock();
	for (uint32_t i = 0; i < n; i++)
		status[i] = gnttab_dom0_copy_one(conn, &pc, &ops[i]);
	evtchn_peers_unlock();
	return 0;
}

int gnttab_dom0_map_batch(struct domain *d, const uint32_t *refs, uint32_t n, int writable,
			  uint64_t *frames, uint32_t *bad)
{
	int r;

	if (n == 0 || n > KEELCTL_GMAP_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		r = gnttab_dom0_map(d, refs[i], writable, &frames[i]);
		if (r < 0) {
			*bad = i;
			/* All or nothing: give back what this batch took. */
			while (i--)
				gnttab_dom0_unmap(d, refs[i]);
			return r;
		}
	}
	return 0;
}

int gnttab_dom0_unmap_batch(struct domain *d, const uint32_t *refs, uint32_t n)
{
	int first = 0;

	if (n == 0 || n > KEELCTL_GMAP_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		int r = gnttab_dom0_unmap(d, refs[i]);

		if (r < 0 && !first)
			first = r;
	}
	return first;
}

/*
 * Maps held per control connection.  keeld's pin counts (d0rd / d0wr in
 * gnttab_map.c) say how many dom0 maps hold a reference, not whose; these
 * records say whose, so the maps of a process that dies without unmapping
 * (kill -9, a crash) are dropped when its connection closes, as Linux
 * unmaps a gntdev file's grants when it is closed.  Without that the
 * guest could never end foreign access to those grants.  The sum of the
 * records of a reference is its dom0 pin count.  Only keeld's control
 * thread uses them.
 */
#define GNTTAB_DOM0_MAX_CONNS 64

struct gnttab_dom0_hold {
	uint32_t domid, gref;
	uint32_t nrd, nwr;
};

struct gnttab_dom0_conn {
	int conn; /* -1: free */
	uint32_t n, cap;
	struct gnttab_dom0_hold *h;
};

static struct gnttab_dom0_conn gnttab_dom0_conns[GNTTAB_DOM0_MAX_CONNS] = {
	[0 ... GNTTAB_DOM0_MAX_CONNS - 1] = {.conn = -1},
};

static struct gnttab_dom0_conn *gnttab_dom0_conn_get(int conn, int create)
{
	struct gnttab_dom0_conn *free_c = NULL;

	for (int i = 0; i < GNTTAB_DOM0_MAX_CONNS; i++) {
		if (gnttab_dom0_conns[i].conn == conn)
			return &gnttab_dom0_conns[i];
		if (gnttab_dom0_conns[i].conn < 0 && !free_c)
			free_c = &gnttab_dom0_conns[i];
	}
	if (!create || !free_c || conn < 0)
		return NULL;
	free_c->conn = conn;
	return free_c;
}

static struct gnttab_dom0_hold *gnttab_dom0_hold_find(struct gnttab_dom0_conn *c, uint32_t domid,
						      uint32_t gref)
{
	for (uint32_t i = 0; c && i < c->n; i++)
		if (c->h[i].gref == gref && c->h[i].domid == domid)
			return &c->h[i];
	return NULL;
}

/* conn's record of (domid, gref), made if needed; NULL when full. */
static struct gnttab_dom0_hold *gnttab_dom0_hold_get(struct gnttab_dom0_conn *c, uint32_t domid,
						     uint32_t gref)
{
	struct gnttab_dom0_hold *h = gnttab_dom0_hold_find(c, domid, gref);

	if (h)
		return h;
	if (c->n == GNTTAB_DOM0_CONN_MAPS)
		return NULL;
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(c->h, cap * sizeof(*c->h));

		if (!p)
			return NULL;
		c->h = p;
		c->cap = cap;
	}
	h = &c->h[c->n++];
	*h = (struct gnttab_dom0_hold){.domid = domid, .gref = gref};
	return h;
}

/* Forget an empty record (order does not matter). */
static void gnttab_dom0_hold_trim(struct gnttab_dom0_conn *c, struct gnttab_dom0_hold *h)
{
	if (h && !h->nrd && !h->nwr)
		*h = c->h[--c->n];
}

/* A pin of `kind` of (domid, gref) went: take it off conn's record if it
 * has one of that kind, else off another connection's. */
static void gnttab_dom0_hold_drop(struct gnttab_dom0_conn *c, uint32_t domid, uint32_t gref,
				  int kind)
{
	for (int i = -1; i < GNTTAB_DOM0_MAX_CONNS; i++) {
		struct gnttab_dom0_conn *o = i < 0 ? c : &gnttab_dom0_conns[i];
		struct gnttab_dom0_hold *h;
		uint32_t *cnt;

		if (!o || o->conn < 0 || (i >= 0 && o == c))
			continue;
		h = gnttab_dom0_hold_find(o, domid, gref);
		cnt = !h ? NULL : kind == GNTTAB_D0_WR ? &h->nwr : &h->nrd;
		if (cnt && *cnt) {
			(*cnt)--;
			gnttab_dom0_hold_trim(o, h);
			return;
		}
	}
}

int gnttab_dom0_conn_map(int conn, struct domain *d, uint32_t gref, int writable, uint64_t *frame)
{
	struct gnttab_dom0_conn *c = gnttab_dom0_conn_get(conn, 1);
	struct gnttab_dom0_hold *h = c ? gnttab_dom0_hold_get(c, d->domid, gref) : NULL;
	int r;

	if (!h)
		return -ENOSPC;
	r = gnttab_dom0_map(d, gref, writable, frame);
	if (r == 0)
		(*(writable ? &h->nwr : &h->nrd))++;
	else
		gnttab_dom0_hold_trim(c, h);
	return r;
}

int gnttab_dom0_conn_unmap(int conn, struct domain *d, uint32_t gref)
{
	struct gnttab_dom0_conn *c = gnttab_dom0_conn_get(conn, 0);
	struct gnttab_dom0_hold *h = gnttab_dom0_hold_find(c, d->domid, gref);
	int kind = !h ? GNTTAB_D0_ANY : h->nwr ? GNTTAB_D0_WR : GNTTAB_D0_RD;
	int r = gnttab_dom0_unmap_kind(d, gref, kind);

	if (r == GNTTAB_D0_RD || r == GNTTAB_D0_WR)
		gnttab_dom0_hold_drop(c, d->domid, gref, r);
	return r < 0 ? r : 0;
}

int gnttab_dom0_conn_map_batch(int conn, struct domain *d, const uint32_t *refs, uint32_t n,
			       int writable, uint64_t *frames, uint32_t *bad)
{
	int kind = writable ? GNTTAB_D0_WR : GNTTAB_D0_RD;
	int r;

	if (n == 0 || n > KEELCTL_GMAP_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		r = gnttab_dom0_conn_map(conn, d, refs[i], writable, &frames[i]);
		if (r < 0) {
			struct gnttab_dom0_conn *c = gnttab_dom0_conn_get(conn, 0);

			*bad = i;
			/* All or nothing: give back exactly what this batch took. */
			while (i--)
				if (gnttab_dom0_unmap_kind(d, refs[i], kind) == kind)
					gnttab_dom0_hold_drop(c, d->domid, refs[i], kind);
			return r;
		}
	}
	return 0;
}

int gnttab_dom0_conn_unmap_batch(int conn, struct domain *d, const uint32_t *refs, uint32_t n)
{
	int first = 0;

	if (n == 0 || n > KEELCTL_GMAP_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		int r = gnttab_dom0_conn_unmap(conn, d, refs[i]);

		if (r < 0 && !first)
			first = r;
	}
	return first;
}

unsigned gnttab_dom0_conn_release(int conn, gnttab_dom0_find_fn find)
{
	struct gnttab_dom0_conn *c = gnttab_dom0_conn_get(conn, 0);
	unsigned dropped = 0;

	if (!c)
		return 0;
	for (uint32_t i = 0; i < c->n; i++) {
		struct gnttab_dom0_hold *h = &c->h[i];
		struct domain *d = find(h->domid);

		for (uint32_t k = 0; d && k < h->nwr; k++)
			dropped += gnttab_dom0_unmap_kind(d, h->gref, GNTTAB_D0_WR) == GNTTAB_D0_WR;
		for (uint32_t k = 0; d && k < h->nrd; k++)
			dropped += gnttab_dom0_unmap_kind(d, h->gref, GNTTAB_D0_RD) == GNTTAB_D0_RD;
	}
	free(c->h);
	*c = (struct gnttab_dom0_conn){.conn = -1};
	return dropped;
}

void gnttab_dom0_domain_gone(uint32_t domid)
{
	for (int i = 0; i < GNTTAB_DOM0_MAX_CONNS; i++) {
		struct gnttab_dom0_conn *c = &gnttab_dom0_conns[i];

		for (uint32_t k = 0; c->conn >= 0 && k < c->n;)
			if (c->h[k].domid == domid)
				c->h[k] = c->h[--c->n];
			else
				k++;
	}
}
