/*
 * drv-hostile: a hostile driver domain (driver_domain=1) for
 * drv-hostile.sh.  Its frontend "fe" and a third domain "third" are
 * pv-victim guests: fe granted it one page read-only (ref 8; ref 9 is
 * dom0's) and left it one port (fport; fport+1 is dom0's); third granted
 * and left the same to fe, not to us.  The script writes those numbers
 * under our store home (hostile/...) once all three run.
 *
 * What a driver domain may do works: map and read fe's grant, bind fe's
 * port, read fe's vif frontend directory, write its own backend directory;
 * a grant it makes of the page it maps passes that page on to copies,
 * read-only as its map is (a map of that grant is refused).  What it may not do is refused, and the test passes only if
 * every refusal has Xen's error: frames of another domain by mmu_update
 * (foreigndom) or update_va_mapping_otherdomain, a PTE naming a frame past
 * its RAM or a window frame (unmapped, or an alias of its live map);
 * grant maps and copies of refs not granted to it (fe's dom0 ref, an
 * unused ref, third's refs), writing through a read-only grant; binding a
 * port not offered to it (fe's dom0 port, an unallocated one, third's);
 * store writes, removals and permission changes outside its own nodes.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "../../frontends/runtime/xenbus.h"
#include "abi/event_channel.h"
#include "gnt-table.h"
#include "pv_test.h"

/* gnt-table.h serves granters that revoke; this one never does. */
static int (*const drv_unused_revoke)(uint32_t) __attribute__((unused)) = gnt_revoke;

#define WINDOW_MFN (0x1800000000ULL >> 12) /* keeld's foreign window */

static char slot[2][4096] __attribute__((aligned(4096)));
static char own[4096] __attribute__((aligned(4096)));

/* pv-victim's pattern, word i of its page p */
static uint64_t victim_word(unsigned page, unsigned i)
{
	uint64_t x = ((uint64_t)page << 32 | i) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29);
}

static uint64_t arg(const char *name)
{
	static char path[64];
	uint64_t v = 0;

	rt_snprintf(path, sizeof(path), "hostile/%s", name);
	rt_check(xb_read_u64(path, &v) >= 0, name, (long)v);
	return v;
}

static long bind(uint16_t dom, uint32_t port, uint32_t *local)
{
	struct evtchn_bind_interdomain b = {dom, port, 0};
	long r = rt_evtchn_op(EVTCHNOP_bind_interdomain, &b);

	if (local)
		*local = b.local_port;
	return r;
}

static int16_t copy1(struct gnttab_copy *c)
{
	long r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_copy, c, 1);

	return r ? (int16_t)-100 : c->status;
}

