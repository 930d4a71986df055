/*
 * The client side of keel-consoled's per-domain console socket: what a
 * toolstack backend's console_open (tools/xl/xl_backend.h) returns to xl.
 * The socket is a byte stream: reads carry the guest's output, writes go
 * to the guest's input.  Kept free of other backend code so xl can link it.
 */
#ifndef KEEL_CONS_CLIENT_H
#define KEEL_CONS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rundir/console/<domid>.sock; -ENAMETOOLONG if it does not fit a socket address. */
int cons_socket_path(const char *rundir, uint32_t domid, char *buf, size_t len);
/* Connect to domain @domid's console; *fd is a stream socket (close it to detach). */
int cons_client_open(const char *rundir, uint32_t domid, int *fd);

/*
 * Whether a keel-consoled serves @rundir: it holds an exclusive lock on
 * rundir/console/consoled.lock for as long as it runs (released by the
 * kernel however it ends), so a client can tell "not served yet" (wait for
 * the domain's socket, as xenconsole waits for console/tty) from "nobody
 * will serve it" without a pid file.
 */
bool cons_daemon_alive(const char *rundir);
/* The daemon's side: take that lock (kept open in *fd); -EBUSY if another holds it. */
int cons_daemon_lock(const char *rundir, int *fd);

#endif
