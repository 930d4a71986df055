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
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <uuid/uuid.h>

#include "xlcfg.h"
#include "xlcfg_libvirt.h"

static void read_os(struct lv_ctx *lc, xmlNodePtr os)
{
	struct xlcfg_domain *d = lc->dom;

	for (xmlNodePtr c = os->children; c; c = c->next) {
		if (lv_is(c, "type")) {
			char *t = lv_text(c);

			if (t && (!strcmp(t, "linux") || !strcmp(t, "xen")))
				d->type = XLCFG_TYPE_PV;
			else if (t && !strcmp(t, "hvm"))
				d->type = XLCFG_TYPE_HVM;
			else if (t && !strcmp(t, "xenpvh"))
				d->type = XLCFG_TYPE_PVH;
			else
				lv_error(lc, c, "<os><type>: unknown OS type '%s'", t ? t : "");
			free(t);
		} else if (lv_is(c, "kernel")) {
			lv_replace(&d->kernel, lv_text(c));
		} else if (lv_is(c, "initrd")) {
			lv_replace(&d->ramdisk, lv_text(c));
		} else if (lv_is(c, "cmdline")) {
			lv_replace(&d->cmdline, lv_text(c));
		} else if (lv_is(c, "dtb")) {
			lv_replace(&d->device_tree, lv_text(c));
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
	char *type = lv_attr(n, "type"), *device = lv_attr(n, "device");

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
		if (lv_is(c, "driver")) {
			char *name = lv_attr(c, "name"), *fmt = lv_attr(c, "type");

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
		} else if (lv_is(c, "source")) {
			char *p = lv_attr(c, "file");

			if (!p)
				p = lv_attr(c, "dev");
			if (p)
				lv_replace(&k->target, p);
		} else if (lv_is(c, "target")) {
			lv_replace(&k->vdev, lv_attr(c, "dev"));
		} else if (lv_is(c, "readonly")) {
			k->readwrite = false;
		} else if (lv_is(c, "backenddomain")) {
			lv_replace(&k->backend_domname, lv_attr(c, "name"));
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
		if (lv_is(c, "mac")) {
			char *a = lv_attr(c, "address");
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
		} else if (lv_is(c, "source")) {
			lv_replace(&v->bridge, lv_attr(c, "bridge"));
		} else if (lv_is(c, "ip")) {
			char *a = lv_attr(c, "address"), *j = NULL;

			if (a && asprintf(&j, "%s%s%s", ips ? ips : "", ips ? " " : "", a) >= 0)
				lv_replace(&ips, j);
			free(a);
		} else if (lv_is(c, "script")) {
			lv_replace(&v->script, lv_attr(c, "path"));
		} else if (lv_is(c, "target")) {
			lv_replace(&v->vifname, lv_attr(c, "dev"));
		} else if (lv_is(c, "model")) {
			lv_replace(&v->model, lv_attr(c, "type"));
		} else if (lv_is(c, "backenddomain")) {
			lv_replace(&v->backend_domname, lv_attr(c, "name"));
		} else if (lv_is(c, "mtu")) {
			long long mtu;

			if (lv_attr_int(lc, c, "size", 65535, &mtu) == 0)
				v->mtu = (int)mtu;
		} else if (lv_is(c, "bandwidth")) {
			for (xmlNodePtr b = c->children; b; b = b->next) {
				long long avg;

				if (lv_is(b, "outbound") &&
				    lv_attr_int(lc, b, "average", UINT32_MAX, &avg) == 0 &&
				    avg > 0) {
					v->rate_interval_usecs = 50000;
					v->rate_bytes_per_interval =
						(uint64_t)avg * 1024 * 50000 / 1000000;
				}
			}
		}
	}
	v->ip = ips;
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
		if (lv_is(c, "name")) {
			lv_replace(&d->name, lv_text(c));
		} else if (lv_is(c, "uuid")) {
			char *t = lv_text(c);

			if (!t || uuid_parse(t, d->uuid))
				lv_error(lc, c, "<uuid>: '%s' is not a UUID", t ? t : "");
			else
				have_uuid = d->uuid_given = true;
			free(t);
		} else if (lv_is(c, "memory")) {
			lv_memory_kib(lc, c, &mem);
			memnode = c;
		} else if (lv_is(c, "currentMemory")) {
			lv_memory_kib(lc, c, &cur);
		} else if (lv_is(c, "vcpu")) {
			char *t = lv_text(c);
			unsigned long long n;
			long long current;

			if (lv_parse_ull(t, 4096, &n) < 0 || n < 1)
				lv_error(lc, c, "<vcpu>: '%s' is not a valid vCPU count",
					 t ? t : "");
			else
				d->max_vcpus = d->vcpus = (int)n;
			free(t);
			if (lv_attr_int(lc, c, "current", 4096, &current) == 0)
				d->vcpus = (int)current;
		} else if (lv_is(c, "bootloader")) {
			lv_replace(&d->bootloader, lv_text(c));
		} else if (lv_is(c, "bootloader_args")) {
			char *t = lv_text(c), *save = NULL, *w;

			d->bootloader_args = calloc(t ? strlen(t) / 2 + 2 : 1, sizeof(char *));
			for (w = t ? strtok_r(t, " ", &save) : NULL; w && d->bootloader_args;
			     w = strtok_r(NULL, " ", &save))
				d->bootloader_args[d->n_bootloader_args++] = strdup(w);
			free(t);
		} else if (lv_is(c, "os")) {
			read_os(lc, c);
		} else if (lv_is(c, "features")) {
			for (xmlNodePtr f = c->children; f; f = f->next)
				if (lv_is(f, "acpi"))
					d->acpi = XLCFG_TRUE;
		} else if (lv_is(c, "clock")) {
			char *o = lv_attr(c, "offset");

			d->localtime = o && !strcmp(o, "localtime") ? XLCFG_TRUE : XLCFG_FALSE;
			free(o);
		} else if (lv_is(c, "cputune")) {
			for (xmlNodePtr s = c->children; s; s = s->next) {
				if (lv_is(s, "shares")) {
					char *t = lv_text(s);
					unsigned long long w;

					if (lv_parse_ull(t, 65535, &w) < 0 || w < 1)
						lv_error(lc, s,
							 "<shares>: '%s' is not a weight "
							 "(1-65535)",
							 t ? t : "");
					else
						d->cpu_weight = (int)w;
					free(t);
				}
			}
		} else if (lv_is(c, "on_poweroff")) {
			lv_action(lc, c, &d->on_poweroff);
		} else if (lv_is(c, "on_reboot")) {
			lv_action(lc, c, &d->on_reboot);
		} else if (lv_is(c, "on_crash")) {
			lv_action(lc, c, &d->on_crash);
		} else if (lv_is(c, "devices")) {
			devices = c;
		} else if (lv_is(c, "metadata")) {
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
			ndisks += lv_is(c, "disk");
			nvifs += lv_is(c, "interface");
		}
		d->disks = calloc((size_t)ndisks + 1, sizeof(*d->disks));
		d->vifs = calloc((size_t)nvifs + 1, sizeof(*d->vifs));
		if (!d->disks || !d->vifs) {
			lc->err = -ENOMEM;
			return;
		}
		for (xmlNodePtr c = devices->children; c; c = c->next) {
			if (lv_is(c, "disk"))
				read_disk(lc, c);
			else if (lv_is(c, "interface"))
				read_interface(lc, c);
			else if (c->type == XML_ELEMENT_NODE && !lv_is(c, "console"))
				fprintf(lc->report,
					"%s:%ld: device <%s> is not supported by Keel; ignored\n",
					lc->source, xmlGetLineNo(c), c->name);
		}
	}
	if (metadata)
		lv_read_metadata(lc, metadata);
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
	dom->video_memkb = -1;
	dom->vnc = dom->vncunused = dom->nographic = XLCFG_DEFAULT;
	dom->usb = dom->hpet = dom->apic = dom->pae = dom->nx = dom->viridian = XLCFG_DEFAULT;
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
	if (!root || !lv_is(root, "domain")) {
		lv_error(&lc, root, "the root element is not <domain>");
		goto out;
	}
	type = lv_attr(root, "type");
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
