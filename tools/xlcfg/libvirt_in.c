/*
 * libvirt domain XML in: the inverse of libvirt_out.c.  The document is
 * parsed by libxml2 with network access and entity expansion off; a
 * malformed document is reported as "source:line: XML error: ..." with
 * libxml2's message.  The <domain type='xen'> elements Keel understands are
 * read and checked (units, numbers, MACs, known formats and actions); Keel's
 * <metadata> extras, when present, restore what libvirt has no element for.
 * Elements Keel does not use are reported and skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <uuid/uuid.h>

#include "xlcfg.h"
#include "xlcfg_libvirt.h"

struct lv_ctx {
	const char *source;
	FILE *report;
	struct xlcfg_domain *dom;
	int err;
};

static void lv_error(struct lv_ctx *lc, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lv_error(struct lv_ctx *lc, xmlNodePtr n, const char *fmt, ...)
{
	va_list ap;

	fprintf(lc->report, "%s:%ld: ", lc->source, n ? xmlGetLineNo(n) : 0L);
	va_start(ap, fmt);
	vfprintf(lc->report, fmt, ap);
	va_end(ap);
	fputc('\n', lc->report);
	if (!lc->err)
		lc->err = -EINVAL;
}

static bool is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* Element text, trimmed; malloc'd ("" when empty). */
static char *text_of(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s, *e, *r;

	if (!t)
		return strdup("");
	s = (char *)t;
	while (*s == ' ' || *s == '\n' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t'))
		e--;
	r = strndup(s, (size_t)(e - s));
	xmlFree(t);
	return r;
}

/* Attribute value, malloc'd, or NULL. */
static char *attr_of(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	char *r;

	if (!v)
		return NULL;
	r = strdup((const char *)v);
	xmlFree(v);
	return r;
}

static int parse_ull(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int attr_int(struct lv_ctx *lc, xmlNodePtr n, const char *name, long long max,
		    long long *out)
{
	char *v = attr_of(n, name);
	unsigned long long u;
	int r = 0;

	if (!v)
		return 1;
	if (parse_ull(v, (unsigned long long)max, &u) < 0) {
		lv_error(lc, n, "<%s %s='%s'>: not a valid number", n->name, name, v);
		r = -EINVAL;
	} else {
		*out = (long long)u;
	}
	free(v);
	return r;
}

/* <memory unit='...'>N</memory> in KiB. */
static int memory_kib(struct lv_ctx *lc, xmlNodePtr n, uint64_t *kib)
{
	static const struct {
		const char *unit;
		unsigned long long bytes;
	} units[] = {
		{"b", 1},	   {"bytes", 1},	{"KB", 1000},
		{"k", 1024},	   {"KiB", 1024},	{"MB", 1000000},
		{"M", 1 << 20},	   {"MiB", 1 << 20},	{"GB", 1000000000ull},
		{"G", 1ull << 30}, {"GiB", 1ull << 30}, {"TB", 1000000000000ull},
		{"T", 1ull << 40}, {"TiB", 1ull << 40},
	};
	char *unit = attr_of(n, "unit"), *t = text_of(n);
	unsigned long long v, mul = 1024;
	int r = -EINVAL;

	if (unit) {
		mul = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(unit, units[i].unit))
				mul = units[i].bytes;
		if (!mul) {
			lv_error(lc, n, "<%s>: unknown unit '%s'", n->name, unit);
			goto out;
		}
	}
	if (!t || parse_ull(t, ULLONG_MAX / mul, &v) < 0 || v * mul / 1024 > (1ull << 42)) {
		lv_error(lc, n, "<%s>: '%s' is not a valid size", n->name, t ? t : "");
		goto out;
	}
	*kib = v * mul / 1024;
	r = 0;
out:
	free(unit);
	free(t);
	return r;
}

static void replace_str(char **slot, char *v)
{
	free(*slot);
	*slot = v;
}

static int action_of(struct lv_ctx *lc, xmlNodePtr n, enum xlcfg_action *out)
{
	char *t = text_of(n);
	int r = t ? xlcfg_action_parse(t, out) : -ENOMEM;

	if (r == -EINVAL)
		lv_error(lc, n, "<%s>: unknown action '%s'", n->name, t);
	free(t);
	return r;
}

static int tristate_of(const char *v, enum xlcfg_tristate *out)
{
	if (!v)
		return 0;
	if (!strcmp(v, "1"))
		*out = XLCFG_TRUE;
	else if (!strcmp(v, "0"))
		*out = XLCFG_FALSE;
	else
		return -EINVAL;
	return 0;
}

static void read_os(struct lv_ctx *lc, xmlNodePtr os)
{
	struct xlcfg_domain *d = lc->dom;

	for (xmlNodePtr c = os->children; c; c = c->next) {
		if (is(c, "type")) {
			char *t = text_of(c);

			if (t && (!strcmp(t, "linux") || !strcmp(t, "xen")))
				d->type = XLCFG_TYPE_PV;
			else if (t && !strcmp(t, "hvm"))
				d->type = XLCFG_TYPE_HVM;
			else if (t && !strcmp(t, "xenpvh"))
				d->type = XLCFG_TYPE_PVH;
			else
				lv_error(lc, c, "<os><type>: unknown OS type '%s'", t ? t : "");
			free(t);
		} else if (is(c, "kernel")) {
			replace_str(&d->kernel, text_of(c));
		} else if (is(c, "initrd")) {
			replace_str(&d->ramdisk, text_of(c));
		} else if (is(c, "cmdline")) {
			replace_str(&d->cmdline, text_of(c));
		} else if (is(c, "dtb")) {
			replace_str(&d->device_tree, text_of(c));
		} else if (c->type == XML_ELEMENT_NODE) {
			fprintf(lc->report, "%s:%ld: <os><%s> is not used by Keel; ignored\n",
				lc->source, xmlGetLineNo(c), c->name);
		}
	}
}

static void read_disk(struct lv_ctx *lc, xmlNodePtr n)
{
	struct xlcfg_domain *d = lc->dom;
	struct xlcfg_disk *k;
	char *type = attr_of(n, "type"), *device = attr_of(n, "device");

	k = &d->disks[d->n_disks];
	memset(k, 0, sizeof(*k));
	k->readwrite = true;
	k->discard = k->trusted = k->colo = k->grant_usage = XLCFG_DEFAULT;
	k->vdev_number = -1;
	d->n_disks++;
	if (type && strcmp(type, "file") && strcmp(type, "block"))
		lv_error(lc, n, "<disk type='%s'>: only file and block disks are supported", type);
	if (device && !strcmp(device, "cdrom")) {
		k->is_cdrom = k->removable = true;
		k->readwrite = false;
	} else if (device && strcmp(device, "disk")) {
		lv_error(lc, n, "<disk device='%s'>: only disk and cdrom are supported", device);
	}
	free(type);
	free(device);
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (is(c, "driver")) {
			char *name = attr_of(c, "name"), *fmt = attr_of(c, "type");

			if (name && !strcmp(name, "phy"))
				k->backendtype = XLCFG_BACKEND_PHY;
			else if (name && !strcmp(name, "qemu"))
				k->backendtype = XLCFG_BACKEND_QDISK;
			else if (name && !strcmp(name, "tap"))
				k->backendtype = XLCFG_BACKEND_TAP;
			else if (name && strcmp(name, "file"))
				lv_error(lc, c, "<driver name='%s'>: unknown disk driver", name);
			if (fmt) {
				int f = -1;

				for (int i = XLCFG_FORMAT_QCOW; i <= XLCFG_FORMAT_QED; i++)
					if (!strcmp(fmt, xlcfg_disk_format_name(i)))
						f = i;
				if (f < 0)
					lv_error(lc, c, "<driver type='%s'>: unknown disk format",
						 fmt);
				else
					k->format = f;
			}
			free(name);
			free(fmt);
		} else if (is(c, "source")) {
			char *p = attr_of(c, "file");

			if (!p)
				p = attr_of(c, "dev");
			if (p)
				replace_str(&k->target, p);
		} else if (is(c, "target")) {
			replace_str(&k->vdev, attr_of(c, "dev"));
		} else if (is(c, "readonly")) {
			k->readwrite = false;
		} else if (is(c, "backenddomain")) {
			replace_str(&k->backend_domname, attr_of(c, "name"));
		}
	}
	if (!k->vdev) {
		lv_error(lc, n, "<disk>: no <target dev='...'/>");
		return;
	}
	if (k->format == XLCFG_FORMAT_UNKNOWN)
		k->format = k->is_cdrom && !k->target ? XLCFG_FORMAT_EMPTY : XLCFG_FORMAT_RAW;
	if (!k->target && !k->removable)
		lv_error(lc, n, "<disk>: no <source/> (and device not removable)");
	k->vdev_number = xlcfg_vdev_number(k->vdev, NULL, NULL);
	if (k->vdev_number < 0) {
		lv_error(lc, n, "<disk>: invalid target device '%s'", k->vdev);
		k->vdev_number = -1;
	}
}

