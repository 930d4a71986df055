/*
 * Keel's libxentoolcore.so.1: the ABI of Xen 4.17's <xentoolcore.h>, for
 * programs built against Xen.  Keel does not restrict handles to a domain
 * (keeld's socket is the privilege boundary), so xentoolcore_restrict_all
 * succeeds without doing anything and says so once on stderr.
 */
#ifndef KEEL_XENTOOLCORE_H
#define KEEL_XENTOOLCORE_H

#include <stdint.h>

#ifndef KEEL_DOMID_T
#define KEEL_DOMID_T
typedef uint16_t domid_t;
#endif

int xentoolcore_restrict_all(domid_t domid);

#endif
