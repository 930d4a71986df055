/*
 * A PV vCPU's life in keeld: the KVM_RUN loop, exits dispatched by reason
 * and by port, the guest kernel/user switch, exception bounces and the
 * hypercall table (pv_hypercall.c).
 */
#ifndef KEEL_HV_PV_VCPU_H
#define KEEL_HV_PV_VCPU_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "pv_domain.h"

#define RFLAGS_IF   0x200ULL
#define RFLAGS_TF   0x100ULL
#define RFLAGS_NT   0x4000ULL
#define RFLAGS_IOPL 0x3000ULL

struct pv_hcall_ctx {
	struct vcpu *v;
	struct kvm_regs *regs;
	int no_return; /* the handler set the registers itself (iret) */
};

/* A 48-bit canonical address: bits 63..47 all equal. */
static inline int pv_is_canonical(uint64_t va)
{
	return (int64_t)va >> 47 == 0 || (int64_t)va >> 47 == -1;
}

typedef long (*pv_hcall_fn)(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
			    uint64_t a4, uint64_t a5);

struct pv_hcall {
	const char *name;
	pv_hcall_fn fn;
};

extern const struct pv_hcall pv_hcall_table[64];

int pv_vcpu_start(struct vcpu *v);
int pv_vcpu_setup(struct vcpu *v, const struct kvm_regs *regs);
int pv_vcpu_initialise(struct vcpu *t, struct vcpu *caller, uint64_t ctx_va);
int pv_vcpu_up(struct vcpu *t);
void *pv_vcpu_thread(void *arg);
int pv_vcpu_set_mode(struct vcpu *v, struct kvm_regs *regs, int kernel);
long pv_hcall_iret(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		   uint64_t a5);
/* The hypercalls a domU may not use (pv_priv.c). */
long pv_hcall_sysctl(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5);
long pv_hcall_platform_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5);
long pv_hcall_domctl(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5);
long pv_hcall_paging_domctl_cont(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
				 uint64_t a4, uint64_t a5);
long pv_hcall_eperm(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5);
long pv_hcall_dm_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5);
long pv_hcall_xenoprof_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5);
long pv_hcall_xenpmu_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			uint64_t a5);
long pv_do_hypercall(struct pv_hcall_ctx *c, uint64_t nr, const uint64_t *args);
int pv_emulate_privileged(struct vcpu *v, struct kvm_regs *r, uint64_t rip);
void pv_debugreg_reset(struct vcpu *v);
long pv_set_debugreg(struct vcpu *v, unsigned reg, uint64_t val);
long pv_get_debugreg(struct vcpu *v, unsigned reg, uint64_t *val);
int pv_debugreg_load(struct vcpu *v);
int pv_debugreg_trap(struct vcpu *v);
int pv_emulate_cpuid(struct vcpu *v, struct kvm_regs *regs, uint64_t rip);
uint64_t pv_time_tsc_khz(struct vcpu *v);
void pv_time_cpuid_leaf(struct vcpu *v, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			uint32_t *d);
int pv_inject_trap(struct vcpu *v, struct kvm_regs *regs, int vec, uint64_t err, uint64_t rip);

/* An exception or software interrupt to deliver: its vector, error code
 * (if it has one) and return address. */
struct pv_event {
	int vec;
	int has_err;
	uint64_t err;
	uint64_t rip;
};

int pv_fetch_insn(struct vcpu *v, uint64_t rip, uint8_t *buf, int len);
int pv_softint_decode(struct vcpu *v, uint64_t rip, int idt_vec, struct pv_event *ev);
int pv_m2p_emulate_read(struct vcpu *v, struct kvm_regs *regs, uint64_t cr2);
int pv_m2p_present(struct domain *d, uint64_t va);
void pv_vcpu_wait(struct vcpu *v, const uint32_t *ports, unsigned nports, uint64_t timeout);

/* Runstate accounting (pv_runstate.c), from the vCPU's own thread: start
 * and stop with the thread, enter a RUNSTATE_* state, refresh a held state
 * (at most once a millisecond, or when the area moved); a snapshot for
 * VCPUOP_get_runstate_info and diagnostics from any thread. */
void pv_runstate_start(struct vcpu *v);
void pv_runstate_stop(struct vcpu *v);
void pv_runstate_set(struct vcpu *v, int state);
void pv_runstate_tick(struct vcpu *v);
void pv_runstate_snapshot(struct vcpu *v, struct vcpu_runstate_info *out);
/* The runstate as of now, from another thread (tid: the vCPU's thread). */
void pv_runstate_read(struct vcpu *v, int tid, struct vcpu_runstate_info *out);
int pv_ptwr_emulate(struct vcpu *v, struct kvm_regs *g, uint64_t cr2);
void pv_vcpu_dump(struct vcpu *v, const char *why);
long pv_time_area_register(struct vcpu *caller, struct vcpu *t, uint64_t arg);

void pv_vcpu_describe(struct vcpu *v, char *buf, size_t len);
int pv_vcpu_apply_on_return(struct vcpu *v, struct kvm_regs *regs);

/* pv_upcall.c: on the way back to the guest. */
int pv_bounce(struct vcpu *v, struct kvm_regs *regs, uint64_t handler, int mask_events, int has_err,
	      uint64_t err, uint64_t rip, uint64_t rflags, uint64_t rsp);
int pv_nmi_deliverable(struct vcpu *v);
int pv_vcpu_resume(struct vcpu *v, struct kvm_regs *regs, bool async);
int pv_vcpu_async_events(struct vcpu *v);
uint64_t pv_thread_cpu_ns(void);

#endif
