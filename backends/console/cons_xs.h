/*
 * keel-consoled's store side: which domains have a console to serve.
 */
#ifndef KEEL_CONS_XS_H
#define KEEL_CONS_XS_H

#include <stdint.h>

struct ks_handle;
struct cons_server;

/* Watch what announces domains coming and going. */
int cons_xs_watch(struct ks_handle *ks);
/* Serve every domain that has console/port, stop serving those that are gone. */
int cons_xs_rescan(struct cons_server *srv, struct ks_handle *ks, uint16_t self);

/* keel-consoled's loop: store events, then console I/O, until *stop. */
int cons_xs_serve(struct cons_server *srv, struct ks_handle *ks, uint16_t self, volatile int *stop);

#endif
