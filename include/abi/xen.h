/*
 * Xen's x86_64 PV hypercall ABI as Keel implements it: hypercall numbers,
 * the error values guests see (Xen's errno numbering), domain ids and the
 * argument structures and sub-op numbers of the hypercalls the PV shim and
 * keeld serve.  Written from Xen's public headers (xen.h, memory.h, sched.h,
 * vcpu.h, callback.h, physdev.h, version.h, features.h); sizes and offsets
 * are checked below so a layout slip fails the build, not a guest.
 */
#ifndef KEEL_ABI_XEN_H
#define KEEL_ABI_XEN_H

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stddef.h>
#endif

/* Hypercall numbers (eax on `syscall`). */
#define __HYPERVISOR_set_trap_table		   0
#define __HYPERVISOR_mmu_update			   1
#define __HYPERVISOR_set_gdt			   2
#define __HYPERVISOR_stack_switch		   3
#define __HYPERVISOR_set_callbacks		   4
#define __HYPERVISOR_fpu_taskswitch		   5
#define __HYPERVISOR_sched_op_compat		   6
#define __HYPERVISOR_platform_op		   7
#define __HYPERVISOR_set_debugreg		   8
#define __HYPERVISOR_get_debugreg		   9
#define __HYPERVISOR_update_descriptor		   10
#define __HYPERVISOR_memory_op			   12
#define __HYPERVISOR_multicall			   13
#define __HYPERVISOR_update_va_mapping		   14
#define __HYPERVISOR_set_timer_op		   15
#define __HYPERVISOR_event_channel_op_compat	   16
#define __HYPERVISOR_xen_version		   17
#define __HYPERVISOR_console_io			   18
#define __HYPERVISOR_physdev_op_compat		   19
#define __HYPERVISOR_grant_table_op		   20
#define __HYPERVISOR_vm_assist			   21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret			   23
#define __HYPERVISOR_vcpu_op			   24
#define __HYPERVISOR_set_segment_base		   25
#define __HYPERVISOR_mmuext_op			   26
#define __HYPERVISOR_xsm_op			   27
#define __HYPERVISOR_nmi_op			   28
#define __HYPERVISOR_sched_op			   29
#define __HYPERVISOR_callback_op		   30
#define __HYPERVISOR_xenoprof_op		   31
#define __HYPERVISOR_event_channel_op		   32
#define __HYPERVISOR_physdev_op			   33
#define __HYPERVISOR_hvm_op			   34
#define __HYPERVISOR_sysctl			   35
#define __HYPERVISOR_domctl			   36
#define __HYPERVISOR_kexec_op			   37
#define __HYPERVISOR_tmem_op			   38
#define __HYPERVISOR_argo_op			   39
#define __HYPERVISOR_xenpmu_op			   40
#define __HYPERVISOR_dm_op			   41
#define __HYPERVISOR_hypfs_op			   42
#define __HYPERVISOR_mca			   48 /* x86: __HYPERVISOR_arch_0 */
#define __HYPERVISOR_paging_domctl_cont		   49 /* x86: __HYPERVISOR_arch_1 */
#define XEN_NR_HYPERCALLS			   64

/* Error values a hypercall returns (negated), Xen's public errno.h. */
#define XEN_EPERM      1
#define XEN_ENOENT     2
#define XEN_ESRCH      3
#define XEN_EINTR      4
#define XEN_EIO	       5
#define XEN_ENXIO      6
#define XEN_E2BIG      7
#define XEN_ENOEXEC    8
#define XEN_EBADF      9
#define XEN_ECHILD     10
#define XEN_EAGAIN     11
#define XEN_ENOMEM     12
#define XEN_EACCES     13
#define XEN_EFAULT     14
#define XEN_EBUSY      16
#define XEN_EEXIST     17
#define XEN_EXDEV      18
#define XEN_ENODEV     19
#define XEN_EINVAL     22
#define XEN_ENFILE     23
#define XEN_ENOSPC     28
#define XEN_ERANGE     34
#define XEN_ETIME      62
#define XEN_ENOSYS     38
#define XEN_EOPNOTSUPP 95

/* Domain ids. */
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF	     0x7FF0U
#define DOMID_IO	     0x7FF1U
#define DOMID_XEN	     0x7FF2U
#define DOMID_COW	     0x7FF3U
#define DOMID_INVALID	     0x7FF4U
#define DOMID_IDLE	     0x7FFFU

/* mmu_update: the low two bits of ptr select the command. */
#define MMU_NORMAL_PT_UPDATE	   0
#define MMU_MACHPHYS_UPDATE	   1
#define MMU_PT_UPDATE_PRESERVE_AD  2
#define MMU_PT_UPDATE_NO_TRANSLATE 3

