/*
 * Message dispatch and the node operations.  Every message goes through
 * xs_process(): the table below names each operation's handler and flags,
 * and the rules that are the same for all (unknown type -> ENOSYS,
 * privileged-only -> EACCES, tx_id must name one of the connection's
 * transactions -> ENOENT) are enforced there once, as in Xen's xenstored.
 * The node handlers work on the store or, with a tx_id, on the
 * transaction's view; they check permissions and quotas, then mutate and
 * fire watches (transactions fire at commit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_ops.h"

#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

enum {
	XS_OPF_PRIV = 1, /* privileged connections only */
	XS_OPF_TX = 2,	 /* works inside the transaction named by tx_id */
	XS_OPF_MUT = 4,	 /* changes the store: refused (EIO) while the journal is failing */
};

struct xs_op {
	const char *name;
	int (*fn)(struct xs_req *r);
	unsigned flags;
};

int xs_reply(struct xs_req *r, const void *data, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	/* Any other failure has already doomed the connection: nothing to answer. */
	xs_conn_send(r->c, r->hdr->type, r->hdr->req_id, r->hdr->tx_id, data, len);
	return 0;
}

int xs_reply_str(struct xs_req *r, const char *s)
{
	return xs_reply(r, s, strlen(s) + 1);
}

int xs_reply_ok(struct xs_req *r)
{
	return xs_reply(r, "OK", 3);
}

/* Split the payload into NUL-terminated strings; argc, or -EINVAL. */
int xs_args(struct xs_req *r, unsigned min, unsigned max)
{
	uint32_t off = 0;

	r->argc = 0;
	if (!r->len || r->body[r->len - 1] != 0)
		return -EINVAL;
	while (off < r->len) {
		if (r->argc >= max || r->argc >= XS_ARGS_MAX)
			return -EINVAL;
		r->argv[r->argc++] = r->body + off;
		off += (uint32_t)strlen(r->body + off) + 1;
	}
	return r->argc < min ? -EINVAL : (int)r->argc;
}

/* The single string argument most operations take, or NULL. */
const char *xs_onearg(struct xs_req *r)
{
	return xs_args(r, 1, 1) == 1 ? r->argv[0] : NULL;
}

int xs_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int xs_req_path(struct xs_req *r, const char *in, char *out, bool special)
{
	if (xs_path_canonical(in, r->c->domid, out, XS_PATH_BUF))
		return -EINVAL;
	if (!special && out[0] == '@')
		return -EINVAL;
	return 0;
}

static int xs_get(struct xs_req *r, const char *path, struct xs_nodeview *v)
{
	const struct xs_node *n;

	if (r->tx)
		return xs_tx_get(r->tx, path, v);
	n = xs_tree_lookup(&r->s->tree, path);
	if (!n)
		return -ENOENT;
	v->exists = true;
	v->value = n->value ? n->value : "";
	v->vlen = n->vlen;
	v->perms = xs_node_perms(n);
	v->nperms = n->nperms;
	v->gen = n->gen;
	return 0;
}

/* Nearest existing ancestor of a missing path, and how many levels are missing. */
static int xs_nearest(struct xs_req *r, const char *path, struct xs_nodeview *v, unsigned *missing)
{
	char buf[XS_PATH_BUF];
	unsigned m = 1;
	int rc;

	strcpy(buf, path);
	while (xs_path_parent(buf, buf, sizeof(buf)) == 0) {
		rc = xs_get(r, buf, v);
		if (rc != -ENOENT) {
			if (missing)
				*missing = m;
			return rc;
		}
		m++;
	}
	return -ENOENT; /* unreachable: the root always exists */
}

/*
 * Fetch path for an access needing `want`.  A missing node is ENOENT unless
 * its nearest existing ancestor denies that access (EACCES), so a domain
 * cannot probe what it may not see.
 */
static int xs_access(struct xs_req *r, const char *path, unsigned want, struct xs_nodeview *v)
{
	struct xs_nodeview a;
	int rc = xs_get(r, path, v);

	if (rc == -ENOENT && !r->c->privileged) {
		if (xs_nearest(r, path, &a, NULL) == 0 &&
		    !(xs_conn_perm(r->c, a.perms, a.nperms) & want))
			return -EACCES;
		return -ENOENT;
	}
	if (rc)
		return rc;
	if (!(xs_conn_perm(r->c, v->perms, v->nperms) & want))
		return -EACCES;
	return 0;
}

/* Announce a change: to watchers now, or at commit for a transaction. */
static int xs_changed(struct xs_req *r, const char *path, const struct xs_perm *perms,
		      unsigned nperms, bool recursive)
{
	if (r->tx)
		return xs_tx_note_change(r->tx, path, perms, nperms, recursive);
	xs_watch_fire(r->s, path, perms, nperms, recursive);
	return 0;
}

