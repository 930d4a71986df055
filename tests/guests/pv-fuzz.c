/*
 * pv-fuzz: a hostile guest that spares (almost) nothing.  From the seed on
 * its command line it issues thousands of hypercalls -- the MMU calls
 * (mmu_update, mmuext_op, update_va_mapping and its otherdomain form),
 * update_descriptor, set_trap_table, the callbacks, vcpu_op, multicall
 * (nested too), grant-table, event-channel and memory ops -- with
 * arguments aimed where a bug would hurt: a sacrificial region of its own
 * memory with page tables of its own (hooked into its live L4 and a spare
 * pinned L4), its live page tables, frames past its RAM, the frame numbers
 * of the victim's memory, foreign-window frames, the shim region and the
 * hole, and the victim domain's id, grant references and ports (victim=,
 * vref=, vport=, v0port=, vmfn= from tests/integration/pv-hostile.sh).
 *
 * Spared, because they only end or stall the guest on purpose: SCHEDOP
 * shutdown/block/poll and iret (in a multicall too), VCPUOP_down of
 * vCPU 0.  Its own faults are survived (handlers resume at the next call)
 * until finishing goes wrong.  Whatever it does to itself, keeld must
 * survive and the victim must not change: the domain finishes ("Test
 * result: SUCCESS") or ends as a crashed domain with a register dump.
 * trace=1 prints each call before making it.
 */
#include "pv_test.h"
#include "abi/event_channel.h"
#include "abi/grant_table.h"

#define SAC_DATA 16
#define SAC_SLOT 400 /* the live L4 slot the sacrificial tables hang from */
#define SAC_VA	 (0xffff000000000000UL | ((uint64_t)SAC_SLOT << 39))
#define SHIM_MFN 0x1000000UL /* keeld's shim region at 64 GiB (pv_layout.h) */
#define WIN_MFN	 0x1800000UL /* the foreign window at 96 GiB (gnttab.h) */
#define FLAG_NX	 (1UL << 63)
#define PTE_RO	 0x65UL
#define MC_MAX	 8

static uint64_t fuzz_state;
static char scratch[8192] __attribute__((aligned(4096)));
/* Pages of the image nothing uses: their VAs are fair game for remapping. */
static char sac_img[2][4096] __attribute__((aligned(4096)));
static int redirected; /* a trap table or stack was set at random: undo it */
/* Faults the guest brings on itself are survived: the handlers resume the
 * loop at the next call on a stack of their own. */
static char resume_stack[16384] __attribute__((aligned(16)));
static long fuzz_i, fuzz_ops, fuzz_faults;
static unsigned fuzz_n, fuzz_ok;
static int fuzz_trace;
static uint64_t *sac_data[SAC_DATA];
static uint64_t *sac_pt[4]; /* L1, L2, L3, the spare L4 */
static uint64_t live_l4_mfn, live_pt_mfn, live_pt_n, free_pfn;
static uint16_t victim = 0x7fef; /* no such domain unless told */
static uint32_t vref = 8, vport = 1, v0port = 1;
static uint64_t vmfn = 0x100;
static struct multicall_entry mc[2][MC_MAX];

static uint64_t fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return fuzz_state;
}

static uint64_t fuzz_below(uint64_t n)
{
	return fuzz_rand() % n;
}

static uint64_t mfn_of(const void *va)
{
	return rt_virt_to_mfn(va);
}

/* A frame number from one of the places that matter. */
static uint64_t fuzz_frame(void)
{
	switch (fuzz_below(10)) {
	case 0:
	case 1:
		return mfn_of(sac_data[fuzz_below(SAC_DATA)]);
	case 2:
	case 3:
		return mfn_of(sac_pt[fuzz_below(4)]);
	case 4:
		return live_pt_mfn + fuzz_below(live_pt_n);
	case 5:
		/* Own free RAM and just past it (not the image: a writable alias of
		 * its console ring could stall the guest rather than crash it). */
		return free_pfn + fuzz_below(rt_start_info->nr_pages + 64 - free_pfn);
	case 6:
		return vmfn + fuzz_below(64); /* where the victim's pattern lives, in its RAM */
	case 7:
		return WIN_MFN + fuzz_below(4200);
	case 8:
		return SHIM_MFN + fuzz_below(0x200);
	default:
		return fuzz_rand() & 0xffffffffffUL;
	}
}

