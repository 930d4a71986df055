/*
 * PV devices through the store, for xl's keeld backend: what libxl's
 * device code does on Xen.  Adding writes the frontend, backend and libxl
 * copy directories of a vbd or vif in one transaction
 * (libxl__device_generic_add), before the domain first runs when it is
 * created.  Removing follows libxl__initiate_device_generic_remove: the
 * backend gets online=0 and state=5 (Closing), the toolstack waits (bounded)
 * for it to reach Closed (6) -- keel-blkback/keel-netback get there once the
 * frontend has closed, or at once when the frontend directory is gone -- and
 * then removes all three directories whether or not it got there, so no
 * missing or stuck backend can hang xl.
 *
 * A frontend that never started (state Initialising, or no node) has nobody
 * to run the handshake with, so its directory is removed right away instead
 * of after libxl's ten-second timeout; a live one (InitWait..Closing) gets
 * that timeout and is then removed by force, as libxl retries a timed-out
 * removal with force.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xl_backend_keel.h"

#define XLK_DEV_TIMEOUT_MS	 10000 /* LIBXL_DESTROY_TIMEOUT */
#define XLK_DEV_FORCE_TIMEOUT_MS 2000  /* after the frontend is gone */
#define XLK_DEV_POLL_MS		 20
#define XLK_DEV_INIT_TIMEOUT_MS	 10000 /* LIBXL_INIT_TIMEOUT */
#define XLK_DEV_SETTLE_MS	 100

static int xlk_dev_read(void *ctx, const char *path, char **value)
{
	unsigned len;

	return ks_read(((struct xlk *)ctx)->xs, KS_TX_NONE, path, value, &len);
}

static int xlk_dev_directory(void *ctx, const char *path, char ***names, unsigned *n)
{
	return ks_directory(((struct xlk *)ctx)->xs, KS_TX_NONE, path, names, n);
}

static bool xlk_dev_exists(struct xlk *k, ks_tx_t tx, const char *path)
{
	char *v = NULL;
	unsigned len;
	int r = ks_read(k->xs, tx, path, &v, &len);

	free(v);
	return r == 0;
}

struct xlk_dev_add {
	struct xl_dev_layout *l;
	bool exclusive; /* attach: refuse a device that is there already */
};

/* libxl__device_generic_add: frontend, backend and libxl's copy, with their owners. */
static int xlk_dev_add_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	struct xlk_dev_add *a = arg;
	struct xl_dev_layout *l = a->l;
	const struct ks_perm fe_perm[] = {{(uint16_t)l->domid, 'n'}, {(uint16_t)l->be_domid, 'r'}},
			     be_perm[] = {{(uint16_t)l->be_domid, 'n'}, {(uint16_t)l->domid, 'r'}},
			     lx_perm[] = {{0, 'n'}};
	char path[256];
	int r;

	if (a->exclusive &&
	    (xlk_dev_exists(k, tx, l->libxl_path) || xlk_dev_exists(k, tx, l->be_path) ||
	     xlk_dev_exists(k, tx, l->fe_path)))
		return -EEXIST;
#define XLK_DEV_PUT(dir, key, val)                                  \
	do {                                                        \
		snprintf(path, sizeof(path), "%s/%s", dir, key);    \
		if ((r = ks_write_str(k->xs, tx, path, (val))) < 0) \
			return r;                                   \
	} while (0)
	ks_rm(k->xs, tx, l->fe_path);
	if ((r = ks_mkdir(k->xs, tx, l->fe_path)) < 0 ||
	    (r = ks_set_perms(k->xs, tx, l->fe_path, fe_perm, 2)) < 0)
		return r;
	XLK_DEV_PUT(l->fe_path, "backend", l->be_path);
	for (int i = 0; i < l->n_fe; i++)
		XLK_DEV_PUT(l->fe_path, l->fe[i].key, l->fe[i].value);

	ks_rm(k->xs, tx, l->be_path);
	if ((r = ks_mkdir(k->xs, tx, l->be_path)) < 0 ||
	    (r = ks_set_perms(k->xs, tx, l->be_path, be_perm, 2)) < 0)
		return r;
	XLK_DEV_PUT(l->be_path, "frontend", l->fe_path);
	for (int i = 0; i < l->n_be; i++)
		XLK_DEV_PUT(l->be_path, l->be[i].key, l->be[i].value);

	ks_rm(k->xs, tx, l->libxl_path);
	if ((r = ks_mkdir(k->xs, tx, l->libxl_path)) < 0 ||
	    (r = ks_set_perms(k->xs, tx, l->libxl_path, lx_perm, 1)) < 0)
		return r;
	XLK_DEV_PUT(l->libxl_path, "frontend", l->fe_path);
	XLK_DEV_PUT(l->libxl_path, "backend", l->be_path);
	for (int i = 0; i < l->n_be; i++)
		XLK_DEV_PUT(l->libxl_path, l->be[i].key, l->be[i].value);
	return 0;