static bool xs_too_big(struct xs_req *r, uint32_t vlen, unsigned nperms)
{
	return !r->c->privileged && vlen + nperms * sizeof(struct xs_perm) > r->s->quota.node_size;
}

static int xs_op_read(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	char path[XS_PATH_BUF];
	struct xs_nodeview v;
	int rc;

	if (!a || xs_req_path(r, a, path, false))
		return -EINVAL;
	rc = xs_access(r, path, XS_PERM_READ, &v);
	return rc ? rc : xs_reply(r, v.value, v.vlen);
}

/* WRITE and MKDIR: set (or keep) an existing node, or create it and its parents. */
static int xs_do_write(struct xs_req *r, const char *path, const char *data, uint32_t dlen,
		       bool overwrite)
{
	struct xs_perm perms[XS_MAX_PERMS];
	struct xs_nodeview v;
	unsigned missing = 0, np;
	int rc = xs_get(r, path, &v);

	if (rc == 0) {
		if (!(xs_conn_perm(r->c, v.perms, v.nperms) & XS_PERM_WRITE))
			return -EACCES;
		if (!overwrite)
			return xs_reply_ok(r);
		if (xs_too_big(r, dlen, v.nperms))
			return -ENOSPC;
		if (r->tx)
			rc = xs_tx_set_value(r->tx, path, data, dlen);
		else
			rc = xs_tree_set_value(&r->s->tree, xs_tree_lookup(&r->s->tree, path), path,
					       data, dlen);
		if (!rc)
			rc = xs_changed(r, path, v.perms, v.nperms, false);
		return rc ? rc : xs_reply_ok(r);
	}
	if (rc != -ENOENT)
		return rc;
	rc = xs_nearest(r, path, &v, &missing);
	if (rc)
		return rc;
	if (!(xs_conn_perm(r->c, v.perms, v.nperms) & XS_PERM_WRITE))
		return -EACCES;
	np = v.nperms;
	memcpy(perms, v.perms, np * sizeof(perms[0]));
	if (!r->c->privileged) {
		/* Unprivileged domains own what they create. */
		perms[0].domid = (uint16_t)r->c->domid;
		if (xs_too_big(r, dlen, np))
			return -ENOSPC;
		if (xs_domain_nodes(r->s, r->c->domid) + missing +
			    (r->tx ? xs_tx_new_nodes(r->tx) : 0) >
		    r->s->quota.nodes)
			return -ENOSPC;
	}
	if (r->tx)
		rc = xs_tx_create(r->tx, path, perms, np, data, dlen);
	else
		rc = xs_tree_create(&r->s->tree, path, perms, np, data, dlen, NULL);
	if (!rc)
		rc = xs_changed(r, path, perms, np, false);
	return rc ? rc : xs_reply_ok(r);
}

static int xs_op_write(struct xs_req *r)
{
	const char *nul = memchr(r->body, 0, r->len);
	char path[XS_PATH_BUF];

	if (!nul || xs_req_path(r, r->body, path, false))
		return -EINVAL;
	return xs_do_write(r, path, nul + 1, r->len - (uint32_t)(nul + 1 - r->body), true);
}

static int xs_op_mkdir(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	char path[XS_PATH_BUF];

	if (!a || xs_req_path(r, a, path, false))
		return -EINVAL;
	return xs_do_write(r, path, "", 0, false);
}

static int xs_op_rm(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	char path[XS_PATH_BUF], parent[XS_PATH_BUF];
	struct xs_perm old[XS_MAX_PERMS];
	struct xs_nodeview v;
	unsigned np;
	int rc;

	if (!a || xs_req_path(r, a, path, false) || !strcmp(path, "/"))
		return -EINVAL;
	rc = xs_access(r, path, XS_PERM_WRITE, &v);
	if (rc == -ENOENT) {
		/* Removing what is not there is fine if its parent is. */
		if (xs_path_parent(path, parent, sizeof(parent)) == 0 && xs_get(r, parent, &v) == 0)
			return xs_reply_ok(r);
		return -ENOENT;
	}
	if (rc)
		return rc;
	np = v.nperms;
	memcpy(old, v.perms, np * sizeof(old[0]));
	if (r->tx)
		rc = xs_tx_remove(r->tx, path);
	else
		rc = xs_tree_delete(&r->s->tree, xs_tree_lookup(&r->s->tree, path), path);
	if (!rc)
		rc = xs_changed(r, path, old, np, true);
	return rc ? rc : xs_reply_ok(r);
}

/* All child names of path, NUL-terminated, into out; gen is the listing's version. */
static int xs_children(struct xs_req *r, const char *path, struct xs_buf *out, uint64_t *gen)
{
	const struct xs_node *n, *c;

	if (r->tx)
		return xs_tx_children(r->tx, path, out, gen);
	n = xs_tree_lookup(&r->s->tree, path);
	if (!n)
		return -ENOENT;
	*gen = n->gen;
	for (c = n->first; c; c = c->next)
		if (xs_buf_put(out, c->name, c->namelen + 1u))
			return -ENOMEM;
	return 0;
}

