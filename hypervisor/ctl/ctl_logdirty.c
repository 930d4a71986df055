/*
 * Log-dirty for live migration (LOG_DIRTY, keelctl_wire.h): which frames
 * of a running domain changed since the toolstack last looked.  KVM logs
 * the writes the guest's own vCPUs make to its RAM slot (the dirty bitmap,
 * KVM_MEM_LOG_DIRTY_PAGES + KVM_GET_DIRTY_LOG: a pre-copy round wants the
 * whole set at once, and one ioctl per round is all the bitmap costs; the
 * dirty ring would need a reaper per vCPU and is not on every host).  What
 * KVM cannot see is ORed in from keeld's own record (d->logdirty:
 * hypercall results and guest copies, grant copies) and, at every
 * harvest, every frame someone may write through a mapping of its own: a
 * writable grant map (dom0 backends, persistent grants included), the
 * store and console rings dom0's daemons map, the vcpu_info areas keeld
 * writes.  So a frame is never missed; at worst sent once more.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/kvm.h"
#include "../gnttab/gnttab.h"
#include "ctl.h"

#define CTL_LOGDIRTY_WORDS(d) (((d)->nr_pages + 63) / 64)

/* One log-dirty op at a time; not d->lock: the harvest takes the grant
 * tables' peers lock, which ranks before a domain's own locks. */
static pthread_mutex_t ctl_logdirty_lock = PTHREAD_MUTEX_INITIALIZER;

static int ctl_logdirty_has_kvm(struct domain *d)
{
	return d->vm.nslots > 0;
}

static int ctl_logdirty_slot(struct domain *d, uint32_t flags)
{
	if (!ctl_logdirty_has_kvm(d))
		return 0;
	/* slot 0 is guest RAM (domain.c) */
	return kvm_vm_slot_flags(&d->vm, 0, 0, d->nr_pages << DOMAIN_PAGE_SHIFT, d->ram, flags);
}

static int ctl_logdirty_enable(struct domain *d)
{
	int r;

	if (!d->logdirty) {
		d->logdirty = calloc(CTL_LOGDIRTY_WORDS(d), sizeof(uint64_t));
		if (!d->logdirty)
			return -ENOMEM;
	}
	/* the first round sends everything: start with every frame dirty */
	memset(d->logdirty, 0xff, CTL_LOGDIRTY_WORDS(d) * sizeof(uint64_t));
	r = ctl_logdirty_slot(d, KVM_MEM_LOG_DIRTY_PAGES);
	if (r < 0)
		return r;
	__atomic_store_n(&d->logdirty_on, 1, __ATOMIC_RELEASE);
	hvlog("d%d: log-dirty on", d->domid);
	return 0;
}

static int ctl_logdirty_disable(struct domain *d)
{
	int was = __atomic_exchange_n(&d->logdirty_on, 0, __ATOMIC_ACQ_REL);

	if (was)
		hvlog("d%d: log-dirty off", d->domid);
	return was ? ctl_logdirty_slot(d, 0) : 0;
}

/* KVM's log and the mappings keeld cannot watch, into d->logdirty. */
static int ctl_logdirty_harvest(struct domain *d)
{
	uint64_t words = CTL_LOGDIRTY_WORDS(d);

	if (ctl_logdirty_has_kvm(d)) {
		uint64_t *kvm = calloc(words, sizeof(uint64_t));
		int r = kvm ? kvm_vm_dirty_log(&d->vm, 0, kvm) : -ENOMEM;

		if (r < 0) {
			free(kvm);
			return r;
		}
		for (uint64_t i = 0; i < words; i++)
			if (kvm[i])
				__atomic_fetch_or(&d->logdirty[i], kvm[i], __ATOMIC_RELAXED);
		free(kvm);
	}
	gnttab_mark_writable_maps(d);
	if (d->store_mfn)
		domain_dirty_mark(d, d->store_mfn);
	if (d->console_mfn)
		domain_dirty_mark(d, d->console_mfn);
	for (int i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].vcpu_info_gpa)
			domain_dirty_mark(d, d->vcpus[i].vcpu_info_gpa >> DOMAIN_PAGE_SHIFT);
	return 0;
}

static int ctl_logdirty_fetch(struct domain *d, uint64_t first, uint64_t count, void *out,
			      uint32_t *out_len)
{
	uint64_t words = CTL_LOGDIRTY_WORDS(d), *o = out;
	int r;

	if (!__atomic_load_n(&d->logdirty_on, __ATOMIC_ACQUIRE))
		return -ENODATA;
	if (first % 64 || count % 64 || count == 0 || count > KEELCTL_LOGDIRTY_MAX ||
	    first / 64 >= words || count / 64 > words - first / 64)
		return -EINVAL;
	if (first == 0) {
		r = ctl_logdirty_harvest(d);
		if (r < 0)
			return r;
	}
	for (uint64_t i = 0; i < count / 64; i++)
		o[i] = __atomic_exchange_n(&d->logdirty[first / 64 + i], 0, __ATOMIC_ACQ_REL);
	*out_len = (uint32_t)(count / 8);
	return 0;
}

int ctl_logdirty(struct domain *d, struct ctl_dom *x, const void *in, void *out, uint32_t *out_len)
{
	struct keelctl_logdirty_req rq;
	int r;

	(void)x;
	if (!d)
		return -ESRCH;
	memcpy(&rq, in, sizeof(rq));
	pthread_mutex_lock(&ctl_logdirty_lock);
	switch (rq.cmd) {
	case KEELCTL_LOGDIRTY_ENABLE:
		r = ctl_logdirty_enable(d);
		break;
	case KEELCTL_LOGDIRTY_FETCH:
		r = ctl_logdirty_fetch(d, rq.first, rq.count, out, out_len);
		break;
	case KEELCTL_LOGDIRTY_DISABLE:
		r = ctl_logdirty_disable(d);
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&ctl_logdirty_lock);
	return r;
}
