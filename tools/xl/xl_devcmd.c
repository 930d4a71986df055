/*
 * What xl's block-* and network-* commands share: resolving the domain a
 * command names, adding a device through the backend's device_add with
 * Xen's failure messages, and listing the devices of one kind for each
 * domain named on the command line (an unknown domain is reported and
 * skipped, as xl does).  The per-kind parts (spec parsing, columns, how a
 * device is named for detach) stay in xl_block.c and xl_vif.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"
#include "xl_backend.h"

struct xl_backend *xl_devcmd_open(const char *qualifier, uint32_t *domid)
{
	struct xl_backend *be = xl_backend_connect();

	if (be && xl_find_domain(be, qualifier, domid) < 0) {
		xl_backend_disconnect(be);
		return NULL;
	}
	return be;
}

int xl_devcmd_add(const char *qualifier, struct xl_dev_spec *spec, const char *what,
		  const char *libxl_fn)
{
	struct xl_backend *be;
	uint32_t domid;
	int r;

	be = xl_devcmd_open(qualifier, &domid);
	if (!be)
		return 1;
	r = be->ops->device_add ? be->ops->device_add(be->handle, domid, spec) : -ENOSYS;
	if (r == -ENOSYS)
		xl_backend_fail(what, r);
	if (r < 0)
		fprintf(stderr, "%s failed: %s\n", libxl_fn, strerror(-r));
	xl_backend_disconnect(be);
	return r < 0 ? 1 : 0;
}

int xl_devcmd_list(char **domains, int count, enum xl_dev_kind kind, const char *what,
		   void (*header)(void), void (*row)(const struct xl_dev_info *d))
{
	struct xl_backend *be = xl_backend_connect();

	if (!be)
		return 1;
	if (!be->ops->device_list) {
		xl_backend_disconnect(be);
		return xl_backend_fail(what, -ENOSYS);
	}
	header();
	for (int a = 0; a < count; a++) {
		struct xl_dev_info *d = NULL;
		uint32_t domid;
		int n = 0;

		if (xl_find_domain(be, domains[a], &domid) < 0)
			continue;
		if (be->ops->device_list(be->handle, domid, kind, &d, &n) < 0)
			continue;
		for (int i = 0; i < n; i++)
			row(&d[i]);
		free(d);
	}
	xl_backend_disconnect(be);
	return 0;
}
