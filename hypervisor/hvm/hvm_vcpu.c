/*
 * The HVM vCPU loop.  KVM's in-kernel LAPIC/IOAPIC/PIC and PIT answer the
 * platform's own chips without an exit; what reaches keeld is dispatched
 * by exit reason, and port I/O by port: the hypercall page's `out` (a
 * hypercall), Xen's debug port 0xe9 (hvmloader's console), the platform
 * ports keeld answers as Xen does (hvm_platform.c: PCI configuration
 * address, ACPI PM timer), the ranges and PCI devices a device model
 * claimed (hvm_ioreq.c: an ioreq to QEMU), and every other port and MMIO
 * access, which gets what Xen gives an unclaimed range: reads of all
 * ones, writes dropped.  MSRs KVM
 * does not know come here: Xen's hypercall-page MSR, else a #GP.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi/xen.h"
#include "hvm_domain.h"

static __thread struct vcpu *hvm_self;

/* vCPU 0 as Xen starts it for hvmloader: flat 32-bit protected mode,
 * paging off, at the ELF entry, %ebx = the start info. */
int hvm_vcpu_start(struct vcpu *v)
{
	struct domain *d = v->dom;
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct kvm_segment code = {.base = 0,
				   .limit = 0xffffffff,
				   .selector = 0x08,
				   .type = 0xb,
				   .present = 1,
				   .dpl = 0,
				   .db = 1,
				   .s = 1,
				   .g = 1};
	struct kvm_segment data = code;

	data.selector = 0x10;
	data.type = 0x3;
	if (kvm_sregs_get(&v->kvm, &s) < 0)
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr.type = 0xb; /* busy 32-bit TSS, as at reset */
	s.tr.present = 1;
	s.tr.limit = 0x67;
	s.tr.selector = 0;
	s.cr0 = 0x11; /* PE | ET */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (kvm_sregs_set(&v->kvm, &s) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = d->hvm->entry;
	regs.rbx = d->hvm->start_info;
	regs.rflags = 2;
	if (kvm_regs_set(&v->kvm, &regs) < 0)
		return -errno;
	v->initialised = 1;
	v->online = 1;
	return 0;
}

static void hvm_vcpu_dump(struct vcpu *v, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	kvm_regs_get(&v->kvm, &r);
	kvm_sregs_get(&v->kvm, &s);
	domain_log(v->dom, "vcpu%d %s", v->id, why);
	domain_log(v->dom, " eip %08llx esp %08llx eflags %08llx cs %04x cr0 %llx cr3 %llx", r.rip,
		   r.rsp, r.rflags, s.cs.selector, s.cr0, s.cr3);
	domain_log(v->dom, " eax %08llx ebx %08llx ecx %08llx edx %08llx esi %08llx edi %08llx",
		   r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi);
}

/* Xen's debug port: a line at a time into the domain's console (what
 * `keelctl console` / `xl console` read) and, as Xen's "(dN)" lines,
 * keeld's log (`xl dmesg`), the latter bounded per domain. */
void hvm_debug_port_write(struct domain *d, const uint8_t *buf, size_t n)
{
	struct hvm_domain *h = d->hvm;

	for (size_t i = 0; i < n; i++) {
		char c = (char)buf[i];
		int flush = c == '\n' || h->dbg_len == sizeof(h->dbg_line) - 2;

		if (c != '\n' && c != '\0')
			h->dbg_line[h->dbg_len++] = c;
		if (!flush)
			continue;
		h->dbg_line[h->dbg_len++] = '\n';
		domain_console_write(d, h->dbg_line, h->dbg_len);
		if (h->dbg_logged < HVM_CONSOLE_LOG_MAX) {
			hvlog("(d%d) %.*s", d->domid, (int)h->dbg_len - 1, h->dbg_line);
			h->dbg_logged += h->dbg_len;
			if (h->dbg_logged >= HVM_CONSOLE_LOG_MAX)
				hvlog("d%d: further 0xe9 output only in its console", d->domid);
		}
		h->dbg_len = 0;
	}
}

static int hvm_exit_hypercall(struct vcpu *v)
{
	struct kvm_regs regs;

	if (kvm_regs_get(&v->kvm, &regs) < 0)
		return -1;
	v->hypercalls++;
	if (hvm_hypercall(v, &regs) < 0)
		return -1;
	/* the result is set even when the domain went down meanwhile: a
	 * domain suspended for xl save goes on from here when restored */
	if (kvm_regs_set(&v->kvm, &regs) < 0)
		return -1;
	return v->dom->state == DOM_CRASHED || v->dom->state == DOM_SHUTDOWN ? -1 : 0;
}

static int hvm_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	size_t len = (size_t)run->io.size * run->io.count;

	if (run->io.data_offset + len > v->kvm.run_size) {
		domain_crash(v->dom, "KVM gave a port exit past kvm_run");
		return -1;
	}
	hvm_irq_wire_check(v);
	if (run->io.port == HVM_PORT_HYPERCALL && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.size == 4 && run->io.count == 1)
		return hvm_exit_hypercall(v);
	if (run->io.port == HVM_PORT_DEBUG) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			for (size_t i = 0; i < len; i += run->io.size)
				hvm_debug_port_write(v->dom, data + i, 1);
		} else {
			memset(data, HVM_PORT_DEBUG, len); /* Xen (and Bochs) read back 0xe9 */
		}
		return 0;
	}
	for (size_t i = 0; i < len; i += run->io.size) {
		int is_write = run->io.direction == KVM_EXIT_IO_OUT;
		/* keeld's RTC, PM1a event block and PM timer first (as Xen's
		 * internal handlers), then a device model's port or PCI
		 * device, else keeld's own platform ports, else an unclaimed
		 * port: reads all ones, writes dropped */
		int r;

		if (hvm_rtc_io(v->dom, run->io.port, is_write, data + i, run->io.size) ||
		    hvm_pm_io(v->dom, run->io.port, is_write, data + i, run->io.size) == 0)
			continue;
		r = hvm_ioreq_pio(v, run->io.port, is_write, data + i, run->io.size);

		if (r < 0)
			return -1;
		if (r == 0 &&
		    hvm_platform_io(v->dom, run->io.port, is_write, data + i, run->io.size) < 0 &&
		    !is_write)
			memset(data + i, 0xff, run->io.size);
	}
	return 0;
}

