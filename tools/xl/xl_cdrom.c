/*
 * xl cd-insert / cd-eject (Xen's xl_cdrom.c): the medium of an HVM
 * domain's emulated CD-ROM drive, changed through the backend
 * (libxl_cdrom_insert: QMP to the domain's QEMU).  As xl 4.17: the file
 * must exist ("Cannot stat file"), a failure exits 1, success 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "xl.h"
#include "xl_backend.h"

static int cd_insert(const char *qualifier, const char *vdev, const char *file)
{
	struct xl_backend *be;
	struct stat st;
	uint32_t domid;
	int r;

	be = xl_devcmd_open(qualifier, &domid);
	if (!be)
		return 1;
	if (file && stat(file, &st) < 0) {
		fprintf(stderr, "Cannot stat file: %s\n", file);
		xl_backend_disconnect(be);
		return 1;
	}
	r = be->ops->cdrom_insert ? be->ops->cdrom_insert(be->handle, domid, vdev, file) : -ENOSYS;
	xl_backend_disconnect(be);
	if (r == -ENOSYS)
		return xl_backend_fail("cd-insert", r);
	return r < 0 ? 1 : 0;
}

int main_cd_eject(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "cd-eject", 2)
	{
	}
	return cd_insert(argv[optind], argv[optind + 1], NULL);
}

int main_cd_insert(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "cd-insert", 3)
	{
	}
	return cd_insert(argv[optind], argv[optind + 1], argv[optind + 2]);
}
