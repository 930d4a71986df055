/*
 * Keel's libxenctrl.so.4.17: the part of Xen 4.17's <xenctrl.h> that
 * Debian's qemu-system-xen imports, every symbol at version VERS_4.17.0
 * (Xen builds this library with one version node named after its
 * release).  Functions return 0 (or a handle) on success and -1 (or NULL)
 * with errno set on failure, as Xen's do; a NULL handle is EINVAL.
 *
 * On Keel, over libkeelctl (keeld's socket: root or group keel):
 *  - xc_domain_shutdown is Xen's SCHEDOP_remote_shutdown through keeld:
 *    no such domain ESRCH, a reason past SHUTDOWN_soft_reset EINVAL
 *    (Xen records any), domain 0 EPERM (it is the host: Xen would shut
 *    the machine down, keeld does not);
 *  - xc_get/set_hvm_param answer as Xen's HVMOP_get/set_param: an index
 *    past HVM_NR_PARAMS EINVAL, no such domain ESRCH, a domain that is
 *    not HVM (every Keel domain today, and dom0) EINVAL;
 *  - xc_domain_populate_physmap_exact populates an HVM domain's frames
 *    past its RAM (QEMU's option ROMs and video RAM; keeld's DM control
 *    op), up to its maxmem; else EBUSY, Xen's "fewer extents populated
 *    than asked": a frame of its RAM or keeld's region, a bad order or
 *    alignment, past maxmem, a PV domain (its RAM is fixed when it is
 *    built) or one that does not exist (Xen's EBUSY too);
 *  - PCI passthrough (IRQs, MSIs, pirqs, I/O ports and MMIO of a host
 *    device) is not offered: EOPNOTSUPP, with one line on stderr.
 */
#ifndef KEEL_XENCTRL_H
#define KEEL_XENCTRL_H

#include <stdint.h>

#include "xentoolcore.h"

#ifndef KEEL_XEN_PFN_T
#define KEEL_XEN_PFN_T
typedef unsigned long xen_pfn_t;
#endif

struct xentoollog_logger; /* accepted and ignored: Keel logs to stderr */
typedef struct xc_interface_core xc_interface;

/* xc_interface_open's flags (Xen's enum xc_open_flags). */
#define XC_OPENFLAG_DUMMY	  (1 << 0) /* a handle that reaches nothing */
#define XC_OPENFLAG_NON_REENTRANT (1 << 1) /* the caller serialises its calls */

/* HVMOP_get/set_param indices run below this (Xen 4.17's params.h). */
#define HVM_NR_PARAMS 39

xc_interface *xc_interface_open(struct xentoollog_logger *logger,
				struct xentoollog_logger *dombuild_logger, unsigned open_flags);
int xc_interface_close(xc_interface *xch);

/* reason: SHUTDOWN_poweroff 0, reboot 1, suspend 2, crash 3, watchdog 4,
 * soft_reset 5. */
int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason);

int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long *value);
int xc_set_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long value);

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
				     unsigned int extent_order, unsigned int mem_flags,
				     xen_pfn_t *extent_start);

/* PCI passthrough: EOPNOTSUPP on Keel. */
int xc_domain_bind_pt_pci_irq(xc_interface *xch, uint32_t domid, uint8_t machine_irq, uint8_t bus,
			      uint8_t device, uint8_t intx);
int xc_domain_unbind_pt_irq(xc_interface *xch, uint32_t domid, uint8_t machine_irq,
			    uint8_t irq_type, uint8_t bus, uint8_t device, uint8_t intx,
			    uint8_t isa_irq);
int xc_domain_update_msi_irq(xc_interface *xch, uint32_t domid, uint32_t gvec, uint32_t pirq,
			     uint32_t gflags, uint64_t gtable);
int xc_domain_unbind_msi_irq(xc_interface *xch, uint32_t domid, uint32_t gvec, uint32_t pirq,
			     uint32_t gflags);
int xc_domain_iomem_permission(xc_interface *xch, uint32_t domid, unsigned long first_mfn,
			       unsigned long nr_mfns, uint8_t allow_access);
int xc_domain_ioport_mapping(xc_interface *xch, uint32_t domid, uint32_t first_gport,
			     uint32_t first_mport, uint32_t nr_ports, uint32_t add_mapping);
int xc_domain_memory_mapping(xc_interface *xch, uint32_t domid, unsigned long first_gfn,
			     unsigned long first_mfn, unsigned long nr_mfns, uint32_t add_mapping);
int xc_physdev_map_pirq(xc_interface *xch, uint32_t domid, int index, int *pirq);
int xc_physdev_map_pirq_msi(xc_interface *xch, uint32_t domid, int index, int *pirq, int devfn,
			    int bus, int entry_nr, uint64_t table_base);
int xc_physdev_unmap_pirq(xc_interface *xch, uint32_t domid, int pirq);

#endif
