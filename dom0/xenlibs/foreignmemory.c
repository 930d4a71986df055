/*
 * libxenforeignmemory.so.1 for Keel: a privileged dom0 process maps
 * frames of a domain's RAM (a device model's view of its guest).  keeld's
 * map-frames hands over the domain's memory fd for a run of frames it has
 * checked; this file asks once per run of consecutive frames, moves each
 * run into its place in one region reserved up front, so the caller gets
 * the contiguous mapping Xen's privcmd gives, and keeps Xen's per-frame
 * error reporting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../libkeelctl/keelctl.h"
#include "include/xenforeignmemory.h"

#define FMEM_PAGE 4096ul

struct xenforeignmemory_handle {
	struct keelctl *ctl;
};

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags)
{
	xenforeignmemory_handle *fmem = calloc(1, sizeof(*fmem));
	int r;

	if (!fmem)
		return NULL;
	r = keelctl_open(NULL, &fmem->ctl);
	if (r < 0) {
		free(fmem);
		errno = -r;
		return NULL;
	}
	return fmem;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	if (!fmem)
		return 0;
	keelctl_close(fmem->ctl);
	free(fmem);
	return 0;
}

/* Map arr[0..n) (consecutive frames) at dst; 0 or a negative errno. */
static int fmem_map_run(xenforeignmemory_handle *fmem, uint32_t dom, int prot, uint8_t *dst,
			xen_pfn_t first, size_t n)
{
	void *src, *moved;
	int r = keelctl_map_frames(fmem->ctl, dom, first, n, &src);

	if (r < 0)
		return r;
	moved = mremap(src, n * FMEM_PAGE, n * FMEM_PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED) {
		r = -errno;
		munmap(src, n * FMEM_PAGE);
		return r;
	}
	if (!(prot & PROT_WRITE) && mprotect(dst, n * FMEM_PAGE, prot) < 0)
		return -errno;
	return 0;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr, int prot,
			    int flags, size_t pages, const xen_pfn_t arr[], int err[])
{
	uint8_t *region;
	int *errs = err, first_err = 0;
	size_t i, n;

	if (pages == 0 || pages > SIZE_MAX / FMEM_PAGE || (prot & ~(PROT_READ | PROT_WRITE)) ||
	    (flags & ~MAP_FIXED)) {
		errno = EINVAL;
		return NULL;
	}
	if (!errs && !(errs = calloc(pages, sizeof(*errs))))
		return NULL;
	region = mmap(addr, pages * FMEM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1,
		      0);
	if (region == MAP_FAILED) {
		first_err = errno;
		goto out;
	}
	for (i = 0; i < pages; i += n) {
		int r;

		for (n = 1; i + n < pages && arr[i + n] == arr[i] + n; n++)
			;
		r = fmem_map_run(fmem, dom, prot, region + i * FMEM_PAGE, arr[i], n);
		/* A run keeld refuses whole may still hold good frames (all
		 * but a missing domain): try them one by one so each gets
		 * its own answer. */
		for (size_t k = 0; k < n; k++)
			errs[i + k] =
				r < 0 && r != -ESRCH && n > 1
					? fmem_map_run(fmem, dom, prot,
						       region + (i + k) * FMEM_PAGE, arr[i + k], 1)
					: r;
	}
	for (i = 0; i < pages && !first_err; i++)
		first_err = -errs[i];
	if (first_err && !err) {
		munmap(region, pages * FMEM_PAGE);
		region = NULL;
	}
out:
	if (!err)
		free(errs);
	if (!region || region == MAP_FAILED) {
		errno = first_err;
		return NULL;
	}
	return region;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
			   const xen_pfn_t arr[], int err[])
{
	return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	return munmap(addr, pages * FMEM_PAGE);
}

/* Nothing to confine a handle to on Keel (see toolcore.c); say so once. */
int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
	static int told;

	if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
		fprintf(stderr,
			"libxenforeignmemory (Keel): restrict to domain %u: not "
			"restricted on Keel\n",
			domid);
	return 0;
}

xenforeignmemory_resource_handle *
xenforeignmemory_map_resource(xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
			      unsigned int id, unsigned long frame, unsigned long nr_frames,
			      void **paddr, int prot, int flags)
{
	errno = EOPNOTSUPP;
	return NULL;
}

int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
				    xenforeignmemory_resource_handle *fres)
{
	return 0; /* only NULL can reach here: map_resource never succeeds */
}

int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
				   unsigned int id, size_t *size)
{
	errno = EOPNOTSUPP;
	return -1;
}
