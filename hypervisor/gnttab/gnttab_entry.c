/*
 * Grant entries, versions 1 and 2: where a domain's table and (version 2)
 * status frames live, and the one place that reads an entry and pins it.
 *
 * Version 1: 8-byte entries, GTF_reading/GTF_writing in the entry's own
 * flags, set by compare-exchange so a concurrent revoke (the guest's
 * compare-exchange of the flags to 0) either happens first or fails.
 * Version 2: 16-byte entries (full_page, sub_page, transitive) and a
 * separate array of 16-bit status words holding GTF_reading/GTF_writing,
 * in status frames the guest finds with GNTTABOP_get_status_frames.  A
 * version-2 guest revokes by clearing the entry's flags and then reading
 * the status, so keeld sets the status bits first, then checks the entry
 * again and backs out if it changed (Xen's _set_status_v2).
 *
 * GNTTABOP_set_version switches between them when no entry past the 8
 * reserved ones is in use and, leaving version 2, no status frame is
 * mapped (-EBUSY otherwise), keeps the reserved entries
 * (console, store) in the new layout and clears the rest, as Xen does.
 * Both tables share the frames at SHIM_OFF_GNTTAB (32 frames: 16384 v1 or
 * 8192 v2 entries); the status frames follow (4 frames).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi/grant_table.h"
#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "gnttab.h"
#include "../core/kind.h"
#include "../core/saverec.h"

/* In keeld's region of the domain, where its kind puts them. */
#define SHIM_OFF_GNTTAB	       (d->kind->gnttab_off)
#define SHIM_OFF_GNTTAB_STATUS (SHIM_OFF_GNTTAB + GNTTAB_MAX_FRAMES * 4096)
#define GNTTAB_V2_PER_FRAME    (4096 / sizeof(union grant_entry_v2))
#define GNTTAB_STATUS_MAX      4 /* frames: 32 table frames of 256 v2 entries, 2 bytes each */

_Static_assert(GNTTAB_STATUS_MAX * 4096 == GNTTAB_MAX_FRAMES * GNTTAB_V2_PER_FRAME * 2,
	       "status frames");
uint64_t gnttab_first_mfn(const struct domain *d)
{
	return (d->kind->region_gpa + SHIM_OFF_GNTTAB) >> DOMAIN_PAGE_SHIFT;
}

static uint64_t gnttab_first_status_mfn(const struct domain *d)
{
	return (d->kind->region_gpa + SHIM_OFF_GNTTAB_STATUS) >> DOMAIN_PAGE_SHIFT;
}

int gnttab_v2(const struct domain *d)
{
	return __atomic_load_n(&d->gnttab_version, __ATOMIC_ACQUIRE) == 2;
}

/* Status frames a version-2 table of the domain's size needs (Xen's
 * grant_to_status_frames). */
uint32_t gnttab_nr_status_frames(const struct domain *d)
{
	if (!gnttab_v2(d))
		return 0;
	return (d->gnttab_frames * GNTTAB_V2_PER_FRAME * 2 + 4095) / 4096;
}

uint64_t gnttab_status_mfn(const struct domain *d, uint32_t i)
{
	return gnttab_first_status_mfn(d) + i;
}

int gnttab_is_frame(struct domain *d, uint64_t mfn)
{
	if (mfn >= gnttab_first_mfn(d) && mfn < gnttab_first_mfn(d) + d->gnttab_frames)
		return 1;
	return mfn >= gnttab_first_status_mfn(d) &&
	       mfn < gnttab_first_status_mfn(d) + gnttab_nr_status_frames(d);
}

uint32_t gnttab_nr_entries(const struct domain *d)
{
	return d->gnttab_frames *
	       (gnttab_v2(d) ? GNTTAB_V2_PER_FRAME : 4096 / sizeof(struct grant_entry_v1));
}

static struct grant_entry_v1 *gnttab_v1_entry(struct domain *d, uint32_t ref)
{
	return (struct grant_entry_v1 *)(d->shim + SHIM_OFF_GNTTAB) + ref;
}

static union grant_entry_v2 *gnttab_v2_entry(struct domain *d, uint32_t ref)
{
	return (union grant_entry_v2 *)(d->shim + SHIM_OFF_GNTTAB) + ref;
}

static uint16_t *gnttab_status(struct domain *d, uint32_t ref)
{
	return (uint16_t *)(d->shim + SHIM_OFF_GNTTAB_STATUS) + ref;
}

