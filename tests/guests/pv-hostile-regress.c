/*
 * pv-hostile-regress: the inputs with which pv-fuzz (the hostile guest of
 * pv-hostile.sh) broke keeld, replayed one by one, each followed by
 * proof that the domain still runs.  A regression here shows as a check
 * failing, a crash, or the guest never finishing (the script's timeout).
 */
#include "pv_test.h"

/* 1. A one-shot timer at a guest time near 2^64 (seed 1 of pv-hostile):
 * keeld's conversion to a host instant wrapped to the past, the timer
 * fired at once, was found early and re-armed -- forever: the vCPU never
 * ran again. */
static void regress_far_timer(void)
{
	static uint64_t st[2] = {0xffffffff80023d6bULL, 0};
	long r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, st);

	rt_check(r == 0, "one-shot timer near 2^64 accepted", r);
	for (volatile int i = 0; i < 1000000; i++)
		;
	for (int i = 0; i < 100; i++)
		HYPERCALL(__HYPERVISOR_xen_version, 0, 0, 0);
	rt_check(1, "the vCPU still runs after it", 0);
	r = HYPERCALL(__HYPERVISOR_set_timer_op, ~0ULL - 5, 0, 0);
	rt_check(r == 0, "set_timer_op at 2^64-6 accepted", r);
	for (int i = 0; i < 1000; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0);
	rt_check(r == 0, "and stopped again", r);
}

/* 2. A vcpu_time_info area at an odd address (seed 1 again, under the
 * sanitizers): keeld stored the record's fields through a misaligned
 * pointer, undefined behaviour that killed the sanitizer build of keeld.
 * Xen takes any address; the record must arrive whole. */
static uint8_t area_page[4096] __attribute__((aligned(4096)));

static void regress_odd_time_area(void)
{
	struct vcpu_register_time_memory_area r = {(uint64_t)(area_page + 0x29)};
	struct vcpu_time_info t;
	long rc = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, &r);

	rt_check(rc == 0, "time area at an odd address registered", rc);
	for (int i = 0; i < 100; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	rt_memcpy(&t, area_page + 0x29, sizeof(t));
	rt_check(t.version && !(t.version & 1) && t.system_time && t.tsc_to_system_mul,
		 "a whole record written there", t.version);
	r.addr = 0;
	rc = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, &r);
	rt_check(rc == 0, "and unregistered", rc);
}

/* 3. vcpu_info moved to an odd offset (seed 5, under the sanitizers):
 * keeld's vcpu_info accesses went through a misaligned pointer.  Refused
 * now, as Xen 4.18 on refuses it; an aligned offset still works. */
static void regress_odd_vcpu_info(void)
{
	struct vcpu_register_vcpu_info r = {rt_virt_to_mfn(area_page), 0x3f, 0};
	long rc = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, &r);

	rt_check(rc == -XEN_EINVAL, "REFUSED: vcpu_info at a misaligned offset", rc);
	r.offset = 0x40;
	rc = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, &r);
	rt_check(rc == 0, "vcpu_info at an aligned offset", rc);
	for (int i = 0; i < 100; i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	rt_check(((const struct vcpu_info *)(area_page + 0x40))->time.version != 0,
		 "time info kept there", 0);
}

void test_main(void)
{
	regress_far_timer();
	regress_odd_time_area();
	regress_odd_vcpu_info();
}
