/*
 * Handlers for the per-connection and per-domain operations: watches,
 * transactions, domain introduction and release, SET_TARGET, RESUME,
 * GET_DOMAIN_PATH, RESET_WATCHES, and CONTROL with its own small table of
 * subcommands (help, print, check, quota, memreport, compact, log, logfile).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_ops.h"

#define XS_TX_PRIV_MAX 1024 /* open transactions per privileged connection */

int xs_op_watch(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	bool relative;
	int rc;

	if (xs_args(r, 2, 3) < 2) /* path, token, and a reserved (empty) extra */
		return -EINVAL;
	if (xs_path_canonical(r->argv[0], r->c->domid, path, sizeof(path)))
		return -EINVAL;
	relative = r->argv[0][0] != '/' && r->argv[0][0] != '@';
	rc = xs_watch_add(r->s, r->c, path, r->argv[1], relative);
	if (rc)
		return rc;
	/* The acknowledgement first, then the watch's initial event. */
	xs_reply_ok(r);
	xs_conn_send_event(r->c, relative ? xs_path_relative(path, r->c->domid) : path, r->argv[1]);
	return 0;
}

int xs_op_unwatch(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	int rc;

	if (xs_args(r, 2, 3) < 2) /* path, token, and a reserved (empty) extra */
		return -EINVAL;
	if (xs_path_canonical(r->argv[0], r->c->domid, path, sizeof(path)))
		return -EINVAL;
	rc = xs_watch_remove(r->s, r->c, path, r->argv[1]);
	return rc ? rc : xs_reply_ok(r);
}

int xs_op_tx_start(struct xs_req *r)
{
	unsigned max = r->c->privileged ? XS_TX_PRIV_MAX : r->s->quota.transactions;
	struct xs_tx *tx;
	char id[16];
	uint32_t n;

	if (r->tx)
		return -EBUSY; /* no nesting; the payload (normally "") is ignored, as in Xen */
	if (r->c->ntx >= max)
		return -ENOSPC;
	/* Next free non-zero id on this connection. */
	do {
		n = r->c->next_txid++;
		if (!r->c->next_txid)
			r->c->next_txid = 1;
		for (tx = r->c->txs; tx && xs_tx_id(tx) != n; tx = xs_tx_next(tx))
			;
	} while (!n || tx);
	tx = xs_tx_new(r->s, n, r->c->domid, r->c->privileged);
	if (!tx)
		return -ENOMEM;
	xs_tx_set_next(tx, r->c->txs);
	r->c->txs = tx;
	r->c->ntx++;
	snprintf(id, sizeof(id), "%u", n);
	return xs_reply_str(r, id);
}

int xs_op_tx_end(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	bool commit;
	int rc = 0;

	if (!r->tx)
		return -ENOENT;
	if (!a || (strcmp(a, "T") && strcmp(a, "F")))
		return -EINVAL;
	commit = a[0] == 'T';
	/* Unlink the transaction from the connection. */
	if (r->c->txs == r->tx) {
		r->c->txs = xs_tx_next(r->tx);
	} else {
		struct xs_tx *p = r->c->txs;

		while (xs_tx_next(p) != r->tx)
			p = xs_tx_next(p);
		xs_tx_set_next(p, xs_tx_next(r->tx));
	}
	r->c->ntx--;
	if (commit && r->s->journal_on && r->s->journal.failed)
		rc = -EIO; /* cannot be made durable now: discarded */
	else if (commit)
		rc = xs_tx_commit(r->tx);
	xs_tx_free(r->tx);
	r->tx = NULL;
	return rc ? rc : xs_reply_ok(r);
}

static int xs_domid_arg(const char *s, unsigned *domid)
{
	unsigned long v;

	if (xs_parse_uint(s, 0x7fef, &v))
		return -EINVAL;
	*domid = (unsigned)v;
	return 0;
}

/* The protocol documents the mfn as signed decimal: accept either form. */
static int xs_mfn_arg(const char *s, unsigned long *mfn)
{
	unsigned long v;

	if (s[0] == '-' && !xs_parse_uint(s + 1, ~0ul, &v)) {
		*mfn = 0ul - v;
		return 0;
	}
	return xs_parse_uint(s, ~0ul, mfn);
}

int xs_op_introduce(struct xs_req *r)
{
	unsigned long mfn, evtchn;
	unsigned domid;
	int rc;

	if (xs_args(r, 3, 8) < 3 || xs_domid_arg(r->argv[0], &domid) ||
	    xs_mfn_arg(r->argv[1], &mfn) || xs_parse_uint(r->argv[2], UINT32_MAX, &evtchn))
		return -EINVAL;
	rc = xs_domain_introduce(r->s, domid, mfn, (uint32_t)evtchn);
	return rc ? rc : xs_reply_ok(r);
}

