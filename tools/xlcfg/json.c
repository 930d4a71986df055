/*
 * The domain description as JSON in the shape `xl create -n` prints: libxl's
 * domain_config object -- "c_info", "b_info" (with a "type.pv"/"type.pvh"/
 * "type.hvm" member), "disks", "nics", then the on_* actions -- using libxl's
 * field names, its lower-case enum spellings ("pv", "raw", "soft_reset"),
 * "True"/"False" for booleans that may be unset, and libxl's 4-space pretty
 * layout.  Like libxl, fields left at their default are omitted; unlike it,
 * the five on_* actions are always printed.  Only the fields Keel implements
 * appear (see tools/xlcfg/README.md).  `xl list -l` wraps each domain as
 * {"domid": N, "config": {...}} in an array, as xl does.
 */
#include <errno.h>
#include <string.h>

#include "xlcfg.h"

#define JSON_MAX_DEPTH 8

struct json {
	FILE *out;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
};

static void json_indent(struct json *j)
{
	for (int i = 0; i < j->depth; i++)
		fputs("    ", j->out);
}

static void json_string(struct json *j, const char *s)
{
	fputc('"', j->out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(j->out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", j->out);
		else if (*p == '\t')
			fputs("\\t", j->out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(j->out, "\\u%04x", *p);
		else
			fputc(*p, j->out);
	}
	fputc('"', j->out);
}

/* Start a member (key may be NULL inside arrays). */
static void json_member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	fputc('\n', j->out);
	j->first[j->depth] = false;
	json_indent(j);
	if (key) {
		json_string(j, key);
		fputs(": ", j->out);
	}
}

static void json_open(struct json *j, const char *key, char brace)
{
	if (key || j->depth)
		json_member(j, key);
	fputc(brace, j->out);
	j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char brace)
{
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty) {
		fputc('\n', j->out);
		json_indent(j);
	}
	fputc(brace, j->out);
}

static void json_str(struct json *j, const char *key, const char *v)
{
	if (!v)
		return;
	json_member(j, key);
	json_string(j, v);
}

static void json_int(struct json *j, const char *key, long long v)
{
	json_member(j, key);
	fprintf(j->out, "%lld", v);
}

static void json_defbool(struct json *j, const char *key, enum xlcfg_tristate v)
{
	if (v == XLCFG_DEFAULT)
		return;
	json_str(j, key, v == XLCFG_TRUE ? "True" : "False");
}

static void json_strv(struct json *j, const char *key, char *const *v, int n)
{
	if (!n)
		return;
	json_open(j, key, '[');
	for (int i = 0; i < n; i++)
		json_str(j, NULL, v[i]);
	json_close(j, ']');
}

/* libxl spells actions with underscores: "rename-restart" is "restart_rename". */
static const char *json_action(enum xlcfg_action a)
{
	static const char *const names[] = {
		[XLCFG_ACTION_DESTROY] = "destroy",
		[XLCFG_ACTION_RESTART] = "restart",
		[XLCFG_ACTION_RESTART_RENAME] = "restart_rename",
		[XLCFG_ACTION_PRESERVE] = "preserve",
		[XLCFG_ACTION_COREDUMP_DESTROY] = "coredump_destroy",
		[XLCFG_ACTION_COREDUMP_RESTART] = "coredump_restart",
		[XLCFG_ACTION_SOFT_RESET] = "soft_reset",
	};
	return (a >= XLCFG_ACTION_DESTROY && a <= XLCFG_ACTION_SOFT_RESET) ? names[a] : "destroy";
}

