/*
 * Time for PV guests: the vcpu_time_info (pvclock) in each vcpu_info and
 * the wallclock in shared_info, so a guest computes system time from its
 * own TSC reads the way Linux's xen clocksource does.  Also where each
 * vCPU's vcpu_info lives (shared_info's legacy slot, or where the guest
 * registered it with VCPUOP_register_vcpu_info).
 */
#include <string.h>
#include <sys/ioctl.h>

#include "domain.h"
#include "evtchn.h"

struct vcpu_info *pv_vcpu_info(struct pv_vcpu *v)
{
	if (v->vcpu_info_gpa)
		return (struct vcpu_info *)(v->dom->ram + v->vcpu_info_gpa);
	return &domain_shared_info(v->dom)->vcpu_info[v->id];
}

static uint64_t pv_guest_tsc(struct pv_vcpu *v)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e.index = 0x10};

	if (ioctl(v->kvm.fd, KVM_GET_MSRS, &m) != 1)
		return 0;
	return m.e.data;
}

/* ns = ((tsc << shift) * mul) >> 32, with mul < 2^32. */
static void pv_time_scale(uint64_t khz, uint32_t *mul, int8_t *shift)
{
	uint64_t m;
	int s = 0;

	if (!khz)
		khz = 1000000;
	m = (1000000ULL << 32) / khz;
	while (m >= (1ULL << 32)) {
		m >>= 1;
		s++;
	}
	while (m < (1ULL << 31) && s > -31) {
		m <<= 1;
		s--;
	}
	*mul = m;
	*shift = s;
}

/* Guest system time: nanoseconds since the domain's time base. */
uint64_t pv_time_now(struct domain *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!d->mono_base.tv_sec && !d->mono_base.tv_nsec)
		d->mono_base = now;
	return (now.tv_sec - d->mono_base.tv_sec) * 1000000000ULL + now.tv_nsec -
	       d->mono_base.tv_nsec;
}

/* Arm the vCPU's one-shot timer for guest system time `deadline` (0 stops
 * it); on expiry the vCPU leaves KVM_RUN and sends VIRQ_TIMER. */
int pv_timer_set(struct pv_vcpu *v, uint64_t deadline)
{
	struct itimerspec its = {0};

	v->timer_deadline = deadline;
	if (!v->timer_ok)
		return 0;
	if (deadline) {
		uint64_t abs_ns, base_ns;

		pv_time_now(v->dom);
		base_ns = v->dom->mono_base.tv_sec * 1000000000ULL + v->dom->mono_base.tv_nsec;
		abs_ns = base_ns + deadline;
		its.it_value.tv_sec = abs_ns / 1000000000ULL;
		its.it_value.tv_nsec = abs_ns % 1000000000ULL;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	return timer_settime(v->timer, TIMER_ABSTIME, &its, NULL) < 0 ? -1 : 0;
}

/* A passed deadline becomes VIRQ_TIMER (Xen's vcpu_singleshot_timer_fn). */
void pv_timer_check(struct pv_vcpu *v)
{
	if (v->timer_deadline && pv_time_now(v->dom) >= v->timer_deadline) {
		v->timer_deadline = 0;
		evtchn_send_virq(v, VIRQ_TIMER);
	}
}

void pv_time_update(struct pv_vcpu *v)
{
	struct domain *d = v->dom;
	struct vcpu_time_info *t = &pv_vcpu_info(v)->time;
	struct shared_info *sh = domain_shared_info(d);
	struct timespec now;
	uint64_t ns;

	if (!d->tsc_khz)
		d->tsc_khz = kvm_tsc_khz(&v->kvm);
	clock_gettime(CLOCK_REALTIME, &now);
	if (!d->start_wall.tv_sec)
		d->start_wall = now;
	ns = pv_time_now(d);
	t->version++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->tsc_timestamp = pv_guest_tsc(v);
	t->system_time = ns;
	pv_time_scale(d->tsc_khz, &t->tsc_to_system_mul, &t->tsc_shift);
	t->flags = 1; /* TSC stable across vCPUs */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->version++;
	sh->wc_version++;
	sh->wc_sec = d->start_wall.tv_sec;
	sh->wc_sec_hi = (uint64_t)d->start_wall.tv_sec >> 32;
	sh->wc_nsec = d->start_wall.tv_nsec;
	sh->wc_version++;
}
