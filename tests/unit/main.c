/*
 * The single CUnit runner for every unit suite in the tree.  Suites register
 * themselves (unit.h); this adds them to CUnit's registry in name order and
 * runs them, or only those named on the command line.  Exit status is
 * non-zero when any test fails, so the test driver can count it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "unit.h"

static struct unit_suite *unit_suites;

void unit_register(struct unit_suite *suite)
{
	struct unit_suite **p = &unit_suites;

	while (*p && strcmp((*p)->name, suite->name) < 0)
		p = &(*p)->next;
	suite->next = *p;
	*p = suite;
}

static int unit_wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

static int unit_add(const struct unit_suite *s)
{
	CU_pSuite suite = CU_add_suite(s->name, s->init, s->cleanup);

	if (!suite)
		return -1;
	for (const struct unit_test *t = s->tests; t->name; t++)
		if (!CU_add_test(suite, t->name, t->fn))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (struct unit_suite *s = unit_suites; s; s = s->next) {
		if (unit_wanted(s->name, argc, argv) && unit_add(s) < 0) {
			fprintf(stderr, "keel-unit: cannot add suite %s: %s\n", s->name,
				CU_get_error_msg());
			CU_cleanup_registry();
			return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	printf("keel-unit: %u tests run, %u failed\n", CU_get_number_of_tests_run(), failed);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
