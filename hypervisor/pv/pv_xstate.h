/* Vector units for PV guests (pv_xstate.c): CPUID, CR4.OSXSAVE, XSETBV. */
#ifndef KEEL_PV_XSTATE_H
#define KEEL_PV_XSTATE_H

#include <stdint.h>

#define PV_CR4_OSXSAVE (1ull << 18)
#define PV_XSETBV_UD   (-2)

struct vcpu;

uint64_t pv_xstate_offered(void);
void pv_xstate_cpuid_leaf1(struct vcpu *v, int kernel_view, uint32_t *c);
void pv_xstate_cpuid_leaf7(uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);
void pv_xstate_cpuid_leafd(struct vcpu *v, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			   uint32_t *d);
void pv_xstate_cr4_write(struct vcpu *v, uint64_t cr4);
int pv_xstate_xsetbv(struct vcpu *v, uint32_t index, uint64_t val);
void pv_xstate_restored(struct vcpu *v);

#endif
