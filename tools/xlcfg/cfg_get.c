/*
 * Reading parsed xl.cfg settings by name, with xl's conversions and
 * warnings: the last setting of a key wins; numbers are read with strtol
 * base 0 (so "0x10", "010" and "16" are all sixteen) from bare numbers and
 * quoted strings alike; booleans are numbers (0 false, anything else true);
 * a list where a single value is wanted -- or the reverse -- is a warning and
 * the key is treated as invalid.  Also the diagnostics helpers every layer
 * uses, so all messages carry "source:line[:col]:".
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

void xlcfg_warn(struct xlcfg *cfg, int line, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(cfg->report, "%s:%d: warning: ", cfg->source, line);
	else
		fprintf(cfg->report, "%s: warning: ", cfg->source);
	va_start(ap, fmt);
	vfprintf(cfg->report, fmt, ap);
	va_end(ap);
	fputc('\n', cfg->report);
}

void xlcfg_error(struct xlcfg *cfg, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (line > 0 && col > 0)
		fprintf(cfg->report, "%s:%d:%d: ", cfg->source, line, col);
	else if (line > 0)
		fprintf(cfg->report, "%s:%d: ", cfg->source, line);
	else
		fprintf(cfg->report, "%s: ", cfg->source);
	va_start(ap, fmt);
	vfprintf(cfg->report, fmt, ap);
	va_end(ap);
	fputc('\n', cfg->report);
	cfg->n_errors++;
}

struct xlcfg_setting *xlcfg_find(struct xlcfg *cfg, const char *name)
{
	struct xlcfg_setting *found = NULL;

	/* Mark every setting of the key used, so none is reported as unknown. */
	for (int i = 0; i < cfg->n_settings; i++) {
		if (!strcmp(cfg->settings[i].name, name)) {
			cfg->settings[i].used = true;
			found = &cfg->settings[i];
		}
	}
	return found;
}

int xlcfg_key_line(struct xlcfg *cfg, const char *name)
{
	struct xlcfg_setting *st = xlcfg_find(cfg, name);

	return st ? st->value->line : 0;
}

int xlcfg_key_col(struct xlcfg *cfg, const char *name)
{
	struct xlcfg_setting *st = xlcfg_find(cfg, name);

	return st ? st->value->col : 0;
}

static int find_atom(struct xlcfg *cfg, const char *name, struct xlcfg_setting **out)
{
	struct xlcfg_setting *s = xlcfg_find(cfg, name);

	if (!s)
		return -ENOENT;
	if (s->value->type != XLCFG_STRING) {
		xlcfg_warn(cfg, s->line, "parameter `%s' is a list but should be a single value",
			   name);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

int xlcfg_get_string(struct xlcfg *cfg, const char *name, const char **out)
{
	struct xlcfg_setting *s;
	int r = find_atom(cfg, name, &s);

	if (r == 0)
		*out = s->value->string;
	return r;
}

int xlcfg_get_long(struct xlcfg *cfg, const char *name, long min, long max, long *out)
{
	struct xlcfg_setting *s;
	int r = find_atom(cfg, name, &s);
	char *end;
	long l;

	if (r)
		return r;
	if (s->op == XLCFG_APPEND) {
		xlcfg_warn(cfg, s->line, "can't use += with numbers for parameter `%s'", name);
		return -EINVAL;
	}
	errno = 0;
	l = strtol(s->value->string, &end, 0);
	if (errno) {
		xlcfg_warn(cfg, s->line, "parameter `%s' could not be parsed as a number: %s", name,
			   strerror(errno));
		return -EINVAL;
	}
	if (*end || end == s->value->string) {
		xlcfg_warn(cfg, s->line, "parameter `%s' is not a valid number", name);
		return -EINVAL;
	}
	if (l < min) {
		xlcfg_warn(cfg, s->line, "value `%ld' is smaller than minimum bound '%ld'", l, min);
		return -EINVAL;
	}
	if (l > max) {
		xlcfg_warn(cfg, s->line, "value `%ld' is greater than maximum bound '%ld'", l, max);
		return -EINVAL;
	}
	*out = l;
	return 0;
}

int xlcfg_get_bool(struct xlcfg *cfg, const char *name, bool *out)
{
	long l;
	int r = xlcfg_get_long(cfg, name, LONG_MIN, LONG_MAX, &l);

	if (r == 0)
		*out = l != 0;
	return r;
}

int xlcfg_get_list(struct xlcfg *cfg, const char *name, struct xlcfg_value **out)
{
	struct xlcfg_setting *s = xlcfg_find(cfg, name);

	if (!s)
		return -ENOENT;
	if (s->value->type != XLCFG_LIST) {
		xlcfg_warn(cfg, s->line, "parameter `%s' is a single value but should be a list",
			   name);
		return -EINVAL;
	}
	*out = s->value;
	return 0;
}

int xlcfg_get_string_list(struct xlcfg *cfg, const char *name, char ***out, int *n)
{
	struct xlcfg_value *list;
	char **v;
	int r = xlcfg_get_list(cfg, name, &list);

	if (r)
		return r;
	v = calloc((size_t)list->n_items + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < list->n_items; i++) {
		const struct xlcfg_value *it = list->items[i];

		if (it->type != XLCFG_STRING) {
			xlcfg_warn(cfg, it->line,
				   "item %d of `%s' is a list but should be a string", i, name);
			r = -EINVAL;
		} else if (!(v[i] = strdup(it->string))) {
			r = -ENOMEM;
		}
		if (r) {
			for (int j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return r;
		}
	}
	*out = v;
	*n = list->n_items;
	return 0;
}
