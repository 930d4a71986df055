/*
 * Keel's libxendevicemodel.so.1: the ABI of Xen 4.17's <xendevicemodel.h>
 * (symbols versioned VERS_1.0..1.4 as Xen's libxendevicemodel.map), over
 * libkeelctl.  Functions return 0 on success and -1 with errno set on
 * failure, as Xen's do; a NULL handle is EINVAL.
 *
 * Every call but open, close and restrict is one of Xen's device-model
 * operations (dm_op) on a domain, answered in Xen's order:
 *  - the checks Xen's library makes first (map_mem_type_to_ioreq_server:
 *    only HVMMEM_ioreq_server and the write-access flag; PCI device
 *    numbers: device <= 0x1f, function <= 7): EINVAL;
 *  - the checks Linux's privcmd makes on the buffers it pins (a dirty-VRAM
 *    bitmap or extent array over 4096 bytes: E2BIG; none given: EFAULT);
 *  - then Xen's dm_op: domain 0, the caller's own domain, EPERM; no such
 *    domain ESRCH; a domain that is not HVM EINVAL (shutdown included:
 *    Xen's dm_op refuses XEN_DMOP_remote_shutdown for a PV domain too;
 *    xc_domain_shutdown is the call for those).  On an HVM domain keeld
 *    serves the ioreq servers, the ISA/PCI interrupt lines, PCI link
 *    routes, nr_vcpus, MSIs (inject_msi: address 0xfee00000-0xfeefffff or
 *    its offset in that window, fixed or lowest-priority delivery, else
 *    EINVAL; vector 0 ERANGE) and shutdown; memory types, dirty VRAM,
 *    modified memory, event injection, relocation, cache attributes and
 *    set_irq_level are EOPNOTSUPP.
 * restrict succeeds without restricting (see xentoolcore.h).
 */
#ifndef KEEL_XENDEVICEMODEL_H
#define KEEL_XENDEVICEMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "abi/event_channel.h"
#include "xentoolcore.h"

#ifndef KEEL_XEN_PFN_T
#define KEEL_XEN_PFN_T
typedef unsigned long xen_pfn_t;
#endif

struct xentoollog_logger; /* accepted and ignored: Keel logs to stderr */
typedef struct xendevicemodel_handle xendevicemodel_handle;

/* An ioreq server's id (Xen's hvm/dm_op.h). */
typedef uint16_t ioservid_t;

/* create_ioreq_server's handle_bufioreq (Xen's hvm/hvm_op.h). */
#define HVM_IOREQSRV_BUFIOREQ_OFF    0
#define HVM_IOREQSRV_BUFIOREQ_LEGACY 1
#define HVM_IOREQSRV_BUFIOREQ_ATOMIC 2

/* Guest memory types (Xen's hvm/hvm_op.h, interface 4.7 and later): an
 * enum, passed as an int. */
typedef enum {
	HVMMEM_ram_rw,
	HVMMEM_ram_ro,
	HVMMEM_mmio_dm,
	HVMMEM_unused,
	HVMMEM_ioreq_server,
} hvmmem_type_t;

_Static_assert(sizeof(hvmmem_type_t) == 4, "hvmmem_type_t");
_Static_assert(HVMMEM_ioreq_server == 4, "hvmmem_type_t");

/* map_mem_type_to_ioreq_server's flags. */
#define XEN_DMOP_IOREQ_MEM_ACCESS_READ	(1u << 0)
#define XEN_DMOP_IOREQ_MEM_ACCESS_WRITE (1u << 1)

/* pin_memory_cacheattr's types. */
#define XEN_DMOP_MEM_CACHEATTR_UC     0
#define XEN_DMOP_MEM_CACHEATTR_WC     1
#define XEN_DMOP_MEM_CACHEATTR_WT     4
#define XEN_DMOP_MEM_CACHEATTR_WP     5
#define XEN_DMOP_MEM_CACHEATTR_WB     6
#define XEN_DMOP_MEM_CACHEATTR_UCM    7
#define XEN_DMOP_DELETE_MEM_CACHEATTR (~(uint32_t)0)