static uint64_t fuzz_pte(void)
{
	static const uint64_t common[] = {0x67, PTE_RO, 0x63, 0x61, 0x27, 0xe7, 0x1};
	uint64_t fl = fuzz_below(4) ? common[fuzz_below(7)] : fuzz_rand() & 0xfff;

	if (fuzz_below(2))
		fl |= FLAG_NX;
	if (!fuzz_below(16))
		fl |= fuzz_rand() & 0x7ff0000000000000UL;
	return (fuzz_frame() << 12) | fl;
}

/* The machine address of a page-table entry, mostly in the sacrificial tables. */
static uint64_t fuzz_entry_maddr(void)
{
	uint64_t frame = fuzz_below(8) ? mfn_of(sac_pt[fuzz_below(4)]) : fuzz_frame();
	uint64_t off = fuzz_below(8) ? fuzz_below(512) * 8 : fuzz_below(4096);

	/* The live tables' first entries map this very code: hit them only
	 * now and then, or every run would end within a few hundred calls. */
	if (frame >= live_pt_mfn && frame < live_pt_mfn + live_pt_n && off < 64 * 8 &&
	    fuzz_below(16))
		off += 64 * 8;
	if (!fuzz_below(4))
		off = (SAC_SLOT * 8) + (fuzz_below(2) ? 0 : 8 * fuzz_below(4));
	return (frame << 12) | off;
}

static uint64_t fuzz_va(void)
{
	switch (fuzz_below(8)) {
	case 0:
	case 1:
	case 2:
		return SAC_VA +
		       fuzz_below(2 * 1024 * 1024) * (fuzz_below(4) ? 4096 : 1) % (1UL << 39);
	case 3:
		return (uint64_t)sac_img[fuzz_below(2)];
	case 4:
		return 0xffff800000000000UL + (fuzz_rand() & 0x7fffffffffUL);
	case 5:
		return fuzz_rand() & 0x7fffffffffffUL;
	case 6:
		return 0xffffffff80000000UL +
		       (free_pfn + fuzz_below(rt_start_info->nr_pages - free_pfn)) * 4096;
	default:
		return fuzz_rand();
	}
}

static uint16_t fuzz_dom(void)
{
	static const uint16_t doms[] = {DOMID_SELF, DOMID_SELF, 0, 0x7ff2, 0x7fff};

	return fuzz_below(3) ? (fuzz_below(2) ? victim : doms[fuzz_below(5)])
			     : (uint16_t)fuzz_rand();
}

static uint64_t fuzz_arg(void)
{
	switch (fuzz_below(8)) {
	case 0:
		return fuzz_below(64);
	case 1:
		return (uint64_t)scratch + fuzz_below(sizeof(scratch));
	case 2:
		return 0xffff800000000000ULL + (fuzz_rand() & 0x7ffffffffffULL);
	case 3:
		return fuzz_rand() & 0x7fffffffffffULL;
	case 4:
		return fuzz_dom();
	case 5:
		return fuzz_frame();
	case 6:
		return fuzz_va();
	default:
		return fuzz_rand();
	}
}

static void fuzz_fill(void *p, unsigned n)
{
	uint64_t *q = p;

	for (unsigned i = 0; i < n / 8; i++)
		q[i] = fuzz_below(2) ? fuzz_arg() : fuzz_rand();
}

/*
 * One call's number and arguments, built in @e (arguments that point at
 * structures point into scratch, filled for that call); depth bounds
 * multicalls inside multicalls.
 */