static void read_interface(struct lv_ctx *lc, xmlNodePtr n)
{
	struct xlcfg_domain *d = lc->dom;
	struct xlcfg_vif *v = &d->vifs[d->n_vifs];
	char *ips = NULL;

	memset(v, 0, sizeof(*v));
	v->devid = d->n_vifs;
	v->trusted = XLCFG_DEFAULT;
	d->n_vifs++;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (is(c, "mac")) {
			char *a = attr_of(c, "address");
			unsigned int m[6];
			char tail;

			if (!a || sscanf(a, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3],
					 &m[4], &m[5], &tail) != 6) {
				lv_error(lc, c, "<mac address='%s'>: not a MAC address",
					 a ? a : "");
			} else {
				for (int i = 0; i < 6; i++)
					v->mac[i] = (uint8_t)m[i];
				v->mac_set = true;
			}
			free(a);
		} else if (is(c, "source")) {
			replace_str(&v->bridge, attr_of(c, "bridge"));
		} else if (is(c, "ip")) {
			char *a = attr_of(c, "address"), *j = NULL;

			if (a && asprintf(&j, "%s%s%s", ips ? ips : "", ips ? " " : "", a) >= 0)
				replace_str(&ips, j);
			free(a);
		} else if (is(c, "script")) {
			replace_str(&v->script, attr_of(c, "path"));
		} else if (is(c, "target")) {
			replace_str(&v->vifname, attr_of(c, "dev"));
		} else if (is(c, "model")) {
			replace_str(&v->model, attr_of(c, "type"));
		} else if (is(c, "backenddomain")) {
			replace_str(&v->backend_domname, attr_of(c, "name"));
		} else if (is(c, "mtu")) {
			long long mtu;

			if (attr_int(lc, c, "size", 65535, &mtu) == 0)
				v->mtu = (int)mtu;
		} else if (is(c, "bandwidth")) {
			for (xmlNodePtr b = c->children; b; b = b->next) {
				long long avg;

				if (is(b, "outbound") &&
				    attr_int(lc, b, "average", UINT32_MAX, &avg) == 0 && avg > 0) {
					v->rate_interval_usecs = 50000;
					v->rate_bytes_per_interval =
						(uint64_t)avg * 1024 * 50000 / 1000000;
				}
			}
		}
	}
	v->ip = ips;
}

