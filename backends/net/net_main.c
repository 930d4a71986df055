/*
 * keel-netback: the network backend daemon.  Serves every "vif" under
 * /local/domain/<self>/backend/vif through the real transport; until keeld
 * offers grant mapping and event channels to dom0 processes it refuses to
 * start and says why.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../common/xenbus_back.h"
#include "netback.h"

static volatile int net_main_stop;

static void net_main_signal(int sig)
{
	net_main_stop = 1;
}

int main(int argc, char **argv)
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
			printf("usage: keel-netback [--store SOCKET]\n");
			return 0;
		default:
			return 2;
		}
	}
	err = bk_transport_open_real(&tp, &why);
	if (err) {
		fprintf(stderr, "keel-netback: cannot start: %s\n", why);
		return 1;
	}
	err = xb_bus_open(store, &net_xenbus_driver, &tp, &bus);
	if (err) {
		fprintf(stderr, "keel-netback: cannot reach the store: %s\n", strerror(-err));
		return 1;
	}
	signal(SIGTERM, net_main_signal);
	signal(SIGINT, net_main_signal);
	err = xb_bus_run(bus, &net_main_stop, 500);
	xb_bus_close(bus);
	if (err) {
		fprintf(stderr, "keel-netback: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
