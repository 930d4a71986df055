/*
 * Unit tests for the xl.cfg grammar (tools/xlcfg/cfg_*.c): token classes,
 * strings and escapes, numbers read with strtol base 0, lists with newlines,
 * comments and trailing commas, `;` separators, `+=`, last-setting-wins, and
 * error reports carrying file, line and column with recovery to the next line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xlcfg.h"

static char *grammar_diag;
static size_t grammar_diag_len;

/* Parse text into a fresh config whose diagnostics land in grammar_diag. */
static struct xlcfg *grammar_parse(const char *text, int *rc)
{
	FILE *f;
	struct xlcfg *cfg;

	free(grammar_diag);
	grammar_diag = NULL;
	f = open_memstream(&grammar_diag, &grammar_diag_len);
	cfg = xlcfg_new("t.cfg", f);
	*rc = xlcfg_parse_data(cfg, text, strlen(text));
	fflush(f);
	return cfg;
}

static void grammar_done(struct xlcfg *cfg)
{
	FILE *f = cfg->report;

	xlcfg_free(cfg);
	fclose(f);
}

static void grammar_test_basic(void)
{
	int rc;
	const char *s;
	long l;
	struct xlcfg *cfg = grammar_parse("name = \"vm1\"\nmemory=512 ; vcpus = 0x4\n"
					  "maxvcpus = 010\nkernel = '/boot/k'",
					  &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(cfg->n_settings, 5);
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "name", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "vm1");
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "memory", 0, 100000, &l), 0);
	CU_ASSERT_EQUAL(l, 512);
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "vcpus", 0, 100, &l), 0);
	CU_ASSERT_EQUAL(l, 4);
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "maxvcpus", 0, 100, &l), 0);
	CU_ASSERT_EQUAL(l, 8); /* 010 is octal, as strtol base 0 */
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "kernel", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "/boot/k");
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "absent", &s), -ENOENT);
	CU_ASSERT_EQUAL(cfg->settings[2].line, 2);
	CU_ASSERT_EQUAL(cfg->settings[2].col, 14);
	grammar_done(cfg);
}

static void grammar_test_strings(void)
{
	int rc;
	const char *s;
	struct xlcfg *cfg = grammar_parse("a = \"q\\\"x\\\\y\\n\\t\"\nb = 'it\\'s'\n"
					  "c = \"\\x41\\102\"\nd = \"a#b\" # comment\n",
					  &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "a", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "q\"x\\y\n\t");
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "b", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "it's");
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "c", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "AB");
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "d", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "a#b");
	grammar_done(cfg);

	cfg = grammar_parse("a = \"bad \\q escape\"\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "t.cfg:1:5:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "invalid character after backslash"));
	grammar_done(cfg);

	cfg = grammar_parse("a = \"unterminated\nb = 1\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "t.cfg:1:5:"));
	grammar_done(cfg);
}

static void grammar_test_lists(void)
{
	int rc;
	struct xlcfg_value *l;
	struct xlcfg *cfg = grammar_parse("disk = [ 'a', # first\n\n  'b',\n]\n"
					  "e = []\nn = [ [1, 2], ['x'] ]\n",
					  &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(xlcfg_get_list(cfg, "disk", &l), 0);
	CU_ASSERT_EQUAL(l->n_items, 2);
	CU_ASSERT_STRING_EQUAL(l->items[1]->string, "b");
	CU_ASSERT_EQUAL(l->items[1]->line, 3);
	CU_ASSERT_EQUAL(xlcfg_get_list(cfg, "e", &l), 0);
	CU_ASSERT_EQUAL(l->n_items, 0);
	CU_ASSERT_EQUAL(xlcfg_get_list(cfg, "n", &l), 0);
	CU_ASSERT_EQUAL(l->n_items, 2);
	CU_ASSERT_EQUAL(l->items[0]->type, XLCFG_LIST);
	CU_ASSERT_EQUAL(l->items[0]->n_items, 2);
	grammar_done(cfg);

	cfg = grammar_parse("l = [ , ]\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	grammar_done(cfg);
	cfg = grammar_parse("l = [ 'a' 'b' ]\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "t.cfg:1:11: config parsing error near `'b''"));
	grammar_done(cfg);
}

static void grammar_test_append_and_override(void)
{
	int rc;
	const char *s;
	long l;
	struct xlcfg_value *v;
	struct xlcfg *cfg = grammar_parse("extra = 'a'\nextra += ' b'\nvif = ['x']\n"
					  "vif += ['y', 'z']\nmemory = 1\nmemory = 2\n",
					  &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(xlcfg_get_string(cfg, "extra", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "a b");
	CU_ASSERT_EQUAL(xlcfg_get_list(cfg, "vif", &v), 0);
	CU_ASSERT_EQUAL(v->n_items, 3);
	CU_ASSERT_STRING_EQUAL(v->items[2]->string, "z");
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "memory", 0, 10, &l), 0);
	CU_ASSERT_EQUAL(l, 2);
	grammar_done(cfg);

	cfg = grammar_parse("a = 'x'\na += ['y']\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "t.cfg:2:1:"));
	grammar_done(cfg);

	cfg = grammar_parse("memory = 1\nmemory += 2\n", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "memory", 0, 100, &l), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "can't use += with numbers"));
	grammar_done(cfg);
}

static void grammar_test_errors(void)
{
	int rc;
	struct xlcfg *cfg;

	/* bare words are not values; the next line still parses */
	cfg = grammar_parse("type = pv\nname = 'ok'\nMemory = 1\nx = 1.5\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "t.cfg:1:8: config parsing error near `pv'"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(grammar_diag, "t.cfg:3:1: config parsing error near `Memory"));
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "t.cfg:4:6:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "Python"));
	CU_ASSERT_EQUAL(cfg->n_settings, 1);
	CU_ASSERT_EQUAL(cfg->n_errors, 3);
	grammar_done(cfg);

	cfg = grammar_parse("a = 1 b = 2\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "expecting NEWLINE or ';'"));
	grammar_done(cfg);

	cfg = grammar_parse("a =\n", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "near <newline>"));
	grammar_done(cfg);

	/* nesting is bounded */
	char deep[200];

	memset(deep, '[', sizeof(deep));
	memcpy(deep, "a = ", 4);
	deep[sizeof(deep) - 1] = 0;
	cfg = grammar_parse(deep, &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "nested too deeply"));
	grammar_done(cfg);
}

static void grammar_test_numbers(void)
{
	int rc;
	long l;
	struct xlcfg *cfg = grammar_parse("a = \"42\"\nb = 1e3\nc = 99999999999999999999\n"
					  "d = 0x1f\n",
					  &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "a", 0, 100, &l), 0); /* quoted numbers work */
	CU_ASSERT_EQUAL(l, 42);
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "b", 0, 100000, &l), -EINVAL);
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "c", 0, 100000, &l), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "could not be parsed as a number"));
	CU_ASSERT_EQUAL(xlcfg_get_long(cfg, "d", 0, 10, &l), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(grammar_diag, "greater than maximum bound"));
	grammar_done(cfg);
}

static int grammar_cleanup(void)
{
	free(grammar_diag);
	grammar_diag = NULL;
	return 0;
}

UNIT_SUITE(xlcfg_grammar, NULL, grammar_cleanup, UNIT_TEST(grammar_test_basic),
	   UNIT_TEST(grammar_test_strings), UNIT_TEST(grammar_test_lists),
	   UNIT_TEST(grammar_test_append_and_override), UNIT_TEST(grammar_test_errors),
	   UNIT_TEST(grammar_test_numbers))
