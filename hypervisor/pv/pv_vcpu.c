/*
 * The vCPU loop.  Exits are dispatched through a table by KVM exit reason;
 * port exits through a table by port: a hypercall (from the LSTAR stub, in
 * ring 3), an exception (from an IDT stub, in ring 0), or the end of a
 * page-table apply run.  Guest state is changed through KVM's sync regs
 * (no ioctl: each costs ~7 us here) and KVM_SET_SREGS:
 * keeld bounces exceptions and switches guest kernel/user mode itself, so
 * no emulated ring-0 code runs on those paths.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

int pv_domain_started(struct domain *d)
{
	return d->started;
}

static void pv_set_seg(struct kvm_segment *s, uint16_t sel, int code, int dpl)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->dpl = dpl;
	s->type = code ? 0xb : 0x3;
	s->l = code;
	s->db = !code;
}

static int pv_vcpu_ring3(struct vcpu *v, uint64_t cr3)
{
	struct kvm_sregs s;

	if (kvm_sregs_get(&v->kvm, &s) < 0)
		return -errno;
	pv_set_seg(&s.cs, FLAT_RING3_CS64, 1, 3);
	pv_set_seg(&s.ss, FLAT_RING3_SS64, 0, 3);
	s.cr3 = cr3;
	s.fs.base = v->pv->fs_base;
	s.gs.base = v->pv->kernel_mode ? v->pv->gs_base_kernel : v->pv->gs_base_user;
	if (kvm_sregs_set(&v->kvm, &s) < 0)
		return -errno;
	return 0;
}

int pv_vcpu_load_cr3(struct vcpu *v)
{
	return pv_vcpu_ring3(v, v->pv->kernel_mode ? v->pv->kernel_cr3 : v->pv->user_cr3);
}

/* Put a vCPU in long mode with the shim's tables, then in the guest's ring
 * 3 with the given registers and the current mode's page table. */
int pv_vcpu_setup(struct vcpu *v, const struct kvm_regs *regs)
{
	struct kvm_long_mode lm = {
		.cr3 = v->pv->kernel_mode ? v->pv->kernel_cr3 : v->pv->user_cr3,
		.rip = regs->rip,
		.rsp = regs->rsp,
		.rflags = 0x202,
		.gdt_base = SHIM_VIRT + SHIM_OFF_GDT,
		.gdt_limit = SHIM_GDT_ENTRIES * 8 - 1,
		.idt_base = SHIM_VIRT + SHIM_OFF_IDT,
		.idt_limit = 32 * 16 - 1,
		.tss_base = SHIM_VIRT + SHIM_VCPU_OFF(v->id, SHIM_VCPU_TSS),
		.tss_limit = 104 + 8192,
		.cs = SHIM_CS0,
		.ss = SHIM_DS0,
		.tr = SHIM_TSS_SEL + 16 * v->id,
	};
	struct kvm_msrs *m;
	char buf[sizeof(struct kvm_msrs) + 3 * sizeof(struct kvm_msr_entry)];
	int r;

	r = kvm_vcpu_set_long_mode(&v->kvm, &lm);
	if (r < 0)
		return r;
	/* LSTAR -> the stub; STAR as Xen's flat selectors would have it. */
	m = (struct kvm_msrs *)buf;
	memset(buf, 0, sizeof(buf));
	m->nmsrs = 3;
	m->entries[0] = (struct kvm_msr_entry){.index = 0xc0000082, .data = SHIM_VIRT};
	m->entries[1] = (struct kvm_msr_entry){
		.index = 0xc0000081, .data = ((uint64_t)0xe023 << 48) | ((uint64_t)SHIM_CS0 << 32)};
	m->entries[2] = (struct kvm_msr_entry){.index = 0xc0000084, .data = 0};
	if (ioctl(v->kvm.fd, KVM_SET_MSRS, m) != 3)
		return -EIO;
	r = pv_vcpu_ring3(v, lm.cr3);
	if (r < 0)
		return r;
	if (kvm_regs_set(&v->kvm, regs) < 0)
		return -errno;
	return 0;
}

