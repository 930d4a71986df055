/*
 * pv-abi-traps: Xen's x86_64 PV trap ABI at its corners (issue 12).
 *
 * Software interrupts: `int $n` reaches the trap table's handler when the
 * entry's DPL admits the caller (guest kernel as ring 1, guest user as
 * ring 3), with the return address after the instruction and no error
 * code; otherwise a #GP with error code (n << 3) | 2 at the instruction.
 * int3 and `int $3` are #BP whatever the entry's DPL; `into` is #UD (it
 * does not exist in 64-bit mode).  Page faults carry the U bit only when
 * taken in guest user mode, and never the host's reserved-bit code.  The
 * M2P is readable at Xen's fixed MACH2PHYS_VIRT_START, with the load
 * forms a guest uses for a lookup, from kernel and user mode.
 */
#include "pv_test.h"

#define VIRT_BASE RT_VIRT_BASE
#define M2P_ABI	  0xffff800000000000UL /* MACH2PHYS_VIRT_START */

/* The last traps taken: vector, error code (-1: none), frame rip. */
uint64_t ntraps, skip_at, skip_to, tvec[16], terr[16], trip[16];

/* Every handler logs the trap; a frame rip at skip_at (the probe's
 * instruction: it faulted) resumes at skip_to, so a probe that faults where
 * it should trap is reported and the test carries on. */
static void trap_log(struct pvt_frame *f)
{
	uint64_t i = ntraps & 15;

	tvec[i] = f->vector;
	terr[i] = f->error;
	trip[i] = f->rip;
	if (f->rip == skip_at)
		f->rip = skip_to;
	skip_at = 0;
	ntraps++;
}

/* Probes: each a function with labels at its instruction (…_at) and
 * after it (…_end); the M2P loads take the frame in rdi and return what
 * they read (-1 first). */
#define PROBE(name, pre, insn, post)                     \
	__asm__(".text\n" #name ":\n"                    \
		"	lea " #name "_at(%rip), %rax\n"  \
		"	mov %rax, skip_at(%rip)\n"             \
		"	lea " #name "_end(%rip), %rax\n" \
		"	mov %rax, skip_to(%rip)\n"             \
		"	" pre "\n" #name "_at:\n"        \
		"	" insn "\n" #name "_end:\n"      \
		"	movq $0, skip_at(%rip)\n"              \
		"	" post "\n"                      \
		"	ret\n");                         \
	extern char name##_at[], name##_end[]

#define KPROBE(name, insn)         \
	PROBE(name, "", insn, ""); \
	extern void name(uint64_t addr)

KPROBE(k_int40, "int $0x40");
KPROBE(k_int41, "int $0x41");
KPROBE(k_int42, "int $0x42");
KPROBE(k_int80, "int $0x80");
KPROBE(k_int3, "int3");
KPROBE(k_int_3, ".byte 0xcd, 0x03");
KPROBE(k_into, ".byte 0xce");
KPROBE(k_prefixed, ".byte 0x66, 0xcd, 0x40");
KPROBE(k_read, "mov (%rdi), %rax");
KPROBE(k_write, "mov %rax, (%rdi)");
KPROBE(k_add, "add (%rdi), %rax"); /* a read form keeld does not emulate */

#define M2P_PRE "mov $-1, %rax; mov $-1, %r9; movabs $0xffff800000000000, %rcx"
#define M2P_LOAD(name, insn, post)        \
	PROBE(name, M2P_PRE, insn, post); \
	extern uint64_t name(uint64_t frame)

M2P_LOAD(m2p_q, "mov (%rcx,%rdi,8), %rax", "");
M2P_LOAD(m2p_l, "mov (%rcx,%rdi,8), %eax", "");
M2P_LOAD(m2p_r9d, "mov (%rcx,%rdi,8), %r9d", "mov %r9, %rax");
M2P_LOAD(m2p_r9, "mov (%rcx,%rdi,8), %r9", "mov %r9, %rax");
M2P_LOAD(m2p_zb, "movzbl (%rcx,%rdi,8), %eax", "");
M2P_LOAD(m2p_zw, "movzwl (%rcx,%rdi,8), %eax", "");
M2P_LOAD(m2p_sl, "movslq (%rcx,%rdi,8), %rax", "");
M2P_LOAD(m2p_hi, "mov 4(%rcx,%rdi,8), %eax", "");
PROBE(m2p_disp, M2P_PRE "; mov $-1, %rdx; lea -0x10(%rcx,%rdi,8), %rcx", "mov 0x10(%rcx), %rdx",
      "mov %rdx, %rax");
