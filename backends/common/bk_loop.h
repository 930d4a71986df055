/*
 * THE LOOPBACK TEST TRANSPORT.  Not a hypervisor: an in-process stand-in so
 * the backends can be tested end to end today.  Each "frontend domain" is a
 * memfd of pages (its RAM) plus a version-1 grant table; a test thread plays
 * the frontend by writing its pages and grant entries.  Grant mapping checks
 * each entry as Xen does (type permit_access, the granted domain is the
 * backend's, read-only grants refuse writable maps, the frame lies inside
 * the domain) and maps exactly the granted frames from the memfd, so a
 * backend cannot reach anything else of the frontend's memory.  While mapped
 * an entry carries GTF_reading/GTF_writing and cannot be revoked.  An event
 * channel is a pair of eventfds, one per direction.
 */
#ifndef KEEL_BK_LOOP_H
#define KEEL_BK_LOOP_H

#include <stdint.h>

#include "bk_transport.h"

struct bk_loop;

/* A loopback "hypervisor" whose backend runs as @backend_domid. */
int bk_loop_create(uint16_t backend_domid, struct bk_loop **out);
void bk_loop_destroy(struct bk_loop *loop);
/* The backend's view: fills @t with the loopback's grant and event-channel ops. */
void bk_loop_transport(struct bk_loop *loop, struct bk_transport *t);

/* ---- the frontend's side (test code) ---- */

/* A frontend domain with @nr_pages pages of RAM and @nr_grants grant entries. */
int bk_loop_add_domain(struct bk_loop *loop, uint16_t domid, unsigned nr_pages, unsigned nr_grants);
/* The frontend's own mapping of its page @gfn (NULL if out of range). */
void *bk_loop_page(struct bk_loop *loop, uint16_t domid, uint32_t gfn);
/* Allocate a free page of the domain (simple bump allocator); -ENOMEM when out. */
int bk_loop_alloc_page(struct bk_loop *loop, uint16_t domid, uint32_t *gfn);
/* gnttab_grant_foreign_access: offer @gfn to @to_domid. */
int bk_loop_grant(struct bk_loop *loop, uint16_t domid, uint32_t gfn, uint16_t to_domid,
		  bool readonly, grant_ref_t *ref);
/* gnttab_end_foreign_access: -EBUSY while the backend still maps it. */
int bk_loop_end_grant(struct bk_loop *loop, uint16_t domid, grant_ref_t ref);
/* The raw shared entry, for tests that forge bad grants (NULL if out of range). */
struct grant_entry_v1 *bk_loop_grant_entry(struct bk_loop *loop, uint16_t domid, grant_ref_t ref);
/* Grant refs currently mapped by the backend (for leak checks). */
unsigned bk_loop_mapped_count(struct bk_loop *loop, uint16_t domid);

/* An unbound port of @domid for the backend to bind (evtchn alloc_unbound). */
int bk_loop_evtchn_alloc(struct bk_loop *loop, uint16_t domid, uint32_t *port);
/* The frontend's fd: readable when the backend notified. */
int bk_loop_evtchn_front_fd(struct bk_loop *loop, uint16_t domid, uint32_t port);
int bk_loop_evtchn_front_notify(struct bk_loop *loop, uint16_t domid, uint32_t port);
/* Wait up to @timeout_ms for a backend notification and consume it; -ETIMEDOUT. */
int bk_loop_evtchn_front_wait(struct bk_loop *loop, uint16_t domid, uint32_t port, int timeout_ms);
/* Is the port bound by the backend? */
bool bk_loop_evtchn_bound(struct bk_loop *loop, uint16_t domid, uint32_t port);

#endif
