/*
 * Time for PV guests: the vcpu_time_info (pvclock) in each vcpu_info and
 * the wallclock in shared_info, so a guest computes system time from its
 * own TSC reads the way Linux's xen clocksource does.  Also where each
 * vCPU's vcpu_info lives (shared_info's legacy slot, or where the guest
 * registered it with VCPUOP_register_vcpu_info), and the vCPU timers
 * (one-shot and periodic) that raise VIRQ_TIMER.  A vCPU may also have a
 * second copy of its time info at a guest-virtual address of its choosing
 * (VCPUOP_register_vcpu_time_memory_area): Linux maps that page into its
 * vDSO, so user space reads the clock without a system call.
 *
 * When keeld's time info carries XEN_PVCLOCK_TSC_STABLE_BIT, Linux trusts
 * every vCPU's record to give the same time for the same TSC value and no
 * longer keeps its clock monotonic itself.  So, as Xen's records do when
 * its clocksource is the TSC, they all lie on one line: guest system time
 * is ns0 + scale(guest TSC - tsc0), fixed at the domain's first record;
 * a record is a point of that line at the vCPU's current TSC, and keeld's
 * own clock (timers, blocking) reads the same line through the host's TSC.
 * (Each record used to be its own sample of CLOCK_MONOTONIC and the TSC,
 * read microseconds apart: vCPUs disagreed by as much, and a reading on
 * one vCPU could be earlier than one made before it on another.)
 */
#include <cpuid.h>
#include <pthread.h>
#include <x86intrin.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi/xen.h"
#include "../core/domain.h"
#include "../core/util.h"
#include "../evtchn/evtchn.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

static uint64_t pv_guest_tsc(struct vcpu *v)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e.index = 0x10};

	if (ioctl(v->kvm.fd, KVM_GET_MSRS, &m) != 1)
		return 0;
	return m.e.data;
}

/* pvclock's scaling of a TSC delta, exactly as the guest computes it. */
static uint64_t pv_time_scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	unsigned __int128 x = shift >= 0 ? (unsigned __int128)delta << shift : delta >> -shift;

	return (uint64_t)((x * mul) >> 32);
}

/* The time line's nanoseconds at guest TSC value tsc (d->tline.set). */
static uint64_t pv_time_line_ns(struct domain *d, uint64_t tsc)
{
	uint32_t mul;
	int8_t shift;

	time_tsc_scale(d->tsc_khz, &mul, &shift);
	return d->tline.ns0 + pv_time_scale_delta(tsc - d->tline.tsc0, mul, shift);
}

/* Guest system time: nanoseconds since the domain's time base. */
uint64_t pv_time_now(struct domain *d)
{
	struct timespec now;

	if (__atomic_load_n(&d->tline.set, __ATOMIC_ACQUIRE))
		return pv_time_line_ns(d, __rdtsc() + (uint64_t)d->tline.host_off);

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!d->mono_base.tv_sec && !d->mono_base.tv_nsec)
		d->mono_base = now;
	return (now.tv_sec - d->mono_base.tv_sec) * 1000000000ULL + now.tv_nsec -
	       d->mono_base.tv_nsec;
}

/*
 * For the 'q' debug key: the guest's clock against the host's.  Guest
 * system time 0 is the host CLOCK_MONOTONIC instant mono_base; on the TSC
 * line the guest's time is extrapolated from its TSC, so the two drift
 * apart by the error of the TSC frequency keeld gave the guest (and by
 * any NTP slewing of the host's clock).  Printed in nanoseconds, guest
 * minus host.
 */
void pv_time_describe(struct domain *d, char *buf, size_t len)
{
	struct timespec now;
	uint64_t guest, host;

	if (!d->mono_base.tv_sec && !d->mono_base.tv_nsec) {
		snprintf(buf, len, "clock not started");
		return;
	}
	guest = pv_time_now(d);
	clock_gettime(CLOCK_MONOTONIC, &now);
	host = (uint64_t)(now.tv_sec - d->mono_base.tv_sec) * 1000000000ULL +
	       (uint64_t)now.tv_nsec - (uint64_t)d->mono_base.tv_nsec;
	snprintf(buf, len, "clock %s: guest %llu ns, host %llu ns, guest - host %lld ns",
		 __atomic_load_n(&d->tline.set, __ATOMIC_ACQUIRE) ? "on the TSC line" : "monotonic",
		 (unsigned long long)guest, (unsigned long long)host, (long long)(guest - host));
}