#undef XLK_DEV_PUT
}

/*
 * The backend domain of a disk or vif: dom0 unless backend= names another,
 * by name or by number (libxl_domain_qualifier_to_domid).  It must exist
 * and still run (not shut down or crashed): its backends are to serve the
 * device.
 */
static int xlk_dev_backend_domid(struct xlk *k, const char *name, uint32_t *be)
{
	struct keelctl_dominfo info;
	char *end;
	unsigned long id;

	*be = 0;
	if (!name || !*name)
		return 0;
	id = strtoul(name, &end, 10);
	if (*end ? xlk_find_name(k, name, be) < 0 : id >= 0x7ff0) {
		fprintf(stderr, "xl: backend domain \"%s\" does not exist\n", name);
		return -ENOENT;
	}
	if (!*end)
		*be = (uint32_t)id;
	if (*be == 0)
		return 0;
	if (keelctl_domain_getinfo(k->ctl, *be, &info) < 0) {
		fprintf(stderr, "xl: backend domain \"%s\" does not exist\n", name);
		return -ENOENT;
	}
	if (info.shutdown_reason >= 0 || info.crash_reason[0]) {
		fprintf(stderr, "xl: backend domain \"%s\" (%u) is not running\n", name, *be);
		return -ESRCH;
	}
	return 0;
}

/* The layout of one device of a domain's configuration (devid assigned for vifs). */
static int xlk_dev_layout(struct xlk *k, uint32_t domid, const struct xl_dev_spec *s,
			  struct xl_dev_layout *l)
{
	uint32_t be;
	int r;

	if (s->kind == XL_DEV_VBD) {
		struct stat st;

		r = xlk_dev_backend_domid(k, s->disk->backend_domname, &be);
		if (r < 0)
			return r;
		/*
		 * libxl stats a phy target before it writes anything; a target
		 * in another backend domain is that domain's path ("Non-local
		 * backend, assuming phy backend").
		 */
		if (be == 0 && s->disk->target && *s->disk->target &&
		    stat(s->disk->target, &st) < 0) {
			r = -errno;
			fprintf(stderr, "xl: disk %s: cannot use %s: %s\n",
				s->disk->vdev ? s->disk->vdev : "?", s->disk->target, strerror(-r));
			return r;
		}
		return xl_dev_vbd_layout(domid, be, s->disk, s->hvm, l);
	}
	r = xlk_dev_backend_domid(k, s->vif->backend_domname, &be);
	return r < 0 ? r : xl_dev_vif_layout(domid, be, s->vif, l);
}

int xlk_devices_check(struct xlk *k, const struct xlcfg_domain *dom)
{
	struct xl_dev_layout l;
	int r = 0;

	for (int i = 0; i < dom->n_disks && !r; i++) {
		struct xl_dev_spec s = {.kind = XL_DEV_VBD,
					.disk = &dom->disks[i],
					.hvm = dom->type == XLCFG_TYPE_HVM};

		r = xlk_dev_layout(k, 0, &s, &l);
		if (!r)
			xl_dev_layout_clear(&l);
		else if (r == -ENOENT || r == -ESRCH)
			fprintf(stderr,
				"libxl: error: libxl_create.c:initiate_domain_create: "
				"Unable to set disk defaults for disk %d\n",
				i);
		for (int j = 0; j < i && !r; j++)
			if (dom->disks[j].vdev_number == dom->disks[i].vdev_number) {
				fprintf(stderr, "xl: disk %s: the same device as %s\n",
					dom->disks[i].vdev, dom->disks[j].vdev);
				r = -EEXIST;
			}
	}
	for (int i = 0; i < dom->n_vifs && !r; i++) {
		struct xl_dev_spec s = {.kind = XL_DEV_VIF, .vif = &dom->vifs[i]};

		r = xlk_dev_layout(k, 0, &s, &l);
		if (!r)
			xl_dev_layout_clear(&l);
		else if (r == -ENOENT || r == -ESRCH)
			fprintf(stderr,
				"libxl: error: libxl_create.c:initiate_domain_create: "
				"Unable to set nic defaults for nic %d\n",
				i);
		for (int j = 0; j < i && !r; j++)
			if (dom->vifs[j].devid == dom->vifs[i].devid) {
				fprintf(stderr, "xl: vif %d: devid given twice\n",
					dom->vifs[i].devid);
				r = -EEXIST;
			}
	}
	return r;
}

