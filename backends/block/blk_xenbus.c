/*
 * The "vbd" xenbus driver: what blkback reads from and writes to the store.
 * From the toolstack (backend directory): params (the image path), mode
 * (r or w), discard-enable.  Published at probe, before InitWait, so the
 * frontend can choose: feature-flush-cache, feature-discard (with
 * discard-granularity/-alignment/-secure), feature-persistent,
 * feature-max-indirect-segments, multi-queue-max-queues,
 * max-ring-page-order, and the disk's sectors (512-byte units), info,
 * sector-size, physical-sector-size.  From the frontend at connect:
 * protocol, feature-persistent, multi-queue-num-queues, ring-page-order,
 * ring-ref or ring-refN (per queue under queue-N/ when several), and
 * event-channel.  Values out of range make the connect fail (the device
 * goes to Closing with an error node), never reach the queues.  Each
 * device's request counters are published for xentop from probe to remove
 * (blk_stats.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xenbus_back.h"
#include "blkback.h"

struct blk_vbd {
	struct blk_image *img;
	char *params; /* the image, opened read-write only once a frontend connects */
	bool ro, discard;
	struct blk_dev *dev;
	struct blk_stats_pub *counters;
};

_Static_assert(BLK_MAX_QUEUES <= KEEL_VBD_STATS_QUEUES, "a counter slot for every queue");

static void blk_xenbus_fatal(void *arg)
{
	xb_device_request_close(arg);
}

static int blk_xenbus_probe(struct xb_device *xd)
{
	struct blk_vbd *v;
	char *params = NULL, *mode = NULL;
	unsigned long discard = 1;
	bool ro;
	int err;

	err = xb_read_be(xd, "params", &params);
	if (err) {
		xb_device_fatal(xd, err, "reading params");
		return err;
	}
	if (xb_read_be(xd, "mode", &mode) == 0 && strcmp(mode, "r") && strcmp(mode, "w")) {
		free(mode);
		free(params);
		return -EINVAL;
	}
	ro = mode && !strcmp(mode, "r");
	free(mode);
	if (xb_read_be_uint(xd, "discard-enable", 1, &discard))
		discard = 1;
	v = calloc(1, sizeof(*v));
	if (!v) {
		free(params);
		return -ENOMEM;
	}
	/*
	 * Read-only until a frontend connects: in InitWait the image is only
	 * measured, so a device model that has it open for an HVM domain's
	 * emulated disk (whose guest has no PV frontend) never shares it
	 * with a writer here.
	 */
	err = blk_image_open(params, true, &v->img);
	if (err) {
		bk_log("%s: cannot open %s: %s", xd->be_path, params, strerror(-err));
		free(params);
		free(v);
		return err;
	}
	v->params = params;
	v->ro = ro;
	v->discard = discard && v->img->can_discard && !ro;
	xd->priv = v;
	err = blk_stats_publish(xd->domid, xd->devid, &v->counters);
	if (err)
		return err;
	err = xb_write_be(xd, "feature-flush-cache", "1");
	if (!err)
		err = xb_write_be(xd, "feature-discard", "%d", v->discard);
	if (!err && v->discard) {
		err = xb_write_be(xd, "discard-granularity", "%u", BK_PAGE_SIZE);
		if (!err)
			err = xb_write_be(xd, "discard-alignment", "0");
		if (!err)
			err = xb_write_be(xd, "discard-secure", "0");
	}
	if (!err)
		err = xb_write_be(xd, "feature-persistent", "1");
	if (!err)
		err = xb_write_be(xd, "feature-max-indirect-segments", "%u",
				  BLK_MAX_INDIRECT_SEGMENTS);
	if (!err)
		err = xb_write_be(xd, "multi-queue-max-queues", "%u", BLK_MAX_QUEUES);
	if (!err)
		err = xb_write_be(xd, "max-ring-page-order", "%u", BLK_MAX_RING_PAGE_ORDER);
	if (!err)
		err = xb_write_be(xd, "sectors", "%llu",
				  (unsigned long long)(v->img->size / BLKIF_SECTOR_SIZE));
	if (!err)
		err = xb_write_be(xd, "info", "%u", ro ? VDISK_READONLY : 0);
	if (!err)
		err = xb_write_be(xd, "sector-size", "%u", v->img->sector_size);
	if (!err)
		err = xb_write_be(xd, "physical-sector-size", "%u", v->img->phys_sector_size);
	return err;
}

