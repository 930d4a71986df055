/*
 * Shared by Keel's libxenctrl and libxendevicemodel (not part of any Xen
 * ABI): what Xen's hypercalls look at first in their target domain, asked
 * of keeld.
 */
#ifndef KEEL_XENLIBS_DOMAIN_H
#define KEEL_XENLIBS_DOMAIN_H

#include <stdint.h>

#include "../../libkeelctl/keelctl.h"

/* 1: an HVM domain (Xen's is_hvm_domain), 0: any other kind (PV), or a
 * negative errno (-ESRCH: no such domain). */
static inline int xenlibs_domain_is_hvm(struct keelctl *ctl, uint32_t domid)
{
	struct keelctl_dominfo info;
	int r = keelctl_domain_getinfo(ctl, domid, &info);

	if (r < 0)
		return r;
	return (info.flags & KEELCTL_DOMINFO_HVM) != 0;
}

#endif