/* Copy from (gref of dom, or our own frame) into `own`. */
static int16_t copy_in(uint16_t dom, uint32_t ref, uint16_t len)
{
	struct gnttab_copy c = {{{ref}, dom, 0},
				{{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				len,
				GNTCOPY_source_gref,
				0};

	return copy1(&c);
}

static void store_checks(uint16_t fe, uint16_t third, uint16_t me)
{
	static char p[96], buf[64];
	int r;

	rt_snprintf(p, sizeof(p), "/local/domain/%u/device/vif/0/state", fe);
	r = xb_read(p, buf, sizeof(buf));
	rt_check(r > 0, "reads its frontend's vif state", r);
	r = xb_write(p, "6");
	rt_check(r == -XEN_EACCES, "may not write its frontend's vif state", r);
	rt_snprintf(p, sizeof(p), "/local/domain/%u/device/vif/0", fe);
	r = xb_rm(p);
	rt_check(r == -XEN_EACCES, "may not remove its frontend's vif directory", r);
	r = xb_call(XS_SET_PERMS, p, "b0", 1, buf, sizeof(buf));
	rt_check(r == XS_ERROR, "may not change its frontend's permissions", r);
	rt_snprintf(p, sizeof(p), "/local/domain/%u/hostile", fe);
	r = xb_write(p, "x");
	rt_check(r == -XEN_EACCES, "may not write under its frontend's home", r);
	rt_snprintf(p, sizeof(p), "/local/domain/%u/hostile", third);
	r = xb_write(p, "x");
	rt_check(r == -XEN_EACCES, "may not write under a third domain's home", r);
	r = xb_write("/local/domain/0/hostile", "x");
	rt_check(r == -XEN_EACCES, "may not write under dom0's home", r);
	r = xb_write("/local/domain/hostile", "x");
	rt_check(r == -XEN_EACCES, "may not write /local/domain/hostile", r);
	r = xb_write("/tool/hostile", "x");
	rt_check(r == -XEN_EACCES, "may not write /tool/hostile", r);
	rt_snprintf(p, sizeof(p), "/local/domain/%u/backend/vif/%u/0/hostile", me, fe);
	r = xb_write(p, "ok");
	rt_check(r >= 0, "writes its own backend directory", r);
}

static void mmu_checks(uint16_t fe, uint64_t fmfn, uint64_t win_mfn)
{
	struct mmu_update u = {gnt_l1e_maddr(slot[1]) | MMU_NORMAL_PT_UPDATE,
			       (fmfn << 12) | PVT_PTE_RW};
	uint64_t done = 0;
	long r;

	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, (uint64_t)&done, fe, 0);
	rt_check(r < 0 && done == 0, "mmu_update with foreigndom = its frontend refused", r);
	r = hypercall5(__HYPERVISOR_update_va_mapping_otherdomain, (uint64_t)slot[1],
		       (fmfn << 12) | PVT_PTE_RW, UVMF_INVLPG, fe, 0);
	rt_check(r < 0, "update_va_mapping_otherdomain refused", r);
	r = pvt_uvm(slot[1], ((rt_start_info->nr_pages + 5) << 12) | PVT_PTE_RW);
	rt_check(r < 0, "a PTE naming a frame past its RAM refused", r);
	r = pvt_uvm(slot[1], ((WINDOW_MFN + 4000) << 12) | PVT_PTE_RW);
	rt_check(r < 0, "a PTE naming an unmapped window frame refused", r);
	r = pvt_uvm(slot[1], (win_mfn << 12) | PVT_PTE_RW);
	rt_check(r < 0, "a writable alias of the read-only map's window frame refused", r);
	/* Only the grant op writes a PTE naming a window frame: an alias
	 * could outlive the map. */
	r = pvt_uvm(slot[1], (win_mfn << 12) | (PVT_PTE_RW & ~2UL));
	rt_check(r < 0, "a read-only alias of the map's window frame refused", r);
	rt_check(*(volatile uint64_t *)slot[1] == 0, "the slot still maps its own page",
		 (long)*(volatile uint64_t *)slot[1]);
}

static void grant_checks(uint16_t fe, uint16_t third, uint16_t me, uint64_t win_mfn)
{
	struct gnttab_copy c;
	int16_t st;

	st = gnt_map(fe, 8, GNTMAP_host_map, (uint64_t)slot[1], 0, 0);
	rt_check(st != GNTST_okay, "writable map of a read-only grant refused", st);
	st = gnt_map(fe, 9, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st != GNTST_okay, "map of fe's ref granted to dom0 refused", st);
	st = gnt_map(fe, 200, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st != GNTST_okay, "map of a ref fe never granted refused", st);
	st = gnt_map(third, 8, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st != GNTST_okay, "map of third's ref granted to fe refused", st);
	st = gnt_map(third, 9, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st != GNTST_okay, "map of third's ref granted to dom0 refused", st);
	st = copy_in(fe, 9, 8);
	rt_check(st == GNTST_permission_denied, "copy from fe's dom0 ref refused", st);
	st = copy_in(third, 8, 8);
	rt_check(st == GNTST_permission_denied, "copy from third's ref refused", st);
	st = copy_in(fe, 8, 8);
	rt_check(st == GNTST_okay && *(volatile uint64_t *)own == victim_word(0, 0),
		 "copy from fe's ref granted to it", st);
	c = (struct gnttab_copy){
		{{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0}, {{8}, fe, 0}, 8, GNTCOPY_dest_gref, 0};
	st = copy1(&c);
	rt_check(st == GNTST_permission_denied, "copy into a read-only grant refused", st);
	c = (struct gnttab_copy){
		{{.gmfn = 5}, fe, 0}, {{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0}, 8, 0, 0};
	st = copy1(&c);
	rt_check(st != GNTST_okay, "copy from a frame of fe (not a grant) refused", st);
	/* A grant of the window page of the map passes fe's page on, read-only. */
	gnt_grant(20, me, win_mfn, GTF_permit_access);
	*(volatile uint64_t *)own = 0;
	st = copy_in(DOMID_SELF, 20, 8);
	rt_check(st == GNTST_okay && *(volatile uint64_t *)own == victim_word(0, 0),
		 "a grant of the mapped page reads fe's page", st);
	c = (struct gnttab_copy){{{.gmfn = gnt_gmfn(own)}, DOMID_SELF, 0},
				 {{20}, DOMID_SELF, 0},
				 8,
				 GNTCOPY_dest_gref,
				 0};
	st = copy1(&c);
	rt_check(st == GNTST_bad_page, "but may not write it (read-only map)", st);
	st = gnt_map(me, 20, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[1], 0, 0);
	rt_check(st != GNTST_okay, "a map of that grant refused (copies only)", st);
	gnt_grant(21, me, WINDOW_MFN + 4000, GTF_permit_access | GTF_readonly);
	st = copy_in(DOMID_SELF, 21, 8);
	rt_check(st == GNTST_bad_page, "a grant of an unmapped window frame reads nothing", st);
	gnt_grant(22, me, rt_start_info->nr_pages + 5, GTF_permit_access | GTF_readonly);
	st = copy_in(DOMID_SELF, 22, 8);
	rt_check(st == GNTST_bad_page, "a grant of a frame past its RAM reads nothing", st);
}

static void event_checks(uint16_t fe, uint16_t third, uint32_t fport, uint32_t tport)
{
	uint32_t local = 0;
	long r;

	r = bind(fe, fport + 1, 0);
	rt_check(r == -XEN_EINVAL, "bind of fe's port left for dom0 refused", r);
	r = bind(fe, 1000, 0);
	rt_check(r == -XEN_EINVAL, "bind of a port fe never allocated refused", r);
	r = bind(third, tport, 0);
	rt_check(r == -XEN_EINVAL, "bind of third's port left for fe refused", r);
	r = bind(DOMID_FIRST_RESERVED - 1, 1, 0);
	rt_check(r == -XEN_ESRCH, "bind to a domain that does not exist refused", r);
	r = bind(fe, fport, &local);
	rt_check(r == 0, "bind of the port fe offered it", r);
	struct evtchn_send s = {local};
	r = rt_evtchn_op(EVTCHNOP_send, &s);
	rt_check(r == 0, "and a notification on it", r);
	struct evtchn_close cl = {local};
	r = rt_evtchn_op(EVTCHNOP_close, &cl);
	rt_check(r == 0, "closed again", r);
}

void test_main(void)
{
	uint64_t fe, third, fport, tport, fmfn, bus = 0;
	uint32_t h = 0;
	int16_t st;
	int me, i;

	rt_check(xb_init() == 0, "xenbus client on the store ring", 0);
	rt_check(rt_events_init() == 0, "events up", 0);
	gnt_table_init(1);
	me = xb_domid();
	for (i = 0; i < 3000 && xb_read_u64("hostile/fmfn", &fmfn) < 0; i++)
		gnt_sleep(10000000);
	fe = arg("fe");
	third = arg("third");
	fport = arg("fport");
	tport = arg("tport");
	fmfn = arg("fmfn");
	rt_printf("drv-hostile d%d: fe d%lu third d%lu\n", me, (unsigned long)fe,
		  (unsigned long)third);

	st = gnt_map((uint16_t)fe, 8, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)slot[0], &h,
		     &bus);
	rt_check(st == GNTST_okay, "map of fe's grant to it", st);
	rt_check(*(volatile uint64_t *)slot[0] == victim_word(0, 0), "reads fe's page",
		 (long)*(volatile uint64_t *)slot[0]);
	store_checks((uint16_t)fe, (uint16_t)third, (uint16_t)me);
	mmu_checks((uint16_t)fe, fmfn, bus >> 12);
	grant_checks((uint16_t)fe, (uint16_t)third, (uint16_t)me, bus >> 12);
	event_checks((uint16_t)fe, (uint16_t)third, (uint32_t)fport, (uint32_t)tport);
	st = gnt_unmap((uint64_t)slot[0], 0, h);
	rt_check(st == GNTST_okay, "unmap", st);
	st = copy_in(DOMID_SELF, 20, 8);
	rt_check(st == GNTST_bad_page, "the grant of the mapped page reads nothing once unmapped",
		 st);
}
