/*
 * cons-echo: a guest that talks on its PV console ring (start_info's
 * console.domU page and event channel), as Linux's hvc_xen does: it
 * announces itself, answers every input line with "echo: <line>", and on
 * "quit" says bye and powers off.  Whatever carries its console (the dom0
 * console backend) must move both directions for the test to pass.
 */
#include "../../../frontends/runtime/keel_guest.h"
#include "abi/console.h"
#include "abi/event_channel.h"

#define VIRT_BASE 0xffffffff80000000UL

static volatile struct xencons_interface *cons;
static uint32_t cons_port;

static void cons_notify(void)
{
	struct evtchn_send sd = {cons_port};

	rt_evtchn_op(EVTCHNOP_send, &sd);
}

static void cons_wait(uint64_t ns)
{
	struct sched_poll sp = {(uint64_t)&cons_port, 1, rt_now_ns() + ns, 0};

	HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
}

/* Put a string on the output ring, waiting (bounded) for room. */
static int cons_write(const char *s)
{
	int waits = 0;

	while (*s) {
		uint32_t c = __atomic_load_n(&cons->out_cons, __ATOMIC_ACQUIRE);
		uint32_t p = cons->out_prod;

		if (p - c >= sizeof(cons->out)) {
			cons_notify();
			if (++waits > 50)
				return -1;
			cons_wait(100000000ULL);
			continue;
		}
		cons->out[MASK_XENCONS_IDX(p, cons->out)] = *s++;
		__atomic_store_n(&cons->out_prod, p + 1, __ATOMIC_RELEASE);
	}
	cons_notify();
	return 0;
}

/* One input byte, or -1 if none arrived within the wait. */
static int cons_getc(uint64_t wait_ns)
{
	uint32_t c = cons->in_cons, p = __atomic_load_n(&cons->in_prod, __ATOMIC_ACQUIRE);
	char ch;

	if (c == p) {
		cons_wait(wait_ns);
		c = cons->in_cons;
		p = __atomic_load_n(&cons->in_prod, __ATOMIC_ACQUIRE);
		if (c == p)
			return -1;
	}
	if (p - c > sizeof(cons->in))
		return -2; /* impossible indices from the backend */
	ch = cons->in[MASK_XENCONS_IDX(c, cons->in)];
	__atomic_store_n(&cons->in_cons, c + 1, __ATOMIC_RELEASE);
	cons_notify();
	return (unsigned char)ch;
}

static int cons_is(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void test_main(void)
{
	char line[128], out[160];
	unsigned len = 0, lines = 0, i;
	int quit = 0, bad = 0;
	uint64_t end;

	cons = (volatile void *)(VIRT_BASE + (rt_start_info->console.domU.mfn << 12));
	cons_port = rt_start_info->console.domU.evtchn;
	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(cons_write("cons-echo: ready, type a line\r\n") == 0, "ready on the console ring",
		 0);
	end = rt_now_ns() + 60000000000ULL; /* a minute for the test to type */
	while (!quit && rt_now_ns() < end) {
		int ch = cons_getc(200000000ULL);

		if (ch == -2) {
			bad = 1;
			break;
		}
		if (ch < 0)
			continue;
		if (ch != '\r' && ch != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = (char)ch;
			continue;
		}
		if (!len)
			continue;
		line[len] = 0;
		len = 0;
		if (cons_is(line, "quit")) {
			quit = 1;
			break;
		}
		lines++;
		i = 0;
		for (const char *s = "echo: "; *s;)
			out[i++] = *s++;
		for (const char *s = line; *s && i < sizeof(out) - 3;)
			out[i++] = *s++;
		out[i++] = '\r';
		out[i++] = '\n';
		out[i] = 0;
		rt_check(cons_write(out) == 0, "echoed a line", lines);
	}
	rt_check(!bad, "input ring indices sane", 0);
	rt_check(lines >= 1, "at least one line came in through the console", lines);
	rt_check(quit, "'quit' came in", quit);
	cons_write("cons-echo: bye\r\n");
}
