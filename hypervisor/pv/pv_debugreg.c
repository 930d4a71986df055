/*
 * A PV vCPU's debug registers as Xen 4.17 keeps them for a domU: the
 * values set_debugreg and `mov %drN` store and get_debugreg and
 * `mov %drN, reg` read back, with Xen's reserved-bit fix-ups and refusals.
 * keeld keeps them for the guest (and its saved image) and loads DR0-DR3
 * and DR7 into the KVM vCPU before it next runs whenever they change (and
 * after a restore), so the guest's breakpoints can fire in the guest as on
 * Xen.  A #DB comes back through the shim's vector-1 stub; pv_debugreg_trap
 * folds what the hardware's DR6 says into the guest's before the bounce to
 * trap-table entry 1.
 *
 * The hardware DR6 is kept at its default between #DBs, so what a #DB
 * leaves there is that #DB's alone.  The guest's DR6 is the view Xen 4.17
 * keeps: each #DB's bits (B0-B3, BD, BS, BT) are added to it and stay until
 * the guest writes DR6, as the hardware's own DR6 would.  (Later Xen
 * replaces B0-B3 at each #DB, x86_merge_dr6; a guest that resets DR6 in
 * its handler, as the manuals ask, sees no difference.)
 *
 * No guest breakpoint can hit keeld's own code or data in the VM: every
 * address the shim's ring-0 code touches (its code, IDT, GDT, TSS, stacks,
 * the page-table writes through the direct map, the M2P) is in the
 * hypervisor hole, where set_debugreg refuses a breakpoint (the layout is
 * checked at build time below).  Everything else keeld does to guest
 * memory it does through its own mapping, outside the VM, where the
 * guest's watchpoints do not apply: an access keeld makes for the guest
 * (a bounce frame, an emulated instruction, a hypercall's copy) fires no
 * watchpoint, as none fires for one Xen makes.
 *
 * On this development host (KVM on PVM) the loaded breakpoints never fire:
 * PVM keeps them (KVM_GET_DEBUGREGS reads them back) but no #DB comes, for
 * guest addresses in either half; a single step does come, with BS in DR6.
 * See hypervisor/README.md.
 *
 * The guest's CR4.DE is always clear here (pv_emulate.c shows a CR4 without
 * it and a guest write to CR4 changes nothing), so, as Xen does for a guest
 * with CR4.DE clear, DR4 and DR5 are the old aliases of DR6 and DR7 and an
 * I/O breakpoint in DR7 is refused.
 */
#include <string.h>

#include "abi/xen.h"
#include "pv_vcpu.h"

/* The hole set_debugreg refuses holds every slot keeld maps in a guest. */
_Static_assert(SHIM_VIRT >= HYPERVISOR_VIRT_START && DIRECTMAP_VIRT >= HYPERVISOR_VIRT_START &&
		       KEEL_M2P_VIRT >= HYPERVISOR_VIRT_START,
	       "keeld's mappings start inside the hypervisor hole");
_Static_assert(0xffff000000000000ULL + ((uint64_t)(PV_HOLE_LAST_SLOT + 1) << 39) <=
		       HYPERVISOR_VIRT_END,
	       "keeld's hole slots end inside the hypervisor hole");

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
	v->pv->debugreg_dirty = 1;
}

/* On the vCPU's own thread, before KVM_RUN, when debugreg_dirty (set by a
 * change from any thread, by a reset and by a restore): the guest's
 * breakpoints into the KVM vCPU, with DR6 at its default. */
int pv_debugreg_load(struct vcpu *v)
{
	struct kvm_debugregs dr;
	int r;

	memset(&dr, 0, sizeof(dr));
	for (int i = 0; i < 4; i++)
		dr.db[i] = v->pv->debugreg[i];
	dr.dr6 = PV_DR6_DEFAULT;
	dr.dr7 = v->pv->debugreg[7];
	r = kvm_debugregs_set(&v->kvm, &dr);
	if (r < 0)
		return r;
	v->pv->debugreg_dirty = 0;
	return 0;
}

/*
 * A #DB from the guest: what the hardware's DR6 says happened is added to
 * the guest's DR6 as Xen 4.17's do_debug adds it (its positive bits set,
 * an active-low bit the hardware cleared cleared), and the hardware's DR6
 * goes back to its default for the next one.  The caller then bounces
 * vector 1.
 */
int pv_debugreg_trap(struct vcpu *v)
{
	struct kvm_debugregs dr;
	uint64_t g = v->pv->debugreg[6];
	int r;

	r = kvm_debugregs_get(&v->kvm, &dr);
	if (r < 0)
		return r;
	g |= dr.dr6 & ~PV_DR6_DEFAULT & 0xffffffffULL;
	g &= dr.dr6 | ~PV_DR6_DEFAULT;
	v->pv->debugreg[6] = (g & PV_DR6_VALID) | PV_DR6_ONES;
	if (dr.dr6 == PV_DR6_DEFAULT)
		return 0;
	dr.dr6 = PV_DR6_DEFAULT;
	return kvm_debugregs_set(&v->kvm, &dr);
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
		v->pv->debugreg_dirty = 1;
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
		v->pv->debugreg_dirty = 1;
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
