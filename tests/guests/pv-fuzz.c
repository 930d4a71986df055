/*
 * pv-fuzz: a hostile guest.  Issues thousands of hypercalls with random
 * numbers and arguments (pointers into its own memory, the hole, unmapped
 * space, or plain noise), sparing only the calls that would end it on
 * purpose.  Whatever the guest does to itself, keeld must survive: the
 * domain either finishes ("Test result: SUCCESS") or ends as a crashed
 * domain with a register dump -- never a keeld fault.
 */
#include "../../frontends/runtime/keel_guest.h"

static uint64_t fuzz_state = 0x9e3779b97f4a7c15ULL;
static char scratch[8192] __attribute__((aligned(4096)));

static uint64_t fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return fuzz_state;
}

static uint64_t fuzz_arg(void)
{
	switch (fuzz_rand() % 6) {
	case 0:
		return fuzz_rand() % 64;
	case 1:
		return (uint64_t)scratch + fuzz_rand() % sizeof(scratch);
	case 2:
		return 0xffff800000000000ULL + (fuzz_rand() & 0x7ffffffffffULL);
	case 3:
		return fuzz_rand() & 0x7fffffffffffULL;
	case 4:
		return DOMID_SELF;
	default:
		return fuzz_rand();
	}
}

void test_main(void)
{
	unsigned n = 0;

	for (int i = 0; i < 20000; i++) {
		unsigned nr = fuzz_rand() % 48;

		/* Spared: shutdown and iret end or redirect the guest on purpose;
		 * the MMU calls would unmap this very code soon enough; block
		 * and poll could wait forever; vcpu_op could stop vCPU 0;
		 * update_descriptor writes by machine address, i.e. this code. */
		if (nr == __HYPERVISOR_sched_op || nr == __HYPERVISOR_iret ||
		    nr == __HYPERVISOR_mmu_update || nr == __HYPERVISOR_mmuext_op ||
		    nr == __HYPERVISOR_update_va_mapping || nr == __HYPERVISOR_multicall ||
		    nr == __HYPERVISOR_set_trap_table || nr == __HYPERVISOR_stack_switch ||
		    nr == __HYPERVISOR_vcpu_op || nr == __HYPERVISOR_set_segment_base ||
		    nr == __HYPERVISOR_set_callbacks || nr == __HYPERVISOR_callback_op ||
		    nr == __HYPERVISOR_set_timer_op || nr == __HYPERVISOR_update_descriptor)
			continue;
		rt_memset(scratch, (int)fuzz_rand(), 64);
		hypercall5(nr, fuzz_arg(), fuzz_arg(), fuzz_arg(), fuzz_arg(), fuzz_arg());
		n++;
	}
	rt_check(n > 1000, "survived random hypercalls", n);
}
