/*
 * The defaults libxl fills in when it creates a domain (its *_setdefault
 * functions), for the fields Keel's domain description has: 32 MiB of
 * memory when none was given, credit weight 256 and no cap; for each vif a
 * random MAC under Xen's OUI 00:16:3e (fourth byte below 0x80), bridge
 * xenbr0, script vif-bridge, MTU 1500, model rtl8139, trusted, and the nic
 * type (emulated for HVM, PV otherwise -- an emulated nic on a PV or PVH
 * guest is refused).  `xl create -n` prints the configuration before these,
 * as xl does; a backend applies them when it builds the domain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "xlcfg.h"

static int set_string_default(char **slot, const char *v)
{
	if (*slot)
		return 0;
	*slot = strdup(v);
	return *slot ? 0 : -ENOMEM;
}

int xlcfg_vif_set_defaults(struct xlcfg_vif *v, enum xlcfg_domain_type type)
{
	int r;

	if (!v->mac_set) {
		uuid_t rnd;

		uuid_generate_random(rnd);
		v->mac[0] = 0x00;
		v->mac[1] = 0x16;
		v->mac[2] = 0x3e;
		v->mac[3] = rnd[0] & 0x7f;
		v->mac[4] = rnd[1];
		v->mac[5] = rnd[2];
		v->mac_set = true;
	}
	if (!v->mtu)
		v->mtu = 1500;
	if ((r = set_string_default(&v->model, "rtl8139")) ||
	    (r = set_string_default(&v->bridge, "xenbr0")) ||
	    (r = set_string_default(&v->script, "vif-bridge")))
		return r;
	if (type == XLCFG_TYPE_HVM) {
		if (!v->nictype)
			v->nictype = 1; /* ioemu */
	} else {
		if (v->nictype == 1)
			return -EINVAL; /* an emulated interface on a PV/PVH guest */
		v->nictype = 2;
	}
	if (v->trusted == XLCFG_DEFAULT)
		v->trusted = XLCFG_TRUE;
	return 0;
}

int xlcfg_domain_set_defaults(struct xlcfg_domain *dom, FILE *report)
{
	if (!dom->max_memkb)
		dom->max_memkb = 32 * 1024;
	if (!dom->target_memkb)
		dom->target_memkb = dom->max_memkb;
	if (dom->cpu_weight < 0)
		dom->cpu_weight = 256;
	if (dom->cap < 0)
		dom->cap = 0;
	if (xlcfg_display_set_defaults(dom, report) < 0)
		return -EINVAL;
	for (int i = 0; i < dom->n_vifs; i++) {
		int r = xlcfg_vif_set_defaults(&dom->vifs[i], dom->type);

		if (r == -EINVAL && report)
			fprintf(report,
				"vif %d: trying to create PV or PVH guest with an emulated "
				"interface\n",
				dom->vifs[i].devid);
		if (r)
			return r;
	}
	return 0;
}