int xs_op_release(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	unsigned domid;
	int rc;

	if (!a || xs_domid_arg(a, &domid))
		return -EINVAL;
	rc = xs_domain_release(r->s, domid);
	return rc ? rc : xs_reply_ok(r);
}

int xs_op_is_introduced(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	const struct xs_domain *d;
	unsigned domid;

	if (!a || xs_domid_arg(a, &domid))
		return -EINVAL;
	d = xs_domain_find(r->s, domid);
	/* dom0 is always there: it is us. */
	return xs_reply_str(r, (domid == 0 || (d && d->introduced)) ? "T" : "F");
}

int xs_op_get_domain_path(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	char path[32];
	unsigned domid;

	if (!a || xs_domid_arg(a, &domid))
		return -EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	return xs_reply_str(r, path);
}

int xs_op_resume(struct xs_req *r)
{
	const char *a = xs_onearg(r);
	struct xs_domain *d;
	unsigned domid;

	if (!a || xs_domid_arg(a, &domid))
		return -EINVAL;
	d = xs_domain_find(r->s, domid);
	if (!d || !d->introduced)
		return -ENOENT;
	d->shutdown = false;
	return xs_reply_ok(r);
}

int xs_op_set_target(struct xs_req *r)
{
	unsigned domid, target;
	struct xs_domain *d;

	if (xs_args(r, 2, 2) != 2 || xs_domid_arg(r->argv[0], &domid) ||
	    xs_domid_arg(r->argv[1], &target))
		return -EINVAL;
	d = xs_domain_find(r->s, domid);
	if (!d || !d->introduced)
		return -ENOENT;
	d->target = (int)target;
	if (r->s->journal_on)
		xs_journal_domain(&r->s->journal, d);
	return xs_reply_ok(r);
}

int xs_op_reset_watches(struct xs_req *r)
{
	xs_conn_reset(r->c);
	return xs_reply_ok(r);
}

/* ---- CONTROL ---- */

struct xs_control_cmd {
	const char *name;
	int (*fn)(struct xs_req *r);
	const char *help;
};

static int xs_ctl_help(struct xs_req *r);

static int xs_ctl_print(struct xs_req *r)
{
	if (r->argc < 2)
		return -EINVAL;
	xs_log("control: %s", r->argv[1]);
	return xs_reply_ok(r);
}

struct xs_check {
	size_t nodes;
	bool bad;
};

static int xs_check_node(void *o, const char *path, const struct xs_node *n)
{
	struct xs_check *ck = o;
	const struct xs_node *c;
	uint32_t cnt = 0, bytes = 0;

	for (c = n->first; c; c = c->next) {
		cnt++;
		bytes += c->namelen + 1u;
		if (c->parent != n)
			ck->bad = true;
	}
	if (cnt != n->nchildren || bytes != n->childbytes || !n->nperms)
		ck->bad = true;
	ck->nodes++;
	return 0;
}

static int xs_ctl_check(struct xs_req *r)
{
	struct xs_check ck = {0, false};

	xs_tree_walk(&r->s->tree, xs_check_node, &ck);
	if (ck.bad || ck.nodes != r->s->tree.count)
		return xs_reply_str(r, "inconsistent");
	return xs_reply_ok(r);
}

static int xs_ctl_quota(struct xs_req *r)
{
	struct {
		const char *name;
		unsigned *val;
	} q[] = {
		{"nodes", &r->s->quota.nodes},
		{"node-size", &r->s->quota.node_size},
		{"watches", &r->s->quota.watches},
		{"transactions", &r->s->quota.transactions},
		{"outstanding", &r->s->quota.outstanding},
		{"perms", &r->s->quota.perms},
		{"transaction-nodes", &r->s->quota.tx_nodes},
	};
	char out[1024];
	size_t i, len = 0;
	unsigned long v;

	if (r->argc == 1) {
		for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%-18s %u\n",
						q[i].name, *q[i].val);
		return xs_reply_str(r, out);
	}
	if (r->argc != 3 || xs_parse_uint(r->argv[2], 1u << 30, &v) || !v)
		return -EINVAL;
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if (!strcmp(q[i].name, r->argv[1])) {
			*q[i].val = (unsigned)v;
			return xs_reply_ok(r);
		}
	}
	return -EINVAL;
}

static int xs_ctl_memreport(struct xs_req *r)
{
	char out[512];

	snprintf(out, sizeof(out),
		 "nodes %zu\nnode-bytes %zu\nconnections %u\nmessages %lu\njournal-bytes %llu\n",
		 r->s->tree.count, r->s->tree.bytes, r->s->nconns, r->s->msgs,
		 (unsigned long long)(r->s->journal_on ? r->s->journal.file_size : 0));
	if (r->argc == 2) {
		/* memreport FILE: append the report there instead of replying it. */
		FILE *f = r->argv[1][0] == '/' ? fopen(r->argv[1], "a") : NULL;

		if (!f)
			return -EINVAL;
		fputs(out, f);
		if (fclose(f))
			return -EIO;
		return xs_reply_ok(r);
	}
	return xs_reply_str(r, out);
}