static void json_disk(struct json *j, const struct xlcfg_disk *d)
{
	json_open(j, NULL, '{');
	json_str(j, "backend_domname", d->backend_domname);
	json_str(j, "pdev_path", d->target);
	json_str(j, "vdev", d->vdev);
	if (d->backendtype != XLCFG_BACKEND_UNKNOWN)
		json_str(j, "backend", xlcfg_disk_backend_name(d->backendtype));
	json_str(j, "format", xlcfg_disk_format_name(d->format));
	json_str(j, "script", d->script);
	if (d->removable)
		json_int(j, "removable", 1);
	if (d->readwrite)
		json_int(j, "readwrite", 1); /* libxl omits integers left at 0 */
	if (d->is_cdrom)
		json_int(j, "is_cdrom", 1);
	if (d->direct_io_safe) {
		json_member(j, "direct_io_safe");
		fputs("true", j->out);
	}
	json_defbool(j, "discard_enable", d->discard);
	if (d->specification)
		json_str(j, "specification", d->specification == 1 ? "xen" : "virtio");
	json_defbool(j, "colo_enable", d->colo);
	json_defbool(j, "trusted", d->trusted);
	json_defbool(j, "grant_usage", d->grant_usage);
	json_close(j, '}');
}

static void json_nic(struct json *j, const struct xlcfg_vif *v)
{
	char mac[18];

	json_open(j, NULL, '{');
	json_str(j, "backend_domname", v->backend_domname);
	json_int(j, "devid", v->devid);
	if (v->mtu)
		json_int(j, "mtu", v->mtu);
	json_str(j, "vlan", v->vlan);
	json_str(j, "model", v->model);
	if (v->mac_set) {
		xlcfg_mac_unparse(v->mac, mac);
		json_str(j, "mac", mac);
	}
	json_str(j, "ip", v->ip);
	json_str(j, "bridge", v->bridge);
	json_str(j, "ifname", v->vifname);
	json_str(j, "script", v->script);
	if (v->nictype)
		json_str(j, "nictype", v->nictype == 2 ? "vif" : "vif_ioemu");
	if (v->rate_interval_usecs) {
		json_int(j, "rate_bytes_per_interval", (long long)v->rate_bytes_per_interval);
		json_int(j, "rate_interval_usecs", v->rate_interval_usecs);
	}
	json_str(j, "gatewaydev", v->gatewaydev);
	json_defbool(j, "trusted", v->trusted);
	json_close(j, '}');
}

static void json_b_info(struct json *j, const struct xlcfg_domain *d)
{
	json_open(j, "b_info", '{');
	json_int(j, "max_vcpus", d->max_vcpus);
	json_open(j, "avail_vcpus", '[');
	for (int i = 0; i < d->vcpus; i++) {
		json_member(j, NULL);
		fprintf(j->out, "%d", i);
	}
	json_close(j, ']');
	if (d->max_memkb)
		json_int(j, "max_memkb", (long long)d->max_memkb);
	if (d->target_memkb)
		json_int(j, "target_memkb", (long long)d->target_memkb);
	if (d->video_memkb >= 0 && d->type == XLCFG_TYPE_HVM)
		json_int(j, "video_memkb", (long long)d->video_memkb);
	json_defbool(j, "localtime", d->localtime);
	json_defbool(j, "disable_migrate", d->nomigrate);
	if (d->max_grant_frames >= 0)
		json_int(j, "max_grant_frames", d->max_grant_frames);
	if (d->max_maptrack_frames >= 0)
		json_int(j, "max_maptrack_frames", d->max_maptrack_frames);
	if (d->cpu_weight >= 0 || d->cap >= 0) {
		json_open(j, "sched_params", '{');
		if (d->cpu_weight >= 0)
			json_int(j, "weight", d->cpu_weight);
		if (d->cap >= 0)
			json_int(j, "cap", d->cap);
		json_close(j, '}');
	}
	if (d->max_event_channels >= 0)
		json_int(j, "event_channels", d->max_event_channels);
	json_str(j, "kernel", d->kernel);
	json_str(j, "cmdline", d->cmdline);
	json_str(j, "ramdisk", d->ramdisk);
	json_str(j, "device_tree", d->device_tree);
	json_defbool(j, "acpi", d->acpi);
	json_str(j, "bootloader", d->bootloader);
	json_strv(j, "bootloader_args", d->bootloader_args, d->n_bootloader_args);
	/* the device model's keys (libxl's device_model, extra, extra_hvm) */
	json_str(j, "device_model", d->dm_override);
	json_strv(j, "extra", d->dm_args, d->n_dm_args);
	json_strv(j, "extra_hvm", d->dm_args_hvm, d->n_dm_args_hvm);
	json_defbool(j, "apic", d->apic);
	if (d->type == XLCFG_TYPE_HVM) {
		json_open(j, "type.hvm", '{');
		json_str(j, "firmware", d->hvm_firmware);
		json_str(j, "system_firmware", d->bios_path);
		json_defbool(j, "pae", d->pae);
		json_defbool(j, "nx", d->nx);
		json_defbool(j, "viridian", d->viridian);
		json_defbool(j, "hpet", d->hpet);
		json_defbool(j, "usb", d->usb);
		if (d->usbversion)
			json_int(j, "usbversion", d->usbversion);
		json_strv(j, "usbdevice_list", d->usbdevice, d->n_usbdevice);
		if (d->n_serial == 1)
			json_str(j, "serial", d->serial[0]);
		else
			json_strv(j, "serial_list", d->serial, d->n_serial);
		if (d->vga != XLCFG_VGA_DEFAULT) {
			json_open(j, "vga", '{');
			json_str(j, "kind", xlcfg_vga_name(d->vga));
			json_close(j, '}');
		}
		if (d->vnc != XLCFG_DEFAULT || d->vnclisten || d->vncpasswd || d->vncdisplay ||
		    d->vncunused != XLCFG_DEFAULT) {
			json_open(j, "vnc", '{');
			json_defbool(j, "enable", d->vnc);
			json_str(j, "listen", d->vnclisten);
			json_str(j, "passwd", d->vncpasswd);
			if (d->vncdisplay)
				json_int(j, "display", d->vncdisplay);
			json_defbool(j, "findunused", d->vncunused);
			json_close(j, '}');
		}
		json_defbool(j, "nographic", d->nographic);
		json_close(j, '}');
	} else {
		json_open(j, d->type == XLCFG_TYPE_PVH ? "type.pvh" : "type.pv", '{');
		json_close(j, '}');
	}
	json_close(j, '}');
}

