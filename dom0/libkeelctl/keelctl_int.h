/*
 * libkeelctl's internal seam: one request/answer round trip, shared by the
 * library's files (keelctl.c, keelctl_xl.c).  Not for dom0 programs.
 */
#ifndef KEEL_KEELCTL_INT_H
#define KEEL_KEELCTL_INT_H

#include <stdint.h>

struct keelctl;

/* Send op (with up to two fds) and wait for the answer: its status, and
 * the payload through *payload / *plen (valid until the next call). */
int keelctl_call(struct keelctl *h, uint32_t op, uint32_t domid, const void *data, uint32_t len,
		 const int *fds, int nfds, const void **payload, uint32_t *plen);

#endif
