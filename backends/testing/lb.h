/*
 * keel-backend-loopback: a TEST-ONLY program that runs the real backends
 * against frontends played by threads of this process over the LOOPBACK
 * TEST TRANSPORT.  It exists for the integration tests and the I/O
 * benchmark while keeld offers no grant mapping or event channels to dom0
 * processes; it is never a way to serve a guest.
 */
#ifndef KEEL_LB_H
#define KEEL_LB_H

#include <string.h>

/* The value after option @name in argv, or @def. */
static inline const char *lb_opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

int lb_cmd_net_ping(int argc, char **argv);
int lb_cmd_xenbus_vbd(int argc, char **argv);
int lb_cmd_bench_io(int argc, char **argv);

#endif
