/*
 * The privileged instructions a PV kernel still executes and Xen emulates
 * for it (they #GP in ring 3 and reach keeld as an exception): MSR reads
 * and writes of the segment bases and a few harmless MSRs, CR reads and the
 * CR0.TS / CR3 / CR4 writes, debug-register moves, port I/O and cli/sti
 * when the virtual IOPL allows them (from guest user mode too), hlt,
 * wbinvd.  Anything else is bounced to the guest as the #GP it is (or the
 * #UD Xen raises for a debug register that does not exist).  Dispatched
 * through a table keyed by opcode.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "abi/xen.h"
#include "pv_mm.h"
#include "pv_vcpu.h"
#include "pv_xstate.h"

struct pv_insn {
	uint8_t bytes[16];
	int len; /* bytes fetched */
	int rex; /* REX prefix or 0 */
	int op;	 /* index of the opcode byte after prefixes */
};

/* A handler's answer besides "done, n bytes" and -1 (#GP): raise #UD. */
#define PV_EMUL_UD (-2)

static __u64 *pv_reg(struct kvm_regs *r, int n)
{
	__u64 *map[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
			  &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};

	return map[n & 15];
}

static int pv_rdmsr_value(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case 0xc0000080: /* EFER: what a 64-bit kernel expects */
		*val = (1 << 0) | (1 << 8) | (1 << 10) | (1 << 11);
		return 0;
	case 0xc0000100:
		*val = v->pv->fs_base;
		return 0;
	case 0xc0000101:
		*val = v->pv->kernel_mode ? v->pv->gs_base_kernel : v->pv->gs_base_user;
		return 0;
	case 0xc0000102:
		*val = v->pv->kernel_mode ? v->pv->gs_base_user : v->pv->gs_base_kernel;
		return 0;
	case 0x1a0: /* IA32_MISC_ENABLE: fast strings */
		*val = 1;
		return 0;
	case 0x8b: /* IA32_UCODE_REV (AMD: PATCHLEVEL): no microcode to report */
		*val = 0;
		return 0;
	default:
		return -1;
	}
}

/*
 * MSRs every x86-64 host has, for Xen's "faking RDMSR": a read of an MSR
 * Xen does not emulate is a #GP, unless the guest has no #GP handler yet,
 * the MSR is not in the hypervisor range (0x4000xxxx) and the host's own
 * rdmsr of it succeeds; then it reads 0, so that an early, unguarded read
 * does not kill the domain.  keeld cannot try the host's rdmsr, so the
 * "host has it" part is this list.
 */
static const uint32_t pv_host_msrs[] = {
	0x1d9, /* IA32_DEBUGCTL */
};

static int pv_rdmsr_fake_zero(struct vcpu *v, uint32_t msr)
{
	if (v->pv->traps[13].address || (msr >> 16) == 0x4000)
		return 0;
	for (size_t i = 0; i < sizeof(pv_host_msrs) / sizeof(pv_host_msrs[0]); i++)
		if (pv_host_msrs[i] == msr)
			return 1;
	return 0;
}

static int pv_op_rdmsr(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	uint64_t val;

	if (pv_rdmsr_value(v, (uint32_t)r->rcx, &val) < 0) {
		if (!pv_rdmsr_fake_zero(v, (uint32_t)r->rcx))
			return -1;
		val = 0;
	}
	r->rax = (uint32_t)val;
	r->rdx = val >> 32;
	return 2;
}

static int pv_op_wrmsr(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	uint64_t val = (r->rdx << 32) | (uint32_t)r->rax;

	/* Intel's "write 0, CPUID 1, read" for the microcode revision, as Xen
	 * allows it; Linux's early_init_intel does it unguarded at boot. */
	if ((uint32_t)r->rcx == 0x8b && val == 0)
		return 2;
	/* A non-canonical segment base is the #GP the real wrmsr raises, and
	 * Xen's; set_segment_base refuses it too.  It must never reach the
	 * vCPU's FS/GS state: loaded there it breaks the VM itself (seen in a
	 * test run: afterwards ring-3 mov to %dr7 no longer trapped to keeld). */
	if ((uint32_t)r->rcx >= 0xc0000100 && (uint32_t)r->rcx <= 0xc0000102 &&
	    !pv_is_canonical(val))
		return -1;
	switch ((uint32_t)r->rcx) {
	case 0xc0000100:
		v->pv->fs_base = val;
		break;
	case 0xc0000101:
		if (v->pv->kernel_mode)
			v->pv->gs_base_kernel = val;
		else
			v->pv->gs_base_user = val;
		break;
	case 0xc0000102:
		if (v->pv->kernel_mode)
			v->pv->gs_base_user = val;
		else
			v->pv->gs_base_kernel = val;
		break;
	default:
		return -1;
	}
	if (pv_vcpu_load_cr3(v) < 0)
		return -1;
	return 2;
}

