/*
 * keel-consoled's engine: the set of served domains and the poll loop that
 * moves their bytes.  Per domain: the mapped console page, the bound event
 * channel, a listening socket (rundir/console/<domid>.sock), up to
 * CONS_MAX_CLIENTS attached clients and the log.  Guest output goes to the
 * log and to every client (a client that cannot keep up loses output, it
 * never stalls the guest or the daemon); client input is buffered up to
 * CONS_INPUT_BUFFER bytes and fed to the guest as its ring drains, with
 * clients' sockets unread meanwhile (back-pressure, no unbounded growth).
 * A client that attaches first gets the domain's recent output (the last
 * cfg.replay bytes from a line start) and then the live stream; both happen
 * under the server's lock in the one thread that also drains the ring, so
 * nothing falls between the replay and the live bytes and nothing repeats.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "abi/console.h"
#include "abi/ring.h"
#include "cons.h"
#include "cons_client.h"

struct cons_dom {
	struct cons_dom_params p;
	struct xencons_interface *intf;
	uint32_t lport;
	bool bound, broken;
	bool stopped; /* cfg.stopped said so: clients get the replay, then end of stream */
	int ev_fd, listen_fd;
	int clients[CONS_MAX_CLIENTS];
	struct cons_log *log;
	char in_buf[CONS_INPUT_BUFFER];
	size_t in_len;
	char sock_path[108];
	char *hist; /* the last cfg.replay bytes of output, for clients that attach later */
	size_t hist_len;
};

struct cons_server {
	pthread_mutex_t lock;
	struct cons_server_cfg cfg;
	char *rundir;
	int wake_fd;
	unsigned gen; /* bumped by add/remove: poll's fd references go stale */
	struct cons_dom *doms[CONS_MAX_DOMAINS];
};

int cons_server_create(const struct cons_server_cfg *cfg, struct cons_server **out)
{
	struct cons_server *srv = calloc(1, sizeof(*srv));
	char dir[4096];

	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->rundir = strdup(cfg->rundir);
	srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(dir, sizeof(dir), "%s/console", cfg->rundir);
	if (!srv->rundir || srv->wake_fd < 0 || (mkdir(dir, 0750) < 0 && errno != EEXIST)) {
		int err = errno ? -errno : -ENOMEM;

		if (srv->wake_fd >= 0)
			close(srv->wake_fd);
		free(srv->rundir);
		free(srv);
		return err;
	}
	srv->cfg.rundir = srv->rundir;
	if (!srv->cfg.log_max)
		srv->cfg.log_max = CONS_LOG_MAX;
	if (!srv->cfg.log_keep)
		srv->cfg.log_keep = CONS_LOG_KEEP;
	pthread_mutex_init(&srv->lock, NULL);
	*out = srv;
	return 0;
}

static void cons_dom_free(struct cons_server *srv, struct cons_dom *d)
{
	for (unsigned i = 0; i < CONS_MAX_CLIENTS; i++)
		if (d->clients[i] >= 0)
			close(d->clients[i]);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->sock_path);
	}
	if (d->bound)
		bk_evtchn_unbind(srv->cfg.tp, d->lport);
	if (d->intf)
		bk_gnt_unmap(srv->cfg.tp, d->intf, 1);
	cons_log_close(d->log);
	free(d->hist);
	free(d);
}

void cons_server_destroy(struct cons_server *srv)
{
	if (!srv)
		return;
	for (unsigned i = 0; i < CONS_MAX_DOMAINS; i++)
		if (srv->doms[i])
			cons_dom_free(srv, srv->doms[i]);
	close(srv->wake_fd);
	pthread_mutex_destroy(&srv->lock);
	free(srv->rundir);
	free(srv);
}

static struct cons_dom **cons_find(struct cons_server *srv, uint16_t domid)
{
	for (unsigned i = 0; i < CONS_MAX_DOMAINS; i++)
		if (srv->doms[i] && srv->doms[i]->p.domid == domid)
			return &srv->doms[i];
	return NULL;
}

/* Log names follow xenconsoled: guest-<name>.log, else by domain id. */
static int cons_dom_open_log(struct cons_server *srv, struct cons_dom *d)
{
	char path[4200], name[80];
	bool safe = d->p.name[0] != 0;

	for (const char *c = d->p.name; *c; c++)
		if (*c == '/' || *c == '.' || (unsigned char)*c < 0x20)
			safe = false;
	if (safe)
		snprintf(name, sizeof(name), "%s", d->p.name);
	else
		snprintf(name, sizeof(name), "dom%u", d->p.domid);
	snprintf(path, sizeof(path), "%s/console/guest-%s.log", srv->rundir, name);
	return cons_log_open(path, srv->cfg.log_max, srv->cfg.log_keep, &d->log);
}

