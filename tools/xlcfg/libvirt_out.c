/*
 * The domain description as libvirt domain XML (<domain type='xen'>), the
 * format `virsh domxml-from-native xen-xl` produces: name, uuid, memory and
 * currentMemory in KiB, vcpu (with current=), os (type linux/hvm/xenpvh with
 * machine xenpv/xenfv/xenpvh, kernel, initrd, cmdline, dtb), bootloader,
 * clock, on_poweroff/on_reboot/on_crash, cputune shares, and devices: disks
 * (driver, source, target with its bus, readonly, backenddomain), interfaces
 * (mac, bridge source, ip, script, target, model, backenddomain, mtu) and the
 * PV console.  What libvirt has no element for (cap, on_watchdog,
 * on_soft_reset, disk scripts and flags, vif rates, ...) goes into a Keel
 * namespace under <metadata>, so config -> XML -> config loses nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/tree.h>

#include "xlcfg.h"
#include "xlcfg_libvirt.h"

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void attr(xmlNodePtr n, const char *name, const char *value)
{
	if (value)
		xmlNewProp(n, BAD_CAST name, BAD_CAST value);
}

static void attr_int(xmlNodePtr n, const char *name, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	attr(n, name, buf);
}

static void add_u64(xmlNodePtr parent, const char *name, uint64_t v, const char *unit)
{
	char buf[32];
	xmlNodePtr n;

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	n = add(parent, name, buf);
	if (unit)
		attr(n, "unit", unit);
}

static const char *tristate_str(enum xlcfg_tristate t)
{
	return t == XLCFG_DEFAULT ? NULL : t == XLCFG_TRUE ? "1" : "0";
}

/* libvirt's <on_*> values are xl's spellings, except soft-reset is not one. */
static const char *libvirt_action(enum xlcfg_action a)
{
	return a == XLCFG_ACTION_SOFT_RESET ? NULL : xlcfg_action_cfg_name(a);
}

static const char *disk_bus(const char *vdev)
{
	if (!strncmp(vdev, "hd", 2))
		return "ide";
	if (!strncmp(vdev, "sd", 2))
		return "scsi";
	return "xen";
}

static void disk_xml(xmlNodePtr devs, xmlNodePtr meta, const struct xlcfg_disk *d)
{
	bool block = d->target && !strncmp(d->target, "/dev/", 5);
	xmlNodePtr n = add(devs, "disk", NULL), c;

	attr(n, "type", block ? "block" : "file");
	attr(n, "device", d->is_cdrom ? "cdrom" : "disk");
	c = add(n, "driver", NULL);
	if (d->backendtype == XLCFG_BACKEND_PHY)
		attr(c, "name", "phy");
	else if (d->backendtype == XLCFG_BACKEND_QDISK)
		attr(c, "name", "qemu");
	else if (d->backendtype == XLCFG_BACKEND_TAP)
		attr(c, "name", "tap");
	/* libvirt has no "empty" format: an empty cdrom is one without <source> */
	if (d->format != XLCFG_FORMAT_EMPTY)
		attr(c, "type", xlcfg_disk_format_name(d->format));
	if (d->target && *d->target) {
		c = add(n, "source", NULL);
		attr(c, block ? "dev" : "file", d->target);
	}
	if (d->backend_domname)
		attr(add(n, "backenddomain", NULL), "name", d->backend_domname);
	c = add(n, "target", NULL);
	attr(c, "dev", d->vdev);
	attr(c, "bus", disk_bus(d->vdev));
	if (!d->readwrite)
		add(n, "readonly", NULL);

	/* Keel extras, keyed by vdev. */
	c = xmlNewChild(meta, meta->ns, BAD_CAST "disk", NULL);
	attr(c, "vdev", d->vdev);
	if (d->target && !*d->target)
		attr(c, "empty-target", "1");
	if (d->backendtype == XLCFG_BACKEND_STANDALONE)
		attr(c, "backendtype", "standalone");
	attr(c, "script", d->script);
	if (d->specification)
		attr(c, "specification", d->specification == 1 ? "xen" : "virtio");
	if (d->direct_io_safe)
		attr(c, "direct-io-safe", "1");
	attr(c, "discard", tristate_str(d->discard));
	attr(c, "colo", tristate_str(d->colo));
	attr(c, "trusted", tristate_str(d->trusted));
	attr(c, "grant-usage", tristate_str(d->grant_usage));
	attr(c, "readwrite", d->readwrite ? "1" : "0");
}

