/*
 * xl's network interface commands on running domains: network-attach (the
 * settings of a vif= spec as separate words: mac=, bridge=, ip=, script=,
 * backend=, vifname=, rate=, mtu=, model=, type=, devid=), network-list
 * (Xen's columns: Idx BE Mac Addr. handle state evt-ch tx-/rx-ring-ref
 * BE-path) and network-detach (by device index or MAC address).  Messages
 * and exit statuses as Xen's xl_vif.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"
#include "xl_backend.h"

int main_networkattach(int argc, char **argv)
{
	struct xlcfg_vif vif;
	struct xl_dev_spec spec = {.kind = XL_DEV_VIF, .vif = &vif};
	struct xl_backend *be;
	size_t len = 1;
	char *joined;
	uint32_t domid;
	int opt, r;

	XL_FOREACH_OPT(opt, "", NULL, "network-attach", 1)
	{
	}
	/* the words are the comma-separated settings of one vif spec */
	for (int a = optind + 1; a < argc; a++)
		len += strlen(argv[a]) + 1;
	joined = calloc(1, len);
	if (!joined)
		return 1;
	for (int a = optind + 1; a < argc; a++) {
		if (strchr(argv[a], ',')) {
			fprintf(stderr, "unrecognized argument `%s'\n", argv[a]);
			free(joined);
			return 1;
		}
		if (*joined)
			strcat(joined, ",");
		strcat(joined, argv[a]);
	}
	r = xlcfg_vif_parse(&vif, joined, "command line", stderr);
	free(joined);
	if (r < 0)
		return 1;
	be = xl_backend_connect();
	if (!be || xl_find_domain(be, argv[optind], &domid) < 0) {
		if (be)
			xl_backend_disconnect(be);
		xlcfg_vif_clear(&vif);
		return 1;
	}
	r = be->ops->device_add ? be->ops->device_add(be->handle, domid, &spec) : -ENOSYS;
	if (r == -ENOSYS)
		xl_backend_fail("attaching a network interface", r);
	if (r < 0)
		fprintf(stderr, "libxl_device_nic_add failed: %s\n", strerror(-r));
	xlcfg_vif_clear(&vif);
	xl_backend_disconnect(be);
	return r < 0 ? 1 : 0;
}

int main_networklist(int argc, char **argv)
{
	struct xl_backend *be;
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "network-list", 1)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->device_list) {
		xl_backend_disconnect(be);
		return xl_backend_fail("listing network interfaces", -ENOSYS);
	}
	printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.",
	       "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
	for (int a = optind; a < argc; a++) {
		struct xl_dev_info *d = NULL;
		uint32_t domid;
		int n = 0;

		if (xl_find_domain(be, argv[a], &domid) < 0)
			continue;
		if (be->ops->device_list(be->handle, domid, XL_DEV_VIF, &d, &n) < 0)
			continue;
		for (int i = 0; i < n; i++)
			printf("%-3u %-2u %-17s%6u %5d %6d %5d/%-11d %-30s\n", d[i].devid,
			       d[i].be_domid, d[i].mac, d[i].devid, d[i].state, d[i].evtch,
			       d[i].tx_ring_ref, d[i].rx_ring_ref, d[i].be_path);
		free(d);
	}
	xl_backend_disconnect(be);
	return 0;
}

/* A device index, or the vif whose MAC (any case) is @mac; -ENOENT. */
static int xl_vif_find(struct xl_backend *be, uint32_t domid, const char *which, uint32_t *devid)
{
	struct xl_dev_info *d = NULL;
	char *end;
	unsigned long id = 0;
	int n = 0, r = -ENOENT;

	if (!strchr(which, ':')) {
		id = strtoul(which, &end, 10);
		if (!*which || *end || id > UINT32_MAX)
			return -ENOENT;
	}
	if (!be->ops->device_list || be->ops->device_list(be->handle, domid, XL_DEV_VIF, &d, &n))
		return -ENOENT;
	for (int i = 0; i < n && r; i++) {
		if (strchr(which, ':') ? !strcasecmp(d[i].mac, which) : d[i].devid == id) {
			*devid = d[i].devid;
			r = 0;
		}
	}
	free(d);
	return r;
}

int main_networkdetach(int argc, char **argv)
{
	static const struct option longopts[] = {{"force", 0, 0, 'f'}, XL_COMMON_LONG_OPTS};
	struct xl_backend *be;
	bool force = false;
	uint32_t domid, devid;
	int opt, r;

	XL_FOREACH_OPT(opt, "f", longopts, "network-detach", 2)
	{
	case 'f':
		force = true;
		break;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (xl_find_domain(be, argv[optind], &domid) < 0) {
		xl_backend_disconnect(be);
		return 1;
	}
	if (xl_vif_find(be, domid, argv[optind + 1], &devid) < 0) {
		fprintf(stderr, "Unknown device %s.\n", argv[optind + 1]);
		xl_backend_disconnect(be);
		return 1;
	}
	r = be->ops->device_remove
		    ? be->ops->device_remove(be->handle, domid, XL_DEV_VIF, devid, force)
		    : -ENOSYS;
	if (r < 0)
		fprintf(stderr, "libxl_device_nic_del failed: %s\n", strerror(-r));
	xl_backend_disconnect(be);
	return r < 0 ? 1 : 0;
}