/* log on|off: switch the informational log (errors are logged regardless). */
static int xs_ctl_log(struct xs_req *r)
{
	if (r->argc != 2 || (strcmp(r->argv[1], "on") && strcmp(r->argv[1], "off")))
		return -EINVAL;
	xs_log_quiet = !strcmp(r->argv[1], "off");
	return xs_reply_ok(r);
}

/* logfile FILE: send the daemon's log to FILE (appended) instead of stderr. */
static int xs_ctl_logfile(struct xs_req *r)
{
	if (r->argc != 2 || r->argv[1][0] != '/')
		return -EINVAL;
	if (!freopen(r->argv[1], "a", stderr))
		return -errno;
	setvbuf(stderr, NULL, _IOLBF, 0);
	return xs_reply_ok(r);
}

static int xs_ctl_compact(struct xs_req *r)
{
	int rc;

	if (!r->s->journal_on)
		return -EINVAL;
	if (xs_journal_flush(&r->s->journal)) {
		struct xs_conn *c;

		/* As in xs_server_commit: replies of an unwritten group never leave. */
		for (c = r->s->flush_list; c; c = c->flush_next)
			c->dead = true;
		return -EIO;
	}
	rc = xs_journal_compact(&r->s->journal, r->s);
	return rc ? rc : xs_reply_ok(r);
}

/*
 * conns [DOMID]: one line per connection (of that domain): its transport,
 * queued input and output, whether reading is held back, and the ring's
 * indices for a guest ring -- what to look at when a client waits.
 */
static int xs_ctl_conns(struct xs_req *r)
{
	char out[XENSTORE_PAYLOAD_MAX], line[512];
	size_t len = 0;
	long only = -1;

	if (r->argc > 2)
		return -EINVAL;
	if (r->argc == 2) {
		char *end;

		only = strtol(r->argv[1], &end, 10);
		if (*end || only < 0)
			return -EINVAL;
	}
	out[0] = 0;
	for (struct xs_conn *c = r->s->conns; c; c = c->next) {
		int n;

		if (only >= 0 && c->domid != (unsigned long)only)
			continue;
		n = snprintf(line, sizeof(line),
			     "domid %u %s%s: in %u out %zu (%u msgs) watches %u tx %u%s%s",
			     c->domid, c->ops->kind, c->privileged ? " privileged" : "", c->in_have,
			     c->out.len, c->out_msgs, c->nwatches, c->ntx,
			     c->blocked ? " blocked" : "", c->dead ? " dead" : "");
		if (c->ops->describe && n > 0 && (size_t)n < sizeof(line) - 1) {
			line[n++] = ' ';
			c->ops->describe(c, line + n, sizeof(line) - (size_t)n);
		}
		if (len + strlen(line) + 2 > sizeof(out))
			break; /* the reply's limit: the first ones only */
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s\n", line);
	}
	return xs_reply_str(r, out);
}

static const struct xs_control_cmd xs_control_cmds[] = {
	{"help", xs_ctl_help, "list the commands"},
	{"print", xs_ctl_print, "print <string>: write it to the daemon's log"},
	{"check", xs_ctl_check, "check the tree's internal consistency"},
	{"quota", xs_ctl_quota, "quota [<name> <value>]: show or set a quota"},
	{"memreport", xs_ctl_memreport,
	 "memreport [<absolute path>]: node, connection, journal counts"},
	{"compact", xs_ctl_compact, "rewrite the journal as a snapshot now"},
	{"log", xs_ctl_log, "log on|off: switch informational logging"},
	{"conns", xs_ctl_conns, "conns [<domid>]: each connection's queues (and ring indices)"},
	{"logfile", xs_ctl_logfile, "logfile <absolute path>: log there instead of stderr"},
};

static int xs_ctl_help(struct xs_req *r)
{
	char out[1024];
	size_t i, len = 0;

	for (i = 0; i < sizeof(xs_control_cmds) / sizeof(xs_control_cmds[0]); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%-10s %s\n",
					xs_control_cmds[i].name, xs_control_cmds[i].help);
	return xs_reply_str(r, out);
}

int xs_op_control(struct xs_req *r)
{
	size_t i;

	if (xs_args(r, 1, XS_ARGS_MAX) < 1)
		return -EINVAL;
	for (i = 0; i < sizeof(xs_control_cmds) / sizeof(xs_control_cmds[0]); i++)
		if (!strcmp(xs_control_cmds[i].name, r->argv[0]))
			return xs_control_cmds[i].fn(r);
	return -EINVAL;
}