/* vCPU 0 at boot: Xen's start-of-day registers. */
int pv_vcpu_start(struct vcpu *v)
{
	struct domain *d = v->dom;
	struct kvm_regs regs;
	int r;

	memset(&regs, 0, sizeof(regs));
	regs.rip = d->pv->boot_rip;
	regs.rsp = d->pv->boot_rsp;
	regs.rsi = d->pv->boot_rsi;
	regs.rflags = 0x202;
	r = pv_vcpu_setup(v, &regs);
	if (r < 0)
		return r;
	v->initialised = 1;
	v->online = 1;
	pv_time_update(v);
	return 0;
}

/*
 * The words at the top of the guest's stack, where they can be read: with
 * the kernel's symbol map they name the callers (a guest that asks to be
 * crashed, or faults where nothing catches it, leaves its call chain here).
 */
static void pv_vcpu_dump_stack(struct vcpu *v, uint64_t rsp)
{
	uint64_t w[16];
	unsigned n = sizeof(w) / sizeof(w[0]);

	/* as much as lies on rsp's page, at most 16 words */
	if (rsp & 7)
		return;
	if ((4096 - (rsp & 4095)) / 8 < n)
		n = (unsigned)((4096 - (rsp & 4095)) / 8);
	if (pv_copy_from_guest(v, w, rsp, n * 8) < 0)
		return;
	for (unsigned i = 0; i + 4 <= n; i += 4)
		domain_log(v->dom, " stack+%02x %016llx %016llx %016llx %016llx", i * 8,
			   (unsigned long long)w[i], (unsigned long long)w[i + 1],
			   (unsigned long long)w[i + 2], (unsigned long long)w[i + 3]);
}

void pv_vcpu_dump(struct vcpu *v, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct domain *d = v->dom;

	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	kvm_regs_get(&v->kvm, &r);
	kvm_sregs_get(&v->kvm, &s);
	domain_log(d, "vcpu%d %s; %s mode", v->id, why, v->pv->kernel_mode ? "kernel" : "user");
	domain_log(d, " rip %016llx rsp %016llx rflags %08llx cs %04x ss %04x", r.rip, r.rsp,
		   r.rflags, s.cs.selector, s.ss.selector);
	domain_log(d, " rax %016llx rbx %016llx rcx %016llx rdx %016llx", r.rax, r.rbx, r.rcx,
		   r.rdx);
	domain_log(d, " rsi %016llx rdi %016llx rbp %016llx r8  %016llx", r.rsi, r.rdi, r.rbp,
		   r.r8);
	domain_log(d, " r9  %016llx r10 %016llx r11 %016llx r12 %016llx", r.r9, r.r10, r.r11,
		   r.r12);
	domain_log(d, " r13 %016llx r14 %016llx r15 %016llx", r.r13, r.r14, r.r15);
	domain_log(d, " cr0 %llx cr2 %llx cr3 %llx cr4 %llx", s.cr0, s.cr2, s.cr3, s.cr4);
	pv_vcpu_dump_stack(v, r.rsp);
	pv_trace_dump(v);
}

/* Run the shim's ring-0 loop over the queued page-table writes (and a TLB
 * flush), then put the guest back exactly as it was. */
