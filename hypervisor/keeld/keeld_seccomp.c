/*
 * keeld's own seccomp allowlist.  keeld holds /dev/kvm and every domain's
 * memory; once its start-up is done (/dev/kvm open, the socket bound, the
 * signals set) it needs only the system calls below, so every thread runs
 * under a filter (SECCOMP_FILTER_FLAG_TSYNC) that allows those and no
 * other.  ioctl is allowed only for KVM's requests (type 0xAE): keeld
 * makes no other.  openat, mkdir, rmdir, unlink and write are allowed
 * whatever their arguments (a filter cannot read a path): keeld opens
 * guest images passed as descriptors, the shim, /proc files and the
 * cgroup files of its scheduler.
 *
 * A violation is loud: SECCOMP_RET_TRAP raises SIGSYS, whose handler
 * writes the call's number and name (and an ioctl's request) to stderr --
 * keeld's log -- with write(2) alone, and aborts.  That names the call in
 * keeld's own log, where KILL_PROCESS would name it only in the kernel's
 * audit log, which a test (or an unprivileged container) may not read.
 *
 * KEEL_SECCOMP=log refuses nothing: the same handler writes
 * `keeld: seccomp log: system call N (name)` the first time each call
 * outside the list is made (to the file KEEL_SECCOMP_LOGFILE names, else
 * stderr), then makes the call itself from one instruction the filter
 * lets through, and returns its result as the trapped call's.  That is
 * how the list was made, and how to find what a new feature needs; the
 * kernel's own SECCOMP_RET_LOG would say the same in dmesg, but there it
 * is rate-limited and lost among other messages.  Only in log mode does
 * the filter let that instruction through.
 *
 * KEEL_SECCOMP_SELFTEST=1 makes a thread started before the filter call
 * a forbidden syscall once it is in place (the test keeld-seccomp).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "../core/domain.h"
#include "../core/sandbox.h"
#include "keeld.h"
#include "keeld_syscall_names.h"

#if defined(__SANITIZE_ADDRESS__)
#define KEELD_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEELD_SAN 1
#endif
#endif

#define KVMIO_TYPE 0xAE

/* Hot calls first: the filter tries them in order. */
static const int keeld_allowed[] = {
	SYS_ioctl, /* KVM_RUN and friends: KVM's requests only */
	SYS_futex,
	SYS_read,
	SYS_write,
	SYS_poll,
	SYS_ppoll,
	SYS_clock_gettime,
	SYS_clock_nanosleep,
	SYS_nanosleep,
	SYS_sched_yield,
	SYS_readv,
	SYS_writev,
	SYS_pread64,
	SYS_pwrite64,
	/* the control socket */
	SYS_accept4,
	SYS_recvmsg,
	SYS_sendmsg,
	SYS_recvfrom,
	SYS_sendto,
	SYS_getsockopt,
	SYS_shutdown,
	/* files: guest images, the shim, /proc, cgroups */
	SYS_openat,
	SYS_close,
	SYS_fstat,
	SYS_newfstatat,
	SYS_lseek,
	SYS_fcntl,
	SYS_dup,
	SYS_mkdir,
	SYS_unlink,
	SYS_getdents64,
	SYS_rmdir,	 /* the scheduler's cgroups, at destroy */
	SYS_access,	 /* whether the cgroup v1 files are writable */
	SYS_setpriority, /* the scheduler's weights as nice values */
	SYS_sysinfo,	 /* glibc's sysconf page counts (host memory) */
	SYS_readlinkat,
	/* memory, domains' memfds, event channels' eventfds */
	SYS_mmap,
	SYS_munmap,
	SYS_mprotect,
	SYS_mremap,
	SYS_madvise,
	SYS_brk,
	SYS_memfd_create,
	SYS_ftruncate,
	SYS_fallocate,
	SYS_eventfd2,
	/* threads (vCPUs), signals, abort() */
	SYS_clone,
	SYS_clone3,
	SYS_set_robust_list,
	SYS_rseq,
	SYS_exit,
	SYS_exit_group,
	SYS_gettid,
	SYS_getpid,
	SYS_tgkill,
	SYS_rt_sigaction,
	SYS_rt_sigprocmask,
	SYS_rt_sigreturn,
	SYS_rt_sigsuspend,
	SYS_sigaltstack,
	SYS_sched_getaffinity,
	SYS_sched_setaffinity,
	SYS_getrandom,
	SYS_prlimit64,
	/* vCPU timers (POSIX timers signalling a thread) */
	SYS_timer_create,
	SYS_timer_settime,
	SYS_timer_delete,
	SYS_timer_gettime,
	/* the sandboxed helpers it forks (pv_unpack.c, ctl_save.c) */
	SYS_wait4,
	SYS_pipe2,
	SYS_dup2,
	SYS_close_range,
	SYS_prctl,
	SYS_seccomp,
#ifdef KEELD_SAN
	/* AddressSanitizer's runtime: its reports, and LeakSanitizer at exit */
	SYS_readlink,
	SYS_open, /* LeakSanitizer's tracer: /proc/PID/task */
	SYS_getdents,
	SYS_readlinkat,
	SYS_getppid,
	SYS_ptrace,
	SYS_uname,
	SYS_getrlimit,
	SYS_setrlimit,
	SYS_process_vm_readv,
	SYS_msync,
	SYS_sched_getparam,
	SYS_arch_prctl,
#endif
};

