/*
 * The handle registry Xen's own libraries share through libxentoolcore
 * (xentoolcore__*): exported with VERS_1.0 because Xen's libxen* link to
 * it, so the layout of the registered struct is ABI too: a callback, then
 * a doubly linked list entry (next, then the address of the previous
 * entry's next).
 */
#ifndef KEEL_XENTOOLCORE_INTERNAL_H
#define KEEL_XENTOOLCORE_INTERNAL_H

#include <stddef.h>

#include "xentoolcore.h"

typedef struct xentoolcore__active_handle Xentoolcore__Active_Handle;
typedef int Xentoolcore__Restrict_Callback(Xentoolcore__Active_Handle *ah, domid_t domid);

struct xentoolcore__active_handle {
	Xentoolcore__Restrict_Callback *restrict_callback;
	struct {
		Xentoolcore__Active_Handle *next;
		Xentoolcore__Active_Handle **prev_next;
	} entry;
};

_Static_assert(sizeof(Xentoolcore__Active_Handle) == 24, "Xentoolcore__Active_Handle");
_Static_assert(offsetof(Xentoolcore__Active_Handle, entry) == 8, "Xentoolcore__Active_Handle");

void xentoolcore__register_active_handle(Xentoolcore__Active_Handle *ah);
void xentoolcore__deregister_active_handle(Xentoolcore__Active_Handle *ah);
/* Point fd at /dev/null (what a restrict callback does to a handle it
 * cannot restrict otherwise); 0, or -1 with errno. */
int xentoolcore__restrict_by_dup2_null(int fd);

#endif
