/*
 * The "vif" xenbus driver.  At probe, from the toolstack's backend keys:
 * the TAP device (vifname, else vif<domid>.<devid>) is created, its MTU set
 * (mtu, default 1500) and enslaved to the bridge (bridge, default xenbr0);
 * `rate` ("bytes,usec" as libxl writes it) sets the credit; the frontend's
 * MAC (mac) is checked for form.  hotplug-status=connected is written, as
 * the vif-bridge script would, since we did its job ourselves.  When the
 * toolstack named a hotplug script (the backend's `script` node) that job
 * is the script's, as with Linux's netback: the TAP is vif<domid>.<devid>,
 * left down and on no bridge, and the script (run by xl once we reach
 * InitWait) renames it to vifname, brings it up, puts it on the bridge and
 * writes hotplug-status.  As with Linux's netback, the frontend is served
 * (and the vif Connected) only once hotplug-status is "connected", so its
 * first frames do not meet a TAP that is down or on no bridge.  Then the
 * features: feature-sg, feature-gso-tcpv4/-tcpv6, feature-ipv6-csum-offload,
 * feature-rx-copy, feature-rx-flip=0, feature-split-event-channels,
 * multi-queue-max-queues=1.  At connect, from the frontend: tx-ring-ref,
 * rx-ring-ref, event-channel or event-channel-tx/-rx, request-rx-copy
 * (required: there is no page flipping), feature-sg,
 * feature-no-csum-offload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/xenbus_back.h"
#include "netback.h"

struct net_vbif {
	char ifname[16];
	int tap_fd;
	uint64_t credit_bytes, credit_usec;
	struct net_vif *vif;
};

static void net_xenbus_fatal(void *arg)
{
	xb_device_request_close(arg);
}

static bool net_mac_valid(const char *s)
{
	unsigned b[6];
	char end;

	return s && strlen(s) == 17 &&
	       sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		      &end) == 6 &&
	       !(b[0] & 1); /* not multicast */
}

/* libxl's "rate": "<bytes per interval>,<interval in microseconds>". */
static int net_parse_rate(const char *s, uint64_t *bytes, uint64_t *usec)
{
	unsigned long long b, u;
	char end;

	if (sscanf(s, "%llu,%llu%c", &b, &u, &end) != 2 || !b || !u || u > 1000000000ull)
		return -EINVAL;
	*bytes = b;
	*usec = u;
	return 0;
}

static int net_xenbus_probe(struct xb_device *xd)
{
	struct net_vbif *v = calloc(1, sizeof(*v));
	char *mac = NULL, *bridge = NULL, *rate = NULL, *name = NULL, *script = NULL;
	unsigned long mtu = 1500;
	bool scripted;
	int err = -ENOMEM;

	if (!v)
		return err;
	v->tap_fd = -1;
	xd->priv = v;
	if (xb_read_be(xd, "mac", &mac) == 0 && !net_mac_valid(mac)) {
		xb_device_fatal(xd, EINVAL, "bad mac '%.32s'", mac);
		err = -EINVAL;
		goto out;
	}
	if (xb_read_be(xd, "rate", &rate) == 0 &&
	    net_parse_rate(rate, &v->credit_bytes, &v->credit_usec)) {
		xb_device_fatal(xd, EINVAL, "bad rate '%.32s'", rate);
		err = -EINVAL;
		goto out;
	}
	if (xb_read_be_uint(xd, "mtu", 65535 - NET_ETH_HLEN, &mtu) == -EINVAL) {
		err = -EINVAL;
		goto out;
	}
	scripted = xb_read_be(xd, "script", &script) == 0 && script[0];
	if (!scripted && xb_read_be(xd, "vifname", &name) == 0)
		err = snprintf(v->ifname, sizeof(v->ifname), "%s", name);
	else
		err = snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", xd->domid, xd->devid);
	if (err < 0 || (size_t)err >= sizeof(v->ifname)) {
		xb_device_fatal(xd, ENAMETOOLONG, "interface name too long");
		err = -ENAMETOOLONG;
		goto out;
	}
	if ((err = net_tap_open(v->ifname, (unsigned)mtu, !scripted, &v->tap_fd))) {
		v->tap_fd = -1;
		xb_device_fatal(xd, err, "creating TAP device %s", v->ifname);
		goto out;
	}
	if (!scripted && xb_read_be(xd, "bridge", &bridge))
		bridge = strdup(NET_DEFAULT_BRIDGE);
	if (!scripted && (!bridge || (err = net_bridge_add(bridge, v->ifname)))) {
		err = bridge ? err : -ENOMEM;
		xb_device_fatal(xd, err, "adding %s to bridge %s", v->ifname,
				bridge ? bridge : "?");
		goto out;
	}
	err = scripted ? 0 : xb_write_be(xd, "hotplug-status", "connected");
	for (const char *const *k =
		     (const char *const[]){"feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
					   "feature-ipv6-csum-offload", "feature-rx-copy",
					   "feature-split-event-channels", NULL};
	     *k && !err; k++)
		err = xb_write_be(xd, *k, "1");
	if (!err)
		err = xb_write_be(xd, "feature-rx-flip", "0");
	if (!err)
		err = xb_write_be(xd, "multi-queue-max-queues", "1");
out:
	free(mac);
	free(bridge);
	free(rate);
	free(name);
	free(script);
	return err;
}

