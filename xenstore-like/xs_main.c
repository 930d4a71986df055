/*
 * keel-xenstored: command line, start-up (journal replay, socket, pidfile)
 * and the main loop.  Runs in the foreground unless --daemon (which detaches
 * only once the socket is listening, so callers may connect as soon as it
 * returns); SIGTERM/SIGINT stop it
 * cleanly (journal flushed, socket removed).  Quota options mirror Xen's
 * xenstored (-E/--entry-nb, -S/--entry-size, -W/--watch-nb, -t/--transaction,
 * -A/--perm-nb) next to Keel's longer names.
 */
#include <errno.h>
#include <execinfo.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_store.h"

#define XS_DEFAULT_SOCKET "/run/keel/xenstored/socket"
#define XS_DEFAULT_DATA	  "/var/lib/keel/xenstored"

static volatile sig_atomic_t xs_stop;

/*
 * A crash says so in the log (with a backtrace) before the default action
 * (a core): a store daemon that vanished without a word cost a CI run its
 * diagnosis once.
 */
static void __attribute__((unused)) xs_on_fatal(int sig)
{
	static const char msg[] = "keel-xenstored: fatal signal, backtrace:\n";
	void *frames[32];
	int n;

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(128 + sig);
	n = backtrace(frames, 32);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void xs_on_signal(int sig)
{
	xs_stop = 1;
}

static void xs_usage(FILE *f)
{
	fprintf(f,
		"usage: keel-xenstored [options]\n"
		"  --socket PATH            listen here (default " XS_DEFAULT_SOCKET ")\n"
		"  --data DIR               journal directory (default " XS_DEFAULT_DATA ")\n"
		"  --no-journal             keep the store in memory only\n"
		"  --fsync                  fdatasync the journal before every reply batch\n"
		"                           (survive power loss; without it kill -9 is survived)\n"
		"  -F, --pidfile FILE       write our pid here\n"
		"  -D, --daemon             detach once listening (default: foreground)\n"
		"  -E, --quota-nodes N      nodes per unprivileged domain (1000)\n"
		"  -S, --quota-node-size N  bytes of value+perms per node (2048)\n"
		"  -W, --quota-watches N    watches per unprivileged domain (128)\n"
		"  -t, --quota-transactions N  open transactions per connection (10)\n"
		"      --quota-outstanding N   replies queued before a client is no longer read (20)\n"
		"  -A, --quota-perms N      permission entries per node (5)\n"
		"      --quota-tx-nodes N   nodes one guest transaction may touch (4096)\n"
		"      --max-connections N  socket connections (1024)\n"
		"      --keeld-rundir DIR   serve guests' store rings through keeld under DIR\n"
		"                           (default $KEEL_RUNDIR if set; required: fail if unreachable)\n"
		"      --no-keeld           do not attach to keeld (rings are not served)\n"
		"  -q, --quiet              log errors only\n");
}

static unsigned xs_opt_uint(const char *name, const char *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !*v || n == 0 || n > (1ul << 30)) {
		fprintf(stderr, "keel-xenstored: %s: '%s' is not a positive number\n", name, v);
		exit(2);
	}
	return (unsigned)n;
}

