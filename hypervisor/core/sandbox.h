/*
 * Seccomp-BPF filters and the short-lived sandboxed helpers keeld forks to
 * parse hostile input (kernels: pv/pv_unpack.c; save images:
 * ctl/ctl_save.c).  keeld's own allowlist is keeld/keeld_seccomp.c.
 */
#ifndef KEEL_HV_SANDBOX_H
#define KEEL_HV_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A filter for x86-64 only (any other arch is killed; x32 numbers get
 * fallback): the calls in allowed[] pass; ioctl, if allowed and
 * ioctl_type is not 0, passes only for requests of that type byte; a call
 * made from the instruction at allow_ip (if not 0) passes whatever it is
 * (keeld's log mode re-issues calls from there); everything else gets
 * fallback (a SECCOMP_RET_* action). */
struct sandbox_policy {
	const int *allowed;
	size_t n;
	unsigned ioctl_type;
	uint32_t fallback;
	uint64_t allow_ip;
};
/* Install it; flags: seccomp(2)'s (SECCOMP_FILTER_FLAG_TSYNC for every
 * thread).  Sets no_new_privs.  0, -errno, or with TSYNC the id of a
 * thread that could not take it. */
int sandbox_filter(const struct sandbox_policy *p, unsigned flags);

/* In a helper just forked: keep only fd (as fd 3) and stderr, then the
 * helpers' filter (write, memory management, futex, exit; anything else
 * kills the process).  0 or -errno. */
int sandbox_enter(int fd);

/* Fork a helper with a pipe back: in the child, returns 0 with *fd the
 * pipe's write end (the child calls sandbox_enter(*fd) first); in keeld,
 * the child's pid with *fd the read end; -errno on failure. */
pid_t sandbox_fork(int *fd);

/* Reap the helper (keeld closed its read end first).  r: the parent's
 * verdict so far.  A helper that did not exit 0 turns r into -ENOEXEC (if
 * r was 0) and err, named by what, says how it ended (killed by a signal:
 * which one, SIGSYS being the seccomp filter).  Returns the new r. */
int sandbox_reap(pid_t pid, int r, const char *what, char *err, size_t errlen);

#endif
