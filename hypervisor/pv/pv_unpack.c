/*
 * A guest kernel is untrusted input (with bootloaders it comes from the
 * guest's own disk), and decompressing it (XZ, gzip) and parsing its ELF
 * headers and notes is the most complex parsing keeld does.  So it happens
 * in a short-lived helper: a child forked for the one image, which keeps
 * only a pipe back to keeld and stderr (every other descriptor -- /dev/kvm,
 * the VMs, guest memory's memfds, the control socket -- is closed), and
 * then runs under a seccomp filter that allows writing, memory management
 * and exiting, nothing else (no open, no socket, no ioctl); anything else
 * kills it.  It sends back the decompressed ELF and the parse result;
 * keeld checks that result (every segment inside the bytes it got, sizes
 * sane, no overlaps, strings terminated) before the builder uses it.  A
 * helper that crashes, is killed or sends garbage is a refused kernel,
 * never a keeld fault.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/domain.h"
#include "../core/sandbox.h"
#include "../core/util.h"
#include "elf.h"
#include "pv_build.h"

/* A decompressed kernel larger than this is refused (Linux's are tens of
 * MiB; elf_parse caps each segment at 4 GiB, far more than any RAM here). */
#define PV_UNPACK_MAX (512ULL << 20)

struct pv_unpack_msg {
	int32_t status;	   /* 0 or -errno */
	uint32_t unpacked; /* 1: elf_size bytes follow; 0: the image itself is the ELF */
	uint64_t elf_size;
	struct elf_image img; /* its pointers mean nothing here */
};

/* The helper: never returns. */
static void __attribute__((noreturn)) pv_unpack_child(int fd, const void *kern, size_t size)
{
	struct pv_unpack_msg m;
	void *elf = NULL;
	size_t elf_size = size;

	if (sandbox_enter(fd) < 0)
		_exit(122);
	memset(&m, 0, sizeof(m));
	if (pv_bzimage_extract(kern, size, &elf, &elf_size) == 0)
		m.unpacked = 1;
	else
		elf_size = size;
	m.elf_size = elf_size;
	m.status = elf_parse(m.unpacked ? elf : kern, elf_size, &m.img);
	if (keeld_write_all(3, &m, sizeof(m)) < 0 ||
	    (m.status == 0 && m.unpacked && keeld_write_all(3, elf, elf_size) < 0))
		_exit(123);
	_exit(0); /* not exit(): no atexit work (a sanitizer's) under the filter */
}

/* keeld's checks on what the helper said about the bytes it sent. */
static int pv_unpack_check(struct elf_image *img, size_t size)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	if (img->nsegs < 1 || img->nsegs > ELF_MAX_SEGS)
		return -ENOEXEC;
	for (int i = 0; i < img->nsegs; i++) {
		const struct elf_seg *s = &img->segs[i];

		if (s->filesz > s->memsz || s->memsz == 0 || s->memsz > (1ULL << 32) ||
		    s->offset > size || s->filesz > size - s->offset ||
		    s->vaddr + s->memsz < s->vaddr)
			return -ENOEXEC;
		for (int j = 0; j < i; j++)
			if (s->vaddr < img->segs[j].vaddr + img->segs[j].memsz &&
			    img->segs[j].vaddr < s->vaddr + s->memsz)
				return -ENOEXEC; /* overlapping segments */
		lo = s->vaddr < lo ? s->vaddr : lo;
		hi = s->vaddr + s->memsz > hi ? s->vaddr + s->memsz : hi;
	}
	if (img->vstart != lo || img->vend != hi)
		return -ENOEXEC;
	img->xen.features[sizeof(img->xen.features) - 1] = 0;
	img->xen.guest_os[sizeof(img->xen.guest_os) - 1] = 0;
	img->xen.loader[sizeof(img->xen.loader) - 1] = 0;
	return 0;
}

int pv_unpack_kernel(const void *kern, size_t size, void **elf, size_t *elf_size,
		     struct elf_image *img, char *err, size_t errlen)
{
	struct pv_unpack_msg m;
	uint8_t *buf = NULL;
	int fd, r = -ENOEXEC;
	pid_t pid;

	*elf = NULL;
	pid = sandbox_fork(&fd);
	if (pid < 0)
		return pid;
	if (pid == 0)
		pv_unpack_child(fd, kern, size);
	if (keeld_read_all(fd, &m, sizeof(m)) < 0) {
		snprintf(err, errlen, "the kernel helper sent no answer");
		goto out;
	}
	if (m.status < 0) {
		snprintf(err, errlen, "kernel is neither ELF64 nor a bzImage (%d)", m.status);
		r = m.status == -ENOMEM ? -ENOMEM : -ENOEXEC;
		goto out;
	}
	if (m.unpacked > 1 || (!m.unpacked && m.elf_size != size) || m.elf_size > PV_UNPACK_MAX) {
		snprintf(err, errlen, "the kernel helper's answer is inconsistent");
		goto out;
	}
	if (m.unpacked) {
		buf = malloc(m.elf_size ? m.elf_size : 1);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		if (keeld_read_all(fd, buf, m.elf_size) < 0) {
			snprintf(err, errlen, "the kernel helper's image is truncated");
			goto out;
		}
	}
	*img = m.img;
	img->data = buf ? buf : kern;
	img->size = m.elf_size;
	if (pv_unpack_check(img, m.elf_size) < 0) {
		snprintf(err, errlen, "kernel segments out of bounds or overlapping");
		goto out;
	}
	r = 0;
out:
	close(fd);
	r = sandbox_reap(pid, r, "kernel", err, errlen);
	if (r < 0) {
		free(buf);
		return r;
	}
	*elf = buf;
	*elf_size = m.elf_size;
	return 0;
}
