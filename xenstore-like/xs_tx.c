/*
 * Transactions.  A transaction keeps an overlay of the nodes it touched:
 * the first access copies a node (value, permissions, later its child list)
 * from the store and records the node's generation, so later reads in the
 * transaction see the same data whatever others do meanwhile.  Changes go to
 * the overlay only.  TRANSACTION_END commits by checking that every touched
 * node still has the generation it was copied at (EAGAIN otherwise, as Xen
 * does) and then applying the changed nodes to the store, parents first, as
 * one journal batch; then the watches fire for each change, in the order
 * the transaction made them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

#define XS_TX_VALUE   1u
#define XS_TX_PERMS   2u
#define XS_TX_REPLACE 4u /* discard the store's subtree here before applying */
#define XS_TX_CREATE  8u

struct xs_tnode {
	struct xs_tnode *hnext;
	uint64_t gen; /* store generation at first access; 0 = absent */
	uint64_t mods;
	bool exists;
	bool children_valid;
	unsigned flags;
	char *value;
	uint32_t vlen;
	struct xs_perm *perms;
	uint16_t nperms;
	struct xs_buf children; /* NUL-terminated names */
	char path[];
};

/* A change to announce to watchers at commit, in the order it was made. */
struct xs_tx_change {
	struct xs_tx_change *next;
	bool recursive;
	uint16_t nperms;
	struct xs_perm *perms;
	char path[];
};

struct xs_tx {
	struct xs_tx *next;
	struct xs_tx_change *changes, *changes_tail;
	unsigned nchanges;
	struct xs_server *srv;
	uint32_t id;
	unsigned domid;
	bool privileged;
	struct xs_tnode **buckets;
	size_t nbuckets, count;
	unsigned new_nodes;
};

/*
 * Nodes (and changes) one transaction may hold: the quota for guests; for
 * dom0 a much larger cap, since tools such as `xenstore-chmod -r` walk whole
 * subtrees inside one transaction.
 */
#define XS_TX_PRIV_NODES (1u << 18)

static unsigned xs_tx_limit(const struct xs_tx *tx)
{
	return tx->privileged ? XS_TX_PRIV_NODES : tx->srv->quota.tx_nodes;
}

static size_t xs_tx_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

struct xs_tx *xs_tx_new(struct xs_server *s, uint32_t id, unsigned domid, bool privileged)
{
	struct xs_tx *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	tx->nbuckets = 64;
	tx->buckets = calloc(tx->nbuckets, sizeof(*tx->buckets));
	if (!tx->buckets) {
		free(tx);
		return NULL;
	}
	tx->srv = s;
	tx->id = id;
	tx->domid = domid;
	tx->privileged = privileged;
	return tx;
}

static void xs_tnode_free(struct xs_tnode *t)
{
	free(t->value);
	free(t->perms);
	xs_buf_free(&t->children);
	free(t);
}

void xs_tx_free(struct xs_tx *tx)
{
	size_t i;

	if (!tx)
		return;
	for (i = 0; i < tx->nbuckets; i++) {
		struct xs_tnode *t = tx->buckets[i], *nx;

		for (; t; t = nx) {
			nx = t->hnext;
			xs_tnode_free(t);
		}
	}
	while (tx->changes) {
		struct xs_tx_change *ch = tx->changes;

		tx->changes = ch->next;
		free(ch->perms);
		free(ch);
	}
	free(tx->buckets);
	free(tx);
}

/* Remember that path changed (fired at commit, like the store fires at once). */
int xs_tx_note_change(struct xs_tx *tx, const char *path, const struct xs_perm *perms,
		      unsigned nperms, bool recursive)
{
	size_t len = strlen(path);
	struct xs_tx_change *ch;

	if (tx->nchanges >= xs_tx_limit(tx))
		return -ENOSPC;
	ch = calloc(1, sizeof(*ch) + len + 1);
	if (!ch)
		return -ENOMEM;
	ch->perms = malloc(nperms * sizeof(*perms));
	if (!ch->perms) {
		free(ch);
		return -ENOMEM;
	}
	memcpy(ch->perms, perms, nperms * sizeof(*perms));
	ch->nperms = (uint16_t)nperms;
	ch->recursive = recursive;
	memcpy(ch->path, path, len + 1);
	if (tx->changes_tail)
		tx->changes_tail->next = ch;
	else
		tx->changes = ch;
	tx->changes_tail = ch;
	tx->nchanges++;
	return 0;
}

