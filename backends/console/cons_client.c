/*
 * Attaching to a domain's console: connect to keel-consoled's socket for
 * that domain.  -ENOENT when the domain has no console being served.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
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