static void fuzz_call(struct multicall_entry *e, int depth)
{
	uint64_t *a = e->args;
	uint64_t *s = (uint64_t *)scratch;

	rt_memset(e, 0, sizeof(*e));
	switch (fuzz_below(14)) {
	case 0: { /* mmu_update: up to 8 entries, commands in the low bits */
		struct mmu_update *u = (struct mmu_update *)scratch;
		unsigned n = 1 + fuzz_below(8);

		for (unsigned i = 0; i < n; i++) {
			u[i].ptr = fuzz_entry_maddr();
			if (fuzz_below(4))
				u[i].ptr = (u[i].ptr & ~7UL) | fuzz_below(4);
			u[i].val = fuzz_below(6) ? fuzz_pte() : (fuzz_frame() | fuzz_rand() << 40);
		}
		e->op = __HYPERVISOR_mmu_update;
		a[0] = (uint64_t)u;
		a[1] = fuzz_below(8) ? n : fuzz_rand();
		a[2] = fuzz_below(2) ? 0 : (uint64_t)(scratch + 4096);
		a[3] = fuzz_below(4) ? DOMID_SELF : fuzz_dom();
		break;
	}
	case 1: { /* mmuext_op: pins, unpins, base pointers, LDT, flushes, page ops */
		struct mmuext_op *o = (struct mmuext_op *)scratch;
		unsigned n = 1 + fuzz_below(4);

		for (unsigned i = 0; i < n; i++) {
			o[i].cmd = (uint32_t)fuzz_below(22);
			o[i].pad = 0;
			o[i].arg1.mfn = fuzz_below(4) ? fuzz_frame() : fuzz_va();
			o[i].arg2.src_mfn = fuzz_below(2) ? fuzz_frame() : fuzz_below(600);
			if (o[i].cmd == MMUEXT_NEW_BASEPTR && fuzz_below(4))
				o[i].arg1.mfn = fuzz_below(2) ? mfn_of(sac_pt[3]) : live_l4_mfn;
		}
		e->op = __HYPERVISOR_mmuext_op;
		a[0] = (uint64_t)o;
		a[1] = fuzz_below(8) ? n : fuzz_rand();
		a[2] = fuzz_below(2) ? 0 : (uint64_t)(scratch + 4096);
		a[3] = fuzz_below(4) ? DOMID_SELF : fuzz_dom();
		break;
	}
	case 2:
		e->op = __HYPERVISOR_update_va_mapping;
		a[0] = fuzz_va();
		a[1] = fuzz_pte();
		a[2] = fuzz_below(4) ? fuzz_below(8) : (fuzz_va() & ~7UL) | 1;
		break;
	case 3:
		e->op = __HYPERVISOR_update_va_mapping_otherdomain;
		a[0] = fuzz_va();
		a[1] = fuzz_pte();
		a[2] = fuzz_below(8);
		a[3] = fuzz_dom();
		break;
	case 4:
		e->op = __HYPERVISOR_update_descriptor;
		a[0] = fuzz_below(4) ? (fuzz_frame() << 12) | fuzz_below(512) * 8
				     : fuzz_entry_maddr();
		a[1] = fuzz_rand();
		break;
	case 5: /* a trap table of random entries (the next fault may go anywhere) */
		fuzz_fill(scratch, 256);
		s[fuzz_below(32) * 2] = 0;
		e->op = __HYPERVISOR_set_trap_table;
		redirected = 1;
		a[0] = fuzz_below(8) ? (uint64_t)scratch : fuzz_arg();
		break;
	case 6: {
		static const unsigned ops[] = {
			__HYPERVISOR_set_callbacks, __HYPERVISOR_callback_op,
			__HYPERVISOR_stack_switch,  __HYPERVISOR_set_segment_base,
			__HYPERVISOR_set_timer_op,  __HYPERVISOR_set_gdt};

		fuzz_fill(scratch, 128);
		e->op = ops[fuzz_below(6)];
		redirected = 1;
		for (int i = 0; i < 3; i++)
			a[i] = fuzz_below(3) ? fuzz_arg() : (uint64_t)scratch;
		if (e->op == __HYPERVISOR_callback_op || e->op == __HYPERVISOR_set_gdt)
			a[1] = (uint64_t)scratch;
		if (e->op == __HYPERVISOR_set_gdt)
			s[0] = fuzz_frame();
		break;
	}
	case 7: /* vcpu_op: all but taking vCPU 0 down */
		fuzz_fill(scratch, 4096);
		e->op = __HYPERVISOR_vcpu_op;
		a[0] = fuzz_below(16);
		a[1] = fuzz_below(8) ? fuzz_below(3) : fuzz_rand();
		a[2] = fuzz_below(4) ? (uint64_t)scratch : fuzz_arg();
		if (a[0] == VCPUOP_down && a[1] == 0)
			a[0] = VCPUOP_is_up;
		break;
	case 8: /* multicall, maybe nested */
		if (depth >= 2) {
			e->op = __HYPERVISOR_xen_version;
			break;
		}
		{
			unsigned n = 1 + fuzz_below(MC_MAX);

			for (unsigned i = 0; i < n; i++)
				fuzz_call(&mc[depth][i], depth + 1);
			e->op = __HYPERVISOR_multicall;
			a[0] = (uint64_t)mc[depth];
			a[1] = fuzz_below(8) ? n : fuzz_rand();
		}
		break;
	case 9: { /* grant ops aimed at the victim's references */
		static const unsigned gops[] = {
			GNTTABOP_map_grant_ref,	    GNTTABOP_unmap_grant_ref,
			GNTTABOP_setup_table,	    GNTTABOP_copy,
			GNTTABOP_query_size,	    GNTTABOP_set_version,
			GNTTABOP_get_status_frames, GNTTABOP_transfer};

		fuzz_fill(scratch, 512);
		e->op = __HYPERVISOR_grant_table_op;
		a[0] = fuzz_below(4) ? gops[fuzz_below(8)] : fuzz_below(16);
		a[1] = (uint64_t)scratch;
		a[2] = 1 + fuzz_below(4);
		if (a[0] == GNTTABOP_map_grant_ref) {
			struct gnttab_map_grant_ref *m = (struct gnttab_map_grant_ref *)scratch;

			m->host_addr = fuzz_below(2) ? fuzz_va() : fuzz_entry_maddr();
			m->flags = (uint32_t)fuzz_below(32);
			m->ref = fuzz_below(4) ? vref + (uint32_t)fuzz_below(4)
					       : (uint32_t)fuzz_rand();
			m->dom = fuzz_below(4) ? victim : fuzz_dom();
		} else if (a[0] == GNTTABOP_copy) {
			struct gnttab_copy *c = (struct gnttab_copy *)scratch;

			c->source.u.ref = vref + (uint32_t)fuzz_below(4);
			c->source.domid = fuzz_below(2) ? victim : DOMID_SELF;
			c->dest.u.gmfn = fuzz_below(2) ? vref : fuzz_frame();
			c->dest.domid = fuzz_below(2) ? victim : DOMID_SELF;
			c->len = (uint16_t)fuzz_below(4200);
		} else {
			*(uint16_t *)scratch = fuzz_dom();
		}
		break;
	}
	case 10: { /* event channels aimed at the victim's ports */
		uint32_t *w = (uint32_t *)scratch;

		fuzz_fill(scratch, 64);
		e->op = __HYPERVISOR_event_channel_op;
		a[0] = fuzz_below(16);
		a[1] = fuzz_below(8) ? (uint64_t)scratch : fuzz_arg();
		w[0] = fuzz_below(2) ? victim : (uint32_t)fuzz_dom();
		w[1] = fuzz_below(2) ? (fuzz_below(2) ? vport : v0port) : (uint32_t)fuzz_below(64);
		break;
	}
	case 11: { /* memory_op: balloon ops on our frames, the victim's numbers, the victim */
		struct xen_memory_reservation *r = (struct xen_memory_reservation *)scratch;
		uint64_t *ext = (uint64_t *)(scratch + 4096);
		unsigned n = 1 + fuzz_below(4);

		for (unsigned i = 0; i < n; i++)
			ext[i] = fuzz_frame();
		*r = (struct xen_memory_reservation){(uint64_t)ext, n, 0, 0, fuzz_dom(), {0}};
		e->op = __HYPERVISOR_memory_op;
		a[0] = fuzz_below(4) ? fuzz_below(2) : fuzz_below(24);
		if (a[0] == 1 && fuzz_below(2))
			a[0] = XENMEM_populate_physmap;
		a[1] = (uint64_t)r;
		break;
	}
	case 12: /* sched_op: yield, or shut the victim down (must be refused) */
		e->op = __HYPERVISOR_sched_op;
		a[0] = fuzz_below(2) ? SCHEDOP_yield : SCHEDOP_remote_shutdown;
		s[0] = (uint64_t)victim | (fuzz_below(5) << 16);
		a[1] = (uint64_t)scratch;
		break;
	default: { /* anything else, as the first pv-fuzz did */
		unsigned nr = (unsigned)fuzz_below(64);

		if (nr == __HYPERVISOR_sched_op || nr == __HYPERVISOR_iret ||
		    nr == __HYPERVISOR_sched_op_compat || nr == __HYPERVISOR_multicall ||
		    nr == __HYPERVISOR_vcpu_op)
			nr = __HYPERVISOR_xen_version;
		rt_memset(scratch, (int)fuzz_rand(), 64);
		e->op = nr;
		for (int i = 0; i < 5; i++)
			a[i] = fuzz_arg();
		break;
	}
	}
}

