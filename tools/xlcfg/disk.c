/*
 * Disk specs (xl-disk-configuration): a comma-separated mix of positional
 * parameters -- target, format, vdev, access, in that order -- keyword
 * parameters (format=, vdev=, access=, devtype=, backend=, backendtype=,
 * script=, specification=, ...), flags (cdrom, discard, no-discard,
 * direct-io-safe, trusted, untrusted, ...), the deprecated prefixes xm
 * accepted (phy:, file:, tap:, tap2:, aio:, ioemu:, tapdisk:, raw:, qcow:,
 * qcow2:, vhd:, and iscsi:/nbd:/enbd:/drbd: which select a block script), and
 * target=, which takes the whole rest of the spec so paths may hold commas.
 *
 * The token rules mirror xl's flex scanner (libxlu_disk_l.l), including its
 * longest-match consequences: a flag or keyword only counts when it is the
 * whole comma-separated word; `name=` with an unknown name is an error; a
 * positional word may not contain '='; a deprecated prefix is recognised at
 * the start of any word.  Messages use xl's wording.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

struct disk_ctx {
	struct xlcfg_disk *disk;
	const char *spec; /* the string being scanned, for messages */
	const char *where;
	FILE *report;
	int err;
	bool had_depr_prefix;
	bool access_set;
};

static void disk_err(struct disk_ctx *dc, const char *near, size_t near_len, const char *msg)
{
	if (near)
		fprintf(dc->report,
			"%s: config parsing error in disk specification: %s: near `%.*s' in `%s'\n",
			dc->where, msg, (int)near_len, near, dc->spec);
	else
		fprintf(dc->report, "%s: config parsing error in disk specification: %s in `%s'\n",
			dc->where, msg, dc->spec);
	if (!dc->err)
		dc->err = -EINVAL;
}

static void disk_errs(struct disk_ctx *dc, const char *near, const char *msg)
{
	disk_err(dc, near, strlen(near), msg);
}

/* Set a string once; setting it again to something non-empty is an error. */
static void save_string(struct disk_ctx *dc, const char *what, char **slot, const char *val)
{
	char msg[64];

	if (*slot && **slot) {
		snprintf(msg, sizeof(msg), "%s respecified", what);
		disk_errs(dc, val, msg);
		return;
	}
	free(*slot);
	*slot = strdup(val);
	if (!*slot)
		dc->err = -ENOMEM;
}

static const char *const disk_format_names[] = {
	[XLCFG_FORMAT_UNKNOWN] = "unknown", [XLCFG_FORMAT_QCOW] = "qcow",
	[XLCFG_FORMAT_QCOW2] = "qcow2",	    [XLCFG_FORMAT_VHD] = "vhd",
	[XLCFG_FORMAT_RAW] = "raw",	    [XLCFG_FORMAT_EMPTY] = "empty",
	[XLCFG_FORMAT_QED] = "qed",
};

static const char *const disk_backend_names[] = {
	[XLCFG_BACKEND_UNKNOWN] = "unknown",
	[XLCFG_BACKEND_PHY] = "phy",
	[XLCFG_BACKEND_TAP] = "tap",
	[XLCFG_BACKEND_QDISK] = "qdisk",
	[XLCFG_BACKEND_STANDALONE] = "standalone",
};

const char *xlcfg_disk_format_name(enum xlcfg_disk_format f)
{
	return (unsigned)f <= XLCFG_FORMAT_QED ? disk_format_names[f] : "unknown";
}

const char *xlcfg_disk_backend_name(enum xlcfg_disk_backend b)
{
	return (unsigned)b <= XLCFG_BACKEND_STANDALONE ? disk_backend_names[b] : "unknown";
}

static void set_format(struct disk_ctx *dc, const char *s)
{
	int f = -1;

	if (!*s)
		f = XLCFG_FORMAT_RAW;
	for (int i = XLCFG_FORMAT_QCOW; f < 0 && i <= XLCFG_FORMAT_QED; i++)
		if (!strcmp(s, disk_format_names[i]))
			f = i;
	if (f < 0) {
		disk_errs(dc, s, "unknown value for format");
		return;
	}
	if (dc->disk->format != XLCFG_FORMAT_UNKNOWN && dc->disk->format != (unsigned)f) {
		disk_errs(dc, s, "format respecified");
		return;
	}
	dc->disk->format = f;
}