/* The domain_config object, opened as a member @key of the current object (or bare). */
static void json_domain(struct json *j, const char *key, const struct xlcfg_domain *d)
{
	char uuid[37];

	json_open(j, key, '{');
	json_open(j, "c_info", '{');
	json_str(j, "type", xlcfg_type_name(d->type));
	json_str(j, "name", d->name);
	xlcfg_uuid_unparse(d->uuid, uuid);
	json_str(j, "uuid", uuid);
	json_defbool(j, "driver_domain", d->driver_domain);
	json_close(j, '}');
	json_b_info(j, d);
	if (d->n_disks) {
		json_open(j, "disks", '[');
		for (int i = 0; i < d->n_disks; i++)
			json_disk(j, &d->disks[i]);
		json_close(j, ']');
	}
	if (d->n_vifs) {
		json_open(j, "nics", '[');
		for (int i = 0; i < d->n_vifs; i++)
			json_nic(j, &d->vifs[i]);
		json_close(j, ']');
	}
	json_str(j, "on_poweroff", json_action(d->on_poweroff));
	json_str(j, "on_reboot", json_action(d->on_reboot));
	json_str(j, "on_watchdog", json_action(d->on_watchdog));
	json_str(j, "on_crash", json_action(d->on_crash));
	json_str(j, "on_soft_reset", json_action(d->on_soft_reset));
	json_close(j, '}');
}

int xlcfg_domain_to_json(const struct xlcfg_domain *d, FILE *out)
{
	struct json j = {.out = out, .depth = 0};

	j.first[0] = true;
	json_domain(&j, NULL, d);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int xlcfg_domains_to_json(int n, const uint32_t *domids, const struct xlcfg_domain *doms, FILE *out)
{
	struct json j = {.out = out, .depth = 0};

	j.first[0] = true;
	json_open(&j, NULL, '[');
	for (int i = 0; i < n; i++) {
		json_open(&j, NULL, '{');
		json_int(&j, "domid", domids[i]);
		json_domain(&j, "config", &doms[i]);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
