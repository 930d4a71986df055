/*
 * Shared by the message handlers (xs_ops.c, xs_ops_session.c): the request
 * being handled and the helpers every handler uses to parse arguments and
 * reply.  Handlers return 0 after replying, or a negative errno that the
 * dispatcher sends back as Xen's error name.
 */
#ifndef KEEL_XS_OPS_H
#define KEEL_XS_OPS_H

#include "xs_store.h"

#define XS_ARGS_MAX 72 /* SET_PERMS: path + up to XS_MAX_PERMS entries, and slack */

struct xs_req {
	struct xs_server *s;
	struct xs_conn *c;
	const struct xsd_sockmsg *hdr;
	const char *body; /* NUL-terminated one past hdr->len */
	uint32_t len;
	struct xs_tx *tx; /* the transaction named by tx_id, if the op uses one */
	const char *argv[XS_ARGS_MAX];
	unsigned argc;
};

int xs_reply(struct xs_req *r, const void *data, size_t len);
int xs_reply_str(struct xs_req *r, const char *s);
int xs_reply_ok(struct xs_req *r);
const char *xs_onearg(struct xs_req *r);
int xs_args(struct xs_req *r, unsigned min, unsigned max);
int xs_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* Session, domain and control handlers (xs_ops_session.c). */
int xs_op_watch(struct xs_req *r);
int xs_op_unwatch(struct xs_req *r);
int xs_op_tx_start(struct xs_req *r);
int xs_op_tx_end(struct xs_req *r);
int xs_op_introduce(struct xs_req *r);
int xs_op_release(struct xs_req *r);
int xs_op_is_introduced(struct xs_req *r);
int xs_op_get_domain_path(struct xs_req *r);
int xs_op_resume(struct xs_req *r);
int xs_op_set_target(struct xs_req *r);
int xs_op_reset_watches(struct xs_req *r);
int xs_op_control(struct xs_req *r);

#endif
