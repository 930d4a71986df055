/*
 * The pages a Xen PV guest shares with its hypervisor: start_info (what the
 * domain builder tells the kernel at boot), shared_info with one vcpu_info
 * per legacy vCPU (event flags, CR2 of the last page fault, time).  Layouts
 * from Xen's public xen.h and arch-x86/xen.h for x86_64.
 */
#ifndef KEEL_ABI_SHARED_INFO_H
#define KEEL_ABI_SHARED_INFO_H

#include <stdint.h>
#include "abi/arch-x86_64.h"

#define XEN_START_INFO_MAGIC "xen-3.0-x86_64"
#define MAX_GUEST_CMDLINE    1024

#define SIF_PRIVILEGED	    (1 << 0)
#define SIF_INITDOMAIN	    (1 << 1)
#define SIF_MULTIBOOT_MOD   (1 << 2)
#define SIF_MOD_START_PFN   (1 << 3)
#define SIF_VIRT_P2M_4TOOLS (1 << 4)

struct start_info {
	char magic[32];
	uint64_t nr_pages;
	uint64_t shared_info; /* machine address */
	uint32_t flags;
	uint32_t pad0;
	uint64_t store_mfn;
	uint32_t store_evtchn;
	uint32_t pad1;
	union {
		struct {
			uint64_t mfn;
			uint32_t evtchn;
			uint32_t pad;
		} domU;
		struct {
			uint32_t info_off;
			uint32_t info_size;
		} dom0;
	} console;
	uint64_t pt_base;
	uint64_t nr_pt_frames;
	uint64_t mfn_list;
	uint64_t mod_start;
	uint64_t mod_len;
	char cmd_line[MAX_GUEST_CMDLINE];
	uint64_t first_p2m_pfn;
	uint64_t nr_p2m_frames;
};

/* vcpu_time_info.flags: the TSC runs at one rate on every vCPU and never
 * stops, so a reader needs no cross-vCPU monotonicity fix-up (Linux's vDSO
 * reads the clock only while this is set). */
#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0)

struct vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad1[2];
};

struct arch_vcpu_info {
	uint64_t cr2;
	uint64_t pad;
};

struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t pad[6];
	uint64_t evtchn_pending_sel;
	struct arch_vcpu_info arch;
	struct vcpu_time_info time;
};

struct arch_shared_info {
	uint64_t max_pfn;
	uint64_t pfn_to_mfn_frame_list_list;
	uint64_t nmi_reason;
	uint64_t p2m_cr3;
	uint64_t p2m_vaddr;
	uint64_t p2m_generation;
};

struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	uint64_t evtchn_pending[64];
	uint64_t evtchn_mask[64];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	struct arch_shared_info arch;
};

_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(__builtin_offsetof(struct vcpu_info, arch.cr2) == 16, "cr2");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_pending) == 2048, "pending");
_Static_assert(__builtin_offsetof(struct shared_info, wc_version) == 3072, "wc");
_Static_assert(__builtin_offsetof(struct shared_info, arch) == 3088, "arch");
_Static_assert(__builtin_offsetof(struct start_info, store_mfn) == 56, "store_mfn");
_Static_assert(__builtin_offsetof(struct start_info, console) == 72, "console");
_Static_assert(__builtin_offsetof(struct start_info, pt_base) == 88, "pt_base");
_Static_assert(__builtin_offsetof(struct start_info, cmd_line) == 128, "cmd_line");
_Static_assert(sizeof(struct start_info) == 1168, "start_info");

#endif
