/*
 * gnt-copy: GNTTABOP_copy between two guest domains, run twice by
 * tests/integration/pv-grant-copy.sh.  The granter grants pages to its
 * peer (read-write, read-only, one for another domain) and prints the
 * references; the copier (started with them on its command line) copies
 * gref -> own frame and own frame -> gref in one batch, checks Xen's
 * refusals (read-only destination, a grant for someone else, a bad
 * reference, no such domain, crossing a page, a frame not ours, a raw
 * frame of another domain), times a batch of 4 KiB page copies against
 * an in-guest memcpy and against mapping the same grants and copying out
 * of the mappings, and sees a revoked grant refused.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"
#include "abi/grant_table.h"
#include "gnt-table.h"

#define VIRT_BASE 0xffffffff80000000UL
#define GNT_PAGES 256

static char rw_page[4096] __attribute__((aligned(4096)));
static char ro_page[4096] __attribute__((aligned(4096)));
static char state_page[4096] __attribute__((aligned(4096)));
static char bulk[GNT_PAGES][4096] __attribute__((aligned(4096)));
static char bulk2[GNT_PAGES][4096] __attribute__((aligned(4096)));
static struct gnttab_copy ops[GNT_PAGES];
/* Where the bulk grants get mapped (their own frames go while mapped). */
static char mapped[GNT_PAGES][4096] __attribute__((aligned(4096)));
static struct gnttab_map_grant_ref mops[GNT_PAGES];
static struct gnttab_unmap_grant_ref uops[GNT_PAGES];

/*
 * The other way to move bulk data: map the 256 grants (one batch), copy
 * out of the mappings at the guest's own speed, unmap (one batch); and
 * the copy alone, as a backend keeping its grants mapped (persistent
 * grants) sees it.  Prints map_ns, mapped_copy_ns (best of 8), unmap_ns.
 */
static void gnt_map_copy(uint16_t peer)
{
	uint64_t t0, t1, best = ~0ULL, map_ns = ~0ULL, unmap_ns = ~0ULL;
	long r;
	int i, ok;

	/* Twice: the first map of a domain also makes its foreign window a
	 * memory slot; the figures are the better of the two rounds. */
	for (int round = 0; round < 2; round++) {
		for (i = 0; i < GNT_PAGES; i++)
			mops[i] = (struct gnttab_map_grant_ref){(uint64_t)mapped[i],
								GNTMAP_host_map | GNTMAP_readonly,
								(uint32_t)(16 + i),
								peer,
								1,
								0,
								0};
		t0 = rt_now_ns();
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, mops, GNT_PAGES);
		t1 = rt_now_ns();
		map_ns = t1 - t0 < map_ns ? t1 - t0 : map_ns;
		for (i = 0, ok = r == 0; i < GNT_PAGES; i++)
			ok &= mops[i].status == 0;
		rt_check(ok, "256 grants mapped in one batch", r);
		if (!ok)
			return;
		for (int k = 0; k < 8; k++) {
			t0 = rt_now_ns();
			for (i = 0; i < GNT_PAGES; i++)
				rt_memcpy(bulk2[i], mapped[i], 4096);
			t1 = rt_now_ns();
			best = t1 - t0 < best ? t1 - t0 : best;
		}
		for (i = 0, ok = 1; i < GNT_PAGES; i++)
			ok &= bulk2[i][4095] == 'a' + i % 26 && mapped[i][0] == 'a' + i % 26;
		rt_check(ok, "copied out of the mappings", 0);
		for (i = 0; i < GNT_PAGES; i++)
			uops[i] = (struct gnttab_unmap_grant_ref){(uint64_t)mapped[i], 0,
								  mops[i].handle, 1};
		t0 = rt_now_ns();
		r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, uops,
			      GNT_PAGES);
		t1 = rt_now_ns();
		unmap_ns = t1 - t0 < unmap_ns ? t1 - t0 : unmap_ns;
		for (i = 0, ok = r == 0; i < GNT_PAGES; i++)
			ok &= uops[i].status == 0;
		rt_check(ok, "256 grants unmapped in one batch", r);
	}
	rt_printf("gnt-map-copy pages=%d map_ns=%lu mapped_copy_ns=%lu unmap_ns=%lu\n", GNT_PAGES,
		  (unsigned long)map_ns, (unsigned long)best, (unsigned long)unmap_ns);
}

static long gnt_copy(struct gnttab_copy *c, unsigned n)
{
	return HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_copy, c, n);
}

static int gnt_streq(const char *a, const char *b)
{
	while (*b)
		if (*a++ != *b++)
			return 0;
	return 1;
}

