/*
 * gnt-map: GNTTABOP_map_grant_ref / unmap_grant_ref between two guest
 * domains, run twice by tests/integration/pv-grant-map.sh.  The granter
 * grants pages to its peer and prints the references; the mapper maps
 * them into its own address space and checks, with the granter's help:
 * reading the granter's data and writing back through a writable map,
 * Xen's refusals (a writable map of a read-only grant, a grant for another
 * domain, a bad reference, no such domain, no map flags, a bad host
 * address, bad handles and mismatched unmaps), end_foreign_access refused
 * while mapped and allowed after the unmap, a map through the PTE's
 * machine address (GNTMAP_contains_pte), the maptrack limit
 * (GNTST_no_space), and a mapping that outlives the granter: after the
 * toolstack destroys it, the page still reads what it held and unmaps.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/grant_table.h"
#include "gnt-table.h"

#define VIRT_BASE   0xffffffff80000000UL
#define MAPTRACK    4096 /* keeld's GNTTAB_MAPTRACK_MAX */
#define GNTMAP_BULK 512

static char rw_page[4096] __attribute__((aligned(4096)));
static char ro_page[4096] __attribute__((aligned(4096)));
static char state_page[4096] __attribute__((aligned(4096)));
static char death_page[4096] __attribute__((aligned(4096)));
/* The mapper's places for mappings (their own frames go while mapped). */
static char slot[4][4096] __attribute__((aligned(4096)));
static struct gnttab_map_grant_ref bulk[GNTMAP_BULK];
static struct gnttab_unmap_grant_ref ubulk[GNTMAP_BULK];
static uint32_t handles[MAPTRACK];

static int gnt_wait(const volatile char *p, const char *s, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (gnt_has(p, s))
			return 1;
		gnt_sleep(10000000);
	}
	return gnt_has(p, s);
}

/* Put our own frame back under a slot after an unmap cleared its PTE. */
static void gnt_slot_restore(int i)
{
	long r = gnt_map_own(slot[i]);

	rt_check(r == 0, "slot remapped to our own frame", r);
}

static void gnt_granter(uint16_t peer, int version)
{
	uint16_t f;
	int i;

	gnt_table_init(version);
	gnt_put(rw_page, "from the granter");
	gnt_put(ro_page, "read only page");
	gnt_put(death_page, "death page");
	gnt_grant(9, peer, gnt_gmfn(ro_page), GTF_permit_access | GTF_readonly);
	gnt_grant(10, (uint16_t)(peer + 100), gnt_gmfn(ro_page), GTF_permit_access);
	gnt_grant(11, peer, gnt_gmfn(state_page), GTF_permit_access | GTF_readonly);
	gnt_grant(12, peer, gnt_gmfn(death_page), GTF_permit_access);
	if (version == 2)
		gnt_grant_sub_page(13, peer, gnt_gmfn(ro_page), 0, 16,
				   GTF_permit_access | GTF_readonly);
	gnt_grant(8, peer, gnt_gmfn(rw_page), GTF_permit_access);
	rt_printf("gnt-refs rw=8 ro=9 other=10 state=11 death=12 v=%d\n", version);

	rt_check(gnt_wait(rw_page + 2048, "from the mapper", 60),
		 "the mapper wrote into our page through its map", 0);
	f = gnt_busy(8);
	rt_check(f == (GTF_reading | GTF_writing),
		 "GTF_reading|GTF_writing set while mapped writable", f);
	if (version == 2) {
		struct gnttab_set_version sv = {1};
		long r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &sv, 1);

		rt_check(r == -XEN_EBUSY && sv.version == 2,
			 "REFUSED: set_version(1) while a grant is mapped", r);
	}
	rt_check(!gnt_revoke(8), "REFUSED: end_foreign_access while mapped", gnt_busy(8));
	gnt_put(rw_page + 1024, "revoke refused");

	/* The mapper unmaps; the busy bits go, the revoke succeeds. */
	for (i = 0; i < 6000 && !gnt_revoke(8); i++)
		gnt_sleep(10000000);
	rt_check(i < 6000, "end_foreign_access succeeds after the unmap", gnt_busy(8));
	gnt_put(state_page, "revoked");

	rt_check(gnt_wait(death_page, "exit now", 60), "the mapper holds the death page", 0);
	f = gnt_busy(12);
	rt_check((f & GTF_writing) != 0, "death page mapped writable as we go", f);

	/* The peer still maps the state page read-only: with our own mapping of
	 * it dropped (as a balloon driver does), the frame is still not given
	 * back, or keeld would hand it out again under the peer's map. */
	{
		uint64_t ext[1] = {gnt_gmfn(state_page)};
		struct xen_memory_reservation res = {(uint64_t)ext, 1, 0, 0, DOMID_SELF, {0}};
		long r = HYPERCALL(__HYPERVISOR_update_va_mapping, state_page, 0, UVMF_INVLPG);

		rt_check(r == 0, "our own mapping of the state page dropped", r);
		r = HYPERCALL(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, &res, 0);
		rt_check(r == 0, "REFUSED: giving back a frame the peer maps read-only", r);
	}
}