static long long xlk_now_ms(void);

/* The dom0 daemon serving a kind runs under our run directory (its pid file names it). */
static bool xlk_dev_daemon_alive(struct xlk *k, enum xl_dev_kind kind)
{
	char path[PATH_MAX + 32];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pid", k->rundir,
		 kind == XL_DEV_VBD ? "blkback" : "netback");
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/*
 * libxl__wait_device_connection: the backend has probed the device
 * (InitWait or later) before the guest may run, so a frontend finds it
 * ready; a backend that failed (Closing/Closed, with its error node) fails
 * the caller.  Devices of a dom0 daemon that is not running are reported
 * and not waited for; backends in other domains are not waited for.
 */
static int xlk_dev_wait_ready(struct xlk *k, const struct xl_dev_layout *l, long long deadline)
{
	const char *kn = xl_dev_kind_name(l->kind);

	if (l->be_domid != 0)
		return 0;
	if (!l->qdisk && !xlk_dev_daemon_alive(k, l->kind)) {
		fprintf(stderr, "xl: note: no %s running under %s: %s %u waits for one\n",
			l->kind == XL_DEV_VBD ? "keel-blkback" : "keel-netback", k->rundir, kn,
			l->devid);
		return 0;
	}
	for (;;) {
		char *st = xlk_store_read(k, "%s/state", l->be_path);
		int s = st ? atoi(st) : 0;

		free(st);
		if (s >= 2 && s <= XL_XENBUS_CONNECTED)
			return 0;
		if (s >= XL_XENBUS_CLOSING) {
			char *why = xlk_store_read(k, "/local/domain/0/error%s/error", l->be_path);

			fprintf(stderr, "xl: %s %u: the backend refused it: %s\n", kn, l->devid,
				why ? why : "(no reason given)");
			free(why);
			return -EIO;
		}
		if (xlk_now_ms() >= deadline) {
			fprintf(stderr, "xl: %s %u: the backend did not take it up (state %d)\n",
				kn, l->devid, s);
			return -ETIMEDOUT;
		}
		usleep(XLK_DEV_POLL_MS * 1000);
	}
}

/*
 * A device taken up by its backend gets its hotplug script run (when it
 * names one), as libxl runs it once the backend is in InitWait.
 */
static int xlk_dev_bring_up(struct xlk *k, const struct xl_dev_layout *l, long long deadline)
{
	int r = xlk_dev_wait_ready(k, l, deadline);

	if (r == 0 && !l->qdisk && l->be_domid == 0 && xlk_dev_daemon_alive(k, l->kind))
		r = xlk_hotplug_run(k, l->be_path, true);
	return r;
}

/*
 * libxl__add_disks/nics, then the device model: every device's nodes
 * first (keel-blkback/keel-netback take theirs up at once and are waited
 * for), then, if any disk is QEMU's, QEMU is started and its disks waited
 * for in turn.  An HVM domain's disks get the same nodes (libxl writes
 * them for every disk; its CD-ROMs are qdisk), but its QEMU is the device
 * model xl starts after the store (xlk_dm_start_hvm), which serves them
 * as its emulated IDE drives: its qdisk nodes are not waited for here.
 */
