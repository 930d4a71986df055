/*
 * Unit tests of Keel's libxentoolcore (dom0/xenlibs/toolcore.c): the
 * handle registry Xen's libraries link against keeps a consistent list
 * whatever the order of removal, restrict_all succeeds without calling
 * any handle's callback (Keel restricts nothing), and
 * restrict_by_dup2_null leaves the fd reading /dev/null.
 */
#include <fcntl.h>
#include <unistd.h>

#include "../../dom0/xenlibs/include/xentoolcore_internal.h"
#include "unit.h"

static int tc_called;

static int test_tc_callback(Xentoolcore__Active_Handle *ah, domid_t domid)
{
	tc_called++;
	return 0;
}

static void test_tc_registry(void)
{
	Xentoolcore__Active_Handle a = {.restrict_callback = test_tc_callback},
				   b = {.restrict_callback = test_tc_callback},
				   c = {.restrict_callback = test_tc_callback};

	xentoolcore__register_active_handle(&a);
	xentoolcore__register_active_handle(&b);
	xentoolcore__register_active_handle(&c);
	/* Newest first: c, b, a. */
	CU_ASSERT_PTR_EQUAL(c.entry.next, &b);
	CU_ASSERT_PTR_EQUAL(b.entry.next, &a);
	CU_ASSERT_PTR_EQUAL(a.entry.prev_next, &b.entry.next);
	xentoolcore__deregister_active_handle(&b); /* the middle one */
	CU_ASSERT_PTR_EQUAL(c.entry.next, &a);
	CU_ASSERT_PTR_EQUAL(a.entry.prev_next, &c.entry.next);
	CU_ASSERT_PTR_NULL(b.entry.prev_next);
	xentoolcore__deregister_active_handle(&b); /* twice: nothing happens */
	xentoolcore__deregister_active_handle(&c); /* the head */
	CU_ASSERT_PTR_NULL(a.entry.next);
	CU_ASSERT_EQUAL(xentoolcore_restrict_all(3), 0);
	CU_ASSERT_EQUAL(tc_called, 0);
	xentoolcore__deregister_active_handle(&a); /* the last one */
	CU_ASSERT_PTR_NULL(a.entry.prev_next);
	xentoolcore__register_active_handle(&b); /* the list is usable again */
	CU_ASSERT_PTR_NULL(b.entry.next);
	xentoolcore__deregister_active_handle(&b);
}

static void test_tc_dup2_null(void)
{
	int p[2];
	char ch;

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(xentoolcore__restrict_by_dup2_null(p[0]), 0);
	/* The pipe's writer is still open, so only /dev/null reads as the
	 * end of file without blocking. */
	CU_ASSERT_EQUAL(read(p[0], &ch, 1), 0);
	CU_ASSERT(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	close(p[0]);
	close(p[1]);
	CU_ASSERT_EQUAL(xentoolcore__restrict_by_dup2_null(-1), -1);
}

UNIT_SUITE(xenlibs_toolcore, NULL, NULL, UNIT_TEST(test_tc_registry), UNIT_TEST(test_tc_dup2_null))