/* Keel's metadata: exact values libvirt has no element for. */
static void read_meta_disk(struct lv_ctx *lc, xmlNodePtr n)
{
	struct xlcfg_domain *d = lc->dom;
	char *vdev = attr_of(n, "vdev"), *s;
	struct xlcfg_disk *k = NULL;

	for (int i = 0; vdev && i < d->n_disks; i++)
		if (d->disks[i].vdev && !strcmp(d->disks[i].vdev, vdev))
			k = &d->disks[i];
	free(vdev);
	if (!k)
		return;
	if ((s = attr_of(n, "empty-target")) && !k->target)
		k->target = strdup("");
	free(s);
	if ((s = attr_of(n, "backendtype")) && !strcmp(s, "standalone"))
		k->backendtype = XLCFG_BACKEND_STANDALONE;
	free(s);
	replace_str(&k->script, attr_of(n, "script"));
	if ((s = attr_of(n, "specification")))
		k->specification = !strcmp(s, "virtio") ? 2 : 1;
	free(s);
	if ((s = attr_of(n, "direct-io-safe")))
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
		s = attr_of(n, tri[i].name);
		if (tristate_of(s, (enum xlcfg_tristate *)((char *)k + tri[i].off)) < 0)
			lv_error(lc, n, "<keel:disk %s='%s'>: expected 0 or 1", tri[i].name, s);
		free(s);
	}
	if ((s = attr_of(n, "readwrite")))
		k->readwrite = !strcmp(s, "1");
	free(s);
}

