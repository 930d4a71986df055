/*
 * xl's entry point: the global options (-v, -f, -N, -t, -T), command lookup
 * (an exact name or an unambiguous prefix), `xl help [CMD]`, and xl's exit
 * statuses: no command prints the full help and exits 1, an unknown command
 * prints `command "NAME" not implemented' (with Keel's reason for one of
 * Xen's commands it does not have) and exits 1, an unknown global option
 * (including -h, which xl does not treat as help) exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"
#include "xl_xencmds.h"

int xl_verbose;
bool xl_dryrun_only, xl_force, xl_progress_use_cr, xl_timestamps;

const struct xl_cmd *xl_cmd_lookup(const char *s)
{
	const struct xl_cmd *found = NULL;
	size_t len;
	int count = 0;

	if (!s)
		return NULL;
	len = strlen(s);
	for (int i = 0; i < xl_cmd_count; i++) {
		if (strncmp(s, xl_cmd_table[i].name, len))
			continue;
		if (len == strlen(xl_cmd_table[i].name))
			return &xl_cmd_table[i]; /* exact wins even if it prefixes another */
		found = &xl_cmd_table[i];
		count++;
	}
	return count == 1 ? found : NULL;
}

/* xl's "command not implemented", naming the command, and why for one of Xen's. */
static void xl_not_implemented(const char *name)
{
	const struct xl_xen_cmd *xen = xl_xen417_cmd(name);

	fprintf(stderr, "command \"%s\" not implemented\n", name);
	if (xen && xen->status == XL_XEN_REFUSED)
		fprintf(stderr, "(Xen's xl has it; Keel does not: %s)\n", xen->why);
}

void xl_help(const char *command)
{
	const struct xl_xen_cmd *xen;
	const struct xl_cmd *cmd;

	if (!command || !strcmp(command, "help")) {
		printf("Usage xl [-vfNtT] <subcommand> [args]\n\n");
		printf("xl full list of subcommands:\n\n");
		for (int i = 0; i < xl_cmd_count; i++) {
			printf(" %-19s ", xl_cmd_table[i].name);
			if (strlen(xl_cmd_table[i].name) > 19)
				printf("\n %-19s ", "");
			printf("%s\n", xl_cmd_table[i].help);
		}
		return;
	}
	cmd = xl_cmd_lookup(command);
	if (!cmd) {
		printf("command \"%s\" not implemented\n", command);
		xen = xl_xen417_cmd(command);
		if (xen && xen->status == XL_XEN_REFUSED)
			printf("(Xen's xl has it; Keel does not: %s)\n", xen->why);
		return;
	}
	printf("Usage: xl [-vtT%s%s] %s %s\n\n%s.\n\n", cmd->flags & XL_CMD_MODIFIES ? "f" : "",
	       cmd->flags & XL_CMD_DRYRUN ? "N" : "", cmd->name, cmd->usage, cmd->help);
	if (cmd->options)
		printf("Options:\n\n%s\n", cmd->options);
}

int xl_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
	      const char *cmd, int reqargs)
{
	static const struct option def_options[] = {XL_COMMON_LONG_OPTS};
	int opt;

	if (!longopts)
		longopts = def_options;
	opterr = 0;
	opt = getopt_long(argc, argv, optstring, longopts, NULL);
	if (opt == '?') {
		if (optopt == 'h') {
			xl_help(cmd);
			exit(0);
		}
		fprintf(stderr, "option `%c' not supported.\n", optopt);
		exit(2);
	}
	if (opt == 'h') {
		xl_help(cmd);
		exit(0);
	}
	if (opt != -1)
		return opt;
	if (argc - optind <= reqargs - 1) {
		fprintf(stderr, "'xl %s' requires at least %d argument%s.\n\n", cmd, reqargs,
			reqargs > 1 ? "s" : "");
		xl_help(cmd);
		exit(2);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct xl_cmd *cmd;
	int opt;

	/* Xen's xl calls --help an unknown global option; Keel's, like its
	 * other programs, prints the command list (xl help).  -h stays Xen's
	 * unknown option. */
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		xl_help(NULL);
		return EXIT_SUCCESS;
	}
	while ((opt = getopt(argc, argv, "+vftTN")) >= 0) {
		switch (opt) {
		case 'v':
			xl_verbose++;
			break;
		case 'N':
			xl_dryrun_only = true;
			break;
		case 'f':
			xl_force = true;
			break;
		case 't':
			xl_progress_use_cr = true;
			break;
		case 'T':
			xl_timestamps = true;
			break;
		default:
			fprintf(stderr, "unknown global option\n");
			exit(EXIT_FAILURE);
		}
	}
	if (!argv[optind]) {
		xl_help(NULL);
		exit(EXIT_FAILURE);
	}
	/* Each command parses its own options from argv[0] = its name. */
	argv += optind;
	argc -= optind;
	optind = 1;
	cmd = xl_cmd_lookup(argv[0]);
	if (cmd) {
		if (xl_dryrun_only && !(cmd->flags & XL_CMD_DRYRUN)) {
			fprintf(stderr, "command does not implement -N (dryrun) option\n");
			return EXIT_FAILURE;
		}
		return cmd->handler(argc, argv);
	}
	if (!strcmp(argv[0], "help")) {
		xl_help(argv[1]);
		return EXIT_SUCCESS;
	}
	xl_not_implemented(argv[0]);
	return EXIT_FAILURE;
}
