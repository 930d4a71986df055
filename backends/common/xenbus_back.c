/*
 * Backend xenbus machinery (see xenbus_back.h): device discovery under our
 * backend directory, the frontend-state watch of each device and the
 * XenbusState transitions Linux's xenbus backends make.  Every key read from
 * the store was written by a toolstack or a frontend and is validated here
 * or by the driver before use.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../dom0/libkeelstore/keelstore.h"
#include "xenbus_back.h"

#define XB_MAX_DEVICES 1024
#define XB_ROOT_TOKEN  "xb-root"

struct xb_bus {
	struct ks_handle *ks;
	const struct xb_driver *drv;
	const struct bk_transport *tp;
	char root[96];
	int wake_fd;
	unsigned nr_devices;
	struct xb_device *devs;
};

static int xb_read_path(struct xb_bus *bus, const char *dir, const char *key, char **value)
{
	char path[320];
	unsigned len;

	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return ks_read(bus->ks, KS_TX_NONE, path, value, &len);
}

/* Strict unsigned decimal: no sign, no spaces, no trailing junk. */
static int xb_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int xb_read_be(struct xb_device *dev, const char *key, char **value)
{
	return xb_read_path(dev->bus, dev->be_path, key, value);
}

int xb_read_fe(struct xb_device *dev, const char *key, char **value)
{
	return xb_read_path(dev->bus, dev->fe_path, key, value);
}

static int xb_read_uint(struct xb_bus *bus, const char *dir, const char *key, unsigned long max,
			unsigned long *out)
{
	char *v = NULL;
	int err = xb_read_path(bus, dir, key, &v);

	if (!err)
		err = xb_parse_uint(v, max, out);
	free(v);
	return err;
}

int xb_read_fe_uint(struct xb_device *dev, const char *key, unsigned long max, unsigned long *out)
{
	return xb_read_uint(dev->bus, dev->fe_path, key, max, out);
}

int xb_read_be_uint(struct xb_device *dev, const char *key, unsigned long max, unsigned long *out)
{
	return xb_read_uint(dev->bus, dev->be_path, key, max, out);
}

/*
 * Write @path only while directory @dir still exists, in one transaction:
 * the store creates missing parents on a write, so a plain write racing
 * with the toolstack's removal of a device would bring the removed
 * directory back (as Linux's xenbus_switch_state, which checks first).
 * -ENOENT when the directory is gone; a conflicting commit is retried.
 */
static int xb_write_if_present(struct ks_handle *ks, const char *dir, const char *path,
			       const char *value)
{
	for (int tries = 0; tries < 8; tries++) {
		char *v = NULL;
		ks_tx_t tx;
		int err = ks_tx_start(ks, &tx);

		if (err)
			return err;
		err = ks_read(ks, tx, dir, &v, NULL);
		free(v);
		if (!err)
			err = ks_write_str(ks, tx, path, value);
		if (err) {
			ks_tx_end(ks, tx, false);
			return err;
		}
		err = ks_tx_end(ks, tx, true);
		if (err != -EAGAIN)
			return err;
	}
	return -EAGAIN;
}

int xb_write_be(struct xb_device *dev, const char *key, const char *fmt, ...)
{
	char path[320], value[1024];
	va_list ap;
	int n;

	if (snprintf(path, sizeof(path), "%s/%s", dev->be_path, key) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(value))
		return -EINVAL;
	return xb_write_if_present(dev->bus->ks, dev->be_path, path, value);
}

int xb_switch_state(struct xb_device *dev, int state)
{
	int err;

	if (dev->state == state)
		return 0;
	err = xb_write_be(dev, "state", "%d", state);
	if (err) {
		bk_log("%s: cannot write state %s: %s", dev->be_path, xenbus_state_name(state),
		       strerror(-err));
		return err;
	}
	dev->state = state;
	return 0;
}

