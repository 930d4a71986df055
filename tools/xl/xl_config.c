/*
 * Loading a domain configuration for xl: the file's text with the command
 * line's `key=value` overrides appended after a newline -- exactly how xl
 * does it, so an override is simply a later setting and wins -- then parsed
 * and built into a domain description.  A libvirt XML file is first turned
 * into a domain and written back as xl.cfg text, so overrides work the same
 * way for it.  Also xl's memory-size arguments ("512", "2g", "1024k").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

int xl_parse_mem_kb(const char *s, uint64_t *kb)
{
	char *end;
	unsigned long long v;
	uint64_t shift_kb;

	if (!(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0:
	case 'm':
	case 'M':
		shift_kb = 1024;
		break;
	case 'k':
	case 'K':
		shift_kb = 1;
		break;
	case 'g':
	case 'G':
		shift_kb = 1024 * 1024;
		break;
	case 't':
	case 'T':
		shift_kb = 1024ull * 1024 * 1024;
		break;
	case 'b':
	case 'B':
		if (end[1])
			return -EINVAL;
		*kb = v / 1024;
		return 0;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (v > UINT64_MAX / shift_kb / 1024)
		return -ERANGE;
	*kb = v * shift_kb;
	return 0;
}

char *xl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 4096 > cap) {
			char *n;

			if (cap > XLCFG_MAX_INPUT) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 16384;
			n = realloc(buf, cap + 1);
			if (!n)
				goto fail;
			buf = n;
		}
		size_t got = fread(buf + *len, 1, cap - *len, f);

		*len += got;
		if (got == 0) {
			if (ferror(f))
				goto fail;
			break;
		}
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

static bool looks_like_xml(const char *path, const char *data, size_t len)
{
	size_t pl = strlen(path), i = 0;

	if (pl > 4 && !strcmp(path + pl - 4, ".xml"))
		return true;
	while (i < len && strchr(" \t\r\n", data[i]))
		i++;
	return i < len && data[i] == '<';
}

/* libvirt XML -> domain -> xl.cfg text, so overrides can be appended. */
static char *xml_to_cfg_text(const char *path, const char *data, size_t len, size_t *out_len)
{
	struct xlcfg_domain dom;
	char *text = NULL;
	size_t tl = 0;
	FILE *f;

	if (xlcfg_domain_from_libvirt(&dom, data, len, path, stderr) < 0)
		return NULL;
	f = open_memstream(&text, &tl);
	if (!f || xlcfg_domain_to_cfg(&dom, f) < 0) {
		fprintf(stderr, "%s: cannot express this domain as xl.cfg\n", path);
		if (f)
			fclose(f);
		free(text);
		xlcfg_domain_clear(&dom);
		return NULL;
	}
	fclose(f);
	xlcfg_domain_clear(&dom);
	*out_len = tl;
	return text;
}

int xl_load_config(const char *path, const char *extra, struct xlcfg_domain *dom, bool quiet)
{
	char *data = NULL;
	size_t len = 0;
	struct xlcfg *cfg = NULL;
	int rc = 1;

	if (!strcmp(path, "/dev/null")) {
		data = calloc(1, 1);
	} else {
		data = xl_read_file(path, &len);
		if (!data) {
			fprintf(stderr, "Failed to read config file: %s: %s\n", path,
				strerror(errno));
			return 3;
		}
		if (looks_like_xml(path, data, len)) {
			char *text;

			if (!quiet)
				fprintf(stderr, "Parsing config from %s\n", path);
			quiet = true; /* said it already */
			text = xml_to_cfg_text(path, data, len, &len);

			free(data);
			if (!text)
				return 1;
			data = text;
		}
	}
	if (!data)
		return 1;
	if (extra && *extra) {
		size_t el = strlen(extra);
		char *n = realloc(data, len + el + 3);

		if (!n)
			goto out;
		data = n;
		len += (size_t)sprintf(data + len, "\n%s\n", extra);
	}
	if (!quiet)
		fprintf(stderr, "Parsing config from %s\n", path);
	cfg = xlcfg_new(path, stderr);
	if (!cfg)
		goto out;
	if (xlcfg_parse_data(cfg, data, len) < 0) {
		fprintf(stderr, "Failed to parse config: %s\n", strerror(EINVAL));
		goto out;
	}
	if (xlcfg_domain_from_cfg(dom, cfg) < 0)
		goto out;
	/* xl.conf's vif defaults, under each vif's own settings */
	if (xl_global_config_load() < 0)
		goto out;
	for (int i = 0; i < dom->n_vifs; i++)
		if (xl_global_vif_defaults(&dom->vifs[i]) < 0)
			goto out;
	rc = 0;
out:
	xlcfg_free(cfg);
	free(data);
	return rc;
}

int xl_config_args(int argc, char **argv, const char **file, char **extra, const char *help)
{
	for (; optind < argc; optind++) {
		if (strchr(argv[optind], '=')) {
			size_t old = *extra ? strlen(*extra) : 0;
			char *n = realloc(*extra, old + strlen(argv[optind]) + 2);

			if (!n) {
				free(*extra);
				*extra = NULL;
				return 1;
			}
			sprintf(n + old, "%s\n", argv[optind]);
			*extra = n;
		} else if (!*file) {
			*file = argv[optind];
		} else {
			xl_help(help);
			free(*extra);
			*extra = NULL;
			return 2;
		}
	}
	return 0;
}