int main(int argc, char **argv)
{
	enum {
		O_SOCKET = 256,
		O_DATA,
		O_NOJOURNAL,
		O_FSYNC,
		O_OUT,
		O_TXN,
		O_MAXC,
		O_KEELD,
		O_NOKEELD
	};
	static const struct option opts[] = {
		{"socket", 1, NULL, O_SOCKET},
		{"data", 1, NULL, O_DATA},
		{"no-journal", 0, NULL, O_NOJOURNAL},
		{"fsync", 0, NULL, O_FSYNC},
		{"pidfile", 1, NULL, 'F'},
		{"pid-file", 1, NULL, 'F'},
		{"quota-nodes", 1, NULL, 'E'},
		{"entry-nb", 1, NULL, 'E'},
		{"quota-node-size", 1, NULL, 'S'},
		{"entry-size", 1, NULL, 'S'},
		{"quota-watches", 1, NULL, 'W'},
		{"watch-nb", 1, NULL, 'W'},
		{"quota-transactions", 1, NULL, 't'},
		{"transaction", 1, NULL, 't'},
		{"quota-perms", 1, NULL, 'A'},
		{"perm-nb", 1, NULL, 'A'},
		{"quota-outstanding", 1, NULL, O_OUT},
		{"quota-tx-nodes", 1, NULL, O_TXN},
		{"max-connections", 1, NULL, O_MAXC},
		{"keeld-rundir", 1, NULL, O_KEELD},
		{"no-keeld", 0, NULL, O_NOKEELD},
		{"quiet", 0, NULL, 'q'},
		{"daemon", 0, NULL, 'D'},
		{"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = XS_DEFAULT_SOCKET, *data = XS_DEFAULT_DATA, *pidfile = NULL;
	const char *keeld_rundir = getenv("KEEL_RUNDIR");
	bool keeld_required = false;
	bool journal = true, do_fsync = false, daemonize = false;
	unsigned max_conns = 1024;
	struct xs_server s;
	struct xs_quota q;
	struct sigaction sa;
	int c, rc;

	xs_quota_defaults(&q);
	while ((c = getopt_long(argc, argv, "F:E:S:W:t:A:qhD", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET:
			sock = optarg;
			break;
		case O_DATA:
			data = optarg;
			break;
		case O_NOJOURNAL:
			journal = false;
			break;
		case O_FSYNC:
			do_fsync = true;
			break;
		case 'F':
			pidfile = optarg;
			break;
		case 'E':
			q.nodes = xs_opt_uint("--quota-nodes", optarg);
			break;
		case 'S':
			q.node_size = xs_opt_uint("--quota-node-size", optarg);
			break;
		case 'W':
			q.watches = xs_opt_uint("--quota-watches", optarg);
			break;
		case 't':
			q.transactions = xs_opt_uint("--quota-transactions", optarg);
			break;
		case 'A':
			q.perms = xs_opt_uint("--quota-perms", optarg);
			break;
		case O_OUT:
			q.outstanding = xs_opt_uint("--quota-outstanding", optarg);
			break;
		case O_TXN:
			q.tx_nodes = xs_opt_uint("--quota-tx-nodes", optarg);
			break;
		case O_MAXC:
			max_conns = xs_opt_uint("--max-connections", optarg);
			break;
		case O_KEELD:
			keeld_rundir = optarg;
			keeld_required = true;
			break;
		case O_NOKEELD:
			keeld_rundir = NULL;
			keeld_required = false;
			break;
		case 'q':
			xs_log_quiet = true;
			break;
		case 'D':
			daemonize = true;
			break;
		case 'h':
			xs_usage(stdout);
			return 0;
		default:
			xs_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		xs_usage(stderr);
		return 2;
	}
	if (q.perms > XS_MAX_PERMS)
		q.perms = XS_MAX_PERMS;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = xs_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit must fail the write, not kill us */
#ifndef __SANITIZE_ADDRESS__	  /* ASan reports crashes better itself */
	sa.sa_handler = xs_on_fatal;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
#endif

	rc = xs_server_init(&s, &q);
	if (rc) {
		fprintf(stderr, "keel-xenstored: init: %s\n", strerror(-rc));
		return 1;
	}
	s.max_conns = max_conns;
	s.quiet = xs_log_quiet;
	if (journal && (rc = xs_server_open_journal(&s, data, do_fsync))) {
		fprintf(stderr, "keel-xenstored: journal in %s: %s\n", data, strerror(-rc));
		return 1;
	}
	if (keeld_rundir && *keeld_rundir) {
		/* After the journal replay: introduced domains get their rings back. */
		rc = xs_keeld_attach(&s, keeld_rundir);
		if (rc && keeld_required) {
			fprintf(stderr, "keel-xenstored: keeld under %s: %s\n", keeld_rundir,
				strerror(-rc));
			return 1;
		}
		if (rc)
			xs_log("keeld under %s not reachable (%s): guest rings not served",
			       keeld_rundir, strerror(-rc));
	}
	rc = xs_server_listen(&s, sock);
	if (rc) {
		fprintf(stderr, "keel-xenstored: socket %s: %s\n", sock, strerror(-rc));
		return 1;
	}
	if (daemonize && daemon(0, 1)) {
		fprintf(stderr, "keel-xenstored: daemon: %s\n", strerror(errno));
		return 1;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "keel-xenstored: pidfile %s: %s\n", pidfile,
				strerror(errno));
			return 1;
		}
	}
	xs_log("listening on %s (journal %s%s)", sock, journal ? data : "off",
	       do_fsync ? ", fsync" : "");
	while (!xs_stop) {
		rc = xs_server_run_once(&s, 1000);
		if (rc < 0) {
			xs_log("event loop: %s", strerror(-rc));
			break;
		}
	}
	xs_server_destroy(&s);
	xs_keeld_free(&s);
	if (pidfile)
		unlink(pidfile);
	return 0;
}
