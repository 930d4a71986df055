/*
 * keeld's half of xl save / xl restore: the state of a paused domain that
 * lives outside its RAM, written to (SAVE_STATE) or read from
 * (RESTORE_STATE) a file descriptor the caller passes.  xl copies the RAM
 * itself through MAP_FRAMES and wraps both in its compressed, checksummed
 * image (tools/xl/xl_backend_keel_save.c).
 *
 * The state: a header; struct domain and its pv_vcpus as keeld holds them
 * (layout-checked: an image only restores into a keeld whose structures
 * have the same sizes); per vCPU the KVM registers, segment and control
 * registers, XSAVE area, XCRs, pending events and the syscall MSRs; the
 * page-type table; the bitmap of frames the guest gave back (ballooning);
 * the event-channel table; and the shim region (shared info, vcpu stacks,
 * GDT/IDT, the shim's page tables, grant frames, M2P).
 *
 * Keep ctl_save_apply_domain in step with struct domain: a pointer or
 * handle added there must be carried over from the live domain (and its
 * contents saved here), or a restored domain would hold the saving
 * keeld's pointers.
 *
 * Restore goes into a domain just made by CREATE with the same memory and
 * vCPU count and not yet built.  Everything read is checked before any of
 * it is applied: the live handles (KVM fds, memory mappings, threads,
 * locks, dom0 bindings) of the new domain are kept, the guest's time base
 * is moved so its system time carries on from where it was saved, and
 * ports that were bound to dom0 processes go back to unbound-for-dom0 so
 * the store and console daemons bind them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctl_xl.h"
#include "evtchn.h"
#include "pv_vcpu.h"

#define CTL_SAVE_MAGIC	 "KEELDST1"
#define CTL_SAVE_VERSION 1
#define CTL_SAVE_NMSRS	 8
#define CTL_SAVE_EVTCHNS EVTCHN_2L_NR_CHANNELS

struct ctl_save_hdr {
	char magic[8];
	uint32_t version;
	uint32_t dom_size, vcpu_size, evtchn_size, page_info_size, vcpu_state_size;
	uint32_t nr_vcpus, nr_evtchns;
	uint32_t old_domid, pad;
	uint64_t nr_pages, shim_size;
	uint64_t guest_time_ns; /* guest system time when saved */
};

struct ctl_save_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_msr_entry msrs[CTL_SAVE_NMSRS];
};

/* STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX, PAT, SYSENTER_EIP */
static const uint32_t ctl_save_msr_index[CTL_SAVE_NMSRS] = {
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000102, 0xc0000103, 0x00000277, 0x00000176,
};

static int ctl_save_write(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int ctl_save_read(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EBADMSG; /* truncated */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * A paused domain's vCPU threads leave KVM_RUN and wait for unpause; their
 * last register changes sit in the sync area until then.  Wait (at most
 * 2 s) until every vCPU thread is asleep, seen twice 20 ms apart.
 */
static int ctl_save_quiesce(struct domain *d)
{
	for (int tries = 0; tries < 100; tries++) {
		int busy = 0;

		for (int pass = 0; pass < 2 && !busy; pass++) {
			for (int k = 0; k < d->nr_vcpus && !busy; k++) {
				int tid = ctl_xl_vcpu_tid(d, k);
				char path[64], buf[512], *p;
				FILE *f;
				size_t n;

				if (!tid)
					continue;
				if (d->vcpus[k].blocked) {
					busy = 1;
					break;
				}
				snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
				f = fopen(path, "r");
				if (!f)
					continue; /* the thread has ended */
				n = fread(buf, 1, sizeof(buf) - 1, f);
				fclose(f);
				buf[n] = 0;
				p = strrchr(buf, ')');
				busy = !p || p[1] != ' ' || p[2] != 'S';
			}
			if (!busy && pass == 0)
				usleep(20000);
		}
		if (!busy)
			return 0;
		usleep(20000);
	}
	return -EBUSY;
}

static int ctl_save_vcpu_get(struct pv_vcpu *v, struct ctl_save_vcpu *s)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[CTL_SAVE_NMSRS];
	} m;

	memset(s, 0, sizeof(*s));
	if (kvm_regs_get(&v->kvm, &s->regs) < 0 || kvm_sregs_get(&v->kvm, &s->sregs) < 0)
		return -EIO;
	if (ioctl(v->kvm.fd, KVM_GET_XSAVE, &s->xsave) < 0 ||
	    ioctl(v->kvm.fd, KVM_GET_XCRS, &s->xcrs) < 0 ||
	    ioctl(v->kvm.fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
		return -errno;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = CTL_SAVE_NMSRS;
	for (int i = 0; i < CTL_SAVE_NMSRS; i++)
		m.e[i].index = ctl_save_msr_index[i];
	if (ioctl(v->kvm.fd, KVM_GET_MSRS, &m) != CTL_SAVE_NMSRS)
		return -EIO;
	memcpy(s->msrs, m.e, sizeof(s->msrs));
	return 0;
}

static int ctl_save_vcpu_set(struct pv_vcpu *v, const struct ctl_save_vcpu *s)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[CTL_SAVE_NMSRS];
	} m;

	/* sregs first: EFER and CR0/CR4 decide what the rest may hold */
	if (kvm_sregs_set(&v->kvm, &s->sregs) < 0 || kvm_regs_set(&v->kvm, &s->regs) < 0)
		return -EINVAL;
	if (ioctl(v->kvm.fd, KVM_SET_XSAVE, &s->xsave) < 0 ||
	    ioctl(v->kvm.fd, KVM_SET_XCRS, &s->xcrs) < 0 ||
	    ioctl(v->kvm.fd, KVM_SET_VCPU_EVENTS, &s->events) < 0)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = CTL_SAVE_NMSRS;
	for (int i = 0; i < CTL_SAVE_NMSRS; i++) {
		if (s->msrs[i].index != ctl_save_msr_index[i])
			return -EINVAL;
		m.e[i] = s->msrs[i];
	}
	if (ioctl(v->kvm.fd, KVM_SET_MSRS, &m) != CTL_SAVE_NMSRS)
		return -EINVAL;
	return 0;
}

