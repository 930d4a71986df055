/*
 * The PV kind's part of a domain and of each vCPU: Xen's PV MMU state (the
 * type and count of every frame), the shim's place in the hypervisor hole,
 * the boot entry, and per vCPU what Xen keeps for a PV vCPU (guest kernel
 * or user mode, page-table bases, trap table, callbacks, segment bases,
 * GDT/LDT, the page-table writes queued for the shim).
 */
#ifndef KEEL_HV_PV_DOMAIN_H
#define KEEL_HV_PV_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/domain.h"
#include "pv_layout.h"
#include "pv_prof.h"

enum pv_page_type { PGT_none = 0, PGT_l1, PGT_l2, PGT_l3, PGT_l4, PGT_writable, PGT_seg_desc };

struct page_info {
	uint8_t type;
	uint8_t pinned;
	/* Linear page tables (as Xen's linear_pt_count): > 0, the number of
	 * entries in this table naming another table of its own level; < 0,
	 * the number of such entries elsewhere naming this one.  Never both,
	 * so linear references cannot chain or form a loop. */
	int16_t linear;
	uint32_t type_count;
};

struct callback_info {
	uint64_t address;
	int mask_events;
};

struct pv_domain {
	unsigned prof_gen;	 /* the exit profile's phase (pv_prof.c) */
	struct page_info *pages; /* one per frame of RAM */
	uint64_t vm_assist;
	uint64_t boot_rip, boot_rsp, boot_rsi;
	uint64_t hypercall_page_va;		    /* 0: the kernel asked for none */
	uint64_t shim_apply_va, shim_apply_iret_va; /* from the shim's symbols */
	uint64_t hole_l4e[PV_HOLE_NSLOTS];
	/* Xen's suspend protocol: the start_info frame the suspending vCPU
	 * named (rdx), and whether the kernel's ELF notes let a cancelled
	 * suspend return 1. */
	uint64_t start_info_mfn;
	int suspend_cancel;
	/* The two port latches Xen keeps for every PV domain without I/O
	 * ports: the RTC index (port 0x70) and PCI CONFIG_ADDRESS (0xcf8). */
	uint8_t cmos_idx;
	uint32_t pci_cf8;
};

struct pv_vcpu {
	int kernel_mode;
	uint64_t kernel_cr3, user_cr3; /* machine addresses of the L4s */
	uint64_t kernel_ss, kernel_sp;
	uint64_t fs_base, gs_base_kernel, gs_base_user;
	uint64_t debugreg[8];
	int debugreg_dirty; /* changed since last loaded into the KVM vCPU */
	uint32_t iopl;	    /* virtual IOPL, 0..3 (set_iopl, or iret's flags) */
	int fpu_ts;
	int cr4_osxsave; /* the guest set CR4.OSXSAVE (pv_xstate.c) */
	uint64_t xcr0;	 /* its XCR0, as loaded into the KVM vCPU */
	struct trap_info traps[256];
	struct callback_info cb_event, cb_failsafe, cb_syscall;
	/* Xen's PV NMI: one pending (set by dom0's trigger, from another
	 * thread), and masked from its delivery until the guest's iret. */
	int nmi_pending;
	int nmi_masked;
	uint64_t gdt_frames[16];
	unsigned gdt_ents;
	uint64_t ldt_base, ldt_ents;
	/* The page-table writes queued by the current hypercall. */
	unsigned napply;
	int flush_pending;
	/* The exit profile (pv_prof.c): the kind and guest RIP of the exit
	 * being handled, and the counts of the current phase. */
	int prof_kind;
	uint64_t prof_rip;
	uint32_t prof_nr;
	struct pv_prof prof;
	/* The last exits, for a crash dump (pv_prof.c: pv_trace_dump). */
	struct pv_trace trace[PV_TRACE_LEN];
	unsigned trace_n;
	uint32_t trace_flags; /* PV_TRACE_*, of the exit being handled */
	uint64_t trace_at, trace_sp;
	/* An upcall held back because an int3 may be on its way into the
	 * shim (pv_upcall.c: pv_async_int3): where the guest was (0: none held),
	 * its exit count then, the thread's CPU time in KVM_RUN since, and
	 * when the timer looks again (guest system time, 0 = not armed). */
	uint64_t held_rip, held_ran, held_retry;
};

struct srb;
struct saverec;
struct domain_image;

/* The kind's save records and resume (pv_save.c): see core/kind.h. */
int pv_save(struct domain *d, struct srb *out);
int pv_restore_check(const struct saverec *recs, unsigned n, uint64_t nr_pages, int nr_vcpus,
		     char *err, size_t errlen);
int pv_restore(struct domain *d, const struct saverec *recs, unsigned n, const void *shim,
	       size_t shim_size);
int pv_resume(struct domain *d, int cancel);
/* Stand-in console backend (pv_build.c): until a console daemon binds the
 * console port, keeld drains the ring to the domain's console buffer. */
void pv_console_drain(struct domain *d, uint32_t port);
void pv_vcpu_kick(struct vcpu *v);
/* XEN_DOMCTL_SENDTRIGGER_NMI: an NMI for v, through its trap table's vector 2. */
int pv_vcpu_send_nmi(struct vcpu *v);

#endif
