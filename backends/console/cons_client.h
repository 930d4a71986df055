/*
 * The client side of keel-consoled's per-domain console socket: what a
 * toolstack backend's console_open (tools/xl/xl_backend.h) returns to xl.
 * The socket is a byte stream: reads carry the guest's output, writes go
 * to the guest's input.  Kept free of other backend code so xl can link it.
 */
#ifndef KEEL_CONS_CLIENT_H
#define KEEL_CONS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* rundir/console/<domid>.sock; -ENAMETOOLONG if it does not fit a socket address. */
int cons_socket_path(const char *rundir, uint32_t domid, char *buf, size_t len);
/* Connect to domain @domid's console; *fd is a stream socket (close it to detach). */
int cons_client_open(const char *rundir, uint32_t domid, int *fd);

#endif