static int hvm_exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;
	int r = hvm_ioreq_mmio(v, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
			       run->mmio.len);

	if (r < 0)
		return -1;
	if (r == 0 && !run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	return 0;
}

static int hvm_exit_rdmsr(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;

	run->msr.data = 0;
	run->msr.error = 1; /* #GP, as KVM would */
	return 0;
}

static int hvm_exit_wrmsr(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;

	run->msr.error = 1;
	if (run->msr.index == XEN_HYPERCALL_MSR)
		run->msr.error = hvm_hypercall_page_write(v, run->msr.data) < 0;
	return 0;
}

/* A triple fault, as Xen's hvm_triple_fault: the domain shuts down with
 * HVM_PARAM_TRIPLE_FAULT_REASON (reboot unless the toolstack set another;
 * SeaBIOS resets the machine this way), the state dumped first. */
static int hvm_exit_shutdown(struct vcpu *v)
{
	uint64_t reason = v->dom->hvm->params[HVM_PARAM_TRIPLE_FAULT_REASON];
	char why[80];

	snprintf(why, sizeof(why), "triple fault - invoking HVM shutdown action %llu",
		 (unsigned long long)reason);
	hvm_vcpu_dump(v, why);
	if (reason == SHUTDOWN_crash)
		domain_crash(v->dom, "triple fault");
	else
		domain_shutdown(v->dom, (int)reason);
	return -1;
}

static int hvm_exit_other(struct vcpu *v)
{
	char why[64];

	snprintf(why, sizeof(why), "exit %s (%u)", kvm_exit_name(v->kvm.run->exit_reason),
		 v->kvm.run->exit_reason);
	hvm_vcpu_dump(v, why);
	domain_crash(v->dom, "unexpected VM %s", why);
	return -1;
}

