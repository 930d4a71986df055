/*
 * pv-debugreg: #DB reaches a PV guest as on Xen 4.17.  A single step (TF)
 * raises #DB at trap-table entry 1 after the stepped instruction with BS
 * in the guest's DR6, added to what the guest left there.  The debug
 * registers it sets take effect: an execute breakpoint on a function
 * (armed with set_debugreg) and a write watchpoint on a variable (armed
 * with `mov %drN`) raise #DB at the function's first instruction and after
 * the writing one, with B0 and B1 in DR6; a read does not fire the write
 * watchpoint, and with DR7 cleared nothing fires.  Those checks need a host
 * whose KVM loads a guest's breakpoints into the hardware, which PVM does
 * not (hypervisor/README.md): they run with hwbp=1 on the command line
 * (pv-guests.sh passes it unless the host is PVM); without it the
 * breakpoints are still armed, hit and cleared, and must do no harm.
 */
#include "pv_test.h"

#define DR6_DEFAULT 0xffff0ff0UL
#define DR6_B0	    0x1UL
#define DR6_B1	    0x2UL
#define DR6_B2	    0x4UL
#define DR6_BS	    0x4000UL
#define DR7_DEFAULT 0x400UL
#define DR7_L0	    0x1UL
#define DR7_L1	    0x4UL
#define DR7_RW1_W   (1UL << 20) /* DR1: data writes */
#define DR7_LEN1_8  (2UL << 22) /* DR1: 8 bytes */
#define RFLAGS_TF   0x100UL

#define VIRT_BASE RT_VIRT_BASE
#define PTE_RW	  PVT_PTE_RW
#define PTE_RO	  0x25UL /* P US A */
/* The lower-half alias the breakpoints are set on: L4, L3, L2 slot 0, L1
 * slots 16 (bp_target's page) and 17 (watched's page). */
#define LOW_CODE 0x10000UL
#define LOW_DATA 0x11000UL

static char scratch[4096] __attribute__((aligned(4096)));
static volatile uint64_t watch_page[512] __attribute__((aligned(4096)));
#define WATCHED_OFF 64
#define watched	    (*(volatile uint64_t *)(LOW_DATA + WATCHED_OFF))
uint64_t db_count, db_rip;

/*
 * #DB: note the return address, then turn every breakpoint off (an
 * execute breakpoint is a fault: returning to it armed would hit it again)
 * and clear TF in the frame (a single step is over once it is seen).
 */
static void db_handler(struct pvt_frame *f)
{
	db_count++;
	db_rip = f->rip;
	f->rflags &= ~RFLAGS_TF;
	HYPERCALL(__HYPERVISOR_set_debugreg, 7, DR7_DEFAULT, 0);
}

/* The execute breakpoint's target: not inlined, so it has an address, and
 * alone at the start of its page, so the page's alias holds all of it. */