int xlk_devices_write(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	long long deadline = xlk_now_ms() + XLK_DEV_INIT_TIMEOUT_MS;
	bool qdisk = false, hvm = dom->type == XLCFG_TYPE_HVM;
	int r = 0;

	for (int i = 0; i < dom->n_disks + dom->n_vifs && !r; i++) {
		struct xl_dev_spec s = {.kind = i < dom->n_disks ? XL_DEV_VBD : XL_DEV_VIF,
					.hvm = hvm};
		struct xl_dev_layout l;
		struct xlk_dev_add a = {.l = &l};

		if (s.kind == XL_DEV_VBD)
			s.disk = &dom->disks[i];
		else
			s.vif = &dom->vifs[i - dom->n_disks];
		r = xlk_dev_layout(k, domid, &s, &l);
		if (r == 0) {
			r = xlk_store_tx(k, xlk_dev_add_step, &a);
			if (r == 0 && !l.qdisk)
				r = xlk_dev_bring_up(k, &l, deadline);
			qdisk |= l.qdisk;
			xl_dev_layout_clear(&l);
		}
	}
	if (r || !qdisk || hvm)
		return r;
	r = xlk_dm_start(k, domid, dom->name);
	deadline = xlk_now_ms() + XLK_DEV_INIT_TIMEOUT_MS;
	for (int i = 0; i < dom->n_disks && !r; i++) {
		struct xl_dev_spec s = {.kind = XL_DEV_VBD, .disk = &dom->disks[i]};
		struct xl_dev_layout l;

		if (!xl_dev_vbd_is_qdisk(s.disk))
			continue;
		r = xlk_dev_layout(k, domid, &s, &l);
		if (r == 0) {
			r = xlk_dev_wait_ready(k, &l, deadline);
			xl_dev_layout_clear(&l);
		}
	}
	return r;
}

/* ---- removal ------------------------------------------------------------ */

struct xlk_dev_ref {
	char fe[128], be[128], lx[128];
	bool force, gone;
};

/* Find a device by libxl's copy (or, without one, the default backend path). */
static int xlk_dev_locate(struct xlk *k, uint32_t domid, enum xl_dev_kind kind, uint32_t devid,
			  struct xlk_dev_ref *d)
{
	const char *kn = xl_dev_kind_name(kind);
	char *be, *fe;
	unsigned bd;

	memset(d, 0, sizeof(*d));
	snprintf(d->lx, sizeof(d->lx), "/libxl/%u/device/%s/%u", domid, kn, devid);
	snprintf(d->fe, sizeof(d->fe), "/local/domain/%u/device/%s/%u", domid, kn, devid);
	snprintf(d->be, sizeof(d->be), "/local/domain/0/backend/%s/%u/%u", kn, domid, devid);
	be = xlk_store_read(k, "%s/backend", d->lx);
	fe = xlk_store_read(k, "%s/frontend", d->lx);
	/* libxl's copy is dom0's own; still only accept backend paths of the right shape */
	if (be && sscanf(be, "/local/domain/%u/backend/", &bd) == 1 && strlen(be) < sizeof(d->be))
		snprintf(d->be, sizeof(d->be), "%s", be);
	if (fe && !strncmp(fe, "/local/domain/", 14) && strlen(fe) < sizeof(d->fe))
		snprintf(d->fe, sizeof(d->fe), "%s", fe);
	free(be);
	free(fe);
	if (!xlk_dev_exists(k, KS_TX_NONE, d->lx) && !xlk_dev_exists(k, KS_TX_NONE, d->be) &&
	    !xlk_dev_exists(k, KS_TX_NONE, d->fe))
		return -ENOENT;
	return 0;
}

/* The backend is told to close: online=0, state=5 unless Closed already. */
static int xlk_dev_close_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	struct xlk_dev_ref *d = arg;
	char path[160], *st = NULL;
	unsigned len;
	int r;

	if (d->force)
		ks_rm(k->xs, tx, d->fe);
	snprintf(path, sizeof(path), "%s/state", d->be);
	if (ks_read(k->xs, tx, path, &st, &len) < 0) {
		d->gone = true; /* no backend left: only the rest to clean up */
		return 0;
	}
	snprintf(path, sizeof(path), "%s/online", d->be);
	r = ks_write_str(k->xs, tx, path, "0");
	if (r == 0 && atoi(st) != XL_XENBUS_CLOSED) {
		snprintf(path, sizeof(path), "%s/state", d->be);
		r = ks_write_str(k->xs, tx, path, "5");
	}
	free(st);
	return r;
}

static long long xlk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* Until every backend is Closed or gone, or @timeout_ms passed; true when they all are. */
static bool xlk_dev_wait_closed(struct xlk *k, struct xlk_dev_ref *d, int n, int timeout_ms)
{
	long long end = xlk_now_ms() + timeout_ms;

	for (;;) {
		bool all = true;

		for (int i = 0; i < n; i++) {
			char *st;

			if (d[i].gone)
				continue;
			st = xlk_store_read(k, "%s/state", d[i].be);
			if (!st || atoi(st) == XL_XENBUS_CLOSED)
				d[i].gone = true;
			else
				all = false;
			free(st);
		}
		if (all)
			return true;
		if (xlk_now_ms() >= end)
			return false;
		usleep(XLK_DEV_POLL_MS * 1000);
	}
}

