/*
 * Event channels for Keel's guest runtime (Xen's 2-level ABI): the event
 * callback entry (Xen's bounce frame in, the iret hypercall out), a handler
 * that scans the selector and pending words, per-port counters, and thin
 * wrappers for the event_channel_op and timer hypercalls.
 */
#include "abi/event_channel.h"
#include "keel_guest.h"

static char rt_shared_page[4096] __attribute__((aligned(4096)));
struct shared_info *rt_shared_info = (struct shared_info *)rt_shared_page;
volatile uint64_t rt_event_counts[RT_MAX_PORTS];

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
	static int done;
	long r;

	if (done)
		return 0;

	r = HYPERCALL(__HYPERVISOR_update_va_mapping, rt_shared_page,
		      rt_start_info->shared_info | 0x67, UVMF_INVLPG);
	if (r)
		return r;
	r = HYPERCALL(__HYPERVISOR_callback_op, CALLBACKOP_register, &cb, 0);
	if (r)
		return r;
	rt_shared_info->vcpu_info[0].evtchn_upcall_mask = 0;
	done = 1;
	return 0;
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
	uint64_t st[2] = {deadline, flags};

	return HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, st);
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
