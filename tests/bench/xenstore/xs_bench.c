/*
 * xs-bench: round-trip latency of xenstore operations against a daemon, and
 * the floor to compare them with: a bare Unix-socket echo server built the
 * same way (one thread, epoll, non-blocking sockets), measured by the same
 * client code.
 *
 *   xs-bench echo-server SOCKET
 *   xs-bench run SOCKET echo|read|write|directory|transaction|watch OPS CLIENTS
 *       prints the mean microseconds per operation over all clients
 *   xs-bench fill SOCKET COUNT SIZE     COUNT nodes of SIZE-byte values
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "abi/xs_wire.h"

static const char *xb_sock;
static const char *xb_mode;
static long xb_ops;
static pthread_barrier_t xb_barrier;

static double xb_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int xb_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", xb_sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("xs-bench: connect");
		exit(1);
	}
	return fd;
}

/* A connection with a read buffer: one read(2) may bring several messages. */
struct xb_conn {
	int fd;
	size_t have;
	char buf[2 * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)];
};

/* Take one whole message into out (NUL-terminated); returns its type. */
static int xb_recv(struct xb_conn *c, char *out)
{
	struct xsd_sockmsg h;
	size_t need;

	for (;;) {
		if (c->have >= sizeof(h)) {
			memcpy(&h, c->buf, sizeof(h));
			need = sizeof(h) + h.len;
			if (h.len > XENSTORE_PAYLOAD_MAX) {
				fprintf(stderr, "xs-bench: bad reply\n");
				exit(1);
			}
			if (c->have >= need)
				break;
		}
		ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);

		if (n <= 0) {
			fprintf(stderr, "xs-bench: connection lost\n");
			exit(1);
		}
		c->have += (size_t)n;
	}
	memcpy(out, c->buf, need);
	out[need] = 0;
	c->have -= need;
	memmove(c->buf, c->buf + need, c->have);
	return (int)h.type;
}

static void xb_send(struct xb_conn *c, uint32_t type, uint32_t tx, const void *p, uint32_t len)
{
	char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {type, 1, tx, len};

	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), p, len);
	if (send(c->fd, msg, sizeof(h) + len, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len)) {
		perror("xs-bench: send");
		exit(1);
	}
}

static int xb_call(struct xb_conn *c, uint32_t type, uint32_t tx, const void *p, uint32_t len,
		   char *buf)
{
	xb_send(c, type, tx, p, len);
	return xb_recv(c, buf);
}

static struct xb_conn *xb_open(void)
{
	struct xb_conn *c = calloc(1, sizeof(*c));

	if (!c)
		exit(1);
	c->fd = xb_connect();
	return c;
}

