/*
 * keel-xenstored internals: the node tree, transactions, watches, domains,
 * connections, the journal and the server that ties them together.  Every
 * part speaks through this header; the wire format lives in abi/xs_wire.h.
 */
#ifndef KEEL_XS_STORE_H
#define KEEL_XS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/xs_wire.h"

/* ---- small growable byte buffer ---- */
struct xs_buf {
	char *p;
	size_t len, cap;
};
int xs_buf_put(struct xs_buf *b, const void *data, size_t len);
void xs_buf_consume(struct xs_buf *b, size_t n);
void xs_buf_free(struct xs_buf *b);

/* ---- permissions ---- */
#define XS_PERM_NONE  0
#define XS_PERM_READ  1
#define XS_PERM_WRITE 2
#define XS_PERM_BOTH  3
#define XS_PERM_OWNER 4 /* internal: the caller owns the node */

#define XS_DOMID_MAX 0xffffu
#define XS_MAX_PERMS 64 /* hard cap on entries per node, for everyone */

struct xs_perm {
	uint16_t domid;
	uint8_t perm; /* XS_PERM_* */
	uint8_t pad;
};

int xs_perm_parse(const char *s, struct xs_perm *out);
int xs_perm_format(const struct xs_perm *p, char *buf, size_t size);

/* ---- paths (xs_path.c) ---- */
bool xs_path_chars_ok(const char *s);
int xs_path_canonical(const char *in, unsigned domid, char *out, size_t size);
bool xs_path_is_special(const char *path);
bool xs_path_is_child(const char *parent, const char *child);
int xs_path_parent(const char *path, char *out, size_t size);
const char *xs_path_relative(const char *path, unsigned domid);

/* ---- the node tree (xs_tree.c) ---- */
struct xs_node {
	struct xs_node *parent;
	struct xs_node *first, *last; /* children, in creation order */
	struct xs_node *next, *prev;  /* siblings */
	struct xs_node *hnext;	      /* hash chain keyed by (parent, name) */
	uint64_t gen;		      /* bumped on every change, incl. children */
	char *value;
	uint32_t vlen;
	uint32_t nchildren;
	uint32_t childbytes; /* sum of (name length + 1) over children */
	uint16_t nperms;
	uint16_t namelen;
	union {
		struct xs_perm inl[2];
		struct xs_perm *ext;
	} perms;
	char name[];
};

static inline const struct xs_perm *xs_node_perms(const struct xs_node *n)
{
	return n->nperms <= 2 ? n->perms.inl : n->perms.ext;
}

/* Callbacks the tree makes on every mutation (journal, accounting). */
struct xs_tree_hooks {
	void (*set)(void *opaque, const char *path, const struct xs_node *n);
	void (*del)(void *opaque, const char *path);
	void (*owner)(void *opaque, unsigned domid, int delta);
	void *opaque;
};

struct xs_tree {
	struct xs_node *root;
	struct xs_node **buckets;
	size_t nbuckets, count;
	uint64_t gen;
	size_t bytes; /* value and name bytes, for compaction heuristics */
	struct xs_tree_hooks hooks;
};

int xs_tree_init(struct xs_tree *t);
void xs_tree_destroy(struct xs_tree *t);
struct xs_node *xs_tree_lookup(const struct xs_tree *t, const char *path);
struct xs_node *xs_tree_child(const struct xs_tree *t, const struct xs_node *parent,
			      const char *name, size_t len);
struct xs_node *xs_tree_nearest(const struct xs_tree *t, const char *path, unsigned *missing);
int xs_tree_create(struct xs_tree *t, const char *path, const struct xs_perm *perms,
		   unsigned nperms, const char *value, uint32_t vlen, struct xs_node **out);
int xs_tree_set_value(struct xs_tree *t, struct xs_node *n, const char *path, const char *value,
		      uint32_t vlen);
int xs_tree_set_perms(struct xs_tree *t, struct xs_node *n, const char *path,
		      const struct xs_perm *perms, unsigned nperms);
