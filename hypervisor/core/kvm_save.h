/*
 * A vCPU's registers as KVM holds them, as one save record
 * (SAVEREC_VCPU_KVM) every kind writes the same way: the kernel's own ABI
 * structs (regs, sregs, xsave, xcrs, vcpu events) with their sizes
 * recorded, then the MSRs of the kind's list as {index, value} pairs.
 * The PV kind saves its eight MSRs, all of them; the HVM kind a longer
 * list, of which the host's KVM may hold only a first part (KVM_GET_MSRS
 * stops at the first it does not know), at least `min` of them.
 */
#ifndef KEEL_HV_KVM_SAVE_H
#define KEEL_HV_KVM_SAVE_H

#include <stddef.h>
#include <stdint.h>

#include "kvm.h"

struct srb;
struct saverec;

#define KVM_SAVE_MAX_MSRS 48

struct kvm_save_msrs {
	const uint32_t *index;
	unsigned n;   /* the list */
	unsigned min; /* at least this many saved */
};

/* Write vCPU id's record; 0 or -EIO (KVM refused a read). */
int kvm_save_vcpu(struct kvm_vcpu_ctx *k, int id, const struct kvm_save_msrs *m, struct srb *out);
/* Check one record (sizes, the MSRs a prefix of the list, nothing more
 * or less): 0 with *id set, or -EINVAL with the reason in err. */
int kvm_save_check_vcpu(const struct saverec *r, const struct kvm_save_msrs *m, uint32_t *id,
			char *err, size_t errlen);
/* Apply a checked record to a vCPU that has not run: sregs first (EFER
 * and CR0/CR4 decide what the rest may hold).  0 or -EINVAL. */
int kvm_save_apply_vcpu(struct kvm_vcpu_ctx *k, const struct saverec *r);

#endif
