/*
 * xl dump-core for keeld's domains: the guest's RAM mapped read-only
 * through MAP_FRAMES (as xl save reads it) and written in the layout of
 * Xen's xc_domain_dumpcore (xl_dumpcore.c).  As on Xen the domain is not
 * paused: a running guest's core is a live snapshot.  keeld does not give
 * dom0 its vCPUs' registers yet, so .xen_prstatus holds one zeroed
 * vcpu_guest_context per vCPU (tools see how many vCPUs there were, not
 * their state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xl_backend_keel.h"
#include "xl_dumpcore.h"

#define XLK_VGC_SIZE 5168

int xlk_dump_core(void *h, uint32_t domid, const char *file)
{
	struct xlk *k = h;
	struct keelctl_dominfo info;
	struct keelctl_version ver;
	struct xl_dumpcore_image img = {0};
	void *ram = NULL, *ctx = NULL;
	int fd, r, e;

	/* xc_domain_dumpcore opens (creates, truncates, 0600) the file first */
	fd = open(file, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, S_IWUSR | S_IRUSR);
	if (fd < 0) {
		e = errno;
		fprintf(stderr, "xc: error: Could not open corefile %s (%d = %s): Internal error\n",
			file, e, strerror(e));
		return -e;
	}
	r = keelctl_domain_getinfo(k->ctl, domid, &info);
	if (r == 0 && domid == 0)
		r = -EPERM; /* dom0 is the host: its memory is not keeld's */
	if (r == 0)
		r = keelctl_version(k->ctl, &ver);
	if (r == 0) {
		img.nr_pages = info.mem_mb << 8;
		img.nr_vcpus = info.vcpus;
		img.xen_major = ver.major;
		img.xen_minor = ver.minor;
		img.xen_extra = ver.extra;
		img.xen_caps = ver.caps;
		ctx = calloc(info.vcpus ? info.vcpus : 1, XLK_VGC_SIZE);
		r = ctx ? 0 : -ENOMEM;
	}
	if (r == 0)
		r = xlk_map_ram(k, domid, img.nr_pages, info.flags & KEELCTL_DOMINFO_HVM, &ram);
	if (r == 0) {
		img.ram = ram;
		img.vcpu_ctx = ctx;
		r = xl_dumpcore_write(fd, &img);
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (ram)
		munmap(ram, img.nr_pages * 4096);
	free(ctx);
	return r;
}