/* libxl__xs_path_cleanup for the backend: its node, then the <domid> dir if empty. */
static void xlk_dev_forget(struct xlk *k, struct xlk_dev_ref *d)
{
	char parent[128], **names = NULL;
	unsigned n = 1;

	char err[200];
	unsigned be_domid;

	ks_rm(k->xs, KS_TX_NONE, d->fe);
	ks_rm(k->xs, KS_TX_NONE, d->be);
	ks_rm(k->xs, KS_TX_NONE, d->lx);
	/* the backend's error report (xenbus_dev_fatal's error/<backend path>) */
	if (sscanf(d->be, "/local/domain/%u/", &be_domid) == 1) {
		snprintf(err, sizeof(err), "/local/domain/%u/error%s", be_domid, d->be);
		ks_rm(k->xs, KS_TX_NONE, err);
	}
	snprintf(parent, sizeof(parent), "%s", d->be);
	*strrchr(parent, '/') = 0;
	if (ks_directory(k->xs, KS_TX_NONE, parent, &names, &n) == 0 && n == 0)
		ks_rm(k->xs, KS_TX_NONE, parent);
	free(names);
}

/* A frontend that can take part in the handshake: InitWait (2) to Closing (5). */
static bool xlk_dev_frontend_live(struct xlk *k, const struct xlk_dev_ref *d)
{
	char *st = xlk_store_read(k, "%s/state", d->fe);
	int s = st ? atoi(st) : 0;

	free(st);
	return s > XL_XENBUS_INITIALISING && s < XL_XENBUS_CLOSED;
}

/* Close and remove @n devices together; the waits are shared, not per device. */
static int xlk_dev_remove_many(struct xlk *k, struct xlk_dev_ref *d, int n, bool force)
{
	bool waiting = false;
	int r = 0;

	for (int i = 0; i < n; i++) {
		d[i].force = force || !xlk_dev_frontend_live(k, &d[i]);
		waiting |= !d[i].force;
		r = xlk_store_tx(k, xlk_dev_close_step, &d[i]);
		if (r < 0)
			d[i].gone = true; /* cannot tell it to close: remove it anyway */
	}
	if (waiting && !xlk_dev_wait_closed(k, d, n, XLK_DEV_TIMEOUT_MS)) {
		/* as libxl after its timeout: again, by force */
		for (int i = 0; i < n; i++) {
			if (d[i].gone || d[i].force)
				continue;
			d[i].force = true;
			xlk_store_tx(k, xlk_dev_close_step, &d[i]);
		}
	}
	xlk_dev_wait_closed(k, d, n, XLK_DEV_FORCE_TIMEOUT_MS);
	/* libxl: the remove/offline script once the backend closed, before its nodes go */
	for (int i = 0; i < n; i++)
		xlk_hotplug_run(k, d[i].be, false);
	for (int i = 0; i < n; i++)
		xlk_dev_forget(k, &d[i]);
	/*
	 * A backend still rescanning its directory when the node went (its
	 * reads are not one transaction) can take the half-read node for a new
	 * device and write into it, bringing the path back; look once more
	 * after it has settled and remove what came back.
	 */
	usleep(XLK_DEV_SETTLE_MS * 1000);
	for (int i = 0; i < n; i++)
		if (xlk_dev_exists(k, KS_TX_NONE, d[i].be))
			xlk_dev_forget(k, &d[i]);
	return r;
}

void xlk_devices_remove_all(struct xlk *k, uint32_t domid)
{
	struct xlk_dev_ref *refs = NULL;
	int nrefs = 0;

	for (int kind = XL_DEV_VBD; kind <= XL_DEV_VIF; kind++) {
		struct xl_dev_reader rd = {xlk_dev_read, xlk_dev_directory, k};
		struct xl_dev_info *info = NULL;
		struct xlk_dev_ref *more;
		int n = 0;

		if (xl_dev_list(&rd, domid, (enum xl_dev_kind)kind, &info, &n) < 0 || !n) {
			free(info);
			continue;
		}
		more = realloc(refs, (size_t)(nrefs + n) * sizeof(*refs));
		if (more) {
			refs = more;
			for (int i = 0; i < n; i++)
				if (xlk_dev_locate(k, domid, (enum xl_dev_kind)kind, info[i].devid,
						   &refs[nrefs]) == 0)
					nrefs++;
		}
		free(info);
	}
	/* the domain is going: its frontends are not asked */
	if (nrefs)
		xlk_dev_remove_many(k, refs, nrefs, true);
	free(refs);
}