static void gnt_granter(uint16_t peer, int version)
{
	int i;

	gnt_table_init(version);
	rt_memcpy(rw_page, "from the granter", 17);
	rt_memcpy(ro_page, "read only page", 15);
	for (i = 0; i < GNT_PAGES; i++)
		rt_memset(bulk[i], 'a' + i % 26, 4096);
	gnt_grant(9, peer, gnt_gmfn(ro_page), GTF_permit_access | GTF_readonly);
	gnt_grant(10, (uint16_t)(peer + 100), gnt_gmfn(ro_page), GTF_permit_access);
	gnt_grant(11, peer, gnt_gmfn(state_page), GTF_permit_access | GTF_readonly);
	if (version == 2) /* "read only page"[5..9): "only" */
		gnt_grant_sub_page(12, peer, gnt_gmfn(ro_page), 5, 4,
				   GTF_permit_access | GTF_readonly);
	for (i = 0; i < GNT_PAGES; i++)
		gnt_grant(16 + i, peer, gnt_gmfn(bulk[i]), GTF_permit_access | GTF_readonly);
	gnt_grant(8, peer, gnt_gmfn(rw_page), GTF_permit_access);
	rt_printf("gnt-refs rw=8 ro=9 other=10 state=11 bulk=16 v=%d\n", version);

	for (i = 0; i < 6000 && !gnt_streq(rw_page + 2048, "from the copier"); i++)
		gnt_sleep(10000000);
	rt_check(gnt_streq(rw_page + 2048, "from the copier"), "the peer wrote into our page", i);
	/* Revoke as a guest does: only if no copy or map holds it. */
	rt_check(gnt_revoke(8), "revoked: no GTF_reading/writing left behind", gnt_busy(8));
	rt_memcpy(state_page, "revoked", 8);
}

static void gnt_subpage(uint16_t peer)
{
	static char own[4096] __attribute__((aligned(4096)));
	struct gnttab_copy c[3];
	long r;

	c[0] = (struct gnttab_copy){{{12}, peer, 5},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    4,
				    GNTCOPY_source_gref,
				    1};
	c[1] = (struct gnttab_copy){{{12}, peer, 4},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    4,
				    GNTCOPY_source_gref,
				    1};
	c[2] = (struct gnttab_copy){{{12}, peer, 6},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    4,
				    GNTCOPY_source_gref,
				    1};
	r = gnt_copy(c, 3);
	rt_check(r == 0 && c[0].status == 0 && gnt_streq(own, "only"),
		 "copy of the bytes a sub-page grant gives (version 2)", c[0].status);
	rt_check(c[1].status == GNTST_general_error, "REFUSED: copy starting before a sub-page",
		 c[1].status);
	rt_check(c[2].status == GNTST_general_error, "REFUSED: copy running past a sub-page",
		 c[2].status);
}

