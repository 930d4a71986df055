/*
 * Grant copy for dom0 processes (keeld's control socket ops GCOPY_REGISTER,
 * GCOPY_UNREGISTER and GRANT_COPY; wire format in keelctl_wire.h).  A dom0
 * backend registers a buffer (a sealed memfd keeld maps once), then moves
 * data between it and the pages guests granted to dom0 in batches, one
 * control round trip per batch instead of a map and an unmap per page.
 */
#ifndef KEEL_HV_GNTTAB_DOM0_H
#define KEEL_HV_GNTTAB_DOM0_H

#include <stdint.h>

#include "../../dom0/libkeelctl/keelctl_wire.h"
#include "../core/domain.h"

/* How the caller names domains (keeld's domain table). */
typedef struct domain *(*gnttab_dom0_find_fn)(uint32_t domid);

/* Map `size` bytes of memfd `fd` for connection `conn` (fd is not kept):
 * the memfd must carry F_SEAL_SHRINK and be at least size bytes long.
 * *id names it in copy ops.  0 or negative errno. */
int gnttab_dom0_buf_register(int conn, int fd, uint64_t size, uint32_t *id);
int gnttab_dom0_buf_unregister(int conn, uint32_t id);
/* The connection went away: unmap everything it registered. */
void gnttab_dom0_conn_closed(int conn);

/* Run n copy ops for connection conn (n <= KEELCTL_GCOPY_MAX, else
 * -EINVAL and nothing done); status[i] is the GNTST_* of ops[i]. */
int gnttab_dom0_copy(int conn, gnttab_dom0_find_fn find, const struct keelctl_gcopy *ops,
		     uint32_t n, int16_t *status);

/* MAP_GRANTS: gnttab_dom0_map for refs[0..n) of d, all or none; on
 * failure *bad is the index that failed.  UNMAP_GRANTS: gnttab_dom0_unmap
 * for each, the first error. */
int gnttab_dom0_map_batch(struct domain *d, const uint32_t *refs, uint32_t n, int writable,
			  uint64_t *frames, uint32_t *bad);
int gnttab_dom0_unmap_batch(struct domain *d, const uint32_t *refs, uint32_t n);

/*
 * dom0 maps held per control connection, released when it closes (as
 * closing Linux's gntdev unmaps every grant of that file): the
 * gnttab_dom0_conn_* forms of map / unmap / batches record what connection
 * conn holds, at most GNTTAB_DOM0_CONN_MAPS distinct (domain, reference)
 * pairs (-ENOSPC beyond, nothing mapped).  An unmap drops conn's own pin
 * (its writable one first); a reference conn never mapped (another
 * process's) drops one as gnttab_dom0_unmap does and that pin's record.
 */
#define GNTTAB_DOM0_CONN_MAPS 8192
int gnttab_dom0_conn_map(int conn, struct domain *d, uint32_t gref, int writable, uint64_t *frame);
int gnttab_dom0_conn_unmap(int conn, struct domain *d, uint32_t gref);
int gnttab_dom0_conn_map_batch(int conn, struct domain *d, const uint32_t *refs, uint32_t n,
			       int writable, uint64_t *frames, uint32_t *bad);
int gnttab_dom0_conn_unmap_batch(int conn, struct domain *d, const uint32_t *refs, uint32_t n);
/* conn went away: drop every pin it still holds; domains find no longer
 * knows are skipped.  Returns how many pins were dropped. */
unsigned gnttab_dom0_conn_release(int conn, gnttab_dom0_find_fn find);
/* Domain domid was destroyed (its table with it): forget its records. */
void gnttab_dom0_domain_gone(uint32_t domid);

/* gnttab_map.c: drop one dom0 pin of gref, of the kind asked (ANY: a
 * writable one if held, as gnttab_dom0_unmap).  -EINVAL for a reference
 * not in use, else the kind dropped (NONE: none of that kind held). */
#define GNTTAB_D0_ANY  (-1)
#define GNTTAB_D0_NONE 0
#define GNTTAB_D0_RD   1
#define GNTTAB_D0_WR   2
int gnttab_dom0_unmap_kind(struct domain *d, uint32_t gref, int kind);

#endif