static int pv_op_mov_from_cr(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	uint8_t modrm = in->bytes[in->op + 2];
	int cr = ((modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
	int reg = (modrm & 7) | ((in->rex & 1) ? 8 : 0);
	uint64_t val;

	if ((modrm >> 6) != 3)
		return -1;
	switch (cr) {
	case 0:
		val = 0x80050033ULL | (v->pv->fpu_ts ? 8 : 0);
		break;
	case 2:
		val = vcpu_info(v)->arch.cr2;
		break;
	case 3:
		val = v->pv->kernel_mode ? v->pv->kernel_cr3 : v->pv->user_cr3;
		break;
	case 4:
		val = (1 << 5) | (1 << 7) | (1 << 9) | (1 << 10) |
		      (v->pv->cr4_osxsave ? PV_CR4_OSXSAVE : 0);
		break;
	default:
		return -1;
	}
	*pv_reg(r, reg) = val;
	return 3;
}

static int pv_op_mov_to_cr(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	uint8_t modrm = in->bytes[in->op + 2];
	int cr = ((modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
	uint64_t val = *pv_reg(r, (modrm & 7) | ((in->rex & 1) ? 8 : 0));

	if ((modrm >> 6) != 3)
		return -1;
	switch (cr) {
	case 0:
		v->pv->fpu_ts = (val & 8) != 0;
		return 3;
	case 4:
		/* the shim owns CR4; of a guest's write only OSXSAVE is kept */
		pv_xstate_cr4_write(v, val);
		return 3;
	default:
		return -1;
	}
}

/* mov %drN, reg (0f 21) and mov reg, %drN (0f 23): the mod field is ignored,
 * as the CPU does; REX.R names DR8-DR15, which do not exist (#UD). */
static int pv_op_mov_dr(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	uint8_t modrm = in->bytes[in->op + 2];
	unsigned dr = ((modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
	__u64 *reg = pv_reg(r, (modrm & 7) | ((in->rex & 1) ? 8 : 0));
	uint64_t val;
	long rc;

	if (in->bytes[in->op + 1] == 0x21) {
		rc = pv_get_debugreg(v, dr, &val);
		if (rc == 0)
			*reg = val;
	} else {
		rc = pv_set_debugreg(v, dr, *reg);
	}
	if (rc == -XEN_ENODEV)
		return PV_EMUL_UD;
	return rc < 0 ? -1 : 3;
}

static int pv_op_wbinvd(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	return 2;
}

static int pv_op_hlt(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	return 1; /* no event sources yet: like SCHEDOP_block, it returns */
}

/*
 * Xen's iopl_ok: does the virtual IOPL admit the guest's ring?  The guest
 * kernel counts as ring 1 (ring 0 under VMASST_TYPE_architectural_iopl,
 * where any IOPL admits it), guest user mode as ring 3.
 */
static int pv_iopl_ok(struct vcpu *v)
{
	unsigned cpl = 1;

	if (!v->pv->kernel_mode)
		cpl = 3;
	else if (v->dom->pv->vm_assist & (1ULL << VMASST_TYPE_architectural_iopl))
		cpl = 0;
	return v->pv->iopl >= cpl;
}

/*
 * One port access of a domain granted no I/O ports (every Keel domain),
 * byte by byte as Xen's guest_io_read / guest_io_write: the RTC index
 * (0x70) and a dword CONFIG_ADDRESS (0xcf8) are latched per domain and
 * read back; anything else reads all ones and writes go nowhere (Xen
 * would hand 0x42/0x43/0x61 to a PIT emulation, which keeld has none of).
 */
static uint32_t pv_io_access(struct domain *d, unsigned port, int size, int write, uint32_t val)
{
	uint32_t data = 0;
	int shift = 0;

	if (port == 0xcf8 && size == 4) {
		if (write)
			d->pv->pci_cf8 = val;
		return d->pv->pci_cf8;
	}
	for (; size; size--, port = (port + 1) & 0xffff, shift += 8) {
		uint32_t b = 0xff;

		if (port == 0x70) {
			if (write)
				d->pv->cmos_idx = (uint8_t)(val >> shift);
			b = d->pv->cmos_idx;
		}
		data |= b << shift;
	}
	return data;
}

/* in / out (imm8 or dx port; byte, word with 0x66, dword) when the
 * virtual IOPL allows it; else the #GP the guest took stands. */
static int pv_op_io(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	uint8_t op = in->bytes[in->op];
	int imm = (op & 0xf8) == 0xe0, size = (op & 1) ? 4 : 1;
	unsigned port = imm ? in->bytes[in->op + 1] : (unsigned)(r->rdx & 0xffff);
	uint32_t val;

	if (!pv_iopl_ok(v))
		return -1;
	if (in->op && in->bytes[0] == 0x66 && size == 4)
		size = 2;
	if (op & 2) {
		pv_io_access(v->dom, port, size, 1, (uint32_t)r->rax);
	} else {
		uint64_t mask = size == 4 ? 0xffffffffULL : size == 2 ? 0xffff : 0xff;

		val = pv_io_access(v->dom, port, size, 0, 0);
		/* A 32-bit in zero-extends into rax, as on hardware. */
		r->rax = size == 4 ? val : (r->rax & ~mask) | (val & mask);
	}
	return imm ? 2 : 1;
}

/* What a PV guest may see of the CPU, as Xen's PV CPUID policy has it: no
 * superpages (PSE, 1 GiB pages), no machine checks, no features the guest cannot use from
 * ring 3 or that need state the shim does not manage (VMX, PCID, SMEP/SMAP, FSGSBASE,
 * x2APIC, MTRR, monitor; the vector units as pv_xstate.c offers them), and the
 * hypervisor bit set.  The on-chip APIC bit stays, as Xen leaves it to PV guests: Linux
 * keeps its "Xen PV" APIC driver only while it sees one (without it, it falls back to the
 * no-op driver, and every secondary vCPU reports "[Firmware Bug]: APIC id mismatch").
 * The initial APIC ID is 0 on every vCPU and the topology leaf is empty, as Xen's PV
 * policy has them (not the APIC ID of whichever host CPU the vCPU's thread is on). */
static void pv_cpuid_policy(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
			    uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
	switch (leaf) {
	case 1:
		*b &= 0x00ffffffu;
		*c &= ~((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
			(1u << 15) | (1u << 17) | (1u << 21) | (1u << 24));
		*c |= 1u << 31;
		*d &= ~((1u << 1) | (1u << 2) | (1u << 3) | (1u << 7) | (1u << 12) | (1u << 14) |
			(1u << 17) | (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31));
		pv_xstate_cpuid_leaf1(v, v->pv->kernel_mode, c);
		break;
	case 5:
	case 6:
	case 0xb:
		*a = *b = *c = *d = 0;
		break;
	case 0xd:
		pv_xstate_cpuid_leafd(v, sub, a, b, c, d);
		break;
	case 7:
		if (sub == 0) {
			*b &= (1u << 3) | (1u << 8) | (1u << 9) | (1u << 18) | (1u << 19) |
			      (1u << 23) | (1u << 29);
			*c = 0;
			*d &= (1u << 26) | (1u << 27) | (1u << 29);
		} else {
			*a = *b = *c = *d = 0;
		}
		if (sub <= 1)
			pv_xstate_cpuid_leaf7(sub, a, b, c, d);
		break;
	case 0x16:
		/* Processor base frequency: the TSC's, when the host leaves the leaf
		 * empty.  Linux's early cpu_khz comes from here (Intel), else from a
		 * PIT calibration whose 100,000 port reads are an exit each here:
		 * ~5 s and "tsc: Fast TSC calibration failed" before the first
		 * timestamp.  Xen passes the host's leaf; its port reads cost ~1 us. */
		if (*a == 0)
			*a = (uint32_t)(pv_time_tsc_khz(v) / 1000);
		break;
	case 0x80000001:
		*c &= ~(1u << 2);
		*d &= ~((1u << 26) |
			(1u << 27)); /* no 1 GiB pages; no rdtscp (see pv_cpuid_policy) */
		break;
	default:
		break;
	}
}

/* Xen's own leaves at 0x40000000 (cpuid_hypervisor_leaves): the signature,
 * the version, the hypercall page, and the time leaf (+3): subleaf 0 the
 * TSC mode (0: native) and the TSC frequency in kHz, subleaf 1 the
 * vcpu_time_info scale (offset, mul, shift), subleaf 2 the host TSC kHz. */
static void pv_cpuid_xen_leaves(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t *a,
				uint32_t *b, uint32_t *c, uint32_t *d)
{
	*a = *b = *c = *d = 0;
	switch (leaf - 0x40000000) {
	case 0:
		*a = 0x40000003;
		memcpy(b, "XenV", 4);
		memcpy(c, "MMXe", 4);
		memcpy(d, "nVMM", 4);
		break;
	case 1:
		*a = (4 << 16) | 17; /* the Xen version keeld reports */
		break;
	case 2:
		*a = 1;		 /* one hypercall page */
		*b = 0x40000000; /* its MSR */
		break;
	case 3:
		pv_time_cpuid_leaf(v, sub, a, b, c, d);
		break;
	default:
		break;
	}
}

/* CPUID behind Xen's forced-emulation prefix (ud2; .ascii "xen"; cpuid),
 * which reaches keeld as a #UD. */
int pv_emulate_cpuid(struct vcpu *v, struct kvm_regs *regs, uint64_t rip)
{
	static const uint8_t sig[] = {0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2};
	uint8_t insn[7];
	uint32_t leaf = regs->rax, a = 0, b = 0, c = 0, d = 0;

	if (pv_copy_from_guest(v, insn, rip, sizeof(insn)) < 0 || memcmp(insn, sig, 7))
		return -1;
	if (leaf >= 0x40000000 && leaf < 0x40010000)
		pv_cpuid_xen_leaves(v, leaf, (uint32_t)regs->rcx, &a, &b, &c, &d);
	else
		pv_cpuid_policy(v, leaf, (uint32_t)regs->rcx, &a, &b, &c, &d);
	regs->rax = a;
	regs->rbx = b;
	regs->rcx = c;
	regs->rdx = d;
	regs->rip = rip + 7;
	return 0;
}

/* xsetbv (0f 01 d1): the guest kernel's XCR0 (pv_xstate.c); the rest of
 * group 7 stays the #GP it is. */
static int pv_op_xsetbv(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	int e;

	if (in->bytes[in->op + 2] != 0xd1)
		return -1;
	e = pv_xstate_xsetbv(v, (uint32_t)r->rcx, (r->rdx << 32) | (uint32_t)r->rax);
	return e == PV_XSETBV_UD ? PV_EMUL_UD : e < 0 ? -1 : 3;
}

/* cli/sti when the virtual IOPL allows them: Xen lets them through and
 * does nothing (it deliberately leaves the event mask alone: a later popf
 * could not undo it); otherwise the #GP stands. */
static int pv_op_cli_sti(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in)
{
	return pv_iopl_ok(v) ? 1 : -1;
}

struct pv_emul_op {
	uint8_t op0, op1; /* op1 only when op0 == 0x0f */
	int (*fn)(struct vcpu *v, struct kvm_regs *r, struct pv_insn *in);
};

static const struct pv_emul_op pv_emul_table[] = {
	{0x0f, 0x32, pv_op_rdmsr},     {0x0f, 0x30, pv_op_wrmsr},  {0x0f, 0x20, pv_op_mov_from_cr},
	{0x0f, 0x22, pv_op_mov_to_cr}, {0x0f, 0x21, pv_op_mov_dr}, {0x0f, 0x23, pv_op_mov_dr},
	{0x0f, 0x09, pv_op_wbinvd},    {0xf4, 0, pv_op_hlt},	   {0xfa, 0, pv_op_cli_sti},
	{0xfb, 0, pv_op_cli_sti},      {0xe4, 0, pv_op_io},	   {0xe5, 0, pv_op_io},
	{0xe6, 0, pv_op_io},	       {0xe7, 0, pv_op_io},	   {0xec, 0, pv_op_io},
	{0xed, 0, pv_op_io},	       {0xee, 0, pv_op_io},	   {0xef, 0, pv_op_io},
	{0x0f, 0x01, pv_op_xsetbv},
};

/* Emulate the instruction at rip if it is one Xen emulates; 0 if done
 * (registers updated, rip advanced), -1 to bounce the #GP to the guest, or
 * 6 to raise #UD instead (rip left at the instruction). */
int pv_emulate_privileged(struct vcpu *v, struct kvm_regs *r, uint64_t rip)
{
	struct pv_insn in = {.len = 16};
	int n;

	if (pv_copy_from_guest(v, in.bytes, rip, 16) < 0) {
		/* The instruction may end near a page end: try less. */
		in.len = 4;
		if (pv_copy_from_guest(v, in.bytes, rip, 4) < 0)
			return -1;
	}
	if (in.bytes[in.op] == 0x66)
		in.op++;
	if ((in.bytes[in.op] & 0xf0) == 0x40) {
		in.rex = in.bytes[in.op];
		in.op++;
	}
	if (in.op + 3 > in.len)
		return -1;
	for (size_t i = 0; i < sizeof(pv_emul_table) / sizeof(pv_emul_table[0]); i++) {
		const struct pv_emul_op *e = &pv_emul_table[i];

		if (in.bytes[in.op] != e->op0 || (e->op0 == 0x0f && in.bytes[in.op + 1] != e->op1))
			continue;
		/* From user mode only what the virtual IOPL may admit (the
		 * handler checks it); the rest stays the guest's #GP. */
		if (!v->pv->kernel_mode && e->fn != pv_op_io && e->fn != pv_op_cli_sti)
			return -1;
		n = e->fn(v, r, &in);
		if (n == PV_EMUL_UD)
			return 6;
		if (n < 0)
			return -1;
		r->rip = rip + in.op + n;
		return 0;
	}
	return -1;
}