int xs_tree_delete(struct xs_tree *t, struct xs_node *n, const char *path);
size_t xs_node_path(const struct xs_node *n, char *buf, size_t size);
int xs_tree_walk(const struct xs_tree *t,
		 int (*fn)(void *o, const char *path, const struct xs_node *n), void *o);

/* ---- quotas ---- */
struct xs_quota {
	unsigned nodes;	       /* nodes owned per unprivileged domain */
	unsigned node_size;    /* value + perms bytes per node */
	unsigned watches;      /* watches per unprivileged domain */
	unsigned transactions; /* open transactions per connection */
	unsigned outstanding;  /* replies queued before we stop reading a client */
	unsigned perms;	       /* permission entries per node */
	unsigned tx_nodes;     /* nodes one guest transaction may touch */
};

/* ---- domains (xs_domain.c) ---- */
struct xs_conn;
struct xs_domain {
	unsigned domid;
	bool introduced;
	bool shutdown;
	uint64_t mfn;
	uint32_t evtchn;
	int target; /* -1 = none (SET_TARGET) */
	unsigned watches;
	struct xs_conn *conn; /* the ring connection, once mapped */
};

struct xs_server;
/*
 * How a domain's store page reaches us.  keeld will provide one that maps
 * the guest frame and binds the event channel; until then it is NULL and
 * INTRODUCE only records the domain.
 */
struct xs_ring_mapper {
	int (*map)(void *opaque, unsigned domid, uint64_t mfn, uint32_t evtchn, void **page,
		   int *kick_fd, int *notify_fd);
	void (*unmap)(void *opaque, unsigned domid, void *page, int kick_fd, int notify_fd);
	void *opaque;
};

struct xs_domain *xs_domain_get(struct xs_server *s, unsigned domid);
struct xs_domain *xs_domain_find(struct xs_server *s, unsigned domid);
int xs_domain_introduce(struct xs_server *s, unsigned domid, uint64_t mfn, uint32_t evtchn);
int xs_domain_release(struct xs_server *s, unsigned domid);
void xs_domain_owner_delta(void *opaque, unsigned domid, int delta);
unsigned xs_domain_nodes(struct xs_server *s, unsigned domid);
unsigned xs_conn_perm(const struct xs_conn *c, const struct xs_perm *perms, unsigned nperms);
void xs_domains_free(struct xs_server *s);

/* ---- transactions (xs_tx.c) ---- */
struct xs_tx;
struct xs_nodeview {
	bool exists;
	const char *value;
	uint32_t vlen;
	const struct xs_perm *perms;
	uint16_t nperms;
	uint64_t gen;
};
struct xs_tx *xs_tx_new(struct xs_server *s, uint32_t id, unsigned domid, bool privileged);
void xs_tx_free(struct xs_tx *tx);
uint32_t xs_tx_id(const struct xs_tx *tx);
struct xs_tx *xs_tx_next(const struct xs_tx *tx);
void xs_tx_set_next(struct xs_tx *tx, struct xs_tx *next);
int xs_tx_get(struct xs_tx *tx, const char *path, struct xs_nodeview *v);
int xs_tx_children(struct xs_tx *tx, const char *path, struct xs_buf *out, uint64_t *gen);
int xs_tx_create(struct xs_tx *tx, const char *path, const struct xs_perm *perms, unsigned nperms,
		 const char *value, uint32_t vlen);
int xs_tx_set_value(struct xs_tx *tx, const char *path, const char *value, uint32_t vlen);
int xs_tx_set_perms(struct xs_tx *tx, const char *path, const struct xs_perm *perms,
		    unsigned nperms);
int xs_tx_remove(struct xs_tx *tx, const char *path);
unsigned xs_tx_new_nodes(const struct xs_tx *tx);
int xs_tx_commit(struct xs_tx *tx);
int xs_tx_note_change(struct xs_tx *tx, const char *path, const struct xs_perm *perms,
		      unsigned nperms, bool recursive);

/* ---- watches (xs_watch.c) ---- */
struct xs_watch;
int xs_watch_add(struct xs_server *s, struct xs_conn *c, const char *path, const char *token,
		 bool relative);
