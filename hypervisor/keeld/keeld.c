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

static void keeld_usage(FILE *f)
{
	fprintf(f, "usage:\n");
	for (size_t i = 0; i < sizeof(keeld_commands) / sizeof(keeld_commands[0]); i++)
		fprintf(f, "  keeld %s %s\n", keeld_commands[i].name, keeld_commands[i].help);
}

static int keeld_help(void)
{
	keeld_usage(stdout);
	printf("\nKeel's hypervisor: the only program that opens /dev/kvm.  It builds and runs\n"
	       "the domains (Xen's PV ABI, and HVM under hvmloader), their event channels,\n"
	       "grant tables and timers.  keel-dom0-up starts `keeld daemon`, which serves\n"
	       "xl and the backends on DIR/keeld.sock (DIR: --rundir, else /run/keel;\n"
	       "keel-dom0-up passes $KEEL_RUNDIR), its output in DIR/log/keeld.log.\n"
	       "`keeld run` boots one PV kernel with its console on stdout, no daemon.\n"
	       "`keeld probe` reports what this host's KVM can execute.\n\n"
	       "Options of keeld run:\n"
	       "  --kernel K      the guest kernel (ELF with Xen notes, or a bzImage)\n"
	       "  --ramdisk R     its initial ramdisk\n"
	       "  --cmdline S     its command line\n"
	       "  --memory MiB    its memory (default 64)\n"
	       "  --vcpus N       its vCPUs (default 1)\n"
	       "Options of keeld daemon:\n"
	       "  --rundir DIR    the run directory\n"
	       "  --foreground    stay attached to the terminal\n"
	       "  -h, --help      this help\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		keeld_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return keeld_help();
	for (size_t i = 0; i < sizeof(keeld_commands) / sizeof(keeld_commands[0]); i++)
		if (!strcmp(argv[1], keeld_commands[i].name))
			return keeld_commands[i].fn(argc - 1, argv + 1);
	keeld_usage(stderr);
	return 2;
}