extern uint64_t m2p_disp(uint64_t frame);

static char scratch[4096] __attribute__((aligned(4096)));
static char kstack[8192] __attribute__((aligned(16)));
static char ustack[8192] __attribute__((aligned(16)));
uint64_t ustack_top, user_done, user_m2p;
uint64_t u_int80_at, u_int80_end, u_int40_at, u_int40_end, u_int41_at, u_int41_end;
uint64_t u_int3_at, u_int3_end, u_read_at, u_read_end, u_write_at, u_write_end;
uint64_t u_m2p_at, u_m2p_end;

/*
 * User mode: the same probes (each storing its labels for the kernel to
 * compare with the frames' rips), then `syscall` to the kernel's callback.
 */
void after_user(void) __attribute__((noreturn, used));
__asm__(".text\n"
	".macro UPROBE tag, insn\n"
	"	lea 1f(%rip), %rax\n"
	"	mov %rax, u_\\tag\\()_at(%rip)\n"
	"	mov %rax, skip_at(%rip)\n"
	"	lea 2f(%rip), %rax\n"
	"	mov %rax, u_\\tag\\()_end(%rip)\n"
	"	mov %rax, skip_to(%rip)\n"
	"	mov $-1, %rax\n"
	"1:	\\insn\n"
	"2:	movq $0, skip_at(%rip)\n"
	".endm\n"
	"user_entry:\n"
	"	UPROBE int80, \"int $0x80\"\n"
	"	UPROBE int40, \"int $0x40\"\n"
	"	UPROBE int41, \"int $0x41\"\n"
	"	UPROBE int3, \"int3\"\n"
	"	mov $0x100000, %rdi\n"
	"	UPROBE read, \"mov (%rdi), %rax\"\n"
	"	UPROBE write, \"mov %rax, (%rdi)\"\n"
	"	movabs $0xffff800000000000, %rcx\n"
	"	mov user_m2p(%rip), %rdi\n"
	"	UPROBE m2p, \"mov (%rcx,%rdi,8), %rax\"\n"
	"	mov %rax, user_m2p(%rip)\n"
	"	incq user_done(%rip)\n"
	"	mov $99, %eax\n"
	"	syscall\n"
	"1:	jmp 1b\n"
	"syscall_cb:\n"
	"	call after_user\n");
extern char user_entry[], syscall_cb[];

static uint64_t traps_before;

/* The one trap taken since the mark, or a failed check. */
static int took(const char *what, uint64_t vec, uint64_t err, uint64_t rip)
{
	uint64_t i = (ntraps - 1) & 15;
	int ok = ntraps == traps_before + 1 && tvec[i] == vec && terr[i] == err && trip[i] == rip;

	if (!ok)
		rt_printf(
			"  %s: %lu trap(s); last vector 0x%lx error 0x%lx rip 0x%lx (want 0x%lx 0x%lx "
			"0x%lx)\n",
			what, (unsigned long)(ntraps - traps_before), (unsigned long)tvec[i],
			(unsigned long)terr[i], (unsigned long)trip[i], (unsigned long)vec,
			(unsigned long)err, (unsigned long)rip);
	traps_before = ntraps;
	return ok;
}

static void mark(void)
{
	traps_before = ntraps;
}

