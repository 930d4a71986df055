/*
 * gnt-dom0copy: the guest half of tests/integration/pv-grant-dom0copy.sh.
 * It grants pages to dom0 with known contents, on grant tables version 1
 * or (v2=1) version 2, and prints their references; a dom0 process
 * (keel-gcopy-check) reads them with keeld's batched grant copy, checks
 * keeld's refusals and finally writes into the writable page.  The guest
 * then checks that dom0's words arrived, that nothing was written into
 * the read-only page, and that every grant can be revoked (no busy bit
 * left behind by any copy).
 *
 * Grants: 8 writable; 9 read-only ("read only page" then 'r'); 10 to
 * another domain (7); 11 reserved but never granted; 13 (version 2) the
 * bytes [5, 9) of page 9 as a sub-page grant; 16.. GNT_PAGES read-only
 * pages filled with 'a' + i % 26.
 */
#include "gnt-table.h"

#define VIRT_BASE 0xffffffff80000000UL
#define GNT_PAGES 64

static char rw_page[4096] __attribute__((aligned(4096)));
static char ro_page[4096] __attribute__((aligned(4096)));
static char bulk[GNT_PAGES][4096] __attribute__((aligned(4096)));

static int gnt_streq(const char *a, const char *b)
{
	while (*b)
		if (*a++ != *b++)
			return 0;
	return 1;
}

void test_main(void)
{
	int version = rt_cmdline_num("v2") == 1 ? 2 : 1, i, ok;

	rt_check(rt_events_init() == 0, "events", 0);
	gnt_table_init(version);
	rt_memset(ro_page, 'r', 4096);
	rt_memcpy(ro_page, "read only page", 14);
	for (i = 0; i < GNT_PAGES; i++)
		rt_memset(bulk[i], 'a' + i % 26, 4096);
	gnt_grant(9, 0, gnt_gmfn(ro_page), GTF_permit_access | GTF_readonly);
	gnt_grant(10, 7, gnt_gmfn(rw_page), GTF_permit_access);
	if (version == 2) /* "read only page"[5..9): "only" */
		gnt_grant_sub_page(13, 0, gnt_gmfn(ro_page), 5, 4,
				   GTF_permit_access | GTF_readonly);
	for (i = 0; i < GNT_PAGES; i++)
		gnt_grant(16 + i, 0, gnt_gmfn(bulk[i]), GTF_permit_access | GTF_readonly);
	gnt_grant(8, 0, gnt_gmfn(rw_page), GTF_permit_access);
	rt_printf("gnt-refs rw=8 ro=9 other=10 unused=11 sub=13 bulk=16 n=%d v=%d\n", GNT_PAGES,
		  version);

	for (i = 0; i < 6000 && !gnt_streq(rw_page + 2048, "from dom0 by copy"); i++)
		gnt_sleep(10000000);
	rt_check(gnt_streq(rw_page + 2048, "from dom0 by copy"), "dom0 copied into our page", i);
	for (ok = 1, i = 0; i < 2048; i++)
		ok &= rw_page[i] == 0;
	rt_check(ok, "nothing else of the writable page was touched", i);
	for (ok = gnt_streq(ro_page, "read only page"), i = 14; i < 4096; i++)
		ok &= ro_page[i] == 'r';
	rt_check(ok, "the read-only page is unchanged", i);
	/* Revoke as a guest does: only if no copy holds a grant. */
	rt_check(gnt_revoke(8), "writable grant revoked: no busy bit left", gnt_busy(8));
	rt_check(gnt_revoke(9), "read-only grant revoked: no busy bit left", gnt_busy(9));
	if (version == 2)
		rt_check(gnt_revoke(13), "sub-page grant revoked", gnt_busy(13));
	for (ok = 1, i = 0; i < GNT_PAGES; i++)
		ok &= gnt_revoke(16 + i);
	rt_check(ok, "bulk grants revoked", i);
}
