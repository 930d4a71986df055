/*
 * Writable page tables (Xen's ptwr): a guest kernel that writes straight
 * to one of its page-table entries (mapped read-only, as they must be)
 * takes a write fault; keeld decodes the instruction -- the forms Linux
 * uses on page tables: mov, xchg, lock cmpxchg of a 64-bit register, mov of
 * a sign-extended immediate, or/and/bts/btr (clear_bit on a PTE byte, as
 * ptep_set_wrprotect does) -- validates the new entry exactly as
 * mmu_update would, queues the write for the shim and skips the
 * instruction.  Anything else stays the guest's page fault.
 */
#include <string.h>

#include "abi/xen.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

#define RFLAGS_ZF 0x40ULL

static __u64 *pv_ptwr_reg(struct kvm_regs *r, int n)
{
	__u64 *map[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
			  &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};

	return map[n & 15];
}

/* Length of a ModRM memory operand's tail (SIB and displacement). */
static int pv_ptwr_modrm_len(const uint8_t *p, int avail)
{
	uint8_t modrm = p[0], mod = modrm >> 6, rm = modrm & 7;
	int n = 1;

	if (mod == 3)
		return -1; /* not a memory operand */
	if (rm == 4) {
		if (avail < 2)
			return -1;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
		n++;
	} else if (mod == 0 && rm == 5) {
		n += 4; /* rip-relative */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n <= avail ? n : -1;
}

/* The new entry value for the decoded instruction, given the old one:
 * 0, or -1 if the form is not one of those handled. */
struct pv_ptwr_insn {
	int op;	 /* opcode (0x100 | second byte for 0f xx) */
	int ext; /* ModRM reg field (opcode extension or register) */
	int rex;
	int len; /* whole instruction */
	int64_t imm;
	int byte; /* a byte operand at cr2 & 7 */
};

static int pv_ptwr_decode(const uint8_t *insn, int avail, struct pv_ptwr_insn *d)
{
	int i = 0, n, immlen = 0;

	memset(d, 0, sizeof(*d));
	/*
	 * lock, and the segment overrides that change nothing here (the address
	 * is cr2): on one vCPU Linux's alternatives turn each lock prefix into a
	 * ds prefix (3e), e.g. in ptep_set_wrprotect's clear_bit at the first fork.
	 */
	while (i < 4 && (insn[i] == 0xf0 || insn[i] == 0x2e || insn[i] == 0x36 || insn[i] == 0x3e ||
			 insn[i] == 0x26 || insn[i] == 0x64 || insn[i] == 0x65))
		i++;
	if ((insn[i] & 0xf0) == 0x40)
		d->rex = insn[i++];
	d->op = insn[i++];
	if (d->op == 0x0f)
		d->op = 0x100 | insn[i++];
	switch (d->op) {
	case 0x87:  /* xchg r64, m64 */
	case 0x89:  /* mov r64, m64 */
	case 0x09:  /* or r64, m64 */
	case 0x21:  /* and r64, m64 */
	case 0x1b1: /* cmpxchg r64, m64 */
		break;
	case 0xc7: /* mov imm32 (sign-extended), m64 */
	case 0x81: /* or/and imm32, m64 */
		immlen = 4;
		break;
	case 0x83:  /* or/and imm8 (sign-extended), m64 */
	case 0x1ba: /* bts/btr imm8, m64 */
		immlen = 1;
		break;
	case 0x80: /* or/and imm8, m8 (clear_bit / set_bit on a PTE byte) */
		immlen = 1;
		d->byte = 1;
		break;
	default:
		return -1;
	}
	if (!d->byte && !(d->rex & 8))
		return -1; /* 64-bit operands only */
	d->ext = (insn[i] >> 3) & 7;
	n = pv_ptwr_modrm_len(insn + i, avail - i);
	if (n < 0 || i + n + immlen > avail)
		return -1;
	if (immlen == 4) {
		int32_t v;

		memcpy(&v, insn + i + n, 4);
		d->imm = v;
	} else if (immlen == 1) {
		d->imm = d->byte || d->op == 0x1ba ? insn[i + n] : (int8_t)insn[i + n];
	}
	if ((d->op == 0xc7 && d->ext != 0) ||
	    ((d->op == 0x80 || d->op == 0x81 || d->op == 0x83) && d->ext != 1 && d->ext != 4) ||
	    (d->op == 0x1ba && d->ext != 5 && d->ext != 6))
		return -1;
	d->len = i + n + immlen;
	return 0;
}

/* 0: emulated; -1: not ours (the guest gets its #PF). */
int pv_ptwr_emulate(struct vcpu *v, struct kvm_regs *g, uint64_t cr2)
{
	struct domain *d = v->dom;
	struct pv_ptwr_insn in;
	uint8_t insn[16];
	uint64_t gpa, old, nv = 0, mfn, regval, cf = 0;
	int level, r, shift;

	if (!v->pv->kernel_mode)
		return -1;
	if (pv_copy_from_guest(v, insn, g->rip, sizeof(insn)) < 0 &&
	    pv_copy_from_guest(v, insn, g->rip, 8) < 0)
		return -1;
	if (pv_ptwr_decode(insn, sizeof(insn), &in) < 0 || (!in.byte && (cr2 & 7)))
		return -1;
	shift = (cr2 & 7) * 8;
	regval = *pv_ptwr_reg(g, in.ext | ((in.rex & 4) ? 8 : 0));
	/* The entry: the page under cr2 must be one of the domain's tables. */
	pthread_mutex_lock(&d->mm_lock);
	r = -1;
	if (pv_guest_translate(v, cr2 & ~7ULL, 0, &gpa) < 0)
		goto out;
	mfn = gpa >> PV_PAGE_SHIFT;
	if (!pv_mm_owns(d, mfn) || !d->pv->pages[mfn].type_count ||
	    d->pv->pages[mfn].type < PGT_l1 || d->pv->pages[mfn].type > PGT_l4)
		goto out;
	level = d->pv->pages[mfn].type;
	old = pv_mm_read_entry(v, gpa);
	switch (in.op) {
	case 0x87:
	case 0x89:
		nv = regval;
		break;
	case 0xc7:
		nv = (uint64_t)in.imm;
		break;
	case 0x09:
		nv = old | regval;
		break;
	case 0x21:
		nv = old & regval;
		break;
	case 0x81:
	case 0x83:
		nv = in.ext == 1 ? old | (uint64_t)in.imm : old & (uint64_t)in.imm;
		break;
	case 0x80: {
		uint64_t mask = 0xffULL << shift, b = (old >> shift) & 0xff;

		b = in.ext == 1 ? b | (uint64_t)in.imm : b & (uint64_t)in.imm;
		nv = (old & ~mask) | (b << shift);
		break;
	}
	case 0x1ba: {
		int bit = in.imm & 63;

		cf = (old >> bit) & 1;
		nv = in.ext == 5 ? old | (1ULL << bit) : old & ~(1ULL << bit);
		break;
	}
	case 0x1b1:
		if (old != g->rax) {
			/* a failing cmpxchg writes nothing; rax gets the entry */
			g->rax = old;
			g->rflags &= ~RFLAGS_ZF;
			g->rip += in.len;
			r = 0;
			goto out;
		}
		nv = regval;
		break;
	}
	if (nv != old && pv_mm_update_entry(v, level, gpa, nv, 0) < 0) {
		domain_log(d, "ptwr: write of %#llx to L%d entry %#llx refused",
			   (unsigned long long)nv, level, (unsigned long long)gpa);
		goto out;
	}
	if (in.op == 0x87)
		*pv_ptwr_reg(g, in.ext | ((in.rex & 4) ? 8 : 0)) = old;
	if (in.op == 0x1b1)
		g->rflags |= RFLAGS_ZF;
	if (in.op == 0x1ba)
		g->rflags = (g->rflags & ~1ULL) | cf;
	g->rip += in.len;
	r = pv_mm_commit(v);
out:
	pthread_mutex_unlock(&d->mm_lock);
	return r < 0 ? -1 : 0;
}