static void set_backendtype(struct disk_ctx *dc, const char *s)
{
	int b = -1;

	for (int i = XLCFG_BACKEND_PHY; b < 0 && i <= XLCFG_BACKEND_STANDALONE; i++)
		if (!strcmp(s, disk_backend_names[i]))
			b = i;
	if (b < 0) {
		disk_errs(dc, s, "unknown value for backendtype");
		return;
	}
	if (dc->disk->backendtype != XLCFG_BACKEND_UNKNOWN &&
	    dc->disk->backendtype != (unsigned)b) {
		disk_errs(dc, s, "backend respecified");
		return;
	}
	dc->disk->backendtype = b;
}

static void set_access(struct disk_ctx *dc, const char *s)
{
	if (!strcmp(s, "r") || !strcmp(s, "ro"))
		dc->disk->readwrite = false;
	else if (!strcmp(s, "rw") || !strcmp(s, "w") || !*s)
		dc->disk->readwrite = true;
	else
		disk_errs(dc, s, "unknown value for access");
}

static void set_specification(struct disk_ctx *dc, const char *s)
{
	int v = !strcmp(s, "xen") ? 1 : !strcmp(s, "virtio") ? 2 : 0;

	if (!v)
		disk_errs(dc, s, "unknown value for specification");
	else if (dc->disk->specification && dc->disk->specification != v)
		disk_errs(dc, s, "specification respecified");
	else
		dc->disk->specification = v;
}

/* "xvdc:cdrom" / "hdc:disk": the deprecated vdev:devtype positional. */
static bool vdev_and_devtype(struct disk_ctx *dc, char *s)
{
	char *colon = strrchr(s, ':');

	if (!colon)
		return false;
	*colon++ = 0;
	save_string(dc, "vdev", &dc->disk->vdev, s);
	if (!strcmp(colon, "cdrom"))
		dc->disk->is_cdrom = true;
	else if (!strcmp(colon, "disk"))
		dc->disk->is_cdrom = false;
	else
		disk_errs(dc, colon, "unknown deprecated type");
	return true;
}

static void positional(struct disk_ctx *dc, char *s)
{
	struct xlcfg_disk *d = dc->disk;

	if (dc->err) {
		/* earlier errors would only cascade */
	} else if (!d->target) {
		save_string(dc, "target", &d->target, s);
	} else if (!dc->had_depr_prefix && d->format == XLCFG_FORMAT_UNKNOWN) {
		if (!*d->target && vdev_and_devtype(dc, s))
			d->format = XLCFG_FORMAT_EMPTY;
		else
			set_format(dc, s);
	} else if (!d->vdev) {
		if (!vdev_and_devtype(dc, s))
			save_string(dc, "vdev", &d->vdev, s);
	} else if (!dc->access_set) {
		dc->access_set = true;
		set_access(dc, s);
	} else {
		disk_errs(dc, s, "too many positional parameters");
	}
}

enum disk_kw_kind { KW_STRING, KW_FLAG };

struct disk_keyword {
	const char *name; /* "format" for format=..., "cdrom" for the flag */
	enum disk_kw_kind kind;
	void (*apply)(struct disk_ctx *dc, const char *value);
};

static void kw_format(struct disk_ctx *dc, const char *v)
{
	set_format(dc, v);
}
static void kw_access(struct disk_ctx *dc, const char *v)
{
	set_access(dc, v);
}
static void kw_backendtype(struct disk_ctx *dc, const char *v)
{
	set_backendtype(dc, v);
}
static void kw_specification(struct disk_ctx *dc, const char *v)
{
	set_specification(dc, v);
}
static void kw_backend(struct disk_ctx *dc, const char *v)
{
	save_string(dc, "backend", &dc->disk->backend_domname, v);
}
static void kw_vdev(struct disk_ctx *dc, const char *v)
{
	save_string(dc, "vdev", &dc->disk->vdev, v);
}
static void kw_script(struct disk_ctx *dc, const char *v)
{
	save_string(dc, "script", &dc->disk->script, v);
}
static void kw_devtype(struct disk_ctx *dc, const char *v)
{
	if (!strcmp(v, "cdrom"))
		dc->disk->is_cdrom = true;
	else if (!strcmp(v, "disk"))
		dc->disk->is_cdrom = false;
	else
		disk_errs(dc, v, "unknown value for type");
}
static void kw_colo_port(struct disk_ctx *dc, const char *v)
{
	if (atoi(v) <= 0)
		disk_errs(dc, v, "unknown value for colo_port");
}
static void kw_colo_string(struct disk_ctx *dc, const char *v)
{
	/* COLO replication is not something Keel does; accepted and ignored. */
}
static void kw_grant_usage(struct disk_ctx *dc, const char *v)
{
	if (!strcmp(v, "1"))
		dc->disk->grant_usage = XLCFG_TRUE;
	else if (!strcmp(v, "0"))
		dc->disk->grant_usage = XLCFG_FALSE;
	else
		disk_errs(dc, v, "unknown value for grant_usage");
}
static void flag_cdrom(struct disk_ctx *dc, const char *v)
{
	dc->disk->is_cdrom = true;
}
static void flag_direct_io_safe(struct disk_ctx *dc, const char *v)
{
	dc->disk->direct_io_safe = true;
}
static void flag_discard(struct disk_ctx *dc, const char *v)
{
	dc->disk->discard = XLCFG_TRUE;
}
static void flag_no_discard(struct disk_ctx *dc, const char *v)
{
	dc->disk->discard = XLCFG_FALSE;
}
static void flag_colo(struct disk_ctx *dc, const char *v)
{
	dc->disk->colo = XLCFG_TRUE;
}
static void flag_no_colo(struct disk_ctx *dc, const char *v)
{
	dc->disk->colo = XLCFG_FALSE;
}
static void flag_trusted(struct disk_ctx *dc, const char *v)
{
	dc->disk->trusted = XLCFG_TRUE;
}
static void flag_untrusted(struct disk_ctx *dc, const char *v)
{
	dc->disk->trusted = XLCFG_FALSE;
}

