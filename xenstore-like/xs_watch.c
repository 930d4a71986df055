/*
 * Watches.  A new watch fires once as soon as it is acknowledged (the
 * WATCH handler sends that event).  Every watch is on one server-wide list
 * in registration order and in a hash by path, so a change costs one probe
 * per ancestor of the changed node, not a scan of every watch: a change to a
 * node fires the watches on that node and on its ancestors (reporting the
 * changed path), nearest first, in registration order per path; per watcher,
 * events leave in the order the changes were made.  Removing a subtree also
 * fires the watches below it (reporting each watch's own path; that case
 * scans the list).  Relative watches get paths relative to the
 * watcher's home.  Unprivileged watchers only hear about nodes they may
 * read; the special @introduceDomain/@releaseDomain events go to privileged
 * connections and to those the special node's permissions allow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

#define XS_WATCHES_PRIV_MAX 65536 /* hard cap for privileged connections */

struct xs_watch {
	struct xs_watch *next, *prev;
	struct xs_watch *hnext; /* same hash bucket */
	struct xs_conn *conn;
	bool relative;
	char *token;
	char path[];
};

static size_t xs_watch_hash(const char *p, size_t len)
{
	size_t h = 1469598103934665603ull, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* Watches whose path is exactly p[0..len), in registration order. */
static struct xs_watch *xs_watch_bucket(const struct xs_server *s, const char *p, size_t len)
{
	return s->nwbuckets ? s->wbuckets[xs_watch_hash(p, len) & (s->nwbuckets - 1)] : NULL;
}

static bool xs_watch_is(const struct xs_watch *w, const char *p, size_t len)
{
	return !strncmp(w->path, p, len) && !w->path[len];
}

static int xs_watch_hash_insert(struct xs_server *s, struct xs_watch *w)
{
	struct xs_watch **pp;

	if (s->nwatches >= s->nwbuckets) {
		size_t nb = s->nwbuckets ? s->nwbuckets * 2 : 256;
		struct xs_watch **b = calloc(nb, sizeof(*b));

		if (!b)
			return -ENOMEM;
		/* Rehash in list (registration) order so buckets keep that order. */
		free(s->wbuckets);
		s->wbuckets = b;
		s->nwbuckets = nb;
		for (struct xs_watch *x = s->watches; x; x = x->next) {
			pp = &b[xs_watch_hash(x->path, strlen(x->path)) & (nb - 1)];
			while (*pp)
				pp = &(*pp)->hnext;
			x->hnext = NULL;
			*pp = x;
		}
	}
	pp = &s->wbuckets[xs_watch_hash(w->path, strlen(w->path)) & (s->nwbuckets - 1)];
	while (*pp)
		pp = &(*pp)->hnext;
	w->hnext = NULL;
	*pp = w;
	s->nwatches++;
	return 0;
}

void xs_watches_free(struct xs_server *s)
{
	free(s->wbuckets);
	s->wbuckets = NULL;
	s->nwbuckets = 0;
}

static void xs_watch_unlink(struct xs_server *s, struct xs_watch *w)
{
	struct xs_domain *d = xs_domain_find(s, w->conn->domid);
	struct xs_watch **pp =
		&s->wbuckets[xs_watch_hash(w->path, strlen(w->path)) & (s->nwbuckets - 1)];

	while (*pp && *pp != w)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = w->hnext;
	s->nwatches--;

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

	for (w = xs_watch_bucket(s, path, len); w; w = w->hnext)
		if (w->conn == c && xs_watch_is(w, path, len) && !strcmp(w->token, token))
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
	if (xs_watch_hash_insert(s, w)) {
		free(w->token);
		free(w);
		return -ENOMEM;
	}
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

	for (w = xs_watch_bucket(s, path, strlen(path)); w; w = w->hnext) {
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

static void xs_watch_deliver_checked(struct xs_watch *w, const char *report,
				     const struct xs_perm *perms, unsigned nperms)
{
	if (!w->conn->privileged && perms && !(xs_conn_perm(w->conn, perms, nperms) & XS_PERM_READ))
		return;
	xs_watch_deliver(w, report);
}

void xs_watch_fire(struct xs_server *s, const char *path, const struct xs_perm *perms,
		   unsigned nperms, bool recursive)
{
	size_t len = strlen(path);
	struct xs_watch *w;

	/* The node itself, then each ancestor up to "/". */
	for (;;) {
		for (w = xs_watch_bucket(s, path, len); w; w = w->hnext)
			if (xs_watch_is(w, path, len))
				xs_watch_deliver_checked(w, path, perms, nperms);
		if (len <= 1)
			break;
		while (len > 1 && path[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* drop the '/' too, except for the root */
	}
	if (!recursive)
		return;
	for (w = s->watches; w; w = w->next)
		if (w->path[0] == '/' && strcmp(w->path, path) && xs_path_is_child(path, w->path))
			xs_watch_deliver_checked(w, w->path, perms, nperms);
}

/* 0 for @introduceDomain, 1 for @releaseDomain, -1 for anything else. */
int xs_special_index(const char *path)
{
	if (!strcmp(path, "@introduceDomain"))
		return 0;
	if (!strcmp(path, "@releaseDomain"))
		return 1;
	return -1;
}

/*
 * Fire "@introduceDomain", or "@releaseDomain" and "@releaseDomain/<domid>",
 * to privileged watchers and to those the special node's permissions let
 * read it (SET_PERMS on the special node: how a driver domain is allowed to
 * follow domain deaths).
 */
void xs_watch_fire_special(struct xs_server *s, const char *name, unsigned domid)
{
	char sub[64];
	struct xs_watch *w;

	int k = xs_special_index(name);
	const struct xs_perm *p = k >= 0 ? s->special_perms[k] : NULL;
	unsigned np = k >= 0 ? s->special_nperms[k] : 0;

	snprintf(sub, sizeof(sub), "%s/%u", name, domid);
	for (w = xs_watch_bucket(s, name, strlen(name)); w; w = w->hnext)
		if (!strcmp(w->path, name))
			xs_watch_deliver_checked(w, name, p, np);
	for (w = xs_watch_bucket(s, sub, strlen(sub)); w; w = w->hnext)
		if (!strcmp(w->path, sub))
			xs_watch_deliver_checked(w, sub, p, np);
}
