/*
 * The xenstore wire protocol (xs_wire): message header, operation numbers,
 * error names, limits and the shared store-ring page a guest and the store
 * daemon exchange messages through.  Written from the documented protocol
 * (Xen's public io/xs_wire.h and docs/misc/xenstore.txt); sizes and offsets
 * are checked below so a mistake fails the build, not a guest.
 */
#ifndef KEEL_ABI_XS_WIRE_H
#define KEEL_ABI_XS_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Operation numbers carried in xsd_sockmsg.type. */
enum xsd_sockmsg_type {
	XS_CONTROL = 0, /* formerly XS_DEBUG */
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESTRICT_OBSOLETE = 20, /* removed from the protocol; never valid */
	XS_RESET_WATCHES = 21,
	XS_DIRECTORY_PART = 22,
	XS_TYPE_COUNT = 23,
	XS_INVALID = 0xffff, /* guaranteed never to be a valid type */
};

/* Every message, either direction, starts with this header. */
struct xsd_sockmsg {
	uint32_t type;	 /* enum xsd_sockmsg_type */
	uint32_t req_id; /* echoed unchanged in the reply */
	uint32_t tx_id;	 /* transaction id, 0 = none */
	uint32_t len;	 /* payload bytes following the header */
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg is 16 bytes");
_Static_assert(offsetof(struct xsd_sockmsg, len) == 12, "len at offset 12");

/* Index of the strings inside a WATCH_EVENT payload. */
enum xs_watch_type {
	XS_WATCH_PATH = 0,
	XS_WATCH_TOKEN = 1,
};

/* A payload longer than this is a protocol violation. */
#define XENSTORE_PAYLOAD_MAX 4096
/* Longer paths are answered with an error. */
#define XENSTORE_ABS_PATH_MAX 3072
#define XENSTORE_REL_PATH_MAX 2048

/*
 * Errors travel as the errno's name ("ENOENT\0") in an XS_ERROR reply.  The
 * names are the Linux errno names; clients map unknown names to EINVAL.
 */
struct xs_wire_error {
	int errnum;
	const char *name;
};
#define XS_WIRE_ERRORS(X) \
	X(EINVAL, 22)     \
	X(EACCES, 13)     \
	X(EEXIST, 17)     \
	X(EISDIR, 21)     \
	X(ENOENT, 2)      \
	X(ENOMEM, 12)     \
	X(ENOSPC, 28)     \
	X(EIO, 5)         \
	X(ENOTEMPTY, 39)  \
	X(ENOSYS, 38)     \
	X(EROFS, 30)      \
	X(EBUSY, 16)      \
	X(EAGAIN, 11)     \
	X(EISCONN, 106)   \
	X(E2BIG, 7)       \
	X(EPERM, 1)

/* Inter-domain store ring: one 4 KiB page shared by guest and daemon. */
#define XENSTORE_RING_SIZE 1024
typedef uint32_t XENSTORE_RING_IDX;
/* Indices run freely and are masked on use. */
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

struct xenstore_domain_interface {
	char req[XENSTORE_RING_SIZE]; /* guest -> daemon requests */
	char rsp[XENSTORE_RING_SIZE]; /* daemon -> guest replies and watch events */
	XENSTORE_RING_IDX req_cons, req_prod;
	XENSTORE_RING_IDX rsp_cons, rsp_prod;
	uint32_t server_features; /* XENSTORE_SERVER_FEATURE_* the daemon supports */
	uint32_t connection;	  /* XENSTORE_CONNECTED / XENSTORE_RECONNECT */
	uint32_t error;		  /* XENSTORE_ERROR_* set by the daemon */
};
_Static_assert(offsetof(struct xenstore_domain_interface, rsp) == 1024, "rsp at 1024");
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048, "req_cons");
_Static_assert(offsetof(struct xenstore_domain_interface, req_prod) == 2052, "req_prod");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_cons) == 2056, "rsp_cons");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_prod) == 2060, "rsp_prod");
_Static_assert(offsetof(struct xenstore_domain_interface, server_features) == 2064, "features");
_Static_assert(offsetof(struct xenstore_domain_interface, connection) == 2068, "connection");
_Static_assert(offsetof(struct xenstore_domain_interface, error) == 2072, "error");
_Static_assert(sizeof(struct xenstore_domain_interface) <= 4096, "fits one page");

/* server_features bits */
#define XENSTORE_SERVER_FEATURE_RECONNECTION 1
#define XENSTORE_SERVER_FEATURE_ERROR	     2

/* connection values */
#define XENSTORE_CONNECTED 0
#define XENSTORE_RECONNECT 1

/* error values: why the daemon stopped serving a ring */
#define XENSTORE_ERROR_NONE    0
#define XENSTORE_ERROR_COMM    1 /* communication problem */
#define XENSTORE_ERROR_RINGIDX 2 /* invalid ring index */
#define XENSTORE_ERROR_PROTO   3 /* protocol violation (e.g. payload too long) */

#endif
