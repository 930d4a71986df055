/*
 * xl-idle: a small PV guest for the toolstack's end-to-end tests, its
 * benchmark and `make demo`.  It greets, then prints "tick N" about once
 * a second (paced by the TSC, as pv-spin) and runs until its command line
 * says otherwise:
 *   ticks=N   stop after N ticks (default 0: never)
 *   then=poweroff|reboot|crash|watchdog   how to stop (default poweroff)
 * Between ticks it sleeps: a one-shot timer (pvclock time) and
 * SCHEDOP_poll on its VIRQ_TIMER port and the store's, so an idle domain
 * costs no CPU.  It answers Xen's suspend protocol (control/shutdown =
 * "suspend", the runtime's suspend.c), so `xl save` / `xl restore` find it
 * carrying on, counting from where it was ("xl-idle: resumed ..." says
 * which way it came back).  Where event channels are not available it
 * falls back to a TSC-paced busy wait.
 */
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/suspend.h"

#define XL_IDLE_TICK_CYCLES 2000000000ULL /* ~1 s at 2 GHz (busy-wait fallback) */
#define XL_IDLE_TICK_NS	    1000000000ULL

static uint64_t xl_idle_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static int xl_idle_is(const char *v, const char *word)
{
	while (*word && *v == *word) {
		v++;
		word++;
	}
	return !*word && (!*v || *v == ' ');
}

void test_main(void)
{
	const char *t = rt_cmdline_arg("ticks"), *then = rt_cmdline_arg("then");
	unsigned long ticks = 0, n = 0;
	unsigned reason = SHUTDOWN_poweroff;
	uint64_t next;

	for (; t && *t >= '0' && *t <= '9'; t++)
		ticks = ticks * 10 + (unsigned long)(*t - '0');
	if (then && xl_idle_is(then, "reboot"))
		reason = SHUTDOWN_reboot;
	else if (then && xl_idle_is(then, "crash"))
		reason = SHUTDOWN_crash;
	else if (then && xl_idle_is(then, "watchdog"))
		reason = SHUTDOWN_watchdog;
	rt_printf("Hello from xl-idle, a Keel PV guest with %lu MiB of memory\n",
		  (unsigned long)(rt_start_info->nr_pages >> 8));
	rt_printf("command line: \"%s\"\n", rt_start_info->cmd_line);
	if (rt_timer_port(0) >= 0) {
		int s = rt_suspend_enable();

		if (s < 0)
			rt_printf("xl-idle: no suspend support (%d)\n", s);
		rt_printf("ticking once a second, asleep in between\n");
		next = rt_now_ns() + XL_IDLE_TICK_NS;
		while (!ticks || n < ticks) {
			if (rt_now_ns() < next) {
				s = rt_suspend_sleep_until(next);
				if (s == RT_SUSPEND_RESUMED) {
					rt_printf("xl-idle: resumed after tick %lu (suspend %u)\n",
						  n, rt_suspend_count());
					next = rt_now_ns() + XL_IDLE_TICK_NS;
				} else if (s == RT_SUSPEND_CANCELLED) {
					rt_printf("xl-idle: suspend cancelled after tick %lu\n", n);
				} else if (s < 0) {
					rt_printf("xl-idle: suspend request failed (%d)\n", s);
				}
				continue;
			}
			rt_printf("tick %lu\n", ++n);
			next += XL_IDLE_TICK_NS;
		}
	} else {
		rt_printf("ticking about once a second (no timer events: busy waiting)\n");
		next = xl_idle_rdtsc() + XL_IDLE_TICK_CYCLES;
		while (!ticks || n < ticks) {
			if (xl_idle_rdtsc() < next) {
				__asm__ volatile("pause");
				continue;
			}
			rt_printf("tick %lu\n", ++n);
			next += XL_IDLE_TICK_CYCLES;
		}
	}
	rt_printf("xl-idle: done after %lu ticks, shutting down (reason %u)\n", n, reason);
	rt_shutdown(reason);
}
