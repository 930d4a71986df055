/*
 * The server: one epoll loop over the listening socket and every
 * connection (sockets, and ring kick fds).  A pass reads and handles what
 * is ready, then commits: the journal is written first (so nothing is
 * acknowledged before it is in the journal), then queued replies and events
 * are pushed out, and dead connections are reaped only at the end of the
 * pass so no event in flight points at freed memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xs_store.h"

bool xs_log_quiet;

void xs_log(const char *fmt, ...)
{
	va_list ap;

	if (xs_log_quiet)
		return;
	va_start(ap, fmt);
	fputs("keel-xenstored: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void xs_quota_defaults(struct xs_quota *q)
{
	q->nodes = 1000;
	q->node_size = 2048;
	q->watches = 128;
	q->transactions = 10;
	q->outstanding = 20;
	q->perms = 5;
	q->tx_nodes = 4096;
}

static void xs_hook_set(void *o, const char *path, const struct xs_node *n)
{
	struct xs_server *s = o;

	if (s->journal_on)
		xs_journal_hook_set(&s->journal, path, n);
}

static void xs_hook_del(void *o, const char *path)
{
	struct xs_server *s = o;

	if (s->journal_on)
		xs_journal_hook_del(&s->journal, path);
}

int xs_server_init(struct xs_server *s, const struct xs_quota *q)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->ext_fd = -1;
	s->epfd = s->listen_fd = -1;
	s->journal.fd = s->journal.dirfd = -1;
	if (q)
		s->quota = *q;
	else
		xs_quota_defaults(&s->quota);
	s->max_conns = 1024;
	rc = xs_tree_init(&s->tree);
	if (rc)
		return rc;
	s->tree.hooks.set = xs_hook_set;
	s->tree.hooks.del = xs_hook_del;
	s->tree.hooks.owner = xs_domain_owner_delta;
	s->tree.hooks.opaque = s;
	xs_domain_owner_delta(s, 0, 1); /* the root, owned by dom0 */
	/* Special nodes start as "n0": only dom0 may watch them. */
	s->special_nperms[0] = s->special_nperms[1] = 1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	return s->epfd < 0 ? -errno : 0;
}

int xs_server_open_journal(struct xs_server *s, const char *dir, bool do_fsync)
{
	int rc = xs_journal_open(&s->journal, dir, s, do_fsync);

	s->journal_on = rc == 0;
	if (rc)
		xs_journal_close(&s->journal); /* release what the failed open took */
	return rc;
}

int xs_server_listen(struct xs_server *s, const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
	char dir[sizeof(a.sun_path)];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		for (char *p = dir + 1; *p; p++) {
			if (*p == '/') {
				*p = 0;
				mkdir(dir, 0755);
				*p = '/';
			}
		}
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A live daemon on this path must not lose its socket to us. */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EAGAIN) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || chmod(path, 0600) || listen(fd, 128) ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;

		close(fd);
		return -e;
	}
	s->listen_fd = fd;
	s->socket_path = strdup(path);
	return 0;
}

int xs_server_add_conn(struct xs_server *s, struct xs_conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	if (c->fd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev))
		return -errno;
	c->ev_mask = EPOLLIN;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	/* A ring may already hold requests written before we were watching. */
	if (!c->ops->poll_out && xs_conn_input(c) < 0)
		c->dead = true;
	return 0;
}

/* Closing is deferred to the end of the pass: see xs_server_reap(). */
void xs_server_close_conn(struct xs_server *s, struct xs_conn *c)
{
	c->dead = true;
}

static void xs_server_reap(struct xs_server *s)
{
	struct xs_conn *c, *nx;

	for (c = s->conns; c; c = nx) {
		nx = c->next;
		if (!c->dead)
			continue;
		if (c->prev)
			c->prev->next = c->next;
		else
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		if (c->fd >= 0)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (!c->privileged) {
			struct xs_domain *d = xs_domain_find(s, c->domid);

			if (d && d->conn == c)
				d->conn = NULL;
		}
		s->nconns--;
		xs_conn_free(c);
	}
}

void xs_server_want_flush(struct xs_server *s, struct xs_conn *c)
{
	if (c->flush_pending)
		return;
	c->flush_pending = true;
	c->flush_next = s->flush_list;
	s->flush_list = c;
}

/*
 * Ask epoll for what the connection can use now: input unless we stopped
 * reading it (else a client that never reads would keep us spinning on
 * EPOLLIN), writability while output is queued.
 */
static void xs_server_set_events(struct xs_server *s, struct xs_conn *c, bool out_pending)
{
	uint32_t mask = (c->blocked ? 0 : EPOLLIN) | (out_pending ? EPOLLOUT : 0);
	struct epoll_event ev = {.events = mask, .data.ptr = c};

	if (!c->ops->poll_out || c->fd < 0 || mask == c->ev_mask)
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ev_mask = mask;
}