static void gnt_refusals(uint16_t peer)
{
	int16_t st;

	st = gnt_map(peer, 9, GNTMAP_host_map, (uint64_t)slot[1], 0, 0);
	rt_check(st == GNTST_general_error, "REFUSED: writable map of a read-only grant", st);
	st = gnt_map(peer, 10, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st == GNTST_general_error, "REFUSED: map of a grant for another domain", st);
	st = gnt_map(peer, 100000, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st == GNTST_bad_gntref, "REFUSED: reference past the table", st);
	st = gnt_map(999, 9, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st == GNTST_bad_domain, "REFUSED: no such domain", st);
	st = gnt_map(peer, 9, GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st == GNTST_bad_gntref, "REFUSED: neither host_map nor device_map", st);
	st = gnt_map(peer, 9, GNTMAP_host_map | GNTMAP_readonly, 0x1000, 0, 0);
	rt_check(st == GNTST_general_error, "REFUSED: host address without a page table", st);
	st = gnt_map(peer, 9, GNTMAP_host_map | GNTMAP_readonly | GNTMAP_contains_pte,
		     (uint64_t)1 << 40, 0, 0);
	rt_check(st == GNTST_general_error, "REFUSED: PTE address not ours", st);
	st = gnt_map(peer, 9, GNTMAP_host_map | GNTMAP_readonly | GNTMAP_contains_pte,
		     gnt_gmfn(state_page) << 12, 0, 0);
	rt_check(st == GNTST_general_error, "REFUSED: PTE address in a page that is no L1", st);
	st = gnt_unmap(0, 0, 9999);
	rt_check(st == GNTST_bad_handle, "REFUSED: unmap of an unknown handle", st);
	rt_check(HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, 0xdead0000UL, 1) ==
			 -XEN_EFAULT,
		 "REFUSED: bad batch pointer", 0);
}

/* Fill the maptrack with device maps of the read-only grant. */
static void gnt_maptrack(uint16_t peer, uint32_t in_use)
{
	uint32_t n = 0, refused = 0;
	int16_t last = 0;
	long r;

	while (n + refused < MAPTRACK - in_use + 1) {
		uint32_t batch = MAPTRACK - in_use + 1 - n - refused;

		if (batch > GNTMAP_BULK)
			batch = GNTMAP_BULK;
		for (uint32_t i = 0; i < batch; i++)
			bulk[i] = (struct gnttab_map_grant_ref){
				0, GNTMAP_device_map | GNTMAP_readonly, 9, peer, 1, 0, 0};
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, bulk, batch);
		rt_check(r == 0, "map batch", r);
		for (uint32_t i = 0; i < batch; i++) {
			if (bulk[i].status == GNTST_okay && n < MAPTRACK)
				handles[n++] = bulk[i].handle;
			else
				refused++, last = bulk[i].status;
		}
	}
	rt_printf("maptrack: %u maps, %u refused (status %d)\n", n, refused, last);
	rt_check(n == MAPTRACK - in_use, "maptrack fills to its limit", n);
	rt_check(refused == 1 && last == GNTST_no_space, "REFUSED: maptrack full -> GNTST_no_space",
		 last);
	for (uint32_t done = 0; done < n;) {
		uint32_t batch = n - done > GNTMAP_BULK ? GNTMAP_BULK : n - done;
		int ok = 1;

		for (uint32_t i = 0; i < batch; i++)
			ubulk[i] = (struct gnttab_unmap_grant_ref){
				0, 0x1800000000ULL + ((uint64_t)handles[done + i] << 12),
				handles[done + i], 1};
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, ubulk, batch);
		for (uint32_t i = 0; i < batch; i++)
			ok &= ubulk[i].status == GNTST_okay;
		rt_check(r == 0 && ok, "device maps unmapped", r);
		done += batch;
	}
}

