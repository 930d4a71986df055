/*
 * Where a PV domain's time goes (pv_prof.c): each exit of each vCPU
 * counted by kind (hypercall by number, a guest user's system call, each
 * emulation, each bounced exception by vector, signal interrupts) with the
 * time keeld spent on it, and the guest RIPs that cause the most exits.
 */
#ifndef KEEL_PV_PROF_H
#define KEEL_PV_PROF_H

#include <stdint.h>

enum {
	PV_PROF_HCALL = 0, /* + hypercall number (0..63) */
	PV_PROF_USER_SYSCALL = 64,
	PV_PROF_CPUID,
	PV_PROF_PRIVOP,
	PV_PROF_PTWR,
	PV_PROF_M2P,
	PV_PROF_SOFTINT,
	PV_PROF_INTERRUPT,
	PV_PROF_OTHER,
	PV_PROF_BOUNCE, /* + vector (0..31) */
	PV_PROF_KINDS = PV_PROF_BOUNCE + 32
};

#define PV_PROF_RIPS 256

struct pv_prof {
	unsigned gen; /* the domain's reset generation these counts belong to */
	uint64_t count[PV_PROF_KINDS], ns[PV_PROF_KINDS];
	struct {
		uint64_t rip, count;
		uint32_t kind;
		uint32_t nr; /* a user syscall's number (the last seen at rip) */
	} rips[PV_PROF_RIPS];
};

/*
 * A flight recorder: each vCPU's last PV_TRACE_LEN exits (when, the kind
 * and guest RIP the profile saw, where KVM left the vCPU, and whether an
 * upcall or NMI was bounced on the way back), dumped when the guest
 * crashes -- the sequence a rare early-boot failure needs.  The dump
 * shows the last PV_TRACE_SHOW exits that are not console output (a
 * dying kernel's messages are hundreds of console_io and event-channel
 * exits), so the ring is long enough to reach back past them.
 */
#define PV_TRACE_LEN	1024
#define PV_TRACE_SHOW	32
#define PV_TRACE_UPCALL 1u /* an event upcall was bounced on the way back */
#define PV_TRACE_NMI	2u /* an NMI was */
#define PV_TRACE_EINTR	4u /* a signal ended KVM_RUN, no exit */

struct pv_trace {
	uint64_t ns;	 /* keeld's monotonic clock */
	uint64_t rip;	 /* the profile's guest RIP */
	uint64_t at, sp; /* the vCPU's RIP and RSP as KVM_RUN returned */
	uint32_t kind, flags;
};

struct vcpu;
struct domain;

/* keeld's monotonic clock, ns (an exit's start and end). */
uint64_t pv_prof_now(void);
/* The exit being handled is of this kind, caused at rip. */
void pv_prof_kind(struct vcpu *v, int kind, uint64_t rip);
/* ... a guest user's system call number nr (which one, not only where). */
void pv_prof_syscall(struct vcpu *v, uint64_t rip, uint64_t nr);
/* The exit is over: it took ns of keeld's time. */
void pv_prof_note(struct vcpu *v, uint64_t ns);
/* 'p': the domain's profile since its start or the last reset into the log. */
void pv_prof_dump(struct domain *d);
/* 'P': start a new phase (each vCPU clears its counts at its next exit). */
void pv_prof_reset(struct domain *d);
/* The vCPU's flight recorder into the domain's log, oldest first. */
void pv_trace_dump(struct vcpu *v);

#endif
