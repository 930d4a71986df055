/*
 * Grant tables.  GNTTABOP_setup_table hands the guest the machine frames
 * of its table (in the shim region, which the PV MMU lets the guest map
 * read-write like shared_info); query_size, get_version, set_version and
 * get_status_frames answer as Xen does (versions 1 and 2: the entries
 * themselves are gnttab_entry.c's); GNTTABOP_copy between guests, batched.
 * Maps (between guests, and into dom0 processes) are gnttab_map.c's.
 */
#include <errno.h>
#include <string.h>

#include "abi/grant_table.h"
#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "gnttab.h"
#include "../core/kind.h"

static int16_t gnttab_setup(struct vcpu *v, struct gnttab_setup_table *s)
{
	struct domain *d = v->dom;

	if (s->dom != DOMID_SELF && s->dom != d->domid)
		return GNTST_bad_domain;
	if (s->nr_frames > GNTTAB_MAX_FRAMES)
		return GNTST_general_error;
	pthread_mutex_lock(&d->lock);
	if (s->nr_frames > d->gnttab_frames)
		d->gnttab_frames = s->nr_frames;
	pthread_mutex_unlock(&d->lock);
	for (uint32_t i = 0; i < s->nr_frames; i++) {
		uint64_t mfn = gnttab_first_mfn(d) + i;

		if (guest_copy_to(v, s->frame_list + i * 8, &mfn, 8) < 0)
			return GNTST_bad_virt_addr;
	}
	return GNTST_okay;
}

/*
 * One side of a GNTTABOP_copy (caller holds evtchn_peers_lock).  A grant
 * side must be an entry of domain `domid` permitting access to us (and
 * writing, for the destination); its GTF_reading/GTF_writing bits are set
 * with a compare-exchange as Xen does, so a concurrent revoke either
 * happens first (we see no permission) or fails (it sees the bits).  A
 * frame side must be one of our own, and a destination frame must not
 * be a page table or descriptor page.  A granted frame may be a page the
 * granter maps from a third domain (gnttab_frame_owner).
 */
struct gnttab_side {
	uint8_t *buf;
	struct domain *owner; /* whose RAM buf is in */
	uint64_t frame;
	struct domain *rd; /* the granter, while busy bits are held */
	uint32_t ref;
	uint16_t set; /* busy bits this copy set (and must clear) */
};

/* The peer a batch names, looked up once per batch rather than per op
 * (the lookup scans keeld's domain table; a batch of 256 page copies
 * spent more time there than copying).  Valid under evtchn_peers_lock. */
struct gnttab_peer_cache {
	int domid; /* -1: nothing cached */
	struct domain *d;
};

static struct domain *gnttab_peer(struct gnttab_peer_cache *pc, uint16_t domid)
{
	if (pc->domid != domid) {
		pc->d = evtchn_peer(domid);
		pc->domid = domid;
	}
	return pc->d;
}

static int16_t gnttab_copy_side(struct vcpu *v, const struct gnttab_copy_ptr *p, int gref,
				int write, uint16_t len, struct gnttab_side *s,
				struct gnttab_peer_cache *pc)
{
	struct domain *d = v->dom, *rd, *owner;
	uint16_t dom = p->domid == DOMID_SELF ? (uint16_t)d->domid : p->domid;
	uint64_t frame;

	s->rd = NULL;
	s->set = 0;
	if (!gref) {
		if (dom != d->domid)
			return GNTST_permission_denied;
		frame = p->u.gmfn;
		owner = domain_owns_frame(d, frame) ? d : NULL;
	} else {
		struct gnttab_grant g;
		int16_t st;

		rd = dom == d->domid ? d : gnttab_peer(pc, dom);
		if (!rd)
			return GNTST_bad_domain;
		st = gnttab_acquire(rd, p->u.ref, (uint16_t)d->domid, write, 0,
				    GNTST_permission_denied, &g);
		if (st != GNTST_okay)
			return st;
		s->rd = rd;
		s->ref = p->u.ref;
		s->set = g.set;
		/* A version-2 sub-page grant: only the bytes granted. */
		if (p->offset < g.off || len > g.len - (p->offset - g.off))
			return GNTST_general_error;
		owner = gnttab_frame_owner(rd, g.frame, write, &frame);
	}
	if (!owner)
		return GNTST_bad_page;
	if (write && !owner->kind->frame_writable(owner, frame))
		return GNTST_general_error;
	s->buf = owner->ram + (frame << DOMAIN_PAGE_SHIFT) + p->offset;
	s->owner = owner;
	s->frame = frame;
	return GNTST_okay;
}

static void gnttab_side_release(struct gnttab_side *s)
{
	if (s->rd && s->set)
		gnttab_release(s->rd, s->ref, s->set);
	s->rd = NULL;
}

static int16_t gnttab_copy_one(struct vcpu *v, const struct gnttab_copy *c,
			       struct gnttab_peer_cache *pc)
{
	struct gnttab_side src, dst;
	int16_t st;