/* inject_event's types. */
#define XEN_DMOP_EVENT_ext_int	  0
#define XEN_DMOP_EVENT_nmi	  2
#define XEN_DMOP_EVENT_hw_exc	  3
#define XEN_DMOP_EVENT_sw_int	  4
#define XEN_DMOP_EVENT_pri_sw_exc 5
#define XEN_DMOP_EVENT_sw_exc	  6

/* One run of pages a device model wrote (modified_memory_bulk): the
 * layout callers built against Xen pass in, an array of them. */
struct xen_dm_op_modified_memory_extent {
	uint32_t nr;
	uint32_t pad;
	uint64_t first_pfn;
};

_Static_assert(sizeof(struct xen_dm_op_modified_memory_extent) == 16, "modified memory extent");
_Static_assert(offsetof(struct xen_dm_op_modified_memory_extent, pad) == 4,
	       "modified memory extent");
_Static_assert(offsetof(struct xen_dm_op_modified_memory_extent, first_pfn) == 8,
	       "modified memory extent");

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags);
int xendevicemodel_close(xendevicemodel_handle *dmod);

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
				       int handle_bufioreq, ioservid_t *id);
int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					 xen_pfn_t *ioreq_gfn, xen_pfn_t *bufioreq_gfn,
					 evtchn_port_t *bufioreq_port);
int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, int is_mmio, uint64_t start,
						uint64_t end);
int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						    ioservid_t id, int is_mmio, uint64_t start,
						    uint64_t end);
int xendevicemodel_map_mem_type_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, uint16_t type, uint32_t flags);
int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
					      ioservid_t id, uint16_t segment, uint8_t bus,
					      uint8_t device, uint8_t function);
int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						  ioservid_t id, uint16_t segment, uint8_t bus,
						  uint8_t device, uint8_t function);
int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id);
int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					  int enabled);
int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *dmod, domid_t domid, uint16_t segment,
				      uint8_t bus, uint8_t device, uint8_t intx,
				      unsigned int level);
int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *dmod, domid_t domid, uint8_t irq,
				     unsigned int level);
int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid, unsigned int irq,
				 unsigned int level);
int xendevicemodel_set_pci_link_route(xendevicemodel_handle *dmod, domid_t domid, uint8_t link,
				      uint8_t irq);
int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid, uint64_t msi_addr,
			      uint32_t msi_data);
/* dirty_bitmap: (nr + 7) / 8 bytes, filled in. */
int xendevicemodel_track_dirty_vram(xendevicemodel_handle *dmod, domid_t domid, uint64_t first_pfn,
				    uint32_t nr, unsigned long *dirty_bitmap);
int xendevicemodel_modified_memory(xendevicemodel_handle *dmod, domid_t domid, uint64_t first_pfn,
				   uint32_t nr);
int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *dmod, domid_t domid,
					struct xen_dm_op_modified_memory_extent extents[],
					uint32_t nr);
int xendevicemodel_set_mem_type(xendevicemodel_handle *dmod, domid_t domid, hvmmem_type_t mem_type,
				uint64_t first_pfn, uint32_t nr);
int xendevicemodel_inject_event(xendevicemodel_handle *dmod, domid_t domid, int vcpu,
				uint8_t vector, uint8_t type, uint32_t error_code, uint8_t insn_len,
				uint64_t extra);
/* reason: SHUTDOWN_* as for xc_domain_shutdown. */
int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid, unsigned int reason);
int xendevicemodel_relocate_memory(xendevicemodel_handle *dmod, domid_t domid, uint32_t size,
				   uint64_t src_gfn, uint64_t dst_gfn);
int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *dmod, domid_t domid, uint64_t start,
					uint64_t end, uint32_t type);
int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus);
int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid);

#endif