/*
 * A domain that served backends for others is gone (destroyed, or saved
 * away): its backend directories go with its /local/domain tree, as libxl
 * removes a dead domain's tree.  Before they go, each backend that had not
 * closed is marked Closed (online=0, state=6), which the dead backend can
 * no longer write itself, so its frontend sees its backend close and
 * closes too (Linux's frontends answer a backend's Closed with Closed; a
 * vanished state node reads as Unknown, which they ignore, and they would
 * wait on a dead ring forever).  keeld has already released every grant
 * map the dead domain held, so the frontend's end_foreign_access succeeds.
 * The frontend's directory and libxl's copy are left as Xen's toolstack
 * leaves them, Closed: `xl network-detach`/`block-detach` removes them, and
 * an attach to a restarted driver domain takes the next free devid.
 * Waits, shared and bounded, for the frontends that were connected.
 */
#define XLK_DEV_BACKEND_GONE_MAX 64

static int xlk_dev_mark_closed(struct xlk *k, ks_tx_t tx, void *arg)
{
	const char *be = arg;
	char path[200];
	int r;

	snprintf(path, sizeof(path), "%s/online", be);
	r = ks_write_str(k->xs, tx, path, "0");
	snprintf(path, sizeof(path), "%s/state", be);
	return r ? r : ks_write_str(k->xs, tx, path, "6");
}

/* The backends of @kind that @domid served: their frontend paths in @fe. */
static int xlk_dev_served(struct xlk *k, uint32_t domid, const char *kind, char (*fe)[128], int n)
{
	char dir[96], be[160], **doms = NULL, **ids = NULL;
	unsigned nd = 0, ni = 0;

	snprintf(dir, sizeof(dir), "/local/domain/%u/backend/%s", domid, kind);
	if (ks_directory(k->xs, KS_TX_NONE, dir, &doms, &nd) < 0)
		return n;
	for (unsigned i = 0; i < nd; i++) {
		snprintf(be, sizeof(be), "%s/%s", dir, doms[i]);
		if (ks_directory(k->xs, KS_TX_NONE, be, &ids, &ni) < 0)
			continue;
		for (unsigned j = 0; j < ni && n < XLK_DEV_BACKEND_GONE_MAX; j++) {
			char *st, *f;

			snprintf(be, sizeof(be), "%s/%s/%s", dir, doms[i], ids[j]);
			st = xlk_store_read(k, "%s/state", be);
			f = xlk_store_read(k, "%s/frontend", be);
			if (st && atoi(st) != XL_XENBUS_CLOSED && f && strlen(f) < sizeof(*fe) &&
			    xlk_store_tx(k, xlk_dev_mark_closed, be) == 0) {
				snprintf(fe[n++], sizeof(*fe), "%s", f);
				fprintf(stderr, "xl: domain %u is gone: its backend %s closed\n",
					domid, be);
			}
			free(st);
			free(f);
		}
		free(ids);
		ids = NULL;
	}
	free(doms);
	return n;
}

void xlk_devices_backend_gone(struct xlk *k, uint32_t domid)
{
	static const char *const kinds[] = {"vbd", "vif", "qdisk"};
	char fe[XLK_DEV_BACKEND_GONE_MAX][128];
	long long end = xlk_now_ms() + XLK_DEV_FORCE_TIMEOUT_MS;
	int n = 0, open;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		n = xlk_dev_served(k, domid, kinds[i], fe, n);
	do {
		open = 0;
		for (int i = 0; i < n; i++) {
			char *st = xlk_store_read(k, "%s/state", fe[i]);

			open += st && atoi(st) < XL_XENBUS_CLOSED;
			free(st);
		}
		if (open)
			usleep(XLK_DEV_POLL_MS * 1000);
	} while (open && xlk_now_ms() < end);
	if (open)
		fprintf(stderr, "xl: %d frontend(s) of domain %u's backends did not close\n", open,
			domid);
}

/* ---- the backend ops ---------------------------------------------------- */

static char *xlk_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Keep the saved configuration (`xl list -l`, restarts) in step with the devices. */
static void xlk_dev_config_update(struct xlk *k, uint32_t domid, const struct xl_dev_spec *add,
				  enum xl_dev_kind kind, uint32_t remove_devid)
{
	struct xlcfg_domain dom;

