/*
 * keeld: Keel's hypervisor daemon, the only user of /dev/kvm.  This file is
 * just the command table; each mode lives in its own file:
 *   keeld run    boot one PV domain, console to stdout (run.c)
 *   keeld probe  report what this host's KVM can execute (probe.c)
 *   keeld daemon serve the control socket (daemon.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keeld.h"

struct keeld_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct keeld_command keeld_commands[] = {
	{"run", keeld_cmd_run, "--kernel K [--ramdisk R] [--cmdline S] [--memory MiB] [--vcpus N]"},
	{"daemon", keeld_cmd_daemon, "[--rundir DIR] [--foreground]"},
	{"probe", keeld_cmd_probe, "PROBE-IMAGE"},
	{"bare", keeld_cmd_bare, "[MiB]  (benchmark floor: a bare VM run to its first exit)"},
};

int keeld_fail(const char *what, int err)
{
	fprintf(stderr, "keeld: %s: %s\n", what, strerror(-err));
	return 1;
}

/* Read a whole file (at most max bytes) into a malloc'ed buffer. */
static void keeld_usage(void)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < sizeof(keeld_commands) / sizeof(keeld_commands[0]); i++)
		fprintf(stderr, "  keeld %s %s\n", keeld_commands[i].name, keeld_commands[i].help);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		keeld_usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(keeld_commands) / sizeof(keeld_commands[0]); i++)
		if (!strcmp(argv[1], keeld_commands[i].name))
			return keeld_commands[i].fn(argc - 1, argv + 1);
	keeld_usage();
	return 2;
}