__attribute__((noinline, aligned(4096))) long bp_target(long x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

static long hc2(unsigned nr, uint64_t a1, uint64_t a2)
{
	return HYPERCALL(nr, a1, a2, 0);
}

#define low_target ((long (*)(long))LOW_CODE)

/* Write a page-table frame's entries through the scratch page (a frame
 * that will be a page table may not stay mapped writable). */
static long fill_frame(uint64_t mfn, unsigned slot, uint64_t val)
{
	uint64_t own = rt_virt_to_mfn(scratch);
	long r;

	r = pvt_uvm(scratch, (mfn << 12) | PTE_RW);
	rt_memset(scratch, 0, sizeof(scratch));
	((uint64_t *)scratch)[slot] = val;
	r |= pvt_uvm(scratch, (own << 12) | PTE_RW);
	return r;
}

/*
 * Alias bp_target's page and watch_page's in the lower half.  This host's
 * KVM (PVM) loads a guest breakpoint into the hardware only when its
 * address is in the lower half (the upper half is the host's there), so
 * breakpoints on the guest kernel's own addresses do not fire here; a
 * Linux guest's user space, where debuggers set them, is in the lower
 * half.  The watched variable is reached through the alias too: a
 * watchpoint matches the linear address.
 */
static long map_low(void)
{
	struct start_info *si = rt_start_info;
	uint64_t l1 = si->nr_pages - 20, l2 = si->nr_pages - 21, l3 = si->nr_pages - 22;
	uint64_t l4 = (si->pt_base - VIRT_BASE) >> 12;
	struct mmu_update u;
	long r;

	r = fill_frame(l1, 16, (rt_virt_to_mfn(bp_target) << 12) | PTE_RO);
	r |= fill_frame(l2, 0, (l1 << 12) | PTE_RW);
	r |= fill_frame(l3, 0, (l2 << 12) | PTE_RW);
	if (r)
		return r;
	/* The data page's entry goes in with the L1 a table: through mmu_update. */
	u.ptr = (l4 << 12) | MMU_NORMAL_PT_UPDATE;
	u.val = (l3 << 12) | PTE_RW;
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	if (r)
		return r;
	u.ptr = ((l1 << 12) + 17 * 8) | MMU_NORMAL_PT_UPDATE;
	u.val = (rt_virt_to_mfn((const void *)watch_page) << 12) | PTE_RW;
	return hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
}

static uint64_t get_dr6(void)
{
	return (uint64_t)hc2(__HYPERVISOR_get_debugreg, 6, 0);
}

static void reset_dr6(void)
{
	hc2(__HYPERVISOR_set_debugreg, 6, DR6_DEFAULT);
}

/* Store to `watched` and return the address just after the store: where
 * a write watchpoint's #DB (a trap) reports it. */
static uint64_t write_watched(uint64_t val)
{
	uint64_t after;

	__asm__ volatile("movq %1, (%2)\n"
			 "1:	lea 1b(%%rip), %0"
			 : "=&r"(after)
			 : "r"(val), "r"(&watched)
			 : "memory");
	return after;
}

static int hwbp; /* the host fires guest breakpoints: check that they do */

static void check_exec_breakpoint(void)
{
	uint64_t n = db_count;
	long r;

	r = hc2(__HYPERVISOR_set_debugreg, 0, LOW_CODE);
	r |= hc2(__HYPERVISOR_set_debugreg, 7, DR7_DEFAULT | DR7_L0);
	rt_check(r == 0, "set_debugreg dr0 = bp_target, dr7 L0 execute", r);
	r = low_target(4);
	rt_check(r == 13, "the function runs (after the handler returns)", r);
	if (hwbp) {
		rt_check(db_count == n + 1, "execute breakpoint raises #DB", db_count - n);
		rt_check(db_rip == LOW_CODE, "#DB at the breakpoint's address", db_rip);
		rt_check(get_dr6() == (DR6_DEFAULT | DR6_B0), "DR6 has B0", get_dr6());
	}
	hc2(__HYPERVISOR_set_debugreg, 7, DR7_DEFAULT);
	reset_dr6();
}

static void check_write_watchpoint(void)
{
	uint64_t n = db_count, v, rip;

	v = (uint64_t)&watched;
	__asm__ volatile("mov %0, %%dr1" ::"r"(v) : "memory");
	v = DR7_DEFAULT | DR7_L1 | DR7_RW1_W | DR7_LEN1_8;
	__asm__ volatile("mov %0, %%dr7" ::"r"(v) : "memory");
	v = watched; /* a read: no #DB for a write watchpoint */
	rt_check(db_count == n, "a read does not fire a write watchpoint", db_count - n);
	rip = write_watched(v + 42);
	rt_check(watched == v + 42, "the write happened", watched);
	if (hwbp) {
		rt_check(db_count == n + 1, "write watchpoint raises #DB", db_count - n);
		rt_check(db_rip == rip, "#DB after the writing instruction", db_rip);
		rt_check(get_dr6() == (DR6_DEFAULT | DR6_B1), "DR6 has B1", get_dr6());
	}
	hc2(__HYPERVISOR_set_debugreg, 7, DR7_DEFAULT);
	reset_dr6();
}

/* Set TF with popf: the instruction after popf runs, then #DB. */
static uint64_t step_once(void)
{
	uint64_t after;

	__asm__ volatile("pushf\n"
			 "	orq $0x100, (%%rsp)\n"
			 "	popf\n"
			 "	nop\n"
			 "1:	lea 1b(%%rip), %0"
			 : "=r"(after)::"memory", "cc");
	return after;
}

static void check_single_step(void)
{
	uint64_t n = db_count, after;

	after = step_once();
	rt_check(db_count == n + 1, "TF raises one #DB", db_count - n);
	rt_check(db_rip == after, "#DB after the instruction following popf", db_rip - after);
	rt_check(get_dr6() == (DR6_DEFAULT | DR6_BS), "DR6 has BS", get_dr6());
	/* Xen 4.17 adds a #DB's bits to what DR6 held. */
	hc2(__HYPERVISOR_set_debugreg, 6, DR6_DEFAULT | DR6_B2);
	step_once();
	rt_check(db_count == n + 2 && get_dr6() == (DR6_DEFAULT | DR6_B2 | DR6_BS),
		 "DR6 keeps the guest's B2 and adds BS", get_dr6());
	reset_dr6();
	/* Over a hypercall: Xen returns to the guest with the TF it had (the
	 * flags it saved), so the step ends one instruction after the
	 * `syscall` -- never at keeld's LSTAR stub in the hypervisor hole. */
	__asm__ volatile("mov $17, %%eax\n" /* xen_version(0) */
			 "	xor %%edi, %%edi\n"
			 "	xor %%esi, %%esi\n"
			 "	pushf\n"
			 "	orq $0x100, (%%rsp)\n"
			 "	popf\n"
			 "	syscall\n"
			 "	nop\n"
			 "1:	lea 1b(%%rip), %0"
			 : "=r"(after)::"rax", "rcx", "r11", "rdi", "rsi", "memory", "cc");
	rt_check(db_count == n + 3, "TF over a hypercall raises one #DB", db_count - n - 2);
	rt_check(db_rip == after, "#DB after the instruction following the syscall",
		 db_rip - after);
	rt_check(get_dr6() == (DR6_DEFAULT | DR6_BS), "DR6 has BS", get_dr6());
	reset_dr6();
}

static void check_disarmed(void)
{
	uint64_t n = db_count, v;
	long r;

	/* Arm both, then clear DR7: neither may fire. */
	r = hc2(__HYPERVISOR_set_debugreg, 7,
		DR7_DEFAULT | DR7_L0 | DR7_L1 | DR7_RW1_W | DR7_LEN1_8);
	r |= hc2(__HYPERVISOR_set_debugreg, 7, DR7_DEFAULT);
	rt_check(r == 0, "set_debugreg dr7 armed, then cleared", r);
	r = low_target(1);
	write_watched(7);
	rt_check(db_count == n && r == 4 && watched == 7, "nothing fires with DR7 clear",
		 db_count - n);
	rt_check(get_dr6() == DR6_DEFAULT, "DR6 untouched", get_dr6());
	/* And clearing only the enable bits through `mov %dr7` works too. */
	v = DR7_DEFAULT | DR7_L0;
	__asm__ volatile("mov %0, %%dr7" ::"r"(v) : "memory");
	v = DR7_DEFAULT;
	__asm__ volatile("mov %0, %%dr7" ::"r"(v) : "memory");
	low_target(2);
	rt_check(db_count == n, "nothing fires after mov %dr7 clears L0", db_count - n);
}

void test_main(void)
{
	static const struct pvt_trap traps[] = {{1, 0, db_handler}};
	long r;

	r = pvt_traps_install(traps, 1);
	rt_check(r == 0, "set_trap_table", r);
	r = map_low();
	rt_check(r == 0, "map the lower-half aliases", r);
	rt_check(low_target(0) == 1 && (watched = 5, watch_page[WATCHED_OFF / 8] == 5),
		 "the aliases reach the function and the variable", watched);
	hwbp = rt_cmdline_num("hwbp") == 1;
	if (!hwbp)
		rt_printf("breakpoints armed but not expected to fire (no hwbp=1)\n");
	check_exec_breakpoint();
	check_write_watchpoint();
	check_single_step();
	check_disarmed();
}
