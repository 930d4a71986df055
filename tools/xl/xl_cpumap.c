/*
 * Host CPU sets as xl writes them (xl vcpu-pin, xl vcpu-list's affinity
 * column): "all", a CPU "N", a range "N-M", "^N" or "^N-M" taking CPUs out
 * again, comma-separated and read left to right; printed back as ranges,
 * "all" when every host CPU is in the set.  Maps hold XL_CPUMAP_MAX CPUs.
 * NUMA node sets ("nodes:...") are refused: Keel has no NUMA placement.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"

int xl_host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n < 1 ? 1 : n > XL_CPUMAP_MAX ? XL_CPUMAP_MAX : (int)n;
}

static void xl_cpumap_put(uint64_t *map, int cpu, int on)
{
	if (on)
		map[cpu / 64] |= 1ULL << (cpu % 64);
	else
		map[cpu / 64] &= ~(1ULL << (cpu % 64));
}

int xl_cpumap_parse(const char *s, uint64_t *map, int ncpus)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	memset(map, 0, XL_CPUMAP_WORDS * sizeof(uint64_t));
	for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		int neg = *tok == '^', first, last;
		char *p = tok + neg, *end;

		if (!strncmp(p, "node", 4)) {
			fprintf(stderr, "xl: %s: Keel has no NUMA node placement\n", tok);
			r = -EOPNOTSUPP;
			break;
		}
		if (!strcmp(p, "all")) {
			first = 0;
			last = ncpus - 1;
		} else {
			first = (int)strtol(p, &end, 10);
			if (end == p || first < 0) {
				r = -EINVAL;
				break;
			}
			last = first;
			if (*end == '-') {
				p = end + 1;
				last = (int)strtol(p, &end, 10);
				if (end == p || last < first) {
					r = -EINVAL;
					break;
				}
			}
			if (*end) {
				r = -EINVAL;
				break;
			}
			if (last >= ncpus) {
				fprintf(stderr, "xl: cpu %d illegal (this host has %d)\n", last,
					ncpus);
				r = -EINVAL;
				break;
			}
		}
		for (int c = first; c <= last; c++)
			xl_cpumap_put(map, c, !neg);
	}
	if (!tok && !r && !*s)
		r = -EINVAL;
	free(copy);
	return r;
}

void xl_cpumap_format(const uint64_t *map, int ncpus, char *buf, size_t len)
{
	int all = 1, n = 0;
	size_t used = 0;

	for (int c = 0; c < ncpus; c++)
		all &= (int)(map[c / 64] >> (c % 64) & 1);
	if (all) {
		snprintf(buf, len, "all");
		return;
	}
	buf[0] = 0;
	for (int c = 0; c < ncpus && used < len; c++) {
		int e = c;

		if (!(map[c / 64] >> (c % 64) & 1))
			continue;
		while (e + 1 < ncpus && (map[(e + 1) / 64] >> ((e + 1) % 64) & 1))
			e++;
		used += (size_t)snprintf(buf + used, len - used, e > c ? "%s%d-%d" : "%s%d",
					 n++ ? "," : "", c, e);
		c = e;
	}
	if (!n)
		snprintf(buf, len, "none");
}