static void keeld_seccomp_append(char *buf, size_t *n, size_t cap, const char *s)
{
	while (*s && *n < cap - 1)
		buf[(*n)++] = *s++;
}

static void keeld_seccomp_append_num(char *buf, size_t *n, size_t cap, unsigned long v,
				     unsigned base)
{
	char digits[24];
	int k = 0;

	do {
		digits[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && k < (int)sizeof(digits));
	while (k > 0 && *n < cap - 1)
		buf[(*n)++] = digits[--k];
}

/* Log mode's way out: the call in rax with the arguments of the System V
 * calling convention moved into the kernel's registers; the filter allows
 * any call made from keeld_seccomp_passage_ip, the instruction after the
 * syscall. */
long keeld_seccomp_passage(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
extern const char keeld_seccomp_passage_ip[];
__asm__(".text\n"
	".globl keeld_seccomp_passage\n"
	".type keeld_seccomp_passage, @function\n"
	"keeld_seccomp_passage:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov %rcx, %rdx\n"
	"	mov %r8, %r10\n"
	"	mov %r9, %r8\n"
	"	mov 8(%rsp), %r9\n"
	"	syscall\n"
	".globl keeld_seccomp_passage_ip\n"
	"keeld_seccomp_passage_ip:\n"
	"	ret\n"
	".size keeld_seccomp_passage, . - keeld_seccomp_passage\n");

static int keeld_seccomp_logging;   /* KEEL_SECCOMP=log */
static int keeld_seccomp_logfd = 2; /* where its lines go */
static unsigned char keeld_seccomp_seen[512];
static unsigned keeld_seccomp_ioctls[32]; /* outside requests logged once */

/* Log mode: has this call (an ioctl: this request) been logged yet? */
static int keeld_seccomp_first(unsigned nr, unsigned req)
{
	if (nr == SYS_ioctl) {
		for (size_t i = 0; i < sizeof(keeld_seccomp_ioctls) / sizeof(unsigned); i++) {
			unsigned old = __atomic_load_n(&keeld_seccomp_ioctls[i], __ATOMIC_RELAXED);

			if (old == req)
				return 0;
			if (old == 0 &&
			    __atomic_compare_exchange_n(&keeld_seccomp_ioctls[i], &old, req, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
				return 1;
		}
		return 0;
	}
	return nr >= sizeof(keeld_seccomp_seen) ||
	       !__atomic_exchange_n(&keeld_seccomp_seen[nr], 1, __ATOMIC_RELAXED);
}

/* SIGSYS from the filter: name the call (async-signal-safe); then abort,
 * or in log mode make the call and hand back its result. */
static void keeld_seccomp_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	unsigned nr = (unsigned)si->si_syscall;
	unsigned req = (unsigned)g[REG_RSI];
	char line[192];
	size_t n = 0;

	if (keeld_seccomp_logging && !keeld_seccomp_first(nr, req))
		goto pass;
	keeld_seccomp_append(line, &n, sizeof(line),
			     keeld_seccomp_logging ? "keeld: seccomp log: system call "
						   : "keeld: seccomp: forbidden system call ");
	keeld_seccomp_append_num(line, &n, sizeof(line), nr, 10);
	if (nr < sizeof(keeld_syscall_names) / sizeof(keeld_syscall_names[0]) &&
	    keeld_syscall_names[nr]) {
		keeld_seccomp_append(line, &n, sizeof(line), " (");
		keeld_seccomp_append(line, &n, sizeof(line), keeld_syscall_names[nr]);
		keeld_seccomp_append(line, &n, sizeof(line), ")");
	}
	if (nr == SYS_ioctl) {
		keeld_seccomp_append(line, &n, sizeof(line), " request 0x");
		keeld_seccomp_append_num(line, &n, sizeof(line), req, 16);
	}
	keeld_seccomp_append(line, &n, sizeof(line), keeld_seccomp_logging ? "\n" : ", aborting\n");
	if (write(keeld_seccomp_logging ? keeld_seccomp_logfd : 2, line, n) < 0) {
		/* nothing more to try */
	}
	if (!keeld_seccomp_logging)
		abort();
pass:
	g[REG_RAX] = keeld_seccomp_passage(nr, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
					   g[REG_R8], g[REG_R9]);
}

static pthread_mutex_t keeld_selftest_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t keeld_selftest_cond = PTHREAD_COND_INITIALIZER;
static int keeld_selftest_go;

/* Started before the filter, so only TSYNC puts it under it. */
static void *keeld_selftest_thread(void *arg)
{
	pthread_mutex_lock(&keeld_selftest_lock);
	while (!keeld_selftest_go)
		pthread_cond_wait(&keeld_selftest_cond, &keeld_selftest_lock);
	pthread_mutex_unlock(&keeld_selftest_lock);
	syscall(SYS_getpgid, 0); /* harmless, and never one of keeld's */
	return NULL;
}

int keeld_seccomp_install(void)
{
	const char *mode = getenv("KEEL_SECCOMP");
	const char *selftest = getenv("KEEL_SECCOMP_SELFTEST");
	const char *logfile = getenv("KEEL_SECCOMP_LOGFILE");
	struct sigaction sa = {.sa_sigaction = keeld_seccomp_sigsys, .sa_flags = SA_SIGINFO};
	struct sandbox_policy p = {keeld_allowed, sizeof(keeld_allowed) / sizeof(keeld_allowed[0]),
				   KVMIO_TYPE, SECCOMP_RET_TRAP, 0};
	pthread_t th;
	int r;

	if (mode && !strcmp(mode, "log")) {
		keeld_seccomp_logging = 1;
		p.allow_ip = (uintptr_t)keeld_seccomp_passage_ip;
		if (logfile && *logfile) {
			keeld_seccomp_logfd =
				open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (keeld_seccomp_logfd < 0)
				return -errno;
		}
	} else if (mode && *mode && strcmp(mode, "enforce")) {
		fprintf(stderr, "keeld: KEEL_SECCOMP=%s: expected 'enforce' or 'log'\n", mode);
		return -EINVAL;
	}
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	if (selftest && *selftest) {
		r = -pthread_create(&th, NULL, keeld_selftest_thread, NULL);
		if (r < 0)
			return r;
		pthread_detach(th);
	}
	r = sandbox_filter(&p, SECCOMP_FILTER_FLAG_TSYNC);
	if (r > 0)
		r = -EAGAIN; /* TSYNC: thread r could not take the filter */
	if (r < 0)
		return r;
	hvlog("keeld: seccomp allowlist installed: %zu system calls (%s)", p.n,
	      keeld_seccomp_logging ? "log mode: nothing refused" : "enforced");
	if (selftest && *selftest) {
		pthread_mutex_lock(&keeld_selftest_lock);
		keeld_selftest_go = 1;
		pthread_cond_signal(&keeld_selftest_cond);
		pthread_mutex_unlock(&keeld_selftest_lock);
	}
	return 0;
}