/* mmuext_op commands. */
#define MMUEXT_PIN_L1_TABLE	  0
#define MMUEXT_PIN_L2_TABLE	  1
#define MMUEXT_PIN_L3_TABLE	  2
#define MMUEXT_PIN_L4_TABLE	  3
#define MMUEXT_UNPIN_TABLE	  4
#define MMUEXT_NEW_BASEPTR	  5
#define MMUEXT_TLB_FLUSH_LOCAL	  6
#define MMUEXT_INVLPG_LOCAL	  7
#define MMUEXT_TLB_FLUSH_MULTI	  8
#define MMUEXT_INVLPG_MULTI	  9
#define MMUEXT_TLB_FLUSH_ALL	  10
#define MMUEXT_INVLPG_ALL	  11
#define MMUEXT_FLUSH_CACHE	  12
#define MMUEXT_SET_LDT		  13
#define MMUEXT_NEW_USER_BASEPTR	  15
#define MMUEXT_CLEAR_PAGE	  16
#define MMUEXT_COPY_PAGE	  17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER	  19
#define MMUEXT_UNMARK_SUPER	  20

/* update_va_mapping flags. */
#define UVMF_NONE	    0
#define UVMF_TLB_FLUSH	    1
#define UVMF_INVLPG	    2
#define UVMF_FLUSHTYPE_MASK 3
#define UVMF_MULTI	    0
#define UVMF_LOCAL	    0
#define UVMF_ALL	    4

/* vm_assist. */
#define VMASST_CMD_enable		 0
#define VMASST_CMD_disable		 1
#define VMASST_TYPE_4gb_segments	 0
#define VMASST_TYPE_4gb_segments_notify	 1
#define VMASST_TYPE_writable_pagetables	 2
#define VMASST_TYPE_pae_extended_cr3	 3
#define VMASST_TYPE_architectural_iopl	 4
#define VMASST_TYPE_runstate_update_flag 5
#define VMASST_TYPE_m2p_strict		 32

/* console_io. */
#define CONSOLEIO_write 0
#define CONSOLEIO_read	1

/* sched_op and shutdown reasons. */
#define SCHEDOP_yield		0
#define SCHEDOP_block		1
#define SCHEDOP_shutdown	2
#define SCHEDOP_poll		3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code	5
#define SCHEDOP_watchdog	6
#define SCHEDOP_pin_override	7
#define SHUTDOWN_poweroff	0
#define SHUTDOWN_reboot		1
#define SHUTDOWN_suspend	2
#define SHUTDOWN_crash		3
#define SHUTDOWN_watchdog	4
#define SHUTDOWN_soft_reset	5

/* vcpu_op. */
#define VCPUOP_initialise		     0
#define VCPUOP_up			     1
#define VCPUOP_down			     2
#define VCPUOP_is_up			     3
#define VCPUOP_get_runstate_info	     4
#define VCPUOP_register_runstate_memory_area 5
#define VCPUOP_set_periodic_timer	     6
#define VCPUOP_stop_periodic_timer	     7
#define VCPUOP_set_singleshot_timer	     8
#define VCPUOP_stop_singleshot_timer	     9
#define VCPUOP_register_vcpu_info	     10
#define VCPUOP_send_nmi			     11
#define VCPUOP_get_physid		     12

/* VCPUOP_get_runstate_info / register_runstate_memory_area: where a vCPU's
 * time went, ns of guest system time in each state. */
#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3
struct vcpu_runstate_info {
	int state;
	uint64_t state_entry_time; /* bit 63: XEN_RUNSTATE_UPDATE while being written */
	uint64_t time[4];
};
#define VCPUOP_register_vcpu_time_memory_area 13
#define VCPU_SSHOTTMR_future		      1 /* set_singleshot_timer: -ETIME if already past */

/* memory_op. */
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_maximum_ram_page	    2
#define XENMEM_current_reservation  3
#define XENMEM_maximum_reservation  4
#define XENMEM_machphys_mfn_list    5
#define XENMEM_populate_physmap	    6
#define XENMEM_add_to_physmap	    7
#define XENMEM_memory_map	    9
#define XENMEM_machine_memory_map   10
#define XENMEM_machphys_mapping	    12

/* callback_op. */
#define CALLBACKOP_register    0
#define CALLBACKOP_unregister  1
#define CALLBACKTYPE_event     0
#define CALLBACKTYPE_failsafe  1
#define CALLBACKTYPE_syscall   2
#define CALLBACKTYPE_nmi       4
#define CALLBACKTYPE_sysenter  5
#define CALLBACKTYPE_syscall32 7
#define CALLBACKF_mask_events  1

