/*
 * libxenctrl.so.4.17 for Keel: the calls Debian's qemu-system-xen imports
 * from Xen's control library, over one libkeelctl connection per handle.
 * Xen's answers come from its hypercalls; here each call either asks
 * keeld (shutdown, and the domain's kind for the HVM parameters) or gives
 * the errno Xen gives in the same case, and the header says which.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/xen.h"
#include "../libkeelctl/keelctl.h"
#include "include/xenctrl.h"
#include "include/xenlibs_domain.h"

struct xc_interface_core {
	struct keelctl *ctl;  /* NULL for an XC_OPENFLAG_DUMMY handle */
	pthread_mutex_t lock; /* one keeld request at a time per connection */
};

/* A negative errno as Xen's -1 with errno; 0 stays 0. */
static int xc_ret(int r)
{
	if (r >= 0)
		return 0;
	errno = -r;
	return -1;
}

xc_interface *xc_interface_open(struct xentoollog_logger *logger,
				struct xentoollog_logger *dombuild_logger, unsigned open_flags)
{
	xc_interface *xch = calloc(1, sizeof(*xch));
	int r;

	if (!xch)
		return NULL;
	pthread_mutex_init(&xch->lock, NULL);
	if (open_flags & XC_OPENFLAG_DUMMY)
		return xch;
	r = keelctl_open(NULL, &xch->ctl);
	if (r < 0) {
		pthread_mutex_destroy(&xch->lock);
		free(xch);
		errno = -r;
		return NULL;
	}
	return xch;
}

int xc_interface_close(xc_interface *xch)
{
	if (!xch)
		return 0;
	keelctl_close(xch->ctl);
	pthread_mutex_destroy(&xch->lock);
	free(xch);
	return 0;
}

/* 0 when xch can reach keeld; else -1 with errno (EINVAL: no handle,
 * EBADF: a dummy handle, which reaches nothing). */
static int xc_usable(xc_interface *xch)
{
	if (!xch) {
		errno = EINVAL;
		return -1;
	}
	if (!xch->ctl) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason)
{
	int r;

	if (xc_usable(xch) < 0)
		return -1;
	pthread_mutex_lock(&xch->lock);
	r = keelctl_domain_shutdown(xch->ctl, domid, (uint32_t)reason, 0);
	pthread_mutex_unlock(&xch->lock);
	return xc_ret(r);
}

/*
 * HVMOP_get_param / set_param as Xen's hvm.c answers them: the index
 * first, then the domain (any id, DOMID_SELF included: dom0 is not HVM),
 * then its kind (keeld: ESRCH, or EINVAL for a domain that is not HVM),
 * then keeld's parameter (hypervisor/hvm/hvm_ioreq.c).
 */
static int xc_hvm_param(xc_interface *xch, uint32_t dom, int param, int set, uint64_t *value)
{
	struct keelctl_dm_req q = {.op = set ? KEELCTL_DM_SET_PARAM : KEELCTL_DM_GET_PARAM,
				   .arg = {(uint64_t)(uint32_t)param, *value}};
	int r;

	if (xc_usable(xch) < 0)
		return -1;
	if ((uint32_t)param >= HVM_NR_PARAMS || dom == 0 || dom == DOMID_SELF) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&xch->lock);
	r = keelctl_dm(xch->ctl, dom, &q);
	pthread_mutex_unlock(&xch->lock);
	if (r < 0)
		return xc_ret(r);
	*value = q.arg[0];
	return 0;
}

int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long *value)
{
	uint64_t v = 0;

	/* Xen writes *value only on success */
	if (xc_hvm_param(handle, dom, param, 0, &v) < 0)
		return -1;
	*value = (unsigned long)v;
	return 0;
}

int xc_set_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long value)
{
	uint64_t v = value;

	return xc_hvm_param(handle, dom, param, 1, &v);
}

/*
 * XENMEM_populate_physmap from dom0 (QEMU's option ROMs and video RAM past
 * the end of an HVM domain's RAM): keeld backs the frames as Xen's p2m
 * would (hypervisor/hvm/hvm_ioreq.c), each run of extents that follow one
 * another one request.  As Xen's library, fewer extents than asked is
 * EBUSY: so is a domain that does not exist or is not HVM (Xen populates
 * nothing then; a Keel PV domain's RAM is fixed when it is built), a bad
 * extent order, a frame in the RAM the domain was built with, or memory
 * past its maxmem.  Zero extents are done at once, as in Xen.
 */