	memset(&dom, 0, sizeof(dom));
	if (xlk_get_config(k, domid, &dom) < 0)
		return; /* a domain xl did not create has no saved configuration */
	if (add && add->kind == XL_DEV_VBD) {
		struct xlcfg_disk *v = realloc(dom.disks, (dom.n_disks + 1) * sizeof(*v));

		if (v) {
			dom.disks = v;
			v[dom.n_disks] = *add->disk;
			v = &v[dom.n_disks++];
			v->target = xlk_strdup(v->target);
			v->vdev = xlk_strdup(v->vdev);
			v->backend_domname = xlk_strdup(v->backend_domname);
			v->script = xlk_strdup(v->script);
		}
	} else if (add) {
		struct xlcfg_vif *v = realloc(dom.vifs, (dom.n_vifs + 1) * sizeof(*v));

		if (v) {
			dom.vifs = v;
			v[dom.n_vifs] = *add->vif;
			v = &v[dom.n_vifs++];
			v->bridge = xlk_strdup(v->bridge);
			v->ip = xlk_strdup(v->ip);
			v->script = xlk_strdup(v->script);
			v->vifname = xlk_strdup(v->vifname);
			v->model = xlk_strdup(v->model);
			v->backend_domname = xlk_strdup(v->backend_domname);
			v->gatewaydev = xlk_strdup(v->gatewaydev);
			v->vlan = xlk_strdup(v->vlan);
		}
	} else if (kind == XL_DEV_VBD) {
		for (int i = 0; i < dom.n_disks; i++)
			if ((uint32_t)dom.disks[i].vdev_number == remove_devid) {
				xlcfg_disk_clear(&dom.disks[i]);
				memmove(&dom.disks[i], &dom.disks[i + 1],
					(size_t)(--dom.n_disks - i) * sizeof(dom.disks[0]));
				break;
			}
	} else {
		for (int i = 0; i < dom.n_vifs; i++)
			if ((uint32_t)dom.vifs[i].devid == remove_devid) {
				xlcfg_vif_clear(&dom.vifs[i]);
				memmove(&dom.vifs[i], &dom.vifs[i + 1],
					(size_t)(--dom.n_vifs - i) * sizeof(dom.vifs[0]));
				break;
			}
	}
	if (xlk_config_save(k, domid, &dom) < 0)
		fprintf(stderr,
			"xl: warning: could not update the saved configuration of "
			"domain %u\n",
			domid);
	xlcfg_domain_clear(&dom);
}

int xlk_device_list(void *h, uint32_t domid, enum xl_dev_kind kind, struct xl_dev_info **out,
		    int *n)
{
	struct xl_dev_reader rd = {xlk_dev_read, xlk_dev_directory, h};

	return xl_dev_list(&rd, domid, kind, out, n);
}

/* A domain keeld runs (devices of a domain that is not there make no sense). */
static int xlk_dev_domain_check(struct xlk *k, uint32_t domid)
{
	struct keelctl_dominfo info;

	if (domid == 0)
		return -EPERM; /* dom0's devices are the host's own */
	return keelctl_domain_getinfo(k->ctl, domid, &info);
}

int xlk_device_add(void *h, uint32_t domid, struct xl_dev_spec *s)
{
	struct xlk *k = h;
	struct xl_dev_layout l;
	struct xlk_dev_add a = {.l = &l, .exclusive = true};
	int r = xlk_dev_domain_check(k, domid);

	if (r < 0)
		return r;
	if (s->kind == XL_DEV_VIF) {
		struct xl_dev_info *info = NULL;
		int n = 0;

		/* libxl__device_nextid: one past the highest devid in use */
		if (s->vif->devid < 0) {
			r = xlk_device_list(k, domid, XL_DEV_VIF, &info, &n);
			if (r < 0)
				return r;
			s->vif->devid = n ? (int)info[n - 1].devid + 1 : 0;
			free(info);
		}
		r = xlcfg_vif_set_defaults(s->vif, XLCFG_TYPE_PV);
		if (r < 0)
			return r;
	}
	r = xlk_dev_layout(k, domid, s, &l);
	if (r < 0)
		return r;
	r = xlk_store_tx(k, xlk_dev_add_step, &a);
	if (r == -EEXIST)
		fprintf(stderr, "xl: %s %u of domain %u already exists (%s)\n",
			xl_dev_kind_name(s->kind), l.devid, domid, l.be_path);
	/* a qdisk disk attached to a domain QEMU does not serve yet starts it */
	if (r == 0 && l.qdisk) {
		char *name = xlk_store_read(k, "/local/domain/%u/name", domid);
		char fallback[24];

		snprintf(fallback, sizeof(fallback), "domain-%u", domid);
		r = xlk_dm_start(k, domid, name ? name : fallback);
		free(name);
	}
	if (r == 0) {
		r = xlk_dev_bring_up(k, &l, xlk_now_ms() + XLK_DEV_INIT_TIMEOUT_MS);
		/* a device its backend (or its script) refused is taken away again, as libxl does */
		if (r < 0) {
			struct xlk_dev_ref d;

			if (xlk_dev_locate(k, domid, s->kind, l.devid, &d) == 0)
				xlk_dev_remove_many(k, &d, 1, true);
		}
	}
	xl_dev_layout_clear(&l);
	if (r == 0)
		xlk_dev_config_update(k, domid, s, s->kind, 0);
	return r;
}

