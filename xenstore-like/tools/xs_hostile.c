/*
 * xs-hostile: a deliberately misbehaving xenstore client for testing that
 * keel-xenstored survives bad input.  Each mode attacks one way and checks
 * the daemon's answer: an error reply, or this connection dropped, while a
 * fresh, well-behaved connection is still served.  Exit 0 = the daemon
 * behaved; 1 = it did not (the reason is printed).
 *
 *   xs-hostile SOCKET badlen|garbage|malformed|unknown|flood SECONDS|
 *              watchflood SECONDS|conns COUNT|slow|txflood|watchmax
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "abi/xs_wire.h"

static const char *xh_sock;

static int xh_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", xh_sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int xh_send(int fd, uint32_t type, uint32_t tx, const void *p, uint32_t len)
{
	struct xsd_sockmsg h = {type, 7, tx, len};

	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h))
		return -1;
	return len && send(fd, p, len, MSG_NOSIGNAL) != (ssize_t)len ? -1 : 0;
}

static int xh_read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;

	while (len) {
		struct pollfd pf = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pf, 1, timeout_ms) != 1)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n <= 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Next non-event reply: its type, payload in out. <0: closed or timed out. */
static int xh_reply(int fd, char *out, size_t cap)
{
	struct xsd_sockmsg h;
	char tmp[XENSTORE_PAYLOAD_MAX + 1];

	do {
		int rc = xh_read_all(fd, &h, sizeof(h), 3000);

		if (rc)
			return rc;
		if (h.len > XENSTORE_PAYLOAD_MAX)
			return -EPROTO;
		rc = xh_read_all(fd, tmp, h.len, 3000);
		if (rc)
			return rc;
		tmp[h.len] = 0;
	} while (h.type == XS_WATCH_EVENT);
	tmp[cap - 1] = 0; /* callers only need the start */
	memcpy(out, tmp, cap);
	return (int)h.type;
}

static int xh_expect(int fd, uint32_t type, uint32_t tx, const void *p, uint32_t len,
		     const char *want_err)
{
	char out[256];
	int t;

	if (xh_send(fd, type, tx, p, len))
		return -1;
	t = xh_reply(fd, out, sizeof(out));
	if (want_err ? (t != XS_ERROR || strcmp(out, want_err)) : t != (int)type) {
		fprintf(stderr, "xs-hostile: op %u: got type %d '%s', want %s\n", type, t,
			t >= 0 ? out : "", want_err ? want_err : "success");
		return -1;
	}
	return 0;
}

/* The daemon still answers a well-behaved client. */
static int xh_healthy(void)
{
	int fd = xh_connect(), rc;

	if (fd < 0) {
		fprintf(stderr, "xs-hostile: cannot connect: %s\n", strerror(errno));
		return 1;
	}
	rc = xh_expect(fd, XS_WRITE, 0, "/hostile/ok\0yes", 15, NULL) ||
	     xh_expect(fd, XS_READ, 0, "/hostile/ok", 12, NULL);
	close(fd);
	return rc ? 1 : 0;
}

static int xh_closed(int fd)
{
	char out[64];

	return xh_reply(fd, out, sizeof(out)) == -ECONNRESET;
}

static int xh_badlen(void)
{
	int fd = xh_connect();
	struct xsd_sockmsg h = {XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};

	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h) || !xh_closed(fd)) {
		fprintf(stderr, "xs-hostile: oversized length did not drop the connection\n");
		return 1;
	}
	close(fd);
	h.len = 0xffffffffu;
	fd = xh_connect();
	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h) || !xh_closed(fd))
		return 1;
	close(fd);
	return 0;
}

static int xh_garbage(void)
{
	static char junk[1 << 16];
	int fd = xh_connect(), i;

	srand(42);
	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (char)rand();
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	return 0;
}

