/*
 * pv-transition: the guest side of tests/bench/transition.  A small PV
 * kernel with a user mode of its own times, with the TSC (scaled with
 * keeld's pvclock parameters), in ns per operation:
 *  floor_ns  a null hypercall through the hypercall page: one ring-3 exit
 *            to keeld and back, keeld doing nothing but dispatch;
 *  sys_ns    a guest user's `syscall` round trip: the bounce to the
 *            kernel's syscall callback, which returns at once with the
 *            iret hypercall (Linux's return path under Xen PV);
 *  hsys_ns   the same null hypercall issued with `syscall`, as Linux and
 *            the iret hypercall do (through the shim's LSTAR stub);
 *  ktrap_ns  a guest kernel's own exception round trip (ud2: the #UD
 *            bounce to its handler and the iret hypercall back), two exits
 *            with no kernel/user switch: what sys_ns costs without one;
 *  pf_ns     a guest user's write to an unmapped page: the #PF bounce to
 *            the kernel's trap-table handler, which maps the page with
 *            update_va_mapping and returns with the iret hypercall; the
 *            user's store then completes.
 * The user loops time themselves (rdtsc in ring 3) and end with a
 * `syscall` with rax = 1, which the callback takes as "phase done".
 */
#include "../../guests/pv_test.h"

#define NSYS   500
#define NPF    256 /* pages faulted in per round */
#define ROUNDS 5
#define NFLOOR 500
#define NKTRAP 250

static char si_page[4096] __attribute__((aligned(4096)));
static char kstack[16384] __attribute__((aligned(16)));
static char ustack[8192] __attribute__((aligned(16)));
char pf_pages[NPF][4096] __attribute__((aligned(4096)));
static struct multicall_entry unmap_calls[NPF];
uint64_t t_begin, t_end, ustack_top;
static uint64_t floor_best = ~0ULL, hsys_best = ~0ULL, ktrap_best = ~0ULL;
static uint64_t sys_best = ~0ULL, pf_best = ~0ULL;
static int phase, round;

void phase_done(void) __attribute__((noreturn, used));
static void next_round(void) __attribute__((noreturn));

/* The user loops and the syscall callback.  The callback's frame is Xen's
 * (rcx, r11, rip, cs, rflags, rsp, ss); it becomes the iret hypercall's
 * (rax, r11, rcx, flags, rip, cs, rflags, rsp, ss) in place. */
__asm__(".text\n"
	".macro TSC_TO dst\n"
	"	lfence\n"
	"	rdtsc\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, \\dst(%rip)\n"
	".endm\n"
	"user_sys:\n"
	"	TSC_TO t_begin\n"
	"	mov $"
	"500"
	", %r12d\n"
	"1:	xor %eax, %eax\n"
	"	syscall\n"
	"	dec %r12\n"
	"	jnz 1b\n"
	"	TSC_TO t_end\n"
	"	mov $1, %eax\n"
	"	syscall\n"
	"2:	jmp 2b\n"
	"user_pf:\n"
	"	TSC_TO t_begin\n"
	"	lea pf_pages(%rip), %rbx\n"
	"	mov $"
	"256"
	", %r12d\n"
	"1:	movq $1, (%rbx)\n"
	"	add $4096, %rbx\n"
	"	dec %r12\n"
	"	jnz 1b\n"
	"	TSC_TO t_end\n"
	"	mov $1, %eax\n"
	"	syscall\n"
	"2:	jmp 2b\n"
	"syscall_cb:\n"
	"	cmp $1, %rax\n"
	"	je 3f\n"
	"	pop %rcx\n"
	"	pop %r11\n"
	"	pushq $0\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	push %rax\n"
	"	mov $23, %eax\n" /* __HYPERVISOR_iret */
	"	syscall\n"
	"3:	call phase_done\n");
extern char user_sys[], user_pf[], syscall_cb[];
_Static_assert(NSYS == 500 && NPF == 256, "the user loops' counts");

/* TSC cycles to ns with the pvclock scale keeld publishes in vcpu_info. */
static uint64_t cycles_to_ns(uint64_t c)
{
	const struct vcpu_time_info *t = &((struct shared_info *)si_page)->vcpu_info[0].time;
	unsigned __int128 v = t->tsc_shift >= 0 ? c << t->tsc_shift : c >> -t->tsc_shift;

	return (uint64_t)((v * t->tsc_to_system_mul) >> 32);
}

static uint64_t pte_of(const void *va)
{
	return (rt_virt_to_pfn(va) << 12) | PVT_PTE_RW;
}

static void ud_handler(struct pvt_frame *f)
{
	f->rip += 2; /* ud2 */
}