uint32_t xs_tx_id(const struct xs_tx *tx)
{
	return tx->id;
}

struct xs_tx *xs_tx_next(const struct xs_tx *tx)
{
	return tx->next;
}

void xs_tx_set_next(struct xs_tx *tx, struct xs_tx *next)
{
	tx->next = next;
}

unsigned xs_tx_new_nodes(const struct xs_tx *tx)
{
	return tx->new_nodes;
}

static struct xs_tnode *xs_tx_find(const struct xs_tx *tx, const char *path)
{
	struct xs_tnode *t = tx->buckets[xs_tx_hash(path) & (tx->nbuckets - 1)];

	for (; t; t = t->hnext)
		if (!strcmp(t->path, path))
			return t;
	return NULL;
}

static void xs_tx_insert(struct xs_tx *tx, struct xs_tnode *t)
{
	size_t i;

	if (tx->count >= tx->nbuckets) {
		size_t nb = tx->nbuckets * 2;
		struct xs_tnode **b = calloc(nb, sizeof(*b));

		if (b) {
			for (i = 0; i < tx->nbuckets; i++) {
				struct xs_tnode *n = tx->buckets[i], *nx;

				for (; n; n = nx) {
					size_t k = xs_tx_hash(n->path) & (nb - 1);

					nx = n->hnext;
					n->hnext = b[k];
					b[k] = n;
				}
			}
			free(tx->buckets);
			tx->buckets = b;
			tx->nbuckets = nb;
		}
	}
	i = xs_tx_hash(t->path) & (tx->nbuckets - 1);
	t->hnext = tx->buckets[i];
	tx->buckets[i] = t;
	tx->count++;
}

static int xs_tnode_set(struct xs_tnode *t, const char *value, uint32_t vlen,
			const struct xs_perm *perms, unsigned nperms)
{
	if (value) {
		char *v = vlen ? malloc(vlen) : NULL;

		if (vlen && !v)
			return -ENOMEM;
		if (vlen)
			memcpy(v, value, vlen);
		free(t->value);
		t->value = v;
		t->vlen = vlen;
	}
	if (perms) {
		struct xs_perm *p = malloc(nperms * sizeof(*p));

		if (!p)
			return -ENOMEM;
		memcpy(p, perms, nperms * sizeof(*p));
		free(t->perms);
		t->perms = p;
		t->nperms = nperms;
	}
	return 0;
}

/* True if an ancestor of path was removed (or replaced) in this transaction. */
static bool xs_tx_hidden(const struct xs_tx *tx, const char *path)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	const struct xs_tnode *t;

	if (strlen(path) >= sizeof(buf))
		return true;
	strcpy(buf, path);
	while (xs_path_parent(buf, buf, sizeof(buf)) == 0) {
		t = xs_tx_find(tx, buf);
		if (t && (!t->exists || (t->flags & XS_TX_REPLACE)))
			return true;
	}
	return false;
}

/* The transaction's copy of path, made on first access. */
static struct xs_tnode *xs_tx_node(struct xs_tx *tx, const char *path, int *err)
{
	struct xs_tnode *t = xs_tx_find(tx, path);
	const struct xs_node *n;
	size_t len = strlen(path);

	if (t)
		return t;
	if (tx->count >= xs_tx_limit(tx)) {
		*err = -ENOSPC;
		return NULL;
	}
	t = calloc(1, sizeof(*t) + len + 1);
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(t->path, path, len + 1);
	n = xs_tree_lookup(&tx->srv->tree, path);
	t->gen = n ? n->gen : 0;
	if (n && !xs_tx_hidden(tx, path)) {
		t->exists = true;
		if (xs_tnode_set(t, n->value ? n->value : "", n->vlen, xs_node_perms(n),
				 n->nperms)) {
			xs_tnode_free(t);
			*err = -ENOMEM;
			return NULL;
		}
	}
	xs_tx_insert(tx, t);
	return t;
}