static const struct disk_keyword disk_keywords[] = {
	{"format", KW_STRING, kw_format},
	{"access", KW_STRING, kw_access},
	{"backend", KW_STRING, kw_backend},
	{"backendtype", KW_STRING, kw_backendtype},
	{"specification", KW_STRING, kw_specification},
	{"vdev", KW_STRING, kw_vdev},
	{"script", KW_STRING, kw_script},
	{"devtype", KW_STRING, kw_devtype},
	{"colo-host", KW_STRING, kw_colo_string},
	{"colo-port", KW_STRING, kw_colo_port},
	{"colo-export", KW_STRING, kw_colo_string},
	{"active-disk", KW_STRING, kw_colo_string},
	{"hidden-disk", KW_STRING, kw_colo_string},
	{"grant_usage", KW_STRING, kw_grant_usage},
	{"cdrom", KW_FLAG, flag_cdrom},
	{"direct-io-safe", KW_FLAG, flag_direct_io_safe},
	{"discard", KW_FLAG, flag_discard},
	{"no-discard", KW_FLAG, flag_no_discard},
	{"colo", KW_FLAG, flag_colo},
	{"no-colo", KW_FLAG, flag_no_colo},
	{"trusted", KW_FLAG, flag_trusted},
	{"untrusted", KW_FLAG, flag_untrusted},
};

/* Deprecated prefixes: format-setting, script-setting, or plain (ignored). */
static const char *const depr_format_prefixes[] = {"raw", "qcow", "qcow2", "vhd"};
static const char *const depr_script_prefixes[] = {"iscsi", "nbd", "enbd", "drbd"};
static const char *const depr_plain_prefixes[] = {"tapdisk", "tap",  "tap2", "aio",
						  "ioemu",   "file", "phy"};

static bool in_list(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && !strncmp(s, list[i], n))
			return true;
	return false;
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Handle a prefix "word:" at p; returns its length, 0 if none, -1 on error. */
static int deprecated_prefix(struct disk_ctx *dc, const char *p)
{
	size_t n = 0;

	if (!(p[0] >= 'a' && p[0] <= 'z'))
		return 0;
	while (is_lower_alnum(p[n]))
		n++;
	if (p[n] != ':')
		return 0;
	if (in_list(p, n, depr_format_prefixes, ARRAY_LEN(depr_format_prefixes))) {
		char fmt[8];

		memcpy(fmt, p, n);
		fmt[n] = 0;
		dc->had_depr_prefix = true;
		set_format(dc, fmt);
		return (int)n + 1;
	}
	if (in_list(p, n, depr_script_prefixes, ARRAY_LEN(depr_script_prefixes))) {
		char script[16];

		snprintf(script, sizeof(script), "block-%.*s", (int)n, p);
		dc->had_depr_prefix = true;
		save_string(dc, "script", &dc->disk->script, script);
		return (int)n + 1;
	}
	if (in_list(p, n, depr_plain_prefixes, ARRAY_LEN(depr_plain_prefixes))) {
		dc->had_depr_prefix = true;
		return (int)n + 1;
	}
	/* An unknown lowercase word then ':' then not a letter/digit (or end). */
	if (!p[n + 1] || !is_lower_alnum(p[n + 1])) {
		disk_errs(dc, p, "unknown deprecated disk prefix");
		return -1;
	}
	return 0;
}

