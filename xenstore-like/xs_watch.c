/*
 * Watches.  A new watch fires once as soon as it is acknowledged (the
 * WATCH handler sends that event).  Every watch lives on one server-wide list in registration order,
 * so a change is delivered to watchers in a stable order and, per watcher,
 * events leave in the order the changes were made.  A change to a node
 * fires the watches on that node and on its ancestors (reporting the changed
 * path); removing a subtree also fires the watches below it (reporting
 * each watch's own path).  Relative watches get paths relative to the
 * watcher's home.  Unprivileged watchers only hear about nodes they may
 * read; the special @introduceDomain/@releaseDomain events go to privileged
 * connections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

#define XS_WATCHES_PRIV_MAX 65536 /* hard cap for privileged connections */

struct xs_watch {
	struct xs_watch *next, *prev;
	struct xs_conn *conn;
	bool relative;
	char *token;
	char path[];
};

static void xs_watch_unlink(struct xs_server *s, struct xs_watch *w)
{
	struct xs_domain *d = xs_domain_find(s, w->conn->domid);

	if (w->prev)
		w->prev->next = w->next;
	else
		s->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		s->watches_tail = w->prev;
	w->conn->nwatches--;
	if (!w->conn->privileged && d && d->watches)
		d->watches--;
	free(w->token);
	free(w);
}

static void xs_watch_deliver(struct xs_watch *w, const char *path)
{
	if (w->conn->dead)
		return;
	if (w->relative)
		path = xs_path_relative(path, w->conn->domid);
	xs_conn_send_event(w->conn, path, w->token);
}

int xs_watch_add(struct xs_server *s, struct xs_conn *c, const char *path, const char *token,
		 bool relative)
{
	struct xs_watch *w;
	struct xs_domain *d = NULL;
	size_t len = strlen(path);

	for (w = s->watches; w; w = w->next)
		if (w->conn == c && !strcmp(w->path, path) && !strcmp(w->token, token))
			return -EEXIST;
	if (c->privileged) {
		if (c->nwatches >= XS_WATCHES_PRIV_MAX)
			return -E2BIG;
	} else {
		d = xs_domain_get(s, c->domid);
		if (!d)
			return -ENOMEM;
		if (d->watches >= s->quota.watches)
			return -E2BIG;
	}
	w = calloc(1, sizeof(*w) + len + 1);
	if (!w)
		return -ENOMEM;
	w->token = strdup(token);
	if (!w->token) {
		free(w);
		return -ENOMEM;
	}
	memcpy(w->path, path, len + 1);
	w->conn = c;
	w->relative = relative;
	w->prev = s->watches_tail;
	if (s->watches_tail)
		s->watches_tail->next = w;
	else
		s->watches = w;
	s->watches_tail = w;
	c->nwatches++;
	if (d)
		d->watches++;
	return 0;
}

int xs_watch_remove(struct xs_server *s, struct xs_conn *c, const char *path, const char *token)
{
	struct xs_watch *w;

	for (w = s->watches; w; w = w->next) {
		if (w->conn == c && !strcmp(w->path, path) && !strcmp(w->token, token)) {
			xs_watch_unlink(s, w);
			return 0;
		}
	}
	return -ENOENT;
}

void xs_watch_remove_conn(struct xs_server *s, struct xs_conn *c)
{
	struct xs_watch *w, *nx;

	for (w = s->watches; w && c->nwatches; w = nx) {
		nx = w->next;
		if (w->conn == c)
			xs_watch_unlink(s, w);
	}
}

void xs_watch_fire(struct xs_server *s, const char *path, const struct xs_perm *perms,
		   unsigned nperms, bool recursive)
{
	struct xs_watch *w;

	for (w = s->watches; w; w = w->next) {
		const char *report;

		if (w->path[0] == '@')
			continue;
		if (xs_path_is_child(w->path, path))
			report = path;
		else if (recursive && xs_path_is_child(path, w->path))
			report = w->path;
		else
			continue;
		if (!w->conn->privileged && perms &&
		    !(xs_conn_perm(w->conn, perms, nperms) & XS_PERM_READ))
			continue;
		xs_watch_deliver(w, report);
	}
}

/* Fire "@introduceDomain", or "@releaseDomain" and "@releaseDomain/<domid>". */
void xs_watch_fire_special(struct xs_server *s, const char *name, unsigned domid)
{
	char sub[64];
	struct xs_watch *w;

	snprintf(sub, sizeof(sub), "%s/%u", name, domid);
	for (w = s->watches; w; w = w->next) {
		if (!w->conn->privileged)
			continue;
		if (!strcmp(w->path, name))
			xs_watch_deliver(w, name);
		else if (!strcmp(w->path, sub))
			xs_watch_deliver(w, sub);
	}
}
