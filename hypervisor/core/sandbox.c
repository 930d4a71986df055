/*
 * Seccomp-BPF filters, built from a list of allowed system calls, and the
 * fork/enter/reap steps every sandboxed helper shares (sandbox.h).  A
 * helper is a child forked for one piece of hostile input: it keeps a pipe
 * back to keeld and stderr, runs under a filter that allows writing,
 * memory management and exiting, and sends its answer; keeld checks the
 * answer before using it.
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define SANDBOX_MAX_INSNS 512
#define X32_SYSCALL_BIT	  0x40000000u

/* Append "if the word at off equals v, return act" (3 instructions). */
static unsigned sandbox_word_is(struct sock_filter *f, unsigned k, uint32_t off, uint32_t v,
				uint32_t act)
{
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, act);
	return k;
}

int sandbox_filter(const struct sandbox_policy *p, unsigned flags)
{
	const uint32_t ip = offsetof(struct seccomp_data, instruction_pointer);
	struct sock_filter f[SANDBOX_MAX_INSNS];
	struct sock_fprog prog;
	unsigned k = 0;
	int has_ioctl = 0;
	long r;

	if (2 * p->n + 20 > SANDBOX_MAX_INSNS)
		return -E2BIG;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	/* x32 numbers (the same calls with bit 30 set) are never allowed */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, p->fallback);
	for (size_t i = 0; i < p->n; i++) {
		if (p->allowed[i] == SYS_ioctl && p->ioctl_type) {
			has_ioctl = 1;
			continue;
		}
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (unsigned)p->allowed[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	if (has_ioctl) {
		/* ioctl: only requests of one type (the low word of args[1]) */
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 4);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[1]));
		f[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00);
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, p->ioctl_type << 8,
						      0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	if (p->allow_ip) {
		/* both halves of the calling instruction's address must match */
		f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip + 4);
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)(p->allow_ip >> 32), 0, 3);
		k = sandbox_word_is(f, k, ip, (uint32_t)p->allow_ip, SECCOMP_RET_ALLOW);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, p->fallback);
	prog = (struct sock_fprog){(unsigned short)k, f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	return r < 0 ? -errno : (int)r; /* > 0: with TSYNC, a thread that could not sync */
}

int sandbox_enter(int fd)
{
	static const int allowed[] = {
		SYS_write, SYS_writev,	    SYS_mmap, SYS_munmap,     SYS_mremap,
		SYS_brk,   SYS_madvise,	    SYS_exit, SYS_exit_group, SYS_rt_sigreturn,
		SYS_futex, SYS_sigaltstack, /* a sanitizer build's _exit */
	};
	const struct sandbox_policy p = {allowed, sizeof(allowed) / sizeof(allowed[0]), 0,
					 SECCOMP_RET_KILL_PROCESS, 0};

	/* Only the pipe (as fd 3) and stderr stay open. */
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0))
		return -errno;
	if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
		return -errno;
	close(0);
	close(1);
	return sandbox_filter(&p, 0);
}

pid_t sandbox_fork(int *fd)
{
	int fds[2], r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		close(fds[0]);
		*fd = fds[1];
		return 0;
	}
	close(fds[1]);
	*fd = fds[0];
	return pid;
}

int sandbox_reap(pid_t pid, int r, const char *what, char *err, size_t errlen)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		snprintf(err, errlen, "the %s helper failed (status %#x)", what, status);
		r = -ENOEXEC;
	} else if (r < 0 && WIFSIGNALED(status)) {
		snprintf(err, errlen, "the %s helper was killed by signal %d%s", what,
			 WTERMSIG(status), WTERMSIG(status) == SIGSYS ? " (seccomp)" : "");
	}
	return r;
}
