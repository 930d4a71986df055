/*
 * The domain description written back as xl.cfg text, so a domain that came
 * from libvirt XML can be handed to xl users (`xl domxml-to-native`).  The
 * output uses only what the parser accepts: quoted strings with escapes,
 * numbers, lists; disks as keyword specs with target= last (so any path
 * works); vifs as key=value specs.  A value a spec cannot carry (a comma in a
 * vif setting or a disk keyword value) is refused with -EINVAL rather than
 * written wrongly.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "xlcfg.h"

static void cfg_quote(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void cfg_str(FILE *out, const char *key, const char *v)
{
	if (!v)
		return;
	fprintf(out, "%s = ", key);
	cfg_quote(out, v);
	fputc('\n', out);
}

static void cfg_strv(FILE *out, const char *key, char *const *v, int n)
{
	if (!n)
		return;
	fprintf(out, "%s = [", key);
	for (int i = 0; i < n; i++) {
		fputs(i ? ", " : " ", out);
		cfg_quote(out, v[i]);
	}
	fputs(" ]\n", out);
}

/* A key xl takes as one string or a list of them, written back in its form. */
static void cfg_sets(FILE *out, const char *key, char *const *v, int n, bool list)
{
	if (list)
		cfg_strv(out, key, v, n);
	else if (n)
		cfg_str(out, key, v[0]);
}

static void cfg_tristate(FILE *out, const char *key, enum xlcfg_tristate v)
{
	if (v != XLCFG_DEFAULT)
		fprintf(out, "%s = %d\n", key, v == XLCFG_TRUE);
}

/* Append ",key=value" to a spec buffer; values may not hold ','. */
static int spec_add(char *buf, size_t len, const char *key, const char *v)
{
	size_t used = strlen(buf);

	if (!v)
		return 0;
	if (strchr(v, ','))
		return -EINVAL;
	if (snprintf(buf + used, len - used, "%s%s%s%s", used ? ", " : "", key, v ? "=" : "", v) >=
	    (int)(len - used))
		return -ENAMETOOLONG;
	return 0;
}

static int spec_flag(char *buf, size_t len, const char *flag)
{
	size_t used = strlen(buf);

	if (snprintf(buf + used, len - used, "%s%s", used ? ", " : "", flag) >= (int)(len - used))
		return -ENAMETOOLONG;
	return 0;
}

static int disk_spec(const struct xlcfg_disk *d, char *buf, size_t len)
{
	static const char *const spec_names[] = {NULL, "xen", "virtio"};
	int r = 0;

	buf[0] = 0;
	r |= spec_add(buf, len, "format", xlcfg_disk_format_name(d->format));
	r |= spec_add(buf, len, "vdev", d->vdev);
	r |= spec_add(buf, len, "access", d->readwrite ? "rw" : "ro");
	if (d->is_cdrom)
		r |= spec_add(buf, len, "devtype", "cdrom");
	r |= spec_add(buf, len, "backend", d->backend_domname);
	if (d->backendtype != XLCFG_BACKEND_UNKNOWN)
		r |= spec_add(buf, len, "backendtype", xlcfg_disk_backend_name(d->backendtype));
	r |= spec_add(buf, len, "script", d->script);
	if (d->specification)
		r |= spec_add(buf, len, "specification", spec_names[d->specification]);
	if (d->direct_io_safe)
		r |= spec_flag(buf, len, "direct-io-safe");
	if (d->discard != XLCFG_DEFAULT)
		r |= spec_flag(buf, len, d->discard == XLCFG_TRUE ? "discard" : "no-discard");
	if (d->colo != XLCFG_DEFAULT)
		r |= spec_flag(buf, len, d->colo == XLCFG_TRUE ? "colo" : "no-colo");
	if (d->trusted != XLCFG_DEFAULT)
		r |= spec_flag(buf, len, d->trusted == XLCFG_TRUE ? "trusted" : "untrusted");
	if (d->grant_usage != XLCFG_DEFAULT)
		r |= spec_add(buf, len, "grant_usage", d->grant_usage == XLCFG_TRUE ? "1" : "0");
	if (r)
		return -EINVAL;
	if (d->target) {
		/* target= takes the rest of the spec, commas included */
		size_t used = strlen(buf);

		if (snprintf(buf + used, len - used, ", target=%s", d->target) >= (int)(len - used))
			return -ENAMETOOLONG;
	}
	return 0;
}

