/*
 * The store side of xl's keeld backend: the xenstore layout libxl writes
 * for a domain (libxl__domain_make, libxl__build_post and the primary
 * console's libxl__device_console_add), with the same paths and
 * permissions, each step in one transaction retried on EAGAIN; renames as
 * libxl__domain_rename does them; and the clean-up after a domain is gone.
 * keeld keeps no name history or UUID, so the store is where the toolstack
 * keeps them, exactly as on Xen.
 *
 * The store and console frames and event channels come from keeld's
 * domain info (what its builder put in start_info): store/port,
 * store/ring-ref, console/port and console/ring-ref are written from them
 * and the domain is introduced to the store with them (XS_INTRODUCE), as
 * libxl__build_post does.  A keeld too old to report them gets none of
 * these rather than invented values.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "xl_backend_keel.h"

#define XLK_TX_RETRIES	  32
#define XLK_CONSOLE_LIMIT 1048576 /* LIBXL_XENCONSOLE_LIMIT */

char *xlk_store_read(struct xlk *k, const char *fmt, ...)
{
	char path[512], *v = NULL;
	unsigned len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(path) || ks_read(k->xs, KS_TX_NONE, path, &v, &len) < 0)
		return NULL;
	return v;
}

int xlk_store_vm_path(struct xlk *k, uint32_t domid, char **vm_path, uint8_t uuid[16])
{
	char *vm = xlk_store_read(k, "/local/domain/%u/vm", domid);

	if (!vm)
		return -ENOENT;
	/* "/vm/<uuid>": anything else is not ours to trust */
	if (strncmp(vm, "/vm/", 4) || xlcfg_uuid_parse(vm + 4, uuid) < 0) {
		free(vm);
		return -EINVAL;
	}
	*vm_path = vm;
	return 0;
}

void xlk_store_domain_facts(struct xlk *k, struct xl_domain_info *d, const char *keeld_name)
{
	char *name = xlk_store_read(k, "/local/domain/%u/name", d->domid), *vm = NULL, *st;

	snprintf(d->name, sizeof(d->name), "%s", name ? name : keeld_name);
	free(name);
	memset(d->uuid, 0, sizeof(d->uuid));
	if (xlk_store_vm_path(k, d->domid, &vm, d->uuid) < 0)
		return;
	/* libxl_vm_get_start_time: "<seconds>.<hundredths>" */
	st = xlk_store_read(k, "%s/start_time", vm);
	if (st)
		d->start_time_s = strtoull(st, NULL, 10);
	free(st);
	free(vm);
}

int xlk_store_tx(struct xlk *k, xlk_tx_step step, void *arg)
{
	for (int i = 0; i < XLK_TX_RETRIES; i++) {
		ks_tx_t tx;
		int r = ks_tx_start(k->xs, &tx);

		if (r < 0)
			return r;
		r = step(k, tx, arg);
		if (r < 0) {
			ks_tx_end(k->xs, tx, false);
			return r;
		}
		r = ks_tx_end(k->xs, tx, true);
		if (r != -EAGAIN)
			return r;
	}
	return -EAGAIN;
}