/* Make a page read-only in our own mapping of it (it is to be a page table). */
static long fuzz_make_ro(void *va)
{
	return pvt_uvm(va, (mfn_of(va) << 12) | PTE_RO | FLAG_NX);
}

/*
 * The sacrificial region: SAC_DATA pages under an L1 -> L2 -> L3 hung
 * from slot SAC_SLOT of the live L4, and a spare L4 (the kernel's slots
 * plus that one) pinned, so new_baseptr to it can run on.
 */
static long fuzz_region_setup(void)
{
	const uint64_t *l4 = (const uint64_t *)rt_start_info->pt_base;
	struct mmu_update u;
	long r;

	for (int i = 0; i < SAC_DATA; i++)
		if (!(sac_data[i] = rt_page_alloc()))
			return -XEN_ENOMEM;
	free_pfn = rt_virt_to_pfn(sac_data[0]);
	for (int i = 0; i < 4; i++)
		if (!(sac_pt[i] = rt_page_alloc()))
			return -XEN_ENOMEM;
	for (int i = 0; i < SAC_DATA; i++)
		sac_pt[0][i] = (mfn_of(sac_data[i]) << 12) | 0x67 | FLAG_NX;
	sac_pt[1][0] = (mfn_of(sac_pt[0]) << 12) | 0x67;
	sac_pt[2][0] = (mfn_of(sac_pt[1]) << 12) | 0x67;
	for (int i = 272; i < 512; i++)
		sac_pt[3][i] = l4[i];
	sac_pt[3][SAC_SLOT] = (mfn_of(sac_pt[2]) << 12) | 0x67;
	for (int i = 0; i < 4; i++)
		if ((r = fuzz_make_ro(sac_pt[i]))) {
			rt_printf("pv-fuzz: table %d not made read-only\n", i);
			return r;
		}
	u.ptr = (live_l4_mfn << 12) + SAC_SLOT * 8;
	u.val = sac_pt[3][SAC_SLOT];
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, 0, DOMID_SELF, 0);
	if (r)
		rt_printf("pv-fuzz: sacrificial L3 not hooked into the live L4\n");
	if (!r)
		r = pvt_mmuext(MMUEXT_PIN_L4_TABLE, mfn_of(sac_pt[3]));
	if (!r)
		sac_data[0][0] = 0x5ac; /* the region is live */
	return r;
}

