/*
 * libxengnttab.so.1 for Keel: Xen's grant-table library ABI on
 * libkeelgnttab (batched grant maps and keeld's batched grant copy).  It
 * adds Xen's calling convention and Linux gntdev's errno: a grant keeld
 * refuses to map is EINVAL (gntdev fails the mmap so), an address and
 * count that are not one whole mapping of this handle are EINVAL on unmap,
 * and a grant copy with a malformed segment fails whole with EINVAL before
 * anything is copied, while a segment keeld refuses only gets its GNTST_*
 * status.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../libkeelgnttab/keelgnttab.h"
#include "include/xengnttab.h"

/* libkeelgnttab's copy segment is Xen's, field for field: segments are
 * handed over as they are. */
_Static_assert(sizeof(struct keelgnttab_copy_seg) == sizeof(xengnttab_grant_copy_segment_t),
	       "copy segment");
_Static_assert(offsetof(struct keelgnttab_copy_seg, dest) ==
		       offsetof(xengnttab_grant_copy_segment_t, dest),
	       "copy segment");
_Static_assert(offsetof(struct keelgnttab_copy_seg, len) ==
		       offsetof(xengnttab_grant_copy_segment_t, len),
	       "copy segment");
_Static_assert(offsetof(struct keelgnttab_copy_seg, status) ==
		       offsetof(xengnttab_grant_copy_segment_t, status),
	       "copy segment");
_Static_assert(KEELGNTTAB_COPY_SOURCE_GREF == GNTCOPY_source_gref &&
		       KEELGNTTAB_COPY_DEST_GREF == GNTCOPY_dest_gref,
	       "copy flags");

#define XENGNTTAB_PAGE 4096u
#define XENGNTTAB_NONE ((uint32_t)-1) /* no notify offset / port */

/* A page whose byte at offset is cleared when it is unmapped (or the
 * handle closed): how a peer learns this side went away. */
struct xengnttab_notify {
	struct xengnttab_notify *next;
	uint8_t *page;
	uint32_t offset;
};

struct xengntdev_handle {
	struct keelgnttab *kg;
	int fd;		      /* what xengnttab_fd hands out; see there */
	pthread_mutex_t lock; /* the notify list: a handle is used from several threads */
	struct xengnttab_notify *notifies;
};

static void *xengnttab_fail(int err)
{
	errno = err;
	return NULL;
}

/* keeld's refusals of a map as gntdev's mmap reports them. */
static int xengnttab_map_errno(int r)
{
	switch (r) {
	case -ENOSPC:
		return ENOMEM; /* more pages mapped at once than the handle holds */
	case -ENOMEM:
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
		return -r;
	default:
		return EINVAL; /* bad domain, reference, permission, read-only */
	}
}

/* gntdev maps PROT_WRITE alone as read-write, and nothing without either. */
static int xengnttab_prot(int prot)
{
	if (prot & ~(PROT_READ | PROT_WRITE) || !prot)
		return -1;
	return prot & PROT_WRITE ? PROT_READ | PROT_WRITE : PROT_READ;
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	xengnttab_handle *xgt = calloc(1, sizeof(*xgt));
	int r;

	if (!xgt)
		return NULL;
	xgt->fd = eventfd(0, EFD_CLOEXEC);
	if (xgt->fd < 0) {
		r = errno;
		free(xgt);
		return xengnttab_fail(r);
	}
	r = keelgnttab_open(NULL, &xgt->kg);
	if (r < 0) {
		close(xgt->fd);
		free(xgt);
		return xengnttab_fail(-r);
	}
	pthread_mutex_init(&xgt->lock, NULL);
	return xgt;
}

static void xengnttab_notify_fire(xengnttab_handle *xgt, const void *page)
{
	pthread_mutex_lock(&xgt->lock);
	for (struct xengnttab_notify **pp = &xgt->notifies; *pp; pp = &(*pp)->next) {
		struct xengnttab_notify *n = *pp;

		if (n->page != page)
			continue;
		__atomic_store_n(n->page + n->offset, 0, __ATOMIC_RELEASE);
		*pp = n->next;
		free(n);
		break;
	}
	pthread_mutex_unlock(&xgt->lock);
}

int xengnttab_close(xengnttab_handle *xgt)
{
	if (!xgt)
		return 0;
	while (xgt->notifies)
		xengnttab_notify_fire(xgt, xgt->notifies->page);
	keelgnttab_close(xgt->kg);
	close(xgt->fd);
	pthread_mutex_destroy(&xgt->lock);
	free(xgt);
	return 0;
}

/* Xen hands out its gntdev fd, which callers only keep, poll (it is never
 * readable) or fstat; Keel's grants travel on keeld's socket, which must
 * not be read by anyone else, so the handle owns an fd of its own that
 * behaves the same way. */
int xengnttab_fd(xengnttab_handle *xgt)
{
	return xgt->fd;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
	void *addr;
	int p = xengnttab_prot(prot), r;

	if (p < 0)
		return xengnttab_fail(EINVAL);
	r = keelgnttab_map_grant_ref(xgt->kg, domid, ref, p, &addr);
	return r < 0 ? xengnttab_fail(xengnttab_map_errno(r)) : addr;
}

