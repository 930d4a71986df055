/*
 * Unit tests of keeld's buffered ioreq ring (hypervisor/hvm/hvm_bufioreq.c)
 * against Xen's layout: a slot written by keeld reads back through Xen's
 * own bit fields (buf_ioreq_t, declared here from public/hvm/ioreq.h's
 * facts) as the type, size, address and data put in; an 8-byte write
 * takes two slots; a full ring (511 slots, one short for an 8-byte write)
 * is refused so the write goes synchronously; the atomic variant brings
 * both pointers back below the ring's size; and pointers a device model
 * made nonsense of are refused without a write outside the page.
 */
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/hvm/hvm_domain.h"
#include "unit.h"

/* Xen's buf_ioreq_t, as its header declares it */
struct tbr_xen_slot {
	uint8_t type;
	uint8_t pad : 1;
	uint8_t dir : 1;
	uint8_t size : 2;
	uint32_t addr : 20;
	uint32_t data;
};

/* the page with a guard page after it: a write past the page is seen */
static struct hvm_buffered_iopage *tbr_page(uint8_t **guard)
{
	uint8_t *p = calloc(2, 4096);

	*guard = p + 4096;
	memset(*guard, 0x5a, 4096);
	return (struct hvm_buffered_iopage *)p;
}

static int tbr_guard_intact(const uint8_t *guard)
{
	for (int i = 0; i < 4096; i++)
		if (guard[i] != 0x5a)
			return 0;
	return 1;
}

static void tbr_xen_layout(void)
{
	uint8_t *guard;
	struct hvm_buffered_iopage *pg = tbr_page(&guard);
	struct tbr_xen_slot x;

	CU_ASSERT_EQUAL(sizeof(struct tbr_xen_slot), sizeof(struct hvm_buf_ioreq));
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0xb8f9e, 2, 0x0741), 1);
	memcpy(&x, &pg->slot[0], sizeof(x));
	CU_ASSERT_EQUAL(x.type, HVM_IOREQ_TYPE_COPY);
	CU_ASSERT_EQUAL(x.dir, 0); /* a write */
	CU_ASSERT_EQUAL(x.size, 1);
	CU_ASSERT_EQUAL(x.addr, 0xb8f9e);
	CU_ASSERT_EQUAL(x.data, 0x0741);
	CU_ASSERT_EQUAL(pg->ptrs.write_pointer, 1);
	/* 8 bytes: two slots, the high half in the second */
	CU_ASSERT_EQUAL(
		hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0xa0008, 8, 0x1122334455667788ull), 1);
	memcpy(&x, &pg->slot[1], sizeof(x));
	CU_ASSERT_EQUAL(x.size, 3);
	CU_ASSERT_EQUAL(x.addr, 0xa0008);
	CU_ASSERT_EQUAL(x.data, 0x55667788u);
	memcpy(&x, &pg->slot[2], sizeof(x));
	CU_ASSERT_EQUAL(x.data, 0x11223344u);
	CU_ASSERT_EQUAL(pg->ptrs.write_pointer, 3);
	CU_ASSERT_EQUAL(hvm_bufioreq_pending(pg), 3);
	/* what the slot cannot carry: a 3-byte size, an address past 1 MiB */
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0xa0000, 3, 0), 0);
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0x100000, 1, 0), 0);
	CU_ASSERT_EQUAL(pg->ptrs.write_pointer, 3);
	CU_ASSERT(tbr_guard_intact(guard));
	free(pg);
}

static void tbr_full(void)
{
	uint8_t *guard;
	struct hvm_buffered_iopage *pg = tbr_page(&guard);
	int n = 0;

	while (hvm_bufioreq_put(pg, 0, HVM_IOREQ_TYPE_COPY, 0xb8000, 1, 'x'))
		n++;
	CU_ASSERT_EQUAL(n, HVM_BUFIOREQ_SLOTS);
	CU_ASSERT_EQUAL(hvm_bufioreq_pending(pg), HVM_BUFIOREQ_SLOTS);
	/* one slot taken: a byte fits again, an 8-byte write does not */
	pg->ptrs.read_pointer = 1;
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 0, HVM_IOREQ_TYPE_COPY, 0xb8000, 8, 0), 0);
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 0, HVM_IOREQ_TYPE_COPY, 0xb8000, 1, 0), 1);
	CU_ASSERT(tbr_guard_intact(guard));
	free(pg);
}

