/*
 * Shared pieces of the in-process fuzz targets for keeld's guest-facing
 * handlers (pv_mm_fuzz, pv_gnttab_fuzz, pv_evtchn_fuzz): RAM-only PV
 * domains (DOMAIN_NO_KVM) with real page tables, an input decoder whose
 * values are mostly drawn from a small set of interesting frames and
 * addresses, hypercalls through keeld's own table (arguments in guest RAM,
 * read by the same guest-copy paths a running guest's are), and the
 * invariant checks (pv_invariants.c) run after every operation.
 *
 * Each domain's layout (PVF_PAGES frames, va = frame * 4 KiB for the
 * first 2 MiB):
 *   1 L4, 2 L3, 3 L2, 4 L1 (mapped read-only), the L4 pinned and loaded;
 *   5, 6 hypercall argument frames; 7..15 spare (zeroed and mapped
 *   read-only: ready to be new tables);
 *   16..55 data; 56..63 canaries no operation ever names, which the other
 *   domain must never be able to change.
 */
#ifndef KEEL_TESTS_PV_FUZZ_H
#define KEEL_TESTS_PV_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/pv/pv_mm.h"
#include "abi/xen.h"

#define PVF_PAGES	 64
#define PVF_VCPUS	 2
#define PVF_ARG_VA	 0x5000ULL /* frames 5 and 6 */
#define PVF_CANARY_FIRST 56
#define PVF_MAX_DOMS	 2

/* The harness's own loops (setup, the invariant scans) are not what the
 * fuzzer should learn from, and their comparison tracing cost most of the
 * run time. */
#define PVF_NOCOV __attribute__((no_sanitize("coverage")))

struct pvf {
	struct domain *d[PVF_MAX_DOMS];
	int ndoms;
	int reverse; /* destroy the last domain first */
	/* What each domain's kernel writes to its argument area before a
	 * hypercall (stored through its own page tables: pvf_hypercall). */
	uint8_t stage[PVF_MAX_DOMS][2 * 4096];
	const uint8_t *p; /* the input still to decode */
	size_t n;
};

/* Make ndoms fresh domains with the layout above (aborts on failure:
 * the harness, not the input, is broken then). */
void pvf_setup(struct pvf *f, int ndoms, const uint8_t *data, size_t size);
/* Free them, the invariants checked after each; abort if anything is
 * left (table entries, descriptors; leaks are LeakSanitizer's). */
void pvf_teardown(struct pvf *f);

/* Input decoding: 0 once the input is used up. */
int pvf_more(const struct pvf *f);
uint8_t pvf_u8(struct pvf *f);
uint16_t pvf_u16(struct pvf *f);
uint32_t pvf_u32(struct pvf *f);
uint64_t pvf_u64(struct pvf *f);

/* A frame number for domain i: its own tables, argument, spare and data
 * frames, frame 0, shared_info, its grant and status frames, foreign
 * window frames, the shim and hole, just past RAM, or far out. */
uint64_t pvf_frame(struct pvf *f, int i);
/* A PTE naming pvf_frame with a flag combination (P, RW, US, A, D, PS, NX). */
uint64_t pvf_pte(struct pvf *f, int i);
/* The machine address of an entry: a table (or any frame) and an index
 * biased to the mapped slots and the hole slots; low 3 bits kept sometimes. */
uint64_t pvf_entry_addr(struct pvf *f, int i);
/* A guest virtual address: a mapped frame's, the hole, non-canonical, ... */
uint64_t pvf_va(struct pvf *f, int i);

/* Domain i's argument area at PVF_ARG_VA + off, as its kernel fills it:
 * stored into guest memory before each hypercall only where the guest's
 * own tables map it writable (frames 5 and 6 until the input remaps or
 * retypes them), as a real kernel's stores would land. */
void *pvf_arg(struct pvf *f, int i, size_t off);
/* Hypercall nr by domain i's vCPU 0, in kernel mode, through keeld's table. */
long pvf_hypercall(struct pvf *f, int i, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4);

/* pv_invariants.c: record what must never change (after setup); abort
 * (saying what broke) unless every invariant holds for the domains of f. */
void pvi_snapshot(struct pvf *f);
void pvi_check(struct pvf *f);

#endif