static int xs_tx_load_children(struct xs_tx *tx, struct xs_tnode *t)
{
	const struct xs_node *n, *c;

	if (t->children_valid)
		return 0;
	t->children_valid = true;
	if (t->flags & (XS_TX_REPLACE | XS_TX_CREATE))
		return 0;
	n = xs_tree_lookup(&tx->srv->tree, t->path);
	for (c = n ? n->first : NULL; c; c = c->next) {
		if (xs_buf_put(&t->children, c->name, c->namelen) ||
		    xs_buf_put(&t->children, "", 1)) {
			t->children_valid = false;
			xs_buf_free(&t->children);
			return -ENOMEM;
		}
	}
	return 0;
}

static const char *xs_basename(const char *path)
{
	return strrchr(path, '/') + 1;
}

static int xs_tx_child_change(struct xs_tx *tx, const char *path, bool add)
{
	char parent[XENSTORE_ABS_PATH_MAX + 1];
	const char *name = xs_basename(path);
	struct xs_tnode *p;
	int err = 0;
	size_t off;

	if (xs_path_parent(path, parent, sizeof(parent)))
		return -EINVAL;
	p = xs_tx_node(tx, parent, &err);
	if (!p)
		return err;
	err = xs_tx_load_children(tx, p);
	if (err)
		return err;
	p->mods++;
	if (add)
		return xs_buf_put(&p->children, name, strlen(name) + 1);
	for (off = 0; off < p->children.len; off += strlen(p->children.p + off) + 1) {
		size_t l = strlen(p->children.p + off) + 1;

		if (!strcmp(p->children.p + off, name)) {
			memmove(p->children.p + off, p->children.p + off + l,
				p->children.len - off - l);
			p->children.len -= l;
			break;
		}
	}
	return 0;
}

int xs_tx_get(struct xs_tx *tx, const char *path, struct xs_nodeview *v)
{
	int err = 0;
	struct xs_tnode *t = xs_tx_node(tx, path, &err);

	memset(v, 0, sizeof(*v));
	if (!t)
		return err;
	if (!t->exists)
		return -ENOENT;
	v->exists = true;
	v->value = t->value ? t->value : "";
	v->vlen = t->vlen;
	v->perms = t->perms;
	v->nperms = t->nperms;
	v->gen = t->gen + t->mods;
	return 0;
}

int xs_tx_children(struct xs_tx *tx, const char *path, struct xs_buf *out, uint64_t *gen)
{
	int err = 0;
	struct xs_tnode *t = xs_tx_node(tx, path, &err);

	if (!t)
		return err;
	if (!t->exists)
		return -ENOENT;
	err = xs_tx_load_children(tx, t);
	if (err)
		return err;
	if (gen)
		*gen = t->gen + t->mods;
	return xs_buf_put(out, t->children.p, t->children.len);
}

/* Create path (and missing ancestors) in the transaction's view. */
int xs_tx_create(struct xs_tx *tx, const char *path, const struct xs_perm *perms, unsigned nperms,
		 const char *value, uint32_t vlen)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_tnode *t;
	int err = 0;
	size_t len = strlen(path), pos;

	if (len >= sizeof(buf))
		return -EINVAL;
	t = xs_tx_node(tx, path, &err);
	if (!t)
		return err;
	if (t->exists)
		return -EEXIST;
	/* Find the nearest existing ancestor, then create downwards. */
	strcpy(buf, path);
	pos = len;
	for (;;) {
		struct xs_tnode *a;
		char *slash = strrchr(buf, '/');

		if (slash == buf)
			break; /* the root always exists */
		*slash = 0;
		a = xs_tx_node(tx, buf, &err);
		if (!a)
			return err;
		if (a->exists)
			break;
		pos = (size_t)(slash - buf);
	}
	strcpy(buf, path);
	while (pos <= len) {
		char save = buf[pos];

		buf[pos] = 0;
		t = xs_tx_node(tx, buf, &err);
		if (!t)
			return err;
		if (!t->exists) {
			bool last = pos == len;

			err = xs_tnode_set(t, last ? value : "", last ? vlen : 0, perms, nperms);
			if (err)
				return err;
			if (t->gen)
				t->flags |= XS_TX_REPLACE; /* the store has a stale copy */
			t->flags |= XS_TX_CREATE | XS_TX_VALUE | XS_TX_PERMS;
			t->exists = true;
			t->children_valid = true;
			xs_buf_free(&t->children);
			tx->new_nodes++;
			err = xs_tx_child_change(tx, buf, true);
			if (err)
				return err;
		}
		buf[pos] = save;
		if (pos == len)
			break;
		pos = strchr(buf + pos + 1, '/') ? (size_t)(strchr(buf + pos + 1, '/') - buf) : len;
	}
	return 0;
}

