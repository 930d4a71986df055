/*
 * CUnit suite for xl_constream_new_from: following keeld's console record
 * as it grows, when it is cut to its newer half, when nothing changed, and
 * when more than a record went by unseen.
 */
#include <stdlib.h>
#include <string.h>

#include "../../tests/unit/unit.h"
#include "xl_constream.h"

static void test_xl_constream_grows(void)
{
	const char *a = "Hello\ntick 1\n", *b = "Hello\ntick 1\ntick 2\n";

	CU_ASSERT_EQUAL(xl_constream_new_from(NULL, 0, a, strlen(a)), 0);
	CU_ASSERT_EQUAL(xl_constream_new_from(a, strlen(a), b, strlen(b)), strlen(a));
	CU_ASSERT_EQUAL(xl_constream_new_from(b, strlen(b), b, strlen(b)), strlen(b));
}

/* keeld dropped the older half and appended: only the appended bytes are new */
static void test_xl_constream_cut(void)
{
	char seen[4096], now[4096];
	size_t half;

	for (int i = 0; i < 4096; i++)
		seen[i] = (char)('a' + (i * 7 + i / 26) % 26);
	half = 2048;
	memcpy(now, seen + half, 4096 - half);
	memcpy(now + 4096 - half, "NEW!", 4);
	CU_ASSERT_EQUAL(xl_constream_new_from(seen, 4096, now, 4096 - half + 4), 4096 - half);
}

/* repeated lines must not make it pick a wrong, earlier overlap */
static void test_xl_constream_repetitive(void)
{
	char seen[1000], now[600];

	memset(seen, 'x', sizeof(seen));
	memcpy(now, seen + 500, 500);
	memset(now + 500, 'y', 100);
	CU_ASSERT_EQUAL(xl_constream_new_from(seen, sizeof(seen), now, sizeof(now)), 500);
}

static void test_xl_constream_lost(void)
{
	const char *seen = "old output\n", *now = "entirely different\n";

	CU_ASSERT_EQUAL(xl_constream_new_from(seen, strlen(seen), now, strlen(now)), 0);
}

UNIT_SUITE(xl_constream, NULL, NULL, UNIT_TEST(test_xl_constream_grows),
	   UNIT_TEST(test_xl_constream_cut), UNIT_TEST(test_xl_constream_repetitive),
	   UNIT_TEST(test_xl_constream_lost))