static int net_xenbus_connect(struct xb_device *xd)
{
	struct net_vbif *v = xd->priv;
	struct net_vif_params p = {0};
	unsigned long tx, rx, ev, ev_rx, flag = 0, nq = 1;
	int err;

	if (!v || v->tap_fd < 0)
		return -ENODEV;
	if (xb_read_fe_uint(xd, "multi-queue-num-queues", 1, &nq) == -EINVAL) {
		xb_device_fatal(xd, EINVAL, "only one queue is offered");
		return -EINVAL;
	}
	if ((err = xb_read_fe_uint(xd, "tx-ring-ref", UINT32_MAX, &tx)) ||
	    (err = xb_read_fe_uint(xd, "rx-ring-ref", UINT32_MAX, &rx))) {
		xb_device_fatal(xd, err, "reading ring references");
		return err;
	}
	if (xb_read_fe_uint(xd, "event-channel", UINT32_MAX, &ev) == 0) {
		ev_rx = ev;
	} else if ((err = xb_read_fe_uint(xd, "event-channel-tx", UINT32_MAX, &ev)) ||
		   (err = xb_read_fe_uint(xd, "event-channel-rx", UINT32_MAX, &ev_rx))) {
		xb_device_fatal(xd, err, "reading event channels");
		return err;
	}
	if (xb_read_fe_uint(xd, "request-rx-copy", 1, &flag) || !flag) {
		xb_device_fatal(xd, EOPNOTSUPP, "frontend does not do rx-copy");
		return -EOPNOTSUPP;
	}
	p.tp = xb_bus_transport(xd->bus);
	p.domid = xd->domid;
	p.devid = xd->devid;
	p.tx_ring_ref = (grant_ref_t)tx;
	p.rx_ring_ref = (grant_ref_t)rx;
	p.evtchn_tx = (uint32_t)ev;
	p.evtchn_rx = (uint32_t)ev_rx;
	p.port_fd = v->tap_fd;
	flag = 0;
	p.frontend_sg = xb_read_fe_uint(xd, "feature-sg", 1, &flag) == 0 && flag;
	flag = 0;
	p.frontend_csum = !(xb_read_fe_uint(xd, "feature-no-csum-offload", 1, &flag) == 0 && flag);
	p.credit_bytes = v->credit_bytes;
	p.credit_usec = v->credit_usec;
	p.on_fatal = net_xenbus_fatal;
	p.fatal_arg = xd;
	if ((err = net_tap_set_offload(v->tap_fd, p.frontend_csum)))
		return err;
	err = net_vif_connect(&p, &v->vif);
	if (err)
		v->vif = NULL;
	return err;
}

static void net_xenbus_disconnect(struct xb_device *xd)
{
	struct net_vbif *v = xd->priv;

	if (v && v->vif) {
		net_vif_disconnect(v->vif);
		v->vif = NULL;
	}
}

static void net_xenbus_remove(struct xb_device *xd)
{
	struct net_vbif *v = xd->priv;

	if (!v)
		return;
	net_xenbus_disconnect(xd);
	if (v->tap_fd >= 0)
		close(v->tap_fd); /* the TAP device, and its bridge port, go with it */
	free(v);
	xd->priv = NULL;
}

/* Linux's netback serves a vif only once hotplug-status is "connected":
 * ours when we bridged the TAP ourselves, else the script's (xl devd's in a
 * driver domain), written once the TAP is up on its bridge. */
static bool net_xenbus_hotplug_done(struct xb_device *xd)
{
	char *st = NULL;
	bool done = xb_read_be(xd, "hotplug-status", &st) == 0 && !strcmp(st, "connected");

	free(st);
	return done;
}

static void net_xenbus_dump(struct xb_device *xd)
{
	struct net_vbif *v = xd->priv;

	if (v && v->vif)
		net_vif_dump(v->vif);
}

const struct xb_driver net_xenbus_driver = {
	.type = "vif",
	.probe = net_xenbus_probe,
	.connect = net_xenbus_connect,
	.disconnect = net_xenbus_disconnect,
	.remove = net_xenbus_remove,
	.dump = net_xenbus_dump,
	.hotplug_done = net_xenbus_hotplug_done,
};
