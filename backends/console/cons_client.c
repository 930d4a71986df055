/*
 * Attaching to a domain's console: connect to keel-consoled's socket for
 * that domain.  -ENOENT when the domain has no console being served.  And
 * the daemon's liveness lock, so a client knows whether to wait for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cons_client.h"

int cons_socket_path(const char *rundir, uint32_t domid, char *buf, size_t len)
{
	struct sockaddr_un sa;
	int n = snprintf(buf, len, "%s/console/%u.sock", rundir, domid);

	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int cons_client_open(const char *rundir, uint32_t domid, int *fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s, err;

	err = cons_socket_path(rundir, domid, sa.sun_path, sizeof(sa.sun_path));
	if (err)
		return err;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno == ECONNREFUSED ? -ENOENT : -errno;
		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

static int cons_lock_path(const char *rundir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/console/consoled.lock", rundir);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool cons_daemon_alive(const char *rundir)
{
	char path[4200];
	bool alive;
	int fd;

	if (cons_lock_path(rundir, path, sizeof(path)))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* never ran here */
	alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd); /* drops our shared lock, if we got it */
	return alive;
}

int cons_daemon_lock(const char *rundir, int *fd)
{
	char path[4200];
	int err = cons_lock_path(rundir, path, sizeof(path)), l;

	if (err)
		return err;
	l = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (l < 0)
		return -errno;
	if (flock(l, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(l);
		return err;
	}
	*fd = l;
	return 0;
}
