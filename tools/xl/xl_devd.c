/*
 * `xl devd`: the toolstack's backend-side half inside a driver domain, as
 * Xen's devd (libxl_device_events_handler) runs it.  It finds its own domid
 * in the store (the node "domid" the toolstack wrote), watches
 * /local/domain/<self>/backend and, for Linux's kernel backends, does what
 * libxl's hotplug scripts do in dom0:
 *
 *   vbd: once the backend is in InitWait with online=1, its "params" names
 *        a block device (physical-device = its major:minor in hex, which is
 *        what xen-blkback reads) or an image file (attached to a free loop
 *        device first, read-only for mode "r"); hotplug-status connected.
 *        When this kernel has no xen-blkback, keel-blkback serves the vbd
 *        from "params" directly (as in dom0) and nothing is set up.
 *   vif: once in InitWait, vif<dom>.<devid> is added to the bridge its
 *        "bridge" node names (inside this domain) and brought up;
 *        hotplug-status connected, which xen-netback waits for.
 *
 * When a device is Closed with online=0, or its directory is gone, the loop
 * device is detached and the backend directory removed (libxl__device_destroy
 * in the backend domain).  Failures are written where libxl writes them:
 * hotplug-status "error" and hotplug-error.
 *
 * The store is reached through libkeelstore, which inside a guest opens
 * /dev/xen/xenbus (no socket there), so this runs in any Linux driver domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/loop.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "keelstore.h"
#include "xl.h"
#include "xl_device.h"

#define DEVD_TOKEN	    "xl-devd"
#define DEVD_STATE_INITWAIT 2
#define DEVD_STATE_CLOSED   6
#define DEVD_LOG	    "/var/log/xen/xldevd.log"
#define DEVD_KERNEL_VBD	    "/sys/bus/xen-backend/drivers/vbd"

/* A device this devd has set up (and must take down). */
struct devd_dev {
	struct devd_dev *next;
	char path[160]; /* its backend directory */
	bool is_vif;
	char loop[32]; /* the loop device it attached, or "" */
};

struct devd {
	struct ks_handle *xs;
	unsigned self;
	char root[64]; /* /local/domain/<self>/backend */
	struct devd_dev *devs;
};

static volatile sig_atomic_t devd_stop;

static void devd_on_signal(int sig)
{
	(void)sig;
	devd_stop = 1;
}

static void devd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void devd_log(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one write per line: the console is shared with the kernel and the
	 * backends, and a line written in pieces gets theirs in between */
	fprintf(stderr, "xl devd: %s\n", msg);
	fflush(stderr);
}

/* NULL when the node cannot be read; else a malloc'd string. */
static char *devd_read(struct devd *d, const char *dir, const char *key)
{
	char path[256], *v = NULL;
	unsigned len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return ks_read(d->xs, KS_TX_NONE, path, &v, &len) < 0 ? NULL : v;
}

static int devd_read_int(struct devd *d, const char *dir, const char *key)
{
	char *v = devd_read(d, dir, key);
	int n = v ? atoi(v) : -1;

	free(v);
	return n;
}