static void vif_xml(xmlNodePtr devs, xmlNodePtr meta, const struct xlcfg_vif *v, int index)
{
	xmlNodePtr n = add(devs, "interface", NULL), c;
	char mac[18];

	attr(n, "type", v->bridge ? "bridge" : "ethernet");
	if (v->mac_set) {
		xlcfg_mac_unparse(v->mac, mac);
		attr(add(n, "mac", NULL), "address", mac);
	}
	if (v->bridge)
		attr(add(n, "source", NULL), "bridge", v->bridge);
	if (v->ip) {
		/* xl's ip= may list several addresses separated by spaces */
		char *copy = strdup(v->ip), *save = NULL, *w;

		for (w = copy ? strtok_r(copy, " ", &save) : NULL; w;
		     w = strtok_r(NULL, " ", &save))
			attr(add(n, "ip", NULL), "address", w);
		free(copy);
	}
	if (v->script)
		attr(add(n, "script", NULL), "path", v->script);
	if (v->vifname)
		attr(add(n, "target", NULL), "dev", v->vifname);
	if (v->model)
		attr(add(n, "model", NULL), "type", v->model);
	if (v->backend_domname)
		attr(add(n, "backenddomain", NULL), "name", v->backend_domname);
	if (v->mtu)
		attr_int(add(n, "mtu", NULL), "size", v->mtu);
	if (v->rate_interval_usecs) {
		/* libvirt: average in KiB/s (approximate; the exact rate is in metadata) */
		uint64_t bps = v->rate_bytes_per_interval * 1000000 / v->rate_interval_usecs;

		c = add(n, "bandwidth", NULL);
		attr_int(add(c, "outbound", NULL), "average",
			 (long long)(bps / 1024 ? bps / 1024 : 1));
	}

	c = xmlNewChild(meta, meta->ns, BAD_CAST "vif", NULL);
	attr_int(c, "index", index);
	attr_int(c, "devid", v->devid);
	if (v->rate_interval_usecs) {
		attr_int(c, "rate-bytes-per-interval", (long long)v->rate_bytes_per_interval);
		attr_int(c, "rate-interval-usecs", v->rate_interval_usecs);
	}
	attr(c, "gatewaydev", v->gatewaydev);
	attr(c, "vlan", v->vlan);
	if (v->nictype)
		attr(c, "type", v->nictype == 2 ? "vif" : "ioemu");
	attr(c, "trusted", tristate_str(v->trusted));
	if (v->ip)
		attr(c, "ip", v->ip);
}

static void meta_value(xmlNodePtr meta, const char *name, const char *v)
{
	if (v)
		xmlNewTextChild(meta, meta->ns, BAD_CAST name, BAD_CAST v);
}

static void meta_int(xmlNodePtr meta, const char *name, long long v)
{
	char buf[32];

	if (v < 0)
		return;
	snprintf(buf, sizeof(buf), "%lld", v);
	meta_value(meta, name, buf);
}

static void meta_list(xmlNodePtr meta, const char *name, char *const *v, int n)
{
	xmlNodePtr l;

	if (!n)
		return;
	l = xmlNewChild(meta, meta->ns, BAD_CAST name, NULL);
	for (int i = 0; i < n; i++)
		xmlNewTextChild(l, meta->ns, BAD_CAST "arg", BAD_CAST v[i]);
}

