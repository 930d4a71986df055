/*
 * A PV vCPU's debug registers as Xen 4.17 keeps them for a domU: the
 * values set_debugreg and `mov %drN` store and get_debugreg and
 * `mov %drN, reg` read back, with Xen's reserved-bit fix-ups and refusals.
 * keeld keeps them for the guest (and its saved image); it does not load
 * them into the vCPU, so a breakpoint the guest arms never fires.
 *
 * The guest's CR4.DE is always clear here (pv_emulate.c shows a CR4 without
 * it and a guest write to CR4 changes nothing), so, as Xen does for a guest
 * with CR4.DE clear, DR4 and DR5 are the old aliases of DR6 and DR7 and an
 * I/O breakpoint in DR7 is refused.
 */
#include "abi/xen.h"
#include "pv_vcpu.h"

#define PV_DR6_DEFAULT 0xffff0ff0ULL /* what a new vCPU reads in DR6 */
#define PV_DR7_DEFAULT 0x00000400ULL /* and in DR7 */
#define PV_DR6_VALID   0xffffefffULL /* bit 12 and the upper half read 0 */
#define PV_DR6_ONES    0xffff0ff0ULL /* reserved, read as 1 */
#define PV_DR7_VALID   0xffff27ffULL /* bits 11, 12, 14, 15, upper half: 0 */
#define PV_DR7_ONES    0x00000400ULL /* bit 10 reads as 1 */
#define PV_DR7_GD      0x00002000ULL /* general detect: Xen's, not the guest's */
#define PV_DR7_ENABLES 0xffULL	     /* L0-L3 and G0-G3 */
#define PV_DR7_RW_IO   2	     /* an R/W field's I/O-breakpoint value */

void pv_debugreg_reset(struct vcpu *v)
{
	for (int i = 0; i < 8; i++)
		v->pv->debugreg[i] = 0;
	v->pv->debugreg[6] = PV_DR6_DEFAULT;
	v->pv->debugreg[7] = PV_DR7_DEFAULT;
}

/* Xen's breakpoint_addr_ok: the lower canonical half, or above Xen's own
 * range (a breakpoint in the hypervisor hole would trap in Xen). */
static int pv_breakpoint_addr_ok(uint64_t addr)
{
	return addr < (1ULL << 47) || addr >= HYPERVISOR_VIRT_END;
}

/* 0, or what Xen's set_debugreg answers: -ENODEV for no such register
 * (the emulator's #UD), -EINVAL for bits that must be clear, -EPERM for a
 * value the guest may not use (both #GP in the emulator). */
long pv_set_debugreg(struct vcpu *v, unsigned reg, uint64_t val)
{
	switch (reg) {
	case 0:
	case 1:
	case 2:
	case 3:
		if (!pv_breakpoint_addr_ok(val))
			return -XEN_EPERM;
		v->pv->debugreg[reg] = val;
		return 0;
	case 4:
	case 6:
		if (val >> 32)
			return -XEN_EINVAL;
		v->pv->debugreg[6] = (val & PV_DR6_VALID) | PV_DR6_ONES;
		return 0;
	case 5:
	case 7:
		if (val >> 32)
			return -XEN_EINVAL;
		val = (val & PV_DR7_VALID) | PV_DR7_ONES;
		if (val & PV_DR7_GD)
			return -XEN_EPERM;
		/* An I/O breakpoint needs CR4.DE, which this guest never has;
		 * Xen looks at the R/W fields only when some breakpoint is on. */
		if (val & PV_DR7_ENABLES)
			for (int i = 0; i < 4; i++)
				if (((val >> (16 + 4 * i)) & 3) == PV_DR7_RW_IO)
					return -XEN_EPERM;
		v->pv->debugreg[7] = val;
		return 0;
	default:
		return -XEN_ENODEV;
	}
}

/* 0 with the value, or -ENODEV (the emulator's #UD) for DR8 and up. */
long pv_get_debugreg(struct vcpu *v, unsigned reg, uint64_t *val)
{
	switch (reg) {
	case 0:
	case 1:
	case 2:
	case 3:
		*val = v->pv->debugreg[reg];
		return 0;
	case 4:
	case 6:
		*val = v->pv->debugreg[6];
		return 0;
	case 5:
	case 7:
		*val = v->pv->debugreg[7];
		return 0;
	default:
		return -XEN_ENODEV;
	}
}
