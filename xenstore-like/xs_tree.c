/*
 * The node tree.  Each node keeps its children as a sibling list (the order
 * DIRECTORY reports: creation order, as Xen does) and is found through one
 * global hash keyed by (parent, name), so a lookup is one probe per path
 * component and a node costs about 100 bytes plus its name and value: a
 * hundred thousand small nodes stay well under the memory target.  Every
 * mutation bumps the node's generation (and its parent's when the child set
 * changes) for transaction conflict checks, and is reported to the hooks
 * (journal, per-domain node accounting).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

static uint64_t xs_hash(const struct xs_node *parent, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ ((uintptr_t)parent >> 4);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static int xs_tree_grow(struct xs_tree *t)
{
	size_t nb = t->nbuckets ? t->nbuckets * 2 : 1024, i;
	struct xs_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nbuckets; i++) {
		struct xs_node *n = t->buckets[i], *nx;

		for (; n; n = nx) {
			size_t k = xs_hash(n->parent, n->name, n->namelen) & (nb - 1);

			nx = n->hnext;
			n->hnext = b[k];
			b[k] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
	return 0;
}

static void xs_hash_insert(struct xs_tree *t, struct xs_node *n)
{
	size_t k = xs_hash(n->parent, n->name, n->namelen) & (t->nbuckets - 1);

	n->hnext = t->buckets[k];
	t->buckets[k] = n;
}

static void xs_hash_remove(struct xs_tree *t, struct xs_node *n)
{
	size_t k = xs_hash(n->parent, n->name, n->namelen) & (t->nbuckets - 1);
	struct xs_node **pp = &t->buckets[k];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
}

struct xs_node *xs_tree_child(const struct xs_tree *t, const struct xs_node *parent,
			      const char *name, size_t len)
{
	struct xs_node *n;

	if (!t->nbuckets || !parent->nchildren)
		return NULL;
	n = t->buckets[xs_hash(parent, name, len) & (t->nbuckets - 1)];
	for (; n; n = n->hnext)
		if (n->parent == parent && n->namelen == len && !memcmp(n->name, name, len))
			return n;
	return NULL;
}

/* Walk an absolute canonical path; *missing counts components not found. */
struct xs_node *xs_tree_nearest(const struct xs_tree *t, const char *path, unsigned *missing)
{
	struct xs_node *n = t->root, *c;
	const char *p = path;
	unsigned left = 0;

	if (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		c = xs_tree_child(t, n, p, len);
		if (!c) {
			for (left = 1; e; e = strchr(e + 1, '/'))
				left++;
			break;
		}
		n = c;
		p = e ? e + 1 : p + len;
	}
	if (missing)
		*missing = left;
	return n;
}

struct xs_node *xs_tree_lookup(const struct xs_tree *t, const char *path)
{
	unsigned missing;
	struct xs_node *n;

	if (path[0] != '/')
		return NULL;
	n = xs_tree_nearest(t, path, &missing);
	return missing ? NULL : n;
}

static int xs_node_store_perms(struct xs_node *n, const struct xs_perm *perms, unsigned nperms)
{
	struct xs_perm *ext = NULL;

	if (!nperms || nperms > XS_MAX_PERMS)
		return -EINVAL;
	if (nperms > 2) {
		ext = malloc(nperms * sizeof(*ext));
		if (!ext)
			return -ENOMEM;
		memcpy(ext, perms, nperms * sizeof(*ext));
	}
	if (n->nperms > 2)
		free(n->perms.ext);
	n->nperms = nperms;
	if (ext)
		n->perms.ext = ext;
	else
		memcpy(n->perms.inl, perms, nperms * sizeof(*perms));
	return 0;
}

static struct xs_node *xs_node_alloc(const char *name, size_t len)
{
	struct xs_node *n = calloc(1, sizeof(*n) + len + 1);

	if (!n)
		return NULL;
	memcpy(n->name, name, len);
	n->namelen = len;
	return n;
}

int xs_tree_init(struct xs_tree *t)
{
	static const struct xs_perm root_perm = {0, XS_PERM_NONE, 0};
	int rc;

	memset(t, 0, sizeof(*t));
	rc = xs_tree_grow(t);
	if (rc)
		return rc;
	t->root = xs_node_alloc("", 0);
	if (!t->root)
		return -ENOMEM;
	xs_node_store_perms(t->root, &root_perm, 1);
	t->root->gen = ++t->gen;
	t->count = 1;
	return 0;
}

static void xs_node_free(struct xs_node *n)
{
	if (n->nperms > 2)
		free(n->perms.ext);
	free(n->value);
	free(n);
}

static void xs_tree_free_sub(struct xs_tree *t, struct xs_node *n, bool account)
{
	struct xs_node *c, *nx;

	for (c = n->first; c; c = nx) {
		nx = c->next;
		xs_tree_free_sub(t, c, account);
	}
	if (account && t->hooks.owner)
		t->hooks.owner(t->hooks.opaque, xs_node_perms(n)[0].domid, -1);
	if (n->parent)
		xs_hash_remove(t, n);
	t->bytes -= n->vlen + n->namelen;
	t->count--;
	xs_node_free(n);
}