	if (c->len > 4096 || c->source.offset + c->len > 4096 || c->dest.offset + c->len > 4096)
		return GNTST_bad_copy_arg;
	st = gnttab_copy_side(v, &c->source, c->flags & GNTCOPY_source_gref, 0, c->len, &src, pc);
	if (st != GNTST_okay) {
		gnttab_side_release(&src);
		return st;
	}
	st = gnttab_copy_side(v, &c->dest, c->flags & GNTCOPY_dest_gref, 1, c->len, &dst, pc);
	if (st == GNTST_okay) {
		memmove(dst.buf, src.buf, c->len);
		domain_dirty_mark(dst.owner, dst.frame); /* not through its vCPU */
	}
	gnttab_side_release(&dst);
	gnttab_side_release(&src);
	return st;
}

/* GNTTABOP_copy, batched: one status per op, the batch read and written
 * back in chunks. */
static long gnttab_copy_batch(struct vcpu *v, uint64_t uop, uint64_t count)
{
	struct gnttab_copy ops[32];

	while (count) {
		uint64_t n = count < 32 ? count : 32;

		if (guest_copy_from(v, ops, uop, n * sizeof(ops[0])) < 0)
			return -XEN_EFAULT;
		struct gnttab_peer_cache pc = {-1, NULL};

		evtchn_peers_lock();
		for (uint64_t i = 0; i < n; i++)
			ops[i].status = gnttab_copy_one(v, &ops[i], &pc);
		evtchn_peers_unlock();
		for (uint64_t i = 0; i < n; i++) {
			const struct gnttab_copy *c = &ops[i];

			if (c->status == GNTST_okay)
				continue;
			domain_log(v->dom,
				   "gnttab: copy from %s %u of d%u to %s %u of d%u: %s "
				   "(first refusal of the batch)",
				   c->flags & GNTCOPY_source_gref ? "ref" : "frame",
				   (unsigned)(c->flags & GNTCOPY_source_gref ? c->source.u.ref
									     : c->source.u.gmfn),
				   c->source.domid, c->flags & GNTCOPY_dest_gref ? "ref" : "frame",
				   (unsigned)(c->flags & GNTCOPY_dest_gref ? c->dest.u.ref
									   : c->dest.u.gmfn),
				   c->dest.domid, gnttab_status_name(c->status));
			break;
		}
		if (guest_copy_to(v, uop, ops, n * sizeof(ops[0])) < 0)
			return -XEN_EFAULT;
		uop += n * sizeof(ops[0]);
		count -= n;
	}
	return 0;
}

long gnttab_do_op(struct vcpu *v, uint64_t cmd, uint64_t uop, uint64_t count)
{
	struct domain *d = v->dom;

	/* A domain with a grant table can be named by others' copies. */

	if (count > 512)
		return -XEN_EINVAL;
	switch (cmd) {
	case GNTTABOP_map_grant_ref:
	case GNTTABOP_unmap_grant_ref:
	case GNTTABOP_unmap_and_replace:
		return gnttab_map_batch(v, cmd, uop, count);
	case GNTTABOP_copy:
		return gnttab_copy_batch(v, uop, count);
	case GNTTABOP_setup_table:
		for (uint64_t i = 0; i < count; i++) {
			struct gnttab_setup_table s;
			uint64_t va = uop + i * sizeof(s);

			if (guest_copy_from(v, &s, va, sizeof(s)) < 0)
				return -XEN_EFAULT;
			s.status = gnttab_setup(v, &s);
			if (guest_copy_to(v, va, &s, sizeof(s)) < 0)
				return -XEN_EFAULT;
		}
		return 0;
	case GNTTABOP_query_size:
		for (uint64_t i = 0; i < count; i++) {
			struct gnttab_query_size q;
			uint64_t va = uop + i * sizeof(q);

			if (guest_copy_from(v, &q, va, sizeof(q)) < 0)
				return -XEN_EFAULT;
			if (q.dom != DOMID_SELF && q.dom != d->domid) {
				q.status = GNTST_bad_domain;
			} else {
				q.nr_frames = d->gnttab_frames;
				q.max_nr_frames = GNTTAB_MAX_FRAMES;
				q.status = GNTST_okay;
			}
			if (guest_copy_to(v, va, &q, sizeof(q)) < 0)
				return -XEN_EFAULT;
		}
		return 0;
	case GNTTABOP_set_version: {
		struct gnttab_set_version sv;
		long r;

		if (guest_copy_from(v, &sv, uop, sizeof(sv)) < 0)
			return -XEN_EFAULT;
		r = gnttab_set_version(v, &sv.version);
		if (guest_copy_to(v, uop, &sv, sizeof(sv)) < 0)
			return -XEN_EFAULT;
		return r;
	}
	case GNTTABOP_get_status_frames:
		return gnttab_get_status_frames(v, uop, count);
	case GNTTABOP_get_version: {
		struct gnttab_get_version gv;

		if (guest_copy_from(v, &gv, uop, sizeof(gv)) < 0)
			return -XEN_EFAULT;
		if (gv.dom != DOMID_SELF && gv.dom != d->domid)
			return -XEN_ESRCH;
		gv.version = gnttab_v2(d) ? 2 : 1;
		return guest_copy_to(v, uop, &gv, sizeof(gv)) < 0 ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}