static void gnt_mapper(uint16_t peer, int v2)
{
	volatile char *m0 = slot[0], *m2 = slot[2], *m3 = slot[3];
	uint32_t h0 = 0, h1 = 0, h2 = 0, h3 = 0, hx = 0;
	uint64_t bus0 = 0, bus1 = 0, bus2 = 0;
	int16_t st;
	long r;

	st = gnt_map(peer, 8, GNTMAP_host_map, (uint64_t)slot[0], &h0, &bus0);
	rt_check(st == GNTST_okay, "writable map of the peer's page", st);
	rt_check(gnt_has(m0, "from the granter"), "read the granter's data", m0[0]);
	gnt_put(m0 + 2048, "from the mapper");

	st = gnt_map(peer, 9, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], &h1, &bus1);
	rt_check(st == GNTST_okay, "read-only map of a read-only grant", st);
	rt_check(gnt_has(slot[1], "read only page"), "read the read-only page", slot[1][0]);
	/* A PTE of our own naming the mapped frame (an alias) is refused: it
	 * could outlive the map and reach what the handle maps next. */
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, slot[3], bus1 | 0x67 | (1ULL << 63), 2);
	rt_check(r == -XEN_EPERM, "REFUSED: writable alias of a read-only map", r);
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, slot[3], bus1 | 0x65 | (1ULL << 63), 2);
	rt_check(r == -XEN_EPERM, "REFUSED: read-only alias of a live map", r);
	st = gnt_unmap((uint64_t)slot[1], 0, h1);
	rt_check(st == GNTST_okay, "read-only map unmapped", st);
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, slot[1], bus1 | 0x65 | (1ULL << 63), 2);
	rt_check(r == -XEN_EPERM, "REFUSED: PTE to a window frame no map holds", r);
	gnt_slot_restore(1);

	gnt_refusals(peer);
	if (v2) {
		st = gnt_map(peer, 13, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
		rt_check(st == GNTST_general_error, "REFUSED: map of a sub-page grant (version 2)",
			 st);
	}

	/* The state page, mapped through the machine address of the PTE. */
	st = gnt_map(peer, 11, GNTMAP_host_map | GNTMAP_readonly | GNTMAP_contains_pte,
		     gnt_l1e_maddr(slot[2]), &h2, &bus2);
	rt_check(st == GNTST_okay, "map by PTE address (GNTMAP_contains_pte)", st);

	rt_check(gnt_wait(m0 + 1024, "revoke refused", 60),
		 "the granter's write seen through the map (its revoke was refused)", 0);
	st = gnt_unmap((uint64_t)slot[3], 0, h0);
	rt_check(st == GNTST_general_error, "REFUSED: unmap at an address not mapping it", st);
	st = gnt_unmap((uint64_t)slot[0], 0, h0);
	rt_check(st == GNTST_okay, "writable map unmapped", st);
	st = gnt_unmap((uint64_t)slot[0], 0, h0);
	rt_check(st == GNTST_bad_handle, "REFUSED: second unmap of the handle", st);
	gnt_slot_restore(0);

	rt_check(gnt_wait(m2, "revoked", 60), "granter revoked after our unmap", 0);
	st = gnt_map(peer, 8, GNTMAP_host_map, (uint64_t)slot[0], &hx, 0);
	rt_check(st == GNTST_general_error, "REFUSED: map of a revoked grant", st);

	gnt_maptrack(peer, 1);

	/* A mapping that outlives its granter. */
	st = gnt_map(peer, 12, GNTMAP_host_map, (uint64_t)slot[3], &h3, 0);
	rt_check(st == GNTST_okay, "writable map of the death page", st);
	rt_check(gnt_has(m3, "death page"), "read the death page", m3[0]);
	gnt_put(m3, "exit now");
	for (int i = 0; i < 6000; i++) {
		struct gnttab_copy c = {{{11}, peer, 0},
					{{.gmfn = gnt_gmfn(state_page)}, DOMID_SELF, 0},
					8,
					GNTCOPY_source_gref,
					1};

		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_copy, &c, 1);
		if (r == 0 && c.status == GNTST_bad_domain)
			break;
		gnt_sleep(10000000);
	}
	rt_check(gnt_map(peer, 12, GNTMAP_host_map, (uint64_t)slot[1], &hx, 0) == GNTST_bad_domain,
		 "the granter is gone (destroyed)", 0);
	rt_check(gnt_has(m3, "exit now"), "its page still holds what it held", m3[0]);
	gnt_put(m3 + 100, "still valid");
	rt_check(gnt_has(m3 + 100, "still valid"), "and is still ours to write", m3[100]);
	rt_check(gnt_has(m2, "revoked"), "the read-only map of the dead granter reads", m2[0]);
	st = gnt_unmap((uint64_t)slot[3], 0, h3);
	rt_check(st == GNTST_okay, "unmap after the granter died", st);
	st = gnt_unmap(gnt_l1e_maddr(slot[2]), bus2, h2);
	rt_check(st == GNTST_okay, "unmap by PTE address after the granter died", st);
	gnt_slot_restore(2);
	gnt_slot_restore(3);
}