int xlk_device_remove(void *h, uint32_t domid, enum xl_dev_kind kind, uint32_t devid, bool force)
{
	struct xlk *k = h;
	struct xlk_dev_ref d;
	int r = xlk_dev_domain_check(k, domid);

	if (r == 0)
		r = xlk_dev_locate(k, domid, kind, devid, &d);
	if (r == 0)
		r = xlk_dev_remove_many(k, &d, 1, force);
	if (r == 0)
		xlk_dev_config_update(k, domid, NULL, kind, devid);
	return r;
}

struct xlk_dev_medium {
	const struct xlk_dev_ref *d;
	const char *type, *params;
};

/* cdrom_insert_ejected / _inserted: type and params, backend and libxl's copy. */
static int xlk_dev_medium_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	const struct xlk_dev_medium *m = arg;
	const char *dirs[] = {m->d->be, m->d->lx};
	char path[200];
	int r;

	snprintf(path, sizeof(path), "%s/frontend", m->d->lx);
	if (!xlk_dev_exists(k, tx, path))
		return -ENOENT;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/type", dirs[i]);
		if ((r = ks_write_str(k->xs, tx, path, m->type)) < 0)
			return r;
		snprintf(path, sizeof(path), "%s/params", dirs[i]);
		if ((r = ks_write_str(k->xs, tx, path, m->params)) < 0)
			return r;
	}
	return 0;
}

/*
 * An HVM domain's CD-ROM changed its medium (xl cd-insert / cd-eject): its
 * vbd's "type" and "params" follow in the backend and libxl's copy, as
 * libxl writes them once QEMU has the new medium -- "FORMAT:TARGET" once
 * @disk's medium is in.  Once ejected libxl writes "", but QEMU 7.2's
 * xen-bus, which tries to serve a qdisk node still in Initialising at
 * every change under its backend directory (an empty drive's, whose
 * creation fails), exits when it finds an empty params there (hvm-os
 * showed it); Keel writes "empty:", what create writes for an empty
 * drive.  The device must have libxl's copy, as libxl checks.
 */
int xlk_device_cdrom_params(struct xlk *k, uint32_t domid, const struct xlcfg_disk *disk,
			    bool ejected)
{
	struct xl_dev_layout l;
	struct xlk_dev_ref d;
	struct xlk_dev_medium m = {.d = &d};
	struct xlcfg_disk medium = *disk;
	int r;

	if (ejected) {
		medium.target = NULL;
		medium.format = XLCFG_FORMAT_EMPTY;
	}
	r = xl_dev_vbd_layout(domid, 0, &medium, true, &l);
	if (r < 0)
		return r;
	for (int i = 0; i < l.n_be; i++) {
		if (!strcmp(l.be[i].key, "type"))
			m.type = l.be[i].value;
		else if (!strcmp(l.be[i].key, "params"))
			m.params = l.be[i].value;
	}
	r = xlk_dev_locate(k, domid, XL_DEV_VBD, l.devid, &d);
	if (r == 0 && m.type && m.params)
		r = xlk_store_tx(k, xlk_dev_medium_step, &m);
	if (r == -ENOENT)
		fprintf(stderr,
			"libxl: error: libxl_disk.c:cdrom_insert_ejected: Domain %u:Internal "
			"error: %s/frontend does not exist\n",
			domid, d.lx);
	xl_dev_layout_clear(&l);
	return r;
}