static int devd_write(struct devd *d, const char *dir, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int devd_write(struct devd *d, const char *dir, const char *key, const char *fmt, ...)
{
	char path[256], val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return ks_write_str(d->xs, KS_TX_NONE, path, val);
}

/* libxl's way to report a failed hotplug: hotplug-error, hotplug-status=error. */
static int devd_fail(struct devd *d, const char *dir, int err, const char *what)
{
	devd_log("%s: %s: %s", dir, what, strerror(-err));
	devd_write(d, dir, "hotplug-error", "%s: %s", what, strerror(-err));
	devd_write(d, dir, "hotplug-status", "error");
	return err;
}

/* Attach @file to a free loop device (the block script's losetup). */
static int devd_loop_attach(const char *file, bool ro, char *loop, size_t n)
{
	struct loop_info64 info = {.lo_flags = ro ? LO_FLAGS_READ_ONLY : 0};
	int ctl, fd = -1, lfd = -1, nr, r = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (nr < 0)
		r = -errno;
	close(ctl);
	if (r)
		return r;
	snprintf(loop, n, "/dev/loop%d", nr);
	fd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	lfd = open(loop, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (lfd < 0 || ioctl(lfd, LOOP_SET_FD, fd) < 0)
		r = -errno;
	else if (snprintf((char *)info.lo_file_name, sizeof(info.lo_file_name), "%s", file),
		 ioctl(lfd, LOOP_SET_STATUS64, &info) < 0) {
		r = -errno;
		ioctl(lfd, LOOP_CLR_FD, 0);
	}
	if (lfd >= 0)
		close(lfd);
	close(fd);
	return r;
}

static void devd_loop_detach(const char *loop)
{
	int fd = open(loop, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, LOOP_CLR_FD, 0) < 0)
		devd_log("%s: cannot detach: %s", loop, strerror(errno));
	else
		devd_log("%s: detached", loop);
	if (fd >= 0)
		close(fd);
}

/*
 * Whether this domain's kernel serves vbds: Linux's xen-blkback registers
 * the xen-backend driver "vbd".  A vbd reaches InitWait only once a backend
 * has probed it, so when that driver is absent then, a user-space backend
 * (keel-blkback, as in dom0) serves the device and opens "params" itself.
 */
static bool devd_kernel_blkback(void)
{
	struct stat st;

	return stat(DEVD_KERNEL_VBD, &st) == 0;
}

/* The block script's work: params -> physical-device (major:minor, hex). */
static int devd_vbd_add(struct devd *d, struct devd_dev *dev)
{
	char *params = devd_read(d, dev->path, "params"), *mode = devd_read(d, dev->path, "mode");
	const char *target = params;
	bool ro = mode && mode[0] == 'r';
	struct stat st;
	int r = 0;

	if (!params || !*params) {
		r = devd_fail(d, dev->path, -EINVAL, "no params");
		goto out;
	}
	if (!devd_kernel_blkback()) {
		/* nothing to attach; the directory is still removed when it goes */
		devd_log("%s: %s served by a user-space backend (no kernel blkback)", dev->path,
			 params);
		goto out;
	}
	if (stat(target, &st) < 0) {
		r = devd_fail(d, dev->path, -errno, params);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		r = devd_loop_attach(params, ro, dev->loop, sizeof(dev->loop));
		if (r < 0) {
			dev->loop[0] = 0;
			r = devd_fail(d, dev->path, r, "losetup");
			goto out;
		}
		target = dev->loop;
		if (stat(target, &st) < 0) {
			r = devd_fail(d, dev->path, -errno, target);
			goto out;
		}
	} else if (!S_ISBLK(st.st_mode)) {
		r = devd_fail(d, dev->path, -ENOTBLK, params);
		goto out;
	}
	if ((r = devd_write(d, dev->path, "physical-device", "%x:%x", major(st.st_rdev),
			    minor(st.st_rdev))) < 0 ||
	    (r = devd_write(d, dev->path, "physical-device-path", "%s", target)) < 0 ||
	    (r = devd_write(d, dev->path, "hotplug-status", "connected")) < 0) {
		devd_log("%s: cannot write to the store: %s", dev->path, strerror(-r));
		goto out;
	}
	devd_log("%s: %s -> physical-device %x:%x%s", dev->path, params, major(st.st_rdev),
		 minor(st.st_rdev), ro ? " (read-only)" : "");
out:
	free(params);
	free(mode);
	return r;
}

/* The vif-bridge script's work: vif<dom>.<devid> (the backend's name for
 * it) renamed to the vifname= if one was given, into the bridge, up. */
static int devd_vif_add(struct devd *d, struct devd_dev *dev, unsigned fe, unsigned devid)
{
	char *bridge = devd_read(d, dev->path, "bridge"),
	     *name = devd_read(d, dev->path, "vifname");
	char vif[IFNAMSIZ];
	const char *what;
	int r;

	snprintf(vif, sizeof(vif), "vif%u.%u", fe, devid);
	if (name && *name && strcmp(name, vif)) {
		/* ENODEV: renamed already (an earlier devd's work) */
		r = xl_netif_rename(vif, name);
		if (r < 0 && r != -ENODEV) {
			r = devd_fail(d, dev->path, r, name);
			goto out;
		}
		snprintf(vif, sizeof(vif), "%s", name);
	}
	r = xl_netif_bridge_up(vif, bridge, &what);
	if (r < 0) {
		r = devd_fail(d, dev->path, r, what);
		goto out;
	}
	r = devd_write(d, dev->path, "hotplug-status", "connected");
	devd_log("%s: %s up%s%s", dev->path, vif, bridge && *bridge ? " in bridge " : "",
		 bridge ? bridge : "");
out:
	free(bridge);
	free(name);
	return r;
}

static struct devd_dev *devd_find(struct devd *d, const char *path)
{
	for (struct devd_dev *v = d->devs; v; v = v->next)
		if (!strcmp(v->path, path))
			return v;
	return NULL;
}

/* libxl__device_destroy in the backend domain: undo the setup, drop the directory. */
static void devd_remove(struct devd *d, struct devd_dev *dev, bool dir_exists)
{
	struct devd_dev **pp = &d->devs;

	if (dev->loop[0])
		devd_loop_detach(dev->loop);
	if (dir_exists)
		ks_rm(d->xs, KS_TX_NONE, dev->path);
	devd_log("%s: removed", dev->path);
	while (*pp != dev)
		pp = &(*pp)->next;
	*pp = dev->next;
	free(dev);
}

/* One backend directory: add it on InitWait, remove it once Closed and offline. */
static void devd_device(struct devd *d, bool is_vif, unsigned fe, unsigned devid)
{
	char path[160];
	struct devd_dev *dev;
	int state, online;

	snprintf(path, sizeof(path), "%s/%s/%u/%u", d->root, is_vif ? "vif" : "vbd", fe, devid);
	dev = devd_find(d, path);
	state = devd_read_int(d, path, "state");
	online = devd_read_int(d, path, "online");
	if (dev && state == DEVD_STATE_CLOSED && online == 0) {
		devd_remove(d, dev, true);
		return;
	}
	if (dev || state != DEVD_STATE_INITWAIT || online != 1)
		return;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return;
	snprintf(dev->path, sizeof(dev->path), "%s", path);
	dev->is_vif = is_vif;
	dev->next = d->devs;
	d->devs = dev;
	if (is_vif)
		devd_vif_add(d, dev, fe, devid);
	else
		devd_vbd_add(d, dev);
}

/* Every device under backend/<kind>: new ones, finished ones. */
static void devd_scan_kind(struct devd *d, bool is_vif)
{
	char path[96], **fes = NULL;
	unsigned nfe = 0;

	snprintf(path, sizeof(path), "%s/%s", d->root, is_vif ? "vif" : "vbd");
	if (ks_directory(d->xs, KS_TX_NONE, path, &fes, &nfe) < 0)
		return;
	for (unsigned i = 0; i < nfe; i++) {
		char fpath[160], **ids = NULL, *end;
		unsigned nid = 0;
		unsigned long fe = strtoul(fes[i], &end, 10);

		if (*end || fe > 0xffff)
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, fes[i]);
		if (ks_directory(d->xs, KS_TX_NONE, fpath, &ids, &nid) < 0)
			continue;
		for (unsigned j = 0; j < nid; j++) {
			unsigned long id = strtoul(ids[j], &end, 10);

			if (!*end && id <= UINT_MAX)
				devd_device(d, is_vif, (unsigned)fe, (unsigned)id);
		}
		free(ids);
	}
	free(fes);
}