/*
 * Each vCPU has one POSIX timer (SIGUSR1 at its thread) armed for the
 * nearer of its two Xen timers: the one-shot (set_timer_op,
 * VCPUOP_set_singleshot_timer) and the periodic one
 * (VCPUOP_set_periodic_timer).  v->timer_deadline is that nearer deadline
 * (guest system time, 0 = none): the vCPU loop sleeps no further.
 */
/* The CLOCK_MONOTONIC instant at which guest system time reaches ns (keeld's
 * timers and waits run on CLOCK_MONOTONIC; the guest's time may follow the
 * TSC line instead, so convert by the distance from now). */
#define PV_TIME_FAR_NS (1ULL << 62) /* ~146 years: no later instant is armed */

void pv_time_to_mono(struct domain *d, uint64_t ns, struct timespec *ts)
{
	uint64_t guest_now = pv_time_now(d), abs_ns;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	abs_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	/* A deadline centuries away stays centuries away: added whole, one
	 * near 2^64 (any guest may ask for it) wrapped to a moment already
	 * past, and the vCPU spun forever re-arming a timer that fired early
	 * (found by pv-fuzz; pv-hostile-regress checks it). */
	if (ns > guest_now)
		abs_ns += ns - guest_now < PV_TIME_FAR_NS ? ns - guest_now : PV_TIME_FAR_NS;
	ts->tv_sec = (time_t)(abs_ns / 1000000000ULL);
	ts->tv_nsec = (long)(abs_ns % 1000000000ULL);
}

