/*
 * pv-spin: a guest that stays busy for a few seconds, printing a tick about
 * every 50 ms (by its TSC), then powers off.  Lets tests pause and unpause a
 * running domain and see that it stops and resumes.
 */
#include "../../frontends/runtime/keel_guest.h"

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void test_main(void)
{
	uint64_t next = rdtsc();

	for (int tick = 1; tick <= 60;) {
		if (rdtsc() >= next) {
			rt_printf("tick %d\n", tick++);
			next = rdtsc() + 100000000ULL; /* ~50 ms at 2 GHz */
		}
	}
	rt_check(1, "spun 60 ticks", 60);
}