static void ctl_save_header(struct domain *d, struct ctl_save_hdr *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CTL_SAVE_MAGIC, 8);
	h->version = CTL_SAVE_VERSION;
	h->dom_size = sizeof(struct domain);
	h->vcpu_size = sizeof(struct pv_vcpu);
	h->evtchn_size = sizeof(struct evtchn);
	h->page_info_size = sizeof(struct page_info);
	h->vcpu_state_size = sizeof(struct ctl_save_vcpu);
	h->nr_vcpus = (uint32_t)d->nr_vcpus;
	h->nr_evtchns = CTL_SAVE_EVTCHNS;
	h->old_domid = (uint32_t)d->domid;
	h->nr_pages = d->nr_pages;
	h->shim_size = d->shim_size;
}

int ctl_xl_save_state(struct domain *d, int fd)
{
	static const struct evtchn none[64];
	struct ctl_save_hdr h;
	struct ctl_save_vcpu *vs;
	int r;

	if (d->state != DOM_PAUSED || !d->started)
		return -EINVAL; /* xl pauses first; a stopped domain has nothing to save */
	r = ctl_save_quiesce(d);
	if (r < 0)
		return r;
	vs = calloc((size_t)d->nr_vcpus, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	for (int k = 0; k < d->nr_vcpus && r == 0; k++)
		r = ctl_save_vcpu_get(&d->vcpus[k], &vs[k]);
	ctl_save_header(d, &h);
	h.guest_time_ns = pv_time_now(d);
	if (r == 0)
		r = ctl_save_write(fd, &h, sizeof(h));
	if (r == 0)
		r = ctl_save_write(fd, d, sizeof(*d));
	if (r == 0)
		r = ctl_save_write(fd, vs, (size_t)d->nr_vcpus * sizeof(*vs));
	if (r == 0)
		r = ctl_save_write(fd, d->pages, d->nr_pages * sizeof(*d->pages));
	if (r == 0)
		r = ctl_save_write(fd, d->released, (d->nr_pages + 7) / 8);
	for (int i = 0; r == 0 && i < CTL_SAVE_EVTCHNS; i += 64)
		r = ctl_save_write(fd, d->evtchns ? &d->evtchns[i] : none, sizeof(none));
	if (r == 0)
		r = ctl_save_write(fd, d->shim, d->shim_size);
	free(vs);
	if (r == 0)
		hvlog("d%d: state saved (%d vCPUs, guest time %llu ms)", d->domid, d->nr_vcpus,
		      (unsigned long long)(h.guest_time_ns / 1000000));
	return r;
}

/* What the image's tables may hold: checked before anything is applied. */
static int ctl_save_check(const struct domain *d, const struct domain *s,
			  const struct page_info *pages, const struct evtchn *ev)
{
	for (uint64_t i = 0; i < d->nr_pages; i++)
		if (pages[i].type > PGT_seg_desc || pages[i].pinned > 1)
			return -EINVAL;
	for (int p = 0; p < CTL_SAVE_EVTCHNS; p++)
		if (ev[p].state > ECS_IPI || ev[p].vcpu >= (uint32_t)d->nr_vcpus ||
		    ev[p].virq >= 24 || ev[p].remote_port >= CTL_SAVE_EVTCHNS)
			return -EINVAL;
	for (int k = 0; k < d->nr_vcpus; k++) {
		const struct pv_vcpu *v = &s->vcpus[k];

		if (v->gdt_ents > 16 * 512 || v->ldt_ents > 8192 ||
		    v->vcpu_info_gpa > (d->nr_pages << PV_PAGE_SHIFT) - sizeof(struct vcpu_info))
			return -EINVAL;
		for (int i = 0; i < 24; i++)
			if (v->virq_port[i] >= CTL_SAVE_EVTCHNS)
				return -EINVAL;
	}
	if (s->console_mfn >= d->nr_pages || s->store_mfn >= d->nr_pages ||
	    s->console_port >= CTL_SAVE_EVTCHNS || s->store_port >= CTL_SAVE_EVTCHNS ||
	    s->gnttab_frames > 32)
		return -EINVAL;
	return 0;
}

/* Put the saved struct domain in place, keeping the live domain's handles. */
static void ctl_save_apply_domain(struct domain *d, const struct domain *s)
{
	struct domain live = *d;

	memcpy(d, s, sizeof(*d));
	d->domid = live.domid;
	d->state = DOM_PAUSED;
	d->memfd = live.memfd;
	d->ram = live.ram;
	d->shim = live.shim;
	d->vm = live.vm;
	d->pages = live.pages;
	d->released = live.released;
	d->lock = live.lock;
	d->mm_lock = live.mm_lock;
	d->cond = live.cond;
	d->dying = 0;
	d->notified_state = live.notified_state;
	d->threads_started = 0;
	d->started = 0;
	d->evtchns = live.evtchns;
	d->on_send = live.on_send;
	d->on_stop = live.on_stop;
	d->console = live.console;
	d->console_len = 0;
	memcpy(d->dom0_binds, live.dom0_binds, sizeof(d->dom0_binds));
	d->n_dom0_binds = live.n_dom0_binds;
	d->conbuf = live.conbuf;
	d->conbuf_size = live.conbuf_size;
	d->conbuf_len = live.conbuf_len;
	d->start_wall = live.start_wall;
	d->trace = live.trace;
	d->timing = live.timing;
	for (int k = 0; k < d->nr_vcpus; k++) {
		struct pv_vcpu *v = &d->vcpus[k];
		const struct pv_vcpu *lv = &live.vcpus[k];

		v->dom = d;
		v->kvm = lv->kvm;
		v->thread = lv->thread;
		v->thread_valid = 0;
		v->thread_created = 0;
		v->timer_ok = 0;
		v->blocked = 0;
		v->napply = 0;
	}
}

int ctl_xl_restore_state(struct domain *d, int fd)
{
	struct ctl_save_hdr h, want;
	struct domain *s = NULL;
	struct ctl_save_vcpu *vs = NULL;
	struct page_info *pages = NULL;
	uint8_t *released = NULL;
	struct evtchn *ev = NULL;
	uint8_t *shim = NULL;
	struct timespec now;
	uint64_t t;
	int r;

	if (d->state != DOM_CREATED || d->started)
		return -EBUSY; /* restore only into a domain just created for it */
	r = ctl_save_read(fd, &h, sizeof(h));
	if (r < 0)
		return r;
	ctl_save_header(d, &want);
	if (memcmp(h.magic, want.magic, 8) || h.version != want.version)
		return -EBADMSG;
	/* an image of another keeld build or another domain size: refuse */
	if (h.dom_size != want.dom_size || h.vcpu_size != want.vcpu_size ||
	    h.evtchn_size != want.evtchn_size || h.page_info_size != want.page_info_size ||
	    h.vcpu_state_size != want.vcpu_state_size || h.nr_evtchns != want.nr_evtchns)
		return -EPROTO;
	if (h.nr_vcpus != want.nr_vcpus || h.nr_pages != want.nr_pages ||
	    h.shim_size != want.shim_size)
		return -EINVAL;
	s = malloc(sizeof(*s));
	vs = calloc((size_t)d->nr_vcpus, sizeof(*vs));
	pages = calloc(d->nr_pages, sizeof(*pages));
	released = calloc((d->nr_pages + 7) / 8, 1);
	ev = calloc(CTL_SAVE_EVTCHNS, sizeof(*ev));
	shim = malloc(d->shim_size);
	if (!s || !vs || !pages || !released || !ev || !shim || !d->released) {
		r = -ENOMEM;
		goto out;
	}
	r = ctl_save_read(fd, s, sizeof(*s));
	if (r == 0)
		r = ctl_save_read(fd, vs, (size_t)d->nr_vcpus * sizeof(*vs));
	if (r == 0)
		r = ctl_save_read(fd, pages, d->nr_pages * sizeof(*pages));
	if (r == 0)
		r = ctl_save_read(fd, released, (d->nr_pages + 7) / 8);
	if (r == 0)
		r = ctl_save_read(fd, ev, CTL_SAVE_EVTCHNS * sizeof(*ev));
	if (r == 0)
		r = ctl_save_read(fd, shim, d->shim_size);
	if (r == 0 && (s->nr_pages != d->nr_pages || s->nr_vcpus != d->nr_vcpus ||
		       s->shim_size != d->shim_size || s->cur_pages > d->nr_pages))
		r = -EINVAL;
	if (r == 0)
		r = ctl_save_check(d, s, pages, ev);
	if (r < 0)
		goto out;
	/* Checked: the KVM state goes first (KVM refuses what it cannot hold). */
	for (int k = 0; k < d->nr_vcpus && r == 0; k++)
		r = ctl_save_vcpu_set(&d->vcpus[k], &vs[k]);
	if (r < 0)
		goto out;
	if (!d->evtchns) {
		d->evtchns = calloc(CTL_SAVE_EVTCHNS, sizeof(*d->evtchns));
		if (!d->evtchns) {
			r = -ENOMEM;
			goto out;
		}
	}
	ctl_save_apply_domain(d, s);
	memcpy(d->pages, pages, d->nr_pages * sizeof(*pages));
	/* grant maps are not carried across save/restore: no frame is held */
	for (uint64_t i = 0; i < d->nr_pages; i++)
		d->pages[i].grant_pins = 0;
	memcpy(d->released, released, (d->nr_pages + 7) / 8);
	memcpy(d->shim, shim, d->shim_size);
	for (int p = 0; p < CTL_SAVE_EVTCHNS; p++) {
		struct evtchn *e = &ev[p];

		if (e->dom0_slot) { /* dom0's end went with the old keeld state */
			e->state = ECS_UNBOUND;
			e->remote_dom = 0;
			e->remote_port = 0;
			e->dom0_slot = 0;
		} else if ((e->state == ECS_INTERDOMAIN || e->state == ECS_UNBOUND) &&
			   e->remote_dom == h.old_domid) {
			e->remote_dom = (uint16_t)d->domid;
		} else if (e->state == ECS_INTERDOMAIN) {
			/* another guest's end does not know this domain: the
			 * guest sees the peer gone, as after a migration */
			e->state = ECS_UNBOUND;
			e->remote_port = 0;
		}
	}
	memcpy(d->evtchns, ev, CTL_SAVE_EVTCHNS * sizeof(*ev));
	/* the guest's system time carries on from the moment it was saved */
	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec - h.guest_time_ns;
	d->mono_base.tv_sec = (time_t)(t / 1000000000ull);
	d->mono_base.tv_nsec = (long)(t % 1000000000ull);
	for (int k = 0; k < d->nr_vcpus; k++)
		if (d->vcpus[k].initialised)
			pv_time_update(&d->vcpus[k]);
	/* vCPU threads: vCPU 0's always, the others' if the guest had them up */
	d->started = 1;
	r = -pthread_create(&d->vcpus[0].thread, NULL, pv_vcpu_thread, &d->vcpus[0]);
	if (r == 0)
		d->threads_started = 1;
	for (int k = 1; k < d->nr_vcpus && r == 0; k++) {
		struct pv_vcpu *v = &d->vcpus[k];

		if (!v->initialised)
			continue;
		r = -pthread_create(&v->thread, NULL, pv_vcpu_thread, v);
		if (r == 0)
			v->thread_created = 1;
	}
	hvlog("d%d: state restored from d%u's image (guest time %llu ms)", d->domid, h.old_domid,
	      (unsigned long long)(h.guest_time_ns / 1000000));
out:
	free(s);
	free(vs);
	free(pages);
	free(released);
	free(ev);
	free(shim);
	return r;
}