static int xh_malformed(void)
{
	char big[4000];
	int fd = xh_connect(), bad = 0;

	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = 0;
	bad |= xh_expect(fd, XS_READ, 0, "/unterminated", 13, "EINVAL");
	bad |= xh_expect(fd, XS_READ, 0, "", 0, "EINVAL");
	bad |= xh_expect(fd, XS_READ, 0, "/a//b", 6, "EINVAL");
	bad |= xh_expect(fd, XS_READ, 0, "/a/", 4, "EINVAL");
	bad |= xh_expect(fd, XS_READ, 0, "/a b", 5, "EINVAL");
	bad |= xh_expect(fd, XS_READ, 0, "/\xc3\xa9", 4, "EINVAL");
	bad |= xh_expect(fd, XS_WRITE, 0, big, sizeof(big), "EINVAL");
	bad |= xh_expect(fd, XS_WRITE, 0, "/no-nul-at-all", 14, "EINVAL");
	bad |= xh_expect(fd, XS_SET_PERMS, 0, "/\0x1", 5, "EINVAL");
	bad |= xh_expect(fd, XS_SET_PERMS, 0, "/\0r", 4, "EINVAL");
	bad |= xh_expect(fd, XS_SET_PERMS, 0, "/\0r99999999999", 15, "EINVAL");
	bad |= xh_expect(fd, XS_SET_PERMS, 0, "/\0r1", 4, "EINVAL"); /* unterminated */
	bad |= xh_expect(fd, XS_WATCH, 0, "/a", 3, "EINVAL");	     /* no token */
	bad |= xh_expect(fd, XS_INTRODUCE, 0, "1\0x\0y", 6, "EINVAL");
	bad |= xh_expect(fd, XS_GET_DOMAIN_PATH, 0, "-1", 3, "EINVAL");
	bad |= xh_expect(fd, XS_TRANSACTION_END, 0, "T", 2, "ENOENT");
	bad |= xh_expect(fd, XS_READ, 12345, "/", 2, "ENOENT");
	bad |= xh_expect(fd, XS_DIRECTORY_PART, 0,
			 "/\0"
			 "99x",
			 6, "EINVAL");
	/* After all that, the same connection still works. */
	bad |= xh_expect(fd, XS_READ, 0, "/", 2, NULL);
	close(fd);
	return bad ? 1 : 0;
}

static int xh_unknown(void)
{
	uint32_t types[] = {XS_WATCH_EVENT, XS_ERROR,	XS_RESTRICT_OBSOLETE, 23, 99,
			    0xffff,	    0xffffffffu};
	int fd = xh_connect(), bad = 0;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		bad |= xh_expect(fd, types[i], 0, "x", 2, "ENOSYS");
	close(fd);
	return bad ? 1 : 0;
}

static double xh_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Pipeline requests and never read a reply; a normal client stays served. */
static int xh_flood(double secs)
{
	char req[16 + 2];
	int fd = xh_connect(), bad = 0;
	double end = xh_now() + secs;
	struct xsd_sockmsg h = {XS_READ, 1, 0, 2};
	long sent = 0;

	memcpy(req, &h, 16);
	memcpy(req + 16, "/", 2);
	while (xh_now() < end) {
		ssize_t n = send(fd, req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == (ssize_t)sizeof(req)) {
			sent++;
			continue;
		}
		/* Blocked, as it should be: meanwhile others are served. */
		bad |= xh_healthy();
		usleep(20000);
	}
	printf("flood: %ld requests queued before the daemon stopped reading\n", sent);
	bad |= xh_healthy();
	close(fd);
	return bad;
}

/*
 * Watch everything and never read; another client writes a lot (long paths,
 * so the events pile up fast): at least 20000 writes, at most 20 s.
 */