int xs_tx_set_value(struct xs_tx *tx, const char *path, const char *value, uint32_t vlen)
{
	int err = 0;
	struct xs_tnode *t = xs_tx_node(tx, path, &err);

	if (!t)
		return err;
	if (!t->exists)
		return -ENOENT;
	err = xs_tnode_set(t, value, vlen, NULL, 0);
	if (!err)
		t->flags |= XS_TX_VALUE;
	return err;
}

int xs_tx_set_perms(struct xs_tx *tx, const char *path, const struct xs_perm *perms,
		    unsigned nperms)
{
	int err = 0;
	struct xs_tnode *t = xs_tx_node(tx, path, &err);

	if (!t)
		return err;
	if (!t->exists)
		return -ENOENT;
	err = xs_tnode_set(t, NULL, 0, perms, nperms);
	if (!err)
		t->flags |= XS_TX_PERMS;
	return err;
}

int xs_tx_remove(struct xs_tx *tx, const char *path)
{
	int err = 0;
	struct xs_tnode *t = xs_tx_node(tx, path, &err);
	size_t i;

	if (!t)
		return err;
	if (!t->exists)
		return -ENOENT;
	if (!strcmp(path, "/"))
		return -EINVAL;
	for (i = 0; i < tx->nbuckets; i++) {
		struct xs_tnode *d;

		for (d = tx->buckets[i]; d; d = d->hnext) {
			if (d != t && xs_path_is_child(path, d->path)) {
				d->exists = false;
				d->flags = 0; /* covered by removing the ancestor */
			}
		}
	}
	err = xs_tx_child_change(tx, path, false);
	if (err)
		return err;
	t->exists = false;
	t->flags = XS_TX_REPLACE;
	return 0;
}

static int xs_tnode_cmp(const void *a, const void *b)
{
	return strcmp((*(struct xs_tnode *const *)a)->path, (*(struct xs_tnode *const *)b)->path);
}

/* Check for conflicts, then apply.  Returns 0, -EAGAIN or -ENOMEM. */
int xs_tx_commit(struct xs_tx *tx)
{
	struct xs_tree *tree = &tx->srv->tree;
	struct xs_tnode **mod, *t;
	struct xs_tx_change *ch;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < tx->nbuckets; i++) {
		for (t = tx->buckets[i]; t; t = t->hnext) {
			const struct xs_node *cur = xs_tree_lookup(tree, t->path);

			if ((cur ? cur->gen : 0) != t->gen)
				return -EAGAIN;
			if (t->flags)
				n++;
		}
	}
	if (!n)
		return 0;
	mod = malloc(n * sizeof(*mod));
	if (!mod)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < tx->nbuckets; i++)
		for (t = tx->buckets[i]; t; t = t->hnext)
			if (t->flags)
				mod[n++] = t;
	qsort(mod, n, sizeof(*mod), xs_tnode_cmp);
	for (i = 0; i < n && !rc; i++) {
		struct xs_node *cur;

		t = mod[i];
		cur = xs_tree_lookup(tree, t->path);
		if ((t->flags & XS_TX_REPLACE) && cur) {
			rc = xs_tree_delete(tree, cur, t->path);
			cur = NULL;
		}
		if (rc || !t->exists)
			continue;
		if (!cur)
			rc = xs_tree_create(tree, t->path, t->perms, t->nperms,
					    t->value ? t->value : "", t->vlen, NULL);
		else {
			if (t->flags & XS_TX_VALUE)
				rc = xs_tree_set_value(tree, cur, t->path, t->value ? t->value : "",
						       t->vlen);
			if (!rc && (t->flags & XS_TX_PERMS))
				rc = xs_tree_set_perms(tree, cur, t->path, t->perms, t->nperms);
		}
	}
	free(mod);
	for (ch = tx->changes; ch && !rc; ch = ch->next)
		xs_watch_fire(tx->srv, ch->path, ch->perms, ch->nperms, ch->recursive);
	return rc;
}