static void gnt_copier(uint16_t peer, int v2)
{
	static char own[4096] __attribute__((aligned(4096)));
	struct gnttab_copy c[8];
	uint64_t t0, t1, t2, cold, mcold, warm = ~0ULL, mwarm = ~0ULL, null = ~0ULL;
	long r;
	int i, k, ok;

	/* gref -> own, own -> gref, read-only gref -> own: one batch. */
	rt_memcpy(own + 1024, "from the copier", 16);
	c[0] = (struct gnttab_copy){{{8}, peer, 0},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    17,
				    GNTCOPY_source_gref,
				    1};
	c[1] = (struct gnttab_copy){{{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 1024},
				    {{8}, peer, 2048},
				    16,
				    GNTCOPY_dest_gref,
				    1};
	c[2] = (struct gnttab_copy){{{9}, peer, 0},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 512},
				    15,
				    GNTCOPY_source_gref,
				    1};
	r = gnt_copy(c, 3);
	rt_check(r == 0 && c[0].status == 0 && c[1].status == 0 && c[2].status == 0,
		 "batch: gref->frame, frame->gref, read-only gref->frame", c[1].status);
	rt_check(gnt_streq(own, "from the granter") && gnt_streq(own + 512, "read only page"),
		 "copied contents", own[0]);
	if (v2)
		gnt_subpage(peer);

	/* Refusals, one batch. */
	c[0] = (struct gnttab_copy){
		{{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0}, {{9}, peer, 0}, 8, GNTCOPY_dest_gref, 1};
	c[1] = (struct gnttab_copy){{{10}, peer, 0},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    8,
				    GNTCOPY_source_gref,
				    1};
	c[2] = (struct gnttab_copy){{{100000}, peer, 0},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    8,
				    GNTCOPY_source_gref,
				    1};
	c[3] = (struct gnttab_copy){
		{{8}, 999, 0}, {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0}, 8, GNTCOPY_source_gref, 1};
	c[4] = (struct gnttab_copy){{{8}, peer, 4000},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    200,
				    GNTCOPY_source_gref,
				    1};
	/* (Source: the read-only grant, which the granter never revokes; it
	 * may revoke gref 8 as soon as it saw our write above.) */
	c[5] = (struct gnttab_copy){
		{{9}, peer, 0}, {{.gmfn = 1ULL << 30}, DOMID_SELF, 0}, 8, GNTCOPY_source_gref, 1};
	c[6] = (struct gnttab_copy){
		{{.gmfn = 16}, peer, 0}, {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0}, 8, 0, 1};
	r = gnt_copy(c, 7);
	rt_check(r == 0, "refusal batch returns 0 (status per op)", r);
	rt_check(c[0].status == GNTST_permission_denied, "REFUSED: write to a read-only grant",
		 c[0].status);
	rt_check(c[1].status == GNTST_permission_denied, "REFUSED: grant for another domain",
		 c[1].status);
	rt_check(c[2].status == GNTST_bad_gntref, "REFUSED: reference past the table", c[2].status);
	rt_check(c[3].status == GNTST_bad_domain, "REFUSED: no such domain", c[3].status);
	rt_check(c[4].status == GNTST_bad_copy_arg, "REFUSED: copy crossing a page", c[4].status);
	rt_check(c[5].status == GNTST_bad_page, "REFUSED: destination frame not ours", c[5].status);
	rt_check(c[6].status == GNTST_permission_denied, "REFUSED: raw frame of another domain",
		 c[6].status);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_copy, 0xdead0000UL, 1);
	rt_check(r == -XEN_EFAULT, "REFUSED: bad batch pointer", r);

	/* A batch of whole pages, and the same bytes by memcpy here.  The
	 * first batch is cold (keeld's first touches of these pages), the
	 * best of the next ones warm, as a backend copying into the same
	 * buffers again and again sees it. */
	for (i = 0; i < GNT_PAGES; i++)
		ops[i] = (struct gnttab_copy){{{16 + i}, peer, 0},
					      {{.gmfn = gnt_gmfn(bulk2[i])}, DOMID_SELF, 0},
					      4096,
					      GNTCOPY_source_gref,
					      1};
	t0 = rt_now_ns();
	r = gnt_copy(ops, GNT_PAGES);
	t1 = rt_now_ns();
	for (i = 0, ok = r == 0; i < GNT_PAGES; i++)
		ok &= ops[i].status == 0 && bulk2[i][4095] == 'a' + i % 26;
	rt_check(ok, "256 pages copied in one batch", r);
	for (i = 0; i < GNT_PAGES; i++)
		rt_memcpy(bulk[i], bulk2[i], 4096);
	t2 = rt_now_ns();
	cold = t1 - t0;
	mcold = t2 - t1;
	for (k = 0; k < 8; k++) {
		for (i = 0; i < GNT_PAGES; i++)
			ops[i].status = 1;
		t0 = rt_now_ns();
		r = gnt_copy(ops, GNT_PAGES);
		t1 = rt_now_ns();
		for (i = 0, ok = r == 0; i < GNT_PAGES; i++)
			ok &= ops[i].status == 0;
		rt_check(ok, "256 pages copied again", r);
		for (i = 0; i < GNT_PAGES; i++)
			rt_memcpy(bulk[i], bulk2[i], 4096);
		t2 = rt_now_ns();
		warm = t1 - t0 < warm ? t1 - t0 : warm;
		mwarm = t2 - t1 < mwarm ? t2 - t1 : mwarm;
	}
	/* The same vCPU's null hypercall (best of 32): the exit every batch
	 * pays whatever it copies. */
	for (k = 0; k < 32; k++) {
		t0 = rt_now_ns();
		HYPERCALL(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
		t1 = rt_now_ns();
		null = t1 - t0 < null ? t1 - t0 : null;
	}
	rt_printf("gnt-copy pages=%d bytes=%d copy_ns=%lu memcpy_ns=%lu copy_warm_ns=%lu "
		  "memcpy_warm_ns=%lu null_hypercall_ns=%lu\n",
		  GNT_PAGES, GNT_PAGES * 4096, (unsigned long)cold, (unsigned long)mcold,
		  (unsigned long)warm, (unsigned long)mwarm, (unsigned long)null);

	gnt_map_copy(peer);

	/* Wait for the granter to revoke gref 8 (it says so in gref 11). */
	for (i = 0; i < 3000; i++) {
		c[0] = (struct gnttab_copy){{{11}, peer, 0},
					    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
					    8,
					    GNTCOPY_source_gref,
					    1};
		if (gnt_copy(c, 1) == 0 && c[0].status == 0 && gnt_streq(own, "revoked"))
			break;
		gnt_sleep(10000000);
	}
	rt_check(gnt_streq(own, "revoked"), "granter revoked the page", i);
	c[0] = (struct gnttab_copy){{{8}, peer, 0},
				    {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				    8,
				    GNTCOPY_source_gref,
				    1};
	gnt_copy(c, 1);
	rt_check(c[0].status == GNTST_permission_denied, "REFUSED: copy from a revoked grant",
		 c[0].status);
}

void test_main(void)
{
	long peer = rt_cmdline_num("peer");

	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(peer > 0 && peer < 0x7ff0, "peer domain on the command line", peer);
	if (peer <= 0)
		return;
	if (rt_cmdline_num("rw") < 0)
		gnt_granter((uint16_t)peer, rt_cmdline_num("v2") == 1 ? 2 : 1);
	else
		gnt_copier((uint16_t)peer, rt_cmdline_num("v") == 2);
}
