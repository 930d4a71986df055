/*
 * The runtime's console: the domain's PV console ring (start_info's
 * console.domU page and event channel), written as Linux's hvc_xen does --
 * bytes on the out ring, then a notification; when the ring is full, kick
 * the backend and yield until it makes room.  This is the guest's console
 * (`xl console`, keel-consoled's log, `keeld run`'s stdout); console_io is
 * not, since Xen sends a domU's console_io to the hypervisor log.
 *
 * A guest must never hang on its own printf, so waiting is bounded: a ring
 * nobody drains (no backend, a closed port) gets what fits and the rest is
 * dropped until the backend moves again.  Writers on several vCPUs take a
 * lock; a writer that cannot get it (an event handler that interrupted a
 * writer on the same vCPU) sends its bytes with console_io instead, where
 * they end up in the hypervisor log rather than nowhere.
 */
#include "keel_guest.h"
#include "abi/console.h"
#include "abi/event_channel.h"
#include "page.h"

/* Yields without progress before the ring counts as stuck (~1 s here). */
#define RT_CONS_PATIENCE 10000
/* Spins for the writers' lock before falling back to console_io. */
#define RT_CONS_LOCK_SPINS 100000

static volatile int rt_cons_lock;
static int rt_cons_stuck;

static volatile struct xencons_interface *rt_cons_ring(void)
{
	uint64_t mfn = rt_start_info->console.domU.mfn;

	if (!mfn || !rt_start_info->console.domU.evtchn)
		return 0;
	/* the builder maps the console page with the boot pages: pfn == mfn here */
	return (volatile struct xencons_interface *)rt_pfn_to_virt(mfn);
}

static void rt_cons_kick(void)
{
	struct evtchn_send sd = {rt_start_info->console.domU.evtchn};

	HYPERCALL(__HYPERVISOR_event_channel_op, EVTCHNOP_send, &sd, 0);
}

/* As much of buf as fits on the out ring now; how much that was. */
static unsigned rt_cons_put(volatile struct xencons_interface *c, const char *buf, unsigned n)
{
	uint32_t cons = __atomic_load_n(&c->out_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = c->out_prod;
	unsigned sent = 0;

	if (prod - cons > sizeof(c->out))
		return 0; /* indices the backend broke: write nothing */
	while (sent < n && prod - cons < sizeof(c->out))
		c->out[MASK_XENCONS_IDX(prod++, c->out)] = buf[sent++];
	__atomic_store_n(&c->out_prod, prod, __ATOMIC_RELEASE);
	return sent;
}

static void rt_cons_ring_write(volatile struct xencons_interface *c, const char *buf, unsigned n)
{
	unsigned idle = 0;

	while (n) {
		unsigned sent = rt_cons_put(c, buf, n);

		if (sent) {
			rt_cons_kick();
			buf += sent;
			n -= sent;
			idle = 0;
			rt_cons_stuck = 0;
			continue;
		}
		if (rt_cons_stuck || ++idle > RT_CONS_PATIENCE) {
			rt_cons_stuck = 1; /* drop the rest; try again next time */
			return;
		}
		rt_cons_kick();
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	}
}

void rt_console_write(const char *buf, unsigned n)
{
	volatile struct xencons_interface *c = rt_cons_ring();
	unsigned spins = 0;

	if (!n)
		return;
	if (!c) {
		HYPERCALL(__HYPERVISOR_console_io, CONSOLEIO_write, n, buf);
		return;
	}
	while (__atomic_exchange_n(&rt_cons_lock, 1, __ATOMIC_ACQUIRE)) {
		if (++spins > RT_CONS_LOCK_SPINS) {
			HYPERCALL(__HYPERVISOR_console_io, CONSOLEIO_write, n, buf);
			return;
		}
		__asm__ volatile("pause");
	}
	rt_cons_ring_write(c, buf, n);
	__atomic_store_n(&rt_cons_lock, 0, __ATOMIC_RELEASE);
}
