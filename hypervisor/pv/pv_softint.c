/*
 * Software interrupts, as Xen delivers them to an x86_64 PV guest.  Xen's
 * IDT gates are DPL 0 except for #BP and #OF, so `int $n` raises a #GP that
 * names the vector; Xen then delivers vector n through the guest's trap
 * table if the entry's DPL admits the caller (the guest kernel counting as
 * ring 1, its user as ring 3), with the return address after the
 * instruction and no error code, or passes the #GP on with that error code
 * ((n << 3) | 2) at the instruction.  int3 and `int $3`/`int $4` are #BP and
 * #OF whatever the entry's DPL says.  `into` does not exist in 64-bit mode:
 * it stays the #UD it is.
 *
 * On this development host `int $n` from ring 3 arrives as a #UD rather
 * than a #GP, so the instruction is decoded from guest memory either way;
 * a #GP naming the vector (where the gates are checked) must agree with it.
 */
#include <string.h>

#include "abi/xen.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

#define PV_INSN_MAX 15

/* Up to len bytes of the instruction at rip, as the guest may read them;
 * fewer where a page the instruction does not need is not mapped. */
int pv_fetch_insn(struct vcpu *v, uint64_t rip, uint8_t *buf, int len)
{
	uint64_t page_left = PV_PAGE_SIZE - (rip & (PV_PAGE_SIZE - 1));

	if (pv_copy_from_guest(v, buf, rip, len) == 0)
		return len;
	if (page_left >= (uint64_t)len || pv_copy_from_guest(v, buf, rip, page_left) < 0)
		return 0;
	return (int)page_left;
}

static int pv_is_legacy_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/*
 * If the instruction at rip is a software interrupt, say what the guest
 * gets for it in *ev and return 0; -1 if it is not one (the exception is
 * the guest's as it stands).  idt_vec: the vector a #GP's error code named,
 * or -1 for a #UD.
 */
int pv_softint_decode(struct vcpu *v, uint64_t rip, int idt_vec, struct pv_event *ev)
{
	uint8_t insn[PV_INSN_MAX];
	int n = pv_fetch_insn(v, rip, insn, sizeof(insn)), i = 0, vec, len;
	const struct trap_info *ti;

	while (i < n && (pv_is_legacy_prefix(insn[i]) || (insn[i] & 0xf0) == 0x40))
		i++;
	if (i >= n)
		return -1;
	if (insn[i] == 0xcc) {
		vec = 3;
		len = i + 1;
	} else if (insn[i] == 0xcd && i + 1 < n) {
		vec = insn[i + 1];
		len = i + 2;
	} else {
		return -1; /* into (0xce) included: #UD in 64-bit mode */
	}
	if (idt_vec >= 0 && idt_vec != vec)
		return -1;
	memset(ev, 0, sizeof(*ev));
	ev->vec = vec;
	ev->rip = rip + len;
	/* #BP and #OF: Xen's gates for them are DPL 3 and the guest's DPL is
	 * not looked at. */
	if (vec == 3 || vec == 4)
		return 0;
	ti = &v->pv->traps[vec];
	if (TI_GET_DPL(ti->flags) >= (v->pv->kernel_mode ? 1 : 3))
		return 0;
	ev->vec = 13;
	ev->has_err = 1;
	ev->err = ((uint64_t)vec << 3) | 2;
	ev->rip = rip;
	return 0;
}
