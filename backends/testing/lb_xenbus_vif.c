/*
 * keel-backend-loopback xenbus-vif: netback's "vif" xenbus driver served
 * from a real store -- it creates the TAP device and puts it on the bridge
 * the backend node names, as keel-netback would -- with the frontend of
 * --domid played by a thread over the LOOPBACK TEST TRANSPORT.  The
 * frontend waits for InitWait and hotplug-status=connected, publishes
 * tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy and feature-sg,
 * goes Connected as netfront does, pings the host's address on the bridge
 * (ARP, ICMP echo answered by the host kernel), then closes.  Run inside a
 * private network namespace.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dom0/libkeelstore/keelstore.h"
#include "../common/bk_loop.h"
#include "../common/xenbus_back.h"
#include "lb.h"

static int lb_vif_publish(struct lb_xb *v, const struct netfront_loop *nf)
{
	int err = lb_xb_fe_write(v, "tx-ring-ref", nf->tx_ref);

	if (!err)
		err = lb_xb_fe_write(v, "rx-ring-ref", nf->rx_ref);
	if (!err)
		err = lb_xb_fe_write(v, "event-channel", nf->port);
	if (!err)
		err = lb_xb_fe_write(v, "request-rx-copy", 1);
	if (!err)
		err = lb_xb_fe_write(v, "feature-sg", 1);
	if (!err)
		err = lb_xb_fe_write(v, "feature-rx-notify", 1);
	/* netfront goes straight to Connected once its rings are published. */
	return err ? err : lb_xb_fe_write(v, "state", XenbusStateConnected);
}

static int lb_vif_hotplug_ok(struct lb_xb *v)
{
	char path[192], *val = NULL;
	unsigned len;
	int ok;

	snprintf(path, sizeof(path), "%s/hotplug-status", v->be);
	ok = ks_read(v->ks, KS_TX_NONE, path, &val, &len) == 0 && !strcmp(val, "connected");
	free(val);
	return ok;
}

int lb_cmd_xenbus_vif(int argc, char **argv)
{
	const char *store = lb_opt(argc, argv, "--store", NULL);
	unsigned domid = (unsigned)atoi(lb_opt(argc, argv, "--domid", "9"));
	unsigned devid = (unsigned)atoi(lb_opt(argc, argv, "--devid", "0"));
	struct lb_xb v = {.last_state = -1, .who = "xenbus-vif"};
	struct lb_ping g = {0};
	struct bk_transport tp;
	struct bk_loop *loop;
	struct xb_bus *bus;
	char path[192];
	pthread_t th;
	int err, replies = 0;

	if (!store || lb_ping_parse(argc, argv, &g)) {
		fprintf(stderr, "usage: xenbus-vif --store SOCK --host-ip A --guest-ip B "
				"[--mac M] [--domid D] [--devid N]\n");
		return 2;
	}
	printf("xenbus-vif: LOOPBACK TEST TRANSPORT frontend (not a guest), real store, "
	       "TAP and bridge\n");
	snprintf(v.be, sizeof(v.be), "/local/domain/0/backend/vif/%u/%u", domid, devid);
	snprintf(v.fe, sizeof(v.fe), "/local/domain/%u/device/vif/%u", domid, devid);
	if ((err = bk_loop_create(0, &loop)) ||
	    (err = bk_loop_add_domain(loop, (uint16_t)domid, 1024, 1024)) ||
	    (err = ks_open(store, &v.ks))) {
		fprintf(stderr, "xenbus-vif: setup: %s\n", strerror(-err));
		return 1;
	}
	bk_loop_transport(loop, &tp);
	if ((err = xb_bus_open(store, &net_xenbus_driver, &tp, &bus))) {
		fprintf(stderr, "xenbus-vif: store: %s\n", strerror(-err));
		return 1;
	}
	pthread_create(&th, NULL, lb_xb_bus_thread, bus);
	snprintf(path, sizeof(path), "%s/state", v.be);
	ks_watch(v.ks, path, "be-state");
	err = lb_xb_wait(&v, XenbusStateInitWait);
	if (!err && !lb_vif_hotplug_ok(&v))
		err = -ENODEV;
	if (!err) {
		char ifname[32];

		snprintf(ifname, sizeof(ifname), "vif%u.%u", domid, devid);
		lb_print_master(ifname);
		err = netfront_loop_init(&g.nf, loop, (uint16_t)domid, 0);
	}
	if (!err)
		err = lb_vif_publish(&v, &g.nf);
	if (!err)
		err = lb_xb_wait(&v, XenbusStateConnected);
	if (!err)
		err = netfront_loop_post_rx(&g.nf, 200);
	if (!err) {
		replies = lb_ping_exchange(&g, 3);
		printf("xenbus-vif: %d/3 replies\n", replies);
		if (replies != 3)
			err = -EIO;
	}
	if (!err)
		err = lb_xb_fe_write(&v, "state", XenbusStateClosing);
	if (!err)
		err = lb_xb_wait(&v, XenbusStateClosing);
	if (!err)
		err = lb_xb_fe_write(&v, "state", XenbusStateClosed);
	if (!err)
		err = lb_xb_wait(&v, XenbusStateClosed);
	if (!err && bk_loop_mapped_count(loop, (uint16_t)domid))
		err = -EBUSY;
	lb_xb_stop = 1;
	pthread_join(th, NULL);
	xb_bus_close(bus);
	ks_close(v.ks);
	bk_loop_destroy(loop);
	if (err) {
		fprintf(stderr, "xenbus-vif: %s\n", strerror(-err));
		return 1;
	}
	printf("xenbus-vif: done\n");
	return 0;
}