static const char xb_value[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes */

static uint32_t xb_write_payload(char *p, const char *path)
{
	size_t l = strlen(path) + 1;

	memcpy(p, path, l);
	memcpy(p + l, xb_value, 32);
	return (uint32_t)(l + 32);
}

static void *xb_client(void *arg)
{
	long id = (long)arg, i;
	char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1], path[64], dir[64];
	char wp[128];
	double *sum = malloc(sizeof(*sum));
	struct xb_conn *fd = xb_open(), *wfd = NULL;
	uint32_t wl, pl;
	double t0;

	snprintf(path, sizeof(path), "/bench/c%ld/k", id);
	snprintf(dir, sizeof(dir), "/bench/c%ld", id);
	pl = (uint32_t)strlen(path) + 1;
	wl = xb_write_payload(wp, path);
	if (strcmp(xb_mode, "echo")) {
		xb_call(fd, XS_WRITE, 0, wp, wl, buf);
		for (i = 0; i < 10; i++) {
			char p2[96], w2[160];

			snprintf(p2, sizeof(p2), "%s/child%ld", dir, i);
			xb_call(fd, XS_WRITE, 0, w2, xb_write_payload(w2, p2), buf);
		}
	}
	if (!strcmp(xb_mode, "watch")) {
		char wreq[128];
		size_t l = strlen(path) + 1;

		wfd = xb_open();
		memcpy(wreq, path, l);
		memcpy(wreq + l, "tok", 4);
		xb_call(wfd, XS_WATCH, 0, wreq, (uint32_t)l + 4, buf);
		xb_recv(wfd, buf); /* the initial event */
	}
	pthread_barrier_wait(&xb_barrier);
	t0 = xb_now();
	for (i = 0; i < xb_ops; i++) {
		if (!strcmp(xb_mode, "echo")) {
			xb_call(fd, XS_READ, 0, wp, wl, buf);
		} else if (!strcmp(xb_mode, "read")) {
			xb_call(fd, XS_READ, 0, path, pl, buf);
		} else if (!strcmp(xb_mode, "write")) {
			xb_call(fd, XS_WRITE, 0, wp, wl, buf);
		} else if (!strcmp(xb_mode, "directory")) {
			xb_call(fd, XS_DIRECTORY, 0, dir, (uint32_t)strlen(dir) + 1, buf);
		} else if (!strcmp(xb_mode, "transaction")) {
			uint32_t tx;

			xb_call(fd, XS_TRANSACTION_START, 0, "", 1, buf);
			tx = (uint32_t)strtoul(buf + sizeof(struct xsd_sockmsg), NULL, 10);
			xb_call(fd, XS_READ, tx, path, pl, buf);
			xb_call(fd, XS_WRITE, tx, wp, wl, buf);
			if (xb_call(fd, XS_TRANSACTION_END, tx, "T", 2, buf) != XS_TRANSACTION_END)
				i--; /* EAGAIN: retried, as a client would */
		} else if (!strcmp(xb_mode, "watch")) {
			/* From sending the write to the event arriving at the watcher. */
			xb_send(fd, XS_WRITE, 0, wp, wl);
			xb_recv(wfd, buf);
			xb_recv(fd, buf);
		}
	}
	*sum = (xb_now() - t0) / (double)xb_ops * 1e6;
	close(fd->fd);
	free(fd);
	if (wfd) {
		close(wfd->fd);
		free(wfd);
	}
	return sum;
}

static int xb_run(long clients)
{
	pthread_t thr[64];
	double total = 0;
	long i;

	if (clients < 1 || clients > 64)
		return 2;
	pthread_barrier_init(&xb_barrier, NULL, (unsigned)clients);
	for (i = 0; i < clients; i++)
		pthread_create(&thr[i], NULL, xb_client, (void *)i);
	for (i = 0; i < clients; i++) {
		void *r;

		pthread_join(thr[i], &r);
		total += *(double *)r;
		free(r);
	}
	printf("%.3f\n", total / (double)clients);
	return 0;
}

/* The floor: echo every byte back, same loop shape as the daemon. */
static int xb_echo_server(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[64];
	static char buf[65536];

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", xb_sock);
	unlink(xb_sock);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		perror("xs-bench: echo server");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1), i;

		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				ev.data.fd = c;
				if (c >= 0)
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r <= 0) {
				if (r == 0 || errno != EAGAIN)
					close(fd);
				continue;
			}
			for (ssize_t off = 0; off < r;) {
				ssize_t w = send(fd, buf + off, (size_t)(r - off), MSG_NOSIGNAL);

				if (w < 0 && errno != EAGAIN)
					break;
				if (w > 0)
					off += w;
			}
		}
	}
}

static int xb_fill(long count, long size)
{
	char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1], p[4096 + 128];
	struct xb_conn *fd = xb_open();
	long i;

	if (size < 1 || size > 4000)
		return 2;
	for (i = 0; i < count; i++) {
		int l = snprintf(p, 128, "/fill/d%ld/n%ld", i / 1000, i) + 1;

		memset(p + l, 'v', (size_t)size);
		if (xb_call(fd, XS_WRITE, 0, p, (uint32_t)(l + size), buf) != XS_WRITE) {
			fprintf(stderr, "xs-bench: fill failed at %ld\n", i);
			return 1;
		}
	}
	close(fd->fd);
	free(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "echo-server")) {
		xb_sock = argv[2];
		return xb_echo_server();
	}
	if (argc == 6 && !strcmp(argv[1], "run")) {
		xb_sock = argv[2];
		xb_mode = argv[3];
		xb_ops = atol(argv[4]);
		return xb_run(atol(argv[5]));
	}
	if (argc == 5 && !strcmp(argv[1], "fill")) {
		xb_sock = argv[2];
		return xb_fill(atol(argv[3]), atol(argv[4]));
	}
	fprintf(stderr, "usage: see the header of tests/bench/xenstore/xs_bench.c\n");
	return 2;
}
