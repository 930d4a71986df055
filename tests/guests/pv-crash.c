/*
 * pv-crash: a guest that misbehaves.  Bad hypercall arguments are refused
 * and survived; then it touches an unmapped address with no trap table,
 * which must end the domain as crashed with a register dump in keeld's log
 * (and leave keeld and other domains alone).
 */
#include "../../frontends/runtime/keel_guest.h"

void test_main(void)
{
	long r = HYPERCALL(__HYPERVISOR_mmu_update, 0x10, 1000, 0x20);

	rt_printf("bad mmu_update pointer answered %ld; now faulting with no handler\n", r);
	*(volatile uint64_t *)0xffffffff90000000UL = 1;
	rt_printf("still alive after the fault: wrong\n");
}
