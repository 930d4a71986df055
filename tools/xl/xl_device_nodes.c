/*
 * The xenstore layout of PV block and network devices, as libxl writes it
 * (device_disk_add, libxl__set_xenstore_nic and libxl__device_generic_add),
 * built as data: the frontend keys, the backend keys and the three
 * directories.  Both toolstack backends write exactly these nodes, so the
 * layout is tested once without a hypervisor (xl-fixture) and used for
 * real by the keeld backend.  Also the device listing behind
 * `xl block-list` / `xl network-list`, read from libxl's private copy and
 * the frontend's published ring references.
 *
 * Keel's blkback opens raw images and block devices itself (no hotplug
 * script, no loop device), so a disk is written with type "phy" and its
 * target in "params", as libxl does for a raw disk on the phy backend.
 * Image formats other than raw, and backendtype=qdisk, go to QEMU's qdisk
 * as libxl writes them: backend/qdisk/..., type "qdisk", params
 * "FORMAT:TARGET" (raw is "aio" there).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl_device.h"

#define XL_DEV_BUILTIN_VIF_SCRIPT "vif-bridge"

/* libxl makes a relative script name absolute under Xen's script directory */
static const char *xl_dev_script_dir(const char *script)
{
	return script[0] == '/' ? "" : "/etc/xen/scripts/";
}

const char *xl_dev_kind_name(enum xl_dev_kind kind)
{
	return kind == XL_DEV_VBD ? "vbd" : "vif";
}