static int xs_op_directory(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	char path[XS_PATH_BUF];
	struct xs_buf b = {0};
	struct xs_nodeview v;
	uint64_t gen;
	int rc;

	if (!a || xs_req_path(r, a, path, false))
		return -EINVAL;
	rc = xs_access(r, path, XS_PERM_READ, &v);
	if (rc)
		return rc;
	if (!r->tx) {
		const struct xs_node *n = xs_tree_lookup(&r->s->tree, path);

		if (n->childbytes > XENSTORE_PAYLOAD_MAX)
			return -E2BIG; /* the client falls back to DIRECTORY_PART */
	}
	rc = xs_children(r, path, &b, &gen);
	if (!rc)
		rc = b.len > XENSTORE_PAYLOAD_MAX ? -E2BIG : xs_reply(r, b.p, b.len);
	xs_buf_free(&b);
	return rc;
}

/*
 * DIRECTORY_PART path offset: the listing's generation, then whole names
 * from byte offset on, as many as fit; an extra empty name marks the end.
 */
static int xs_op_directory_part(struct xs_req *r)
{
	char path[XS_PATH_BUF], out[XENSTORE_PAYLOAD_MAX];
	struct xs_buf b = {0};
	struct xs_nodeview v;
	unsigned long off;
	uint64_t gen = 0;
	size_t genlen, len = 0, max;
	int rc;

	if (xs_args(r, 2, 2) != 2 || xs_req_path(r, r->argv[0], path, false) ||
	    xs_parse_uint(r->argv[1], UINT32_MAX, &off))
		return -EINVAL;
	rc = xs_access(r, path, XS_PERM_READ, &v);
	if (!rc)
		rc = xs_children(r, path, &b, &gen);
	if (rc)
		goto out;
	genlen = (size_t)snprintf(out, sizeof(out), "%llu", (unsigned long long)gen) + 1;
	if (off >= b.len) {
		out[genlen] = 0;
		rc = xs_reply(r, out, genlen + 1);
		goto out;
	}
	max = XENSTORE_PAYLOAD_MAX - genlen - 1;
	while (off + len < b.len) {
		size_t l = strnlen(b.p + off + len, b.len - off - len) + 1;

		if (len + l > max)
			break;
		len += l;
	}
	memcpy(out + genlen, b.p + off, len);
	if (off + len >= b.len)
		out[genlen + len++] = 0;
	rc = xs_reply(r, out, genlen + len);
out:
	xs_buf_free(&b);
	return rc;
}

static int xs_op_get_perms(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	char path[XS_PATH_BUF], out[XENSTORE_PAYLOAD_MAX];
	struct xs_nodeview v;
	size_t len = 0;
	unsigned i;
	int rc;

	if (!a || xs_req_path(r, a, path, true))
		return -EINVAL;
	if (path[0] == '@') {
		int k = xs_special_index(path);

		if (k < 0)
			return -ENOENT;
		v.perms = r->s->special_perms[k];
		v.nperms = (uint16_t)r->s->special_nperms[k];
	} else {
		rc = xs_access(r, path, XS_PERM_READ, &v);
		if (rc)
			return rc;
	}
	for (i = 0; i < v.nperms; i++) {
		rc = xs_perm_format(&v.perms[i], out + len, sizeof(out) - len);
		if (rc < 0)
			return -E2BIG;
		len += (size_t)rc + 1;
	}
	return xs_reply(r, out, len);
}

static int xs_op_set_perms(struct xs_req *r)
{
	struct xs_perm perms[XS_MAX_PERMS];
	char path[XS_PATH_BUF];
	struct xs_nodeview v;
	unsigned i, np;
	int rc = xs_args(r, 2, XS_ARGS_MAX);

	if (rc < 0)
		return rc;
	np = r->argc - 1;
	if (np > XS_MAX_PERMS || (!r->c->privileged && np > r->s->quota.perms))
		return -ENOSPC;
	if (xs_req_path(r, r->argv[0], path, true))
		return -EINVAL;
	for (i = 0; i < np; i++)
		if (xs_perm_parse(r->argv[i + 1], &perms[i]))
			return -EINVAL;
	if (path[0] == '@') {
		/* Special nodes (not journaled): who may watch them. */
		int k = xs_special_index(path);

		if (k < 0)
			return -ENOENT;
		if (!(xs_conn_perm(r->c, r->s->special_perms[k], r->s->special_nperms[k]) &
		      XS_PERM_OWNER))
			return -EACCES;
		memcpy(r->s->special_perms[k], perms, np * sizeof(perms[0]));
		r->s->special_nperms[k] = np;
		return xs_reply_ok(r);
	}
	rc = xs_access(r, path, XS_PERM_OWNER, &v);
	if (rc)
		return rc;
	/* Only the privileged may give a node away. */
	if (!r->c->privileged && perms[0].domid != v.perms[0].domid)
		return -EPERM;
	if (xs_too_big(r, v.vlen, np))
		return -ENOSPC;
	if (r->tx)
		rc = xs_tx_set_perms(r->tx, path, perms, np);
	else
		rc = xs_tree_set_perms(&r->s->tree, xs_tree_lookup(&r->s->tree, path), path, perms,
				       np);
	if (!rc)
		rc = xs_changed(r, path, perms, np, false);
	return rc ? rc : xs_reply_ok(r);
}

