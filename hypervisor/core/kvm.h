/*
 * keeld's thin layer over /dev/kvm: one VM per domain with memfd-backed
 * memory slots, vCPUs with their mmap'ed kvm_run, and the long-mode register
 * setup every Keel VM starts from.  Functions return negative errno.
 */
#ifndef KEEL_HV_KVM_H
#define KEEL_HV_KVM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

struct kvm_vm {
	int vm_fd;
	int nslots;
};

struct kvm_vcpu_ctx {
	int fd;
	int id;
	struct kvm_run *run;
	size_t run_size;
	int sync_regs;	/* KVM_CAP_SYNC_REGS: registers through kvm_run */
	int sync_sregs; /* ... and segment/control registers */
	int ran;	/* the sync area holds state (a KVM_RUN has returned) */
};

/* Long-mode entry state a VM starts with. */
struct kvm_long_mode {
	uint64_t cr3, rip, rsp, rflags;
	uint64_t gdt_base, idt_base, tss_base;
	uint16_t gdt_limit, idt_limit;
	uint32_t tss_limit;  /* 0: 0x67 */
	int cpl3;	     /* start in ring 3 with cs/ss as given (Xen PV guests) */
	uint16_t cs, ss, tr; /* cs/ss ring-0 flat selectors, tr = TSS selector */
};

int kvm_global_init(void);
int kvm_vm_create(struct kvm_vm *vm);
void kvm_vm_destroy(struct kvm_vm *vm);
int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva);
/* Change the flags of memory slot `slot` (as added: gpa, size, hva), e.g.
 * KVM_MEM_LOG_DIRTY_PAGES; fetch and clear its dirty bitmap (one bit per
 * page, in 64-bit words). */
int kvm_vm_slot_flags(struct kvm_vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva,
		      uint32_t flags);
int kvm_vm_dirty_log(struct kvm_vm *vm, int slot, uint64_t *bitmap);
int kvm_vcpu_create(struct kvm_vm *vm, int id, struct kvm_vcpu_ctx *vcpu);
void kvm_vcpu_destroy(struct kvm_vcpu_ctx *vcpu);
int kvm_vcpu_set_long_mode(struct kvm_vcpu_ctx *vcpu, const struct kvm_long_mode *lm);
int kvm_vcpu_run(struct kvm_vcpu_ctx *vcpu);
/* The vCPU's general registers after an exit, and setting them for the
 * next KVM_RUN: through kvm_run's sync area when KVM offers it. */
int kvm_regs_get(struct kvm_vcpu_ctx *vcpu, struct kvm_regs *regs);
int kvm_regs_set(struct kvm_vcpu_ctx *vcpu, const struct kvm_regs *regs);
int kvm_sregs_get(struct kvm_vcpu_ctx *vcpu, struct kvm_sregs *sregs);
int kvm_sregs_set(struct kvm_vcpu_ctx *vcpu, const struct kvm_sregs *sregs);
uint64_t kvm_tsc_khz(struct kvm_vcpu_ctx *vcpu);
int kvm_debugregs_get(struct kvm_vcpu_ctx *vcpu, struct kvm_debugregs *dr);
int kvm_debugregs_set(struct kvm_vcpu_ctx *vcpu, const struct kvm_debugregs *dr);
const char *kvm_exit_name(uint32_t reason);
/* The host's supported CPUID with the leaves in [drop_lo, drop_hi] taken
 * out and `extra` added, for a vCPU before its first run (HVM: Xen's
 * leaves where KVM's own would be). */
int kvm_vcpu_set_cpuid(struct kvm_vcpu_ctx *vcpu, const struct kvm_cpuid_entry2 *extra, int nextra,
		       uint32_t drop_lo, uint32_t drop_hi);
/* The supported leaves that carry a vCPU's APIC ID (1's EBX[31:24], the
 * x2APIC ID in every sub-leaf of 0xb and 0x1f), with apic_id in them, for
 * kvm_vcpu_set_cpuid's extra (an extra replaces the supported entry of
 * its function and index); how many, at most max. */
int kvm_cpuid_apic_id(uint32_t apic_id, struct kvm_cpuid_entry2 *out, int max);

#endif