uint16_t *gnttab_busy(struct domain *d, uint32_t ref)
{
	if (ref >= gnttab_nr_entries(d))
		return NULL;
	return gnttab_v2(d) ? gnttab_status(d, ref) : &gnttab_v1_entry(d, ref)->flags;
}

static int16_t gnttab_acquire_v1(struct domain *rd, uint32_t ref, uint16_t ldomid, int write,
				 int16_t deny, struct gnttab_grant *g)
{
	struct grant_entry_v1 *e = gnttab_v1_entry(rd, ref);
	uint16_t want = write ? GTF_reading | GTF_writing : GTF_reading;
	uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if ((f & GTF_type_mask) != GTF_permit_access || e->domid != ldomid ||
		    (write && (f & GTF_readonly)))
			return deny;
	} while (!__atomic_compare_exchange_n(&e->flags, &f, f | want, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	g->set = want & ~f;
	g->frame = e->frame;
	g->off = 0;
	g->len = 4096;
	return GNTST_okay;
}

/* Is a version-2 entry (flags f, domain id) usable as asked?  Transitive
 * grants are not followed (refused); sub-page grants only for copies. */
static int gnttab_v2_ok(uint16_t f, uint16_t domid, uint16_t ldomid, int write, int map)
{
	if ((f & GTF_type_mask) != GTF_permit_access || domid != ldomid)
		return 0;
	if (map && (f & GTF_sub_page))
		return 0;
	return !(write && (f & GTF_readonly));
}

static int16_t gnttab_acquire_v2(struct domain *rd, uint32_t ref, uint16_t ldomid, int write,
				 int map, int16_t deny, struct gnttab_grant *g)
{
	union grant_entry_v2 *e = gnttab_v2_entry(rd, ref);
	uint16_t *st = gnttab_status(rd, ref);
	uint16_t want = write ? GTF_reading | GTF_writing : GTF_reading, old, f;

	f = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE);
	if (!gnttab_v2_ok(f, __atomic_load_n(&e->hdr.domid, __ATOMIC_ACQUIRE), ldomid, write, map))
		return deny;
	old = __atomic_fetch_or(st, want, __ATOMIC_SEQ_CST);
	g->set = want & ~old;
	/* The guest clears flags, then reads the status: look again now the
	 * status is set; if it revoked meanwhile, back out. */
	f = __atomic_load_n(&e->hdr.flags, __ATOMIC_SEQ_CST);
	if (!gnttab_v2_ok(f, __atomic_load_n(&e->hdr.domid, __ATOMIC_SEQ_CST), ldomid, write,
			  map)) {
		gnttab_release(rd, ref, g->set);
		g->set = 0;
		return deny;
	}
	if (f & GTF_sub_page) {
		g->frame = e->sub_page.frame;
		g->off = e->sub_page.page_off;
		g->len = e->sub_page.length;
		if (g->off > 4096 || g->len > 4096 - g->off) {
			gnttab_release(rd, ref, g->set);
			g->set = 0;
			return deny;
		}
	} else {
		g->frame = e->full_page.frame;
		g->off = 0;
		g->len = 4096;
	}
	return GNTST_okay;
}

int16_t gnttab_acquire(struct domain *rd, uint32_t ref, uint16_t ldomid, int write, int map,
		       int16_t deny, struct gnttab_grant *g)
{
	g->set = 0;
	if (ref >= gnttab_nr_entries(rd))
		return GNTST_bad_gntref;
	if (gnttab_v2(rd))
		return gnttab_acquire_v2(rd, ref, ldomid, write, map, deny, g);
	return gnttab_acquire_v1(rd, ref, ldomid, write, deny, g);
}

void gnttab_release(struct domain *rd, uint32_t ref, uint16_t bits)
{
	uint16_t *b = bits ? gnttab_busy(rd, ref) : NULL;

	if (b)
		__atomic_fetch_and(b, (uint16_t)~bits, __ATOMIC_ACQ_REL);
}

/* The reserved entries (0-7, the toolstack's) kept across a version
 * switch, in version-1 form with their busy bits. */
