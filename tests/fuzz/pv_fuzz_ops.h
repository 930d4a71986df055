/*
 * The operations the PV fuzz targets are made of (pv_fuzz_ops.c).  Input:
 * a sequence of records, each an opcode byte (top bit: which domain acts;
 * the rest an index into the target's list, past its end a multicall of
 * the list's ops) and the bytes its builder decodes.  The invariants are
 * checked after every record.
 */
#ifndef KEEL_TESTS_PV_FUZZ_OPS_H
#define KEEL_TESTS_PV_FUZZ_OPS_H

#include "pv_fuzz.h"

enum pvo_kind {
	PVO_MMU_UPDATE,
	PVO_MMUEXT,
	PVO_UPDATE_VA,
	PVO_UPDATE_DESC,
	PVO_SET_GDT,
	PVO_MEMORY,
	PVO_PTWR,
	PVO_STORE,
	PVO_GNT_WRITE,
	PVO_GNT_MAP,
	PVO_GNT_UNMAP,
	PVO_GNT_COPY,
	PVO_GNT_TABLE,
	PVO_EVTCHN,
	PVO_VIRQ,
	PVO_NR
};

#define PVO_DONE (~0ULL) /* not a hypercall: the builder did the work */

struct pvo_call {
	uint64_t nr;
	uint64_t a[4];
};

/* Build op into the acting domain's argument area at off (or do it). */
struct pvo_op {
	const char *name;
	void (*build)(struct pvf *f, int i, size_t off, struct pvo_call *c);
};
extern const struct pvo_op pvo_ops[PVO_NR];

/* Decode and run the whole input with the target's ops (list of n). */
void pvo_run(struct pvf *f, const uint8_t *list, unsigned n);
/* A target's whole LLVMFuzzerTestOneInput: fresh domains, the input, the
 * domains' destruction. */
int pvo_fuzz_one(const uint8_t *data, size_t size, int ndoms, const uint8_t *list, unsigned n);

#endif
