/*
 * keel-blkback: the block backend daemon.  Serves every "vbd" under
 * /local/domain/<self>/backend/vbd through the real transport (keeld's
 * grant mapping and event channels).  Until keeld offers those to dom0
 * processes it refuses to start and says why; the loopback test transport
 * is never used here (tests reach blkback through it instead).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../common/xenbus_back.h"
#include "blkback.h"

static volatile int blk_main_stop;

static void blk_main_signal(int sig)
{
	blk_main_stop = 1;
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
			printf("usage: keel-blkback [--store SOCKET]\n");
			return 0;
		default:
			return 2;
		}
	}
	err = bk_transport_open_real(&tp, &why);
	if (err) {
		fprintf(stderr, "keel-blkback: cannot start: %s\n", why);
		return 1;
	}
	err = xb_bus_open(store, &blk_xenbus_driver, &tp, &bus);
	if (err) {
		fprintf(stderr, "keel-blkback: cannot reach the store: %s\n", strerror(-err));
		return 1;
	}
	signal(SIGTERM, blk_main_signal);
	signal(SIGINT, blk_main_signal);
	err = xb_bus_run(bus, &blk_main_stop, 500);
	xb_bus_close(bus);
	if (err) {
		fprintf(stderr, "keel-blkback: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