/* Scan one spec string; stops at the first error that ends scanning. */
static void disk_scan(struct disk_ctx *dc, const char *spec)
{
	const char *p = spec;

	dc->spec = spec;
	while (*p && dc->err != -ENOMEM) {
		size_t n, eq;
		int pre;

		if (*p == ' ' || *p == '\t' || *p == '\n') {
			p++;
			continue;
		}
		/* target= swallows the rest, commas included. */
		if (!strncmp(p, "target=", 7)) {
			char *t = strdup(p + 7);
			size_t tl;

			if (!t) {
				dc->err = -ENOMEM;
				return;
			}
			tl = strlen(t);
			if (tl && t[tl - 1] == ',')
				t[tl - 1] = 0;
			save_string(dc, "target", &dc->disk->target, t);
			free(t);
			return;
		}
		pre = deprecated_prefix(dc, p);
		if (pre < 0)
			return;
		if (pre > 0) {
			p += pre;
			continue;
		}
		n = strcspn(p, ",");
		eq = strcspn(p, "=,");
		if (eq < n) {
			/* key=value: known keyword, unknown key, or bad syntax */
			const struct disk_keyword *kw = NULL;

			for (size_t i = 0; i < ARRAY_LEN(disk_keywords); i++)
				if (disk_keywords[i].kind == KW_STRING &&
				    strlen(disk_keywords[i].name) == eq &&
				    !strncmp(p, disk_keywords[i].name, eq))
					kw = &disk_keywords[i];
			if (kw) {
				char *v = strndup(p + eq + 1, n - eq - 1);

				if (!v) {
					dc->err = -ENOMEM;
					return;
				}
				kw->apply(dc, v);
				free(v);
			} else {
				bool keyish = p[0] >= 'a' && p[0] <= 'z';

				for (size_t i = 1; keyish && i < eq; i++)
					keyish = is_lower_alnum(p[i]) || p[i] == '-';
				if (keyish && n > eq + 1)
					disk_err(dc, p, n + (p[n] == ','), "unknown parameter");
				else
					disk_errs(dc, p + (keyish ? eq : strcspn(p, "=")),
						  "bad disk syntax");
				return;
			}
		} else {
			const struct disk_keyword *kw = NULL;

			for (size_t i = 0; i < ARRAY_LEN(disk_keywords); i++)
				if (disk_keywords[i].kind == KW_FLAG &&
				    strlen(disk_keywords[i].name) == n &&
				    !strncmp(p, disk_keywords[i].name, n))
					kw = &disk_keywords[i];
			if (kw) {
				kw->apply(dc, NULL);
			} else {
				char *v = strndup(p, n);

				if (!v) {
					dc->err = -ENOMEM;
					return;
				}
				positional(dc, v);
				free(v);
				if (dc->err)
					return;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

void xlcfg_disk_clear(struct xlcfg_disk *disk)
{
	free(disk->target);
	free(disk->vdev);
	free(disk->backend_domname);
	free(disk->script);
	memset(disk, 0, sizeof(*disk));
}

int xlcfg_disk_parse(struct xlcfg_disk *disk, int n, const char *const *specs, const char *where,
		     FILE *report)
{
	struct disk_ctx dc = {.disk = disk, .where = where ? where : "disk", .report = report};

	memset(disk, 0, sizeof(*disk));
	disk->readwrite = true;
	disk->discard = disk->trusted = disk->colo = disk->grant_usage = XLCFG_DEFAULT;
	disk->vdev_number = -1;
	if (!dc.report)
		dc.report = stderr;
	for (int i = 0; i < n && !dc.err; i++)
		disk_scan(&dc, specs[i]);
	if (dc.err)
		goto fail;
	dc.spec = n ? specs[n - 1] : "";
	if (disk->format == XLCFG_FORMAT_UNKNOWN)
		disk->format = XLCFG_FORMAT_RAW;
	if (disk->is_cdrom) {
		disk->removable = true;
		disk->readwrite = false;
		if (!disk->target || !*disk->target)
			disk->format = XLCFG_FORMAT_EMPTY;
	}
	if (!disk->vdev) {
		disk_err(&dc, NULL, 0, "no vdev specified");
		goto fail;
	}
	if (!disk->target && !disk->removable) {
		disk_err(&dc, NULL, 0, "no target specified (and device not removable)");
		goto fail;
	}
	{
		int num = xlcfg_vdev_number(disk->vdev, NULL, NULL);

		disk->vdev_number = num < 0 ? -1 : num;
	}
	return 0;
fail:
	xlcfg_disk_clear(disk);
	return dc.err ? dc.err : -EINVAL;
}
