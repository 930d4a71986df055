/*
 * The HVM parts of xl save / xl restore (xl_backend_keel_save.c drives
 * them), as libxl does them for a guest without PV drivers:
 *
 * Save: the domain is shut down with SHUTDOWN_suspend by dom0
 * (libxl's xc_domain_shutdown; nothing is asked of the guest) and xl
 * waits for keeld to say so; QEMU is stopped and writes its device
 * state, not live, to a file through QMP (xen-save-devices-state, what
 * libxl__qmp_suspend_save sends), which goes into the image as the
 * EMULATOR section beside keeld's records (libxl's EMULATOR_CONTEXT
 * record).  After a save that keeps the domain (-c, -p), QMP "cont"
 * lets QEMU run on.
 *
 * Restore: the EMULATOR section goes to a file that QEMU, started for
 * the new domain once keeld has its state (so the frames QEMU's ROMs
 * live in are there again), reads with -incoming fd:N, as libxl_dm.c
 * starts qemu-xen for a restore; xl unpauses the domain only after QEMU
 * says "running", i.e. after it has loaded that state.
 *
 * An HVM domain's RAM lies around the MMIO hole: frames 0..low below
 * 0xF0000000, the rest from 4 GiB; keeld's memfd holds them in that
 * order, and so does the image's MEMORY section.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "abi/hvm.h"
#include "xl_backend_keel.h"
#include "xl_saveimg.h"

#define XLK_HVM_SHUTDOWN_SUSPEND 2	    /* Xen's SHUTDOWN_suspend */
#define XLK_HVM_MAX_DM_STATE	 (64 << 20) /* QEMU's device state (VRAM is RAM, not in it) */

/* RAM frames below the MMIO hole (keeld's hvm_low_pages). */
static uint64_t xlk_hvm_low_pages(uint64_t pages)
{
	uint64_t hole = HVM_BELOW_4G_MMIO_START >> 12;

	return pages < hole ? pages : hole;
}

/*
 * The domain's RAM in one piece of this process, in memfd order: a PV
 * domain's frames 0..pages; an HVM domain's frames below the MMIO hole,
 * then those from 4 GiB.  The legacy VGA window (no RAM: Xen's HVM builder
 * leaves it out, and keeld will not map it) reads as zeros here and takes
 * no writes that reach the domain.
 */
int xlk_map_ram(struct xlk *k, uint32_t domid, uint64_t pages, bool hvm, void **ram)
{
	uint64_t low = hvm ? xlk_hvm_low_pages(pages) : pages;
	struct {
		uint64_t gfn, count, at; /* at: the piece's first page in *ram */
	} piece[3];
	unsigned n = 0;
	uint8_t *all;
	int r = 0;

	if (!hvm)
		return keelctl_map_frames(k->ctl, domid, 0, pages, ram);
	if (low <= HVM_VGA_HOLE_START) {
		piece[n++] = (typeof(piece[0])){0, low, 0};
	} else {
		piece[n++] = (typeof(piece[0])){0, HVM_VGA_HOLE_START, 0};
		if (low > HVM_VGA_HOLE_END)
			piece[n++] = (typeof(piece[0])){HVM_VGA_HOLE_END, low - HVM_VGA_HOLE_END,
							HVM_VGA_HOLE_END};
	}
	if (pages > low)
		piece[n++] = (typeof(piece[0])){HVM_HIGH_MEM_START >> 12, pages - low, low};
	all = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (all == MAP_FAILED)
		return -errno;
	for (unsigned i = 0; i < n && r == 0; i++) {
		void *p, *moved;

		r = keelctl_map_frames(k->ctl, domid, piece[i].gfn, piece[i].count, &p);
		if (r < 0)
			break;
		moved = mremap(p, piece[i].count * 4096, piece[i].count * 4096,
			       MREMAP_MAYMOVE | MREMAP_FIXED, all + piece[i].at * 4096);
		if (moved == MAP_FAILED) {
			r = -errno;
			munmap(p, piece[i].count * 4096);
		}
	}
	if (r < 0)
		munmap(all, pages * 4096); /* with the pieces moved there */
	else
		*ram = all;
	return r;
}

int xlk_hvm_suspend(struct xlk *k, uint32_t domid)
{
	int r = keelctl_domain_shutdown(k->ctl, domid, XLK_HVM_SHUTDOWN_SUSPEND, 0);

	return r < 0 ? r : xlk_suspend_wait(k, domid);
}

/* QEMU's state, written by QEMU itself: RUNDIR/qemu-save.DOMID (libxl's
 * qemu-save.DOMID), open at *fd (the name is gone). */
int xlk_hvm_dm_save(struct xlk *k, uint32_t domid, int *fd, uint64_t *len)
{
	char path[PATH_MAX + 32];
	struct stat st;
	int r;

	snprintf(path, sizeof(path), "%s/qemu-save.%u", k->rundir, domid);
	unlink(path);
	r = xlk_qmp_save_devices(k, domid, path);
	*fd = r == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (r == 0 && *fd < 0)
		r = -errno;
	unlink(path);
	if (r == 0 && fstat(*fd, &st) < 0)
		r = -errno;
	if (r == 0 && (st.st_size <= 0 || st.st_size > XLK_HVM_MAX_DM_STATE))
		r = -EIO;
	if (r == 0)
		*len = (uint64_t)st.st_size;
	if (r < 0) {
		fprintf(stderr,
			"xl: saving domain %u's device model state (QMP "
			"xen-save-devices-state): %s\n",
			domid, strerror(-r));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	return r;
}

/* The EMULATOR section into RUNDIR/qemu-resume.DOMID (path filled). */
int xlk_hvm_dm_read(struct xlk *k, struct xl_saveimg_r *img, uint32_t domid, char *path,
		    size_t size)
{
	uint32_t type;
	uint64_t len;
	char *buf = NULL;
	int fd = -1, r = xl_saveimg_next(img, &type, &len);

	if (r == 0 && (type != XL_SAVEIMG_EMULATOR || len == 0 || len > XLK_HVM_MAX_DM_STATE))
		r = -EBADMSG;
	if (r == 0 && (size_t)snprintf(path, size, "%s/qemu-resume.%u", k->rundir, domid) >= size)
		r = -ENAMETOOLONG;
	if (r == 0) {
		buf = malloc(len);
		r = buf ? xl_saveimg_read(img, buf, len) : -ENOMEM;
	}
	if (r == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			r = -errno;
		else if (write(fd, buf, len) != (ssize_t)len)
			r = -EIO;
		if (fd >= 0 && close(fd) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			unlink(path);
	}
	free(buf);
	return r;
}