int pv_vcpu_apply(struct vcpu *v)
{
	struct kvm_regs saved, regs;
	struct kvm_sregs ss, s;
	int r, kicked = 0;

	if (kvm_regs_get(&v->kvm, &saved) < 0 || kvm_sregs_get(&v->kvm, &ss) < 0)
		return -XEN_EIO;
	s = ss;
	pv_set_seg(&s.cs, SHIM_CS0, 1, 0);
	pv_set_seg(&s.ss, SHIM_DS0, 0, 0);
	memset(&regs, 0, sizeof(regs));
	regs.rip = v->dom->pv->shim_apply_va;
	regs.rsp = SHIM_VIRT + SHIM_VCPU_OFF(v->id, SHIM_VCPU_STACK_TOP);
	regs.rdi = SHIM_VIRT + SHIM_VCPU_OFF(v->id, SHIM_VCPU_APPLY);
	regs.rsi = v->pv->napply;
	regs.rflags = 2;
	if (kvm_sregs_set(&v->kvm, &s) < 0 || kvm_regs_set(&v->kvm, &regs) < 0)
		return -XEN_EIO;
	/* A signal for the vCPU loop (a timer that expired, an event to
	 * deliver) that lands here, before or during this run, is kept for
	 * the loop: its next KVM_RUN returns at once and looks.  Dropped, a
	 * vCPU that then spins in user mode would never see that tick. */
	do {
		kicked |= __atomic_exchange_n(&v->kvm.run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		r = kvm_vcpu_run(&v->kvm);
		kicked |= r == -EINTR;
	} while (r == -EINTR); /* the apply must finish */
	if (r < 0 || v->kvm.run->exit_reason != KVM_EXIT_IO ||
	    v->kvm.run->io.port != PV_PORT_APPLIED) {
		pv_vcpu_dump(v, "apply run failed");
		domain_crash(v->dom, "shim apply loop failed (exit %u)", v->kvm.run->exit_reason);
		return -XEN_EIO;
	}
	v->pv->napply = 0;
	v->pv->flush_pending = 0;
	if (kvm_sregs_set(&v->kvm, &ss) < 0 || kvm_regs_set(&v->kvm, &saved) < 0)
		return -XEN_EIO;
	if (kicked)
		v->kvm.run->immediate_exit = 1;
	return 0;
}

/* Leave the queued page-table writes to the shim on the way back: the
 * vCPU resumes in ring 0 at shim_apply_iret, which writes, flushes, and
 * irets to the guest state in regs.  Only with one vCPU online (with more,
 * the writes must land before the MMU lock is dropped: pv_mm_commit). */
int pv_vcpu_apply_on_return(struct vcpu *v, struct kvm_regs *regs)
{
	uint64_t top = SHIM_VCPU_OFF(v->id, SHIM_VCPU_STACK_TOP) - 512;
	uint64_t frame[9] = {regs->rdi,	      regs->rsi,    regs->rax, regs->rcx,      regs->rip,
			     FLAT_RING3_CS64, regs->rflags, regs->rsp, FLAT_RING3_SS64};
	struct kvm_sregs s;

	memcpy(v->dom->shim + top - sizeof(frame), frame, sizeof(frame));
	if (kvm_sregs_get(&v->kvm, &s) < 0)
		return -1;
	pv_set_seg(&s.cs, SHIM_CS0, 1, 0);
	pv_set_seg(&s.ss, SHIM_DS0, 0, 0);
	if (kvm_sregs_set(&v->kvm, &s) < 0)
		return -1;
	regs->rip = v->dom->pv->shim_apply_iret_va;
	regs->rsp = SHIM_VIRT + top - sizeof(frame);
	regs->rdi = SHIM_VIRT + SHIM_VCPU_OFF(v->id, SHIM_VCPU_APPLY);
	regs->rsi = v->pv->napply;
	regs->rflags = 2;
	v->pv->napply = 0;
	return 0;
}

int pv_mm_commit(struct vcpu *v)
{
	int online = 0;

	if (!v->pv->napply)
		return 0;
	for (int i = 0; i < v->dom->nr_vcpus; i++)
		online += v->dom->vcpus[i].online;
	if (online == 1)
		return 0; /* written on the way back to the guest */
	return pv_vcpu_apply(v) < 0 ? -XEN_EIO : 0;
}

/* Switch between guest kernel and user mode (Xen's toggle_guest_mode). */
int pv_vcpu_set_mode(struct vcpu *v, struct kvm_regs *regs, int kernel)
{
	if (v->pv->kernel_mode == kernel)
		return 0;
	v->pv->kernel_mode = kernel;
	return pv_vcpu_ring3(v, kernel ? v->pv->kernel_cr3 : v->pv->user_cr3);
}

static __thread struct vcpu *pv_self;

/* SIGUSR1 (a kick or the vCPU's timer): leave KVM_RUN at once, even if the
 * signal lands just before it is entered. */
static void pv_vcpu_signal(int sig)
{
	if (pv_self && pv_self->kvm.run)
		pv_self->kvm.run->immediate_exit = 1;
}

void pv_vcpu_kick(struct vcpu *v)
{
	if (v == pv_self)
		return; /* it delivers on its own way back to the guest */
	if (v->blocked) {
		pthread_cond_broadcast(&v->dom->cond);
		return;
	}
	/* Also a vCPU just taken down (VCPUOP_down from another vCPU): it must
	 * leave KVM_RUN now, or another vCPU's ioctl on it (its TSC, for a
	 * vcpu_info registered for it) waits for its next exit -- forever
	 * when it spins waiting for the caller (Linux's resume from suspend
	 * does that from stop_machine). */
	if (v->thread_valid) {
		v->kvm.run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
}

/* Microseconds until the vCPU's POSIX timer fires (0: not armed). */
static long long pv_vcpu_timer_left(struct vcpu *v)
{
	struct itimerspec cur;

	if (!v->timer_ok || timer_gettime(v->timer, &cur) < 0)
		return -1;
	return cur.it_value.tv_sec * 1000000LL + cur.it_value.tv_nsec / 1000;
}

/* The 'q' debug key's line for v: the mode and the callbacks events go to. */
void pv_vcpu_describe(struct vcpu *v, char *buf, size_t len)
{
	static const char *const states[] = {"running", "runnable", "blocked", "offline"};
	struct vcpu_runstate_info ri;

	pv_runstate_snapshot(v, &ri);
	snprintf(
		buf, len,
		"%s mode, event callback %#llx, failsafe %#llx, syscall %#llx; runstate %s "
		"(ms: running %llu runnable %llu blocked %llu offline %llu)%s, %llu updates in %llu us; "
		"timer %lld us%s posix %lld us",
		v->pv->kernel_mode ? "kernel" : "user", (unsigned long long)v->pv->cb_event.address,
		(unsigned long long)v->pv->cb_failsafe.address,
		(unsigned long long)v->pv->cb_syscall.address, states[ri.state & 3],
		(unsigned long long)ri.time[RUNSTATE_running] / 1000000,
		(unsigned long long)ri.time[RUNSTATE_runnable] / 1000000,
		(unsigned long long)ri.time[RUNSTATE_blocked] / 1000000,
		(unsigned long long)ri.time[RUNSTATE_offline] / 1000000,
		v->runstate_va ? ", area registered" : "", (unsigned long long)v->rs.updates,
		(unsigned long long)(v->dom->tsc_khz ? v->rs.cycles * 1000 / v->dom->tsc_khz : 0),
		v->timer_deadline
			? ((long long)v->timer_deadline - (long long)pv_time_now(v->dom)) / 1000
			: 0,
		v->timer_deadline ? "" : " (none)", pv_vcpu_timer_left(v));
}

static const char *const pv_vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?9",  "#TS",
	"#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM", "#VE",
};

static const char *pv_vector_name(uint64_t vec)
{
	if (vec >= 32)
		return "software interrupt";
	return pv_vector_names[vec] ? pv_vector_names[vec] : "?";
}

static int pv_vector_has_err(uint64_t vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
}

#define PFEC_PRESENT 0x1ULL
#define PFEC_USER    0x4ULL
#define PFEC_RSVD    0x8ULL

/*
 * A page fault's error code as Xen gives it to a PV guest: the U bit says
 * which guest mode took it (the guest kernel runs in ring 3, but is
 * supervisor to itself).  The present bit is what the guest's view of the
 * address says, where the host's code cannot be trusted: a reserved-bit
 * fault, which no guest entry can cause (keeld refuses reserved bits) but
 * this host raises for repeated faults at the start of slot 256, and the
 * M2P at Xen's address, which the host does not walk for ring 3 here.
 */
static uint64_t pv_pf_error_code(struct vcpu *v, uint64_t err, uint64_t cr2)
{
	if ((err & PFEC_RSVD) || (cr2 >= MACH2PHYS_VIRT_START && cr2 < MACH2PHYS_VIRT_END)) {
		uint64_t gpa;
		int mapped = pv_m2p_present(v->dom, cr2);

		if (!mapped) {
			pthread_mutex_lock(&v->dom->mm_lock);
			mapped = pv_guest_translate(v, cr2, 0, &gpa) == 0;
			pthread_mutex_unlock(&v->dom->mm_lock);
		}
		err &= ~(PFEC_RSVD | PFEC_PRESENT);
		if (mapped)
			err |= PFEC_PRESENT;
	}
	err &= ~PFEC_USER;
	if (!v->pv->kernel_mode)
		err |= PFEC_USER;
	return err;
}

static int pv_exit_exception(struct vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct domain *d = v->dom;
	uint64_t f[7], vec, err, rip, cs, rflags, rsp;
	const struct trap_info *ti;
	struct pv_event ev;
	int has_err, soft = 0;

	if (kvm_regs_get(&v->kvm, &regs) < 0 || kvm_sregs_get(&v->kvm, &sregs) < 0)
		return -1;
	if (regs.rsp < SHIM_VIRT + SHIM_VCPU_OFF(v->id, SHIM_VCPU_STACK) ||
	    regs.rsp > SHIM_VIRT + SHIM_VCPU_OFF(v->id, SHIM_VCPU_STACK_TOP) - 56) {
		pv_vcpu_dump(v, "exception stub with a bad stack");
		domain_crash(d, "shim stack corrupt");
		return -1;
	}
	memcpy(f, d->shim + (regs.rsp - SHIM_VIRT), sizeof(f));
	vec = f[0];
	err = f[1];
	rip = f[2];
	cs = f[3];
	rflags = f[4];
	rsp = f[5];
	/* Restore the interrupted guest's ring-3 view before deciding. */
	regs.rip = rip;
	regs.rsp = rsp;
	regs.rflags = rflags;
	if ((cs & 3) != 3 || vec >= 32) {
		kvm_regs_set(&v->kvm, &regs);
		pv_vcpu_dump(v, "fault inside the shim");
		domain_crash(d, "%s in the shim at %#llx", vec < 32 ? pv_vector_names[vec] : "?",
			     (unsigned long long)rip);
		return -1;
	}
	if (pv_vcpu_ring3(v, sregs.cr3) < 0)
		return -1;
	has_err = pv_vector_has_err(vec);
	/* A breakpoint, watchpoint or single step of the guest's: its DR6
	 * first, as Xen's #DB handler does before the bounce. */
	if (vec == 1 && pv_debugreg_trap(v) < 0)
		return -1;
	pv_prof_kind(v, PV_PROF_BOUNCE + (int)vec, rip);
	if (vec == 6 && pv_emulate_cpuid(v, &regs, rip) == 0) {
		pv_prof_kind(v, PV_PROF_CPUID, rip);
		goto resume;
	}
	/* int $n: a #UD on this host, a #GP naming the vector where the IDT's
	 * gates are checked; either way what Xen delivers for it. */
	if ((vec == 6 || (vec == 13 && (err & 3) == 2)) &&
	    pv_softint_decode(v, rip, vec == 13 ? (int)(err >> 3) : -1, &ev) == 0) {
		soft = 1;
		pv_prof_kind(v, PV_PROF_SOFTINT, rip);
		vec = ev.vec;
		has_err = ev.has_err;
		err = ev.err;
		rip = ev.rip;
	}
	/* privileged instructions; in guest user mode only in/out/cli/sti
	 * (the virtual IOPL) */
	if (vec == 13 && !soft && !err) {
		int e = pv_emulate_privileged(v, &regs, rip);

		if (e == 0) {
			pv_prof_kind(v, PV_PROF_PRIVOP, rip);
			goto resume;
		}
		if (e > 0) {
			vec = e; /* Xen's answer is another exception */
			err = 0;
			has_err = pv_vector_has_err(vec);
		}
	}
	/* A write to one of its own page tables (present, write, user): Xen's
	 * writable page tables. */
	if (vec == 14 && !soft && (err & 7) == 7 && pv_ptwr_emulate(v, &regs, sregs.cr2) == 0) {
		pv_prof_kind(v, PV_PROF_PTWR, rip);
		goto resume;
	}
	/* A read of the M2P at Xen's fixed address (a data read: no W, no I). */
	if (vec == 14 && !soft && !(err & 0x12) && pv_m2p_emulate_read(v, &regs, sregs.cr2) == 0) {
		pv_prof_kind(v, PV_PROF_M2P, rip);
		goto resume;
	}
	if (!soft)
		pv_prof_kind(v, PV_PROF_BOUNCE + (int)vec, rip);
	if (vec == 14 && !soft) {
		err = pv_pf_error_code(v, err, sregs.cr2);
		vcpu_info(v)->arch.cr2 = sregs.cr2;
	}
	if (d->trace)
		domain_log(d, "%s %llu err %#llx at %#llx cr2 %#llx",
			   soft ? "software interrupt" : "exception", (unsigned long long)vec,
			   (unsigned long long)err, (unsigned long long)rip,
			   (unsigned long long)sregs.cr2);
	ti = &v->pv->traps[vec];
	if (!ti->address) {
		kvm_regs_set(&v->kvm, &regs);
		pv_vcpu_dump(v, "unhandled exception");
		domain_crash(d, "%s (error %#llx, cr2 %#llx) at %#llx with no guest handler",
			     pv_vector_name(vec), (unsigned long long)err,
			     (unsigned long long)sregs.cr2, (unsigned long long)rip);
		return -1;
	}
	if (pv_bounce(v, &regs, ti->address, TI_GET_IF(ti->flags) != 0, has_err, err, rip, rflags,
		      rsp) < 0) {
		kvm_regs_set(&v->kvm, &regs);
		pv_vcpu_dump(v, "exception frame unwritable");
		domain_crash(d, "%s at %#llx: guest kernel stack %#llx unwritable",
			     pv_vector_name(vec), (unsigned long long)rip,
			     (unsigned long long)v->pv->kernel_sp);
		return -1;
	}
resume:
	return pv_vcpu_resume(v, &regs, false);
}

/* Deliver exception `vec` raised at rip to the guest's handler (or crash
 * the domain if it has none). */
int pv_inject_trap(struct vcpu *v, struct kvm_regs *regs, int vec, uint64_t err, uint64_t rip)
{
	const struct trap_info *ti = &v->pv->traps[vec];
	int has_err = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;

	if (!ti->address) {
		regs->rip = rip;
		kvm_regs_set(&v->kvm, regs);
		pv_vcpu_dump(v, "unhandled exception");
		domain_crash(v->dom, "%s (error %#llx) at %#llx with no guest handler",
			     pv_vector_names[vec] ? pv_vector_names[vec] : "?",
			     (unsigned long long)err, (unsigned long long)rip);
		return -1;
	}
	if (pv_bounce(v, regs, ti->address, TI_GET_IF(ti->flags) != 0, has_err, err, rip,
		      regs->rflags, regs->rsp) < 0) {
		domain_crash(v->dom, "%s at %#llx: guest kernel stack unwritable",
			     pv_vector_names[vec] ? pv_vector_names[vec] : "?",
			     (unsigned long long)rip);
		return -1;
	}
	return kvm_regs_set(&v->kvm, regs) < 0 ? -1 : 0;
}

static int pv_exit_hypercall(struct vcpu *v)
{
	struct kvm_regs regs;
	struct pv_hcall_ctx c = {v, &regs, 0};
	uint64_t args[5];
	long ret;

	uint64_t hp = v->dom->pv->hypercall_page_va;
	int from_page;

	if (kvm_regs_get(&v->kvm, &regs) < 0)
		return -1;
	/* Hypercalls come from the LSTAR stub (a `syscall`) or, in kernel
	 * mode, from the hypercall page; the port is the guest's nowhere
	 * else, and using it elsewhere is the #GP it would be on Xen. */
	from_page = v->pv->kernel_mode && hp && regs.rip > hp && regs.rip <= hp + PV_PAGE_SIZE;
	if (regs.rip != SHIM_VIRT + 2 && !from_page)
		return pv_inject_trap(v, &regs, 13, 0, regs.rip - 2);
	v->hypercalls++;
	if (!v->pv->kernel_mode)
		pv_prof_syscall(v, regs.rcx, regs.rax);
	else
		pv_prof_kind(v, regs.rax < 64 ? PV_PROF_HCALL + (int)regs.rax : PV_PROF_OTHER,
			     from_page ? regs.rip : regs.rcx);
	if (!v->pv->kernel_mode) {
		/* A guest user's syscall goes to its kernel's callback. */
		uint64_t rip = regs.rcx, rflags = regs.r11, rsp = regs.rsp;

		if (!v->pv->cb_syscall.address) {
			pv_vcpu_dump(v, "user syscall with no callback");
			domain_crash(v->dom, "user syscall with no syscall callback");
			return -1;
		}
		if (pv_bounce(v, &regs, v->pv->cb_syscall.address, v->pv->cb_syscall.mask_events, 0,
			      0, rip, rflags, rsp) < 0) {
			domain_crash(v->dom, "syscall: kernel stack unwritable");
			return -1;
		}
		return kvm_regs_set(&v->kvm, &regs) < 0 ? -1 : 0;
	}
	args[0] = regs.rdi;
	args[1] = regs.rsi;
	args[2] = regs.rdx;
	args[3] = regs.r10;
	args[4] = regs.r8;
	ret = pv_do_hypercall(&c, regs.rax, args);
	/* Queued writes (if any) land on the way back (below).  Only they need
	 * the ring-0 loop: every apply ends with a full TLB flush (CR3
	 * reload), so a flush request with nothing written since has nothing
	 * left to flush. */
	/* A suspended domain's vCPUs finish the hypercall they are in (the
	 * suspend itself returns 0, as in a restored domain) so their saved
	 * state is the guest's own; the loop then stops them. */
	if (v->dom->state == DOM_CRASHED ||
	    (v->dom->state == DOM_SHUTDOWN && v->dom->shutdown_reason != SHUTDOWN_suspend))
		return -1;
	if (!c.no_return) {
		regs.rax = ret;
		/* The guest's TF survives the hypercall, as Xen returns with
		 * the flags it saved: a guest stepping over `syscall` gets its
		 * #DB after the instruction that follows it. */
		if (!from_page) {
			regs.rip = regs.rcx;
			regs.rflags = (regs.r11 & ~(RFLAGS_IOPL | RFLAGS_NT)) | RFLAGS_IF | 2;
		}
	}
	return pv_vcpu_resume(v, &regs, false);
}

struct pv_port_handler {
	uint16_t port;
	int (*fn)(struct vcpu *v);
};

static const struct pv_port_handler pv_port_table[] = {
	{PV_PORT_HYPERCALL, pv_exit_hypercall},
	{PV_PORT_EXCEPTION, pv_exit_exception},
};

static int pv_exit_io(struct vcpu *v)
{
	for (size_t i = 0; i < sizeof(pv_port_table) / sizeof(pv_port_table[0]); i++)
		if (pv_port_table[i].port == v->kvm.run->io.port)
			return pv_port_table[i].fn(v);
	pv_vcpu_dump(v, "unexpected port I/O");
	domain_crash(v->dom, "I/O to port %#x", v->kvm.run->io.port);
	return -1;
}

static int pv_exit_shutdown(struct vcpu *v)
{
	pv_vcpu_dump(v, "triple fault");
	domain_crash(v->dom, "triple fault");
	return -1;
}

static int pv_exit_other(struct vcpu *v)
{
	char why[64];

	snprintf(why, sizeof(why), "exit %s (%u)", kvm_exit_name(v->kvm.run->exit_reason),
		 v->kvm.run->exit_reason);
	pv_vcpu_dump(v, why);
	domain_crash(v->dom, "unexpected VM %s", why);
	return -1;
}

static int (*const pv_exit_table[])(struct vcpu *v) = {
	[KVM_EXIT_IO] = pv_exit_io,
	[KVM_EXIT_SHUTDOWN] = pv_exit_shutdown,
};

void *pv_vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct domain *d = v->dom;
	struct sigaction sa = {.sa_handler = pv_vcpu_signal};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1};

	/* No SA_RESTART: a kick must interrupt what this thread waits in. */
	sigaction(SIGUSR1, &sa, NULL);
	pv_self = v;
	v->thread = pthread_self();
	v->thread_valid = 1;
	sev._sigev_un._tid = gettid(); /* glibc 2.36 lacks sigev_notify_thread_id */
	{
		/* "d<domid>v<vcpu>" in top -H, ps -L and /proc/<keeld>/task/<tid>/comm */
		char name[16];

		snprintf(name, sizeof(name), "d%dv%d", d->domid, v->id);
		pthread_setname_np(pthread_self(), name);
	}
	pthread_mutex_lock(&d->lock);
	d->threads_running++;
	pthread_mutex_unlock(&d->lock);
	if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer) == 0) {
		v->timer_ok = 1;
		if (v->timer_deadline)
			pv_timer_set(v, v->timer_deadline);
	}

	pv_runstate_start(v);
	for (int w = 0; w < 4; w++)
		if (~v->aff_hard[w]) {
			if (vcpu_apply_affinity(v, 0) < 0)
				fprintf(d->console ? d->console : stderr,
					"(keeld) d%d: vcpu %d: its affinity has no usable CPU\n",
					d->domid, v->id);
			break;
		}
	for (;;) {
		uint32_t reason;
		uint64_t t0, held_cpu;
		int r, waits;

		/* Wait while paused (or not up: runstate offline); leave when the
		 * domain is over. */
#define PV_VCPU_WAITS (d->state == DOM_PAUSED || (d->state == DOM_RUNNING && !v->online))
		pthread_mutex_lock(&d->lock);
		waits = PV_VCPU_WAITS && !d->dying;
		pthread_mutex_unlock(&d->lock);
		if (waits)
			pv_runstate_set(v, RUNSTATE_offline);
		pthread_mutex_lock(&d->lock);
		while (PV_VCPU_WAITS && !d->dying)
			pthread_cond_wait(&d->cond, &d->lock);
#undef PV_VCPU_WAITS
		r = d->state == DOM_RUNNING && !d->dying;
		pthread_mutex_unlock(&d->lock);
		if (!r)
			break;
		if (waits || v->rs.info.state == RUNSTATE_offline)
			pv_runstate_set(v, RUNSTATE_running);
		else
			pv_runstate_tick(v);
		if (v->pv->debugreg_dirty && pv_debugreg_load(v) < 0) {
			domain_crash(d, "cannot load the debug registers");
			break;
		}
		held_cpu = v->pv->held_rip ? pv_thread_cpu_ns() : 0;
		r = kvm_vcpu_run(&v->kvm);
		t0 = pv_prof_now();
		if (held_cpu)
			v->pv->held_ran += pv_thread_cpu_ns() - held_cpu;
		/* (the sync area's copy: stale only under KEEL_NO_SYNC_REGS) */
		v->pv->trace_at = v->kvm.run->s.regs.regs.rip;
		v->pv->trace_sp = v->kvm.run->s.regs.regs.rsp;
		if (r == -EINTR) {
			v->pv->trace_flags |= PV_TRACE_EINTR;
			v->interrupts++;
			v->kvm.run->immediate_exit = 0;
			pv_prof_kind(v, PV_PROF_INTERRUPT, 0);
			if (pv_vcpu_async_events(v) < 0)
				break;
			pv_prof_note(v, pv_prof_now() - t0);
			continue;
		}
		if (r < 0) {
			domain_crash(d, "KVM_RUN failed: %s", strerror(-r));
			break;
		}
		v->exits++;
		v->pv->held_rip = 0; /* this exit delivers what was held */
		reason = v->kvm.run->exit_reason;
		if (reason < sizeof(pv_exit_table) / sizeof(pv_exit_table[0]) &&
		    pv_exit_table[reason]) {
			if (pv_exit_table[reason](v) < 0)
				break;
		} else if (pv_exit_other(v) < 0) {
			break;
		}
		pv_prof_note(v, pv_prof_now() - t0);
	}
	if (v->timer_ok)
		timer_delete(v->timer);
	v->timer_ok = 0;
	pv_runstate_stop(v);
	v->thread_valid = 0;
	pv_self = NULL;
	pthread_mutex_lock(&d->lock);
	d->threads_running--;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->on_stop)
		d->on_stop(d);
	return NULL;
}
