/*
 * xl's block device commands on running domains: block-attach (a disk spec,
 * as in xl.cfg's disk= list, given as one or more words), block-list
 * (Xen's columns: Vdev BE handle state evt-ch ring-ref BE-path, the state
 * and ring of the frontend) and block-detach (by vdev name or device
 * number; --force removes without waiting for the guest).  Messages and
 * exit statuses as Xen's xl_block.c; the work is the backend's
 * device_add / device_remove / device_list (xl_backend.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"
#include "xl_backend.h"

int main_blockattach(int argc, char **argv)
{
	struct xlcfg_disk disk;
	struct xl_dev_spec spec = {.kind = XL_DEV_VBD, .disk = &disk};
	int opt, r;

	XL_FOREACH_OPT(opt, "", NULL, "block-attach", 2)
	{
	}
	if (xlcfg_disk_parse(&disk, argc - optind - 1, (const char *const *)argv + optind + 1,
			     "command line", stderr) < 0)
		return 1;
	r = xl_devcmd_add(argv[optind], &spec, "attaching a disk", "libxl_device_disk_add");
	xlcfg_disk_clear(&disk);
	return r;
}

static void xl_block_header(void)
{
	printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
	       "ring-ref", "BE-path");
}

static void xl_block_row(const struct xl_dev_info *d)
{
	printf("%-5u %-3u %-6u %-5d %-6d %-8d %-30s\n", d->devid, d->be_domid, d->domid, d->state,
	       d->evtch, d->ring_ref, d->be_path);
}

int main_blocklist(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "block-list", 1)
	{
	}
	return xl_devcmd_list(argv + optind, argc - optind, XL_DEV_VBD, "listing disks",
			      xl_block_header, xl_block_row);
}

int main_blockdetach(int argc, char **argv)
{
	static const struct option longopts[] = {{"force", 0, 0, 'f'}, XL_COMMON_LONG_OPTS};
	struct xl_backend *be;
	bool force = false;
	uint32_t domid;
	int opt, devid, r;

	XL_FOREACH_OPT(opt, "f", longopts, "block-detach", 2)
	{
	case 'f':
		force = true;
		break;
	}
	be = xl_devcmd_open(argv[optind], &domid);
	if (!be)
		return 1;
	devid = xlcfg_vdev_number(argv[optind + 1], NULL, NULL);
	r = devid < 0 ? -ENOENT
	    : be->ops->device_remove
		    ? be->ops->device_remove(be->handle, domid, XL_DEV_VBD, (uint32_t)devid, force)
		    : -ENOSYS;
	if (r == -ENOENT)
		fprintf(stderr, "Error: Device %s not connected.\n", argv[optind + 1]);
	else if (r < 0)
		fprintf(stderr, "libxl_device_disk_remove failed: %s\n", strerror(-r));
	xl_backend_disconnect(be);
	return r < 0 ? 1 : 0;
}
