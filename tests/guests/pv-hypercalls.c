/*
 * pv-hypercalls: the non-MMU hypercalls a Linux PV domU issues while
 * booting, their answers, and their refusals of bad arguments.
 */
#include "../../frontends/runtime/keel_guest.h"

static long hc2(unsigned nr, uint64_t a1, uint64_t a2)
{
	return HYPERCALL(nr, a1, a2, 0);
}

static uint64_t multicall_results[2];

void test_main(void)
{
	struct xen_feature_info fi = {0};
	struct xen_machphys_mapping mm;
	struct xen_memory_map map;
	struct xen_e820_entry e820[4];
	struct callback_register cb = {CALLBACKTYPE_syscall, 0, 0, 0xffffffff80001000UL};
	struct physdev_set_iopl iopl = {1};
	struct multicall_entry mc[2];
	char extra[16];
	uint16_t dom = DOMID_SELF;
	uint32_t a, b, c, d;
	long r;

	r = hc2(__HYPERVISOR_xen_version, XENVER_version, 0);
	rt_check(r >> 16 == 4, "xen_version version", r);
	rt_check(hc2(__HYPERVISOR_xen_version, XENVER_extraversion, (uint64_t)extra) == 0 &&
			 extra[0] == '.',
		 "xen_version extraversion", extra[0]);
	r = hc2(__HYPERVISOR_xen_version, XENVER_get_features, (uint64_t)&fi);
	rt_check(r == 0 && (fi.submap & (1 << XENFEAT_mmu_pt_update_preserve_ad)),
		 "xen_version get_features", fi.submap);
	rt_check(hc2(__HYPERVISOR_xen_version, XENVER_pagesize, 0) == 4096, "xen_version pagesize",
		 0);
	r = hc2(__HYPERVISOR_xen_version, XENVER_get_features, 0xdead0000UL);
	rt_check(r == -XEN_EFAULT, "REFUSED: xen_version bad pointer", r);
	r = hc2(__HYPERVISOR_xen_version, 99, 0);
	rt_check(r == -XEN_ENOSYS, "xen_version unknown sub-op", r);

	r = hc2(__HYPERVISOR_memory_op, XENMEM_machphys_mapping, (uint64_t)&mm);
	rt_check(r == 0 && mm.v_start >= HYPERVISOR_VIRT_START && mm.v_end > mm.v_start,
		 "memory_op machphys_mapping", mm.v_start);
	r = hc2(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0);
	rt_check(r == (long)rt_start_info->nr_pages - 1, "memory_op maximum_ram_page", r);
	r = hc2(__HYPERVISOR_memory_op, XENMEM_current_reservation, (uint64_t)&dom);
	rt_check(r == (long)rt_start_info->nr_pages, "memory_op current_reservation", r);
	r = hc2(__HYPERVISOR_memory_op, XENMEM_maximum_reservation, (uint64_t)&dom);
	rt_check(r == (long)rt_start_info->nr_pages, "memory_op maximum_reservation", r);
	map.nr_entries = 4;
	map.buffer = (uint64_t)e820;
	r = hc2(__HYPERVISOR_memory_op, XENMEM_memory_map, (uint64_t)&map);
	rt_check(r == 0 && map.nr_entries == 1 && e820[0].type == XEN_E820_RAM,
		 "memory_op memory_map", map.nr_entries);

	rt_check(hc2(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_writable_pagetables) ==
			 0,
		 "vm_assist writable_pagetables", 0);
	r = hc2(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 40);
	rt_check(r == -XEN_EINVAL, "REFUSED: vm_assist unknown type", r);
	rt_check(hc2(__HYPERVISOR_fpu_taskswitch, 1, 0) == 0, "fpu_taskswitch set", 0);
	rt_check(hc2(__HYPERVISOR_fpu_taskswitch, 0, 0) == 0, "fpu_taskswitch clear", 0);
	rt_check(hc2(__HYPERVISOR_set_debugreg, 7, 0x400) == 0, "set_debugreg dr7", 0);
	rt_check(hc2(__HYPERVISOR_get_debugreg, 7, 0) == 0x400, "get_debugreg dr7", 0);
	r = hc2(__HYPERVISOR_set_debugreg, 0, 0xffff82d080000000UL);
	rt_check(r == -XEN_EPERM, "REFUSED: breakpoint in the hypervisor", r);
	rt_check(hc2(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, 0xffffffff80300000UL) == 0,
		 "stack_switch", 0);
	r = hc2(__HYPERVISOR_callback_op, CALLBACKOP_register, (uint64_t)&cb);
	rt_check(r == 0, "callback_op register syscall", r);
	cb.address = 0xffff82d080000000UL;
	r = hc2(__HYPERVISOR_callback_op, CALLBACKOP_register, (uint64_t)&cb);
	rt_check(r == -XEN_EINVAL, "REFUSED: callback in the hypervisor", r);
	r = HYPERCALL(__HYPERVISOR_set_callbacks, 0xffffffff80001000UL, 0xffffffff80001000UL,
		      0xffffffff80001000UL);
	rt_check(r == 0, "set_callbacks", r);
	rt_check(hc2(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (uint64_t)&iopl) == 0,
		 "physdev_op set_iopl", 0);
	rt_check(hc2(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x1234000) == 0,
		 "set_segment_base fs", 0);
	rt_check(hc2(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, 0x5678000) == 0,
		 "set_segment_base gs user", 0);
	r = hc2(__HYPERVISOR_set_segment_base, 9, 0);
	rt_check(r == -XEN_EINVAL, "REFUSED: set_segment_base bad selector", r);
	r = hc2(__HYPERVISOR_sched_op, SCHEDOP_yield, 0);
	rt_check(r == 0, "sched_op yield", r);
	r = hc2(__HYPERVISOR_sched_op, SCHEDOP_shutdown, 0xdead0000UL);
	rt_check(r == -XEN_EFAULT, "REFUSED: sched_op shutdown bad pointer", r);
	r = hc2(63, 0, 0);
	rt_check(r == -XEN_ENOSYS, "unknown hypercall", r);

	mc[0] = (struct multicall_entry){__HYPERVISOR_xen_version, 0, {XENVER_pagesize}};
	mc[1] = (struct multicall_entry){__HYPERVISOR_get_debugreg, 0, {7}};
	r = hc2(__HYPERVISOR_multicall, (uint64_t)mc, 2);
	multicall_results[0] = mc[0].result;
	multicall_results[1] = mc[1].result;
	rt_check(r == 0 && mc[0].result == 4096 && mc[1].result == 0x400, "multicall",
		 mc[0].result);
	rt_check(HYPERCALL(__HYPERVISOR_console_io, CONSOLEIO_write, 3, "ok\n") == 0,
		 "console_io write", 0);
	r = HYPERCALL(__HYPERVISOR_console_io, CONSOLEIO_write, 10, 0xdead0000UL);
	rt_check(r == -XEN_EFAULT, "REFUSED: console_io bad buffer", r);

	/* CPUID behind the forced-emulation prefix: Xen's leaves. */
	__asm__ volatile("ud2; .ascii \"xen\"; cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0x40000000), "c"(0));
	rt_check(b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e,
		 "CPUID 0x40000000 says XenVMMXenVMM", b);
}
