/*
 * Event channels for Keel's guest runtime (Xen's 2-level ABI): the event
 * callback entry (Xen's bounce frame in, the iret hypercall out), a handler
 * that scans the selector and pending words, per-port counters, thin
 * wrappers for the event_channel_op and timer hypercalls, each vCPU's
 * VIRQ_TIMER port, and what Xen's suspend protocol asks of this layer
 * (suspend.h): the shared_info mapping let go before the suspend and taken
 * again after it, and after a resume in a new life (every port closed)
 * the event state of a new domain, the callback and the timer ports again.
 */
#include "abi/event_channel.h"
#include "evtchn.h"
#include "keel_guest.h"
#include "page.h"

static char rt_shared_page[4096] __attribute__((aligned(4096)));
struct shared_info *rt_shared_info = (struct shared_info *)rt_shared_page;
volatile uint64_t rt_event_counts[RT_MAX_PORTS];
static int rt_events_done;
/* Each vCPU's VIRQ_TIMER port (0: not bound), rebound after a resume. */
static volatile uint32_t rt_timer_ports[RT_MAX_VCPUS];
/* vCPU 0's upcall mask before the suspend masked it. */
static uint8_t rt_saved_upcall_mask;

/* Frame on entry: rcx, r11, rip, cs, rflags, rsp, ss (no error code). */
__asm__(".text\n"
	".globl rt_event_entry\n"
	"rt_event_entry:\n"
	"	push %rax\n"
	"	push %rdi\n"
	"	push %rsi\n"
	"	push %rdx\n"
	"	push %r8\n"
	"	push %r9\n"
	"	push %r10\n"
	"	call rt_event_handler\n"
	"	pop %r10\n"
	"	pop %r9\n"
	"	pop %r8\n"
	"	pop %rdx\n"
	"	pop %rsi\n"
	"	pop %rdi\n"
	"	pop %rax\n"
	/* iret wants rax, r11, rcx, flags, rip, cs, rflags, rsp, ss */
	"	pop %rcx\n"
	"	pop %r11\n"
	"	pushq $0\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	push %rax\n"
	"	mov $23, %eax\n"
	"	syscall\n");
extern char rt_event_entry[];

void rt_event_handler(void);
void rt_event_handler(void)
{
	struct vcpu_info *vi = &rt_shared_info->vcpu_info[0];
	uint64_t sel;

	vi->evtchn_upcall_pending = 0;
	sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		int w = __builtin_ctzll(sel);
		uint64_t bits;

		sel &= sel - 1;
		bits = rt_shared_info->evtchn_pending[w] & ~rt_shared_info->evtchn_mask[w];
		while (bits) {
			int b = __builtin_ctzll(bits), port = w * 64 + b;

			bits &= bits - 1;
			__atomic_fetch_and(&rt_shared_info->evtchn_pending[w], ~(1ULL << b),
					   __ATOMIC_SEQ_CST);
			if (port < RT_MAX_PORTS)
				rt_event_counts[port]++;
		}
	}
}

long rt_events_init(void)
{
	struct callback_register cb = {CALLBACKTYPE_event, 0, 0, (uint64_t)rt_event_entry};
	long r;

	if (rt_events_done)
		return 0;

	r = HYPERCALL(__HYPERVISOR_update_va_mapping, rt_shared_page,
		      rt_start_info->shared_info | 0x67, UVMF_INVLPG);
	if (r)
		return r;
	r = HYPERCALL(__HYPERVISOR_callback_op, CALLBACKOP_register, &cb, 0);
	if (r)
		return r;
	rt_shared_info->vcpu_info[0].evtchn_upcall_mask = 0;
	rt_events_done = 1;
	return 0;
}

/*
 * Before SHUTDOWN_suspend: no upcall on vCPU 0 from here on, and the
 * shared_info page unmapped, as Linux's xen_pv_pre_suspend does (Xen's
 * save refuses a page table that maps a frame outside the guest's RAM).
 * The page's own RAM frame goes back under the address holding a copy of
 * the page as it was, so another vCPU still reading the clock through it
 * reads a sensible (if no longer updated) record, as Linux's
 * xen_dummy_shared_info serves.
 */
void rt_events_suspend(void)
{
	static char copy[4096];

	if (!rt_events_done)
		return;
	rt_saved_upcall_mask = rt_shared_info->vcpu_info[0].evtchn_upcall_mask;
	rt_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rt_memcpy(copy, rt_shared_page, sizeof(copy));
	HYPERCALL(__HYPERVISOR_update_va_mapping, rt_shared_page,
		  (rt_virt_to_mfn(rt_shared_page) << RT_PAGE_SHIFT) | 0x67, UVMF_INVLPG);
	rt_memcpy(rt_shared_page, copy, sizeof(copy));
}

