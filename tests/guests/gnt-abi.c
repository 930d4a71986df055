/*
 * gnt-abi: corners of Xen 4.17's grant-table ABI, in one guest that grants
 * pages to itself and maps them (run by tests/integration/pv-grant-abi.sh
 * under keeld run, its own domid on the command line as self=):
 *   - GNTMAP_contains_pte with a PTE address that is not 8-byte aligned:
 *     GNTST_general_error, and neither entry it overlaps changes (a map
 *     rounded down would replace the entry before);
 *   - unmap by the device address the map returned (host_addr 0): a
 *     device map goes, a host+device map keeps its host mapping, a wrong
 *     address for a device map is GNTST_bad_dev_addr, and a host-only map
 *     ignores the device address, as Xen checks it only for device maps;
 *   - GNTTABOP_unmap_and_replace: the grant's PTE takes the one that maps
 *     new_addr, which is cleared; its refusals (bad handle, an address not
 *     mapping the grant, new_addr without an L1 entry or in Xen's hole or
 *     the same entry, new_addr with a contains_pte map) change nothing;
 *     no host address, or a device-only map, is no error and unmaps nothing;
 *   - GNTTABOP_set_version(1) refused (-EBUSY) while a version-2 status
 *     frame is mapped, the table left as it was; allowed once unmapped.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/grant_table.h"
#include "gnt-table.h"

static char data_page[4096] __attribute__((aligned(4096)));
/* Places for mappings; each normally maps its own frame. */
static char slot[4][4096] __attribute__((aligned(4096)));

/* The L1 entry that maps va now (page tables are readable at GNT_VIRT_BASE). */
static uint64_t gnt_l1e(const void *va)
{
	return *(volatile uint64_t *)(GNT_VIRT_BASE + gnt_l1e_maddr(va));
}

static void gnt_slot_restore(int i)
{
	long r = gnt_map_own(slot[i]);

	rt_check(r == 0, "slot remapped to our own frame", r);
}

static int16_t gnt_replace(uint64_t host_addr, uint64_t new_addr, uint32_t h)
{
	struct gnttab_unmap_and_replace op = {host_addr, new_addr, h, 1};
	long r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_and_replace, &op, 1);

	return r ? (int16_t)-100 : op.status;
}

static void gnt_misaligned_pte(uint16_t self)
{
	uint64_t pte = gnt_l1e_maddr(slot[1]), e1 = gnt_l1e(slot[1]), e2 = gnt_l1e(slot[2]);
	uint32_t h = 0;
	int16_t st;

	gnt_put(slot[1], "slot one");
	st = gnt_map(self, 8, GNTMAP_host_map | GNTMAP_contains_pte, pte + 4, &h, 0);
	rt_check(st == GNTST_general_error, "REFUSED: contains_pte with a misaligned PTE address",
		 st);
	rt_check(gnt_l1e(slot[1]) == e1 && gnt_l1e(slot[2]) == e2,
		 "the entries it overlaps are unchanged", (long)gnt_l1e(slot[1]));
	rt_check(gnt_has(slot[1], "slot one"), "the slot still maps our own frame", slot[1][0]);
	rt_check(gnt_busy(8) == 0, "and the grant is not held", gnt_busy(8));

	st = gnt_map(self, 8, GNTMAP_host_map | GNTMAP_contains_pte, pte, &h, 0);
	rt_check(st == GNTST_okay, "contains_pte map at the aligned address", st);
	rt_check(gnt_has(slot[1], "granted data"), "the grant read through it", slot[1][0]);
	st = gnt_unmap(pte + 4, 0, h);
	rt_check(st == GNTST_general_error, "REFUSED: unmap by a misaligned PTE address", st);
	rt_check(gnt_has(slot[1], "granted data"), "the map is still there", slot[1][0]);
	st = gnt_unmap(pte, 0, h);
	rt_check(st == GNTST_okay && gnt_busy(8) == 0, "unmap by the aligned PTE address", st);
	gnt_slot_restore(1);
}