int xlcfg_domain_to_libvirt(const struct xlcfg_domain *d, FILE *out)
{
	static const char *const os_type[] = {"linux", "xenpvh", "hvm"};
	static const char *const machine[] = {"xenpv", "xenpvh", "xenfv"};
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root, n, devs, md, meta;
	xmlNsPtr ns;
	xmlChar *mem = NULL;
	char buf[64];
	int len = 0, r = 0;

	if (!doc)
		return -ENOMEM;
	root = xmlNewNode(NULL, BAD_CAST "domain");
	xmlDocSetRootElement(doc, root);
	attr(root, "type", "xen");
	add(root, "name", d->name);
	xlcfg_uuid_unparse(d->uuid, buf);
	add(root, "uuid", buf);
	if (d->max_memkb)
		add_u64(root, "memory", d->max_memkb, "KiB");
	if (d->target_memkb)
		add_u64(root, "currentMemory", d->target_memkb, "KiB");
	snprintf(buf, sizeof(buf), "%d", d->max_vcpus);
	n = add(root, "vcpu", buf);
	attr(n, "placement", "static");
	if (d->vcpus != d->max_vcpus)
		attr_int(n, "current", d->vcpus);
	if (d->bootloader)
		add(root, "bootloader", d->bootloader);
	if (d->n_bootloader_args) {
		/* libvirt keeps one string; the exact list is in metadata */
		size_t total = 1;
		char *joined;

		for (int i = 0; i < d->n_bootloader_args; i++)
			total += strlen(d->bootloader_args[i]) + 1;
		joined = calloc(1, total);
		for (int i = 0; joined && i < d->n_bootloader_args; i++) {
			if (i)
				strcat(joined, " ");
			strcat(joined, d->bootloader_args[i]);
		}
		if (joined)
			add(root, "bootloader_args", joined);
		free(joined);
	}
	n = add(root, "os", NULL);
	{
		xmlNodePtr t = add(n, "type", os_type[d->type]);

		attr(t, "arch", "x86_64");
		attr(t, "machine", machine[d->type]);
	}
	if (d->kernel)
		add(n, "kernel", d->kernel);
	if (d->ramdisk)
		add(n, "initrd", d->ramdisk);
	if (d->cmdline)
		add(n, "cmdline", d->cmdline);
	if (d->device_tree)
		add(n, "dtb", d->device_tree);
	if (d->acpi == XLCFG_TRUE)
		add(add(root, "features", NULL), "acpi", NULL);
	if (d->localtime != XLCFG_DEFAULT)
		attr(add(root, "clock", NULL), "offset",
		     d->localtime == XLCFG_TRUE ? "localtime" : "utc");
	if (d->cpu_weight >= 0) {
		snprintf(buf, sizeof(buf), "%d", d->cpu_weight);
		add(add(root, "cputune", NULL), "shares", buf);
	}
	if (libvirt_action(d->on_poweroff))
		add(root, "on_poweroff", libvirt_action(d->on_poweroff));
	if (libvirt_action(d->on_reboot))
		add(root, "on_reboot", libvirt_action(d->on_reboot));
	if (libvirt_action(d->on_crash))
		add(root, "on_crash", libvirt_action(d->on_crash));

	md = add(root, "metadata", NULL);
	meta = xmlNewNode(NULL, BAD_CAST "xl");
	ns = xmlNewNs(meta, BAD_CAST XLCFG_LIBVIRT_NS, BAD_CAST "keel");
	xmlSetNs(meta, ns);
	xmlAddChild(md, meta);
	meta_value(meta, "on_poweroff", xlcfg_action_cfg_name(d->on_poweroff));
	meta_value(meta, "on_reboot", xlcfg_action_cfg_name(d->on_reboot));
	meta_value(meta, "on_crash", xlcfg_action_cfg_name(d->on_crash));
	meta_value(meta, "on_watchdog", xlcfg_action_cfg_name(d->on_watchdog));
	meta_value(meta, "on_soft_reset", xlcfg_action_cfg_name(d->on_soft_reset));
	meta_int(meta, "cap", d->cap);
	meta_int(meta, "max_grant_frames", d->max_grant_frames);
	meta_int(meta, "max_maptrack_frames", d->max_maptrack_frames);
	meta_int(meta, "max_event_channels", d->max_event_channels);
	meta_value(meta, "nomigrate", tristate_str(d->nomigrate));
	meta_value(meta, "driver_domain", tristate_str(d->driver_domain));
	meta_value(meta, "acpi", tristate_str(d->acpi));
	meta_list(meta, "bootloader_args", d->bootloader_args, d->n_bootloader_args);
	meta_list(meta, "serial", d->serial, d->n_serial);
	/* the device model's and HVM platform's keys (dm.c) */
	meta_value(meta, "device_model_override", d->dm_override);
	meta_list(meta, "device_model_args", d->dm_args, d->n_dm_args);
	meta_list(meta, "device_model_args_hvm", d->dm_args_hvm, d->n_dm_args_hvm);
	meta_value(meta, "usb", tristate_str(d->usb));
	meta_list(meta, "usbdevice", d->usbdevice, d->n_usbdevice);
	if (d->usbversion)
		meta_int(meta, "usbversion", d->usbversion);
	meta_value(meta, "firmware_override", d->hvm_firmware);
	meta_value(meta, "bios_path_override", d->bios_path);
	meta_value(meta, "hpet", tristate_str(d->hpet));
	meta_value(meta, "apic", tristate_str(d->apic));
	meta_value(meta, "pae", tristate_str(d->pae));
	meta_value(meta, "nx", tristate_str(d->nx));
	meta_value(meta, "viridian", tristate_str(d->viridian));

	devs = add(root, "devices", NULL);
	for (int i = 0; i < d->n_disks; i++)
		disk_xml(devs, meta, &d->disks[i]);
	for (int i = 0; i < d->n_vifs; i++)
		vif_xml(devs, meta, &d->vifs[i], i);
	n = add(devs, "console", NULL);
	attr(n, "type", "pty");
	n = add(n, "target", NULL);
	attr(n, "type", "xen");
	attr(n, "port", "0");

	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (!mem) {
		r = -ENOMEM;
	} else {
		/* drop the XML declaration: virsh prints bare <domain> */
		const char *s = (const char *)mem;
		const char *body = strstr(s, "?>\n");

		fputs(body ? body + 3 : s, out);
		if (ferror(out))
			r = -EIO;
	}
	xmlFree(mem);
	xmlFreeDoc(doc);
	return r;
}
