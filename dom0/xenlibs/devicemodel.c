/*
 * libxendevicemodel.so.1 for Keel: Xen's device-model library (one dm_op
 * per call) over a libkeelctl connection per handle.  The ioreq-server
 * calls, the ISA and PCI interrupt lines, the PCI link routes and the
 * vCPU count, the relocation of populated frames and the dirty-VRAM log
 * are keeld's DM control op on an HVM domain (hypervisor/hvm/hvm_ioreq.c,
 * hvm_vram.c), an MSI keeld's KVM_SIGNAL_MSI (hvm_irq.c); the rest (memory
 * types, event injection) have no keeld counterpart and are EOPNOTSUPP on
 * an HVM domain.  Every call checks in the order Xen's
 * library, Linux's privcmd and Xen's dm_op check (see the header); the
 * shutdown is keeld's remote shutdown.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../libkeelctl/keelctl.h"
#include "include/xendevicemodel.h"
#include "include/xenlibs_domain.h"

/* Linux's privcmd pins each dm_op buffer and refuses one larger than
 * this (its dm_op_buf_max_size default) with E2BIG. */
#define XENDM_BUF_MAX 4096u

struct xendevicemodel_handle {
	struct keelctl *ctl;
	pthread_mutex_t lock; /* one keeld request at a time per connection */
};

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags)
{
	xendevicemodel_handle *dmod = calloc(1, sizeof(*dmod));
	int r;

	if (!dmod)
		return NULL;
	r = keelctl_open(NULL, &dmod->ctl);
	if (r < 0) {
		free(dmod);
		errno = -r;
		return NULL;
	}
	pthread_mutex_init(&dmod->lock, NULL);
	return dmod;
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	if (!dmod)
		return 0;
	keelctl_close(dmod->ctl);
	pthread_mutex_destroy(&dmod->lock);
	free(dmod);
	return 0;
}

static int xendm_fail(int err)
{
	errno = err;
	return -1;
}

/*
 * One dm_op on domid, after the caller's own argument checks: Xen's
 * dm_op takes the domain as a remote one (domain 0, the caller's own, is
 * EPERM; none ESRCH) and refuses any that is not HVM with EINVAL.  An HVM
 * domain would reach the operation itself, which keeld does not offer.
 */
/* dm_op's domain checks: EPERM for domain 0, keeld's ESRCH (-1, errno
 * set); else whether the domain is HVM. */
static int xendm_is_hvm(xendevicemodel_handle *dmod, domid_t domid)
{
	int r;

	if (domid == 0)
		return xendm_fail(EPERM);
	pthread_mutex_lock(&dmod->lock);
	r = xenlibs_domain_is_hvm(dmod->ctl, domid);
	pthread_mutex_unlock(&dmod->lock);
	return r < 0 ? xendm_fail(-r) : r;
}

static int xendm_op(xendevicemodel_handle *dmod, domid_t domid)
{
	int r = xendm_is_hvm(dmod, domid);

	return r < 0 ? r : xendm_fail(r ? EOPNOTSUPP : EINVAL);
}

/* One dm_op keeld serves: dm_op's domain checks (EPERM for domain 0;
 * keeld's ESRCH, and EINVAL for a domain that is not HVM), then keeld's
 * answer; the results in q. */
static int xendm_call(xendevicemodel_handle *dmod, domid_t domid, uint32_t op, uint32_t id,
		      uint64_t a0, uint64_t a1, uint64_t a2, struct keelctl_dm_req *q)
{
	struct keelctl_dm_req one = {.op = op, .id = id, .arg = {a0, a1, a2}};
	int r;

	if (!q)
		q = &one;
	else
		*q = one;
	if (domid == 0)
		return xendm_fail(EPERM);
	pthread_mutex_lock(&dmod->lock);
	r = keelctl_dm(dmod->ctl, domid, q);
	pthread_mutex_unlock(&dmod->lock);
	return r < 0 ? xendm_fail(-r) : 0;
}

/* The buffer a dm_op passes besides its header, as privcmd checks it. */
static int xendm_buf_bad(const void *buf, size_t size)
{
	if (size > XENDM_BUF_MAX)
		return E2BIG;
	if (size && !buf)
		return EFAULT;
	return 0;
}

#define XENDM_HANDLE(dmod)                         \
	do {                                       \
		if (!(dmod))                       \
			return xendm_fail(EINVAL); \
	} while (0)

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
				       int handle_bufioreq, ioservid_t *id)
{
	struct keelctl_dm_req q;

	XENDM_HANDLE(dmod);
	if (xendm_call(dmod, domid, KEELCTL_DM_CREATE_SERVER, 0, (uint64_t)handle_bufioreq, 0, 0,
		       &q) < 0)
		return -1;
	*id = (ioservid_t)q.id;
	return 0;
}