static void devd_scan(struct devd *d)
{
	devd_scan_kind(d, false);
	devd_scan_kind(d, true);
	/* devices whose directory went away (the toolstack removed them) */
	for (struct devd_dev *v = d->devs, *next; v; v = next) {
		char *st = devd_read(d, v->path, "state");

		next = v->next;
		if (!st)
			devd_remove(d, v, false);
		free(st);
	}
}

/* Our domid, from the node the toolstack wrote (libxl__get_domid). */
static int devd_self(struct devd *d)
{
	char *v = NULL, *end;
	unsigned len;
	unsigned long id;
	int r = ks_read(d->xs, KS_TX_NONE, "domid", &v, &len);

	if (r < 0)
		return r;
	id = strtoul(v, &end, 10);
	r = (*v && !*end && id < 0x7ff0) ? 0 : -EINVAL;
	d->self = (unsigned)id;
	free(v);
	return r;
}

static int devd_run(struct devd *d)
{
	int r;

	if ((r = devd_self(d)) < 0) {
		devd_log("cannot read this domain's domid from the store: %s", strerror(-r));
		return r;
	}
	snprintf(d->root, sizeof(d->root), "/local/domain/%u/backend", d->self);
	if ((r = ks_watch(d->xs, d->root, DEVD_TOKEN)) < 0) {
		devd_log("cannot watch %s: %s", d->root, strerror(-r));
		return r;
	}
	devd_log("domain %u: watching %s", d->self, d->root);
	while (!devd_stop) {
		char *path = NULL, *token = NULL;

		r = ks_read_watch(d->xs, 1000, &path, &token);
		free(path); /* path and token are one allocation */
		if (r == -ETIMEDOUT || r == -EINTR)
			continue;
		if (r < 0) {
			devd_log("the store connection failed: %s", strerror(-r));
			return r;
		}
		devd_scan(d);
	}
	return 0;
}

/* Xen's do_daemonize: detach, log to a file, write the pid file. */
static int devd_daemonize(const char *pidfile)
{
	pid_t pid;
	int fd;

	mkdir("/var/log/xen", 0755);
	fd = open(DEVD_LOG, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "xl devd: cannot open %s: %s\n", DEVD_LOG, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "xl devd: fork: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f) {
			devd_log("cannot write %s: %s", pidfile, strerror(errno));
			return -1;
		}
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	return 0;
}

int main_devd(int argc, char **argv)
{
	static const struct option longopts[] = {{"pidfile", required_argument, NULL, 'p'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct devd d = {0};
	const char *pidfile = NULL;
	bool foreground = false;
	struct sigaction sa = {.sa_handler = devd_on_signal};
	int c, r;

	while ((c = getopt_long(argc, argv, "+Fp:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			foreground = true;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'h':
			xl_help("devd");
			return 0;
		default:
			fprintf(stderr, "option `%c' not supported.\n", optopt);
			return 2;
		}
	}
	if (optind != argc) {
		xl_help("devd");
		return 2;
	}
	r = ks_open(NULL, &d.xs);
	if (r < 0) {
		fprintf(stderr, "xl devd: cannot reach the store (%s, or %s): %s\n",
			getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH") : KS_DEFAULT_SOCKET,
			KS_XENBUS_DEVICE, strerror(-r));
		return 1;
	}
	if (!foreground && devd_daemonize(pidfile) < 0) {
		ks_close(d.xs);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = devd_run(&d);
	/* as Xen's devd, devices stay set up when it stops */
	while (d.devs) {
		struct devd_dev *v = d.devs;

		d.devs = v->next;
		free(v);
	}
	ks_close(d.xs);
	return r < 0 ? 1 : 0;
}
