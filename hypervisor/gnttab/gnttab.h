/*
 * Grant tables (versions 1 and 2): the frames a guest fills with grant
 * entries (and version 2's status frames) live in keeld's shim region and
 * are mappable by the guest; other guests copy and map what it granted
 * them; dom0 processes map it through keeld (MAP_GRANT).
 */
#ifndef KEEL_HV_GNTTAB_H
#define KEEL_HV_GNTTAB_H

#include <stddef.h>
#include <stdint.h>

#include "../core/domain.h"

#define GNTTAB_MAX_FRAMES 32
/* Maps of other domains' grants a domain may hold at once (maptrack
 * handles); each has a page of the foreign window at GNTTAB_WINDOW_GPA. */
#define GNTTAB_MAPTRACK_MAX 4096
#define GNTTAB_WINDOW_GPA   0x1800000000ULL /* 96 GiB: above RAM and the shim */

long gnttab_do_op(struct vcpu *v, uint64_t cmd, uint64_t uop, uint64_t count);
/* Is mfn one of the domain's grant-table frames (mappable by the guest)? */
int gnttab_is_frame(struct domain *d, uint64_t mfn);
/* dom0 maps / unmaps grant gref of domain d: the frame, with GTF_reading
 * or GTF_writing set in the entry while mapped; negative errno. */
int gnttab_dom0_map(struct domain *d, uint32_t gref, int writable, uint64_t *frame);
int gnttab_dom0_unmap(struct domain *d, uint32_t gref);

/* gnttab_entry.c: entries of either version.  gnttab_acquire checks
 * entry ref of rd grants ldomid access (writing if write; a whole page if
 * map) and sets its busy bits (GTF_reading, and GTF_writing if write):
 * GNTST_okay, GNTST_bad_gntref, or `deny` (the caller's status for a
 * refused entry).  g->set says which bits this call set: give them back
 * with gnttab_release.  Callers hold evtchn_peers_lock. */
struct gnttab_grant {
	uint64_t frame;
	uint16_t off, len; /* the bytes granted (a version-2 sub-page grant) */
	uint16_t set;
};
int16_t gnttab_acquire(struct domain *rd, uint32_t ref, uint16_t ldomid, int write, int map,
		       int16_t deny, struct gnttab_grant *g);
void gnttab_release(struct domain *rd, uint32_t ref, uint16_t bits);
uint16_t *gnttab_busy(struct domain *d, uint32_t ref); /* NULL past the table */
uint32_t gnttab_nr_entries(const struct domain *d);
int gnttab_v2(const struct domain *d);
uint64_t gnttab_first_mfn(const struct domain *d);
long gnttab_set_version(struct vcpu *v, uint32_t *version);
long gnttab_get_status_frames(struct vcpu *v, uint64_t uop, uint64_t count);

/* gnttab_map.c: map/unmap_grant_ref between guests through the foreign
 * window; may a PTE of d name window frame mfn (a live map, writable only
 * if the map is)?  0 or -XEN_EPERM.  Release what a dying domain maps. */
long gnttab_map_batch(struct vcpu *v, uint64_t cmd, uint64_t uop, uint64_t count);
int gnttab_window_frame_ok(struct domain *d, uint64_t mfn, int writable);
/* Under evtchn_peers_lock: whose RAM frame @frame of d names for a grant
 * copy (d itself, or the granter of a map in d's foreign window, writable
 * only if the map is) and that owner's frame; NULL if none. */
struct domain *gnttab_frame_owner(struct domain *d, uint64_t frame, int write, uint64_t *oframe);
/* Under evtchn_peers_lock: a live guest or dom0 map holds frame @mfn of @d. */
int gnttab_frame_pinned(struct domain *d, uint64_t mfn);
void gnttab_domain_release(struct domain *d);
/* Xen's 'g' debug key for d (in use entries, maps held); under evtchn_peers_lock. */
void gnttab_dump(struct domain *d);
/* Log-dirty: mark every frame of d someone holds a writable grant map of. */
void gnttab_mark_writable_maps(struct domain *d);

/* Each live map of d's (invariant checks in tests/fuzz): granter (NULL:
 * gone), its frame, d's window frame, GNTMAP_* flags. */
typedef void (*gnttab_map_visit_fn)(void *arg, struct domain *rd, uint64_t frame,
				    uint64_t window_mfn, uint32_t flags);
void gnttab_maps_visit(struct domain *d, gnttab_map_visit_fn fn, void *arg);

/* Save record SAVEREC_GNTTAB (gnttab_entry.c): write; check (nothing
 * touched; 0 or negative errno with the reason in err); apply. */
struct srb;
struct saverec;
int gnttab_save(struct domain *d, struct srb *out);
int gnttab_restore_check(const struct saverec *recs, unsigned n, char *err, size_t errlen);
void gnttab_restore(struct domain *d, const struct saverec *recs, unsigned n);

#endif
