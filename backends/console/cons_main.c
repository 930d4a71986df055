/*
 * keel-consoled: the console backend daemon (the xenconsoled role).
 * Serves every domain's PV console through Xen's library API (bk_xen.c, Keel's libxen* over keeld);
 * without keeld it refuses to start and says why.  Logs and per-domain sockets live under --rundir.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../dom0/libkeelstore/keelstore.h"
#include "cons.h"
#include "cons_client.h"
#include "cons_xs.h"

static volatile int cons_main_stop;

static void cons_main_signal(int sig)
{
	cons_main_stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},
		{"rundir", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store = NULL, *rundir = getenv("KEEL_RUNDIR"), *why = NULL;
	struct cons_server_cfg cfg = {0};
	struct cons_server *srv;
	struct bk_transport tp;
	struct ks_handle *ks;
	struct cons_keeld *keeld = NULL;
	int c, err, lock_fd = -1;

	while ((c = getopt_long(argc, argv, "s:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'r':
			rundir = optarg;
			break;
		case 'h':
			printf("usage: keel-consoled [--store SOCKET] [--rundir DIR]\n\n"
			       "Keel's console backend (Xen's xenconsoled): serves every domain's PV\n"
			       "console ring, keeps each guest's output in RUNDIR/console/\n"
			       "guest-NAME.log, and lets xl console attach.  keel-dom0-up starts it.\n\n"
			       "Options:\n"
			       "  --store SOCKET  the store's socket (default $XENSTORED_PATH, else\n"
			       "                  /run/keel/xenstored/socket)\n"
			       "  --rundir DIR    keeld's run directory (default $KEEL_RUNDIR, else /run/keel)\n"
			       "  -h, --help      this help\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!rundir || !*rundir)
		rundir = "/run/keel";
	/* keeld's control socket lives in the same run directory. */
	err = bk_transport_open_real_at(&tp, rundir, &why);
	if (err) {
		fprintf(stderr, "keel-consoled: cannot start: %s\n", why);
		return 1;
	}
	cfg.rundir = rundir;
	cfg.tp = &tp;
	if ((err = cons_keeld_open(rundir, &keeld))) {
		fprintf(stderr, "keel-consoled: keeld under %s: %s\n", rundir, strerror(-err));
		return 1;
	}
	cfg.extra_out = cons_keeld_read;
	cfg.stopped = cons_keeld_stopped;
	cfg.replay = CONS_REPLAY; /* a late xl console shows the recent output, then live */
	cfg.extra_opaque = keeld;
	if ((err = cons_server_create(&cfg, &srv))) {
		fprintf(stderr, "keel-consoled: %s/console: %s\n", rundir, strerror(-err));
		return 1;
	}
	/* clients wait for a live daemon to serve a new domain (cons_client.h) */
	if ((err = cons_daemon_lock(rundir, &lock_fd))) {
		fprintf(stderr, "keel-consoled: %s/console/consoled.lock: %s\n", rundir,
			err == -EBUSY ? "another keel-consoled serves this run directory"
				      : strerror(-err));
		return 1;
	}
	if ((err = ks_open(store, &ks)) || (err = cons_xs_watch(ks))) {
		fprintf(stderr, "keel-consoled: cannot reach the store: %s\n", strerror(-err));
		return 1;
	}
	signal(SIGTERM, cons_main_signal);
	signal(SIGINT, cons_main_signal);
	err = cons_xs_serve(srv, ks, tp.self_domid, &cons_main_stop);
	cons_server_destroy(srv);
	cons_keeld_close(keeld);
	bk_transport_close_real(&tp);
	ks_close(ks);
	close(lock_fd);
	if (err) {
		fprintf(stderr, "keel-consoled: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