/* Journal first, then replies: nothing is acknowledged before it is written. */
void xs_server_commit(struct xs_server *s)
{
	while (s->flush_list) {
		struct xs_conn *c;

		if (s->journal_on && xs_journal_flush(&s->journal)) {
			/* Not on disk: none of this group's replies may be sent. */
			for (c = s->flush_list; c; c = c->flush_next)
				c->dead = true;
		}
		while ((c = s->flush_list)) {
			int rc;

			s->flush_list = c->flush_next;
			c->flush_pending = false;
			if (c->dead)
				continue;
			rc = xs_conn_flush(c);
			if (rc < 0)
				c->dead = true;
			else
				xs_server_set_events(s, c, rc == 1);
		}
	}
	if (s->journal_on) {
		struct timespec now;

		xs_journal_flush(&s->journal);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (s->journal.failed && now.tv_sec >= s->journal.retry_at) {
			/* Rewriting the whole state is the way back to a good journal. */
			s->journal.retry_at = now.tv_sec + 1;
			xs_journal_compact(&s->journal, s);
		} else if (xs_journal_want_compact(&s->journal, &s->tree)) {
			xs_journal_compact(&s->journal, s);
		}
	}
	xs_server_reap(s);
}

static void xs_server_accept(struct xs_server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct xs_conn *c;

		if (fd < 0) {
			/* EMFILE and the like: say so (once per kind), the client waits */
			if (errno != EAGAIN && errno != EINTR && errno != s->accept_errno)
				xs_log("accept: %s", strerror(errno));
			s->accept_errno =
				errno == EAGAIN || errno == EINTR ? s->accept_errno : errno;
			return;
		}
		s->accept_errno = 0;
		if (s->nconns >= s->max_conns) {
			if (!(s->refused++ % 1000))
				xs_log("too many connections (%u): refused %lu", s->nconns,
				       s->refused);
			close(fd);
			continue;
		}
		c = xs_conn_socket_new(s, fd);
		if (!c || xs_server_add_conn(s, c)) {
			if (c)
				xs_conn_free(c);
			else
				close(fd);
		}
	}
}

/*
 * Before sleeping, look at every ring once more, as xenstored does each
 * time round its loop: a guest that wrote while we were reading may have
 * seen our consumer index too old to kick us (see xs_ring_read).  Bounded:
 * a guest that keeps writing is served again on its next kick.
 */
static void xs_server_recheck(struct xs_server *s)
{
	for (int round = 0; round < 4; round++) {
		bool any = false;

		for (struct xs_conn *c = s->conns; c; c = c->next) {
			if (c->dead || c->blocked || !c->ops->has_input || !c->ops->has_input(c))
				continue;
			any = true;
			if (xs_conn_input(c) < 0)
				c->dead = true;
			xs_server_want_flush(s, c);
		}
		if (!any)
			break;
		xs_server_commit(s);
	}
}

int xs_server_run_once(struct xs_server *s, int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(s->epfd, evs, 64, timeout_ms), i;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct xs_conn *c = evs[i].data.ptr;

		if (evs[i].data.ptr == s) {
			xs_server_accept(s);
			continue;
		}
		if (evs[i].data.ptr == &s->ext_fd) {
			if (s->ext_fn)
				s->ext_fn(s, s->ext_opaque);
			continue;
		}
		if (c->dead)
			continue;
		if (c->ops->ack)
			c->ops->ack(c);
		if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && c->blocked) {
			c->dead = true; /* gone without reading its replies */
			continue;
		}
		if (evs[i].events & EPOLLOUT)
			xs_server_want_flush(s, c);
		if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !c->ops->poll_out) {
			if (xs_conn_input(c) < 0)
				c->dead = true;
			/* A ring kick may also mean the guest made room for replies. */
			if (!c->ops->poll_out)
				xs_server_want_flush(s, c);
		}
	}
	xs_server_commit(s);
	xs_server_recheck(s);
	return n;
}

void xs_server_destroy(struct xs_server *s)
{
	struct xs_conn *c;

	for (c = s->conns; c; c = c->next)
		c->dead = true;
	xs_server_reap(s);
	if (s->journal_on)
		xs_journal_close(&s->journal);
	s->journal_on = false;
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->socket_path)
			unlink(s->socket_path);
	}
	free(s->socket_path);
	if (s->epfd >= 0)
		close(s->epfd);
	xs_tree_destroy(&s->tree);
	xs_watches_free(s);
	xs_domains_free(s);
	s->epfd = s->listen_fd = -1;
}