int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					 xen_pfn_t *ioreq_gfn, xen_pfn_t *bufioreq_gfn,
					 evtchn_port_t *bufioreq_port)
{
	struct keelctl_dm_req q;

	XENDM_HANDLE(dmod);
	if (xendm_call(dmod, domid, KEELCTL_DM_GET_INFO, id, 0, 0, 0, &q) < 0)
		return -1;
	if (ioreq_gfn)
		*ioreq_gfn = q.arg[0];
	if (bufioreq_gfn)
		*bufioreq_gfn = q.arg[1];
	if (bufioreq_port)
		*bufioreq_port = (evtchn_port_t)q.arg[2];
	return 0;
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, int is_mmio, uint64_t start,
						uint64_t end)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_MAP_RANGE, id, is_mmio ? 1 : 0, start, end, NULL);
}

int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						    ioservid_t id, int is_mmio, uint64_t start,
						    uint64_t end)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_UNMAP_RANGE, id, is_mmio ? 1 : 0, start, end,
			  NULL);
}

/* Xen's library accepts only HVMMEM_ioreq_server and the write flag. */
int xendevicemodel_map_mem_type_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, uint16_t type, uint32_t flags)
{
	XENDM_HANDLE(dmod);
	if (type != HVMMEM_ioreq_server || (flags & ~XEN_DMOP_IOREQ_MEM_ACCESS_WRITE))
		return xendm_fail(EINVAL);
	return xendm_op(dmod, domid);
}

/* Xen's library takes one PCI function: device 0..31, function 0..7. */
int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
					      ioservid_t id, uint16_t segment, uint8_t bus,
					      uint8_t device, uint8_t function)
{
	uint64_t sbdf = ((uint64_t)segment << 16) | ((uint64_t)bus << 8) | ((uint64_t)device << 3) |
			function;

	XENDM_HANDLE(dmod);
	if (device > 0x1f || function > 0x7)
		return xendm_fail(EINVAL);
	return xendm_call(dmod, domid, KEELCTL_DM_MAP_RANGE, id, 2, sbdf, sbdf, NULL);
}

int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						  ioservid_t id, uint16_t segment, uint8_t bus,
						  uint8_t device, uint8_t function)
{
	uint64_t sbdf = ((uint64_t)segment << 16) | ((uint64_t)bus << 8) | ((uint64_t)device << 3) |
			function;

	XENDM_HANDLE(dmod);
	if (device > 0x1f || function > 0x7)
		return xendm_fail(EINVAL);
	return xendm_call(dmod, domid, KEELCTL_DM_UNMAP_RANGE, id, 2, sbdf, sbdf, NULL);
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_DESTROY_SERVER, id, 0, 0, 0, NULL);
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					  int enabled)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_SET_STATE, id, enabled != 0, 0, 0, NULL);
}

int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *dmod, domid_t domid, uint16_t segment,
				      uint8_t bus, uint8_t device, uint8_t intx, unsigned int level)
{
	XENDM_HANDLE(dmod);
	/* Xen's dm_op: segment 0 and bus 0 only */
	if (segment || bus)
		return xendm_fail(EINVAL);
	return xendm_call(dmod, domid, KEELCTL_DM_PCI_INTX, 0, device, intx, level, NULL);
}

int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *dmod, domid_t domid, uint8_t irq,
				     unsigned int level)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_ISA_IRQ, 0, irq, level, 0, NULL);
}

int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid, unsigned int irq,
				 unsigned int level)
{
	XENDM_HANDLE(dmod);
	return xendm_op(dmod, domid);
}

int xendevicemodel_set_pci_link_route(xendevicemodel_handle *dmod, domid_t domid, uint8_t link,
				      uint8_t irq)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_LINK_ROUTE, 0, link, irq, 0, NULL);
}

/* XEN_DMOP_inject_msi: keeld's KVM_SIGNAL_MSI on the domain
 * (hypervisor/hvm/hvm_irq.c, which checks the address and data). */
int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid, uint64_t msi_addr,
			      uint32_t msi_data)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_INJECT_MSI, 0, msi_addr, msi_data, 0, NULL);
}

/* XEN_DMOP_track_dirty_vram: keeld's KVM dirty log of relocated video
 * RAM (hypervisor/hvm/hvm_vram.c), Xen's bitmap; nr 0 stops it. */
int xendevicemodel_track_dirty_vram(xendevicemodel_handle *dmod, domid_t domid, uint64_t first_pfn,
				    uint32_t nr, unsigned long *dirty_bitmap)
{
	struct keelctl_dm_req q = {.op = KEELCTL_DM_TRACK_VRAM, .arg = {first_pfn, nr}};
	int bad, r;

	XENDM_HANDLE(dmod);
	bad = xendm_buf_bad(dirty_bitmap, ((size_t)nr + 7) / 8);
	if (bad)
		return xendm_fail(bad);
	if (domid == 0)
		return xendm_fail(EPERM);
	pthread_mutex_lock(&dmod->lock);
	r = keelctl_dm_data(dmod->ctl, domid, &q, dirty_bitmap, (nr + 7) / 8);
	pthread_mutex_unlock(&dmod->lock);
	return r < 0 ? xendm_fail(-r) : 0;
}