/* ring-ref / ring-refN and event-channel of one queue, under @dir ("" or "queue-N/"). */
static int blk_xenbus_read_queue(struct xb_device *xd, const char *dir, unsigned order,
				 bool order_given, struct blk_queue_params *qp)
{
	char key[64];
	unsigned long v;
	int err;

	qp->ring_order = order;
	for (unsigned i = 0; i < (1u << order); i++) {
		if (order_given)
			snprintf(key, sizeof(key), "%sring-ref%u", dir, i);
		else
			snprintf(key, sizeof(key), "%sring-ref", dir);
		err = xb_read_fe_uint(xd, key, UINT32_MAX, &v);
		if (err) {
			xb_device_fatal(xd, err, "reading %s/%s", xd->fe_path, key);
			return err;
		}
		qp->ring_refs[i] = (grant_ref_t)v;
	}
	snprintf(key, sizeof(key), "%sevent-channel", dir);
	err = xb_read_fe_uint(xd, key, UINT32_MAX, &v);
	if (err) {
		xb_device_fatal(xd, err, "reading %s/%s", xd->fe_path, key);
		return err;
	}
	qp->evtchn = (uint32_t)v;
	return 0;
}

static int blk_xenbus_connect(struct xb_device *xd)
{
	struct blk_vbd *v = xd->priv;
	struct blk_dev_params p = {0};
	unsigned long order = 0, nq = 1, persistent = 0;
	bool order_given;
	char *proto = NULL;
	int err;

	if (!v)
		return -ENODEV;
	if (!v->ro && v->img->readonly) {
		struct blk_image *rw;

		err = blk_image_open(v->params, false, &rw);
		if (err) {
			xb_device_fatal(xd, -err, "opening %s read-write", v->params);
			return err;
		}
		blk_image_close(v->img);
		v->img = rw;
	}
	/* Only the 64-bit layout is served; a 32-bit guest's would be misread. */
	if (xb_read_fe(xd, "protocol", &proto) == 0 && strcmp(proto, "x86_64-abi")) {
		xb_device_fatal(xd, EPROTONOSUPPORT, "unsupported ring protocol %.32s", proto);
		free(proto);
		return -EPROTONOSUPPORT;
	}
	free(proto);
	if (xb_read_fe_uint(xd, "feature-persistent", 1, &persistent))
		persistent = 0;
	err = xb_read_fe_uint(xd, "ring-page-order", BLK_MAX_RING_PAGE_ORDER, &order);
	if (err == -EINVAL) {
		xb_device_fatal(xd, err, "bad ring-page-order");
		return err;
	}
	order_given = err == 0;
	err = xb_read_fe_uint(xd, "multi-queue-num-queues", BLK_MAX_QUEUES, &nq);
	if (err == -EINVAL || (!err && nq == 0)) {
		xb_device_fatal(xd, EINVAL, "bad multi-queue-num-queues");
		return -EINVAL;
	}
	if (err)
		nq = 1;
	p.img = v->img;
	p.tp = xb_bus_transport(xd->bus);
	p.domid = xd->domid;
	p.persistent = persistent;
	p.max_indirect = BLK_MAX_INDIRECT_SEGMENTS;
	p.discard = v->discard;
	p.nr_queues = (unsigned)nq;
	p.counters = blk_stats_file(v->counters);
	__atomic_store_n(&p.counters->nr_queues, (uint32_t)nq, __ATOMIC_RELAXED);
	p.on_fatal = blk_xenbus_fatal;
	p.fatal_arg = xd;
	for (unsigned i = 0; i < nq; i++) {
		char dir[32] = "";

		if (nq > 1)
			snprintf(dir, sizeof(dir), "queue-%u/", i);
		err = blk_xenbus_read_queue(xd, dir, (unsigned)order, order_given, &p.queue[i]);
		if (err)
			return err;
	}
	err = blk_dev_connect(&p, &v->dev);
	if (err) {
		v->dev = NULL;
		xb_device_fatal(xd, err, "mapping the rings or binding the event channels");
	}
	return err;
}

static void blk_xenbus_disconnect(struct xb_device *xd)
{
	struct blk_vbd *v = xd->priv;

	if (v && v->dev) {
		blk_dev_disconnect(v->dev);
		v->dev = NULL;
	}
}

static void blk_xenbus_remove(struct xb_device *xd)
{
	struct blk_vbd *v = xd->priv;

	if (!v)
		return;
	blk_xenbus_disconnect(xd);
	blk_stats_withdraw(v->counters);
	blk_image_close(v->img);
	free(v->params);
	free(v);
	xd->priv = NULL;
}

const struct xb_driver blk_xenbus_driver = {
	.type = "vbd",
	.probe = blk_xenbus_probe,
	.connect = blk_xenbus_connect,
	.disconnect = blk_xenbus_disconnect,
	.remove = blk_xenbus_remove,
};