void xs_tree_destroy(struct xs_tree *t)
{
	if (t->root)
		xs_tree_free_sub(t, t->root, false);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static int xs_set_value_raw(struct xs_node *n, const char *value, uint32_t vlen)
{
	char *v = NULL;

	if (vlen) {
		v = malloc(vlen);
		if (!v)
			return -ENOMEM;
		memcpy(v, value, vlen);
	}
	free(n->value);
	n->value = v;
	n->vlen = vlen;
	return 0;
}

static void xs_tree_link(struct xs_tree *t, struct xs_node *parent, struct xs_node *n)
{
	n->parent = parent;
	n->prev = parent->last;
	if (parent->last)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	parent->nchildren++;
	parent->childbytes += n->namelen + 1;
	parent->gen = ++t->gen;
	xs_hash_insert(t, n);
	t->count++;
	t->bytes += n->namelen + n->vlen;
}

/*
 * Create path and any missing ancestors, all with the given permissions;
 * the value goes to the final node only.  An existing node is returned as it
 * is (-EEXIST) so callers decide whether to overwrite.
 */
int xs_tree_create(struct xs_tree *t, const char *path, const struct xs_perm *perms,
		   unsigned nperms, const char *value, uint32_t vlen, struct xs_node **out)
{
	unsigned missing;
	struct xs_node *n = xs_tree_nearest(t, path, &missing);
	const char *p;
	size_t skip;
	int rc;

	if (out)
		*out = n;
	if (!missing)
		return -EEXIST;
	if (t->count + missing > t->nbuckets && (rc = xs_tree_grow(t)))
		return rc;
	/* Find where the missing components start in path. */
	skip = xs_node_path(n, NULL, 0);
	p = path + (n == t->root ? 1 : skip + 1);
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		struct xs_node *c = xs_node_alloc(p, len);
		bool last = !e;

		if (!c || xs_node_store_perms(c, perms, nperms) ||
		    (last && xs_set_value_raw(c, value, vlen))) {
			if (c)
				xs_node_free(c);
			return -ENOMEM;
		}
		c->gen = ++t->gen;
		xs_tree_link(t, n, c);
		if (t->hooks.owner)
			t->hooks.owner(t->hooks.opaque, perms[0].domid, 1);
		if (t->hooks.set) {
			char tmp[XENSTORE_ABS_PATH_MAX + 1];
			size_t plen = (size_t)(p - path) + len;

			memcpy(tmp, path, plen);
			tmp[plen] = 0;
			t->hooks.set(t->hooks.opaque, tmp, c);
		}
		n = c;
		p = last ? p + len : e + 1;
	}
	if (out)
		*out = n;
	return 0;
}

int xs_tree_set_value(struct xs_tree *t, struct xs_node *n, const char *path, const char *value,
		      uint32_t vlen)
{
	uint32_t old = n->vlen;
	int rc = xs_set_value_raw(n, value, vlen);

	if (rc)
		return rc;
	t->bytes += vlen;
	t->bytes -= old;
	n->gen = ++t->gen;
	if (t->hooks.set)
		t->hooks.set(t->hooks.opaque, path, n);
	return 0;
}

int xs_tree_set_perms(struct xs_tree *t, struct xs_node *n, const char *path,
		      const struct xs_perm *perms, unsigned nperms)
{
	unsigned old_owner = xs_node_perms(n)[0].domid;
	int rc = xs_node_store_perms(n, perms, nperms);

	if (rc)
		return rc;
	if (t->hooks.owner && old_owner != perms[0].domid) {
		t->hooks.owner(t->hooks.opaque, old_owner, -1);
		t->hooks.owner(t->hooks.opaque, perms[0].domid, 1);
	}
	n->gen = ++t->gen;
	if (t->hooks.set)
		t->hooks.set(t->hooks.opaque, path, n);
	return 0;
}

/* Remove n and everything below it.  The root cannot be removed. */
int xs_tree_delete(struct xs_tree *t, struct xs_node *n, const char *path)
{
	struct xs_node *p = n->parent;

	if (!p)
		return -EINVAL;
	if (n->prev)
		n->prev->next = n->next;
	else
		p->first = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		p->last = n->prev;
	p->nchildren--;
	p->childbytes -= n->namelen + 1;
	p->gen = ++t->gen;
	xs_tree_free_sub(t, n, true);
	if (t->hooks.del)
		t->hooks.del(t->hooks.opaque, path);
	return 0;
}

/* Write n's absolute path into buf (if any); returns its length. */
size_t xs_node_path(const struct xs_node *n, char *buf, size_t size)
{
	size_t len = 0, pos;
	const struct xs_node *m;

	if (!n->parent) {
		if (buf && size >= 2)
			strcpy(buf, "/");
		return 1;
	}
	for (m = n; m->parent; m = m->parent)
		len += m->namelen + 1;
	if (!buf || size <= len)
		return len;
	buf[len] = 0;
	pos = len;
	for (m = n; m->parent; m = m->parent) {
		pos -= m->namelen;
		memcpy(buf + pos, m->name, m->namelen);
		buf[--pos] = '/';
	}
	return len;
}

static int xs_walk_sub(const struct xs_node *n, char *buf, size_t len,
		       int (*fn)(void *o, const char *path, const struct xs_node *n), void *o)
{
	const struct xs_node *c;
	int rc = fn(o, len ? buf : "/", n);

	for (c = n->first; c && !rc; c = c->next) {
		if (len + 1 + c->namelen > XENSTORE_ABS_PATH_MAX)
			continue; /* cannot happen for nodes created through the checks */
		buf[len] = '/';
		memcpy(buf + len + 1, c->name, c->namelen);
		buf[len + 1 + c->namelen] = 0;
		rc = xs_walk_sub(c, buf, len + 1 + c->namelen, fn, o);
		buf[len] = 0;
	}
	return rc;
}

/* Visit every node, parents before children (snapshot writing). */
int xs_tree_walk(const struct xs_tree *t,
		 int (*fn)(void *o, const char *path, const struct xs_node *n), void *o)
{
	char buf[XENSTORE_ABS_PATH_MAX + 2];

	buf[0] = 0;
	return xs_walk_sub(t->root, buf, 0, fn, o);
}
