/*
 * Where things live in a Keel PV domain's VM.  Guest RAM is guest-physical
 * [0, nr_pages * 4K) and its frame numbers are the guest's MFNs.  The shim
 * region (keeld's, never owned by the guest) sits at SHIM_GPA and is mapped
 * in Xen's hypervisor hole; every guest L4 gets the hole slots copied in.
 *
 * Why the shim is small: on this host ring-0 guest code is emulated (~0.3 us
 * per instruction) while an exit to keeld costs ~8 us (measured by pv-probe),
 * and `syscall` from ring 3 does not reach ring 0 at all.  So a hypercall is
 * `syscall` to a user-executable stub at LSTAR that does one `out` (allowed
 * by the TSS I/O bitmap) and keeld does the work natively; ring-0 code is
 * only the exception stubs and a loop that performs validated page-table
 * writes (they must be done by guest instructions so KVM's shadow MMU sees
 * them).
 */
/* Measured alternatives (tests/bench/pv, pv-probe): a ring-3 `out` through
 * the I/O bitmap costs ~62 us; a ring-3 exception into a ring-0 stub that
 * then does the `out` and iretq costs ~81 us (an exit right after a ring
 * switch is far dearer than the ~8 us of an exit from steady ring-0 code);
 * so hypercalls take the direct ring-3 `out`. */
#ifndef KEEL_HV_PV_LAYOUT_H
#define KEEL_HV_PV_LAYOUT_H

#define PV_PAGE_SIZE  4096ULL
#define PV_PAGE_SHIFT 12

#define SHIM_GPA       0x1000000000ULL	     /* 64 GiB: above any guest RAM */
#define SHIM_VIRT      0xFFFF82D080000000ULL /* L4 slot 261 */
#define DIRECTMAP_VIRT 0xFFFF830000000000ULL /* L4 slot 262: guest RAM, ring 0 */
/* The read-only M2P, reported through XENMEM_machphys_mapping.  Xen's
 * fixed MACH2PHYS_VIRT_START (slot 256) points at the same tables, but
 * ring-3 reads there fault on this host, so keeld emulates them
 * (pv_m2p.c). */
#define KEEL_M2P_VIRT	   0xFFFF810000000000ULL /* L4 slot 258 */
#define PV_HOLE_FIRST_SLOT 256
#define PV_HOLE_LAST_SLOT  271
#define PV_HOLE_NSLOTS	   16

/* Offsets inside the shim region. */
#define SHIM_OFF_CODE	     0x0000 /* shim.S, 16 KiB; page 0 is ring-3 executable */
#define SHIM_CODE_MAX	     0x4000
#define SHIM_OFF_IDT	     0x4000
#define SHIM_OFF_SHARED_INFO 0x8000
#define SHIM_OFF_GDT	     0x10000 /* 16 pages: guest's 14 + Xen's reserved 2 */
#define SHIM_GDT_ENTRIES     8192
#define SHIM_OFF_PT	     0x30000 /* the hole's own page tables (16 pages) */
#define SHIM_PT_PAGES	     16
#define SHIM_OFF_M2P	     0x100000 /* the M2P table, nr_pages * 8 bytes */

/* Per-vCPU areas, 64 KiB each from SHIM_OFF_VCPU: the TSS with its I/O
 * bitmap, the list of page-table writes for the apply loop, and the ring-0
 * stack the exception stubs and the apply loop run on. */
#define SHIM_OFF_VCPU	       0x40000
#define SHIM_VCPU_SIZE	       0x10000
#define SHIM_VCPU_TSS	       0x0000 /* 104 + 8193 bytes */
#define SHIM_VCPU_APPLY	       0x3000 /* to 0x8000 */
#define SHIM_APPLY_MAX	       ((0x8000 - SHIM_VCPU_APPLY) / 16)
#define SHIM_VCPU_STACK	       0x8000 /* 16 KiB, top at 0xc000 */
#define SHIM_VCPU_STACK_TOP    0xc000
#define SHIM_VCPU_OFF(i, what) (SHIM_OFF_VCPU + (uint64_t)(i)*SHIM_VCPU_SIZE + (what))

/* Grant-table frames (32) and version-2 status frames (4), after the
 * per-vCPU areas (gnttab/ finds them through the kind's gnttab_off). */
#define SHIM_OFF_GNTTAB 0xC0000
_Static_assert(SHIM_OFF_GNTTAB >= SHIM_OFF_VCPU + 8 * SHIM_VCPU_SIZE, "gnttab after the vCPUs");
_Static_assert(SHIM_OFF_GNTTAB + 36 * 4096 <= SHIM_OFF_M2P, "gnttab before the M2P");

/* I/O ports the shim uses to exit to keeld. */
#define PV_PORT_HYPERCALL 0xe1 /* from the LSTAR stub (ring 3) */
#define PV_PORT_EXCEPTION 0xe3 /* from an IDT stub (ring 0) */
#define PV_PORT_APPLIED	  0xe4 /* page-table writes done (ring 0) */

/* Ring-0 selectors in the shim's GDT (Xen's reserved page). */
#define SHIM_CS0     0xe008
#define SHIM_DS0     0xe010
#define SHIM_TSS_SEL 0xe040 /* vCPU i: 0xe040 + 16 * i */

#endif