static const struct xs_op xs_op_table[XS_TYPE_COUNT] = {
	[XS_CONTROL] = {"CONTROL", xs_op_control, XS_OPF_PRIV},
	[XS_DIRECTORY] = {"DIRECTORY", xs_op_directory, XS_OPF_TX},
	[XS_READ] = {"READ", xs_op_read, XS_OPF_TX},
	[XS_GET_PERMS] = {"GET_PERMS", xs_op_get_perms, XS_OPF_TX},
	[XS_WATCH] = {"WATCH", xs_op_watch, 0},
	[XS_UNWATCH] = {"UNWATCH", xs_op_unwatch, 0},
	[XS_TRANSACTION_START] = {"TRANSACTION_START", xs_op_tx_start, XS_OPF_TX},
	[XS_TRANSACTION_END] = {"TRANSACTION_END", xs_op_tx_end, XS_OPF_TX},
	[XS_INTRODUCE] = {"INTRODUCE", xs_op_introduce, XS_OPF_PRIV | XS_OPF_MUT},
	[XS_RELEASE] = {"RELEASE", xs_op_release, XS_OPF_PRIV | XS_OPF_MUT},
	[XS_GET_DOMAIN_PATH] = {"GET_DOMAIN_PATH", xs_op_get_domain_path, 0},
	[XS_WRITE] = {"WRITE", xs_op_write, XS_OPF_TX | XS_OPF_MUT},
	[XS_MKDIR] = {"MKDIR", xs_op_mkdir, XS_OPF_TX | XS_OPF_MUT},
	[XS_RM] = {"RM", xs_op_rm, XS_OPF_TX | XS_OPF_MUT},
	[XS_SET_PERMS] = {"SET_PERMS", xs_op_set_perms, XS_OPF_TX | XS_OPF_MUT},
	[XS_IS_DOMAIN_INTRODUCED] = {"IS_DOMAIN_INTRODUCED", xs_op_is_introduced, XS_OPF_PRIV},
	[XS_RESUME] = {"RESUME", xs_op_resume, XS_OPF_PRIV},
	[XS_SET_TARGET] = {"SET_TARGET", xs_op_set_target, XS_OPF_PRIV | XS_OPF_MUT},
	[XS_RESET_WATCHES] = {"RESET_WATCHES", xs_op_reset_watches, 0},
	[XS_DIRECTORY_PART] = {"DIRECTORY_PART", xs_op_directory_part, XS_OPF_TX},
};

static struct xs_tx *xs_conn_find_tx(struct xs_conn *c, uint32_t id)
{
	struct xs_tx *tx;

	for (tx = c->txs; tx; tx = xs_tx_next(tx))
		if (xs_tx_id(tx) == id)
			return tx;
	return NULL;
}

void xs_process(struct xs_conn *c, const struct xsd_sockmsg *hdr, const char *body)
{
	struct xs_req r = {.s = c->srv, .c = c, .hdr = hdr, .body = body, .len = hdr->len};
	const struct xs_op *op = hdr->type < XS_TYPE_COUNT ? &xs_op_table[hdr->type] : NULL;
	int rc = 0;

	c->srv->msgs++;
	if (!op || !op->fn)
		rc = -ENOSYS;
	else if ((op->flags & XS_OPF_PRIV) && !c->privileged)
		rc = -EACCES;
	else if ((op->flags & XS_OPF_TX) && hdr->tx_id && !(r.tx = xs_conn_find_tx(c, hdr->tx_id)))
		rc = -ENOENT;
	else if ((op->flags & XS_OPF_MUT) && !r.tx && c->srv->journal_on && c->srv->journal.failed)
		rc = -EIO;
	if (!rc)
		rc = op->fn(&r);
	if (rc) {
		const char *name = xs_errno_name(-rc);

		xs_conn_send(c, XS_ERROR, hdr->req_id, hdr->tx_id, name, strlen(name) + 1);
	}
	if (c->srv->journal_on)
		xs_journal_end_batch(&c->srv->journal);
}
