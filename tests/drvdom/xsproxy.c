/*
 * keel-test-xsproxy: TEST ONLY.  A stand-in for a store transport inside a
 * Linux guest: it listens on a Unix socket and relays each connection,
 * byte for byte, to its own open of the guest kernel's /dev/xen/xenbus
 * (which takes and gives Xen's store wire protocol, watches included), so a
 * program that reaches the store by socket (libkeelstore) runs unchanged in
 * a driver domain.  libkeelstore's own /dev/xen/xenbus transport is another
 * branch's work; this exists only for tests/integration/linux-xenlibs-blkback.
 *
 *   keel-test-xsproxy SOCKET [DEVICE]   (DEVICE: default /dev/xen/xenbus)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Copy what one side has to the other; 0 at end of stream or error. */
static int xsproxy_move(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

static void xsproxy_serve(int conn, const char *dev)
{
	int xb = open(dev, O_RDWR | O_CLOEXEC);
	struct pollfd p[2] = {{conn, POLLIN, 0}, {xb, POLLIN, 0}};

	if (xb < 0) {
		fprintf(stderr, "keel-test-xsproxy: %s: %s\n", dev, strerror(errno));
		return;
	}
	while (poll(p, 2, -1) >= 0) {
		if (p[0].revents && !xsproxy_move(conn, xb))
			break;
		if (p[1].revents && !xsproxy_move(xb, conn))
			break;
	}
	close(xb);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *dev = argc > 2 ? argv[2] : "/dev/xen/xenbus";
	int ls;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: keel-test-xsproxy SOCKET [DEVICE]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 16) < 0) {
		fprintf(stderr, "keel-test-xsproxy: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
	for (;;) {
		int c = accept(ls, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (fork() == 0) {
			close(ls);
			xsproxy_serve(c, dev);
			_exit(0);
		}
		close(c);
	}
}
