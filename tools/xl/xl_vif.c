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
	size_t len = 1;
	char *joined;
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
	/* xl's set_default_nic_values: xl.conf's bridge and script */
	if (xl_global_config_load() < 0 || xl_global_vif_defaults(&vif) < 0) {
		xlcfg_vif_clear(&vif);
		return 1;
	}
	r = xl_devcmd_add(argv[optind], &spec, "attaching a network interface",
			  "libxl_device_nic_add");
	xlcfg_vif_clear(&vif);
	return r;
}

static void xl_vif_header(void)
{
	printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.",
	       "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
}

static void xl_vif_row(const struct xl_dev_info *d)
{
	printf("%-3u %-2u %-17s%6u %5d %6d %5d/%-11d %-30s\n", d->devid, d->be_domid, d->mac,
	       d->devid, d->state, d->evtch, d->tx_ring_ref, d->rx_ring_ref, d->be_path);
}

int main_networklist(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "network-list", 1)
	{
	}
	return xl_devcmd_list(argv + optind, argc - optind, XL_DEV_VIF,
			      "listing network interfaces", xl_vif_header, xl_vif_row);
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
	be = xl_devcmd_open(argv[optind], &domid);
	if (!be)
		return 1;
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
