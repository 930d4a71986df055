/*
 * What a PV vCPU is given on its way back to the guest: Xen's bounce frame
 * for traps and callbacks, the pending NMI, the event upcall (also
 * delivered asynchronously, after a kick, where the guest is: with the
 * int3 hold below), and SCHEDOP_block/poll's wait for one of them.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <time.h>

#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

/* Deliver a trap or callback to the guest kernel: Xen's bounce frame
 * (rcx, r11, [error code], rip, cs, rflags, rsp, ss) on the kernel stack. */
int pv_bounce(struct vcpu *v, struct kvm_regs *regs, uint64_t handler, int mask_events, int has_err,
	      uint64_t err, uint64_t rip, uint64_t rflags, uint64_t rsp)
{
	struct vcpu_info *vi = vcpu_info(v);
	int from_user = !v->pv->kernel_mode;
	uint64_t frame[8], sp, cs;
	int n = 0, r;

	if (from_user) {
		r = pv_vcpu_set_mode(v, regs, 1);
		if (r < 0)
			return r;
		sp = v->pv->kernel_sp;
		cs = FLAT_USER_CS64;
	} else {
		sp = rsp;
		cs = FLAT_KERNEL_CS64 & ~3;
	}
	cs |= (uint64_t)vi->evtchn_upcall_mask << 32;
	rflags = (rflags & ~RFLAGS_IF) | (vi->evtchn_upcall_mask ? 0 : RFLAGS_IF);
	if (v->dom->pv->vm_assist & (1ULL << VMASST_TYPE_architectural_iopl))
		rflags = (rflags & ~RFLAGS_IOPL) | ((uint64_t)v->pv->iopl << 12);
	sp &= ~15ULL;
	frame[n++] = regs->rcx;
	frame[n++] = regs->r11;
	if (has_err)
		frame[n++] = err;
	frame[n++] = rip;
	frame[n++] = cs;
	frame[n++] = rflags;
	frame[n++] = rsp;
	frame[n++] = FLAT_KERNEL_SS64;
	sp -= n * 8;
	r = pv_copy_to_guest(v, sp, frame, n * 8);
	if (r < 0)
		return r;
	if (mask_events)
		vi->evtchn_upcall_mask = 1;
	regs->rsp = sp;
	regs->rip = handler;
	regs->rflags = (regs->rflags & ~(RFLAGS_TF | RFLAGS_NT)) | RFLAGS_IF | 2;
	return 0;
}

/* An NMI is pending, not masked, and the guest has a handler for it. */
int pv_nmi_deliverable(struct vcpu *v)
{
	return __atomic_load_n(&v->pv->nmi_pending, __ATOMIC_ACQUIRE) && !v->pv->nmi_masked &&
	       v->pv->traps[2].address;
}

/*
 * Xen's process_nmi: on the way back to the guest a pending NMI goes first,
 * bounced through the trap table's vector 2 (the CALLBACKTYPE_nmi entry) as
 * an exception without error code, and masked until the guest's iret; the
 * events wait for the next way back.
 */
static int pv_deliver_nmi(struct vcpu *v, struct kvm_regs *regs)
{
	const struct trap_info *ti = &v->pv->traps[2];

	__atomic_store_n(&v->pv->nmi_pending, 0, __ATOMIC_RELEASE);
	v->pv->nmi_masked = 1;
	v->pv->trace_flags |= PV_TRACE_NMI;
	if (pv_bounce(v, regs, ti->address, TI_GET_IF(ti->flags) != 0, 0, 0, regs->rip,
		      regs->rflags, regs->rsp) < 0) {
		pv_vcpu_dump(v, "NMI frame unwritable");
		domain_crash(v->dom, "NMI: guest kernel stack unwritable");
		return -1;
	}
	return 1;
}

int pv_vcpu_send_nmi(struct vcpu *v)
{
	__atomic_store_n(&v->pv->nmi_pending, 1, __ATOMIC_RELEASE);
	pv_vcpu_kick(v);
	return 0;
}

/* Xen delivers a pending event upcall on the way back to the guest: bounce
 * to the event callback with events masked (a pending NMI goes first).
 * 1 if something was delivered. */
static int pv_deliver_events(struct vcpu *v, struct kvm_regs *regs)
{
	struct vcpu_info *vi = vcpu_info(v);

	if (pv_nmi_deliverable(v))
		return pv_deliver_nmi(v, regs);
	if (!v->pv->cb_event.address ||
	    !__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) ||
	    vi->evtchn_upcall_mask)
		return 0;
	if (pv_bounce(v, regs, v->pv->cb_event.address, 1, 0, 0, regs->rip, regs->rflags,
		      regs->rsp) < 0) {
		pv_vcpu_dump(v, "event upcall frame unwritable");
		domain_crash(v->dom, "event upcall: guest kernel stack unwritable");
		return -1;
	}
	v->pv->trace_flags |= PV_TRACE_UPCALL;
	return 1;
}

/* The way back to the guest from keeld, whatever brought the vCPU out: a
 * pending NMI or event upcall (counted when @async: delivered at a kick),
 * the page-table writes still queued, the registers. */
int pv_vcpu_resume(struct vcpu *v, struct kvm_regs *regs, bool async)
{
	int r = pv_deliver_events(v, regs);

	if (r < 0)
		return -1;
	if (r && async)
		v->async_upcalls++;
	if (v->pv->napply && pv_vcpu_apply_on_return(v, regs) < 0)
		return -1;
	return kvm_regs_set(&v->kvm, regs) < 0 ? -1 : 0;
}