void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t *domids,
			       uint32_t *refs, int prot)
{
	void *addr;
	int p = xengnttab_prot(prot), r;

	if (p < 0 || count == 0)
		return xengnttab_fail(EINVAL);
	r = keelgnttab_map_grant_refs(xgt->kg, count, domids, refs, p, &addr);
	return r < 0 ? xengnttab_fail(xengnttab_map_errno(r)) : addr;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot)
{
	uint32_t *domids;
	void *addr;
	int e;

	if (count == 0 || count > KEELGNTTAB_MAX_MAPS)
		return xengnttab_fail(count ? ENOMEM : EINVAL);
	domids = malloc(count * sizeof(*domids));
	if (!domids)
		return NULL;
	for (uint32_t i = 0; i < count; i++)
		domids[i] = domid;
	addr = xengnttab_map_grant_refs(xgt, count, domids, refs, prot);
	e = errno;
	free(domids);
	errno = e;
	return addr;
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot,
				     uint32_t notify_offset, evtchn_port_t notify_port)
{
	struct xengnttab_notify *n = NULL;
	uint8_t *page;

	/* A notify port would name a port of dom0's kernel; Keel's ports
	 * belong to each xenevtchn handle, so there is none to send on. */
	if (notify_port != XENGNTTAB_NONE)
		return xengnttab_fail(EOPNOTSUPP);
	if (notify_offset != XENGNTTAB_NONE) {
		/* gntdev clears the byte itself: it needs a writable map. */
		if (notify_offset >= XENGNTTAB_PAGE || !(prot & PROT_WRITE))
			return xengnttab_fail(EINVAL);
		n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
	}
	page = xengnttab_map_grant_ref(xgt, domid, ref, prot);
	if (!page || !n) {
		free(n);
		return page;
	}
	pthread_mutex_lock(&xgt->lock);
	*n = (struct xengnttab_notify){xgt->notifies, page, notify_offset};
	xgt->notifies = n;
	pthread_mutex_unlock(&xgt->lock);
	return page;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	int r;

	if (!start_address || count == 0) {
		errno = EINVAL;
		return -1;
	}
	xengnttab_notify_fire(xgt, start_address);
	r = keelgnttab_munmap(xgt->kg, start_address, count);
	if (r < 0) {
		errno = r == -EINVAL ? EINVAL : -r;
		return -1;
	}
	return 0;
}

/* Linux's gntdev no longer limits a handle by this call; Keel's limit is
 * the handle's table (KEELGNTTAB_MAX_MAPS pages mapped at once). */
int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

/* gntdev refuses the whole batch for a segment it cannot express: no
 * grant on either side, or a grant side running past its page. */
static int xengnttab_copy_seg_ok(const xengnttab_grant_copy_segment_t *s)
{
	if (s->flags & ~(GNTCOPY_source_gref | GNTCOPY_dest_gref) ||
	    !(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)) || s->len > XENGNTTAB_PAGE)
		return 0;
	if ((s->flags & GNTCOPY_source_gref) &&
	    (uint32_t)s->source.foreign.offset + s->len > XENGNTTAB_PAGE)
		return 0;
	if ((s->flags & GNTCOPY_dest_gref) &&
	    (uint32_t)s->dest.foreign.offset + s->len > XENGNTTAB_PAGE)
		return 0;
	return 1;
}

int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count,
			 xengnttab_grant_copy_segment_t *segs)
{
	int r;

	for (uint32_t i = 0; i < count; i++)
		if (!xengnttab_copy_seg_ok(&segs[i])) {
			errno = EINVAL;
			return -1;
		}
	r = keelgnttab_copy(xgt->kg, count, (struct keelgnttab_copy_seg *)segs);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* dma-bufs and dom0's own grants (gntshr) have no keeld counterpart. */
int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t flags,
				   uint32_t count, const uint32_t *refs, uint32_t *fd)
{
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *xgt, uint32_t fd, uint32_t wait_to_ms)
{
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t fd, uint32_t count,
				 uint32_t *refs)
{
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_imp_release(xengnttab_handle *xgt, uint32_t fd)
{
	errno = EOPNOTSUPP;
	return -1;
}

xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	return xengnttab_fail(EOPNOTSUPP);
}

int xengntshr_close(xengntshr_handle *xgs)
{
	return 0; /* only NULL can reach here: open never succeeds */
}

int xengntshr_fd(xengntshr_handle *xgs)
{
	errno = EOPNOTSUPP;
	return -1;
}

void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count, uint32_t *refs,
			    int writable)
{
	return xengnttab_fail(EOPNOTSUPP);
}

void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid, uint32_t *ref,
				  int writable, uint32_t notify_offset, evtchn_port_t notify_port)
{
	return xengnttab_fail(EOPNOTSUPP);
}

int xengntshr_unshare(xengntshr_handle *xgs, void *start_address, uint32_t count)
{
	errno = EOPNOTSUPP;
	return -1;
}
