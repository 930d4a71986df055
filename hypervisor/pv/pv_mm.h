/*
 * Xen's PV MMU rules as keeld enforces them: frame types (L1-L4, writable)
 * with type counts, pinning, the hole slots every L4 carries, validated
 * updates (mmu_update, update_va_mapping, mmuext_op) and guest-virtual
 * memory access through the guest's own page tables.  Functions return 0 or
 * a negative Xen errno (which is what the guest sees).
 */
#ifndef KEEL_HV_PV_MM_H
#define KEEL_HV_PV_MM_H

#include <stddef.h>
#include <stdint.h>

#include "pv_domain.h"

#define PTE_P	 0x1ULL
#define PTE_RW	 0x2ULL
#define PTE_US	 0x4ULL
#define PTE_A	 0x20ULL
#define PTE_D	 0x40ULL
#define PTE_PS	 0x80ULL
#define PTE_NX	 (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL

/* Page-table writes go through here: directly before the domain runs,
 * queued for the shim's ring-0 apply loop afterwards. */
int pv_mm_write_entry(struct vcpu *v, uint64_t gpa, uint64_t val);
uint64_t pv_mm_read_entry(struct vcpu *v, uint64_t gpa);

int pv_mm_get_type(struct vcpu *v, uint64_t mfn, int type);
void pv_mm_put_type(struct vcpu *v, uint64_t mfn);
int pv_mm_owns(struct domain *d, uint64_t mfn);
void pv_mm_recount_linear(struct domain *d);

int pv_mmu_update(struct vcpu *v, uint64_t reqs, uint64_t count, uint64_t done_ptr, uint64_t domid);
int pv_update_va_mapping(struct vcpu *v, uint64_t va, uint64_t val, uint64_t flags);
int pv_mmuext_op(struct vcpu *v, uint64_t ops, uint64_t count, uint64_t done_ptr, uint64_t domid);

/* Update entry gpa of a validated table of type level (Xen's rules). */
int pv_mm_update_entry(struct vcpu *v, int level, uint64_t gpa, uint64_t val, int preserve_ad);
/* Guest virtual to guest-physical through the guest's own tables. */
int pv_guest_translate(struct vcpu *v, uint64_t va, int write, uint64_t *gpa);

int pv_copy_from_guest(struct vcpu *v, void *dst, uint64_t va, size_t len);
int pv_copy_to_guest(struct vcpu *v, uint64_t va, const void *src, size_t len);

/* Provided by the vCPU loop: run the shim's apply routine now. */
int pv_vcpu_apply(struct vcpu *v);
/* After an MMU hypercall, under the MMU lock: make the queued writes land
 * now, or (one vCPU online) on the vCPU's way back to the guest. */
int pv_mm_commit(struct vcpu *v);
/* Load a new cr3 into the running vCPU (after a base pointer switch). */
int pv_vcpu_load_cr3(struct vcpu *v);

extern int pv_domain_started(struct domain *d);

/* Write the L1 entry for a grant mapping.  addr is a virtual address in
 * the current page tables, or with contains_pte the machine address of an
 * entry in one of the domain's L1 tables; with expect_mfn other than ~0,
 * the entry must map that frame (unmap).  0 or -XEN_*. */
int pv_mm_grant_pte(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t expect_mfn,
		    uint64_t val);
/* GNTTABOP_unmap_and_replace: the entry for virtual address addr (which
 * must map expect_mfn) takes over the entry mapping new_addr, which is
 * cleared.  0 or -XEN_*, nothing changed on a refusal. */
int pv_mm_grant_replace(struct vcpu *v, uint64_t addr, uint64_t expect_mfn, uint64_t new_addr);
/* Does a validated L1 table of v's domain map any of the n frames from
 * mfn?  Under mm_lock. */
int pv_mm_frames_mapped(struct vcpu *v, uint64_t mfn, uint64_t n);

/* XENMEM_decrease_reservation / increase_reservation / populate_physmap
 * (pv_hypercall.c): the number of extents done, or -XEN_E*. */
long pv_memory_reservation(struct vcpu *v, uint64_t op, uint64_t arg);

#endif
