/*
 * Keel's copy of the facts of Xen's HVM ABI that keeld's HVM kind serves:
 * the HVM parameter numbers and hvm_op's get/set structure
 * (public/hvm/params.h, hvm_op.h), the start info hvmloader is handed in
 * %ebx (public/arch-x86/hvm/start_info.h), Xen's special pages
 * (tools/libs/guest's layout), the CPUID leaves and the hypercall-page MSR,
 * and the 32-bit (compat) layouts of the memory_op structures a 32-bit
 * guest passes.  Numbers and layouts only; sizes checked below.
 */
#ifndef KEEL_ABI_HVM_H
#define KEEL_ABI_HVM_H

#include <stdint.h>

/* hvm_op sub-ops */
#define HVMOP_set_param 0
#define HVMOP_get_param 1

/* XENMEM_add_to_physmap spaces */
#define XENMAPSPACE_shared_info 0
#define XENMAPSPACE_grant_table 1

/* HVM parameters */
#define HVM_PARAM_CALLBACK_IRQ		   0
#define HVM_PARAM_STORE_PFN		   1
#define HVM_PARAM_STORE_EVTCHN		   2
#define HVM_PARAM_PAE_ENABLED		   4
#define HVM_PARAM_IOREQ_PFN		   5
#define HVM_PARAM_BUFIOREQ_PFN		   6
#define HVM_PARAM_VIRIDIAN		   9
#define HVM_PARAM_TIMER_MODE		   10
#define HVM_PARAM_HPET_ENABLED		   11
#define HVM_PARAM_IDENT_PT		   12
#define HVM_PARAM_DM_DOMAIN		   13
#define HVM_PARAM_ACPI_S_STATE		   14
#define HVM_PARAM_VM86_TSS		   15
#define HVM_PARAM_VPT_ALIGN		   16
#define HVM_PARAM_CONSOLE_PFN		   17
#define HVM_PARAM_CONSOLE_EVTCHN	   18
#define HVM_PARAM_ACPI_IOPORTS_LOCATION	   19
#define HVM_PARAM_MEMORY_EVENT_CR0	   20
#define HVM_PARAM_MEMORY_EVENT_CR3	   21
#define HVM_PARAM_MEMORY_EVENT_CR4	   22
#define HVM_PARAM_MEMORY_EVENT_INT3	   23
#define HVM_PARAM_NESTEDHVM		   24
#define HVM_PARAM_MEMORY_EVENT_SINGLE_STEP 25
#define HVM_PARAM_BUFIOREQ_EVTCHN	   26
#define HVM_PARAM_PAGING_RING_PFN	   27
#define HVM_PARAM_MONITOR_RING_PFN	   28
#define HVM_PARAM_SHARING_RING_PFN	   29
#define HVM_PARAM_MEMORY_EVENT_MSR	   30
#define HVM_PARAM_TRIPLE_FAULT_REASON	   31
#define HVM_PARAM_IOREQ_SERVER_PFN	   32
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES	   33
#define HVM_PARAM_VM_GENERATION_ID_ADDR	   34
#define HVM_PARAM_ALTP2M		   35
#define HVM_PARAM_X87_FIP_WIDTH		   36
#define HVM_PARAM_VM86_TSS_SIZED	   37
#define HVM_PARAM_MCA_CAP		   38
#define HVM_NR_PARAMS			   39

struct xen_hvm_param {
	uint16_t domid;
	uint16_t pad;
	uint32_t index;
	uint64_t value;
};
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");

/* Xen's special pages: the last 8 frames before 0xff000, the ioreq
 * server's 8 just below them. */
#define HVM_END_SPECIAL_REGION	  0xff000ULL
#define HVM_NR_SPECIAL_PAGES	  8
#define HVM_SPECIAL_PFN(x)	  (HVM_END_SPECIAL_REGION - HVM_NR_SPECIAL_PAGES + (x))
#define HVM_SPECIALPAGE_PAGING	  0
#define HVM_SPECIALPAGE_ACCESS	  1
#define HVM_SPECIALPAGE_SHARING	  2
#define HVM_SPECIALPAGE_BUFIOREQ  3
#define HVM_SPECIALPAGE_XENSTORE  4
#define HVM_SPECIALPAGE_IOREQ	  5
#define HVM_SPECIALPAGE_IDENT_PT  6
#define HVM_SPECIALPAGE_CONSOLE	  7
#define HVM_NR_IOREQ_SERVER_PAGES 8
#define HVM_IOREQ_SERVER_PFN(x)	  (HVM_SPECIAL_PFN(0) - HVM_NR_IOREQ_SERVER_PAGES + (x))

