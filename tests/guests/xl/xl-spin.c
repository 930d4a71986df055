/*
 * xl-spin: a PV guest that never sleeps, for the credit scheduler's
 * end-to-end test: it burns its vCPU in a counting loop and reports
 * "spin N" after each block of work, so a cap shows as CPU time withheld
 * and as fewer lines per second.
 */
#include "../../../frontends/runtime/keel_guest.h"

#define XL_SPIN_BLOCK 100000000UL

void test_main(void)
{
	unsigned long n = 0;

	rt_printf("Hello from xl-spin, burning one vCPU\n");
	for (;;) {
		for (volatile unsigned long i = 0; i < XL_SPIN_BLOCK; i++)
			;
		rt_printf("spin %lu\n", ++n);
	}
}