/* A user write fault: map the page (Linux's demand fault sets one PTE). */
static void pf_handler(struct pvt_frame *f)
{
	uint64_t va = ((struct shared_info *)si_page)->vcpu_info[0].arch.cr2 & ~0xfffUL;

	(void)f;
	if (va < (uint64_t)pf_pages || va >= (uint64_t)pf_pages + sizeof(pf_pages)) {
		rt_printf("pv-transition: unexpected fault at %p\n", (void *)va);
		rt_shutdown(SHUTDOWN_crash);
	}
	HYPERCALL(__HYPERVISOR_update_va_mapping, va, pte_of((void *)va), 0);
}

/* Unmap the fault pages in one multicall (one exit, outside the timing). */
static void pf_unmap_all(void)
{
	for (int i = 0; i < NPF; i++)
		unmap_calls[i] = (struct multicall_entry){
			.op = __HYPERVISOR_update_va_mapping,
			.args = {(uint64_t)pf_pages[i], 0, i == NPF - 1 ? UVMF_TLB_FLUSH : 0}};
	HYPERCALL(__HYPERVISOR_multicall, unmap_calls, NPF, 0);
}

/* The kernel-side loops: each operation's cycles per iteration. */
static uint64_t time_floor(void)
{
	uint64_t t0 = pvt_rdtsc();

	for (int i = 0; i < NFLOOR; i++)
		hypercall_page_call(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
	return (pvt_rdtsc() - t0) / NFLOOR;
}

static uint64_t time_hsys(void)
{
	uint64_t t0 = pvt_rdtsc();

	for (int i = 0; i < NFLOOR; i++)
		HYPERCALL(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
	return (pvt_rdtsc() - t0) / NFLOOR;
}

static uint64_t time_ktrap(void)
{
	uint64_t t0 = pvt_rdtsc();

	for (int i = 0; i < NKTRAP; i++)
		__asm__ volatile("ud2" ::: "memory");
	return (pvt_rdtsc() - t0) / NKTRAP;
}

static void keep_min(uint64_t *best, uint64_t v)
{
	if (v < *best)
		*best = v;
}

/*
 * On the kernel stack after a user loop: keep its time, go on.  Each of
 * ROUNDS rounds times the floor, hsys and ktrap loops, then the user's
 * syscall loop, then its fault loop, so that every figure samples the
 * machine's load at the same moments; the best of each is reported.
 */
void phase_done(void)
{
	uint64_t t = t_end - t_begin;

	if (phase == 1) { /* the syscall loop ended */
		keep_min(&sys_best, t / NSYS);
		phase = 2;
		pf_unmap_all();
		pvt_enter_user((uint64_t)user_pf, ustack_top, 0x202);
	}
	/* the fault loop ended */
	keep_min(&pf_best, t / NPF);
	for (int i = 0; i < NPF; i++)
		if (*(volatile uint64_t *)pf_pages[i] != 1) {
			rt_printf("pv-transition: page %d not written\n", i);
			rt_shutdown(SHUTDOWN_crash);
		}
	next_round();
}

static void next_round(void)
{
	if (round++ < ROUNDS) {
		keep_min(&floor_best, time_floor());
		keep_min(&hsys_best, time_hsys());
		keep_min(&ktrap_best, time_ktrap());
		phase = 1;
		pvt_enter_user((uint64_t)user_sys, ustack_top, 0x202);
	}
	rt_printf("floor_ns=%lu\n", cycles_to_ns(floor_best));
	rt_printf("hsys_ns=%lu\n", cycles_to_ns(hsys_best));
	rt_printf("ktrap_ns=%lu\n", cycles_to_ns(ktrap_best));
	rt_printf("sys_ns=%lu\n", cycles_to_ns(sys_best));
	rt_printf("pf_ns=%lu\n", cycles_to_ns(pf_best));
	rt_printf("per round: floor %d hsys %d ktrap %d sys %d pf %d; %d rounds\n", NFLOOR, NFLOOR,
		  NKTRAP, NSYS, NPF, ROUNDS);
	rt_test_done();
	__builtin_unreachable();
}

void test_main(void)
{
	static const struct pvt_trap traps[] = {{14, 0, pf_handler}, {6, 0, ud_handler}};
	uint64_t ul4 = rt_start_info->nr_pages - 4;
	long r;

	r = pvt_uvm(si_page, rt_start_info->shared_info | PVT_PTE_RW);
	rt_check(r == 0, "map shared_info", r);
	r = pvt_traps_install(traps, 2);
	rt_check(r == 0, "set_trap_table", r);
	r = pvt_user_setup(ul4, kstack + sizeof(kstack), syscall_cb);
	rt_check(r == 0, "user mode set up", r);
	ustack_top = (uint64_t)ustack + sizeof(ustack) - 64;
	next_round();
}