/* RAM below the MMIO hole (libxl's default mmio_hole: 256 MiB). */
#define HVM_BELOW_4G_MMIO_START 0xF0000000ULL
#define HVM_HIGH_MEM_START	0x100000000ULL
/* The legacy VGA window, which Xen's HVM builder leaves without RAM (frames). */
#define HVM_VGA_HOLE_START 0xa0ULL
#define HVM_VGA_HOLE_END   0xc0ULL

/* The start info a PVH guest (and hvmloader) gets in %ebx. */
#define HVM_START_MAGIC 0x336ec578U
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "hvm_memmap_entry");

/* XENMEM_memory_map's buffer entries (packed, 20 bytes) */
struct xen_e820entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct xen_e820entry) == 20, "xen_e820entry");

/* XENMEM_memory_map's argument, 32-bit and 64-bit guests */
struct xen_memory_map32 {
	uint32_t nr_entries;
	uint32_t buffer;
};
struct xen_memory_map64 {
	uint32_t nr_entries;
	uint32_t pad;
	uint64_t buffer;
};
_Static_assert(sizeof(struct xen_memory_map32) == 8, "xen_memory_map32");
_Static_assert(sizeof(struct xen_memory_map64) == 16, "xen_memory_map64");

/* One module of the start info (nr_modules of them at modlist_paddr);
 * hvmloader finds the BIOS image as the module whose command line is
 * "firmware" (libxl and Xen's builder put it there). */
struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");

/* The builder's table for hvmloader at HVM_INFO_PADDR
 * (public/hvm/hvm_info_table.h): "HVM INFO", its length, a checksum
 * making the bytes sum to 0, the memory layout in frames. */
#define HVM_INFO_PADDR 0x9f800ULL
#define HVM_MAX_VCPUS  128
struct hvm_info_table {
	char signature[8];
	uint32_t length;
	uint8_t checksum;
	uint8_t apic_mode;
	uint32_t nr_vcpus;
	uint32_t low_mem_pgend;
	uint32_t reserved_mem_pgstart;
	uint32_t high_mem_pgend;
	uint8_t vcpu_online[(HVM_MAX_VCPUS + 7) / 8];
};
_Static_assert(sizeof(struct hvm_info_table) == 48 &&
		       __builtin_offsetof(struct hvm_info_table, nr_vcpus) == 16,
	       "hvm_info_table");

/* XENMEM_populate_physmap's argument as a 32-bit guest lays it out (the
 * 64-bit one is struct xen_memory_reservation). */
struct xen_memory_reservation32 {
	uint32_t extent_start;
	uint32_t nr_extents;
	uint32_t extent_order;
	uint32_t mem_flags;
	uint16_t domid;
	uint16_t pad;
};
_Static_assert(sizeof(struct xen_memory_reservation32) == 20, "reservation32");

/* The ACPI PM timer Xen emulates: 32 bits (hvmloader's FADT sets
 * TMR_VAL_EXT) at 3.579545 MHz, at offset 8 of
 * the PM1a event block, whose port HVM_PARAM_ACPI_IOPORTS_LOCATION
 * chooses (0: 0x1f40, Xen's old; 1: 0xb000, what hvmloader selects). */
#define HVM_PM1A_EVT_V0 0x1f40
#define HVM_PM1A_EVT_V1 0xb000
#define HVM_PM_TMR_OFF	8
#define HVM_PM_TMR_HZ	3579545ULL

/* CPUID: Xen's leaves at 0x40000000 ("XenVMMXenVMM", max leaf), +1 the
 * version, +2 the hypercall pages and their MSR. */
#define XEN_CPUID_BASE	   0x40000000U
#define XEN_CPUID_MAX_LEAF (XEN_CPUID_BASE + 5)
#define XEN_HYPERCALL_MSR  0x40000000U

#endif
