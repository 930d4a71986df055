/*
 * Secondary vCPUs: VCPUOP_initialise takes a whole vcpu_guest_context
 * (Xen's layout), validated as the equivalent hypercalls would be (the L4s
 * must take their page types); VCPUOP_up starts the vCPU's thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/xen.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

int pv_vcpu_initialise(struct vcpu *t, struct vcpu *caller, uint64_t ctx_va)
{
	struct domain *d = t->dom;
	struct vcpu_guest_context *c;
	struct cpu_user_regs *u;
	struct kvm_regs regs;
	uint64_t kl4, ul4;
	int r;

	if (t->initialised)
		return -XEN_EEXIST;
	c = malloc(sizeof(*c));
	if (!c)
		return -XEN_ENOMEM;
	if (pv_copy_from_guest(caller, c, ctx_va, sizeof(*c)) < 0) {
		r = -XEN_EFAULT;
		goto out;
	}
	kl4 = c->ctrlreg[3] >> PV_PAGE_SHIFT;
	ul4 = c->ctrlreg[1] >> PV_PAGE_SHIFT;
	pthread_mutex_lock(&d->mm_lock);
	/* frame 0 means "no table" (as MFN 0 in Xen): see MMUEXT_NEW_BASEPTR */
	r = kl4 ? pv_mm_get_type(caller, kl4, PGT_l4) : -XEN_EINVAL;
	if (r == 0 && ul4) {
		r = pv_mm_get_type(caller, ul4, PGT_l4);
		if (r < 0)
			pv_mm_put_type(caller, kl4);
	}
	if (r == 0 && caller->pv->napply)
		r = pv_vcpu_apply(caller) < 0 ? -XEN_EIO : 0;
	pthread_mutex_unlock(&d->mm_lock);
	if (r < 0)
		goto out;
	for (int i = 0; i < 256; i++)
		if (c->trap_ctxt[i].address)
			t->pv->traps[c->trap_ctxt[i].vector] = c->trap_ctxt[i];
	t->pv->kernel_cr3 = kl4 << PV_PAGE_SHIFT;
	t->pv->user_cr3 = ul4 << PV_PAGE_SHIFT;
	t->pv->kernel_ss = c->kernel_ss;
	t->pv->kernel_sp = c->kernel_sp;
	t->pv->cb_event.address = c->event_callback_eip;
	t->pv->cb_failsafe.address = c->failsafe_callback_eip;
	t->pv->cb_syscall.address = c->syscall_callback_eip;
	t->pv->cb_syscall.mask_events = !!(c->flags & VGCF_syscall_disables_events);
	t->pv->fs_base = c->fs_base;
	t->pv->gs_base_kernel = c->gs_base_kernel;
	t->pv->gs_base_user = c->gs_base_user;
	/* As Xen's arch_set_info_guest: the defaults, then each register
	 * through set_debugreg's checks (a value it refuses is dropped). */
	pv_debugreg_reset(t);
	for (unsigned i = 0; i < 8; i++)
		if (i != 4 && i != 5)
			(void)pv_set_debugreg(t, i, c->debugreg[i]);
	t->pv->kernel_mode = !!(c->flags & VGCF_in_kernel);
	/* Xen takes the virtual IOPL from the context's flags (Linux starts
	 * its secondary CPUs with IOPL 1). */
	t->pv->iopl = (c->user_regs.rflags >> 12) & 3;
	u = &c->user_regs;
	memset(&regs, 0, sizeof(regs));
	regs.rax = u->rax;
	regs.rbx = u->rbx;
	regs.rcx = u->rcx;
	regs.rdx = u->rdx;
	regs.rsi = u->rsi;
	regs.rdi = u->rdi;
	regs.rbp = u->rbp;
	regs.rsp = u->rsp;
	regs.r8 = u->r8;
	regs.r9 = u->r9;
	regs.r10 = u->r10;
	regs.r11 = u->r11;
	regs.r12 = u->r12;
	regs.r13 = u->r13;
	regs.r14 = u->r14;
	regs.r15 = u->r15;
	regs.rip = u->rip;
	regs.rflags = (u->rflags & ~0x3000ULL) | 0x202;
	r = pv_vcpu_setup(t, &regs);
	if (r < 0) {
		r = -XEN_EIO;
		goto out;
	}
	t->initialised = 1;
	pv_time_update(t);
	domain_log(d, "vcpu%d initialised: rip %#llx, L4 %#llx", t->id,
		   (unsigned long long)regs.rip, (unsigned long long)t->pv->kernel_cr3);
out:
	free(c);
	return r;
}

int pv_vcpu_up(struct vcpu *t)
{
	struct domain *d = t->dom;
	int r = 0;

	if (!t->initialised)
		return -XEN_EINVAL;
	pthread_mutex_lock(&d->lock);
	t->online = 1;
	if (!t->thread_created && t->id != 0) {
		r = pthread_create(&t->thread, NULL, pv_vcpu_thread, t);
		if (r == 0)
			t->thread_created = 1;
		else
			t->online = 0;
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return r ? -XEN_ENOMEM : 0;
}
