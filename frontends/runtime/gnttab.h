/*
 * The runtime's grant table (version 1): GNTTABOP_setup_table for up to
 * GNT_MAX_FRAMES frames (clamped to what query_size allows), the frames
 * mapped into the runtime's own area, and a free list of references above
 * the toolstack's reserved ones.  gnt_grant fills an entry and publishes it
 * with the flags last (release order); gnt_end revokes it only if the
 * remote side does not hold it (GTF_reading/GTF_writing clear), as Linux's
 * gnttab_end_foreign_access_ref does, so a page is never reused while the
 * backend can still touch it.
 */
#ifndef KEEL_RT_GNTTAB_H
#define KEEL_RT_GNTTAB_H

#include <stdint.h>

#include "abi/grant_table.h"

#define GNT_MAX_FRAMES 4 /* 2048 entries */

/* Set up and map the table; idempotent.  0 or a negative Xen errno. */
int gnt_init(void);
/* Grant frame mfn to domid (read-only when readonly); the reference, or -XEN_ENOSPC. */
int gnt_grant(uint16_t domid, uint64_t mfn, int readonly);
/*
 * Revoke ref and return it to the pool: 0, or -XEN_EBUSY while the remote
 * side still has it mapped (the entry is then left as it was).
 */
int gnt_end(grant_ref_t ref);
/* Revoke without freeing the reference (-XEN_EBUSY as above); gnt_free returns it. */
int gnt_revoke(grant_ref_t ref);
void gnt_free(grant_ref_t ref);
/* The entry's current flags (tests). */
uint16_t gnt_flags(grant_ref_t ref);
/* References in the table, and how many are free now. */
unsigned gnt_nr_entries(void);
unsigned gnt_nr_free(void);

/*
 * Xen's suspend protocol (suspend.c calls these): unmap the table's frames
 * before the suspend; after it map them again (cancelled: fresh == 0) or
 * set the table up again and republish what was granted (a new life).
 */
void gnt_suspend(void);
int gnt_resume(int fresh);

#endif