static void kernel_checks(void)
{
	uint64_t own = ((uint64_t)scratch - VIRT_BASE) >> 12, v;
	struct xen_machphys_mapping mm;
	struct mmu_update u;
	long r;

	/* Software interrupts from the guest kernel (ring 1 to the ABI). */
	mark();
	k_int40(0);
	rt_check(took("int40", 0x40, -1UL, (uint64_t)k_int40_end),
		 "kernel int $0x40 (DPL 1): handler, rip after, no error code", 0);
	k_int80(0);
	rt_check(took("int80", 0x80, -1UL, (uint64_t)k_int80_end),
		 "kernel int $0x80 (DPL 3): handler", 0);
	k_prefixed(0);
	rt_check(took("prefixed", 0x40, -1UL, (uint64_t)k_prefixed_end),
		 "kernel 66 cd 40: rip after the whole instruction", 0);
	k_int41(0);
	rt_check(took("int41", 13, (0x41 << 3) | 2, (uint64_t)k_int41_at),
		 "REFUSED: kernel int $0x41 (DPL 0): #GP (0x41 << 3) | 2 at the int", 0);
	k_int42(0);
	rt_check(took("int42", 13, (0x42 << 3) | 2, (uint64_t)k_int42_at),
		 "REFUSED: kernel int $0x42 (no entry): #GP (0x42 << 3) | 2", 0);
	k_int3(0);
	rt_check(took("int3", 3, -1UL, (uint64_t)k_int3_end),
		 "kernel int3: #BP, rip after (DPL 0 not checked)", 0);
	k_int_3(0);
	rt_check(took("int $3", 3, -1UL, (uint64_t)k_int_3_end), "kernel int $3: #BP, rip after",
		 0);
	k_into(0);
	rt_check(took("into", 6, -1UL, (uint64_t)k_into_at),
		 "kernel into: #UD at it (invalid in 64-bit mode)", 0);

	/* Page faults in kernel mode: no U bit. */
	k_read(0xffffffff90000000UL);
	rt_check(took("kread", 14, 0, (uint64_t)k_read_at),
		 "kernel read fault: error code 0 (not present, U clear)", 0);
	k_write(0xffffffff90000000UL);
	rt_check(took("kwrite", 14, 2, (uint64_t)k_write_at),
		 "kernel write fault: error code 2 (W, U clear)", 0);
	k_read(0xffff808000000000UL);
	rt_check(took("kread257", 14, 0, (uint64_t)k_read_at),
		 "kernel read of unmapped hole slot 257: error code 0 (no RSVD)", 0);
	k_read(0xffff800000000000UL + (64UL << 30));
	rt_check(took("kread256", 14, 0, (uint64_t)k_read_at),
		 "kernel read past the M2P in slot 256: not present, no RSVD", 0);
	/* A write to the read-only M2P at Xen's address: present, W, no U
	 * (the host answers repeated faults at the base of slot 256 with a
	 * reserved-bit code, 0xd/0xf, which must never reach the guest). */
	for (int n = 0; n < 6; n++) {
		k_write(M2P_ABI + 0x108);
		rt_check(took("m2p write", 14, 3, (uint64_t)k_write_at),
			 "kernel write to the M2P at Xen's address: error code 3, never RSVD", n);
	}
	k_read(0x200000UL);
	rt_check(took("kreadlow", 14, 0, (uint64_t)k_read_at),
		 "kernel read of unmapped low address: error code 0", 0);

	/* The M2P at Xen's fixed address, beside the one the guest is told of. */
	r = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_machphys_mapping, &mm, 0);
	rt_check(r == 0 && mm.v_start != M2P_ABI, "machphys_mapping still reports Keel's place",
		 (long)mm.v_start);
	mark();
	v = m2p_q(own);
	rt_check(v == own && ntraps == traps_before, "M2P at 0xffff800000000000: mov m64, r64",
		 (long)v);
	v = m2p_l(own);
	rt_check(v == own, "mov m32, r32 (zero-extends)", (long)v);
	v = m2p_r9d(own);
	rt_check(v == own, "mov m32, r9d (REX.R)", (long)v);
	v = m2p_r9(own);
	rt_check(v == own, "mov m64, r9", (long)v);
	v = m2p_zb(own);
	rt_check(v == (own & 0xff), "movzbl", (long)v);
	v = m2p_zw(own);
	rt_check(v == (own & 0xffff), "movzwl", (long)v);
	v = m2p_sl(own);
	rt_check(v == own, "movslq", (long)v);
	v = m2p_hi(own);
	rt_check(v == 0, "mov 4(...), eax: the entry's high half", (long)v);
	v = m2p_disp(own);
	rt_check(v == own, "mov 0x0(reg), r64", (long)v);
	rt_check(ntraps == traps_before, "no trap reached the guest for M2P reads",
		 (long)(ntraps - traps_before));
	u.ptr = (own << 12) | MMU_MACHPHYS_UPDATE;
	u.val = 4321;
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	v = m2p_q(own);
	rt_check(r == 0 && v == 4321, "MMU_MACHPHYS_UPDATE seen at Xen's address", (long)v);
	u.val = own;
	hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	/* A read keeld does not emulate, at the base of slot 256: the host
	 * answers repeated faults there with RSVD|P (0xd), after
	 * the M2P reads above; the guest gets a
	 * plain protection fault on a present page, never RSVD or U. */
	for (int n = 0; n < 8; n++) {
		k_add(M2P_ABI + 0x108);
		rt_check(took("m2p add", 14, 1, (uint64_t)k_add_at),
			 "unemulated read at Xen's M2P: error code 1, never RSVD", n);
	}
	/* Past the M2P's last page nothing is mapped, as past Xen's: a
	 * not-present fault at the load (Linux's lookups expect to catch it). */
	mark();
	v = m2p_q((mm.max_mfn + 512) & ~511UL);
	rt_check(took("m2p past", 14, 0, (uint64_t)m2p_q_at),
		 "M2P read past its last page: #PF, not present", (long)v);
}

