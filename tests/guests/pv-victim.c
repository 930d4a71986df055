/*
 * pv-victim: the domain beside the hostile guests of pv-hostile.sh.  It
 * fills VICTIM_PAGES pages with a pattern, grants one of them read-only
 * to each attacker (peer=, n= consecutive domain ids) and one to dom0,
 * leaves a port unbound for each attacker and one for dom0, binds its
 * VIRQ_TIMER, prints what it set up ("victim-ready ..."), and then checks
 * everything again and again until it is destroyed: the pattern, its
 * grant entries (all but the busy bits the attackers may set by mapping
 * what was granted to them), the state of every port (an attacker may
 * bind and close the port left for it, nothing else), and its page tables
 * (but the accessed and dirty bits).  Each change prints a "victim-changed"
 * line; every 20 passes print "victim-pass N" so the script can wait for
 * passes made after the last attacker ended.  tamper=1 changes one word of
 * the pattern after the ready line, as a keeld bug would: the script must
 * then fail (PV_HOSTILE_TAMPER=1 shows the check can fail).
 */
#include "pv_test.h"
#include "abi/event_channel.h"
#include "gnt-table.h"

/* gnt-table.h serves granters that revoke; this one never does. */
static int (*const victim_unused_revoke)(uint32_t) __attribute__((unused)) = gnt_revoke;

#define VICTIM_PAGES 32
#define MAX_PEERS    16
#define PT_SNAP	     16
#define PTE_AD	     0x60UL

static uint64_t pattern[VICTIM_PAGES][512] __attribute__((aligned(4096)));
static uint64_t pt_snap[PT_SNAP][512];
static uint32_t ports[MAX_PEERS + 2];
static struct evtchn_status port_state[MAX_PEERS + 2];
static uint16_t gflags[MAX_PEERS + 1];
static uint64_t gframes[MAX_PEERS + 1];
static unsigned nports, changes;

static uint64_t victim_word(unsigned page, unsigned i)
{
	uint64_t x = ((uint64_t)page << 32 | i) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29);
}

static void victim_changed(const char *what, unsigned which, uint64_t got)
{
	if (changes++ < 32)
		rt_printf("victim-changed: %s %u (0x%lx)\n", what, which, (unsigned long)got);
}

static long victim_status(uint32_t port, struct evtchn_status *st)
{
	*st = (struct evtchn_status){.dom = DOMID_SELF, .port = port};
	return rt_evtchn_op(EVTCHNOP_status, st);
}

static long victim_unbound(uint16_t remote)
{
	struct evtchn_alloc_unbound au = {DOMID_SELF, remote, 0};
	long r = rt_evtchn_op(EVTCHNOP_alloc_unbound, &au);

	return r ? r : au.port;
}

/* An attacker may bind the port left for it and close its end again. */
static int victim_port_ok(unsigned i, const struct evtchn_status *now, uint16_t peer, unsigned n)
{
	const struct evtchn_status *was = &port_state[i];

	if (i < n && now->status == EVTCHNSTAT_interdomain && now->u.interdomain.dom == peer + i)
		return 1;
	return now->status == was->status && now->vcpu == was->vcpu &&
	       now->u.unbound.dom == was->u.unbound.dom;
}

static void victim_check(uint16_t peer, unsigned n)
{
	const uint64_t *l4 = (const uint64_t *)rt_start_info->pt_base;
	unsigned npt =
		rt_start_info->nr_pt_frames < PT_SNAP ? rt_start_info->nr_pt_frames : PT_SNAP;

	for (unsigned p = 0; p < VICTIM_PAGES; p++)
		for (unsigned i = 0; i < 512; i++)
			if (pattern[p][i] != victim_word(p, i))
				victim_changed("pattern page", p, pattern[p][i]);
	for (unsigned g = 0; g <= n; g++) {
		uint16_t f = *gnt_flags(8 + g) & ~(GTF_reading | GTF_writing);
		const struct grant_entry_v1 *e = (const void *)(gnt_table_va + (8 + g) * 8);

		if (f != gflags[g] || e->frame != gframes[g])
			victim_changed("grant entry", 8 + g, f);
	}
	for (unsigned i = 0; i < nports; i++) {
		struct evtchn_status st;
		long r = victim_status(ports[i], &st);

		if (r || !victim_port_ok(i, &st, peer, n))
			victim_changed("port", ports[i], r ? (uint64_t)r : st.status);
	}
	for (unsigned p = 0; p < npt; p++)
		for (unsigned i = 0; i < 512; i++)
			if ((l4[p * 512 + i] & ~PTE_AD) != pt_snap[p][i])
				victim_changed("page-table entry", p * 512 + i, l4[p * 512 + i]);
}

void test_main(void)
{
	long peer = rt_cmdline_num("peer"), n = rt_cmdline_num("n");
	const uint64_t *l4 = (const uint64_t *)rt_start_info->pt_base;
	struct evtchn_bind_virq bv = {VIRQ_TIMER, 0, 0};
	unsigned npt =
		rt_start_info->nr_pt_frames < PT_SNAP ? rt_start_info->nr_pt_frames : PT_SNAP;
	long r;

	rt_check(peer > 0 && n > 0 && n <= MAX_PEERS, "peer= and n= given", n);
	rt_check(rt_events_init() == 0, "events up", 0);
	for (unsigned p = 0; p < VICTIM_PAGES; p++)
		for (unsigned i = 0; i < 512; i++)
			pattern[p][i] = victim_word(p, i);
	gnt_table_init(1);
	for (unsigned g = 0; g <= n; g++) {
		gflags[g] = GTF_permit_access | GTF_readonly;
		gframes[g] = gnt_gmfn(pattern[g]);
		/* One read-only grant per attacker, the last one for dom0. */
		gnt_grant(8 + g, g < n ? (uint16_t)(peer + g) : 0, gframes[g], gflags[g]);
	}
	for (unsigned i = 0; i <= n; i++) {
		r = victim_unbound(i < n ? (uint16_t)(peer + i) : 0);
		rt_check(r > 0, "port left unbound", r);
		ports[nports++] = (uint32_t)r;
		rt_check(ports[i] == ports[0] + i, "ports consecutive (the script counts on it)",
			 r);
	}
	r = rt_evtchn_op(EVTCHNOP_bind_virq, &bv);
	rt_check(r == 0, "VIRQ_TIMER bound", r);
	ports[nports++] = bv.port;
	for (unsigned i = 0; i < nports; i++)
		victim_status(ports[i], &port_state[i]);
	for (unsigned p = 0; p < npt; p++)
		for (unsigned i = 0; i < 512; i++)
			pt_snap[p][i] = l4[p * 512 + i] & ~PTE_AD;
	rt_printf("victim-ready vref=8 vport=%u v0port=%u vmfn=%lu\n", ports[0], ports[n],
		  (unsigned long)gnt_gmfn(pattern));
	if (rt_cmdline_num("tamper") == 1)
		pattern[VICTIM_PAGES - 1][7] ^= 1;
	for (unsigned long pass = 1;; pass++) {
		victim_check((uint16_t)peer, (unsigned)n);
		if (pass % 20 == 0)
			rt_printf("victim-pass %lu changes %u\n", pass, changes);
		gnt_sleep(5000000);
	}
}
