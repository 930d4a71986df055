/*
 * Vif specs (xl-network-configuration): comma-separated KEY=VALUE settings
 * -- mac, bridge, gatewaydev (netdev is its deprecated name), type, model,
 * vifname, script, ip, backend, rate, devid, mtu, vlan -- and the flags
 * trusted/untrusted.  As in xl an empty spec is a vif with every default,
 * spaces before a setting are ignored, and an unrecognised word only warns;
 * unlike xl, a value that does not parse (a bad MAC, rate or number) fails
 * the spec instead of leaving a half-set field.
 *
 * rate=AMOUNT/s[@INTERVAL]: AMOUNT is a number with an optional K, M or G
 * (powers of 1000) and B (bytes) or b (bits); INTERVAL is a number of
 * seconds, or with "ms"/"us" milli/microseconds (default 50ms).  Stored as
 * bytes per interval and the interval in microseconds, as libxl does.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

void xlcfg_vif_clear(struct xlcfg_vif *vif)
{
	free(vif->bridge);
	free(vif->ip);
	free(vif->script);
	free(vif->vifname);
	free(vif->model);
	free(vif->backend_domname);
	free(vif->gatewaydev);
	free(vif->vlan);
	memset(vif, 0, sizeof(*vif));
}

static int replace(char **slot, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -ENOMEM;
	free(*slot);
	*slot = n;
	return 0;
}

static int vif_err(FILE *report, const char *where, const char *msg, const char *what)
{
	fprintf(report, "%s: config parsing error in vif: %s in `%s'\n", where, msg, what);
	return -EINVAL;
}

int xlcfg_vif_parse_rate(struct xlcfg_vif *vif, const char *rate, const char *where, FILE *report)
{
	const char *at = strchr(rate, '@'), *p = rate;
	uint64_t bytes, interval = 50000;
	char *end;

	if (p == at || !*p)
		return vif_err(report, where, "no rate specified", rate);
	/* ^[0-9]+[GMK]?[Bb]/s$ */
	if (!(*p >= '0' && *p <= '9'))
		return vif_err(report, where, "invalid rate", rate);
	errno = 0;
	bytes = strtoull(p, &end, 10);
	if (errno || bytes == 0 || bytes > UINT32_MAX)
		return vif_err(report, where, "rate overflow", rate);
	p = end;
	if (*p == 'G')
		bytes *= 1000000000ull, p++;
	else if (*p == 'M')
		bytes *= 1000000ull, p++;
	else if (*p == 'K')
		bytes *= 1000ull, p++;
	if (*p == 'b')
		bytes /= 8;
	else if (*p != 'B')
		return vif_err(report, where, "invalid rate", rate);
	p++;
	if (strncmp(p, "/s", 2) || (p[2] && p + 2 != at))
		return vif_err(report, where, "invalid rate", rate);
	if (at) {
		/* ^[0-9]+[mu]?s?$ */
		p = at + 1;
		if (!(*p >= '0' && *p <= '9'))
			return vif_err(report, where, "invalid replenishment interval", at + 1);
		errno = 0;
		interval = strtoull(p, &end, 10);
		if (errno || interval == 0 || interval > UINT32_MAX)
			return vif_err(report, where, "replenishment interval overflow", at + 1);
		p = end;
		if (*p == 'm') {
			interval *= 1000;
			p++;
		} else if (*p == 'u') {
			p++;
		} else {
			interval *= 1000000;
		}
		if (*p == 's')
			p++;
		if (*p)
			return vif_err(report, where, "invalid replenishment interval", at + 1);
		if (interval > UINT32_MAX)
			return vif_err(report, where, "replenishment interval overflow", at + 1);
	}
	if (bytes > UINT64_MAX / interval)
		return vif_err(report, where, "rate overflow", rate);
	vif->rate_interval_usecs = (uint32_t)interval;
	vif->rate_bytes_per_interval = bytes * interval / 1000000;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char *end;
		unsigned long v;

		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return -EINVAL;
		v = strtoul(s, &end, 16);
		if (v > 255 || end - s > 2)
			return -EINVAL;
		mac[i] = (uint8_t)v;
		if (i < 5 && *end != ':')
			return -EINVAL;
		if (i == 5 && *end)
			return -EINVAL;
		s = end + 1;
	}
	return 0;
}

