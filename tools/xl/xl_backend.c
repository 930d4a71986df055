/*
 * Backend registry and the "none" backend.  A real backend registers itself
 * from a constructor (see xl_backend.h); if none did, every command that
 * needs the hypervisor stops with "cannot reach keeld" and exit status 1 --
 * the status xl gives when it cannot set up its libxl context.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl_backend.h"

static int none_open(void **handle, const char **why)
{
	*why = "no toolstack backend in this build of xl "
	       "(keeld's control library, dom0/libkeelctl, is not linked in)";
	return -ENOTCONN;
}

static const struct xl_backend_ops xl_backend_none = {
	.name = "none",
	.open = none_open,
};

static const struct xl_backend_ops *xl_backend_ops = &xl_backend_none;

void xl_backend_register(const struct xl_backend_ops *ops)
{
	xl_backend_ops = ops;
}

struct xl_backend *xl_backend_connect(void)
{
	struct xl_backend *be = calloc(1, sizeof(*be));
	const char *why = "unknown error";
	int r;

	if (!be) {
		fprintf(stderr, "xl: out of memory\n");
		return NULL;
	}
	be->ops = xl_backend_ops;
	r = be->ops->open(&be->handle, &why);
	if (r < 0) {
		fprintf(stderr, "xl: cannot reach keeld: %s\n", why);
		free(be);
		return NULL;
	}
	return be;
}

void xl_backend_disconnect(struct xl_backend *be)
{
	if (!be)
		return;
	if (be->ops->close)
		be->ops->close(be->handle);
	free(be);
}

int xl_backend_fail(const char *what, int err)
{
	fprintf(stderr, "xl: %s: %s\n", what,
		err == -ENOSYS ? "not supported by the toolstack backend" : strerror(-err));
	return 1;
}

int xl_find_domain(struct xl_backend *be, const char *q, uint32_t *domid)
{
	struct xl_domain_info *doms = NULL;
	int n = 0, r, found = -1;
	char *end;
	unsigned long id;

	if (!be->ops->list) {
		xl_backend_fail("listing domains", -ENOSYS);
		return -ENOSYS;
	}
	r = be->ops->list(be->handle, &doms, &n);
	if (r < 0) {
		xl_backend_fail("listing domains", r);
		return r;
	}
	id = strtoul(q, &end, 10);
	for (int i = 0; i < n && found < 0; i++) {
		if ((*q && !*end && doms[i].domid == id) || !strcmp(doms[i].name, q))
			found = i;
	}
	if (found < 0) {
		fprintf(stderr, "%s is an invalid domain identifier (rc=%d)\n", q, -6);
		free(doms);
		return -ENOENT;
	}
	*domid = doms[found].domid;
	free(doms);
	return 0;
}