void xb_device_fatal(struct xb_device *dev, int err, const char *fmt, ...)
{
	char msg[512], path[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bk_log("%s: %s (%s)", dev->be_path, msg, strerror(err < 0 ? -err : err));
	/* Where Linux's xenbus_dev_fatal puts it: error/<nodename>/error. */
	if (snprintf(path, sizeof(path), "error%s/error", dev->be_path) < (int)sizeof(path)) {
		char val[600];

		snprintf(val, sizeof(val), "%d %s", err < 0 ? -err : err, msg);
		ks_write_str(dev->bus->ks, KS_TX_NONE, path, val);
	}
	xb_switch_state(dev, XenbusStateClosing);
}

void xb_device_request_close(struct xb_device *dev)
{
	uint64_t one = 1;

	__atomic_store_n(&dev->close_requested, 1, __ATOMIC_RELEASE);
	if (write(dev->bus->wake_fd, &one, sizeof(one)) != sizeof(one))
		bk_log("%s: cannot wake the bus thread", dev->be_path);
}

const struct bk_transport *xb_bus_transport(const struct xb_bus *bus)
{
	return bus->tp;
}

struct ks_handle *xb_bus_store(const struct xb_bus *bus)
{
	return bus->ks;
}

unsigned xb_bus_device_count(const struct xb_bus *bus)
{
	return bus->nr_devices;
}

static void xb_fe_token(const struct xb_device *dev, char *buf, size_t len)
{
	snprintf(buf, len, "xb-fe/%u/%u", dev->domid, dev->devid);
}

static void xb_disconnect(struct xb_device *dev)
{
	if (dev->connected) {
		dev->bus->drv->disconnect(dev);
		dev->connected = false;
	}
}

static void xb_device_free(struct xb_device *dev)
{
	struct xb_bus *bus = dev->bus;
	char token[64], path[300];

	xb_disconnect(dev);
	if (bus->drv->remove)
		bus->drv->remove(dev);
	xb_fe_token(dev, token, sizeof(token));
	snprintf(path, sizeof(path), "%s/state", dev->fe_path);
	if (dev->fe_path[0])
		ks_unwatch(bus->ks, path, token);
	for (struct xb_device **pp = &bus->devs; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	bus->nr_devices--;
	free(dev);
}

static struct xb_device *xb_find(struct xb_bus *bus, unsigned long domid, unsigned long devid)
{
	for (struct xb_device *d = bus->devs; d; d = d->next)
		if (d->domid == domid && d->devid == devid)
			return d;
	return NULL;
}

/*
 * The frontend is ready (Initialised or Connected) and we are in InitWait:
 * connect and go to Connected, once the driver says the toolstack's
 * hotplug work is done (Linux's netback serves nothing before the hotplug
 * script brought its interface up; ours: hotplug-status "connected", which
 * the vif script or a driver domain's xl devd writes once the TAP is on its
 * bridge).  Until then nothing is mapped; the bus tries again on each
 * change under the backend directory.  @say: log the wait.
 */
static void xb_connect_when_hotplugged(struct xb_device *dev, bool say)
{
	const struct xb_driver *drv = dev->bus->drv;
	int err;

	if (drv->hotplug_done && !drv->hotplug_done(dev)) {
		if (say)
			bk_log("%s: the frontend is ready; waiting for hotplug-status",
			       dev->be_path);
		return;
	}
	err = drv->connect(dev);
	if (err) {
		drv->disconnect(dev);
		xb_device_fatal(dev, err, "connecting to the frontend failed");
		return;
	}
	dev->connected = true;
	xb_switch_state(dev, XenbusStateConnected);
}

/* The frontend's state changed (or may have): make the matching backend move. */
static void xb_frontend_changed(struct xb_device *dev)
{
	unsigned long st = XenbusStateUnknown, online = 1;

	if (xb_read_uint(dev->bus, dev->fe_path, "state", XENBUS_STATE_MAX, &st))
		st = XenbusStateUnknown;
	dev->fe_state = (int)st;
	switch (dev->fe_state) {
	case XenbusStateInitialising:
		if (dev->state == XenbusStateClosed)
			xb_switch_state(dev, XenbusStateInitWait);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (dev->state == XenbusStateConnected || dev->state == XenbusStateClosing)
			break;
		if (dev->state != XenbusStateInitWait)
			break;
		if (dev->connected)
			xb_disconnect(dev);
		xb_connect_when_hotplugged(dev, true);
		break;
	case XenbusStateClosing:
		xb_disconnect(dev);
		xb_switch_state(dev, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
		xb_disconnect(dev);
		xb_switch_state(dev, XenbusStateClosed);
		if (xb_read_uint(dev->bus, dev->be_path, "online", 1, &online) == 0 && !online)
			xb_device_free(dev);
		break;
	default:
		break;
	}
}

/* A backend node appeared: set up a device for it (or leave it for the next event). */
static void xb_add_device(struct xb_bus *bus, unsigned long domid, unsigned long devid,
			  const char *be_path)
{
	struct xb_device *dev;
	char *fe = NULL, token[64], path[300];
	unsigned long fe_id, online;
	int err;

	if (bus->nr_devices >= XB_MAX_DEVICES || strlen(be_path) >= sizeof(dev->be_path))
		return;
	/* Both keys or nothing yet: a toolstack may still be writing them. */
	if (xb_read_path(bus, be_path, "frontend", &fe))
		return;
	err = xb_read_uint(bus, be_path, "frontend-id", 0xffff, &fe_id);
	/* A device detached (online=0) waits for the toolstack to remove its node. */
	if (err == -ENOENT || (xb_read_uint(bus, be_path, "online", 1, &online) == 0 && !online)) {
		free(fe);
		return;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		free(fe);
		return;
	}
	dev->bus = bus;
	dev->domid = (uint16_t)domid;
	dev->devid = (uint32_t)devid;
	dev->state = XenbusStateUnknown;
	snprintf(dev->be_path, sizeof(dev->be_path), "%s", be_path);
	dev->next = bus->devs;
	bus->devs = dev;
	bus->nr_devices++;
	if (strlen(fe) >= sizeof(dev->fe_path) || fe[0] != '/') {
		free(fe);
		xb_device_fatal(dev, EINVAL, "bad frontend path");
		return;
	}
	snprintf(dev->fe_path, sizeof(dev->fe_path), "%s", fe);
	free(fe);
	if (err || fe_id != domid) {
		xb_device_fatal(dev, EINVAL, "frontend-id does not name domain %lu", domid);
		return;
	}
	err = bus->drv->probe(dev);
	if (err) {
		/* a probe that reported its own reason already closed the device */
		if (dev->state != XenbusStateClosing)
			xb_device_fatal(dev, err, "probe failed");
		return;
	}
	xb_switch_state(dev, XenbusStateInitWait);
	xb_fe_token(dev, token, sizeof(token));
	snprintf(path, sizeof(path), "%s/state", dev->fe_path);
	err = ks_watch(bus->ks, path, token);
	if (err)
		xb_device_fatal(dev, err, "cannot watch %s", path);
}

/* Reconcile our devices with the backend directory. */
static void xb_rescan(struct xb_bus *bus)
{
	char **doms = NULL;
	unsigned nd = 0;

	if (ks_directory(bus->ks, KS_TX_NONE, bus->root, &doms, &nd))
		nd = 0;
	for (struct xb_device *d = bus->devs, *next; d; d = next) {
		char *v = NULL;
		unsigned len;

		next = d->next;
		/* A backend node the toolstack removed takes its device with it. */
		if (ks_read(bus->ks, KS_TX_NONE, d->be_path, &v, &len) == -ENOENT) {
			xb_device_free(d);
			continue;
		}
		free(v);
		/* something changed under it: perhaps the hotplug-status it waits for */
		if (d->state == XenbusStateInitWait && !d->connected &&
		    (d->fe_state == XenbusStateInitialised || d->fe_state == XenbusStateConnected))
			xb_connect_when_hotplugged(d, false);
	}
	for (unsigned i = 0; i < nd; i++) {
		char dompath[192], **devs = NULL;
		unsigned long domid, devid;
		unsigned ndev = 0;

		if (xb_parse_uint(doms[i], 0xfffe, &domid))
			continue;
		snprintf(dompath, sizeof(dompath), "%s/%s", bus->root, doms[i]);
		if (ks_directory(bus->ks, KS_TX_NONE, dompath, &devs, &ndev))
			continue;
		for (unsigned j = 0; j < ndev; j++) {
			char devpath[256];

			if (xb_parse_uint(devs[j], UINT32_MAX, &devid) ||
			    xb_find(bus, domid, devid))
				continue;
			snprintf(devpath, sizeof(devpath), "%s/%s", dompath, devs[j]);
			xb_add_device(bus, domid, devid, devpath);
		}
		free(devs);
	}
	free(doms);
}

static void xb_handle_event(struct xb_bus *bus, const char *path, const char *token)
{
	unsigned long domid, devid;
	struct xb_device *dev;
	char *end;

	if (!strcmp(token, XB_ROOT_TOKEN)) {
		xb_rescan(bus);
		return;
	}
	if (strncmp(token, "xb-fe/", 6))
		return;
	domid = strtoul(token + 6, &end, 10);
	if (*end != '/')
		return;
	devid = strtoul(end + 1, &end, 10);
	dev = xb_find(bus, domid, devid);
	if (dev && dev->state != XenbusStateUnknown)
		xb_frontend_changed(dev);
}

/* Devices whose threads found the frontend hostile: cut them off. */
static void xb_handle_close_requests(struct xb_bus *bus)
{
	uint64_t v;

	if (read(bus->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		bk_log("bus wake fd: %s", strerror(errno));
	for (struct xb_device *d = bus->devs; d; d = d->next) {
		if (!__atomic_exchange_n(&d->close_requested, 0, __ATOMIC_ACQ_REL))
			continue;
		xb_disconnect(d);
		xb_switch_state(d, XenbusStateClosing);
	}
}

static int xb_drain_events(struct xb_bus *bus)
{
	for (;;) {
		char *path = NULL, *token = NULL;
		int err = ks_read_watch(bus->ks, 0, &path, &token);

		if (err == -ETIMEDOUT)
			return 0;
		if (err)
			return err;
		xb_handle_event(bus, path, token);
		free(path);
		free(token);
	}
}

int xb_bus_process(struct xb_bus *bus, int timeout_ms)
{
	struct pollfd p[2] = {{ks_fd(bus->ks), POLLIN, 0}, {bus->wake_fd, POLLIN, 0}};
	int err = xb_drain_events(bus);

	if (err)
		return err;
	if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	if (p[1].revents & POLLIN)
		xb_handle_close_requests(bus);
	if (p[0].revents & (POLLHUP | POLLERR) && !(p[0].revents & POLLIN))
		return -ECONNRESET;
	return xb_drain_events(bus);
}

static volatile sig_atomic_t xb_dump_requested;

void xb_bus_request_dump(void)
{
	xb_dump_requested = 1;
}

int xb_bus_run(struct xb_bus *bus, volatile int *stop, int tick_ms)
{
	while (!*stop) {
		int err = xb_bus_process(bus, tick_ms);

		if (err)
			return err;
		if (xb_dump_requested) {
			xb_dump_requested = 0;
			for (struct xb_device *d = bus->devs; d && bus->drv->dump; d = d->next)
				if (d->connected)
					bus->drv->dump(d);
		}
	}
	return 0;
}

int xb_bus_open(const char *socket, const struct xb_driver *drv, const struct bk_transport *tp,
		struct xb_bus **out)
{
	struct xb_bus *bus = calloc(1, sizeof(*bus));
	int err;

	if (!bus)
		return -ENOMEM;
	bus->drv = drv;
	bus->tp = tp;
	bus->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bus->wake_fd < 0) {
		err = -errno;
		free(bus);
		return err;
	}
	snprintf(bus->root, sizeof(bus->root), "/local/domain/%u/backend/%s", tp->self_domid,
		 drv->type);
	err = ks_open(socket, &bus->ks);
	if (err)
		goto fail;
	/* Fires once at once, so devices written before we started are found. */
	err = ks_watch(bus->ks, bus->root, XB_ROOT_TOKEN);
	if (err)
		goto fail;
	*out = bus;
	return 0;
fail:
	if (bus->ks)
		ks_close(bus->ks);
	close(bus->wake_fd);
	free(bus);
	return err;
}

void xb_bus_close(struct xb_bus *bus)
{
	if (!bus)
		return;
	while (bus->devs) {
		struct xb_device *d = bus->devs;

		xb_disconnect(d);
		xb_switch_state(d, XenbusStateClosed);
		xb_device_free(d);
	}
	ks_close(bus->ks);
	close(bus->wake_fd);
	free(bus);
}
