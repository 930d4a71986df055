/*
 * The M2P at Xen's fixed address.  An x86_64 PV guest may read the
 * machine-to-phys table at MACH2PHYS_VIRT_START (L4 slot 256) without
 * asking XENMEM_machphys_mapping.  keeld points slot 256 at the same
 * read-only tables as its own M2P (slot 258, the address it reports), which
 * serves such reads natively where the host allows ring-3 reads there; on
 * this development host they fault, so keeld emulates the load as Xen's
 * ptwr emulates page-table writes: it decodes the instruction (the forms
 * an M2P lookup compiles to: mov of 32 or 64 bits, movzx and movsx of 8 or
 * 16 bits, movsxd), checks that its memory operand is the faulting address,
 * writes the destination register from keeld's copy of the table and skips
 * the instruction.  Anything else, and any read past the table's last page
 * (nothing is mapped there, as past the end of Xen's), stays the guest's
 * page fault.
 */
#include <string.h>

#include "abi/xen.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

static __u64 *pv_m2p_reg(struct kvm_regs *r, int n)
{
	__u64 *map[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
			  &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};

	return map[n & 15];
}

struct pv_m2p_load {
	int size;    /* bytes read: 1, 2, 4 or 8 */
	int sign;    /* sign-extend (movsx, movsxd) */
	int dst64;   /* REX.W: a 64-bit destination */
	int reg;     /* destination register */
	uint64_t ea; /* the operand's address */
	int len;     /* the whole instruction */
};

/* The ModRM memory operand at p (after the opcode) and its address, with
 * the instruction's registers; its length, or -1. */
static int pv_m2p_modrm(const uint8_t *p, int avail, int rex, struct kvm_regs *r,
			uint64_t next_rip_base, struct pv_m2p_load *ld)
{
	uint8_t modrm, mod, rm;
	int n = 1, riprel = 0;
	uint64_t ea = 0;
	int32_t disp = 0;

	if (avail < 1)
		return -1;
	modrm = p[0];
	mod = modrm >> 6;
	rm = modrm & 7;
	ld->reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	if (mod == 3)
		return -1;
	if (rm == 4) {
		uint8_t sib, base, index;

		if (avail < 2)
			return -1;
		sib = p[1];
		n++;
		base = (sib & 7) | ((rex & 1) ? 8 : 0);
		index = ((sib >> 3) & 7) | ((rex & 2) ? 8 : 0);
		if (index != 4)
			ea += *pv_m2p_reg(r, index) << (sib >> 6);
		if (mod == 0 && (sib & 7) == 5)
			mod = 2; /* disp32, no base */
		else
			ea += *pv_m2p_reg(r, base);
	} else if (mod == 0 && rm == 5) {
		riprel = 1;
		mod = 2;
	} else {
		ea += *pv_m2p_reg(r, rm | ((rex & 1) ? 8 : 0));
	}
	if (mod == 1) {
		if (n + 1 > avail)
			return -1;
		disp = (int8_t)p[n];
		n += 1;
	} else if (mod == 2) {
		if (n + 4 > avail)
			return -1;
		memcpy(&disp, p + n, 4);
		n += 4;
	}
	ea += (int64_t)disp;
	if (riprel)
		ea += next_rip_base + n; /* no immediate follows in these forms */
	ld->ea = ea;
	return n;
}

static int pv_m2p_decode(const uint8_t *insn, int avail, uint64_t rip, struct kvm_regs *r,
			 struct pv_m2p_load *ld)
{
	int i = 0, rex = 0, op, n;

	memset(ld, 0, sizeof(*ld));
	/* ds and the null segment overrides change nothing in 64-bit mode; fs
	 * and gs bases would, and no M2P lookup uses them. */
	while (i < 4 && (insn[i] == 0x2e || insn[i] == 0x36 || insn[i] == 0x3e || insn[i] == 0x26))
		i++;
	if (i < avail && (insn[i] & 0xf0) == 0x40)
		rex = insn[i++];
	if (i + 1 >= avail)
		return -1;
	op = insn[i++];
	if (op == 0x0f)
		op = 0x100 | insn[i++];
	ld->dst64 = (rex & 8) != 0;
	switch (op) {
	case 0x8b: /* mov m32/m64, r */
		ld->size = ld->dst64 ? 8 : 4;
		break;
	case 0x63: /* movsxd m32, r64 */
		if (!ld->dst64)
			return -1;
		ld->size = 4;
		ld->sign = 1;
		break;
	case 0x1b6: /* movzx m8, r */
	case 0x1b7: /* movzx m16, r */
		ld->size = op == 0x1b6 ? 1 : 2;
		break;
	case 0x1be: /* movsx m8, r */
	case 0x1bf: /* movsx m16, r */
		ld->size = op == 0x1be ? 1 : 2;
		ld->sign = 1;
		break;
	default:
		return -1;
	}
	n = pv_m2p_modrm(insn + i, avail - i, rex, r, rip + i, ld);
	if (n < 0)
		return -1;
	ld->len = i + n;
	return 0;
}

/* Bytes of the M2P mapped at each of its addresses: whole pages. */
static uint64_t pv_m2p_mapped_size(struct domain *d)
{
	return (d->nr_pages * 8 + PV_PAGE_SIZE - 1) & ~(PV_PAGE_SIZE - 1);
}

/* Whether va is in a page of the M2P, at Xen's address or keeld's: what a
 * page fault's present bit says there. */
int pv_m2p_present(struct domain *d, uint64_t va)
{
	uint64_t size = pv_m2p_mapped_size(d);

	return (va >= MACH2PHYS_VIRT_START && va - MACH2PHYS_VIRT_START < size) ||
	       (va >= KEEL_M2P_VIRT && va - KEEL_M2P_VIRT < size);
}

/* 0: the read was emulated (registers updated, rip advanced); -1: the
 * fault is the guest's. */
int pv_m2p_emulate_read(struct vcpu *v, struct kvm_regs *regs, uint64_t cr2)
{
	struct domain *d = v->dom;
	uint64_t table = pv_m2p_mapped_size(d);
	uint8_t insn[15];
	struct pv_m2p_load ld;
	uint64_t off, val = 0;
	int n;

	if (cr2 < MACH2PHYS_VIRT_START || cr2 >= MACH2PHYS_VIRT_END)
		return -1;
	n = pv_fetch_insn(v, regs->rip, insn, sizeof(insn));
	if (n <= 0 || pv_m2p_decode(insn, n, regs->rip, regs, &ld) < 0)
		return -1;
	/* The operand must be what faulted (a load straddling into the M2P
	 * from below faults lower), and lie wholly inside the table. */
	if (ld.ea > cr2 || cr2 - ld.ea >= (uint64_t)ld.size || ld.ea < MACH2PHYS_VIRT_START)
		return -1;
	off = ld.ea - MACH2PHYS_VIRT_START;
	if (off >= table || table - off < (uint64_t)ld.size)
		return -1;
	/* mm_lock: MMU_MACHPHYS_UPDATE writes entries under it. */
	pthread_mutex_lock(&d->mm_lock);
	memcpy(&val, d->shim + SHIM_OFF_M2P + off, ld.size);
	pthread_mutex_unlock(&d->mm_lock);
	if (ld.sign) {
		int shift = 64 - 8 * ld.size;

		val = (uint64_t)((int64_t)(val << shift) >> shift);
	}
	/* A 32-bit destination is zero-extended, as the CPU does. */
	if (!ld.dst64)
		val &= 0xffffffffULL;
	*pv_m2p_reg(regs, ld.reg) = val;
	regs->rip += ld.len;
	return 0;
}
