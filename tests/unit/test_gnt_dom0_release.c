/*
 * Unit tests of the dom0 grant maps keeld keeps per control connection
 * (hypervisor/gnttab/gnttab_dom0.c gnttab_dom0_conn_*): a closed connection's
 * pins are dropped, of the kind it took (another process's writable map
 * of the same reference stays), an unmap through another connection moves
 * the record with the pin, batches are all or nothing, and a destroyed
 * domain's records are forgotten.
 */
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/gnttab/gnttab.h"
#include "../../hypervisor/gnttab/gnttab_dom0.h"
#include "../../hypervisor/pv/pv_mm.h"
#include "abi/grant_table.h"
#include "unit.h"

#define REL_NPAGES 16
#define REL_A	   2000 /* connection numbers no real socket has here */
#define REL_B	   2001

static struct domain *rel_d;

static struct domain *test_gnt_rel_find(uint32_t domid)
{
	return rel_d && domid == (uint32_t)rel_d->domid ? rel_d : NULL;
}

static struct domain *test_gnt_rel_none(uint32_t domid)
{
	return NULL;
}

static uint16_t test_gnt_rel_flags(uint32_t ref)
{
	return ((struct grant_entry_v1 *)gnttab_busy(rel_d, ref))->flags;
}

static void test_gnt_rel_grant(uint32_t ref, uint32_t frame, uint16_t flags)
{
	struct grant_entry_v1 *e = (struct grant_entry_v1 *)gnttab_busy(rel_d, ref);

	e->domid = 0;
	e->frame = frame;
	e->flags = flags;
}

static int test_gnt_rel_init(void)
{
	int err;

	rel_d = domain_new(&pv_kind, "unit", REL_NPAGES, 1, DOMAIN_NO_KVM, &err);
	if (!rel_d)
		return -1;
	rel_d->gnttab_frames = 1;
	hvlog_to_stderr = 0;
	return 0;
}

static int test_gnt_rel_cleanup(void)
{
	gnttab_dom0_conn_release(REL_A, test_gnt_rel_find);
	gnttab_dom0_conn_release(REL_B, test_gnt_rel_find);
	domain_free(rel_d);
	return 0;
}

static void test_gnt_rel_closed(void)
{
	uint64_t f;

	test_gnt_rel_grant(50, 3, GTF_permit_access);
	test_gnt_rel_grant(51, 4, GTF_permit_access | GTF_readonly);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_A, rel_d, 50, 1, &f), 0);
	CU_ASSERT_EQUAL(f, 3);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_A, rel_d, 51, 0, &f), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_A, rel_d, 51, 0, &f), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_A, rel_d, 51, 1, &f), -EPERM);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_B, rel_d, 50, 0, &f), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(50), GTF_permit_access | GTF_reading | GTF_writing);
	/* A dies: its writable pin of 50 and both of 51 go, B's read stays. */
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_A, test_gnt_rel_find), 3);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(50), GTF_permit_access | GTF_reading);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(51), GTF_permit_access | GTF_readonly);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_A, test_gnt_rel_find), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_B, test_gnt_rel_find), 1);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(50), GTF_permit_access);
}

static void test_gnt_rel_kind(void)
{
	uint64_t f;

	/* B reads 52, A writes it; B's unmap drops B's read pin, not A's
	 * writable one (the unmap alone would take the writable first). */
	test_gnt_rel_grant(52, 5, GTF_permit_access);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_B, rel_d, 52, 0, &f), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_A, rel_d, 52, 1, &f), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_unmap(REL_B, rel_d, 52), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(52), GTF_permit_access | GTF_reading | GTF_writing);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_B, test_gnt_rel_find), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(52), GTF_permit_access | GTF_reading | GTF_writing);
	/* An unmap through another connection takes the pin and its record. */
	CU_ASSERT_EQUAL(gnttab_dom0_conn_unmap(REL_B, rel_d, 52), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(52), GTF_permit_access);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_A, test_gnt_rel_find), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_unmap(REL_A, rel_d, 52), 0); /* nothing held */
	CU_ASSERT_EQUAL(gnttab_dom0_conn_unmap(REL_A, rel_d, 5000), -EINVAL);
}

static void test_gnt_rel_batch(void)
{
	uint32_t good[3] = {60, 61, 60}, mixed[3] = {60, 61, 62}, bad = 99;
	uint64_t frames[3];

	test_gnt_rel_grant(60, 6, GTF_permit_access);
	test_gnt_rel_grant(61, 7, GTF_permit_access);
	test_gnt_rel_grant(62, 8, GTF_permit_access | GTF_readonly);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map_batch(REL_A, rel_d, mixed, 3, 1, frames, &bad),
			-EPERM);
	CU_ASSERT_EQUAL(bad, 2);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(60), GTF_permit_access);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_A, test_gnt_rel_find), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map_batch(REL_A, rel_d, good, 3, 1, frames, &bad), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_unmap_batch(REL_A, rel_d, good, 1), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(60), GTF_permit_access | GTF_reading | GTF_writing);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_A, test_gnt_rel_find), 2);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(60), GTF_permit_access);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(61), GTF_permit_access);
}

static void test_gnt_rel_domain_gone(void)
{
	uint64_t f;

	test_gnt_rel_grant(70, 9, GTF_permit_access);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_A, rel_d, 70, 0, &f), 0);
	gnttab_dom0_domain_gone((uint32_t)rel_d->domid);
	/* Records of a destroyed domain are not applied to anything later. */
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_A, test_gnt_rel_find), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(70), GTF_permit_access | GTF_reading);
	CU_ASSERT_EQUAL(gnttab_dom0_unmap(rel_d, 70), 0);
	/* A domain find no longer knows is skipped. */
	CU_ASSERT_EQUAL(gnttab_dom0_conn_map(REL_B, rel_d, 70, 0, &f), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_conn_release(REL_B, test_gnt_rel_none), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_unmap(rel_d, 70), 0);
	CU_ASSERT_EQUAL(test_gnt_rel_flags(70), GTF_permit_access);
}

UNIT_SUITE(gnt_dom0_release, test_gnt_rel_init, test_gnt_rel_cleanup,
	   UNIT_TEST(test_gnt_rel_closed), UNIT_TEST(test_gnt_rel_kind),
	   UNIT_TEST(test_gnt_rel_batch), UNIT_TEST(test_gnt_rel_domain_gone))
