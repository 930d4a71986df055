/*
 * libFuzzer target: keeld's PV MMU as a guest drives it -- mmu_update,
 * mmuext_op (pin, unpin, base pointers, LDT, clear/copy page),
 * update_va_mapping, writable page-table faults, update_descriptor,
 * set_gdt, the balloon (memory_op) and multicall -- on one RAM-only domain,
 * every invariant (pv_invariants.c) checked after each operation.
 */
#include "pv_fuzz_ops.h"

static const uint8_t pv_mm_fuzz_ops[] = {PVO_MMU_UPDATE, PVO_MMUEXT, PVO_UPDATE_VA, PVO_UPDATE_DESC,
					 PVO_SET_GDT,	 PVO_MEMORY, PVO_PTWR,	    PVO_STORE,
					 PVO_MMU_UPDATE, PVO_MMUEXT};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pvo_fuzz_one(data, size, 1, pv_mm_fuzz_ops, sizeof(pv_mm_fuzz_ops));
}