/*
 * The mapper dies holding maps ("leak=1"): the granter grants two pages,
 * sees them busy once mapped, and after the toolstack destroyed the mapper
 * sees the busy bits gone and revokes both; the mapper maps them (one
 * writable by VA, one read-only device map) and ends without unmapping.
 */
static void gnt_leak_granter(uint16_t peer, int version)
{
	int i;

	gnt_table_init(version);
	gnt_grant(9, peer, gnt_gmfn(ro_page), GTF_permit_access | GTF_readonly);
	gnt_grant(8, peer, gnt_gmfn(rw_page), GTF_permit_access);
	rt_printf("gnt-refs rw=8 ro=9 leak=1\n");
	for (i = 0; i < 6000 && !(gnt_busy(8) & GTF_writing && gnt_busy(9)); i++)
		gnt_sleep(10000000);
	rt_check(i < 6000, "both grants mapped by the peer", gnt_busy(8));
	rt_printf("gnt-leak-seen\n"); /* the toolstack destroys the mapper now */
	for (i = 0; i < 6000 && (gnt_busy(8) || gnt_busy(9)); i++)
		gnt_sleep(10000000);
	rt_check(i < 6000, "busy bits gone once the mapper was destroyed", gnt_busy(8));
	rt_check(gnt_revoke(8) && gnt_revoke(9), "both grants revoked", 0);
	/* The writable map's type reference went too: the page can be a page
	 * table again (pinned as an L1 after zeroing it). */
	rt_memset(rw_page, 0, 4096);
	{
		long r = HYPERCALL(__HYPERVISOR_update_va_mapping, rw_page,
				   (gnt_gmfn(rw_page) << 12) | 0x25 | (1ULL << 63), 2);
		struct mmuext_op op = {.cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = gnt_gmfn(rw_page)};

		rt_check(r == 0, "page mapped read-only", r);
		r = hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
		rt_check(r == 0, "and pinned as an L1 table (no type reference left)", r);
		op.cmd = MMUEXT_UNPIN_TABLE;
		r = hypercall5(__HYPERVISOR_mmuext_op, (uint64_t)&op, 1, 0, DOMID_SELF, 0);
		rt_check(r == 0, "unpinned", r);
	}
}

static void gnt_leak_mapper(uint16_t peer)
{
	uint32_t h;
	int16_t st;

	st = gnt_map(peer, 8, GNTMAP_host_map, (uint64_t)slot[0], &h, 0);
	rt_check(st == GNTST_okay, "writable map, left mapped", st);
	st = gnt_map(peer, 9, GNTMAP_device_map | GNTMAP_readonly, 0, &h, 0);
	rt_check(st == GNTST_okay, "read-only device map, left mapped", st);
}

void test_main(void)
{
	long peer = rt_cmdline_num("peer");

	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(peer > 0 && peer < 0x7ff0, "peer domain on the command line", peer);
	if (peer <= 0)
		return;
	if (rt_cmdline_num("rw") < 0 && rt_cmdline_num("leak") == 1)
		gnt_leak_granter((uint16_t)peer, rt_cmdline_num("v2") == 1 ? 2 : 1);
	else if (rt_cmdline_num("rw") < 0)
		gnt_granter((uint16_t)peer, rt_cmdline_num("v2") == 1 ? 2 : 1);
	else if (rt_cmdline_num("leak") == 1)
		gnt_leak_mapper((uint16_t)peer);
	else
		gnt_mapper((uint16_t)peer, rt_cmdline_num("v") == 2);
}
