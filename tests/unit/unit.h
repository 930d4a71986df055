/*
 * Keel's unit-test registration.  Each test file declares its suite with
 * UNIT_SUITE(); a constructor adds it to the one CUnit runner (main.c), so a
 * module only lists its test file in UNIT_SRCS to have it run.
 */
#ifndef KEEL_TESTS_UNIT_H
#define KEEL_TESTS_UNIT_H

#include <CUnit/CUnit.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	int (*init)(void);
	int (*cleanup)(void);
	const struct unit_test *tests;
	struct unit_suite *next;
};

void unit_register(struct unit_suite *suite);

#define UNIT_TEST(fn)   \
	{               \
#fn, fn \
	}

/* UNIT_SUITE(sym, init, cleanup, UNIT_TEST(a), UNIT_TEST(b), ...) */
#define UNIT_SUITE(sym, init_fn, cleanup_fn, ...)                                           \
	static const struct unit_test sym##_tests[] = {__VA_ARGS__, {0, 0}};                \
	static struct unit_suite sym##_suite = {#sym, init_fn, cleanup_fn, sym##_tests, 0}; \
	__attribute__((constructor)) static void sym##_register(void)                       \
	{                                                                                   \
		unit_register(&sym##_suite);                                                \
	}

#endif
