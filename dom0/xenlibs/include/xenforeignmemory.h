/*
 * Keel's libxenforeignmemory.so.1: the ABI of Xen 4.17's
 * <xenforeignmemory.h> (symbols versioned VERS_1.0..1.4 as Xen's), over
 * libkeelctl's map-frames: a privileged process (keeld's socket: root or
 * group keel) maps frames of a domain's RAM.  Functions return -1 (or
 * NULL) with errno set on failure, as Xen's do.
 *
 * With an err array, a map returns the region even when some frames
 * failed, and err[i] holds 0 or the frame's negative errno (-EINVAL: not
 * the domain's RAM; -ESRCH: no such domain); a failed frame's page is left
 * inaccessible.  Without one, any failed frame fails the whole map, with
 * that frame's errno.
 *
 * Resources (map_resource, resource_size) have no keeld counterpart yet
 * and fail with EOPNOTSUPP, which Xen's callers take as "use the older
 * way"; restrict succeeds without restricting (see xentoolcore.h).
 */
#ifndef KEEL_XENFOREIGNMEMORY_H
#define KEEL_XENFOREIGNMEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "xentoolcore.h"

#ifndef KEEL_XEN_PFN_T
#define KEEL_XEN_PFN_T
typedef unsigned long xen_pfn_t;
#endif

struct xentoollog_logger;
typedef struct xenforeignmemory_handle xenforeignmemory_handle;
typedef struct xenforeignmemory_resource_handle xenforeignmemory_resource_handle;

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags);
int xenforeignmemory_close(xenforeignmemory_handle *fmem);
void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
			   const xen_pfn_t arr[], int err[]);
/* addr and flags as for mmap (MAP_FIXED places the region at addr). */
void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr, int prot,
			    int flags, size_t pages, const xen_pfn_t arr[], int err[]);
int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages);
int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid);
xenforeignmemory_resource_handle *
xenforeignmemory_map_resource(xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
			      unsigned int id, unsigned long frame, unsigned long nr_frames,
			      void **paddr, int prot, int flags);
int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
				    xenforeignmemory_resource_handle *fres);
int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
				   unsigned int id, size_t *size);

#endif