static void read_meta_vif(struct lv_ctx *lc, xmlNodePtr n)
{
	struct xlcfg_domain *d = lc->dom;
	long long idx = -1, x;
	struct xlcfg_vif *v;
	char *s;

	if (attr_int(lc, n, "index", INT_MAX, &idx) != 0 || idx >= d->n_vifs)
		return;
	v = &d->vifs[idx];
	if (attr_int(lc, n, "devid", INT_MAX, &x) == 0)
		v->devid = (int)x;
	if (attr_int(lc, n, "rate-interval-usecs", UINT32_MAX, &x) == 0 && x > 0) {
		v->rate_interval_usecs = (uint32_t)x;
		v->rate_bytes_per_interval = 0;
		if (attr_int(lc, n, "rate-bytes-per-interval", LLONG_MAX, &x) == 0)
			v->rate_bytes_per_interval = (uint64_t)x;
	}
	replace_str(&v->gatewaydev, attr_of(n, "gatewaydev"));
	replace_str(&v->vlan, attr_of(n, "vlan"));
	if ((s = attr_of(n, "ip")))
		replace_str(&v->ip, s);
	if ((s = attr_of(n, "type")))
		v->nictype = !strcmp(s, "vif") ? 2 : 1;
	free(s);
	s = attr_of(n, "trusted");
	if (tristate_of(s, &v->trusted) < 0)
		lv_error(lc, n, "<keel:vif trusted='%s'>: expected 0 or 1", s);
	free(s);
}