static void gnt_dev_bus_unmap(uint16_t self)
{
	uint64_t bus = 0;
	uint32_t h = 0;
	int16_t st;

	st = gnt_map(self, 8, GNTMAP_device_map, 0, &h, &bus);
	rt_check(st == GNTST_okay && bus, "device map", st);
	rt_check(gnt_busy(8) == (GTF_reading | GTF_writing), "grant busy while device-mapped",
		 gnt_busy(8));
	st = gnt_unmap(0, bus + 4096, h);
	rt_check(st == GNTST_bad_dev_addr, "REFUSED: unmap by another device address", st);
	rt_check(gnt_busy(8) != 0, "the device map is still held", gnt_busy(8));
	st = gnt_unmap(0, bus, h);
	rt_check(st == GNTST_okay, "unmap by the device address the map returned", st);
	rt_check(gnt_busy(8) == 0, "grant released", gnt_busy(8));
	st = gnt_unmap(0, bus, h);
	rt_check(st == GNTST_bad_handle, "REFUSED: the handle is gone", st);

	/* Host and device map: the device address drops the device part only. */
	st = gnt_map(self, 8, GNTMAP_host_map | GNTMAP_device_map, (uint64_t)slot[0], &h, &bus);
	rt_check(st == GNTST_okay, "host+device map", st);
	st = gnt_unmap(0, bus, h);
	rt_check(st == GNTST_okay, "its device part unmapped by the device address", st);
	rt_check(gnt_has(slot[0], "granted data") && gnt_busy(8) != 0, "its host mapping stays",
		 gnt_busy(8));
	st = gnt_unmap((uint64_t)slot[0], 0, h);
	rt_check(st == GNTST_okay && gnt_busy(8) == 0, "then the host part", st);
	gnt_slot_restore(0);

	/* A host-only map: Xen checks the device address only for device maps. */
	st = gnt_map(self, 8, GNTMAP_host_map, (uint64_t)slot[0], &h, &bus);
	rt_check(st == GNTST_okay, "host-only map", st);
	st = gnt_unmap((uint64_t)slot[0], bus + 4096, h);
	rt_check(st == GNTST_okay && gnt_busy(8) == 0,
		 "unmapped; the device address of a host-only map is not checked", st);
	gnt_slot_restore(0);
}

static void gnt_unmap_and_replace(uint16_t self)
{
	uint64_t pte = gnt_l1e_maddr(slot[1]), bus = 0;
	uint32_t h = 0;
	int16_t st;

	gnt_put(slot[2], "replacement");
	st = gnt_map(self, 8, GNTMAP_host_map, (uint64_t)slot[0], &h, 0);
	rt_check(st == GNTST_okay, "host map for unmap_and_replace", st);

	st = gnt_replace((uint64_t)slot[0], (uint64_t)slot[2], 4095);
	rt_check(st == GNTST_bad_handle, "REFUSED: replace with an unused handle", st);
	st = gnt_replace((uint64_t)slot[3], (uint64_t)slot[2], h);
	rt_check(st == GNTST_general_error, "REFUSED: replace at an address not mapping it", st);
	st = gnt_replace((uint64_t)slot[0], 0x1000, h);
	rt_check(st == GNTST_general_error, "REFUSED: new_addr without an L1 entry", st);
	st = gnt_replace((uint64_t)slot[0], HYPERVISOR_VIRT_START + 0x1000, h);
	rt_check(st == GNTST_general_error, "REFUSED: new_addr in the hypervisor's hole", st);
	st = gnt_replace((uint64_t)slot[0], (uint64_t)slot[0], h);
	rt_check(st == GNTST_general_error, "REFUSED: new_addr is the grant's own entry", st);
	rt_check(gnt_has(slot[0], "granted data") && gnt_has(slot[2], "replacement") &&
			 gnt_busy(8) != 0,
		 "refusals changed nothing", gnt_busy(8));
	st = gnt_replace(0, (uint64_t)slot[2], h);
	rt_check(st == GNTST_okay && gnt_busy(8) != 0 && gnt_has(slot[2], "replacement"),
		 "no host address: nothing unmapped, no error (Xen)", st);

	st = gnt_replace((uint64_t)slot[0], (uint64_t)slot[2], h);
	rt_check(st == GNTST_okay, "unmap_and_replace", st);
	rt_check(gnt_has(slot[0], "replacement"), "the address now maps new_addr's frame",
		 slot[0][0]);
	rt_check(gnt_l1e(slot[2]) == 0, "new_addr's entry cleared", (long)gnt_l1e(slot[2]));
	rt_check(gnt_busy(8) == 0, "grant released", gnt_busy(8));
	st = gnt_unmap((uint64_t)slot[0], 0, h);
	rt_check(st == GNTST_bad_handle, "REFUSED: the handle is gone", st);
	gnt_put(slot[0], "written after");
	gnt_slot_restore(0);
	gnt_slot_restore(2);
	rt_check(gnt_has(slot[2], "written after"), "it was new_addr's own frame", slot[2][0]);

	/* A map by PTE address can only be unmapped, not replaced (Xen). */
	st = gnt_map(self, 8, GNTMAP_host_map | GNTMAP_contains_pte, pte, &h, 0);
	rt_check(st == GNTST_okay, "contains_pte map", st);
	st = gnt_replace(pte, (uint64_t)slot[2], h);
	rt_check(st == GNTST_general_error, "REFUSED: replace of a contains_pte map", st);
	rt_check(gnt_has(slot[1], "granted data") && gnt_has(slot[2], "written after"),
		 "nothing changed", slot[1][0]);
	st = gnt_replace(pte, 0, h);
	rt_check(st == GNTST_okay && gnt_busy(8) == 0, "replace with no new_addr unmaps it", st);
	gnt_slot_restore(1);

	/* A device-only map has no host mapping to replace. */
	st = gnt_map(self, 8, GNTMAP_device_map, 0, &h, &bus);
	rt_check(st == GNTST_okay, "device map", st);
	st = gnt_replace((uint64_t)slot[0], (uint64_t)slot[2], h);
	rt_check(st == GNTST_okay && gnt_busy(8) != 0 && gnt_has(slot[2], "written after"),
		 "replace of a device-only map: nothing done, no error (Xen)", st);
	st = gnt_unmap(0, bus, h);
	rt_check(st == GNTST_okay && gnt_busy(8) == 0, "device map unmapped", st);
}

