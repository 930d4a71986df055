/*
 * gnt-dom0release: the guest half of
 * tests/integration/pv-grant-dom0release.sh.  It grants dom0 a writable
 * page (ref 8), a read-only page (ref 9) and GNT_PAGES read-only pages
 * (16..) and prints them with its store port, which the builder left
 * unbound for dom0.  A dom0 process (keel-grant-holder) maps them all and
 * binds the port, writes a word into the writable page and is then killed
 * with -9.  The guest sees the grants busy while that process lives, then
 * revocable (keeld dropped the dead process's maps: without that the busy
 * bits would stay forever), and then exchanges events over the same port
 * with a second dom0 process (keel-evtchn-pong), which could bind it only
 * because keeld unbound the dead process's end.
 */
#include "abi/event_channel.h"
#include "gnt-table.h"

#define VIRT_BASE  0xffffffff80000000UL
#define GNT_PAGES  8
#define REL_ROUNDS 20

static char rw_page[4096] __attribute__((aligned(4096)));
static char ro_page[4096] __attribute__((aligned(4096)));
static char bulk[GNT_PAGES][4096] __attribute__((aligned(4096)));

static uint64_t rel_gmfn(void *p)
{
	return ((uint64_t)p - VIRT_BASE) >> 12;
}

/* Block on port until its count reaches want or timeout_ns passes. */
static int rel_streq(const char *a, const char *b)
{
	while (*b)
		if (*a++ != *b++)
			return 0;
	return 1;
}

static int rel_all_busy(void)
{
	int ok = gnt_busy(8) && gnt_busy(9);

	for (int i = 0; i < GNT_PAGES; i++)
		ok &= gnt_busy(16 + i) != 0;
	return ok;
}

void test_main(void)
{
	uint32_t port = rt_start_info->store_evtchn;
	struct evtchn_send sd = {port};
	uint64_t c0;
	int i, ok;

	(void)gnt_grant_sub_page; /* gnt-table.h's; version 1 has no sub-page grants */
	rt_check(rt_events_init() == 0, "events", 0);
	gnt_table_init(1);
	rt_memset(ro_page, 'r', 4096);
	for (i = 0; i < GNT_PAGES; i++)
		rt_memset(bulk[i], 'a' + i, 4096);
	gnt_grant(9, 0, rel_gmfn(ro_page), GTF_permit_access | GTF_readonly);
	for (i = 0; i < GNT_PAGES; i++)
		gnt_grant(16 + i, 0, rel_gmfn(bulk[i]), GTF_permit_access | GTF_readonly);
	gnt_grant(8, 0, rel_gmfn(rw_page), GTF_permit_access);
	rt_printf("gnt-refs rw=8 ro=9 bulk=16 n=%d port=%u\n", GNT_PAGES, port);

	/* The holder writes once it has mapped everything and bound. */
	for (i = 0; i < 3000 && !rel_streq(rw_page + 2048, "held by dom0"); i++)
		rt_wait_event_count(port, ~0ULL, 10000000);
	rt_check(rel_streq(rw_page + 2048, "held by dom0"), "dom0 process mapped our grants", i);
	rt_check(rel_all_busy(), "grants busy while the dom0 process lives", gnt_busy(8));
	rt_printf("rel-held\n");

	/* It is killed now; its maps must go without it unmapping. */
	for (i = 0; i < 3000 && rel_all_busy(); i++)
		rt_wait_event_count(port, ~0ULL, 10000000);
	for (ok = 1, i = 0; i < GNT_PAGES; i++)
		ok &= gnt_revoke(16 + i);
	rt_check(ok, "batch-mapped grants revoked after the process died", i);
	rt_check(gnt_revoke(8), "writable grant revoked after the process died", gnt_busy(8));
	rt_check(gnt_revoke(9), "read-only grant revoked after the process died", gnt_busy(9));
	rt_printf("rel-revoked\n");

	/* A new dom0 process binds the same port: rounds answered. */
	for (i = 0, ok = 0; i < 300 && !ok; i++) {
		c0 = rt_event_counts[port];
		rt_evtchn_op(EVTCHNOP_send, &sd);
		ok = rt_wait_event_count(port, c0 + 1, 100000000ULL);
	}
	rt_check(ok, "a second dom0 process answered on the same port", i);
	c0 = rt_event_counts[port];
	for (i = 0, ok = 1; i < REL_ROUNDS && ok; i++) {
		rt_evtchn_op(EVTCHNOP_send, &sd);
		ok = rt_wait_event_count(port, c0 + i + 1, 5000000000ULL);
	}
	rt_check(ok && i == REL_ROUNDS, "events exchanged with the second process", i);
}