/*
 * After it: shared_info mapped again where start_info (rewritten by the
 * toolstack on a restore) says it is.  In a new life (fresh) every port
 * is closed: nothing may be pending or masked (a new domain's state; a
 * port bound from here on delivers unless its owner masks it, as a
 * driver's polled ports are), the event callback is registered again
 * (Xen keeps it with the vCPU's context; registering costs nothing) and
 * every vCPU's VIRQ_TIMER is bound again, masked, at a port that may
 * differ.  Then vCPU 0's upcalls are allowed as they were.
 */
long rt_events_resume(int fresh)
{
	struct callback_register cb = {CALLBACKTYPE_event, 0, 0, (uint64_t)rt_event_entry};
	long r, err = 0;

	if (!rt_events_done)
		return 0;
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, rt_shared_page,
		      (rt_start_info->shared_info & ~0xfffULL) | 0x67, UVMF_INVLPG);
	if (r)
		return r; /* no shared_info: nothing below can work */
	if (fresh) {
		rt_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
		rt_memset(rt_shared_info->evtchn_pending, 0,
			  sizeof(rt_shared_info->evtchn_pending));
		rt_memset(rt_shared_info->evtchn_mask, 0, sizeof(rt_shared_info->evtchn_mask));
		for (unsigned i = 0; i < RT_MAX_VCPUS; i++) {
			rt_shared_info->vcpu_info[i].evtchn_pending_sel = 0;
			rt_shared_info->vcpu_info[i].evtchn_upcall_pending = 0;
		}
		r = HYPERCALL(__HYPERVISOR_callback_op, CALLBACKOP_register, &cb, 0);
		if (r)
			err = r;
		for (unsigned i = 0; i < RT_MAX_VCPUS; i++) {
			if (!rt_timer_ports[i])
				continue;
			rt_timer_ports[i] = 0;
			r = rt_timer_port(i);
			if (r < 0 && !err)
				err = r;
		}
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rt_shared_info->vcpu_info[0].evtchn_upcall_mask = rt_saved_upcall_mask;
	return err;
}

long rt_timer_port(unsigned vcpu)
{
	struct evtchn_bind_virq b = {VIRQ_TIMER, vcpu, 0};
	long r;

	if (vcpu >= RT_MAX_VCPUS)
		return -XEN_EINVAL;
	if (rt_timer_ports[vcpu])
		return rt_timer_ports[vcpu];
	r = rt_events_init();
	if (r)
		return r;
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &b);
	if (r)
		return r;
	rt_evtchn_mask(b.port);
	rt_evtchn_test_clear(b.port);
	rt_timer_ports[vcpu] = b.port;
	return b.port;
}

long rt_evtchn_op(unsigned cmd, void *arg)
{
	return HYPERCALL(__HYPERVISOR_event_channel_op, cmd, arg, 0);
}

/* Guest system time from the pvclock keeld publishes. */
uint64_t rt_now_ns(void)
{
	const struct vcpu_time_info *t = &rt_shared_info->vcpu_info[0].time;
	uint32_t v, lo, hi;
	uint64_t now;

	do {
		v = __atomic_load_n(&t->version, __ATOMIC_SEQ_CST);
		__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
		{
			uint64_t d = (((uint64_t)hi << 32) | lo) - t->tsc_timestamp;
			unsigned __int128 x =
				t->tsc_shift >= 0 ? d << t->tsc_shift : d >> -t->tsc_shift;

			now = t->system_time + (uint64_t)((x * t->tsc_to_system_mul) >> 32);
		}
	} while ((v & 1) || v != __atomic_load_n(&t->version, __ATOMIC_SEQ_CST));
	return now;
}

long rt_set_timer(uint64_t deadline, unsigned flags)
{
	return rt_set_timer_on(0, deadline, flags);
}

long rt_set_timer_on(unsigned vcpu, uint64_t deadline, unsigned flags)
{
	uint64_t st[2] = {deadline, flags};

	return HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, vcpu, st);
}

int rt_wait_event_count(uint32_t port, uint64_t want, uint64_t timeout_ns)
{
	uint64_t end = rt_now_ns() + timeout_ns;
	struct sched_poll sp;

	while (port < RT_MAX_PORTS && rt_event_counts[port] < want) {
		uint64_t now = rt_now_ns();

		if (now > end)
			return 0;
		sp.ports = (uint64_t)&port;
		sp.nr_ports = 1;
		sp.timeout = now + 5000000;
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	}
	return port < RT_MAX_PORTS;
}
