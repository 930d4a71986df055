/*
 * evt-timearea: VCPUOP_register_vcpu_time_memory_area, the second copy of
 * a vCPU's vcpu_time_info that Linux maps into its vDSO.  Xen's refusals
 * (a vCPU the domain does not have, an unreadable argument, a
 * non-canonical address, an address in the hypervisor's hole); the area
 * filled at registration: version even and equal to vcpu_info's, every
 * field equal, the TSC-stable flag set (keeld's host has an invariant TSC
 * kept as its clocksource); time computed from the area (rdtsc, shift,
 * 32-bit fraction multiply) equal to the same computation on vcpu_info's
 * record for the same TSC value, and monotonic over many reads.  Keeld
 * rewrites vcpu_info's time when the guest moves its vcpu_info
 * (VCPUOP_register_vcpu_info): the registered area follows (new version,
 * new timestamp, still equal) while an area replaced by a second one, or
 * (run with "unregister=1") unregistered with address 0, stays as it was.  Run by tests/integration/pv-events-timearea.sh.
 */
#include "pv_test.h"
#include "abi/event_channel.h"

#define TA_READS 200000

static struct vcpu_time_info ta_area __attribute__((aligned(64)));
static struct vcpu_time_info ta_new __attribute__((aligned(64)));

static long ta_register(unsigned vcpu, uint64_t addr)
{
	struct vcpu_register_time_memory_area r = {addr};

	return HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, vcpu, &r);
}

static int ta_same(const struct vcpu_time_info *a, const struct vcpu_time_info *b)
{
	return a->version == b->version && a->tsc_timestamp == b->tsc_timestamp &&
	       a->system_time == b->system_time && a->tsc_to_system_mul == b->tsc_to_system_mul &&
	       a->tsc_shift == b->tsc_shift && a->flags == b->flags;
}