void after_user(void)
{
	uint64_t own = ((uint64_t)scratch - VIRT_BASE) >> 12;
	uint64_t i, base = traps_before;

	rt_check(user_done == 1, "user mode ran its probes", user_done);
	/* traps in order: int80, #GP, #GP, #BP, #PF, #PF */
	i = base & 15;
	rt_check(ntraps - base == 6, "six traps from user mode", (long)(ntraps - base));
	for (i = base; i < ntraps; i++)
		rt_printf("  user trap 0x%lx error 0x%lx rip 0x%lx\n", (unsigned long)tvec[i & 15],
			  (unsigned long)terr[i & 15], (unsigned long)trip[i & 15]);
	i = base & 15;
	rt_check(tvec[i] == 0x80 && terr[i] == -1UL && trip[i] == u_int80_end,
		 "user int $0x80 (DPL 3): handler, rip after", (long)trip[i]);
	i = (i + 1) & 15;
	rt_check(tvec[i] == 13 && terr[i] == ((0x40 << 3) | 2) && trip[i] == u_int40_at,
		 "REFUSED: user int $0x40 (DPL 1): #GP (0x40 << 3) | 2 at the int", (long)terr[i]);
	i = (i + 1) & 15;
	rt_check(tvec[i] == 13 && terr[i] == ((0x41 << 3) | 2) && trip[i] == u_int41_at,
		 "REFUSED: user int $0x41 (DPL 0): #GP (0x41 << 3) | 2", (long)terr[i]);
	i = (i + 1) & 15;
	rt_check(tvec[i] == 3 && terr[i] == -1UL && trip[i] == u_int3_end,
		 "user int3: #BP, rip after", (long)trip[i]);
	i = (i + 1) & 15;
	rt_check(tvec[i] == 14 && terr[i] == 4 && trip[i] == u_read_at,
		 "user read fault: error code 4 (U)", (long)terr[i]);
	i = (i + 1) & 15;
	rt_check(tvec[i] == 14 && terr[i] == 6 && trip[i] == u_write_at,
		 "user write fault: error code 6 (U|W)", (long)terr[i]);
	rt_check(user_m2p == own, "user mode reads the M2P at Xen's address", (long)user_m2p);
	rt_test_done();
}

static void user_checks(void)
{
	uint64_t own = ((uint64_t)scratch - VIRT_BASE) >> 12, ul4 = rt_start_info->nr_pages - 4;
	long r;

	r = pvt_user_setup(ul4, kstack + sizeof(kstack), syscall_cb);
	rt_check(r == 0, "user mode set up (user L4, kernel stack, syscall callback)", r);
	user_m2p = own;
	traps_before = ntraps;
	ustack_top = (uint64_t)ustack + sizeof(ustack) - 64;
	pvt_enter_user((uint64_t)user_entry, ustack_top, 0x202);
}

void test_main(void)
{
	static const struct pvt_trap traps[] = {
		{3, 0, trap_log},  {4, 0, trap_log},	{6, 0, trap_log},    {13, 0, trap_log},
		{14, 0, trap_log}, {0x40, 1, trap_log}, {0x41, 0, trap_log}, {0x80, 3, trap_log},
	};
	long r;

	r = pvt_traps_install(traps, sizeof(traps) / sizeof(traps[0]));
	rt_check(r == 0, "set_trap_table", r);
	kernel_checks();
	user_checks();
}