static int pv_timer_arm(struct vcpu *v)
{
	struct itimerspec its = {0};
	uint64_t deadline = v->singleshot_deadline;

	if (v->periodic_next && (!deadline || v->periodic_next < deadline))
		deadline = v->periodic_next;
	v->timer_deadline = deadline;
	if (!v->timer_ok)
		return 0;
	/* keeld's own look at a held-back upcall, not the guest's timer */
	if (v->pv->held_retry && (!deadline || v->pv->held_retry < deadline))
		deadline = v->pv->held_retry;
	/* A vCPU blocked in SCHEDOP_block/poll sleeps until its deadline on
	 * the domain's condition variable: a signal at the same moment would
	 * only kick the guest out of the upcall it is by then handling (an
	 * exit each wakeup of an idle guest).  pv_vcpu_wait arms it again as
	 * it leaves. */
	if (deadline && !__atomic_load_n(&v->blocked, __ATOMIC_RELAXED)) {
		pv_time_to_mono(v->dom, deadline, &its.it_value);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	return timer_settime(v->timer, TIMER_ABSTIME, &its, NULL) < 0 ? -1 : 0;
}

/* Have the vCPU's timer kick it `ns` from now for keeld's own sake (a
 * held-back upcall), whatever the guest's timers say. */
int pv_timer_retry(struct vcpu *v, uint64_t ns)
{
	v->pv->held_retry = pv_time_now(v->dom) + ns;
	return pv_timer_arm(v);
}

/* Arm the vCPU's one-shot timer for guest system time `deadline` (0 stops
 * it); on expiry the vCPU leaves KVM_RUN and sends VIRQ_TIMER.  The vCPU
 * thread's start calls this with the deadline recorded so far: that only
 * arms the POSIX timer. */
int pv_timer_set(struct vcpu *v, uint64_t deadline)
{
	if (!deadline || deadline != v->timer_deadline || deadline == v->singleshot_deadline ||
	    !v->periodic_next)
		v->singleshot_deadline = deadline;
	return pv_timer_arm(v);
}

/*
 * VCPUOP_set_periodic_timer / stop_periodic_timer on vCPU t (any vCPU of
 * the caller's domain, as in Xen): VIRQ_TIMER every period_ns from the
 * call, on that grid whatever each delivery's delay (Xen's
 * vcpu_periodic_timer_work starts the next period at the delivery, so a
 * loaded host loses ticks there).
 * Xen refuses periods under 1 ms or past STIME_DELTA_MAX (2^62 ns).
 */
long pv_timer_periodic_op(struct vcpu *caller, struct vcpu *t, int stop, uint64_t arg)
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
void pv_timer_check(struct vcpu *v)
{
	uint64_t now;
	int fire = 0;

	if (v->pv->held_retry && pv_time_now(v->dom) >= v->pv->held_retry) {
		v->pv->held_retry = 0;
		pv_timer_arm(v);
	}
	if (!v->timer_deadline)
		return;
	now = pv_time_now(v->dom);
	if (now < v->timer_deadline) {
		/* Early: the POSIX timer runs on CLOCK_MONOTONIC, the guest's
		 * time may follow the TSC line, and the two drift apart by
		 * microseconds.  Arm it again, or a vCPU spinning in user mode
		 * (no exit to look at its timers) never gets this tick. */
		pv_timer_arm(v);
		return;
	}
	if (v->singleshot_deadline && now >= v->singleshot_deadline) {
		v->singleshot_deadline = 0;
		fire = 1;
	}
	if (v->periodic_next && now >= v->periodic_next) {
		/* the next tick stays on the period's grid: a late delivery
		 * does not push every later tick back (Xen's restart a period
		 * after the delivery loses a tick for every late one); grid
		 * points missed whole are one event */
		uint64_t late = (now - v->periodic_next) / v->periodic_period;

		v->periodic_next += (late + 1) * v->periodic_period;
		fire = 1;
	}
	pv_timer_arm(v);
	if (fire)
		evtchn_send_virq(v, VIRQ_TIMER);
}

static int pv_time_stable;
static pthread_once_t pv_time_stable_once = PTHREAD_ONCE_INIT;

/*
 * Whether the time info may carry XEN_PVCLOCK_TSC_STABLE_BIT (Xen sets it
 * when its own clocksource is the TSC).  A guest extrapolates keeld's
 * system time (the host's CLOCK_MONOTONIC) with its TSC, on any vCPU, from
 * a record keeld rarely rewrites.  That holds only if (1) the TSC is
 * invariant (CPUID 0x80000007 EDX bit 8: constant rate, runs in every
 * C/P-state) and KVM gives every vCPU of the VM the same offset (it syncs
 * the TSCs it creates), and (2) the host's CLOCK_MONOTONIC is itself kept
 * by the TSC (current clocksource "tsc"), so the two clocks advance
 * together rather than drift apart.
 */
static void pv_time_stable_probe(void)
{
	unsigned a, b, c, dx = 0;
	char cs[32] = "";
	FILE *f;

	if (!__get_cpuid(0x80000007, &a, &b, &c, &dx) || !(dx & (1u << 8)))
		return;
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (!f)
		return;
	if (!fgets(cs, sizeof(cs), f))
		cs[0] = 0;
	fclose(f);
	pv_time_stable = !strcmp(cs, "tsc\n") || !strcmp(cs, "tsc");
}

/*
 * Guest-physical address of the vcpu_time_info at va in v's kernel page
 * tables (the area is a kernel address; the user tables of a 64-bit PV
 * guest do not map it, and v may be running user code or not at all).
 * Xen's rules for a guest write: present, user-accessible (PV kernels run
 * in ring 3), writable, in the domain's RAM.  The record must not cross a
 * page (Linux's is at the start of a page of its own).
 */
static int pv_time_area_gpa(struct vcpu *v, uint64_t va, uint64_t *gpa)
{
	uint64_t table = v->pv->kernel_cr3 & PTE_ADDR, e;
	uint64_t limit = v->dom->nr_pages << PV_PAGE_SHIFT;

	if (!table || (va & 0xfff) > PV_PAGE_SIZE - sizeof(struct vcpu_time_info))
		return -XEN_EFAULT;
	for (int level = 4; level >= 1; level--) {
		if (table >= limit)
			return -XEN_EFAULT;
		e = pv_mm_read_entry(v, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
		if ((e & (PTE_P | PTE_US | PTE_RW)) != (PTE_P | PTE_US | PTE_RW))
			return -XEN_EFAULT;
		table = e & PTE_ADDR;
	}
	if (table >= limit)
		return -XEN_EFAULT;
	*gpa = table + (va & 0xfff);
	return 0;
}

/*
 * Copy v's time info to its registered area, as Xen does each time it
 * rewrites vcpu_info's: the version first (odd: an update is under way),
 * then the record, then the final (even) version, equal to vcpu_info's.
 * An area that no longer translates is skipped, as Xen ignores a failed
 * copy.
 */
static void pv_time_area_write(struct vcpu *v, const struct vcpu_time_info *t)
{
	struct domain *d = v->dom;
	struct vcpu_time_info rec;
	struct page_info *pg;
	uint8_t *a;
	uint64_t gpa;

	if (!v->time_area_va)
		return;
	/* Page types change under mm_lock: the frame cannot become a page
	 * table between the walk and the write. */
	pthread_mutex_lock(&d->mm_lock);
	if (pv_time_area_gpa(v, v->time_area_va, &gpa) < 0)
		goto out;
	pg = &d->pv->pages[gpa >> PV_PAGE_SHIFT];
	if (pg->type_count && pg->type != PGT_writable)
		goto out;
	/* The guest picks the address, aligned or not (Xen takes either):
	 * bytes copied, fenced in order -- a single store for an aligned
	 * version, as a reader needs.  (Typed stores to a misaligned area
	 * were undefined; the sanitizer build died on one, found by
	 * pv-fuzz; pv-hostile-regress replays it.) */
	a = (uint8_t *)(d->ram + gpa);
	rec = *t;
	rec.version = t->version - 1;
	memcpy(a, &rec.version, sizeof(rec.version));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(a + sizeof(rec.version), (const uint8_t *)&rec + sizeof(rec.version),
	       sizeof(rec) - sizeof(rec.version));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(a, &t->version, sizeof(t->version));
out:
	pthread_mutex_unlock(&d->mm_lock);
}

/*
 * VCPUOP_register_vcpu_time_memory_area for vCPU t of the caller's domain
 * (vcpu_op looked the id up there).  As Xen: -EFAULT for an unreadable
 * argument or an address no guest access could use (non-canonical, or in
 * the hypervisor's hole); 0 unregisters; the area is written at once.
 * Like Xen, an address that is canonical but not mapped yet is accepted;
 * keeld writes it whenever it translates.
 */
long pv_time_area_register(struct vcpu *caller, struct vcpu *t, uint64_t arg)
{
	struct vcpu_register_time_memory_area r;

	if (pv_copy_from_guest(caller, &r, arg, sizeof(r)) < 0)
		return -XEN_EFAULT;
	if (((int64_t)r.addr >> 47 != 0 && (int64_t)r.addr >> 47 != -1) ||
	    (r.addr >= HYPERVISOR_VIRT_START && r.addr < HYPERVISOR_VIRT_END) ||
	    (r.addr && r.addr + sizeof(struct vcpu_time_info) - 1 < r.addr))
		return -XEN_EFAULT;
	t->time_area_va = r.addr;
	if (r.addr) {
		domain_log(t->dom, "vcpu %d: time info area registered at %#llx", t->id,
			   (unsigned long long)r.addr);
		pv_time_area_write(t, &vcpu_info(t)->time);
	}
	return 0;
}

/*
 * Fix the domain's time line at its first record (stable TSC only): the
 * time so far (CLOCK_MONOTONIC's, from the build on) at the guest TSC read
 * now.  The guest TSC was read before host TSC value h1; taking the
 * offset at h1 puts keeld's clock behind the guest's by at most the
 * read's length, always the same amount, never ahead: a guest timer may
 * fire microseconds late, never early by the guest's clock.
 */
static void pv_time_line_start(struct vcpu *v, uint64_t ns, uint64_t tsc, uint64_t h1)
{
	static pthread_mutex_t line_lock = PTHREAD_MUTEX_INITIALIZER;
	struct domain *d = v->dom;

	pthread_mutex_lock(&line_lock);
	if (!d->tline.set && tsc) {
		d->tline.tsc0 = tsc;
		d->tline.ns0 = ns;
		d->tline.host_off = (int64_t)(tsc - h1);
		__atomic_store_n(&d->tline.set, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&line_lock);
}

/* The guest's TSC frequency (KVM's for the vCPU, fixed for the domain at
 * its first use). */
uint64_t pv_time_tsc_khz(struct vcpu *v)
{
	struct domain *d = v->dom;

	if (!d->tsc_khz)
		d->tsc_khz = kvm_tsc_khz(&v->kvm);
	return d->tsc_khz;
}

/* Xen's CPUID time leaf (0x40000003) for a domain in TSC mode "native"
 * (no TSC emulation): subleaf 0 the features (bit 1: the TSC is safe to
 * use, as pvclock's stable bit says), the mode and the TSC kHz; 1 the
 * scale from TSC to system time (offset 0); 2 the host's TSC kHz. */
void pv_time_cpuid_leaf(struct vcpu *v, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			uint32_t *d)
{
	uint64_t khz = pv_time_tsc_khz(v);
	uint32_t mul;
	int8_t shift;

	pthread_once(&pv_time_stable_once, pv_time_stable_probe);
	*a = *b = *c = *d = 0;
	switch (sub) {
	case 0:
		*a = pv_time_stable ? 1u << 1 : 0;
		*c = (uint32_t)khz;
		break;
	case 1:
		time_tsc_scale(khz, &mul, &shift);
		*c = mul;
		*d = (uint32_t)(int32_t)shift;
		break;
	case 2:
		*a = (uint32_t)khz;
		break;
	default:
		break;
	}
}

void pv_time_update(struct vcpu *v)
{
	struct domain *d = v->dom;
	struct vcpu_time_info *t = &vcpu_info(v)->time;
	struct shared_info *sh = domain_shared_info(d);
	struct timespec now;
	uint64_t ns, tsc, h1;

	pv_time_tsc_khz(v);
	pthread_once(&pv_time_stable_once, pv_time_stable_probe);
	clock_gettime(CLOCK_REALTIME, &now);
	ns = pv_time_now(d);
	if (!d->start_wall.tv_sec) {
		/* Xen's wallclock is the wall time at system time 0: now less the
		 * guest's system time, which a restored guest carries on from
		 * where it was saved (its date must not jump by its uptime) */
		uint64_t wall = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;

		wall = wall > ns ? wall - ns : 0;
		d->start_wall.tv_sec = (time_t)(wall / 1000000000ull);
		d->start_wall.tv_nsec = (long)(wall % 1000000000ull);
	}
	tsc = pv_guest_tsc(v);
	h1 = __rdtsc();
	if (pv_time_stable && !__atomic_load_n(&d->tline.set, __ATOMIC_ACQUIRE))
		pv_time_line_start(v, ns, tsc, h1);
	if (__atomic_load_n(&d->tline.set, __ATOMIC_ACQUIRE)) {
		int64_t off = (int64_t)(tsc - h1) - d->tline.host_off;

		/* KVM gives a VM's vCPUs one TSC offset; say so if it did not
		 * (over 100 us apart): that vCPU's clock is off by as much */
		if ((off > 0 ? off : -off) > (int64_t)(d->tsc_khz / 10) && !v->tsc_off_logged) {
			v->tsc_off_logged = 1;
			domain_log(d, "vcpu %d: TSC %lld cycles off the time line's", v->id,
				   (long long)off);
		}
		ns = pv_time_line_ns(d, tsc); /* a point of the line, at this TSC */
	}
	t->version++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->tsc_timestamp = tsc;
	t->system_time = ns;
	time_tsc_scale(d->tsc_khz, &t->tsc_to_system_mul, &t->tsc_shift);
	/* Both copies carry the same flags, as in Xen (Linux looks for the
	 * bit in vcpu_info's before it registers an area at all). */
	t->flags = pv_time_stable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->version++;
	pv_time_area_write(v, t);
	sh->wc_version++;
	sh->wc_sec = d->start_wall.tv_sec;
	sh->wc_sec_hi = (uint64_t)d->start_wall.tv_sec >> 32;
	sh->wc_nsec = d->start_wall.tv_nsec;
	sh->wc_version++;
}