static void gnt_set_version_mapped(uint16_t self)
{
	struct gnttab_set_version sv = {1};
	struct gnttab_get_version gv = {DOMID_SELF, 0, 0};
	uint64_t bus = 0;
	uint32_t h = 0;
	long r;

	gnt_table_init(2); /* maps the status frame at gnt_status_va */
	gnt_grant(8, self, gnt_gmfn(data_page), GTF_permit_access);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &sv, 1);
	rt_check(r == -XEN_EBUSY && sv.version == 2,
		 "REFUSED: set_version(1) with a status frame mapped", r);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_version, &gv, 1);
	rt_check(r == 0 && gv.version == 2, "still version 2", gv.version);
	rt_check(*gnt_flags(8) == GTF_permit_access, "the table is as it was", *gnt_flags(8));
	rt_check(gnt_map(self, 8, GNTMAP_device_map | GNTMAP_readonly, 0, &h, &bus) == GNTST_okay &&
			 gnt_busy(8) == GTF_reading,
		 "the status frame still in use (a map's busy bit seen in it)", gnt_busy(8));
	rt_check(gnt_unmap(0, bus, h) == GNTST_okay && gnt_revoke(8), "unmapped and revoked", 0);

	r = HYPERCALL(__HYPERVISOR_update_va_mapping, gnt_status_va, 0, UVMF_INVLPG);
	rt_check(r == 0, "status frame unmapped", r);
	sv.version = 1;
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &sv, 1);
	rt_check(r == 0 && sv.version == 1, "set_version(1) once no status frame is mapped", r);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_version, &gv, 1);
	rt_check(r == 0 && gv.version == 1, "version 1", gv.version);
}

void test_main(void)
{
	long self = rt_cmdline_num("self");
	uint32_t h = 0;

	rt_check(rt_events_init() == 0, "events", 0);
	rt_check(self > 0 && self < 0x7ff0, "own domid on the command line", self);
	if (self <= 0)
		return;
	gnt_table_init(1);
	gnt_put(data_page, "granted data");
	gnt_grant(8, (uint16_t)self, gnt_gmfn(data_page), GTF_permit_access);
	rt_check(gnt_map((uint16_t)self, 8, GNTMAP_host_map, (uint64_t)slot[0], &h, 0) ==
				 GNTST_okay &&
			 gnt_unmap((uint64_t)slot[0], 0, h) == GNTST_okay,
		 "a map of our own grant (self= is our domid)", 0);
	gnt_slot_restore(0);

	gnt_misaligned_pte((uint16_t)self);
	gnt_dev_bus_unmap((uint16_t)self);
	gnt_unmap_and_replace((uint16_t)self);
	gnt_set_version_mapped((uint16_t)self);
}
