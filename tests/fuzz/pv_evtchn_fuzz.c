/*
 * libFuzzer target: event channels between two RAM-only domains, 2-level
 * and FIFO -- alloc_unbound, bind_interdomain, VIRQs and IPIs, close,
 * send, unmask, bind_vcpu, status, reset, init_control, expand_array,
 * set_priority -- with the guest's own stores to its event words and
 * control blocks, keeld raising VIRQs, the balloon and pinning (FIFO pages
 * hold writable references) and multicall; invariants after each one.
 */
#include "pv_fuzz_ops.h"

static const uint8_t pv_evtchn_fuzz_ops[] = {PVO_EVTCHN, PVO_EVTCHN, PVO_EVTCHN, PVO_VIRQ,
					     PVO_STORE,	 PVO_MEMORY, PVO_MMUEXT, PVO_EVTCHN};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pvo_fuzz_one(data, size, 2, pv_evtchn_fuzz_ops, sizeof(pv_evtchn_fuzz_ops));
}
