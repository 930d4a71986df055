/*
 * Grant tables (version 1): the frames a guest fills with grant entries
 * live in keeld's shim region and are mappable by the guest; dom0
 * processes map what a guest granted them through keeld (MAP_GRANT).
 */
#ifndef KEEL_HV_GNTTAB_H
#define KEEL_HV_GNTTAB_H

#include <stdint.h>

#include "domain.h"

#define GNTTAB_MAX_FRAMES 32

long gnttab_do_op(struct pv_vcpu *v, uint64_t cmd, uint64_t uop, uint64_t count);
/* Is mfn one of the domain's grant-table frames (mappable by the guest)? */
int gnttab_is_frame(struct domain *d, uint64_t mfn);
/* dom0 maps / unmaps grant gref of domain d: the frame, with GTF_reading
 * or GTF_writing set in the entry while mapped; negative errno. */
int gnttab_dom0_map(struct domain *d, uint32_t gref, int writable, uint64_t *frame);
int gnttab_dom0_unmap(struct domain *d, uint32_t gref);

#endif