void test_main(void)
{
	struct vcpu_time_info a, p, before, ta_old;
	struct vcpu_register_vcpu_info rv;
	struct vcpu_info *vi;
	uint64_t tsc, last = 0, first, now;
	long r, backwards = 0, differ = 0;
	int unreg;

	rt_check(rt_events_init() == 0, "events", 0);

	rt_check(ta_register(99, (uint64_t)&ta_area) == -XEN_ENOENT, "REFUSED: no such vCPU", 0);
	rt_check(HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0,
			   0xdead0000UL) == -XEN_EFAULT,
		 "REFUSED: unreadable argument", 0);
	rt_check(ta_register(0, 0x0000800000000000ULL) == -XEN_EFAULT,
		 "REFUSED: non-canonical address", 0);
	rt_check(ta_register(0, 0xffff800000001000ULL) == -XEN_EFAULT,
		 "REFUSED: address in the hypervisor's hole", 0);
	rt_check(ta_area.version == 0 && ta_area.system_time == 0, "refusals left the area alone",
		 ta_area.version);

	r = ta_register(0, (uint64_t)&ta_area);
	rt_check(r == 0, "registered", r);
	pvt_time_read(&ta_area, &a);
	pvt_time_read(&rt_shared_info->vcpu_info[0].time, &p);
	rt_printf("evt-timearea area: version=%u tsc_timestamp=%lu system_time=%lu mul=%u "
		  "shift=%d flags=%u\n",
		  a.version, (unsigned long)a.tsc_timestamp, (unsigned long)a.system_time,
		  a.tsc_to_system_mul, a.tsc_shift, a.flags);
	rt_check(a.version != 0 && !(a.version & 1), "area version even, non-zero", a.version);
	rt_check(ta_same(&a, &p), "area equals vcpu_info's time info", a.version);
	rt_check(a.flags & XEN_PVCLOCK_TSC_STABLE_BIT, "TSC-stable flag set", a.flags);
	rt_check(a.tsc_to_system_mul != 0, "scale set", a.tsc_to_system_mul);

	/* The clock as the vDSO reads it, against vcpu_info's, for the same TSC. */
	first = pvt_time_ns(&a, pvt_rdtsc());
	for (int i = 0; i < TA_READS; i++) {
		pvt_time_read(&ta_area, &a);
		pvt_time_read(&rt_shared_info->vcpu_info[0].time, &p);
		tsc = pvt_rdtsc();
		now = pvt_time_ns(&a, tsc);
		if (now < last)
			backwards++;
		if (now != pvt_time_ns(&p, tsc))
			differ++;
		last = now;
	}
	rt_printf("evt-timearea reads=%d elapsed_ns=%lu backwards=%ld differ=%ld\n", TA_READS,
		  (unsigned long)(last - first), backwards, differ);
	rt_check(backwards == 0, "time from the area never goes backwards", backwards);
	rt_check(differ == 0, "time from the area equals vcpu_info's", differ);
	rt_check(last > first, "time from the area advances", (long)(last - first));
	now = rt_now_ns();
	rt_check(now >= last, "rt_now_ns (vcpu_info) not behind the area's last reading",
		 (long)(now - last));

	/*
	 * With "unregister=1" on the command line the area is unregistered
	 * (address 0) before the update below: it must then stay as it was.
	 * Otherwise a second area replaces the first one, which must stay.
	 */
	unreg = rt_cmdline_num("unregister") == 1;
	if (unreg) {
		rt_check(ta_register(0, 0) == 0, "unregistered (address 0)", 0);
		pvt_time_read(&ta_area, &before);
	} else {
		pvt_time_read(&ta_area, &ta_old);
		rt_check(ta_register(0, (uint64_t)&ta_new) == 0, "second area replaces the first",
			 0);
		pvt_time_read(&ta_new, &before);
		rt_check(ta_same(&before, &ta_old), "second area filled at once", before.version);
	}

	/* Moving vcpu_info makes keeld rewrite its time info. */
	vi = rt_page_alloc();
	rt_check(vi != 0, "page for vcpu_info", 0);
	rv.mfn = rt_virt_to_mfn(vi);
	rv.offset = 128;
	rv.rsvd = 0;
	vi = (struct vcpu_info *)((char *)vi + 128);
	/* Upcalls held off, to see what the hypercall leaves in the new area. */
	rt_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
	r = HYPERCALL(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, &rv);
	rt_check(r == 0, "register_vcpu_info", r);
	/* Xen marks every event pending in the new area (a spurious upcall,
	 * so nothing raised around the move is lost). */
	rt_check(vi->evtchn_upcall_mask == 1 && vi->evtchn_upcall_pending == 1 &&
			 vi->evtchn_pending_sel == ~0UL,
		 "moved vcpu_info: mask kept, every event marked pending",
		 vi->evtchn_upcall_pending);
	/* The runtime's handler reads the shared_info slot, not this area:
	 * consume the spurious event here, as a guest's handler would. */
	vi->evtchn_pending_sel = 0;
	vi->evtchn_upcall_pending = 0;
	vi->evtchn_upcall_mask = 0;
	rt_shared_info->vcpu_info[0].evtchn_upcall_mask = 0;
	if (unreg) {
		pvt_time_read(&ta_area, &a);
		rt_check(ta_same(&a, &before), "unregistered area left alone by the update",
			 a.version);
		rt_check(vi->time.version != before.version &&
				 vi->time.tsc_timestamp > before.tsc_timestamp,
			 "while vcpu_info's time info moved on", vi->time.version);
		return;
	}
	pvt_time_read(&ta_area, &a);
	rt_check(ta_same(&a, &ta_old), "replaced area left alone by the update", a.version);
	pvt_time_read(&ta_new, &a);
	pvt_time_read(&vi->time, &p);
	rt_printf("evt-timearea after update: version=%u->%u tsc_timestamp=%lu->%lu\n",
		  before.version, a.version, (unsigned long)before.tsc_timestamp,
		  (unsigned long)a.tsc_timestamp);
	rt_check(ta_same(&a, &p), "area equals the moved vcpu_info's time info", a.version);
	rt_check(a.version != before.version && !(a.version & 1), "area version moved on, even",
		 a.version);
	rt_check(a.tsc_timestamp > before.tsc_timestamp, "area has the new timestamp",
		 (long)(a.tsc_timestamp - before.tsc_timestamp));
	tsc = pvt_rdtsc();
	rt_check(pvt_time_ns(&a, tsc) == pvt_time_ns(&p, tsc),
		 "same time from both after the update", 0);
}