int xs_watch_remove(struct xs_server *s, struct xs_conn *c, const char *path, const char *token);
void xs_watch_remove_conn(struct xs_server *s, struct xs_conn *c);
void xs_watch_fire(struct xs_server *s, const char *path, const struct xs_perm *perms,
		   unsigned nperms, bool recursive);
void xs_watch_fire_special(struct xs_server *s, const char *name, unsigned domid);
void xs_watches_free(struct xs_server *s);
int xs_special_index(const char *path);

/* ---- connections (xs_conn.c, xs_ring.c) ---- */
struct xs_conn_ops {
	const char *kind;
	bool poll_out; /* wait for EPOLLOUT when output backs up (sockets) */
	/* Read up to len bytes: >0 bytes, 0 nothing now, <0 -errno (closed/broken). */
	ssize_t (*read)(struct xs_conn *c, void *buf, size_t len);
	/* Write up to len bytes: >=0 bytes taken, <0 -errno. */
	ssize_t (*write)(struct xs_conn *c, const void *buf, size_t len);
	/* Called after a batch of writes (ring: kick the guest). */
	void (*notify)(struct xs_conn *c);
	/* Called on every wake-up of fd before reading (ring: clear the kick). */
	void (*ack)(struct xs_conn *c);
	void (*destroy)(struct xs_conn *c);
	/* Optional: the transport's own state, for `control conns`. */
	int (*describe)(struct xs_conn *c, char *buf, size_t len);
	/* Optional: input waits that came without a wake-up (a shared ring
	 * whose peer kicks only when it thinks we are idle). */
	bool (*has_input)(struct xs_conn *c);
};

struct xs_conn {
	const struct xs_conn_ops *ops;
	void *priv;
	int fd; /* polled fd (socket, or ring kick eventfd) */
	struct xs_server *srv;
	struct xs_conn *next, *prev;
	unsigned domid;
	bool privileged;
	bool dead;
	bool flush_pending;
	bool blocked;	  /* stopped reading: too much output queued */
	uint32_t ev_mask; /* epoll events currently asked for (socket-like transports) */
	/* input assembly */
	uint32_t in_have;
	union {
		struct xsd_sockmsg hdr;
		char raw[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1];
	} in;
	/* output */
	struct xs_buf out;
	unsigned out_msgs; /* replies + events queued, not yet fully sent */
	unsigned events_dropped;
	unsigned events_logged;
	struct xs_tx *txs;
	unsigned ntx;
	uint32_t next_txid;
	unsigned nwatches;
	struct xs_conn *flush_next;
};

struct xs_conn *xs_conn_new(struct xs_server *s, const struct xs_conn_ops *ops, void *priv, int fd,
			    unsigned domid, bool privileged);
void xs_conn_free(struct xs_conn *c);
int xs_conn_input(struct xs_conn *c);
int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		 const void *data, size_t len);
int xs_conn_send_event(struct xs_conn *c, const char *path, const char *token);
int xs_conn_flush(struct xs_conn *c);
void xs_conn_reset(struct xs_conn *c);
struct xs_conn *xs_conn_socket_new(struct xs_server *s, int fd);
struct xs_conn *xs_conn_ring_new(struct xs_server *s, unsigned domid, void *page, int kick_fd,
				 int notify_fd);

/* In-memory transport for tests and fuzzing (xs_memconn.c). */
#define XS_END ((const char *)NULL) /* ends xs_memconn_callv's string list */
struct xs_conn *xs_memconn_new(struct xs_server *s, unsigned domid, bool privileged);
void xs_memconn_set_cap(struct xs_conn *c, size_t cap);
size_t xs_memconn_pending(struct xs_conn *c);
int xs_memconn_feed(struct xs_conn *c, const void *data, size_t len);
int xs_memconn_next(struct xs_conn *c, struct xsd_sockmsg *hdr, char *body, size_t cap);
int xs_memconn_call(struct xs_conn *c, uint32_t type, uint32_t tx, const void *payload, size_t len,
		    char *buf, size_t cap);
