/*
 * A kind of domain (PV today; HVM next): one ops table.  Everything outside
 * the kind -- the domain table, event channels, grant tables, the control
 * operations, save and restore -- reaches the guest only through these, so
 * a new kind is a new table and touches none of them.
 */
#ifndef KEEL_HV_KIND_H
#define KEEL_HV_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"

struct srb;
struct saverec;

/* A kernel to boot, as dom0 passes it (LOAD, keeld run). */
struct domain_image {
	const void *kernel;
	size_t kernel_size;
	const void *ramdisk;
	size_t ramdisk_size;
	const char *cmdline;
	const void *shim; /* the kind's in-guest code (PV: the shim), if it has one */
	size_t shim_size;
};

struct domain_kind {
	const char *name;
	/* 1: Xen's is_hvm_domain() -- HVM parameters and device-model ops
	 * (dm_op) apply to it; Xen refuses both for any other domain. */
	int hvm;
	/* KVM's vCPU id (its LAPIC's APIC ID) of vCPU i is i * apic_id_stride
	 * (0 is 1): Xen gives HVM vCPU i APIC ID 2i, which hvmloader's
	 * LAPIC_ID() and its ACPI tables assume */
	int apic_id_stride;
	/* keeld's region of the domain after RAM: where, how big, and where in
	 * it the shared_info page lives. */
	uint64_t region_gpa;
	uint64_t (*region_size)(uint64_t nr_pages);
	uint64_t shared_info_off;
	uint64_t gnttab_off; /* grant frames (32), then status frames (4) */

	/* optional: the VM's memory slots and in-kernel devices, made before
	 * its vCPUs (HVM: RAM around the MMIO hole, irqchip, PIT); NULL: RAM
	 * at 0 and the region at region_gpa */
	int (*vm_setup)(struct domain *d);
	/* optional: where count frames from gfn live in the domain's memfd,
	 * for dom0's map (all in one piece of RAM or keeld's region): 0 or
	 * -EINVAL; NULL: RAM frames from offset 0 (PV) */
	int (*frame_offset)(struct domain *d, uint64_t gfn, uint64_t count, uint64_t *off);
	/* the kind's part of a domain (d->pv / each v->pv), made and dropped */
	int (*init)(struct domain *d);
	void (*destroy)(struct domain *d);
	/* build from an image; put vCPU 0 at its entry */
	int (*build)(struct domain *d, const struct domain_image *img);
	int (*start)(struct domain *d);
	/* a vCPU's thread: KVM_RUN and the kind's exit table (which holds its
	 * hypercall table) */
	void *(*vcpu_main)(void *vcpu);

	/* event delivery: an upcall became pending for v */
	void (*kick)(struct vcpu *v);
	/* optional: dom0's NMI trigger (xl trigger DOM nmi) for v; NULL: the
	 * kind cannot take one (-EOPNOTSUPP) */
	int (*send_nmi)(struct vcpu *v);
	/* optional: dom0's ACPI power (sleep 0) or sleep (1) button; NULL: the
	 * kind has no ACPI (-EINVAL, as Xen for a PV domain) */
	int (*acpi_button)(struct domain *d, int sleep);
	/* optional: dom0 has suspended d (SHUTDOWN_suspend, before xl save
	 * asks the device model for its state): settle what must be settled
	 * first (HVM: the device model takes the buffered ioreqs) */
	void (*suspended)(struct domain *d);
	/* optional, for the 'q' debug key: the kind's view of v, one line */
	void (*describe_vcpu)(struct vcpu *v, char *buf, size_t len);
	/* optional, for the 'q' debug key: the kind's view of d, one line */
	void (*describe_domain)(struct domain *d, char *buf, size_t len);
	/* optional, for the 'p' / 'P' debug keys: dump the domain's exit
	 * profile into the log / start a new phase of it */
	void (*profile_dump)(struct domain *d);
	void (*profile_reset)(struct domain *d);
	/* guest memory by the guest's own addresses (PV: virtual, through its
	 * page tables; HVM: under its paging): 0 or -1 */
	int (*copy_from_guest)(struct vcpu *v, void *dst, uint64_t src, size_t n);
	int (*copy_to_guest)(struct vcpu *v, uint64_t dst, const void *src, size_t n);
	/* may the frame be written by another party (a grant map, an event
	 * array)?  With a reference held (get/put) it stays so.  The caller
	 * holds the domain's mm_lock for get/put. */
	int (*frame_writable)(struct domain *d, uint64_t gfn);
	int (*frame_get_writable)(struct domain *d, uint64_t gfn);
	void (*frame_put_writable)(struct domain *d, uint64_t gfn);
	/* GNTMAP_host_map: map the guest-physical page gpa (a grant's page in
	 * the foreign window) at addr, a virtual address or with contains_pte
	 * the machine address of the entry to write (8-byte aligned); unmap it
	 * again (the entry must map gpa now), leaving the entry empty or, with
	 * new_addr (a virtual address; not with contains_pte), moving the entry
	 * that maps new_addr there and clearing it at new_addr
	 * (GNTTABOP_unmap_and_replace); commit makes queued writes land before
	 * the hypercall returns.  0 or a negative Xen errno. */
	int (*grant_map)(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t gpa,
			 int writable);
	int (*grant_unmap)(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t gpa,
			   uint64_t new_addr);
	int (*grant_commit)(struct vcpu *v);
	/* Does a page-table entry of v's guest map any of the n frames from
	 * mfn (keeld's frames in its region: version-2 status frames)?  With
	 * the writes v's current hypercall queued; the caller holds the
	 * domain's mm_lock. */
	int (*frames_mapped)(struct vcpu *v, uint64_t mfn, uint64_t n);

	/* save records of a suspended domain; check them all (nothing
	 * touched, 0 or -errno with the reason in err), then apply them to a
	 * domain just made of the same size; resume fresh (a new life, as a
	 * restored domain: the suspend returns 0) or cancelled (it returns 1). */
	int (*save)(struct domain *d, struct srb *out);
	int (*restore_check)(const struct saverec *recs, unsigned n, uint64_t nr_pages,
			     int nr_vcpus, char *err, size_t errlen);
	int (*restore)(struct domain *d, const struct saverec *recs, unsigned n, const void *shim,
		       size_t shim_size);
	int (*resume)(struct domain *d, int cancel);
};

extern const struct domain_kind pv_kind;
extern const struct domain_kind hvm_kind;

/* What evtchn/, gnttab/ and ctl/ call: the domain's kind does it. */
static inline void vcpu_kick(struct vcpu *v)
{
	v->dom->kind->kick(v);
}

static inline int guest_copy_from(struct vcpu *v, void *dst, uint64_t src, size_t n)
{
	return v->dom->kind->copy_from_guest(v, dst, src, n);
}

static inline int guest_copy_to(struct vcpu *v, uint64_t dst, const void *src, size_t n)
{
	return v->dom->kind->copy_to_guest(v, dst, src, n);
}

#endif