static int xlk_writef(struct xlk *k, ks_tx_t tx, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int xlk_writef(struct xlk *k, ks_tx_t tx, const char *path, const char *fmt, ...)
{
	char *v;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = ks_write_str(k->xs, tx, path, v);
	free(v);
	return r;
}

/* libxl__xs_mknod: an empty node with the given permissions. */
static int xlk_mknod(struct xlk *k, ks_tx_t tx, const char *path, const struct ks_perm *p,
		     unsigned n)
{
	int r = ks_write(k->xs, tx, path, "", 0);

	return r < 0 ? r : ks_set_perms(k->xs, tx, path, p, n);
}

struct xlk_make {
	uint32_t domid;
	const struct xlcfg_domain *dom;
	const struct keelctl_dominfo *info; /* frames and ports; NULL: not known */
	char dom_path[64], vm_path[64], libxl_path[64], con_front[96], con_back[96];
	char start_time[32];
};

/* libxl__domain_make's transaction. */
static int xlk_make_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	static const char *const rw_nodes[] = {
		"device/suspend/event-channel",
		"control/shutdown",
		"control/feature-poweroff",
		"control/feature-reboot",
		"control/feature-suspend",
		"control/sysrq",
		"data",
		"drivers",
		"feature",
		"attr",
		"error",
	};
	static const char *const ro_nodes[] = {"cpu", "memory", "device", "control"};
	struct xlk_make *m = arg;
	const struct ks_perm noperm[] = {{0, 'n'}},
			     roperm[] = {{0, 'n'}, {(uint16_t)m->domid, 'r'}},
			     rwperm[] = {{(uint16_t)m->domid, 'n'}};
	char uuid[37], path[256];
	int r;

	xlcfg_uuid_unparse(m->dom->uuid, uuid);
	ks_rm(k->xs, tx, m->dom_path);
	ks_rm(k->xs, tx, m->vm_path);
	ks_rm(k->xs, tx, m->libxl_path);
	if ((r = xlk_mknod(k, tx, m->dom_path, roperm, 2)) < 0 ||
	    (r = xlk_mknod(k, tx, m->vm_path, roperm, 2)) < 0 ||
	    (r = xlk_mknod(k, tx, m->libxl_path, noperm, 1)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/device", m->libxl_path);
	if ((r = xlk_mknod(k, tx, path, noperm, 1)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/vm", m->dom_path);
	if ((r = ks_write_str(k->xs, tx, path, m->vm_path)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/name", m->dom_path);
	if ((r = ks_write_str(k->xs, tx, path, m->dom->name)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(ro_nodes) / sizeof(ro_nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dom_path, ro_nodes[i]);
		if ((r = xlk_mknod(k, tx, path, roperm, 2)) < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(rw_nodes) / sizeof(rw_nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dom_path, rw_nodes[i]);
		if ((r = xlk_mknod(k, tx, path, rwperm, 1)) < 0)
			return r;
	}
	/*
	 * A driver domain gets its own libxl/ and device-model/ directories,
	 * as libxl__domain_make gives them, for a toolstack (xl devd) and a
	 * device model running inside it.
	 */
	for (size_t i = 0; m->dom->driver_domain == XLCFG_TRUE && i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dom_path, i ? "device-model" : "libxl");
		if ((r = xlk_mknod(k, tx, path, rwperm, 1)) < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/uuid", m->vm_path);
	if ((r = ks_write_str(k->xs, tx, path, uuid)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/name", m->vm_path);
	if ((r = ks_write_str(k->xs, tx, path, m->dom->name)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/control/platform-feature-multiprocessor-suspend",
		 m->dom_path);
	if ((r = ks_write_str(k->xs, tx, path, "1")) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/control/platform-feature-xs_reset_watches", m->dom_path);
	if ((r = ks_write_str(k->xs, tx, path, "1")) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/type", m->libxl_path);
	return ks_write_str(k->xs, tx, path, xlcfg_type_name(m->dom->type));
}

/* libxl__build_post's transaction. */
static int xlk_post_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	struct xlk_make *m = arg;
	const struct xlcfg_domain *d = m->dom;
	char path[256];
	int r;

#define XLK_PUT(dir, key, ...)                                      \
	do {                                                        \
		snprintf(path, sizeof(path), "%s/%s", dir, key);    \
		if ((r = xlk_writef(k, tx, path, __VA_ARGS__)) < 0) \
			return r;                                   \
	} while (0)
	XLK_PUT(m->dom_path, "memory/static-max", "%llu", (unsigned long long)d->max_memkb);
	/* libxl__build_post: the target without the video RAM, and that apart */
	XLK_PUT(m->dom_path, "memory/target", "%llu",
		(unsigned long long)(d->target_memkb - xlk_video_memkb(d)));
	XLK_PUT(m->dom_path, "memory/videoram", "%llu", (unsigned long long)xlk_video_memkb(d));
	XLK_PUT(m->dom_path, "domid", "%u", m->domid);
	if (m->info) {
		XLK_PUT(m->dom_path, "store/port", "%u", m->info->store_port);
		XLK_PUT(m->dom_path, "store/ring-ref", "%llu",
			(unsigned long long)m->info->store_mfn);
	}
	for (int i = 0; i < (d->max_vcpus > d->vcpus ? d->max_vcpus : d->vcpus); i++) {
		snprintf(path, sizeof(path), "%s/cpu/%d/availability", m->dom_path, i);
		if ((r = ks_write_str(k->xs, tx, path, i < d->vcpus ? "online" : "offline")) < 0)
			return r;
	}
	XLK_PUT(m->vm_path, "start_time", "%s", m->start_time);
	if (d->type == XLCFG_TYPE_HVM)
		return xlk_hvm_store_keys(k, tx, m->dom_path, m->vm_path, d);
	XLK_PUT(m->vm_path, "image/ostype", "%s", "linux");
	XLK_PUT(m->vm_path, "image/kernel", "%s", d->kernel);
	if (d->ramdisk)
		XLK_PUT(m->vm_path, "image/ramdisk", "%s", d->ramdisk);
	if (d->cmdline)
		XLK_PUT(m->vm_path, "image/cmdline", "%s", d->cmdline);
	return 0;
}

/*
 * libxl__device_console_add for console 0 (backend in dom0), through
 * libxl__device_generic_add.  No port or ring-ref: keel-consoled starts
 * serving a console once they appear, which needs keeld to expose them.
 */
static int xlk_console_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	struct xlk_make *m = arg;
	uint16_t id = (uint16_t)m->domid;
	const struct ks_perm ro_front[] = {{0, 'n'}, {id, 'r'}}, front[] = {{id, 'n'}, {0, 'r'}},
			     back[] = {{0, 'n'}, {id, 'r'}};
	char path[256], dev[128];
	int r;

	/* libxl keeps its own copy of the backend's keys under /libxl/<domid>/device */
	snprintf(dev, sizeof(dev), "%s/device/console/0", m->libxl_path);
	ks_rm(k->xs, tx, dev);
	XLK_PUT(dev, "frontend", "%s", m->con_front);
	XLK_PUT(dev, "backend", "%s", m->con_back);
	XLK_PUT(dev, "frontend-id", "%u", m->domid);
	XLK_PUT(dev, "online", "1");
	XLK_PUT(dev, "state", "1");
	XLK_PUT(dev, "protocol", "vt100");

	ks_rm(k->xs, tx, m->con_front);
	if ((r = ks_mkdir(k->xs, tx, m->con_front)) < 0 ||
	    (r = ks_set_perms(k->xs, tx, m->con_front, ro_front, 2)) < 0)
		return r;
	XLK_PUT(m->con_front, "backend", "%s", m->con_back);
	XLK_PUT(m->con_front, "backend-id", "0");
	snprintf(path, sizeof(path), "%s/backend-id", m->con_front);
	if ((r = ks_set_perms(k->xs, tx, path, front, 2)) < 0)
		return r;
	XLK_PUT(m->con_front, "limit", "%d", XLK_CONSOLE_LIMIT);
	XLK_PUT(m->con_front, "type", "xenconsoled");
	XLK_PUT(m->con_front, "output", "pty");
	XLK_PUT(m->con_front, "tty", "%s", "");
	if (m->info) { /* once these exist, keel-consoled serves the ring */
		XLK_PUT(m->con_front, "port", "%u", m->info->console_port);
		XLK_PUT(m->con_front, "ring-ref", "%llu", (unsigned long long)m->info->console_mfn);
	}

	ks_rm(k->xs, tx, m->con_back);
	if ((r = ks_mkdir(k->xs, tx, m->con_back)) < 0 ||
	    (r = ks_set_perms(k->xs, tx, m->con_back, back, 2)) < 0)
		return r;
	XLK_PUT(m->con_back, "frontend", "%s", m->con_front);
	XLK_PUT(m->con_back, "frontend-id", "%u", m->domid);
	XLK_PUT(m->con_back, "online", "1");
	XLK_PUT(m->con_back, "state", "1");
	XLK_PUT(m->con_back, "protocol", "vt100");
	return 0;
#undef XLK_PUT
}

int xlk_store_make_domain(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	struct xlk_make m = {.domid = domid, .dom = dom};
	struct keelctl_dominfo info;
	char uuid[37];
	struct timeval tv;
	int r;

	r = keelctl_domain_getinfo(k->ctl, domid, &info);
	if (r < 0)
		return r;
	if (info.store_port && info.console_port)
		m.info = &info;

	xlcfg_uuid_unparse(dom->uuid, uuid);
	snprintf(m.dom_path, sizeof(m.dom_path), "/local/domain/%u", domid);
	snprintf(m.vm_path, sizeof(m.vm_path), "/vm/%s", uuid);
	snprintf(m.libxl_path, sizeof(m.libxl_path), "/libxl/%u", domid);
	snprintf(m.con_front, sizeof(m.con_front), "/local/domain/%u/console", domid);
	snprintf(m.con_back, sizeof(m.con_back), "/local/domain/0/backend/console/%u/0", domid);
	gettimeofday(&tv, NULL);
	snprintf(m.start_time, sizeof(m.start_time), "%lld.%02d", (long long)tv.tv_sec,
		 (int)(tv.tv_usec / 10000));
	r = xlk_store_tx(k, xlk_make_step, &m);
	if (r == 0)
		r = xlk_store_tx(k, xlk_post_step, &m);
	if (r == 0)
		r = xlk_store_tx(k, xlk_console_step, &m);
	/* the vbds and vifs, before the guest first runs (libxl__add_disks/nics);
	 * an HVM domain's disks get theirs too, beside QEMU's emulated IDE
	 * drives (xl_backend_keel_dm.c) */
	if (r == 0)
		r = xlk_devices_write(k, domid, dom);
	/* xs_introduce_domain: the store serves the guest's ring from now on */
	if (r == 0 && m.info)
		r = ks_introduce(k->xs, domid, info.store_mfn, info.store_port);
	return r;
}

/* Another domain has this UUID: the two ends of a migration to localhost. */
static bool xlk_uuid_shared(struct xlk *k, uint32_t domid, const uint8_t uuid[16])
{
	struct keelctl_dominfo *all = calloc(XLK_MAX_DOMAINS, sizeof(*all));
	int n = all ? keelctl_domain_list(k->ctl, all, XLK_MAX_DOMAINS) : -ENOMEM;
	bool shared = false;

	for (int i = 0; i < n; i++)
		if (all[i].domid != domid && !memcmp(all[i].handle, uuid, 16))
			shared = true;
	free(all);
	return shared;
}

void xlk_store_forget_domain(struct xlk *k, uint32_t domid)
{
	uint8_t uuid[16];
	char *vm = NULL, path[128];
	bool introduced = false;

	/*
	 * Xen's xenstored notices a dead domain by itself (VIRQ_DOM_EXC);
	 * keel-xenstored hears of keeld's domains only from the toolstack, so
	 * release it here: its ring connection goes and @releaseDomain fires.
	 */
	if (ks_is_introduced(k->xs, domid, &introduced) == 0 && introduced)
		ks_release(k->xs, domid);
	/* devices first, so their backends close before their directories go */
	xlk_devices_remove_all(k, domid);
	/* and the frontends it served see their backends close */
	xlk_devices_backend_gone(k, domid);
	xlk_dm_stop(k, domid);

	if (xlk_store_vm_path(k, domid, &vm, uuid) == 0 && !xlk_uuid_shared(k, domid, uuid))
		ks_rm(k->xs, KS_TX_NONE, vm);
	free(vm);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "/libxl/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/console/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/qdisk/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
}

int xlk_find_name(struct xlk *k, const char *name, uint32_t *domid)
{
	struct keelctl_dominfo *infos;
	char *dom0 = xlk_store_read(k, "/local/domain/0/name");
	int n, r = -ENOENT;

	/* domain 0 (the host) is not in keeld's table but has its name */
	if (!strcmp(dom0 ? dom0 : "Domain-0", name)) {
		free(dom0);
		*domid = 0;
		return 0;
	}
	free(dom0);
	infos = calloc(XLK_MAX_DOMAINS, sizeof(*infos));
	if (!infos)
		return -ENOMEM;
	n = keelctl_domain_list(k->ctl, infos, XLK_MAX_DOMAINS);
	for (int i = 0; i < n && i < XLK_MAX_DOMAINS && r == -ENOENT; i++) {
		char *s = xlk_store_read(k, "/local/domain/%u/name", infos[i].domid);

		if (!strcmp(s ? s : infos[i].name, name)) {
			*domid = infos[i].domid;
			r = 0;
		}
		free(s);
	}
	if (n < 0)
		r = n;
	free(infos);
	return r;
}

struct xlk_rename {
	uint32_t domid;
	const char *name;
};

static int xlk_rename_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	struct xlk_rename *rn = arg;
	uint8_t uuid[16];
	char path[128], *vm = NULL;
	int r;

	snprintf(path, sizeof(path), "/local/domain/%u/name", rn->domid);
	if ((r = ks_write_str(k->xs, tx, path, rn->name)) < 0)
		return r;
	if (xlk_store_vm_path(k, rn->domid, &vm, uuid) == 0) {
		snprintf(path, sizeof(path), "%s/name", vm);
		r = ks_write_str(k->xs, tx, path, rn->name);
	}
	free(vm);
	return r;
}

int xlk_store_rename(struct xlk *k, uint32_t domid, const char *name)
{
	struct xlk_rename rn = {domid, name};
	uint32_t other;

	/* nonempty names must be unique (libxl__domain_rename) */
	if (*name && xlk_find_name(k, name, &other) == 0 && other != domid)
		return -EEXIST;
	return xlk_store_tx(k, xlk_rename_step, &rn);
}