/* physdev_op. */
#define PHYSDEVOP_set_iopl     6
#define PHYSDEVOP_set_iobitmap 7

/* set_segment_base. */
#define SEGBASE_FS	    0
#define SEGBASE_GS_USER	    1
#define SEGBASE_GS_KERNEL   2
#define SEGBASE_GS_USER_SEL 3

/* xen_version sub-ops. */
#define XENVER_version		   0
#define XENVER_extraversion	   1
#define XENVER_compile_info	   2
#define XENVER_capabilities	   3
#define XENVER_changeset	   4
#define XENVER_platform_parameters 5
#define XENVER_get_features	   6
#define XENVER_pagesize		   7
#define XENVER_guest_handle	   8
#define XENVER_commandline	   9
#define XENVER_build_id		   10

/* features.h bits (submap 0). */
#define XENFEAT_writable_page_tables	   0
#define XENFEAT_writable_descriptor_tables 1
#define XENFEAT_auto_translated_physmap	   2
#define XENFEAT_supervisor_mode_kernel	   3
#define XENFEAT_pae_pgdir_above_4gb	   4
#define XENFEAT_mmu_pt_update_preserve_ad  5
#define XENFEAT_highmem_assist		   6
#define XENFEAT_gnttab_map_avail_bits	   7
#define XENFEAT_hvm_callback_vector	   8
#define XENFEAT_hvm_safe_pvclock	   9
#define XENFEAT_hvm_pirqs		   10
#define XENFEAT_dom0			   11
#define XENFEAT_NR_SUBMAPS		   1

/* E820 types reported by XENMEM_memory_map. */
#define XEN_E820_RAM	  1
#define XEN_E820_RESERVED 2

#ifndef __ASSEMBLY__

struct mmu_update {
	uint64_t ptr;
	uint64_t val;
};

struct mmuext_op {
	uint32_t cmd;
	uint32_t pad;
	union {
		uint64_t mfn;
		uint64_t linear_addr;
	} arg1;
	union {
		uint32_t nr_ents;
		uint64_t vcpumask;
		uint64_t src_mfn;
	} arg2;
};

struct multicall_entry {
	uint64_t op;
	int64_t result;
	uint64_t args[6];
};

struct sched_shutdown {
	uint32_t reason;
};

struct sched_poll {
	uint64_t ports; /* guest handle of evtchn_port_t[] */
	uint32_t nr_ports;
	uint32_t pad;
	uint64_t timeout;
};

struct xen_memory_reservation {
	uint64_t extent_start; /* guest handle of xen_pfn_t[] */
	uint64_t nr_extents;
	uint32_t extent_order;
	uint32_t mem_flags;
	uint16_t domid;
	uint16_t pad[3];
};

struct xen_memory_map {
	uint32_t nr_entries;
	uint32_t pad;
	uint64_t buffer; /* guest handle of e820 entries */
};

struct xen_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct xen_machphys_mapping {
	uint64_t v_start;
	uint64_t v_end;
	uint64_t max_mfn;
};

struct xen_feature_info {
	uint32_t submap_idx;
	uint32_t submap;
};

struct xen_platform_parameters {
	uint64_t virt_start;
};

struct callback_register {
	uint16_t type;
	uint16_t flags;
	uint32_t pad;
	uint64_t address;
};

struct callback_unregister {
	uint16_t type;
	uint16_t pad;
};

struct physdev_set_iopl {
	uint32_t iopl;
};

struct vcpu_register_vcpu_info {
	uint64_t mfn;
	uint32_t offset;
	uint32_t rsvd;
};

/* VCPUOP_register_vcpu_time_memory_area's argument: the guest-virtual
 * address of a struct vcpu_time_info the hypervisor keeps a copy of the
 * vCPU's time info in (0 unregisters). */
struct vcpu_register_time_memory_area {
	uint64_t addr;
};

_Static_assert(sizeof(struct mmu_update) == 16, "mmu_update");
_Static_assert(sizeof(struct vcpu_runstate_info) == 48 &&
		       offsetof(struct vcpu_runstate_info, state_entry_time) == 8,
	       "vcpu_runstate_info");
_Static_assert(sizeof(struct mmuext_op) == 24, "mmuext_op");
_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry");
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "reservation");
_Static_assert(sizeof(struct xen_memory_map) == 16, "memory_map");
_Static_assert(sizeof(struct xen_e820_entry) == 20, "e820");
_Static_assert(sizeof(struct callback_register) == 16, "callback_register");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "register_vcpu_info");
_Static_assert(sizeof(struct vcpu_register_time_memory_area) == 8, "register_time_area");

#endif /* __ASSEMBLY__ */
#endif