uint64_t pv_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define PV_HELD_RETRY_NS 200000ULL  /* the timer looks again after 200 us */
#define PV_HELD_RAN_NS	 1000000ULL /* 1 ms in KVM_RUN: no int3 was in flight */

/*
 * Whether an int3 may be on its way into the shim, its #BP not yet
 * delivered: KVM_GET_VCPU_EVENTS never reports a software exception (it
 * expects the instruction to be met again), and this host has already
 * moved rip past the int3 by then.  Registers set now lose the #BP: the
 * guest runs on as if its int3 were a nop (Linux's int3 self-test then
 * BUG()s; pv-int3 counts them).  So while the last exception KVM took is
 * a #BP and an int3 is at or just before rip, the upcall waits for the
 * exit the delivery causes.  Should none come (that int3 was long done),
 * the vCPU's timer looks again; once the thread has spent PV_HELD_RAN_NS
 * in KVM_RUN since (the run loop counts it while an upcall is held), still
 * at the same rip and without an exit, nothing was in flight and the
 * upcall goes.  keeld's own time between runs does not count: under load
 * or a sanitizer it could pass that bound before the guest ran at all.
 */
static int pv_async_int3(struct vcpu *v, const struct kvm_regs *regs,
			 const struct kvm_vcpu_events *ev)
{
	struct pv_vcpu *p = v->pv;
	uint8_t b[2];

	if (ev->exception.nr != 3 || pv_fetch_insn(v, regs->rip - 1, b, 2) != 2 ||
	    (b[0] != 0xcc && b[1] != 0xcc)) {
		p->held_rip = 0;
		return 0;
	}
	if (p->held_rip != regs->rip) { /* every exit clears it */
		p->held_rip = regs->rip;
		p->held_ran = 0;
	} else if (p->held_ran >= PV_HELD_RAN_NS) {
		p->held_rip = 0;
		return 0;
	}
	pv_timer_retry(v, PV_HELD_RETRY_NS);
	return 1;
}

/* After a kick: deliver a pending upcall if the guest is in ring 3. */
int pv_vcpu_async_events(struct vcpu *v)
{
	struct vcpu_info *vi = vcpu_info(v);
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;
	struct kvm_sregs s;

	pv_timer_check(v);
	if ((!v->pv->cb_event.address ||
	     !__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) ||
	     vi->evtchn_upcall_mask) &&
	    !pv_nmi_deliverable(v))
		return 0;
	if (kvm_sregs_get(&v->kvm, &s) < 0 || s.cs.dpl != 3)
		return 0; /* inside a shim stub: its exit delivers */
	/* An exception KVM has yet to inject (e.g. the #UD of a forced-
	 * emulation CPUID) would be delivered on top of a frame built here,
	 * with the callback's address as its rip: leave it to its exit. */
	if (ioctl(v->kvm.fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -1;
	if (ev.exception.injected || ev.exception.pending || ev.interrupt.injected ||
	    ev.nmi.injected)
		return 0;
	if (kvm_regs_get(&v->kvm, &regs) < 0)
		return -1;
	/* At the LSTAR stub, between `syscall` and its `out`: the
	 * hypercall's own return delivers. */
	if (regs.rip >= HYPERVISOR_VIRT_START && regs.rip < HYPERVISOR_VIRT_END)
		return 0;
	if (pv_async_int3(v, &regs, &ev))
		return 0;
	return pv_vcpu_resume(v, &regs, true);
}

/* SCHEDOP_block (ports == NULL: any event) and SCHEDOP_poll: wait for an
 * event, the vCPU's timer, or the end of the domain.  timeout: guest
 * system time, 0 = none. */
void pv_vcpu_wait(struct vcpu *v, const uint32_t *ports, unsigned nports, uint64_t timeout)
{
	struct domain *d = v->dom;
	struct vcpu_info *vi = vcpu_info(v);

	pv_runstate_set(v, RUNSTATE_blocked);
	pthread_mutex_lock(&d->lock);
	v->blocked = 1;
	for (;;) {
		uint64_t now, until;
		struct timespec ts;
		int hit = 0;

		pthread_mutex_unlock(&d->lock);
		pv_timer_check(v);
		pthread_mutex_lock(&d->lock);
		if (d->state != DOM_RUNNING || d->dying)
			break;
		if (!ports)
			hit = __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) ||
			      pv_nmi_deliverable(v);
		for (unsigned i = 0; ports && i < nports && !hit; i++)
			hit = evtchn_port_pending(d, ports[i]); /* 2-level or FIFO */
		now = pv_time_now(d);
		if (hit || (timeout && now >= timeout))
			break;
		/* Sleep to the nearest deadline, at most 50 ms (a missed
		 * broadcast then costs little). */
		until = now + 50000000ULL;
		if (v->timer_deadline && v->timer_deadline < until)
			until = v->timer_deadline;
		if (timeout && timeout < until)
			until = timeout;
		pv_time_to_mono(d, until, &ts);
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	}
	v->blocked = 0;
	pthread_mutex_unlock(&d->lock);
	pv_timer_check(v); /* fires what passed, arms the POSIX timer for the rest */
	pv_runstate_set(v, RUNSTATE_running);
}