static void gnttab_reserved_save(struct domain *d, struct grant_entry_v1 *keep)
{
	memset(keep, 0, GNTTAB_NR_RESERVED_ENTRIES * sizeof(*keep));
	for (uint32_t i = 0; i < GNTTAB_NR_RESERVED_ENTRIES && i < gnttab_nr_entries(d); i++) {
		if (!gnttab_v2(d)) {
			keep[i] = *gnttab_v1_entry(d, i);
			continue;
		}
		union grant_entry_v2 *e = gnttab_v2_entry(d, i);

		if ((e->hdr.flags & GTF_type_mask) != GTF_permit_access ||
		    (e->hdr.flags & GTF_sub_page) || e->full_page.frame >> 32)
			continue; /* not representable in version 1: dropped */
		keep[i].flags = e->hdr.flags | *gnttab_status(d, i);
		keep[i].domid = e->hdr.domid;
		keep[i].frame = (uint32_t)e->full_page.frame;
	}
}

static void gnttab_reserved_restore(struct domain *d, int version,
				    const struct grant_entry_v1 *keep)
{
	for (uint32_t i = 0; i < GNTTAB_NR_RESERVED_ENTRIES && i < gnttab_nr_entries(d); i++) {
		if (version == 1) {
			*gnttab_v1_entry(d, i) = keep[i];
			continue;
		}
		union grant_entry_v2 *e = gnttab_v2_entry(d, i);

		*gnttab_status(d, i) = keep[i].flags & (GTF_reading | GTF_writing);
		e->hdr.flags = keep[i].flags & ~(GTF_reading | GTF_writing);
		e->hdr.domid = keep[i].domid;
		e->full_page.frame = keep[i].frame;
	}
}

/*
 * GNTTABOP_set_version: 0 or -XEN_EINVAL / -XEN_EBUSY; *version gets the
 * version in force either way.  Leaving version 2 gives the status frames
 * up, which Xen refuses (-EBUSY) while anything but the table holds a
 * reference to one: for a PV guest, a page-table entry mapping it.  Keel
 * keeps no reference counts on its region's frames, so it looks for such
 * an entry in the guest's L1 tables (including writes this hypercall
 * queued), under mm_lock so that none appears before the version changes
 * (a status frame is mappable only while the table is version 2).  A
 * translated guest's physmap would count too; Keel has none.
 */
long gnttab_set_version(struct vcpu *v, uint32_t *version)
{
	struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES];
	struct domain *d = v->dom;
	long r = 0;

	if (*version != 1 && *version != 2) {
		*version = gnttab_v2(d) ? 2 : 1;
		return -XEN_EINVAL;
	}
	evtchn_peers_lock(); /* no copy or map of ours in flight */
	pthread_mutex_lock(&d->mm_lock);
	pthread_mutex_lock(&d->lock);
	if ((gnttab_v2(d) ? 2u : 1u) == *version)
		goto out;
	for (uint32_t i = GNTTAB_NR_RESERVED_ENTRIES; i < gnttab_nr_entries(d); i++)
		if (__atomic_load_n(gnttab_busy(d, i), __ATOMIC_ACQUIRE) &
		    (GTF_reading | GTF_writing)) {
			r = -XEN_EBUSY;
			goto out;
		}
	if (gnttab_v2(d) &&
	    d->kind->frames_mapped(v, gnttab_first_status_mfn(d), gnttab_nr_status_frames(d))) {
		domain_log(d, "gnttab: set_version(1) refused: a status frame is still mapped");
		r = -XEN_EBUSY;
		goto out;
	}
	gnttab_reserved_save(d, keep);
	memset(d->shim + SHIM_OFF_GNTTAB, 0, GNTTAB_MAX_FRAMES * 4096);
	memset(d->shim + SHIM_OFF_GNTTAB_STATUS, 0, GNTTAB_STATUS_MAX * 4096);
	__atomic_store_n(&d->gnttab_version, (uint8_t)*version, __ATOMIC_RELEASE);
	gnttab_reserved_restore(d, (int)*version, keep);
out:
	*version = gnttab_v2(d) ? 2 : 1;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->mm_lock);
	evtchn_peers_unlock();
	return r;
}

