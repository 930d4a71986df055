/*
 * Keel's extras in a libvirt document's <metadata>: the exact values libvirt
 * has no element for (cap, on_watchdog, on_soft_reset, grant limits, vif
 * rates and devids, disk scripts and flags, argument lists, the device
 * model's and HVM platform's keys).  They are
 * written by libvirt_out.c and make config -> XML -> config lossless; a
 * document without them (from virsh) simply keeps the defaults.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg_libvirt.h"

/* Keel's metadata: exact values libvirt has no element for. */
static void read_meta_disk(struct lv_ctx *lc, xmlNodePtr n)
{
	struct xlcfg_domain *d = lc->dom;
	char *vdev = lv_attr(n, "vdev"), *s;
	struct xlcfg_disk *k = NULL;

	for (int i = 0; vdev && i < d->n_disks; i++)
		if (d->disks[i].vdev && !strcmp(d->disks[i].vdev, vdev))
			k = &d->disks[i];
	free(vdev);
	if (!k)
		return;
	if ((s = lv_attr(n, "empty-target")) && !k->target)
		k->target = strdup("");
	free(s);
	if ((s = lv_attr(n, "backendtype")) && !strcmp(s, "standalone"))
		k->backendtype = XLCFG_BACKEND_STANDALONE;
	free(s);
	lv_replace(&k->script, lv_attr(n, "script"));
	if ((s = lv_attr(n, "specification")))
		k->specification = !strcmp(s, "virtio") ? 2 : 1;
	free(s);
	if ((s = lv_attr(n, "direct-io-safe")))
		k->direct_io_safe = !strcmp(s, "1");
	free(s);
	static const struct {
		const char *name;
		size_t off;
	} tri[] = {
		{"discard", offsetof(struct xlcfg_disk, discard)},
		{"colo", offsetof(struct xlcfg_disk, colo)},
		{"trusted", offsetof(struct xlcfg_disk, trusted)},
		{"grant-usage", offsetof(struct xlcfg_disk, grant_usage)},
	};
	for (size_t i = 0; i < sizeof(tri) / sizeof(tri[0]); i++) {
		s = lv_attr(n, tri[i].name);
		if (lv_tristate(s, (enum xlcfg_tristate *)((char *)k + tri[i].off)) < 0)
			lv_error(lc, n, "<keel:disk %s='%s'>: expected 0 or 1", tri[i].name, s);
		free(s);
	}
	if ((s = lv_attr(n, "readwrite")))
		k->readwrite = !strcmp(s, "1");
	free(s);
}

static void read_meta_vif(struct lv_ctx *lc, xmlNodePtr n)
{
	struct xlcfg_domain *d = lc->dom;
	long long idx = -1, x;
	struct xlcfg_vif *v;
	char *s;

	if (lv_attr_int(lc, n, "index", INT_MAX, &idx) != 0 || idx >= d->n_vifs)
		return;
	v = &d->vifs[idx];
	if (lv_attr_int(lc, n, "devid", INT_MAX, &x) == 0)
		v->devid = (int)x;
	if (lv_attr_int(lc, n, "rate-interval-usecs", UINT32_MAX, &x) == 0 && x > 0) {
		v->rate_interval_usecs = (uint32_t)x;
		v->rate_bytes_per_interval = 0;
		if (lv_attr_int(lc, n, "rate-bytes-per-interval", LLONG_MAX, &x) == 0)
			v->rate_bytes_per_interval = (uint64_t)x;
	}
	lv_replace(&v->gatewaydev, lv_attr(n, "gatewaydev"));
	lv_replace(&v->vlan, lv_attr(n, "vlan"));
	if ((s = lv_attr(n, "ip")))
		lv_replace(&v->ip, s);
	if ((s = lv_attr(n, "type")))
		v->nictype = !strcmp(s, "vif") ? 2 : 1;
	free(s);
	s = lv_attr(n, "trusted");
	if (lv_tristate(s, &v->trusted) < 0)
		lv_error(lc, n, "<keel:vif trusted='%s'>: expected 0 or 1", s);
	free(s);
}

