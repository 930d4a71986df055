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
	if (r < 0)
		rc = xl_backend_fail("sending debug keys", r);
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