/* bytes per interval back to a rate the vif parser turns into the same numbers. */
static int vif_rate(const struct xlcfg_vif *v, char *buf, size_t len)
{
	uint64_t i = v->rate_interval_usecs, bpi = v->rate_bytes_per_interval;
	uint64_t rate = (bpi * 1000000 + i - 1) / i;

	if (bpi > UINT64_MAX / 1000000 || rate == 0 || rate > UINT32_MAX)
		return -EINVAL;
	if (rate * i / 1000000 != bpi)
		return -EINVAL;
	snprintf(buf, len, "%" PRIu64 "B/s@%" PRIu64 "us", rate, i);
	return 0;
}

static int vif_spec(const struct xlcfg_vif *v, char *buf, size_t len)
{
	char tmp[64];
	int r = 0;

	buf[0] = 0;
	snprintf(tmp, sizeof(tmp), "%d", v->devid);
	r |= spec_add(buf, len, "devid", tmp);
	if (v->mac_set) {
		xlcfg_mac_unparse(v->mac, tmp);
		r |= spec_add(buf, len, "mac", tmp);
	}
	r |= spec_add(buf, len, "bridge", v->bridge);
	r |= spec_add(buf, len, "ip", v->ip);
	r |= spec_add(buf, len, "script", v->script);
	r |= spec_add(buf, len, "vifname", v->vifname);
	r |= spec_add(buf, len, "model", v->model);
	r |= spec_add(buf, len, "backend", v->backend_domname);
	r |= spec_add(buf, len, "gatewaydev", v->gatewaydev);
	r |= spec_add(buf, len, "vlan", v->vlan);
	if (v->nictype)
		r |= spec_add(buf, len, "type", v->nictype == 2 ? "vif" : "ioemu");
	if (v->mtu) {
		snprintf(tmp, sizeof(tmp), "%d", v->mtu);
		r |= spec_add(buf, len, "mtu", tmp);
	}
	if (v->rate_interval_usecs) {
		if (vif_rate(v, tmp, sizeof(tmp)) < 0)
			return -EINVAL;
		r |= spec_add(buf, len, "rate", tmp);
	}
	if (v->trusted != XLCFG_DEFAULT)
		r |= spec_flag(buf, len, v->trusted == XLCFG_TRUE ? "trusted" : "untrusted");
	return r ? -EINVAL : 0;
}