static int xl_dev_add(struct xl_dev_kv *kv, int *n, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int xl_dev_add(struct xl_dev_kv *kv, int *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= XL_DEV_MAX_KEYS)
		return -E2BIG;
	va_start(ap, fmt);
	r = vasprintf(&kv[*n].value, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	kv[*n].key = key;
	(*n)++;
	return 0;
}

#define FE(key, ...) (r = r ? r : xl_dev_add(l->fe, &l->n_fe, key, __VA_ARGS__))
#define BE(key, ...) (r = r ? r : xl_dev_add(l->be, &l->n_be, key, __VA_ARGS__))

static void xl_dev_paths(struct xl_dev_layout *l, enum xl_dev_kind kind, bool qdisk, uint32_t domid,
			 uint32_t be_domid, uint32_t devid)
{
	const char *k = xl_dev_kind_name(kind);

	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->qdisk = qdisk;
	l->domid = domid;
	l->be_domid = be_domid;
	l->devid = devid;
	snprintf(l->fe_path, sizeof(l->fe_path), "/local/domain/%u/device/%s/%u", domid, k, devid);
	snprintf(l->be_path, sizeof(l->be_path), "/local/domain/%u/backend/%s/%u/%u", be_domid,
		 qdisk ? "qdisk" : k, domid, devid);
	snprintf(l->libxl_path, sizeof(l->libxl_path), "/libxl/%u/device/%s/%u", domid, k, devid);
}

bool xl_dev_vbd_is_qdisk(const struct xlcfg_disk *disk)
{
	if (disk->backendtype == XLCFG_BACKEND_QDISK)
		return true;
	return disk->backendtype == XLCFG_BACKEND_UNKNOWN && disk->format != XLCFG_FORMAT_RAW &&
	       disk->format != XLCFG_FORMAT_EMPTY && disk->format != XLCFG_FORMAT_UNKNOWN;
}

/* libxl__device_disk_string_of_format: the FORMAT of qdisk's "params" */
static const char *xl_dev_qdisk_format(enum xlcfg_disk_format f)
{
	return f == XLCFG_FORMAT_RAW || f == XLCFG_FORMAT_UNKNOWN ? "aio"
								  : xlcfg_disk_format_name(f);
}

/* Refuse, with the disk named, what no backend of Keel's can serve. */
static int xl_dev_vbd_check(const struct xlcfg_disk *disk, bool hvm)
{
	const char *vdev = disk->vdev ? disk->vdev : "?";

	if (disk->vdev_number < 0) {
		fprintf(stderr, "xl: disk %s: not a virtual device name Xen can number\n", vdev);
		return -EINVAL;
	}
	/* an HVM domain's empty CD-ROM drive is QEMU's (qdisk, params "empty:") */
	if ((!disk->target || !*disk->target) && !(hvm && disk->is_cdrom)) {
		fprintf(stderr,
			"xl: disk %s: an empty (removable) drive is not supported by "
			"Keel's blkback\n",
			vdev);
		return -EINVAL;
	}
	if (disk->backendtype == XLCFG_BACKEND_PHY && disk->format != XLCFG_FORMAT_RAW) {
		fprintf(stderr,
			"xl: disk %s: format %s: the phy backend serves raw images only "
			"(backendtype=qdisk serves %s)\n",
			vdev, xlcfg_disk_format_name(disk->format),
			xlcfg_disk_format_name(disk->format));
		return -EINVAL;
	}
	if (disk->backendtype != XLCFG_BACKEND_UNKNOWN && disk->backendtype != XLCFG_BACKEND_PHY &&
	    disk->backendtype != XLCFG_BACKEND_QDISK) {
		fprintf(stderr,
			"xl: disk %s: backendtype=%s: Keel has the phy and qdisk backends\n", vdev,
			xlcfg_disk_backend_name(disk->backendtype));
		return -EINVAL;
	}
	return 0;
}

int xl_dev_vbd_layout(uint32_t domid, uint32_t be_domid, const struct xlcfg_disk *disk, bool hvm,
		      struct xl_dev_layout *l)
{
	/* libxl enables discard by default on writable disks */
	bool discard =
		disk->discard == XLCFG_DEFAULT ? disk->readwrite : disk->discard == XLCFG_TRUE;
	const char *devtype = disk->is_cdrom ? "cdrom" : "disk";
	/* libxl forces qdisk for the CD-ROMs of a domain with a device model */
	bool qdisk = xl_dev_vbd_is_qdisk(disk) || (hvm && disk->is_cdrom);
	int r = xl_dev_vbd_check(disk, hvm);

	if (r)
		return r;
	xl_dev_paths(l, XL_DEV_VBD, qdisk, domid, be_domid, (uint32_t)disk->vdev_number);
	if (qdisk)
		BE("params", "%s:%s", xl_dev_qdisk_format(disk->format),
		   disk->target ? disk->target : "");
	else
		BE("params", "%s", disk->target);
	if (disk->script && !qdisk)
		BE("script", "%s%s", xl_dev_script_dir(disk->script), disk->script);
	BE("frontend-id", "%u", domid);
	BE("online", "1");
	BE("removable", "%d", disk->removable ? 1 : 0);
	BE("bootable", "1");
	BE("state", "%d", XL_XENBUS_INITIALISING);
	BE("dev", "%s", disk->vdev);
	BE("type", "%s", qdisk ? "qdisk" : "phy");
	BE("mode", "%s", disk->readwrite ? "w" : "r");
	BE("device-type", "%s", devtype);
	if (disk->direct_io_safe)
		BE("direct-io-safe", "1");
	BE("discard-enable", "%d", discard ? 1 : 0);

	FE("backend-id", "%u", be_domid);
	FE("state", "%d", XL_XENBUS_INITIALISING);
	FE("virtual-device", "%u", l->devid);
	FE("device-type", "%s", devtype);
	FE("trusted", "%d", disk->trusted == XLCFG_FALSE ? 0 : 1);
	if (r)
		xl_dev_layout_clear(l);
	return r;
}

int xl_dev_vif_layout(uint32_t domid, uint32_t be_domid, const struct xlcfg_vif *vif,
		      struct xl_dev_layout *l)
{
	char mac[18];
	int r = 0;

	if (vif->devid < 0 || !vif->mac_set) {
		fprintf(stderr, "xl: vif: no devid or MAC assigned\n");
		return -EINVAL;
	}
	xlcfg_mac_unparse(vif->mac, mac);
	xl_dev_paths(l, XL_DEV_VIF, false, domid, be_domid, (uint32_t)vif->devid);
	BE("frontend-id", "%u", domid);
	BE("online", "1");
	BE("state", "%d", XL_XENBUS_INITIALISING);
	/*
	 * libxl names its default "vif-bridge" for every vif that names none;
	 * on Keel keel-netback does that job itself, so the bare default gets
	 * no script node.  Any other script, or vif-bridge by path, is run.
	 * A vif in a driver domain gets libxl's default node (xl devd there
	 * does the bridge's work and runs no script).
	 */
	if (vif->script && strcmp(vif->script, XL_DEV_BUILTIN_VIF_SCRIPT))
		BE("script", "%s%s", xl_dev_script_dir(vif->script), vif->script);
	else if (be_domid != 0) /* Linux's xen-netback fails its probe without one */
		BE("script", "%s%s", xl_dev_script_dir(XL_DEV_BUILTIN_VIF_SCRIPT),
		   XL_DEV_BUILTIN_VIF_SCRIPT);
	if (vif->vifname)
		BE("vifname", "%s", vif->vifname);
	BE("mac", "%s", mac);
	if (vif->ip)
		BE("ip", "%s", vif->ip);
	if (vif->gatewaydev)
		BE("gatewaydev", "%s", vif->gatewaydev);
	if (vif->rate_interval_usecs > 0)
		BE("rate", "%llu,%u", (unsigned long long)vif->rate_bytes_per_interval,
		   vif->rate_interval_usecs);
	BE("mtu", "%d", vif->mtu > 0 ? vif->mtu : 1500);
	BE("bridge", "%s", vif->bridge ? vif->bridge : "xenbr0");
	BE("handle", "%u", l->devid);
	BE("type", "%s", vif->nictype == 1 ? "vif_ioemu" : "vif");

	FE("backend-id", "%u", be_domid);
	FE("state", "%d", XL_XENBUS_INITIALISING);
	FE("handle", "%u", l->devid);
	FE("mac", "%s", mac);
	FE("mtu", "%d", vif->mtu > 0 ? vif->mtu : 1500);
	FE("trusted", "%d", vif->trusted == XLCFG_FALSE ? 0 : 1);
	if (r)
		xl_dev_layout_clear(l);
	return r;
}

#undef FE
#undef BE

void xl_dev_layout_clear(struct xl_dev_layout *l)
{
	for (int i = 0; i < l->n_fe; i++)
		free(l->fe[i].value);
	for (int i = 0; i < l->n_be; i++)
		free(l->be[i].value);
	l->n_fe = l->n_be = 0;
}

/* A decimal store value, or @dflt when absent or not a number. */
static int xl_dev_read_int(const struct xl_dev_reader *rd, const char *dir, const char *key,
			   int dflt)
{
	char path[256], *v = NULL, *end;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (rd->read(rd->ctx, path, &v) < 0)
		return dflt;
	n = strtol(v, &end, 10);
	if (end == v || *end || n < -1 || n > 0x7fffffff)
		n = dflt;
	free(v);
	return (int)n;
}

static int xl_dev_info_cmp(const void *a, const void *b)
{
	const struct xl_dev_info *x = a, *y = b;

	return x->devid < y->devid ? -1 : x->devid > y->devid;
}

/* One device from libxl's copy; -ENOENT when its entry is not usable. */
static int xl_dev_info_read(const struct xl_dev_reader *rd, uint32_t domid, enum xl_dev_kind kind,
			    unsigned long devid, struct xl_dev_info *d)
{
	char lx[128], fe[128], path[160], *be = NULL, *mac = NULL;
	unsigned be_domid;

	memset(d, 0, sizeof(*d));
	snprintf(lx, sizeof(lx), "/libxl/%u/device/%s/%lu", domid, xl_dev_kind_name(kind), devid);
	snprintf(path, sizeof(path), "%s/backend", lx);
	if (rd->read(rd->ctx, path, &be) < 0)
		return -ENOENT;
	/* the backend path names the backend domain: /local/domain/<be>/backend/... */
	if (sscanf(be, "/local/domain/%u/backend/", &be_domid) != 1 ||
	    strlen(be) >= sizeof(d->be_path)) {
		free(be);
		return -ENOENT;
	}
	snprintf(d->be_path, sizeof(d->be_path), "%s", be);
	free(be);
	d->devid = (uint32_t)devid;
	d->domid = domid;
	d->be_domid = be_domid;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%lu", domid, xl_dev_kind_name(kind),
		 devid);
	d->state = xl_dev_read_int(rd, fe, "state", -1);
	d->evtch = xl_dev_read_int(rd, fe, "event-channel", -1);
	d->ring_ref = xl_dev_read_int(rd, fe, "ring-ref", -1);
	d->tx_ring_ref = xl_dev_read_int(rd, fe, "tx-ring-ref", -1);
	d->rx_ring_ref = xl_dev_read_int(rd, fe, "rx-ring-ref", -1);
	if (kind == XL_DEV_VIF) {
		snprintf(path, sizeof(path), "%s/mac", lx);
		if (rd->read(rd->ctx, path, &mac) == 0)
			snprintf(d->mac, sizeof(d->mac), "%.17s", mac);
		free(mac);
	}
	return 0;
}

int xl_dev_list(const struct xl_dev_reader *rd, uint32_t domid, enum xl_dev_kind kind,
		struct xl_dev_info **out, int *n)
{
	char dir[96], **names = NULL;
	unsigned nn = 0;
	struct xl_dev_info *v;
	int got = 0, r;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "/libxl/%u/device/%s", domid, xl_dev_kind_name(kind));
	r = rd->directory(rd->ctx, dir, &names, &nn);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	v = calloc(nn ? nn : 1, sizeof(*v));
	for (unsigned i = 0; i < nn; i++) {
		char *end;
		unsigned long devid = strtoul(names[i], &end, 10);

		if (v && *names[i] && !*end && devid <= UINT32_MAX &&
		    xl_dev_info_read(rd, domid, kind, devid, &v[got]) == 0)
			got++;
	}
	free(names);
	if (!v)
		return -ENOMEM;
	qsort(v, (size_t)got, sizeof(*v), xl_dev_info_cmp);
	*out = v;
	*n = got;
	return 0;
}
