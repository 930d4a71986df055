/*
 * libkeelstore: the xenstore client library for dom0 programs (toolstack,
 * backends, tests).  It speaks xs_wire to keel-xenstored (or any xenstored)
 * over its Unix socket, or from inside a guest over Linux's xenbus device.  One request at a time per handle; watch events
 * that arrive while a reply is awaited are queued for ks_read_watch().
 * Every function returns 0 or a negative errno (the daemon's error names
 * mapped back to errno values); returned strings are malloc'd.
 */
#ifndef KEEL_KEELSTORE_H
#define KEEL_KEELSTORE_H

#include <stdbool.h>
#include <stdint.h>

#define KS_DEFAULT_SOCKET "/run/keel/xenstored/socket"
#define KS_XENBUS_DEVICE  "/dev/xen/xenbus" /* a guest's own store connection */

typedef uint32_t ks_tx_t;
#define KS_TX_NONE 0u

struct ks_handle;

struct ks_perm {
	uint16_t domid;
	char perm; /* 'r', 'w', 'b' or 'n'; the first entry is the owner */
};

/*
 * Connect to path, or $XENSTORED_PATH, or KS_DEFAULT_SOCKET (path == NULL);
 * a path naming a character device (KS_XENBUS_DEVICE) is a guest's xenbus
 * device, and with nothing named and no default socket, KS_XENBUS_DEVICE
 * when it exists.
 */
int ks_open(const char *path, struct ks_handle **out);
void ks_close(struct ks_handle *h);
int ks_fd(const struct ks_handle *h);

int ks_read(struct ks_handle *h, ks_tx_t tx, const char *path, char **value, unsigned *len);
int ks_write(struct ks_handle *h, ks_tx_t tx, const char *path, const void *value, unsigned len);
int ks_write_str(struct ks_handle *h, ks_tx_t tx, const char *path, const char *value);
int ks_mkdir(struct ks_handle *h, ks_tx_t tx, const char *path);
int ks_rm(struct ks_handle *h, ks_tx_t tx, const char *path);
/* names: one allocation holding the array and the strings; free(*names). */
int ks_directory(struct ks_handle *h, ks_tx_t tx, const char *path, char ***names, unsigned *count);
int ks_get_perms(struct ks_handle *h, ks_tx_t tx, const char *path, struct ks_perm **perms,
		 unsigned *count);
int ks_set_perms(struct ks_handle *h, ks_tx_t tx, const char *path, const struct ks_perm *perms,
		 unsigned count);

int ks_watch(struct ks_handle *h, const char *path, const char *token);
int ks_unwatch(struct ks_handle *h, const char *path, const char *token);
/* Wait up to timeout_ms (-1: forever) for a watch event. -ETIMEDOUT if none. */
int ks_read_watch(struct ks_handle *h, int timeout_ms, char **path, char **token);

int ks_tx_start(struct ks_handle *h, ks_tx_t *tx);
/* commit=false aborts; a conflicting commit returns -EAGAIN: retry the work. */
int ks_tx_end(struct ks_handle *h, ks_tx_t tx, bool commit);

int ks_introduce(struct ks_handle *h, unsigned domid, uint64_t mfn, uint32_t evtchn);
int ks_release(struct ks_handle *h, unsigned domid);
int ks_is_introduced(struct ks_handle *h, unsigned domid, bool *introduced);
int ks_get_domain_path(struct ks_handle *h, unsigned domid, char **path);
int ks_set_target(struct ks_handle *h, unsigned domid, unsigned target);
int ks_resume(struct ks_handle *h, unsigned domid);
/* CONTROL: cmd and up to 8 arguments; the reply text in *out if out. */
int ks_control(struct ks_handle *h, const char *const *argv, unsigned argc, char **out);

/* Any request: payload as given, reply body (NUL-terminated copy) in *reply. */
int ks_request(struct ks_handle *h, uint32_t type, ks_tx_t tx, const void *payload, unsigned len,
	       char **reply, unsigned *reply_len);

#endif