/* GNTTABOP_get_status_frames (count must be 1, as in Xen). */
long gnttab_get_status_frames(struct vcpu *v, uint64_t uop, uint64_t count)
{
	struct domain *d = v->dom;
	struct gnttab_get_status_frames op;

	if (count != 1)
		return -XEN_EINVAL;
	if (guest_copy_from(v, &op, uop, sizeof(op)) < 0)
		return -XEN_EFAULT;
	op.status = GNTST_okay;
	if (op.dom != DOMID_SELF && op.dom != d->domid)
		op.status = GNTST_bad_domain;
	else if (op.nr_frames > gnttab_nr_status_frames(d))
		op.status = GNTST_general_error;
	for (uint32_t i = 0; op.status == GNTST_okay && i < op.nr_frames; i++) {
		uint64_t mfn = gnttab_status_mfn(v->dom, i);

		if (guest_copy_to(v, op.frame_list + i * 8, &mfn, 8) < 0)
			op.status = GNTST_bad_virt_addr;
	}
	return guest_copy_to(v, uop, &op, sizeof(op)) < 0 ? -XEN_EFAULT : 0;
}

/*
 * Save record SAVEREC_GNTTAB v1: u32 version, u32 table frames, then the
 * table frames and (version 2) the status frames, as the guest wrote them.
 * A restored domain holds no grant maps (no other domain or dom0 process
 * maps into it), so the busy bits are cleared: the guest can end access
 * to every entry, as after Xen's restore.
 */
int gnttab_save(struct domain *d, struct srb *out)
{
	struct srb p = {0};

	srb_u32(&p, gnttab_v2(d) ? 2 : 1);
	srb_u32(&p, d->gnttab_frames);
	srb_bytes(&p, d->shim + SHIM_OFF_GNTTAB, (size_t)d->gnttab_frames * 4096);
	srb_bytes(&p, d->shim + SHIM_OFF_GNTTAB_STATUS, (size_t)gnttab_nr_status_frames(d) * 4096);
	saverec_put(out, SAVEREC_GNTTAB, 1, &p);
	srb_free(&p);
	return out->err;
}

static int gnttab_record_check(const struct saverec *r, char *err, size_t errlen)
{
	struct src c = {r->data, r->len, 0};
	uint32_t version = src_u32(&c), frames = src_u32(&c), status;

	if (r->version != 1) {
		snprintf(err, errlen, "gnttab record version %u not supported", r->version);
		return -EPROTO;
	}
	if ((version != 1 && version != 2) || frames > GNTTAB_MAX_FRAMES) {
		snprintf(err, errlen, "gnttab record: version %u, %u frames", version, frames);
		return -EINVAL;
	}
	status = version == 2 ? (frames * GNTTAB_V2_PER_FRAME * 2 + 4095) / 4096 : 0;
	if (c.bad || c.left != ((size_t)frames + status) * 4096) {
		snprintf(err, errlen, "gnttab record: %u bytes for %u frames", r->len, frames);
		return -EINVAL;
	}
	return 0;
}

static void gnttab_record_apply(struct domain *d, const struct saverec *r)
{
	struct src c = {r->data, r->len, 0};
	uint32_t version = src_u32(&c), frames = src_u32(&c), status;

	d->gnttab_version = (uint8_t)version;
	d->gnttab_frames = frames;
	memcpy(d->shim + SHIM_OFF_GNTTAB, src_bytes(&c, (size_t)frames * 4096),
	       (size_t)frames * 4096);
	status = gnttab_nr_status_frames(d);
	if (status)
		memset(d->shim + SHIM_OFF_GNTTAB_STATUS, 0, (size_t)status * 4096);
	else
		for (uint32_t i = 0; i < frames * 4096 / sizeof(struct grant_entry_v1); i++) {
			struct grant_entry_v1 *e =
				(struct grant_entry_v1 *)(d->shim + SHIM_OFF_GNTTAB) + i;

			e->flags &= (uint16_t) ~(GTF_reading | GTF_writing);
		}
}

/* Exactly one grant-table record, checked. */
int gnttab_restore_check(const struct saverec *recs, unsigned n, char *err, size_t errlen)
{
	const struct saverec *g = NULL;

	for (unsigned i = 0; i < n; i++)
		if (recs[i].type == SAVEREC_GNTTAB) {
			if (g) {
				snprintf(err, errlen, "two gnttab records");
				return -EINVAL;
			}
			g = &recs[i];
		}
	if (!g) {
		snprintf(err, errlen, "the gnttab record is missing");
		return -EINVAL;
	}
	return gnttab_record_check(g, err, errlen);
}

void gnttab_restore(struct domain *d, const struct saverec *recs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (recs[i].type == SAVEREC_GNTTAB)
			gnttab_record_apply(d, &recs[i]);
}