int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
				     unsigned int extent_order, unsigned int mem_flags,
				     xen_pfn_t *extent_start)
{
	unsigned long i = 0, n;
	int r = 0;

	(void)mem_flags;
	if (xc_usable(xch) < 0)
		return -1;
	if (nr_extents == 0)
		return 0;
	if (!extent_start) {
		errno = EFAULT;
		return -1;
	}
	if (domid == DOMID_SELF || domid == 0) { /* dom0's own RAM: not Keel's to grow */
		errno = EBUSY;
		return -1;
	}
	while (i < nr_extents && r == 0) {
		struct keelctl_dm_req q = {.op = KEELCTL_DM_POPULATE,
					   .arg = {extent_start[i], extent_order}};

		for (n = 1; i + n < nr_extents && n < (1UL << 16) &&
			    extent_start[i + n] == extent_start[i] + (n << extent_order);
		     n++)
			;
		q.arg[2] = n;
		pthread_mutex_lock(&xch->lock);
		r = keelctl_dm(xch->ctl, domid, &q);
		pthread_mutex_unlock(&xch->lock);
		if (r == 0 && q.arg[0] != n)
			r = q.arg[1] ? (int)(int64_t)q.arg[1] : -EBUSY;
		if (r == 0)
			i += n;
	}
	if (r == 0)
		return 0;
	fprintf(stderr,
		"libxenctrl (Keel): populate_physmap for domain %u: frame %#llx not populated "
		"(%s)\n",
		domid, (unsigned long long)extent_start[i], strerror(-r));
	errno = EBUSY;
	return -1;
}

/* Keel passes no host PCI device through: each call fails with
 * EOPNOTSUPP and says so once on stderr, naming itself. */
static int xc_no_passthrough(xc_interface *xch, const char *func, int *told)
{
	if (!xch) {
		errno = EINVAL;
		return -1;
	}
	if (!__atomic_exchange_n(told, 1, __ATOMIC_RELAXED))
		fprintf(stderr, "libxenctrl (Keel): PCI passthrough is not supported: %s\n", func);
	errno = EOPNOTSUPP;
	return -1;
}

#define XC_NO_PASSTHROUGH(xch)                                  \
	do {                                                    \
		static int told;                                \
		return xc_no_passthrough(xch, __func__, &told); \
	} while (0)

int xc_domain_bind_pt_pci_irq(xc_interface *xch, uint32_t domid, uint8_t machine_irq, uint8_t bus,
			      uint8_t device, uint8_t intx)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_domain_unbind_pt_irq(xc_interface *xch, uint32_t domid, uint8_t machine_irq,
			    uint8_t irq_type, uint8_t bus, uint8_t device, uint8_t intx,
			    uint8_t isa_irq)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_domain_update_msi_irq(xc_interface *xch, uint32_t domid, uint32_t gvec, uint32_t pirq,
			     uint32_t gflags, uint64_t gtable)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_domain_unbind_msi_irq(xc_interface *xch, uint32_t domid, uint32_t gvec, uint32_t pirq,
			     uint32_t gflags)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_domain_iomem_permission(xc_interface *xch, uint32_t domid, unsigned long first_mfn,
			       unsigned long nr_mfns, uint8_t allow_access)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_domain_ioport_mapping(xc_interface *xch, uint32_t domid, uint32_t first_gport,
			     uint32_t first_mport, uint32_t nr_ports, uint32_t add_mapping)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_domain_memory_mapping(xc_interface *xch, uint32_t domid, unsigned long first_gfn,
			     unsigned long first_mfn, unsigned long nr_mfns, uint32_t add_mapping)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_physdev_map_pirq(xc_interface *xch, uint32_t domid, int index, int *pirq)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_physdev_map_pirq_msi(xc_interface *xch, uint32_t domid, int index, int *pirq, int devfn,
			    int bus, int entry_nr, uint64_t table_base)
{
	XC_NO_PASSTHROUGH(xch);
}

int xc_physdev_unmap_pirq(xc_interface *xch, uint32_t domid, int pirq)
{
	XC_NO_PASSTHROUGH(xch);
}
