/*
 * `xl console` for keeld domains.  The console backend (keel-consoled)
 * serves each domain's xencons ring on RUNDIR/console/<domid>.sock; when
 * that socket answers, xl is handed a connection to it (input and output).
 * keel-consoled learns of a new domain through a store watch, so right
 * after `xl create` (always, with `xl create -c`) the socket may not be
 * there yet: then, if the daemon runs, xl waits for it to fill in the
 * domain's console/tty, as xenconsole waits for xenconsoled's pty.  Only
 * when no keel-consoled runs (or it does not take the domain in time) is
 * the fallback used: a stream of the guest's output as keeld records it
 * (keelctl_console_read: its ring output, which keeld drains only while
 * no backend has bound the ring, which is why this must not be used while
 * keel-consoled is about to bind it).  A small child process polls
 * keeld, writes the bytes that are new since the last look, and ends the
 * stream when the domain shuts down or disappears.  Input cannot reach
 * such a guest; it is read and dropped so the terminal relay never blocks.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../backends/console/cons_client.h"
#include "xl_backend_keel.h"
#include "xl_constream.h"

/* keeld cannot notify: poll, briskly after output, backing off when quiet */
#define XLK_CONSOLE_POLL_MIN_MS 1
#define XLK_CONSOLE_POLL_MAX_MS 20
/* how long a running keel-consoled gets to take a new domain (xenconsole waits too) */
#define XLK_CONSOLE_SERVE_WAIT_MS 10000

static int64_t xlk_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * keel-consoled runs but has not served @domid yet: wait (watching the
 * domain's console/tty) until its socket answers.  -ENOENT at once when
 * no daemon runs or the domain has no console ring for it to serve;
 * -ETIMEDOUT when it did not take the domain in time.
 */
static int xlk_console_wait_served(struct xlk *k, uint32_t domid, int *fd)
{
	char tty[64], *port;
	int64_t end = xlk_now_ms() + XLK_CONSOLE_SERVE_WAIT_MS;
	int r = -ETIMEDOUT;
	bool has_port;

	if (!cons_daemon_alive(k->rundir))
		return -ENOENT;
	snprintf(tty, sizeof(tty), "/local/domain/%u/console/tty", domid);
	if (ks_watch(k->xs, tty, "xl-console") < 0)
		return -ENOENT;
	for (;;) {
		char *path = NULL, *token = NULL;
		int64_t left = end - xlk_now_ms();

		/* the socket first: the node may have been filled in before the watch */
		if (cons_client_open(k->rundir, domid, fd) == 0) {
			r = 0;
			break;
		}
		port = xlk_store_read(k, "/local/domain/%u/console/port", domid);
		has_port = port != NULL;
		free(port);
		if (!has_port || !cons_daemon_alive(k->rundir)) {
			r = -ENOENT; /* the domain went, or the daemon did */
			break;
		}
		if (left <= 0)
			break;
		/* a short slice: the daemon's death fires no watch */
		if (ks_read_watch(k->xs, left < 500 ? (int)left : 500, &path, &token) == 0) {
			free(path);
			free(token);
		}
	}
	ks_unwatch(k->xs, tty, "xl-console");
	return r;
}
static int xlk_write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The child: poll keeld until the domain stops or xl hangs up. */
static void __attribute__((noreturn)) xlk_console_child(const char *rundir, uint32_t domid, int fd)
{
	static char buf[KEELCTL_RSP_MAX + 1];
	char *seen = NULL;
	size_t seen_len = 0;
	int wait_ms = XLK_CONSOLE_POLL_MIN_MS;
	struct keelctl *ctl;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	if (keelctl_open(rundir, &ctl) < 0)
		_exit(1);
	for (;;) {
		struct keelctl_dominfo info;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		bool last;
		int n, r = keelctl_domain_getinfo(ctl, domid, &info);

		last = r < 0 || info.state == KEELCTL_STATE_SHUTDOWN ||
		       info.state == KEELCTL_STATE_CRASHED;
		n = keelctl_console_read(ctl, domid, buf, sizeof(buf));
		if (n > 0) {
			size_t from = xl_constream_new_from(seen, seen_len, buf, (size_t)n);
			char *keep;

			if (from < (size_t)n) {
				if (xlk_write_all(fd, buf + from, (size_t)n - from) < 0)
					_exit(0);
				wait_ms = XLK_CONSOLE_POLL_MIN_MS;
			}
			keep = realloc(seen, (size_t)n);
			if (!keep)
				_exit(1);
			memcpy(keep, buf, (size_t)n);
			seen = keep;
			seen_len = (size_t)n;
		}
		if (last)
			_exit(0);
		if (poll(&p, 1, wait_ms) > 0) {
			/* input has nowhere to go yet; EOF means xl detached */
			if (read(fd, buf, sizeof(buf)) <= 0)
				_exit(0);
		}
		if (wait_ms < XLK_CONSOLE_POLL_MAX_MS)
			wait_ms *= 2;
	}
}

int xlk_console_open(void *h, uint32_t domid, const char *type, int num, int *fd)
{
	struct xlk *k = h;
	struct keelctl_dominfo info;
	int sv[2], r;
	pid_t pid;

	if (strcmp(type, "pv") || num != 0)
		return -ENODEV; /* PV domains have one console; serial/vuart are HVM's */
	r = keelctl_domain_getinfo(k->ctl, domid, &info);
	if (r < 0)
		return r;
	if (cons_client_open(k->rundir, domid, fd) == 0)
		return 0;
	r = xlk_console_wait_served(k, domid, fd);
	if (r == 0)
		return 0;
	if (r == -ETIMEDOUT)
		fprintf(stderr, "xl: keel-consoled did not serve domain %u's console within %d s\n",
			domid, XLK_CONSOLE_SERVE_WAIT_MS / 1000);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		close(ks_fd(k->xs));
		xlk_console_child(k->rundir, domid, sv[1]);
	}
	close(sv[1]);
	if (isatty(STDIN_FILENO))
		fprintf(stderr,
			"xl: domain %u's console is output only (no console ring "
			"served yet); Ctrl-] detaches\n",
			domid);
	*fd = sv[0];
	return 0;
}