static int meta_list(xmlNodePtr n, char ***out, int *count)
{
	int cnt = 0;

	for (xmlNodePtr c = n->children; c; c = c->next)
		cnt += lv_is(c, "arg");
	char **v = calloc((size_t)cnt + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	cnt = 0;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (lv_is(c, "arg")) {
			xmlChar *t = xmlNodeGetContent(c);

			v[cnt++] = strdup(t ? (const char *)t : "");
			xmlFree(t);
		}
	for (int i = 0; i < *count; i++)
		free((*out)[i]);
	free(*out);
	*out = v;
	*count = cnt;
	return 0;
}

void lv_read_metadata(struct lv_ctx *lc, xmlNodePtr md)
{
	struct xlcfg_domain *d = lc->dom;

	for (xmlNodePtr x = md->children; x; x = x->next) {
		if (!lv_is(x, "xl") || !x->ns ||
		    strcmp((const char *)x->ns->href, XLCFG_LIBVIRT_NS))
			continue;
		for (xmlNodePtr c = x->children; c; c = c->next) {
			char *t;

			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (lv_is(c, "on_poweroff"))
				lv_action(lc, c, &d->on_poweroff);
			else if (lv_is(c, "on_reboot"))
				lv_action(lc, c, &d->on_reboot);
			else if (lv_is(c, "on_crash"))
				lv_action(lc, c, &d->on_crash);
			else if (lv_is(c, "on_watchdog"))
				lv_action(lc, c, &d->on_watchdog);
			else if (lv_is(c, "on_soft_reset"))
				lv_action(lc, c, &d->on_soft_reset);
			else if (lv_is(c, "disk"))
				read_meta_disk(lc, c);
			else if (lv_is(c, "vif"))
				read_meta_vif(lc, c);
			else if (lv_is(c, "bootloader_args"))
				meta_list(c, &d->bootloader_args, &d->n_bootloader_args);
			else if (lv_is(c, "serial"))
				meta_list(c, &d->serial, &d->n_serial);
			else if (lv_is(c, "device_model_args"))
				meta_list(c, &d->dm_args, &d->n_dm_args);
			else if (lv_is(c, "device_model_args_hvm"))
				meta_list(c, &d->dm_args_hvm, &d->n_dm_args_hvm);
			else if (lv_is(c, "usbdevice"))
				meta_list(c, &d->usbdevice, &d->n_usbdevice);
			else if (lv_is(c, "device_model_override"))
				lv_replace(&d->dm_override, lv_text(c));
			else if (lv_is(c, "firmware_override"))
				lv_replace(&d->hvm_firmware, lv_text(c));
			else if (lv_is(c, "bios_path_override"))
				lv_replace(&d->bios_path, lv_text(c));
			else {
				t = lv_text(c);
				unsigned long long u;
				enum xlcfg_tristate *tri = lv_is(c, "nomigrate") ? &d->nomigrate
							   : lv_is(c, "driver_domain")
								   ? &d->driver_domain
							   : lv_is(c, "acpi")	  ? &d->acpi
							   : lv_is(c, "usb")	  ? &d->usb
							   : lv_is(c, "hpet")	  ? &d->hpet
							   : lv_is(c, "apic")	  ? &d->apic
							   : lv_is(c, "pae")	  ? &d->pae
							   : lv_is(c, "nx")	  ? &d->nx
							   : lv_is(c, "viridian") ? &d->viridian
										  : NULL;
				int *num = lv_is(c, "cap")		  ? &d->cap
					   : lv_is(c, "max_grant_frames") ? &d->max_grant_frames
					   : lv_is(c, "max_maptrack_frames")
						   ? &d->max_maptrack_frames
					   : lv_is(c, "max_event_channels") ? &d->max_event_channels
					   : lv_is(c, "usbversion")	    ? &d->usbversion
									    : NULL;
				if (tri && lv_tristate(t, tri) < 0)
					lv_error(lc, c, "<keel:%s>: expected 0 or 1", c->name);
				if (num) {
					if (lv_parse_ull(t, INT_MAX, &u) < 0)
						lv_error(lc, c, "<keel:%s>: not a valid number",
							 c->name);
					else
						*num = (int)u;
				}
				free(t);
			}
		}
	}
}
