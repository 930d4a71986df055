/*
 * Host-level commands: info (all "field : value" lines, or `xl info FIELD`
 * for one value), dmesg (keeld's log, -c clears it) and top (a live view of
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

int main_info(int argc, char **argv)
{
	static const struct option opts[] = {{"numa", 0, 0, 'n'}, XL_COMMON_LONG_OPTS};
	char **keys = NULL, **values = NULL;
	struct xl_backend *be;
	int opt, n = 0, rc = 0, r;

	XL_FOREACH_OPT(opt, "n", opts, "info", 0)
	{
	default: /* -n: no NUMA topology in Keel */
		break;
	}
	if (argc - optind > 1) {
		xl_help("info");
		return 2;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = be->ops->host_info ? be->ops->host_info(be->handle, &keys, &values, &n) : -ENOSYS;
	if (r < 0) {
		rc = xl_backend_fail("reading host information", r);
		goto out;
	}
	if (optind < argc) {
		int i;

		for (i = 0; i < n && strcmp(keys[i], argv[optind]); i++)
			;
		if (i == n) {
			fprintf(stderr, "xl: info: unknown field `%s'\n", argv[optind]);
			rc = 1;
		} else {
			printf("%s\n", values[i]);
		}
	} else {
		for (int i = 0; i < n; i++)
			printf("%-23s: %s\n", keys[i], values[i]);
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

int main_top(int argc, char **argv)
{
	struct xl_backend *be;
	int opt, rc = 0;

	XL_FOREACH_OPT(opt, "", NULL, "top", 0)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->list) {
		rc = xl_backend_fail("listing domains", -ENOSYS);
		goto out;
	}
	for (;;) {
		struct xl_domain_info *d = NULL;
		int n = 0, r = be->ops->list(be->handle, &d, &n);

		if (r < 0) {
			rc = xl_backend_fail("listing domains", r);
			break;
		}
		/* clear the screen and home the cursor, then one line per domain */
		printf("\033[H\033[2J%-20s %5s %8s %10s %9s %5s\n", "NAME", "ID", "STATE",
		       "CPU(sec)", "MEM(k)", "VCPUS");
		for (int i = 0; i < n; i++)
			printf("%-20.20s %5u   %c%c%c%c%c%c %10.0f %9llu %5d\n", d[i].name,
			       d[i].domid, d[i].running ? 'r' : '-', d[i].blocked ? 'b' : '-',
			       d[i].paused ? 'p' : '-', d[i].shutdown ? 's' : '-',
			       d[i].crashed ? 'c' : '-', d[i].dying ? 'd' : '-',
			       (double)d[i].cpu_time_ns / 1e9,
			       (unsigned long long)d[i].current_memkb, d[i].vcpus_online);
		fflush(stdout);
		free(d);
		sleep(1);
	}
out:
	xl_backend_disconnect(be);
	return rc;
}