int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *dmod, domid_t domid,
					struct xen_dm_op_modified_memory_extent extents[],
					uint32_t nr)
{
	int bad;

	XENDM_HANDLE(dmod);
	bad = xendm_buf_bad(extents, (size_t)nr * sizeof(extents[0]));
	return bad ? xendm_fail(bad) : xendm_op(dmod, domid);
}

int xendevicemodel_modified_memory(xendevicemodel_handle *dmod, domid_t domid, uint64_t first_pfn,
				   uint32_t nr)
{
	struct xen_dm_op_modified_memory_extent one = {.nr = nr, .first_pfn = first_pfn};

	return xendevicemodel_modified_memory_bulk(dmod, domid, &one, 1);
}

int xendevicemodel_set_mem_type(xendevicemodel_handle *dmod, domid_t domid, hvmmem_type_t mem_type,
				uint64_t first_pfn, uint32_t nr)
{
	XENDM_HANDLE(dmod);
	return xendm_op(dmod, domid);
}

int xendevicemodel_inject_event(xendevicemodel_handle *dmod, domid_t domid, int vcpu,
				uint8_t vector, uint8_t type, uint32_t error_code, uint8_t insn_len,
				uint64_t extra)
{
	XENDM_HANDLE(dmod);
	return xendm_op(dmod, domid);
}

/* XEN_DMOP_remote_shutdown: keeld's remote shutdown, as a device model's
 * request (keeld applies dm_op's rules: EPERM, ESRCH, EINVAL if not HVM). */
int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid, unsigned int reason)
{
	int r;

	XENDM_HANDLE(dmod);
	pthread_mutex_lock(&dmod->lock);
	r = keelctl_domain_shutdown(dmod->ctl, domid, reason, KEELCTL_SHUTDOWN_DM);
	pthread_mutex_unlock(&dmod->lock);
	return r < 0 ? xendm_fail(-r) : 0;
}

/* XEN_DMOP_relocate_memory: keeld moves the frames' KVM slot, their
 * memory stays (hypervisor/hvm/hvm_vram.c). */
int xendevicemodel_relocate_memory(xendevicemodel_handle *dmod, domid_t domid, uint32_t size,
				   uint64_t src_gfn, uint64_t dst_gfn)
{
	XENDM_HANDLE(dmod);
	return xendm_call(dmod, domid, KEELCTL_DM_RELOCATE, 0, size, src_gfn, dst_gfn, NULL);
}

/*
 * QEMU pins its video RAM write-back after each move.  KVM maps an HVM
 * guest's frames write-back already (no device is assigned to it), so a WB
 * pin, or taking one away, asks for what holds; another memory type keeld
 * cannot impose (EOPNOTSUPP).  Xen's EINVAL for a bad range or type.
 */
int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *dmod, domid_t domid, uint64_t start,
					uint64_t end, uint32_t type)
{
	int r;

	XENDM_HANDLE(dmod);
	r = xendm_is_hvm(dmod, domid);
	if (r < 0)
		return r;
	if (!r || end < start || end >> 40)
		return xendm_fail(EINVAL);
	switch (type) {
	case XEN_DMOP_MEM_CACHEATTR_WB:
	case XEN_DMOP_DELETE_MEM_CACHEATTR:
		return 0;
	case XEN_DMOP_MEM_CACHEATTR_UC:
	case XEN_DMOP_MEM_CACHEATTR_WC:
	case XEN_DMOP_MEM_CACHEATTR_WT:
	case XEN_DMOP_MEM_CACHEATTR_WP:
	case XEN_DMOP_MEM_CACHEATTR_UCM:
		return xendm_fail(EOPNOTSUPP);
	default:
		return xendm_fail(EINVAL);
	}
}

int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus)
{
	struct keelctl_dm_req q;

	XENDM_HANDLE(dmod);
	if (xendm_call(dmod, domid, KEELCTL_DM_NR_VCPUS, 0, 0, 0, 0, &q) < 0)
		return -1;
	*vcpus = (unsigned int)q.arg[0];
	return 0;
}

/* Nothing to confine a handle to on Keel (see toolcore.c); say so once. */
int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
	static int told;

	XENDM_HANDLE(dmod);
	if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
		fprintf(stderr,
			"libxendevicemodel (Keel): restrict to domain %u: not restricted on "
			"Keel\n",
			domid);
	return 0;
}
