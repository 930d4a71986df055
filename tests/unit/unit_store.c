/*
 * See unit_store.h.  Shared by the suites that drive backends or consoles
 * against a real store, so each does not fork and exec the daemon itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit_store.h"

static int unit_store_daemon_path(char *daemon, size_t size)
{
	const char *bin = getenv("KEEL_BIN");
	char exe[PATH_MAX];

	/* $KEEL_BIN (set by tests/run-tests), else the runner's own directory. */
	if (bin) {
		snprintf(exe, sizeof(exe), "%s", bin);
	} else {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n <= 0)
			return -errno;
		exe[n] = 0;
		*strrchr(exe, '/') = 0;
	}
	if ((size_t)snprintf(daemon, size, "%s/keel-xenstored", exe) >= size)
		return -ENAMETOOLONG;
	return access(daemon, X_OK) < 0 ? -errno : 0;
}

static int unit_store_connectable(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int fd, ok;

	if (len >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int unit_store_start(struct unit_store *s)
{
	const char *tmp = getenv("TMPDIR");
	char daemon[PATH_MAX + 32];
	int err;

	memset(s, 0, sizeof(*s));
	err = unit_store_daemon_path(daemon, sizeof(daemon));
	if (err)
		return err;
	snprintf(s->dir, sizeof(s->dir), "%s/unit-store.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		return -errno;
	snprintf(s->sock, sizeof(s->sock), "%s/xs.sock", s->dir);
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed runner */
		dup2(null, 2);
		execl(daemon, daemon, "--socket", s->sock, "--no-journal", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (unit_store_connectable(s->sock))
			return 0;
		usleep(10000);
	}
	unit_store_stop(s);
	return -ETIMEDOUT;
}

int unit_store_stop(struct unit_store *s)
{
	char cmd[300];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (!s->dir[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	return system(cmd) == 0 ? 0 : -EIO;
}
