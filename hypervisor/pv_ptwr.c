/*
 * Writable page tables (Xen's ptwr): a guest kernel that writes straight
 * to one of its page-table entries (mapped read-only, as they must be)
 * takes a write fault; keeld decodes the instruction -- the forms Linux
 * uses on page tables: mov, xchg, lock cmpxchg of a 64-bit register, mov of
 * a sign-extended immediate -- validates the new entry exactly as
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

/* 0: emulated; -1: not ours (the guest gets its #PF). */
int pv_ptwr_emulate(struct pv_vcpu *v, struct kvm_regs *g, uint64_t cr2)
{
	struct domain *d = v->dom;
	uint8_t insn[16];
	uint64_t gpa, old, nv, mfn;
	int i = 0, lock = 0, rex = 0, op, n, level, r, rlen;

	if (!v->kernel_mode || (cr2 & 7))
		return -1;
	if (pv_copy_from_guest(v, insn, g->rip, sizeof(insn)) < 0 &&
	    pv_copy_from_guest(v, insn, g->rip, 8) < 0)
		return -1;
	if (insn[i] == 0xf0) {
		lock = 1;
		i++;
	}
	if ((insn[i] & 0xf8) == 0x48) {
		rex = insn[i];
		i++;
	}
	if (!(rex & 8))
		return -1; /* 64-bit operands only */
	op = insn[i++];
	if (op == 0x0f) {
		if (insn[i++] != 0xb1)
			return -1;
		op = 0x1b1; /* cmpxchg */
	} else if (op != 0x87 && op != 0x89 && op != 0xc7) {
		return -1;
	}
	n = pv_ptwr_modrm_len(insn + i, (int)sizeof(insn) - i);
	if (n < 0)
		return -1;
	if (op == 0xc7 && ((insn[i] >> 3) & 7) != 0)
		return -1;
	rlen = i + n + (op == 0xc7 ? 4 : 0);
	(void)lock;
	/* The entry: the page under cr2 must be one of the domain's tables. */
	pthread_mutex_lock(&d->mm_lock);
	r = -1;
	if (pv_guest_translate(v, cr2, 0, &gpa) < 0)
		goto out;
	mfn = gpa >> PV_PAGE_SHIFT;
	if (!pv_mm_owns(d, mfn) || !d->pages[mfn].type_count || d->pages[mfn].type < PGT_l1 ||
	    d->pages[mfn].type > PGT_l4)
		goto out;
	level = d->pages[mfn].type;
	old = pv_mm_read_entry(v, gpa);
	if (op == 0xc7) {
		int32_t imm;

		memcpy(&imm, insn + i + n, 4);
		nv = (uint64_t)(int64_t)imm;
	} else {
		nv = *pv_ptwr_reg(g, ((insn[i] >> 3) & 7) | ((rex & 4) ? 8 : 0));
	}
	if (op == 0x1b1 && old != g->rax) {
		/* cmpxchg that fails: nothing written, rax gets the entry */
		g->rax = old;
		g->rflags &= ~RFLAGS_ZF;
		g->rip += rlen;
		r = 0;
		goto out;
	}
	if (pv_mm_update_entry(v, level, gpa, nv, 0) < 0) {
		domain_log(d, "ptwr: write of %#llx to L%d entry %#llx refused",
			   (unsigned long long)nv, level, (unsigned long long)gpa);
		goto out;
	}
	if (op == 0x87)
		*pv_ptwr_reg(g, ((insn[i] >> 3) & 7) | ((rex & 4) ? 8 : 0)) = old;
	if (op == 0x1b1)
		g->rflags |= RFLAGS_ZF;
	g->rip += rlen;
	r = pv_mm_commit(v);
out:
	pthread_mutex_unlock(&d->mm_lock);
	return r < 0 ? -1 : 0;
}