static int (*const hvm_exit_table[])(struct vcpu *v) = {
	[KVM_EXIT_IO] = hvm_exit_io,
	[KVM_EXIT_MMIO] = hvm_exit_mmio,
	[KVM_EXIT_SHUTDOWN] = hvm_exit_shutdown,
	[KVM_EXIT_X86_RDMSR] = hvm_exit_rdmsr,
	[KVM_EXIT_X86_WRMSR] = hvm_exit_wrmsr,
};

static void hvm_vcpu_signal(int sig)
{
	(void)sig;
	if (hvm_self && hvm_self->kvm.run)
		hvm_self->kvm.run->immediate_exit = 1;
}

void hvm_vcpu_kick(struct vcpu *v)
{
	if (v == hvm_self)
		return;
	if (v->blocked) {
		pthread_cond_broadcast(&v->dom->cond);
		return;
	}
	if (v->thread_valid) {
		v->kvm.run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
}

int hvm_vcpu_send_nmi(struct vcpu *v)
{
	__atomic_fetch_or(&v->dom->hvm->nmi_pending, 1u << v->id, __ATOMIC_ACQ_REL);
	hvm_vcpu_kick(v);
	return 0;
}

/* A pending NMI from dom0 into KVM's vCPU (which holds it until the guest
 * can take it, as Xen's nmi_pending): only this thread may, since KVM_RUN
 * holds the vCPU. */
static void hvm_vcpu_inject_nmi(struct vcpu *v)
{
	uint32_t bit = 1u << v->id;

	if (!(__atomic_load_n(&v->dom->hvm->nmi_pending, __ATOMIC_ACQUIRE) & bit))
		return;
	__atomic_fetch_and(&v->dom->hvm->nmi_pending, ~bit, __ATOMIC_ACQ_REL);
	if (ioctl(v->kvm.fd, KVM_NMI) < 0)
		domain_log(v->dom, "vCPU %d: KVM_NMI failed: %s", v->id, strerror(errno));
}

void *hvm_vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct domain *d = v->dom;
	struct sigaction old;

	/* SIGUSR1 is the kick for every kind's vCPUs.  A kicker sets
	 * immediate_exit itself, so any kind's handler (or ours, if none is
	 * installed yet) will do; without one the signal would end keeld. */
	if (sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
		struct sigaction sa = {.sa_handler = hvm_vcpu_signal};

		sigaction(SIGUSR1, &sa, NULL);
	}
	hvm_self = v;
	v->thread = pthread_self();
	v->thread_valid = 1;
	pthread_mutex_lock(&d->lock);
	d->threads_running++;
	pthread_mutex_unlock(&d->lock);
	for (;;) {
		uint32_t reason;
		int r;

		pthread_mutex_lock(&d->lock);
		while ((d->state == DOM_PAUSED || (d->state == DOM_RUNNING && !v->online)) &&
		       !d->dying)
			pthread_cond_wait(&d->cond, &d->lock);
		r = d->state == DOM_RUNNING && !d->dying;
		pthread_mutex_unlock(&d->lock);
		if (!r)
			break;
		hvm_vcpu_inject_nmi(v);
		r = kvm_vcpu_run(&v->kvm);
		/* EAGAIN: an AP that was waiting for its start-up IPI woke (KVM
		 * took an INIT or SIPI, or spuriously): run it again */
		if (r == -EINTR || r == -EAGAIN) {
			v->kvm.run->immediate_exit = 0;
			continue;
		}
		if (r < 0) {
			domain_crash(d, "KVM_RUN failed: %s", strerror(-r));
			break;
		}
		v->exits++;
		reason = v->kvm.run->exit_reason;
		if (reason < sizeof(hvm_exit_table) / sizeof(hvm_exit_table[0]) &&
		    hvm_exit_table[reason]) {
			if (hvm_exit_table[reason](v) < 0)
				break;
		} else if (hvm_exit_other(v) < 0) {
			break;
		}
	}
	v->thread_valid = 0;
	hvm_self = NULL;
	pthread_mutex_lock(&d->lock);
	d->threads_running--;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->on_stop)
		d->on_stop(d);
	return NULL;
}