static int xh_watchflood(double secs)
{
	int w = xh_connect(), c = xh_connect(), bad = 0, rcvbuf = 4096;
	double start = xh_now();
	char buf[400], dir[256];
	long i = 0;

	memset(dir, 'd', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = 0;
	setsockopt(w, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	bad |= xh_expect(w, XS_WATCH, 0, "/\0tok", 6, NULL);
	while (!bad && (xh_now() < start + secs || i < 20000) && xh_now() < start + 20) {
		int n = snprintf(buf, sizeof(buf), "/flood/%s/n%ld", dir, i++ % 1000);

		memcpy(buf + n + 1, "0123456789abcdef0123456789abcdef", 32);
		bad |= xh_expect(c, XS_WRITE, 0, buf, (uint32_t)n + 1 + 32, NULL);
	}
	printf("watchflood: %ld writes while a watcher did not read\n", i);
	close(w);
	close(c);
	return bad | xh_healthy();
}

static int xh_conns(int count)
{
	int *fds = calloc((size_t)count, sizeof(int)), i, open = 0;

	for (i = 0; i < count; i++) {
		fds[i] = xh_connect();
		if (fds[i] >= 0)
			open++;
	}
	printf("conns: %d of %d connected\n", open, count);
	for (i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	usleep(300000); /* let the daemon see the hang-ups before we knock again */
	return xh_healthy();
}

/* Half a header, then silence: must not stall anyone else. */
static int xh_slow(void)
{
	int fd = xh_connect(), bad;

	send(fd, "\x02\0\0\0\x01", 5, MSG_NOSIGNAL);
	bad = xh_healthy();
	close(fd);
	return bad;
}

static int xh_txflood(void)
{
	char out[64];
	int fd = xh_connect(), i, t = 0;

	for (i = 0; i < 2000; i++) {
		if (xh_send(fd, XS_TRANSACTION_START, 0, "", 1))
			return 1;
		t = xh_reply(fd, out, sizeof(out));
		if (t == XS_ERROR)
			break;
	}
	printf("txflood: %d transactions opened, then %s\n", i, t == XS_ERROR ? out : "none");
	close(fd);
	return (t == XS_ERROR && !strcmp(out, "ENOSPC") ? 0 : 1) | xh_healthy();
}

static int xh_watchmax(void)
{
	char buf[64], out[64];
	int fd = xh_connect(), i, t = 0;

	for (i = 0; i < 70000; i++) {
		int n = snprintf(buf, sizeof(buf), "/w/%d", i);

		memcpy(buf + n + 1, "t", 2);
		if (xh_send(fd, XS_WATCH, 0, buf, (uint32_t)n + 3))
			return 1;
		t = xh_reply(fd, out, sizeof(out));
		if (t == XS_ERROR)
			break;
	}
	printf("watchmax: %d watches, then %s\n", i, t == XS_ERROR ? out : "none");
	close(fd);
	return (t == XS_ERROR && !strcmp(out, "E2BIG") ? 0 : 1) | xh_healthy();
}

int main(int argc, char **argv)
{
	const char *mode;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: xs-hostile SOCKET MODE [ARG]\n");
		return 2;
	}
	xh_sock = argv[1];
	mode = argv[2];
	if (!strcmp(mode, "badlen"))
		rc = xh_badlen();
	else if (!strcmp(mode, "garbage"))
		rc = xh_garbage();
	else if (!strcmp(mode, "malformed"))
		rc = xh_malformed();
	else if (!strcmp(mode, "unknown"))
		rc = xh_unknown();
	else if (!strcmp(mode, "flood"))
		rc = xh_flood(argc > 3 ? atof(argv[3]) : 2);
	else if (!strcmp(mode, "watchflood"))
		rc = xh_watchflood(argc > 3 ? atof(argv[3]) : 2);
	else if (!strcmp(mode, "conns"))
		rc = xh_conns(argc > 3 ? atoi(argv[3]) : 100);
	else if (!strcmp(mode, "slow"))
		rc = xh_slow();
	else if (!strcmp(mode, "txflood"))
		rc = xh_txflood();
	else if (!strcmp(mode, "watchmax"))
		rc = xh_watchmax();
	else
		return 2;
	rc |= xh_healthy();
	printf("%s: %s\n", mode, rc ? "daemon misbehaved" : "ok");
	return rc ? 1 : 0;
}