static void fuzz_loop(void) __attribute__((noreturn));

static void fuzz_fault(struct pvt_frame *f)
{
	/* A fault while finishing, or more faults than calls (the loop itself
	 * broken, e.g. its console): no handlers, and the same fault again
	 * ends the domain as crashed, with keeld's register dump. */
	if (fuzz_i >= fuzz_ops || fuzz_faults > fuzz_ops) {
		HYPERCALL(__HYPERVISOR_set_trap_table, 0, 0, 0);
		return;
	}
	if (++fuzz_faults <= 3 || fuzz_faults % 1000 == 0)
		rt_printf("pv-fuzz: vector %lu at %lx after call %ld: resumed\n",
			  (unsigned long)f->vector, (unsigned long)f->rip, fuzz_i);
	fuzz_i++;
	f->rip = (uint64_t)fuzz_loop;
	f->rsp = (uint64_t)(resume_stack + sizeof(resume_stack) - 8);
}

static const struct pvt_trap fuzz_traps[] = {
	{0, 0, fuzz_fault},  {1, 0, fuzz_fault},  {3, 3, fuzz_fault},  {4, 3, fuzz_fault},
	{5, 0, fuzz_fault},  {6, 0, fuzz_fault},  {7, 0, fuzz_fault},  {10, 0, fuzz_fault},
	{11, 0, fuzz_fault}, {12, 0, fuzz_fault}, {13, 0, fuzz_fault}, {14, 0, fuzz_fault},
	{16, 0, fuzz_fault}, {17, 0, fuzz_fault}, {19, 0, fuzz_fault},
};

