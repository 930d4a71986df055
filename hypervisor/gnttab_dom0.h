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

#include "../dom0/libkeelctl/keelctl_wire.h"
#include "domain.h"

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

#endif