static int cons_dom_listen(struct cons_server *srv, struct cons_dom *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int err = cons_socket_path(srv->rundir, d->p.domid, d->sock_path, sizeof(d->sock_path));

	if (err)
		return err;
	memcpy(sa.sun_path, d->sock_path, sizeof(d->sock_path));
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->listen_fd < 0)
		return -errno;
	unlink(d->sock_path); /* left by a daemon that was killed */
	if (bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(d->sock_path, 0600) < 0 || listen(d->listen_fd, 4) < 0) {
		err = -errno;
		close(d->listen_fd);
		d->listen_fd = -1;
		return err;
	}
	return 0;
}

int cons_server_add(struct cons_server *srv, const struct cons_dom_params *p)
{
	struct cons_dom **slot = NULL, *d;
	int err;

	pthread_mutex_lock(&srv->lock);
	if (cons_find(srv, p->domid)) {
		err = -EEXIST;
		goto out;
	}
	for (unsigned i = 0; i < CONS_MAX_DOMAINS && !slot; i++)
		if (!srv->doms[i])
			slot = &srv->doms[i];
	err = -ENOSPC;
	if (!slot)
		goto out;
	err = -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	d->p = *p;
	if (srv->cfg.replay && !(d->hist = malloc(srv->cfg.replay))) {
		free(d);
		err = -ENOMEM;
		goto out;
	}
	d->p.name[sizeof(d->p.name) - 1] = 0;
	d->listen_fd = d->ev_fd = -1;
	for (unsigned i = 0; i < CONS_MAX_CLIENTS; i++)
		d->clients[i] = -1;
	/*
	 * The frame the store names first: keeld seeds no console grant, so
	 * whatever grant GNTTAB_RESERVED_CONSOLE holds was put there by the guest,
	 * and PV-GRUB puts its blkif ring there (read as a console, its output
	 * was lost).  The grant is the way when the store names no frame.
	 */
	err = -ENOENT;
	if (p->mfn && srv->cfg.tp->gnt->map_frame)
		err = srv->cfg.tp->gnt->map_frame(srv->cfg.tp->gnt_ctx, p->domid, p->mfn,
						  (void **)&d->intf);
	if (err)
		err = bk_gnt_map(srv->cfg.tp, p->domid, &p->gref, 1, 0, (void **)&d->intf, NULL);
	if (err) {
		d->intf = NULL;
		goto fail;
	}
	err = bk_evtchn_bind(srv->cfg.tp, p->domid, p->port, &d->lport);
	if (err)
		goto fail;
	d->bound = true;
	d->ev_fd = bk_evtchn_fd(srv->cfg.tp, d->lport);
	if (d->ev_fd < 0) {
		err = d->ev_fd;
		goto fail;
	}
	if ((err = cons_dom_open_log(srv, d)) || (err = cons_dom_listen(srv, d)))
		goto fail;
	ring_store(&d->intf->connection, XENCONSOLE_CONNECTED);
	*slot = d;
	srv->gen++;
	err = 0;
	goto out;
fail:
	cons_dom_free(srv, d);
out:
	pthread_mutex_unlock(&srv->lock);
	if (!err)
		cons_server_wake(srv);
	return err;
}

int cons_server_remove(struct cons_server *srv, uint16_t domid)
{
	struct cons_dom **slot;
	int err = -ENOENT;

	pthread_mutex_lock(&srv->lock);
	slot = cons_find(srv, domid);
	if (slot) {
		cons_dom_free(srv, *slot);
		*slot = NULL;
		srv->gen++;
		err = 0;
	}
	pthread_mutex_unlock(&srv->lock);
	cons_server_wake(srv);
	return err;
}

int cons_server_socket_path(struct cons_server *srv, uint16_t domid, char *buf, size_t len)
{
	return cons_socket_path(srv->rundir, domid, buf, len);
}

bool cons_server_has(struct cons_server *srv, uint16_t domid)
{
	bool has;

	pthread_mutex_lock(&srv->lock);
	has = cons_find(srv, domid) != NULL;
	pthread_mutex_unlock(&srv->lock);
	return has;
}

unsigned cons_server_list(struct cons_server *srv, uint16_t *ids, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&srv->lock);
	for (unsigned i = 0; i < CONS_MAX_DOMAINS && n < max; i++)
		if (srv->doms[i])
			ids[n++] = srv->doms[i]->p.domid;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

