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
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/domain.h"
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

/* The helper's whole syscall list. */
static int pv_unpack_seccomp(void)
{
	static const int allowed[] = {
		SYS_write, SYS_writev,	    SYS_mmap, SYS_munmap,     SYS_mremap,
		SYS_brk,   SYS_madvise,	    SYS_exit, SYS_exit_group, SYS_rt_sigreturn,
		SYS_futex, SYS_sigaltstack, /* a sanitizer build's _exit */
	};
	struct sock_filter f[4 + 2 * sizeof(allowed) / sizeof(allowed[0]) + 1];
	struct sock_fprog prog;
	unsigned n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (unsigned)allowed[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog = (struct sock_fprog){(unsigned short)n, f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
}

int pv_unpack_sandbox(int fd)
{
	/* Only the pipe (as fd 3) and stderr stay open. */
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0))
		return -errno;
	if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
		return -errno;
	close(0);
	close(1);
	return pv_unpack_seccomp();
}

/* The helper: never returns. */
static void __attribute__((noreturn)) pv_unpack_child(int fd, const void *kern, size_t size)
{
	struct pv_unpack_msg m;
	void *elf = NULL;
	size_t elf_size = size;

	if (pv_unpack_sandbox(fd) < 0)
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
	int fds[2], status = 0, r = -ENOEXEC;
	pid_t pid;

	*elf = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0)
		pv_unpack_child(fds[1], kern, size);
	close(fds[1]);
	if (keeld_read_all(fds[0], &m, sizeof(m)) < 0) {
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
		if (keeld_read_all(fds[0], buf, m.elf_size) < 0) {
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
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		snprintf(err, errlen, "the kernel helper failed (status %#x)", status);
		r = -ENOEXEC;
	} else if (r < 0 && WIFSIGNALED(status)) {
		snprintf(err, errlen, "the kernel helper was killed by signal %d%s",
			 WTERMSIG(status), WTERMSIG(status) == SIGSYS ? " (seccomp)" : "");
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*elf = buf;
	*elf_size = m.elf_size;
	return 0;
}
