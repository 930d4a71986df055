/*
 * Xen's x86_64 PV architecture facts: the flat selectors a PV guest runs
 * with (rings 3 for both kernel and user), the hypervisor hole, the M2P
 * location, the trap table entry and the frame the iret hypercall pops.
 * From Xen's public arch-x86/xen-x86_64.h and arch-x86/xen.h.
 */
#ifndef KEEL_ABI_ARCH_X86_64_H
#define KEEL_ABI_ARCH_X86_64_H

#ifndef __ASSEMBLY__
#include <stdint.h>
#endif

#define FLAT_RING3_CS32	 0xe023
#define FLAT_RING3_CS64	 0xe033
#define FLAT_RING3_DS32	 0xe02b
#define FLAT_RING3_DS64	 0x0000
#define FLAT_RING3_SS32	 0xe02b
#define FLAT_RING3_SS64	 0xe02b
#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_CS	 FLAT_KERNEL_CS64
#define FLAT_KERNEL_SS	 FLAT_KERNEL_SS64
#define FLAT_USER_CS64	 FLAT_RING3_CS64
#define FLAT_USER_SS64	 FLAT_RING3_SS64

/* The first GDT entry Xen reserves (page 14 of the 16-page GDT). */
#define FIRST_RESERVED_GDT_PAGE	 14
#define FIRST_RESERVED_GDT_BYTE	 (FIRST_RESERVED_GDT_PAGE * 4096)
#define FIRST_RESERVED_GDT_ENTRY (FIRST_RESERVED_GDT_BYTE / 8)

#define HYPERVISOR_VIRT_START 0xFFFF800000000000ULL
#define HYPERVISOR_VIRT_END   0xFFFF880000000000ULL
#define MACH2PHYS_VIRT_START  0xFFFF800000000000ULL
#define MACH2PHYS_VIRT_END    0xFFFF804000000000ULL

/* iret hypercall flags. */
#define VGCF_in_syscall (1 << 8)
#define NMI_MASK	0x80000000

/* trap_info.flags: bits 0-1 DPL, bit 2 = clear event enable on entry. */
#define TI_GET_DPL(flags) ((flags)&3)
#define TI_GET_IF(flags)  ((flags)&4)

#define XEN_LEGACY_MAX_VCPUS 32

#ifndef __ASSEMBLY__

struct trap_info {
	uint8_t vector;
	uint8_t flags;
	uint16_t cs;
	uint32_t pad;
	uint64_t address;
};

/* What the iret hypercall finds on the guest stack, lowest address first. */
struct iret_context {
	uint64_t rax, r11, rcx, flags;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Xen's struct cpu_user_regs for x86_64 (used in vcpu contexts). */
struct cpu_user_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi;
	uint32_t error_code, entry_vector;
	uint64_t rip;
	uint16_t cs, pad0[1];
	uint8_t saved_upcall_mask, pad1[3];
	uint64_t rflags, rsp;
	uint16_t ss, pad2[3];
	uint16_t es, pad3[3];
	uint16_t ds, pad4[3];
	uint16_t fs, pad5[3];
	uint16_t gs, pad6[3];
};

/* VCPUOP_initialise's argument: a vCPU's whole starting state. */
#define VGCF_i387_valid		      (1 << 0)
#define VGCF_in_kernel		      (1 << 2)
#define VGCF_failsafe_disables_events (1 << 3)
#define VGCF_syscall_disables_events  (1 << 4)
#define VGCF_online		      (1 << 5)

struct vcpu_guest_context {
	uint8_t fpu_ctxt[512];
	uint64_t flags;
	struct cpu_user_regs user_regs;
	struct trap_info trap_ctxt[256];
	uint64_t ldt_base, ldt_ents;
	uint64_t gdt_frames[16], gdt_ents;
	uint64_t kernel_ss, kernel_sp;
	uint64_t ctrlreg[8]; /* [3]: kernel L4, [1]: user L4 (xen_pfn_to_cr3) */
	uint64_t debugreg[8];
	uint64_t event_callback_eip;
	uint64_t failsafe_callback_eip;
	uint64_t syscall_callback_eip;
	uint64_t vm_assist;
	uint64_t fs_base, gs_base_kernel, gs_base_user;
};

_Static_assert(sizeof(struct trap_info) == 16, "trap_info");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, user_regs) == 520, "vgc regs");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, trap_ctxt) == 720, "vgc traps");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, ctrlreg) == 4984, "vgc ctrlreg");
_Static_assert(sizeof(struct vcpu_guest_context) == 5168, "vcpu_guest_context");
_Static_assert(sizeof(struct iret_context) == 72, "iret_context");
_Static_assert(sizeof(struct cpu_user_regs) == 200, "cpu_user_regs");

#endif /* __ASSEMBLY__ */
#endif
