/*
 * Small helpers for reading libvirt XML with libxml2: element tests, trimmed
 * text and attributes as malloc'd strings, strict numbers, libvirt's memory
 * units, shutdown actions and 0/1 flags -- each reporting problems with the
 * source name and the element's line.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg_libvirt.h"

void lv_error(struct lv_ctx *lc, xmlNodePtr n, const char *fmt, ...)
{
	va_list ap;

	fprintf(lc->report, "%s:%ld: ", lc->source, n ? xmlGetLineNo(n) : 0L);
	va_start(ap, fmt);
	vfprintf(lc->report, fmt, ap);
	va_end(ap);
	fputc('\n', lc->report);
	if (!lc->err)
		lc->err = -EINVAL;
}

bool lv_is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* Element text, trimmed; malloc'd ("" when empty). */
char *lv_text(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s, *e, *r;

	if (!t)
		return strdup("");
	s = (char *)t;
	while (*s == ' ' || *s == '\n' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t'))
		e--;
	r = strndup(s, (size_t)(e - s));
	xmlFree(t);
	return r;
}

/* Attribute value, malloc'd, or NULL. */
char *lv_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	char *r;

	if (!v)
		return NULL;
	r = strdup((const char *)v);
	xmlFree(v);
	return r;
}

int lv_parse_ull(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int lv_attr_int(struct lv_ctx *lc, xmlNodePtr n, const char *name, long long max, long long *out)
{
	char *v = lv_attr(n, name);
	unsigned long long u;
	int r = 0;

	if (!v)
		return 1;
	if (lv_parse_ull(v, (unsigned long long)max, &u) < 0) {
		lv_error(lc, n, "<%s %s='%s'>: not a valid number", n->name, name, v);
		r = -EINVAL;
	} else {
		*out = (long long)u;
	}
	free(v);
	return r;
}

/* <memory unit='...'>N</memory> in KiB. */
int lv_memory_kib(struct lv_ctx *lc, xmlNodePtr n, uint64_t *kib)
{
	static const struct {
		const char *unit;
		unsigned long long bytes;
	} units[] = {
		{"b", 1},	   {"bytes", 1},	{"KB", 1000},
		{"k", 1024},	   {"KiB", 1024},	{"MB", 1000000},
		{"M", 1 << 20},	   {"MiB", 1 << 20},	{"GB", 1000000000ull},
		{"G", 1ull << 30}, {"GiB", 1ull << 30}, {"TB", 1000000000000ull},
		{"T", 1ull << 40}, {"TiB", 1ull << 40},
	};
	char *unit = lv_attr(n, "unit"), *t = lv_text(n);
	unsigned long long v, mul = 1024;
	int r = -EINVAL;

	if (unit) {
		mul = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(unit, units[i].unit))
				mul = units[i].bytes;
		if (!mul) {
			lv_error(lc, n, "<%s>: unknown unit '%s'", n->name, unit);
			goto out;
		}
	}
	if (!t || lv_parse_ull(t, ULLONG_MAX / mul, &v) < 0 || v * mul / 1024 > (1ull << 42)) {
		lv_error(lc, n, "<%s>: '%s' is not a valid size", n->name, t ? t : "");
		goto out;
	}
	*kib = v * mul / 1024;
	r = 0;
out:
	free(unit);
	free(t);
	return r;
}

void lv_replace(char **slot, char *v)
{
	free(*slot);
	*slot = v;
}

int lv_action(struct lv_ctx *lc, xmlNodePtr n, enum xlcfg_action *out)
{
	char *t = lv_text(n);
	int r = t ? xlcfg_action_parse(t, out) : -ENOMEM;

	if (r == -EINVAL)
		lv_error(lc, n, "<%s>: unknown action '%s'", n->name, t);
	free(t);
	return r;
}

int lv_tristate(const char *v, enum xlcfg_tristate *out)
{
	if (!v)
		return 0;
	if (!strcmp(v, "1"))
		*out = XLCFG_TRUE;
	else if (!strcmp(v, "0"))
		*out = XLCFG_FALSE;
	else
		return -EINVAL;
	return 0;
}