static void tbr_atomic_canonical(void)
{
	uint8_t *guard;
	struct hvm_buffered_iopage *pg = tbr_page(&guard);

	/* the device model took 1000 slots: both pointers come back below 511
	 * with their difference kept; the legacy variant leaves them */
	pg->ptrs.read_pointer = 1000;
	pg->ptrs.write_pointer = 1002;
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0xb8000, 1, 'y'), 1);
	CU_ASSERT_EQUAL(pg->ptrs.read_pointer, 1000 - HVM_BUFIOREQ_SLOTS);
	CU_ASSERT_EQUAL(pg->ptrs.write_pointer, 1003 - HVM_BUFIOREQ_SLOTS);
	CU_ASSERT_EQUAL(pg->slot[1002 % HVM_BUFIOREQ_SLOTS].data, 'y');
	pg->ptrs.read_pointer = 1000;
	pg->ptrs.write_pointer = 1002;
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 0, HVM_IOREQ_TYPE_COPY, 0xb8000, 1, 'z'), 1);
	CU_ASSERT_EQUAL(pg->ptrs.read_pointer, 1000);
	CU_ASSERT_EQUAL(pg->ptrs.write_pointer, 1003);
	/* near 2^32: the atomic variant keeps the pointers far from it */
	pg->ptrs.read_pointer = 0xfffffff0u;
	pg->ptrs.write_pointer = 0xfffffff0u;
	CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0xb8000, 1, 0), 1);
	CU_ASSERT(pg->ptrs.read_pointer < HVM_BUFIOREQ_SLOTS);
	CU_ASSERT_EQUAL(pg->ptrs.write_pointer - pg->ptrs.read_pointer, 1);
	CU_ASSERT(tbr_guard_intact(guard));
	free(pg);
}

static void tbr_hostile_pointers(void)
{
	uint8_t *guard;
	struct hvm_buffered_iopage *pg = tbr_page(&guard);
	static const uint32_t bad[][2] = {
		{5, 0},	  /* read past write */
		{0, 600}, /* more pending than the ring holds */
		{0xffffffffu, 0x7fffffffu},
		{0x80000000u, 0},
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pg->ptrs.read_pointer = bad[i][0];
		pg->ptrs.write_pointer = bad[i][1];
		CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 1, HVM_IOREQ_TYPE_COPY, 0xb8000, 8, ~0ull), 0);
		CU_ASSERT_EQUAL(hvm_bufioreq_put(pg, 0, HVM_IOREQ_TYPE_COPY, 0xb8000, 1, 0), 0);
		CU_ASSERT_EQUAL(pg->ptrs.write_pointer, bad[i][1]);
		CU_ASSERT_EQUAL(hvm_bufioreq_pending(pg), -1);
	}
	/* any in-range pair, at any distance from 0: slots stay in the page */
	for (uint32_t i = 0; i < 40; i++) {
		uint32_t r = 0xfffffe00u + i * 37;

		pg->ptrs.read_pointer = r;
		pg->ptrs.write_pointer = r + 300;
		while (hvm_bufioreq_put(pg, 0, HVM_IOREQ_TYPE_COPY, 0xbffff, 1, 0xff))
			;
	}
	CU_ASSERT(tbr_guard_intact(guard));
	free(pg);
}

UNIT_SUITE(keeld_hvm_bufioreq, NULL, NULL, UNIT_TEST(tbr_xen_layout), UNIT_TEST(tbr_full),
	   UNIT_TEST(tbr_atomic_canonical), UNIT_TEST(tbr_hostile_pointers));