static long fuzz_traps_install(void)
{
	return pvt_traps_install(fuzz_traps, sizeof(fuzz_traps) / sizeof(fuzz_traps[0]));
}

/* The calls from fuzz_i on; entered again by fuzz_fault after a fault. */
static void fuzz_loop(void)
{
	for (; fuzz_i < fuzz_ops; fuzz_i++) {
		struct multicall_entry e = {0};
		long r;

		fuzz_call(&e, 0);
		if (fuzz_trace) {
			rt_printf("call %ld: %lu %lx %lx %lx %lx\n", fuzz_i, (unsigned long)e.op,
				  (unsigned long)e.args[0], (unsigned long)e.args[1],
				  (unsigned long)e.args[2], (unsigned long)e.args[3]);
			for (unsigned j = 0; e.op == __HYPERVISOR_multicall && j < MC_MAX; j++)
				rt_printf("  mc %lu %lx %lx %lx %lx\n", (unsigned long)mc[0][j].op,
					  (unsigned long)mc[0][j].args[0],
					  (unsigned long)mc[0][j].args[1],
					  (unsigned long)mc[0][j].args[2],
					  (unsigned long)mc[0][j].args[3]);
		}
		r = hypercall5((unsigned)e.op, e.args[0], e.args[1], e.args[2], e.args[3],
			       e.args[4]);
		fuzz_n++;
		fuzz_ok += r == 0;
		/* A random trap table would send the next fault anywhere: the
		 * calls were made, keeld has seen them; our handlers again. */
		if (redirected) {
			fuzz_traps_install();
			redirected = 0;
		}
		if ((fuzz_i + 1) % 500 == 0)
			rt_printf("pv-fuzz %ld calls\n", fuzz_i + 1);
	}
	rt_printf("pv-fuzz done: %u calls, %u returned 0, %ld faults survived\n", fuzz_n, fuzz_ok,
		  fuzz_faults);
	rt_check(fuzz_n > 0, "survived hostile hypercalls", fuzz_n);
	rt_test_done();
}

void test_main(void)
{
	long seed = rt_cmdline_num("seed"), r;

	fuzz_ops = rt_cmdline_num("ops");
	fuzz_trace = rt_cmdline_num("trace") > 0; /* each call on the console first */
	if (rt_cmdline_num("victim") >= 0)
		victim = (uint16_t)rt_cmdline_num("victim");
	if (rt_cmdline_num("vref") >= 0)
		vref = (uint32_t)rt_cmdline_num("vref");
	if (rt_cmdline_num("vport") >= 0)
		vport = (uint32_t)rt_cmdline_num("vport");
	if (rt_cmdline_num("v0port") >= 0)
		v0port = (uint32_t)rt_cmdline_num("v0port");
	if (rt_cmdline_num("vmfn") >= 0)
		vmfn = (uint64_t)rt_cmdline_num("vmfn");
	if (fuzz_ops <= 0)
		fuzz_ops = 20000;
	fuzz_state =
		0x9e3779b97f4a7c15ULL ^ ((uint64_t)(seed < 0 ? 0 : seed) * 0x2545f4914f6cdd1dULL);
	live_l4_mfn = mfn_of((const void *)rt_start_info->pt_base);
	live_pt_mfn = live_l4_mfn;
	live_pt_n = rt_start_info->nr_pt_frames ? rt_start_info->nr_pt_frames : 1;
	r = fuzz_region_setup();
	rt_check(r == 0, "sacrificial region and page tables set up", r);
	r = fuzz_traps_install();
	rt_check(r == 0, "fault handlers installed", r);
	rt_printf("pv-fuzz seed=%ld ops=%ld victim=%u\n", seed, fuzz_ops, victim);
	fuzz_loop();
}
