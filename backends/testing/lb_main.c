/*
 * keel-backend-loopback: subcommands in a table.  TEST-ONLY (see lb.h).
 */
#include <stdio.h>
#include <string.h>

#include "lb.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} lb_cmds[] = {
	{"net-ping", lb_cmd_net_ping, "netback on a real TAP/bridge; ARP + ICMP echo to the host"},
	{"xenbus-vbd", lb_cmd_xenbus_vbd, "blkback driven through a real store; handshake + I/O"},
	{"xenbus-vif", lb_cmd_xenbus_vif, "netback driven through a real store; TAP + ping"},
	{"bench-io", lb_cmd_bench_io, "blkback vs host preadv on the same file"},
};

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < sizeof(lb_cmds) / sizeof(lb_cmds[0]); i++)
		if (!strcmp(argv[1], lb_cmds[i].name))
			return lb_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: keel-backend-loopback COMMAND [options]\n"
			"TEST ONLY: backends against in-process frontends over the loopback "
			"test transport.\n");
	for (size_t i = 0; i < sizeof(lb_cmds) / sizeof(lb_cmds[0]); i++)
		fprintf(stderr, "  %-12s %s\n", lb_cmds[i].name, lb_cmds[i].help);
	return 2;
}
