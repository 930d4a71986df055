/*
 * Host-level commands: info (Xen 4.17's "field : value" lines in its order,
 * or `xl info PREFIX` for the values of the fields it starts), dmesg (keeld's log, -c clears it) and top (a live view of
 * the domains, refreshed every second, like xentop).  Data comes from the
 * toolstack backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"

/*
 * One `xl info` line, "field                  : value" (virt_caps is
 * xl's "field              : cap cap..." with nothing after the colon when
 * empty).  With @only, xl's filter: every line whose text starts with
 * @only and has ": " after its field prints just its value -- so a
 * prefix ("xen_v") matches, several lines may, and an unknown field
 * prints nothing and still exits 0, as in xl.
 */
static void info_line(const char *key, const char *value, const char *only)
{
	char line[1024];
	const char *colon;

	if (!strcmp(key, "virt_caps"))
		snprintf(line, sizeof(line), "%-23s:%s%s\n", key, *value ? " " : "", value);
	else
		snprintf(line, sizeof(line), "%-23s: %s\n", key, value);
	if (!only) {
		fputs(line, stdout);
		return;
	}
	colon = strchr(line, ':');
	if (!strncmp(line, only, strlen(only)) && colon && colon[1] == ' ')
		fputs(colon + 2, stdout);
}

/* A number from a sysfs file, or -1. */
static long sysfs_long(const char *fmt, int a)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), fmt, a);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The NUMA node a host CPU belongs to (its nodeN link), 0 without one. */
static int cpu_node(int cpu)
{
	char path[128];

	for (int node = 0; node < 64; node++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/node%d", cpu, node);
		if (access(path, F_OK) == 0)
			return node;
	}
	return 0;
}

/*
 * xl info -n: the host's CPU topology and NUMA nodes (the dom0 Keel runs in
 * is the host: sysfs has them), in xl's layout.  No device topology: Keel
 * passes no PCI devices through.
 */
static void print_topology(void)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);

	printf("cpu_topology           :\n");
	printf("cpu:    core    socket     node\n");
	for (int c = 0; c < ncpus; c++) {
		long core = sysfs_long("/sys/devices/system/cpu/cpu%d/topology/core_id", c);
		long sock =
			sysfs_long("/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);

		if (core >= 0 && sock >= 0)
			printf("%3d:    %4ld     %4ld     %4d\n", c, core, sock, cpu_node(c));
	}
	printf("device topology        :\n");
	printf("device           node\n");
	printf("No device topology data available\n");
	printf("numa_info              :\n");
	printf("node:    memsize    memfree    distances\n");
	for (int node = 0; node < 64; node++) {
		char path[128], line[256], dist[256] = "";
		unsigned long long total = 0, mfree = 0, v;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Node %*d MemTotal: %llu", &v) == 1)
				total = v;
			if (sscanf(line, "Node %*d MemFree: %llu", &v) == 1)
				mfree = v;
		}
		fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", node);
		f = fopen(path, "r");
		if (f) {
			if (fgets(dist, sizeof(dist), f)) {
				dist[strcspn(dist, "\n")] = 0;
				for (char *p = dist; *p; p++)
					if (*p == ' ')
						*p = ',';
			}
			fclose(f);
		}
		printf("%4d:    %6llu     %6llu      %s\n", node, total >> 10, mfree >> 10, dist);
	}
}

int main_info(int argc, char **argv)
{
	static const struct option opts[] = {{"numa", 0, 0, 'n'}, XL_COMMON_LONG_OPTS};
	char **keys = NULL, **values = NULL;
	struct xl_backend *be;
	const char *only = NULL;
	bool numa = false;
	int opt, n = 0, rc = 0, r;

	XL_FOREACH_OPT(opt, "n", opts, "info", 0)
	{
	case 'n':
		numa = true;
		break;
	}
	if (!numa && optind < argc) /* as xl: -n turns the filter off */
		only = argv[optind];
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = be->ops->host_info ? be->ops->host_info(be->handle, &keys, &values, &n) : -ENOSYS;
	if (r < 0) {
		rc = xl_backend_fail("reading host information", r);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		info_line(keys[i], values[i], only);
		/* -n: xl's topology sections come after the physical facts */
		if (numa && !strcmp(keys[i], "free_cpus"))
			print_topology();
	}
out:
	for (int i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
	xl_backend_disconnect(be);
	return rc;
}

/* xl debug-keys KEYS: as Xen, the reports land in the hypervisor's log. */
int main_debug_keys(int argc, char **argv)
{
	struct xl_backend *be;
	int opt, r, rc = 0;

	XL_FOREACH_OPT(opt, "", NULL, "debug-keys", 1)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = be->ops->debug_keys ? be->ops->debug_keys(be->handle, argv[optind]) : -ENOSYS;
	if (r < 0) {
		fprintf(stderr, "cannot send debug keys: %s\n", argv[optind]);
		rc = 1;
	}
	xl_backend_disconnect(be);
	return rc;
}

int main_dmesg(int argc, char **argv)
{
	struct xl_backend *be;
	bool clear = false;
	char *text = NULL;
	int opt, r, rc = 0;

	XL_FOREACH_OPT(opt, "c", NULL, "dmesg", 0)
	{
	case 'c':
		clear = true;
		break;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = be->ops->dmesg ? be->ops->dmesg(be->handle, clear, &text) : -ENOSYS;
	if (r < 0)
		rc = xl_backend_fail("reading the hypervisor log", r);
	else if (text)
		fputs(text, stdout);
	free(text);
	xl_backend_disconnect(be);
	return rc;
}