int xs_memconn_callv(struct xs_conn *c, uint32_t type, uint32_t tx, char *buf, size_t cap, ...)
	__attribute__((sentinel));
int xs_memconn_event(struct xs_conn *c, char *path, char *token, size_t cap);

/* ---- journal (xs_journal.c) ---- */
struct xs_journal {
	int fd;
	int dirfd;
	char *dir;
	struct xs_buf pending; /* records not yet written */
	size_t batch_start;    /* offset of the open batch in pending, or SIZE_MAX */
	unsigned batch_ops;
	uint64_t file_size;
	uint64_t compact_min;
	bool fsync;
	bool failed;	  /* a write failed: changes refused until a compaction succeeds */
	int64_t retry_at; /* when to try that compaction again (CLOCK_MONOTONIC s) */
	bool replaying;
};
int xs_journal_open(struct xs_journal *j, const char *dir, struct xs_server *s, bool do_fsync);
void xs_journal_close(struct xs_journal *j);
void xs_journal_hook_set(struct xs_journal *j, const char *path, const struct xs_node *n);
void xs_journal_hook_del(struct xs_journal *j, const char *path);
void xs_journal_domain(struct xs_journal *j, const struct xs_domain *d);
void xs_journal_end_batch(struct xs_journal *j);
int xs_journal_flush(struct xs_journal *j);
int xs_journal_compact(struct xs_journal *j, struct xs_server *s);
bool xs_journal_want_compact(const struct xs_journal *j, const struct xs_tree *t);

/* ---- the server (xs_server.c, xs_ops*.c) ---- */
struct xs_server {
	struct xs_tree tree;
	struct xs_quota quota;
	struct xs_journal journal;
	bool journal_on;
	struct xs_domain **domains; /* indexed by domid, allocated lazily */
	uint32_t *node_count;	    /* nodes owned, indexed by domid */
	struct xs_watch *watches;   /* every watch, in registration order */
	struct xs_watch *watches_tail;
	struct xs_watch **wbuckets; /* watches hashed by path */
	/* Permissions of @introduceDomain [0] and @releaseDomain [1]: who may watch. */
	struct xs_perm special_perms[2][XS_MAX_PERMS];
	unsigned special_nperms[2];
	size_t nwbuckets, nwatches;
	struct xs_conn *conns;
	struct xs_conn *flush_list;
	struct xs_ring_mapper mapper;
	/* One extra fd in the loop (keeld's event stream, xs_keeld.c). */
	int ext_fd;
	void (*ext_fn)(struct xs_server *s, void *opaque);
	void *ext_opaque;
	int epfd;
	int listen_fd;
	char *socket_path;
	unsigned nconns;
	unsigned max_conns;
	unsigned long msgs;
	unsigned long refused; /* connections refused at max_conns */
	int accept_errno;      /* the last accept() failure logged (0: none since) */
	bool quit;
	bool quiet;
};

int xs_server_init(struct xs_server *s, const struct xs_quota *q);
int xs_server_open_journal(struct xs_server *s, const char *dir, bool do_fsync);
int xs_server_listen(struct xs_server *s, const char *path);
int xs_server_add_conn(struct xs_server *s, struct xs_conn *c);
void xs_server_close_conn(struct xs_server *s, struct xs_conn *c);
int xs_server_run_once(struct xs_server *s, int timeout_ms);
void xs_server_commit(struct xs_server *s);
void xs_server_destroy(struct xs_server *s);
void xs_server_want_flush(struct xs_server *s, struct xs_conn *c);
void xs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool xs_log_quiet;

/* Process one complete message from a connection (xs_ops.c). */
void xs_process(struct xs_conn *c, const struct xsd_sockmsg *hdr, const char *body);
const char *xs_errno_name(int err);
int xs_errno_from_name(const char *name);

/* Default quotas (Xen's xenstored defaults where it has one). */
void xs_quota_defaults(struct xs_quota *q);

/* keeld link (xs_keeld.c): ring mapper, domain deaths, re-mapping after a restart. */
int xs_keeld_attach(struct xs_server *s, const char *rundir);
void xs_keeld_free(struct xs_server *s);

#endif
