/*
 * The one main loop every xenbus backend daemon shares (keel-blkback,
 * keel-netback): parse --store, open the real transport, serve the driver's
 * devices on the store until SIGTERM/SIGINT.  Each daemon's main() is a
 * call to this with its name and xenbus driver.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dom0/libkeelstore/keelstore.h"
#include "xenbus_back.h"

static volatile int bk_main_stop;

static void bk_main_signal(int sig)
{
	if (sig == SIGUSR1)
		xb_bus_request_dump();
	else
		bk_main_stop = 1;
}

/*
 * The domain this backend runs in, as Xen's backends learn it: the store's
 * relative path "domid" (the toolstack writes /local/domain/<id>/domid; a
 * connection from a guest reads its own).  dom0's socket connection has no
 * such node: 0.
 */
static uint16_t bk_main_self_domid(const char *store)
{
	struct ks_handle *ks;
	char *v = NULL, *end;
	unsigned len;
	unsigned long id = 0;

	if (ks_open(store, &ks))
		return 0;
	if (ks_read(ks, 0, "domid", &v, &len) == 0) {
		id = strtoul(v, &end, 10);
		if (end == v || *end || id >= 0x7ff0) /* DOMID_FIRST_RESERVED */
			id = 0;
	}
	free(v);
	ks_close(ks);
	return (uint16_t)id;
}

int bk_backend_main(int argc, char **argv, const char *prog, const struct xb_driver *drv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store = NULL, *why = NULL;
	struct bk_transport tp;
	struct xb_bus *bus;
	int c, err;

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'h':
			printf("usage: %s [--store PATH]\n\n"
			       "Keel's backend for Xen's \"%s\" devices: serves every frontend\n"
			       "whose backend nodes sit under backend/%s/ of the domain it runs in\n"
			       "(Xen's split-driver protocol), through keeld under $KEEL_RUNDIR\n"
			       "(default /run/keel) in dom0, or in a driver domain through Xen's\n"
			       "libraries, until SIGTERM.  SIGUSR1 logs where each connected\n"
			       "device stands (ring indices, counters).  keel-dom0-up starts it.\n\n"
			       "Options:\n"
			       "  --store PATH    the store's socket, or the xenbus device (default\n"
			       "                  $XENSTORED_PATH, else /run/keel/xenstored/socket,\n"
			       "                  else /dev/xen/xenbus when there is no socket)\n"
			       "  -h, --help      this help\n",
			       prog, drv->type, drv->type);
			return 0;
		default:
			return 2;
		}
	}
	err = bk_transport_open_real(&tp, &why);
	if (err) {
		fprintf(stderr, "%s: cannot start: %s\n", prog, why);
		return 1;
	}
	tp.self_domid = bk_main_self_domid(store);
	err = xb_bus_open(store, drv, &tp, &bus);
	if (err) {
		fprintf(stderr, "%s: cannot reach the store: %s\n", prog, strerror(-err));
		return 1;
	}
	signal(SIGTERM, bk_main_signal);
	signal(SIGINT, bk_main_signal);
	signal(SIGUSR1, bk_main_signal); /* log where every device stands */
	err = xb_bus_run(bus, &bk_main_stop, 500);
	xb_bus_close(bus);
	bk_transport_close_real(&tp);
	if (err) {
		fprintf(stderr, "%s: %s\n", prog, strerror(-err));
		return 1;
	}
	return 0;
}
