/*
 * Keel's libxengnttab.so.1: the ABI of Xen 4.17's <xengnttab.h> (symbols
 * versioned VERS_1.0..1.2 as Xen's), over libkeelgnttab.  Functions return
 * -1 (or NULL) with errno set on failure, as Xen's do on Linux: a grant
 * that cannot be mapped (bad domain, bad reference, not granted to dom0,
 * read-only) gives EINVAL, as gntdev's mmap does.
 *
 * Not offered by keeld, failing with EOPNOTSUPP: the xengntshr_* calls
 * (dom0 granting its own pages), dma-bufs, and a notify port on
 * map_grant_ref_notify (a notify offset works).
 */
#ifndef KEEL_XENGNTTAB_H
#define KEEL_XENGNTTAB_H

#include <stddef.h>
#include <stdint.h>

#include "abi/event_channel.h"
#include "abi/grant_table.h"

struct xentoollog_logger;
typedef struct xengntdev_handle xengnttab_handle;
typedef struct xengntdev_handle xengntshr_handle;

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags);
int xengnttab_close(xengnttab_handle *xgt);
int xengnttab_fd(xengnttab_handle *xgt);
void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot);
void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t *domids,
			       uint32_t *refs, int prot);
void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot);
/* notify_offset / notify_port: (uint32_t)-1 for none. */
void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot,
				     uint32_t notify_offset, evtchn_port_t notify_port);
int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count);
int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants);

/* One grant copy: each side a grant of a domain (flags GNTCOPY_*_gref) or
 * a buffer of this process; status is the segment's GNTST_* answer. */
struct xengnttab_grant_copy_segment {
	union xengnttab_copy_ptr {
		void *virt;
		struct {
			uint32_t ref;
			uint16_t offset;
			uint16_t domid;
		} foreign;
	} source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
};
typedef struct xengnttab_grant_copy_segment xengnttab_grant_copy_segment_t;

/* The layout programs built against Xen pass in. */
_Static_assert(sizeof(xengnttab_grant_copy_segment_t) == 24, "grant copy segment");
_Static_assert(offsetof(xengnttab_grant_copy_segment_t, dest) == 8, "grant copy segment");
_Static_assert(offsetof(xengnttab_grant_copy_segment_t, len) == 16, "grant copy segment");
_Static_assert(offsetof(xengnttab_grant_copy_segment_t, flags) == 18, "grant copy segment");
_Static_assert(offsetof(xengnttab_grant_copy_segment_t, status) == 20, "grant copy segment");

int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count,
			 xengnttab_grant_copy_segment_t *segs);

#define GNTDEV_DMA_FLAG_WC	 (1 << 0)
#define GNTDEV_DMA_FLAG_COHERENT (1 << 1)

int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t flags,
				   uint32_t count, const uint32_t *refs, uint32_t *fd);
int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *xgt, uint32_t fd, uint32_t wait_to_ms);
int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t fd, uint32_t count,
				 uint32_t *refs);
int xengnttab_dmabuf_imp_release(xengnttab_handle *xgt, uint32_t fd);

xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned int open_flags);
int xengntshr_close(xengntshr_handle *xgs);
int xengntshr_fd(xengntshr_handle *xgs);
void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count, uint32_t *refs,
			    int writable);
void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid, uint32_t *ref,
				  int writable, uint32_t notify_offset, evtchn_port_t notify_port);
int xengntshr_unshare(xengntshr_handle *xgs, void *start_address, uint32_t count);

#endif