int xlcfg_domain_to_cfg(const struct xlcfg_domain *d, FILE *out)
{
	char uuid[37], spec[8192];

	fputs("# xl.cfg written by Keel\n", out);
	cfg_str(out, "name", d->name);
	cfg_str(out, "type", xlcfg_type_name(d->type));
	xlcfg_uuid_unparse(d->uuid, uuid);
	cfg_str(out, "uuid", uuid);
	if (d->target_memkb)
		fprintf(out, "memory = %llu\n", (unsigned long long)d->target_memkb / 1024);
	if (d->max_memkb && d->max_memkb != d->target_memkb)
		fprintf(out, "maxmem = %llu\n", (unsigned long long)d->max_memkb / 1024);
	fprintf(out, "vcpus = %d\n", d->vcpus);
	if (d->max_vcpus != d->vcpus)
		fprintf(out, "maxvcpus = %d\n", d->max_vcpus);
	cfg_str(out, "kernel", d->kernel);
	cfg_str(out, "ramdisk", d->ramdisk);
	cfg_str(out, "cmdline", d->cmdline);
	cfg_str(out, "device_tree", d->device_tree);
	cfg_str(out, "bootloader", d->bootloader);
	cfg_strv(out, "bootloader_args", d->bootloader_args, d->n_bootloader_args);
	if (d->cpu_weight >= 0)
		fprintf(out, "cpu_weight = %d\n", d->cpu_weight);
	if (d->cap >= 0)
		fprintf(out, "cap = %d\n", d->cap);
	if (d->max_grant_frames >= 0)
		fprintf(out, "max_grant_frames = %d\n", d->max_grant_frames);
	if (d->max_maptrack_frames >= 0)
		fprintf(out, "max_maptrack_frames = %d\n", d->max_maptrack_frames);
	if (d->max_event_channels >= 0)
		fprintf(out, "max_event_channels = %d\n", d->max_event_channels);
	cfg_tristate(out, "localtime", d->localtime);
	cfg_tristate(out, "nomigrate", d->nomigrate);
	cfg_tristate(out, "driver_domain", d->driver_domain);
	cfg_tristate(out, "acpi", d->acpi);
	cfg_strv(out, "serial", d->serial, d->n_serial);
	cfg_str(out, "boot", d->hvm_boot);
	if (d->vga != XLCFG_VGA_DEFAULT)
		cfg_str(out, "vga", d->vga == XLCFG_VGA_STD ? "stdvga" : xlcfg_vga_name(d->vga));
	if (d->video_memkb >= 0 && d->type == XLCFG_TYPE_HVM)
		fprintf(out, "videoram = %lld\n", (long long)d->video_memkb / 1024);
	cfg_tristate(out, "vnc", d->vnc);
	cfg_str(out, "vnclisten", d->vnclisten);
	if (d->vncdisplay)
		fprintf(out, "vncdisplay = %d\n", d->vncdisplay);
	cfg_tristate(out, "vncunused", d->vncunused);
	cfg_str(out, "vncpasswd", d->vncpasswd);
	cfg_tristate(out, "nographic", d->nographic);
	cfg_str(out, "device_model_override", d->dm_override);
	cfg_strv(out, "device_model_args", d->dm_args, d->n_dm_args);
	cfg_strv(out, "device_model_args_hvm", d->dm_args_hvm, d->n_dm_args_hvm);
	cfg_tristate(out, "usb", d->usb);
	cfg_strv(out, "usbdevice", d->usbdevice, d->n_usbdevice);
	if (d->usbversion)
		fprintf(out, "usbversion = %d\n", d->usbversion);
	cfg_str(out, "firmware_override", d->hvm_firmware);
	cfg_str(out, "bios_path_override", d->bios_path);
	if (d->bios_path)
		cfg_str(out, "bios", "seabios");
	cfg_tristate(out, "hpet", d->hpet);
	cfg_tristate(out, "apic", d->apic);
	cfg_tristate(out, "pae", d->pae);
	cfg_tristate(out, "nx", d->nx);
	cfg_tristate(out, "viridian", d->viridian);
	cfg_sets(out, "cpus", d->cpus, d->n_cpus, d->cpus_per_vcpu);
	cfg_sets(out, "cpus_soft", d->cpus_soft, d->n_cpus_soft, d->cpus_soft_per_vcpu);
	cfg_str(out, "on_poweroff", xlcfg_action_cfg_name(d->on_poweroff));
	cfg_str(out, "on_reboot", xlcfg_action_cfg_name(d->on_reboot));
	cfg_str(out, "on_watchdog", xlcfg_action_cfg_name(d->on_watchdog));
	cfg_str(out, "on_crash", xlcfg_action_cfg_name(d->on_crash));
	cfg_str(out, "on_soft_reset", xlcfg_action_cfg_name(d->on_soft_reset));
	if (d->n_disks) {
		fputs("disk = [\n", out);
		for (int i = 0; i < d->n_disks; i++) {
			if (disk_spec(&d->disks[i], spec, sizeof(spec)) < 0)
				return -EINVAL;
			fputs("    ", out);
			cfg_quote(out, spec);
			fputs(",\n", out);
		}
		fputs("]\n", out);
	}
	if (d->n_vifs) {
		fputs("vif = [\n", out);
		for (int i = 0; i < d->n_vifs; i++) {
			if (vif_spec(&d->vifs[i], spec, sizeof(spec)) < 0)
				return -EINVAL;
			fputs("    ", out);
			cfg_quote(out, spec);
			fputs(",\n", out);
		}
		fputs("]\n", out);
	}
	return ferror(out) ? -EIO : 0;
}