static int meta_list(xmlNodePtr n, char ***out, int *count)
{
	int cnt = 0;

	for (xmlNodePtr c = n->children; c; c = c->next)
		cnt += is(c, "arg");
	char **v = calloc((size_t)cnt + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	cnt = 0;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (is(c, "arg")) {
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

static void read_metadata(struct lv_ctx *lc, xmlNodePtr md)
{
	struct xlcfg_domain *d = lc->dom;

	for (xmlNodePtr x = md->children; x; x = x->next) {
		if (!is(x, "xl") || !x->ns || strcmp((const char *)x->ns->href, XLCFG_LIBVIRT_NS))
			continue;
		for (xmlNodePtr c = x->children; c; c = c->next) {
			char *t;

			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (is(c, "on_poweroff"))
				action_of(lc, c, &d->on_poweroff);
			else if (is(c, "on_reboot"))
				action_of(lc, c, &d->on_reboot);
			else if (is(c, "on_crash"))
				action_of(lc, c, &d->on_crash);
			else if (is(c, "on_watchdog"))
				action_of(lc, c, &d->on_watchdog);
			else if (is(c, "on_soft_reset"))
				action_of(lc, c, &d->on_soft_reset);
			else if (is(c, "disk"))
				read_meta_disk(lc, c);
			else if (is(c, "vif"))
				read_meta_vif(lc, c);
			else if (is(c, "bootloader_args"))
				meta_list(c, &d->bootloader_args, &d->n_bootloader_args);
			else if (is(c, "serial"))
				meta_list(c, &d->serial, &d->n_serial);
			else {
				t = text_of(c);
				unsigned long long u;
				enum xlcfg_tristate *tri = is(c, "nomigrate") ? &d->nomigrate
							   : is(c, "driver_domain")
								   ? &d->driver_domain
							   : is(c, "acpi") ? &d->acpi
									   : NULL;
				int *num = is(c, "cap")			  ? &d->cap
					   : is(c, "max_grant_frames")	  ? &d->max_grant_frames
					   : is(c, "max_maptrack_frames") ? &d->max_maptrack_frames
					   : is(c, "max_event_channels")  ? &d->max_event_channels
									  : NULL;
				if (tri && tristate_of(t, tri) < 0)
					lv_error(lc, c, "<keel:%s>: expected 0 or 1", c->name);
				if (num) {
					if (parse_ull(t, INT_MAX, &u) < 0)
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

static void read_domain(struct lv_ctx *lc, xmlNodePtr root)
{
	struct xlcfg_domain *d = lc->dom;
	int ndisks = 0, nvifs = 0;
	bool have_uuid = false;
	uint64_t mem = 0, cur = 0;
	xmlNodePtr devices = NULL, metadata = NULL, memnode = NULL;

	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "name")) {
			replace_str(&d->name, text_of(c));
		} else if (is(c, "uuid")) {
			char *t = text_of(c);

			if (!t || uuid_parse(t, d->uuid))
				lv_error(lc, c, "<uuid>: '%s' is not a UUID", t ? t : "");
			else
				have_uuid = d->uuid_given = true;
			free(t);
		} else if (is(c, "memory")) {
			memory_kib(lc, c, &mem);
			memnode = c;
		} else if (is(c, "currentMemory")) {
			memory_kib(lc, c, &cur);
		} else if (is(c, "vcpu")) {
			char *t = text_of(c);
			unsigned long long n;
			long long current;

			if (parse_ull(t, 4096, &n) < 0 || n < 1)
				lv_error(lc, c, "<vcpu>: '%s' is not a valid vCPU count",
					 t ? t : "");
			else
				d->max_vcpus = d->vcpus = (int)n;
			free(t);
			if (attr_int(lc, c, "current", 4096, &current) == 0)
				d->vcpus = (int)current;
		} else if (is(c, "bootloader")) {
			replace_str(&d->bootloader, text_of(c));
		} else if (is(c, "bootloader_args")) {
			char *t = text_of(c), *save = NULL, *w;

			d->bootloader_args = calloc(t ? strlen(t) / 2 + 2 : 1, sizeof(char *));
			for (w = t ? strtok_r(t, " ", &save) : NULL; w && d->bootloader_args;
			     w = strtok_r(NULL, " ", &save))
				d->bootloader_args[d->n_bootloader_args++] = strdup(w);
			free(t);
		} else if (is(c, "os")) {
			read_os(lc, c);
		} else if (is(c, "features")) {
			for (xmlNodePtr f = c->children; f; f = f->next)
				if (is(f, "acpi"))
					d->acpi = XLCFG_TRUE;
		} else if (is(c, "clock")) {
			char *o = attr_of(c, "offset");

			d->localtime = o && !strcmp(o, "localtime") ? XLCFG_TRUE : XLCFG_FALSE;
			free(o);
		} else if (is(c, "cputune")) {
			for (xmlNodePtr s = c->children; s; s = s->next) {
				if (is(s, "shares")) {
					char *t = text_of(s);
					unsigned long long w;

					if (parse_ull(t, 65535, &w) < 0 || w < 1)
						lv_error(lc, s,
							 "<shares>: '%s' is not a weight "
							 "(1-65535)",
							 t ? t : "");
					else
						d->cpu_weight = (int)w;
					free(t);
				}
			}
		} else if (is(c, "on_poweroff")) {
			action_of(lc, c, &d->on_poweroff);
		} else if (is(c, "on_reboot")) {
			action_of(lc, c, &d->on_reboot);
		} else if (is(c, "on_crash")) {
			action_of(lc, c, &d->on_crash);
		} else if (is(c, "devices")) {
			devices = c;
		} else if (is(c, "metadata")) {
			metadata = c;
		} else {
			fprintf(lc->report, "%s:%ld: <%s> is not used by Keel; ignored\n",
				lc->source, xmlGetLineNo(c), c->name);
		}
	}
	if (!d->name || !*d->name) {
		lv_error(lc, root, "<domain> has no <name>");
		return;
	}
	if (!have_uuid)
		uuid_generate(d->uuid);
	d->max_memkb = mem ? mem : cur;
	d->target_memkb = cur ? cur : mem;
	if (d->target_memkb > d->max_memkb)
		lv_error(lc, memnode, "<currentMemory> is larger than <memory>");
	if (d->vcpus > d->max_vcpus || d->vcpus < 1)
		lv_error(lc, root, "<vcpu current='%d'> must be between 1 and %d", d->vcpus,
			 d->max_vcpus);
	if (devices) {
		for (xmlNodePtr c = devices->children; c; c = c->next) {
			ndisks += is(c, "disk");
			nvifs += is(c, "interface");
		}
		d->disks = calloc((size_t)ndisks + 1, sizeof(*d->disks));
		d->vifs = calloc((size_t)nvifs + 1, sizeof(*d->vifs));
		if (!d->disks || !d->vifs) {
			lc->err = -ENOMEM;
			return;
		}
		for (xmlNodePtr c = devices->children; c; c = c->next) {
			if (is(c, "disk"))
				read_disk(lc, c);
			else if (is(c, "interface"))
				read_interface(lc, c);
			else if (c->type == XML_ELEMENT_NODE && !is(c, "console"))
				fprintf(lc->report,
					"%s:%ld: device <%s> is not supported by Keel; ignored\n",
					lc->source, xmlGetLineNo(c), c->name);
		}
	}
	if (metadata)
		read_metadata(lc, metadata);
	for (int i = 0; i < d->n_disks; i++)
		for (int j = 0; j < i; j++)
			if (d->disks[i].vdev && d->disks[j].vdev &&
			    !strcmp(d->disks[i].vdev, d->disks[j].vdev))
				lv_error(lc, devices, "disk target '%s' is used twice",
					 d->disks[i].vdev);
}

int xlcfg_domain_from_libvirt(struct xlcfg_domain *dom, const char *data, size_t len,
			      const char *source, FILE *report)
{
	struct lv_ctx lc = {.source = source ? source : "<xml>",
			    .report = report ? report : stderr,
			    .dom = dom};
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	char *type = NULL;

	memset(dom, 0, sizeof(*dom));
	dom->type = XLCFG_TYPE_PV;
	dom->cpu_weight = dom->cap = -1;
	dom->max_grant_frames = dom->max_maptrack_frames = dom->max_event_channels = -1;
	dom->localtime = dom->nomigrate = dom->driver_domain = dom->acpi = XLCFG_DEFAULT;
	dom->on_poweroff = XLCFG_ACTION_DESTROY;
	dom->on_reboot = XLCFG_ACTION_RESTART;
	dom->on_watchdog = XLCFG_ACTION_DESTROY;
	dom->on_crash = XLCFG_ACTION_DESTROY;
	dom->on_soft_reset = XLCFG_ACTION_SOFT_RESET;
	dom->vcpus = dom->max_vcpus = 1;
	if (len > XLCFG_MAX_INPUT || len > INT_MAX) {
		fprintf(lc.report, "%s: XML document too large\n", lc.source);
		return -EFBIG;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	doc = xmlCtxtReadMemory(ctxt, data, (int)len, lc.source, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[256] = "not well-formed";
		size_t n;

		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			n = strlen(msg);
			while (n && msg[n - 1] == '\n')
				msg[--n] = 0;
		}
		fprintf(lc.report, "%s:%d: XML error: %s\n", lc.source, e ? e->line : 0, msg);
		lc.err = -EINVAL;
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is(root, "domain")) {
		lv_error(&lc, root, "the root element is not <domain>");
		goto out;
	}
	type = attr_of(root, "type");
	if (!type || strcmp(type, "xen")) {
		lv_error(&lc, root, "<domain type='%s'> is not a Xen domain", type ? type : "");
		goto out;
	}
	read_domain(&lc, root);
out:
	free(type);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	if (lc.err)
		xlcfg_domain_clear(dom);
	return lc.err;
}