static int parse_uint(const char *s, unsigned long max, int *out)
{
	char *end;
	unsigned long v;

	if (!(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* String-valued keys and where they go. */
static char **vif_string_slot(struct xlcfg_vif *vif, const char *key)
{
	if (!strcmp(key, "bridge"))
		return &vif->bridge;
	if (!strcmp(key, "gatewaydev") || !strcmp(key, "netdev"))
		return &vif->gatewaydev;
	if (!strcmp(key, "ip"))
		return &vif->ip;
	if (!strcmp(key, "script"))
		return &vif->script;
	if (!strcmp(key, "backend"))
		return &vif->backend_domname;
	if (!strcmp(key, "vifname"))
		return &vif->vifname;
	if (!strcmp(key, "model"))
		return &vif->model;
	if (!strcmp(key, "vlan"))
		return &vif->vlan;
	return NULL;
}

static int vif_token(struct xlcfg_vif *vif, char *tok, const char *where, FILE *report)
{
	char *eq = strchr(tok, '='), *val;
	char **slot;

	if (!strcmp(tok, "trusted")) {
		vif->trusted = XLCFG_TRUE;
		return 0;
	}
	if (!strcmp(tok, "untrusted")) {
		vif->trusted = XLCFG_FALSE;
		return 0;
	}
	if (!eq) {
		fprintf(report, "%s: unrecognized argument `%s' in vif spec (ignored)\n", where,
			tok);
		return 0;
	}
	*eq = 0;
	val = eq + 1;
	if (!strcmp(tok, "netdev"))
		fprintf(report,
			"%s: the netdev parameter is deprecated, please use gatewaydev "
			"instead\n",
			where);
	if ((slot = vif_string_slot(vif, tok)))
		return replace(slot, val);
	if (!strcmp(tok, "type")) {
		if (!strcmp(val, "vif"))
			vif->nictype = 2;
		else if (!strcmp(val, "ioemu"))
			vif->nictype = 1;
		else
			return vif_err(report, where, "invalid type", val);
		return 0;
	}
	if (!strcmp(tok, "mac")) {
		if (parse_mac(val, vif->mac) < 0)
			return vif_err(report, where, "invalid mac", val);
		vif->mac_set = true;
		return 0;
	}
	if (!strcmp(tok, "rate"))
		return xlcfg_vif_parse_rate(vif, val, where, report);
	if (!strcmp(tok, "devid")) {
		if (parse_uint(val, INT_MAX, &vif->devid) < 0)
			return vif_err(report, where, "invalid devid", val);
		return 0;
	}
	if (!strcmp(tok, "mtu")) {
		if (parse_uint(val, 65535, &vif->mtu) < 0 || vif->mtu < 68)
			return vif_err(report, where, "invalid mtu", val);
		return 0;
	}
	if (!strcmp(tok, "accel")) {
		fprintf(report, "%s: the accel parameter for vifs is currently not supported\n",
			where);
		return 0;
	}
	if (!strncmp(tok, "colo", 4) || !strcmp(tok, "forwarddev"))
		return 0; /* COLO settings: accepted, Keel has no COLO */
	*eq = '=';
	fprintf(report, "%s: unrecognized argument `%s' in vif spec (ignored)\n", where, tok);
	return 0;
}

int xlcfg_vif_parse(struct xlcfg_vif *vif, const char *spec, const char *where, FILE *report)
{
	char *buf, *save = NULL, *tok;
	int r = 0;

	memset(vif, 0, sizeof(*vif));
	vif->devid = -1;
	vif->trusted = XLCFG_DEFAULT;
	if (!report)
		report = stderr;
	if (!where)
		where = "vif";
	buf = strdup(spec);
	if (!buf)
		return -ENOMEM;
	for (tok = strtok_r(buf, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		r = vif_token(vif, tok, where, report);
	}
	free(buf);
	if (r)
		xlcfg_vif_clear(vif);
	return r;
}
