/*
 * libFuzzer target: grant tables between two RAM-only domains -- entries
 * of either version written by the granter, map (host and device, by
 * address or by PTE), unmap, unmap_and_replace, copy, setup_table,
 * set_version, status frames, transfer -- with the MMU ops and the balloon
 * that race them (a granted frame pinned as a table, given back, its
 * window frame aliased) and multicall; invariants after each operation.
 */
#include "pv_fuzz_ops.h"

static const uint8_t pv_gnttab_fuzz_ops[] = {
	PVO_GNT_WRITE, PVO_GNT_MAP, PVO_GNT_UNMAP, PVO_GNT_COPY,  PVO_GNT_TABLE,
	PVO_GNT_WRITE, PVO_GNT_MAP, PVO_MMUEXT,	   PVO_UPDATE_VA, PVO_MMU_UPDATE,
	PVO_MEMORY,    PVO_PTWR,    PVO_STORE};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pvo_fuzz_one(data, size, 2, pv_gnttab_fuzz_ops, sizeof(pv_gnttab_fuzz_ops));
}
