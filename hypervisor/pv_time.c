/*
 * Time for PV guests: the vcpu_time_info (pvclock) in each vcpu_info and
 * the wallclock in shared_info, so a guest computes system time from its
 * own TSC reads the way Linux's xen clocksource does.  Also where each
 * vCPU's vcpu_info lives (shared_info's legacy slot, or where the guest
 * registered it with VCPUOP_register_vcpu_info), and the vCPU timers
 * (one-shot and periodic) that raise VIRQ_TIMER.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "abi/xen.h"
#include "domain.h"
#include "evtchn.h"
#include "pv_mm.h"

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

/*
 * Each vCPU has one POSIX timer (SIGUSR1 at its thread) armed for the
 * nearer of its two Xen timers: the one-shot (set_timer_op,
 * VCPUOP_set_singleshot_timer) and the periodic one
 * (VCPUOP_set_periodic_timer).  v->timer_deadline is that nearer deadline
 * (guest system time, 0 = none): the vCPU loop sleeps no further.
 */
static int pv_timer_arm(struct pv_vcpu *v)
{
	struct itimerspec its = {0};
	uint64_t deadline = v->singleshot_deadline;

	if (v->periodic_next && (!deadline || v->periodic_next < deadline))
		deadline = v->periodic_next;
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

/* Arm the vCPU's one-shot timer for guest system time `deadline` (0 stops
 * it); on expiry the vCPU leaves KVM_RUN and sends VIRQ_TIMER.  The vCPU
 * thread's start calls this with the deadline recorded so far: that only
 * arms the POSIX timer. */
int pv_timer_set(struct pv_vcpu *v, uint64_t deadline)
{
	if (!deadline || deadline != v->timer_deadline || deadline == v->singleshot_deadline ||
	    !v->periodic_next)
		v->singleshot_deadline = deadline;
	return pv_timer_arm(v);
}

/*
 * VCPUOP_set_periodic_timer / stop_periodic_timer on vCPU t (any vCPU of
 * the caller's domain, as in Xen): VIRQ_TIMER every period_ns, the next
 * one a period after the last delivery (Xen's vcpu_periodic_timer_work).
 * Xen refuses periods under 1 ms or past STIME_DELTA_MAX (2^62 ns).
 */
long pv_timer_periodic_op(struct pv_vcpu *caller, struct pv_vcpu *t, int stop, uint64_t arg)
{
	uint64_t period = 0;

	if (!stop) {
		if (pv_copy_from_guest(caller, &period, arg, sizeof(period)) < 0)
			return -XEN_EFAULT;
		if (period < 1000000ULL || period > (1ULL << 62))
			return -XEN_EINVAL;
	}
	t->periodic_period = period;
	t->periodic_next = period ? pv_time_now(t->dom) + period : 0;
	if (pv_timer_arm(t) < 0)
		return -XEN_EIO;
	if (t != caller)
		pv_vcpu_kick(t); /* a blocked vCPU recomputes how long it sleeps */
	return 0;
}

/* Passed deadlines become VIRQ_TIMER (Xen's vcpu_singleshot_timer_fn and
 * vcpu_periodic_timer_work): one event even if both timers passed. */
void pv_timer_check(struct pv_vcpu *v)
{
	uint64_t now;
	int fire = 0;

	if (!v->timer_deadline)
		return;
	now = pv_time_now(v->dom);
	if (now < v->timer_deadline)
		return;
	if (v->singleshot_deadline && now >= v->singleshot_deadline) {
		v->singleshot_deadline = 0;
		fire = 1;
	}
	if (v->periodic_next && now >= v->periodic_next) {
		v->periodic_next = now + v->periodic_period;
		fire = 1;
	}
	pv_timer_arm(v);
	if (fire)
		evtchn_send_virq(v, VIRQ_TIMER);
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