unsigned cons_server_client_count(struct cons_server *srv, uint16_t domid)
{
	struct cons_dom **slot;
	unsigned n = 0;

	pthread_mutex_lock(&srv->lock);
	slot = cons_find(srv, domid);
	for (unsigned i = 0; slot && i < CONS_MAX_CLIENTS; i++)
		n += (*slot)->clients[i] >= 0;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

bool cons_server_broken(struct cons_server *srv, uint16_t domid)
{
	struct cons_dom **slot;
	bool broken;

	pthread_mutex_lock(&srv->lock);
	slot = cons_find(srv, domid);
	broken = slot && (*slot)->broken;
	pthread_mutex_unlock(&srv->lock);
	return broken;
}

void cons_server_wake(struct cons_server *srv)
{
	uint64_t one = 1;

	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		bk_log("console: cannot wake the server: %s", strerror(errno));
}

static void cons_dom_break(struct cons_dom *d, const char *why)
{
	bk_log("console of domain %u: %s; no longer served", d->p.domid, why);
	d->broken = true;
}

/* Keep the newest bytes for a client that attaches later. */
static void cons_dom_remember(struct cons_dom *d, size_t max, const char *buf, size_t n)
{
	if (!d->hist)
		return;
	if (n >= max) {
		memcpy(d->hist, buf + n - max, max);
		d->hist_len = max;
		return;
	}
	if (d->hist_len + n > max) {
		size_t drop = d->hist_len + n - max;

		memmove(d->hist, d->hist + drop, d->hist_len - drop);
		d->hist_len -= drop;
	}
	memcpy(d->hist + d->hist_len, buf, n);
	d->hist_len += n;
}

/* Output to the log and every client. */
static void cons_dom_emit(struct cons_server *srv, struct cons_dom *d, const char *buf, size_t n)
{
	cons_dom_remember(d, srv->cfg.replay, buf, n);
	if (cons_log_write(d->log, buf, n))
		bk_log("console of domain %u: log write failed", d->p.domid);
	for (unsigned i = 0; i < CONS_MAX_CLIENTS; i++)
		if (d->clients[i] >= 0 &&
		    send(d->clients[i], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN) {
			close(d->clients[i]);
			d->clients[i] = -1;
		}
}

static void cons_dom_drop_clients(struct cons_dom *d)
{
	for (unsigned i = 0; i < CONS_MAX_CLIENTS; i++)
		if (d->clients[i] >= 0) {
			close(d->clients[i]);
			d->clients[i] = -1;
		}
}

/* Guest output to the log and the clients; buffered input to the guest. */
static void cons_dom_pump(struct cons_server *srv, struct cons_dom *d)
{
	static __thread char extra[64 * 1024];
	char buf[2048];
	bool notify = false;
	int n;

	if (srv->cfg.extra_out && !d->broken &&
	    (n = srv->cfg.extra_out(srv->cfg.extra_opaque, d->p.domid, extra, sizeof(extra))) > 0)
		cons_dom_emit(srv, d, extra, (size_t)n);
	while (!d->broken && (n = cons_ring_read_out(d->intf, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			cons_dom_break(d, "bad output ring indices");
			return;
		}
		notify = true;
		cons_dom_emit(srv, d, buf, (size_t)n);
	}
	if (d->in_len && !d->broken) {
		n = cons_ring_write_in(d->intf, d->in_buf, d->in_len);
		if (n < 0) {
			cons_dom_break(d, "bad input ring indices");
			return;
		}
		if (n > 0) {
			memmove(d->in_buf, d->in_buf + n, d->in_len - (size_t)n);
			d->in_len -= (size_t)n;
			notify = true;
		}
	}
	if (notify)
		bk_evtchn_notify(srv->cfg.tp, d->lport);
}

/*
 * Where the replay starts: at the first whole line once the window is full
 * (a line cut at its front would show as garbage), else at the start.  A
 * window with no line end in it at all is sent as it is.
 */
static size_t cons_dom_replay_from(const struct cons_dom *d, size_t max)
{
	const char *nl;

	if (d->hist_len < max || !d->hist_len)
		return 0; /* (an empty history may have no buffer at all) */
	nl = memchr(d->hist, '\n', d->hist_len);
	return nl && nl + 1 < d->hist + d->hist_len ? (size_t)(nl + 1 - d->hist) : 0;
}

static void cons_dom_accept(struct cons_server *srv, struct cons_dom *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (unsigned i = 0; i < CONS_MAX_CLIENTS; i++) {
		if (d->clients[i] < 0) {
			size_t from = cons_dom_replay_from(d, srv->cfg.replay);

			/* recent output first: a new socket's buffer holds far more than the window */
			if (d->hist_len > from &&
			    send(fd, d->hist + from, d->hist_len - from,
				 MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN) {
				close(fd);
				return;
			}
			if (d->stopped)
				break; /* the replay is all there is */
			d->clients[i] = fd;
			return;
		}
	}
	close(fd); /* stopped, or full: refuse rather than grow */
}

/*
 * A domain that stopped: its last output (the ring, and keeld's record,
 * which the stop makes readable at once) to the clients, then end of stream.
 */
static void cons_dom_check_stopped(struct cons_server *srv, struct cons_dom *d)
{
	bool was = d->stopped;

	if (!srv->cfg.stopped)
		return;
	d->stopped = srv->cfg.stopped(srv->cfg.extra_opaque, d->p.domid);
	if (d->stopped && !was) {
		cons_dom_pump(srv, d);
		cons_dom_drop_clients(d);
	}
}

static void cons_dom_client_input(struct cons_dom *d, unsigned i)
{
	ssize_t n = read(d->clients[i], d->in_buf + d->in_len, sizeof(d->in_buf) - d->in_len);

	if (n > 0)
		d->in_len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(d->clients[i]);
		d->clients[i] = -1;
	}
}

enum cons_fd_kind { CONS_FD_WAKE, CONS_FD_EVTCHN, CONS_FD_LISTEN, CONS_FD_CLIENT };

struct cons_fd_ref {
	enum cons_fd_kind kind;
	struct cons_dom *dom;
	unsigned client;
};

int cons_server_poll(struct cons_server *srv, int timeout_ms)
{
	enum { MAXFD = 1 + CONS_MAX_DOMAINS * (2 + CONS_MAX_CLIENTS) };
	static __thread struct pollfd pfd[MAXFD];
	static __thread struct cons_fd_ref ref[MAXFD];
	unsigned n = 0, gen;
	uint64_t v;

	pthread_mutex_lock(&srv->lock);
	gen = srv->gen;
	pfd[n] = (struct pollfd){srv->wake_fd, POLLIN, 0};
	ref[n++] = (struct cons_fd_ref){CONS_FD_WAKE, NULL, 0};
	for (unsigned i = 0; i < CONS_MAX_DOMAINS; i++) {
		struct cons_dom *d = srv->doms[i];

		if (!d || d->broken)
			continue;
		/* Catch output written before we were told (e.g. before we started). */
		cons_dom_pump(srv, d);
		cons_dom_check_stopped(srv, d);
		pfd[n] = (struct pollfd){d->ev_fd, POLLIN, 0};
		ref[n++] = (struct cons_fd_ref){CONS_FD_EVTCHN, d, 0};
		pfd[n] = (struct pollfd){d->listen_fd, POLLIN, 0};
		ref[n++] = (struct cons_fd_ref){CONS_FD_LISTEN, d, 0};
		for (unsigned c = 0; c < CONS_MAX_CLIENTS; c++) {
			if (d->clients[c] < 0)
				continue;
			pfd[n] = (struct pollfd){d->clients[c],
						 d->in_len < sizeof(d->in_buf) ? POLLIN : 0, 0};
			ref[n++] = (struct cons_fd_ref){CONS_FD_CLIENT, d, c};
		}
	}
	pthread_mutex_unlock(&srv->lock);
	if (poll(pfd, n, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	pthread_mutex_lock(&srv->lock);
	if (pfd[0].revents && read(srv->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		bk_log("console: wake fd: %s", strerror(errno));
	/* add/remove ran meanwhile: our references may be stale; the next round rebuilds. */
	if (gen != srv->gen) {
		pthread_mutex_unlock(&srv->lock);
		return 0;
	}
	for (unsigned i = 1; i < n; i++) {
		struct cons_dom *d = ref[i].dom;

		if (!pfd[i].revents || d->broken)
			continue;
		switch (ref[i].kind) {
		case CONS_FD_EVTCHN:
			bk_evtchn_consume(srv->cfg.tp, d->lport);
			break;
		case CONS_FD_LISTEN:
			cons_dom_accept(srv, d);
			break;
		case CONS_FD_CLIENT:
			if (d->clients[ref[i].client] == pfd[i].fd)
				cons_dom_client_input(d, ref[i].client);
			break;
		default:
			break;
		}
		cons_dom_pump(srv, d);
	}
	pthread_mutex_unlock(&srv->lock);
	return 0;
}
