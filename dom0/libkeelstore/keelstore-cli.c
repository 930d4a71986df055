/*
 * keelstore: a small command-line client on libkeelstore, for scripts and
 * tests.  Besides the usual read/write/rm/ls/watch it can fill and verify
 * many nodes quickly (one connection, no transaction wrapping), which the
 * durability test and the benchmark use.
 *
 *   keelstore [-s SOCKET] read PATH | write PATH VALUE | rm PATH | mkdir PATH
 *             | ls PATH | perms PATH | chmod PATH PERM... | watch PATH COUNT
 *             | control CMD [ARG...] | introduce DOMID MFN EVTCHN | release DOMID
 *             | txwrite PATH VALUE [PATH VALUE...]  (one transaction, retried on EAGAIN)
 *             | fill PREFIX COUNT SIZE [TAG] | verify PREFIX COUNT SIZE [TAG]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keelstore.h"

static int ks_cli_fail(const char *what, const char *arg, int rc)
{
	fprintf(stderr, "keelstore: %s %s: %s\n", what, arg, strerror(-rc));
	return 1;
}

/* Value of node i: SIZE bytes derived from i and TAG, so verify can tell. */
static void ks_cli_value(char *buf, unsigned size, unsigned i, const char *tag)
{
	unsigned k;
	int n = snprintf(buf, size + 1, "%s-%u-", tag, i);

	for (k = n > 0 ? (unsigned)n : 0; k < size; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	buf[size] = 0;
}

static int ks_cli_fill(struct ks_handle *h, char **argv, int argc, bool verify)
{
	unsigned long count, size, i;
	const char *tag = argc > 3 ? argv[3] : "v";
	char path[512], *want, *got;
	unsigned len;
	int rc;

	if (argc < 3)
		return 2;
	count = strtoul(argv[1], NULL, 10);
	size = strtoul(argv[2], NULL, 10);
	if (size > 4000 || size < 16)
		return 2;
	want = malloc(size + 1);
	if (!want)
		return 1;
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/n%lu", argv[0], i);
		ks_cli_value(want, (unsigned)size, (unsigned)i, tag);
		if (!verify) {
			rc = ks_write(h, KS_TX_NONE, path, want, (unsigned)size);
			if (rc)
				return ks_cli_fail("write", path, rc);
			continue;
		}
		rc = ks_read(h, KS_TX_NONE, path, &got, &len);
		if (rc)
			return ks_cli_fail("read", path, rc);
		if (len != size || memcmp(got, want, size)) {
			fprintf(stderr, "keelstore: %s: wrong value\n", path);
			return 1;
		}
		free(got);
	}
	free(want);
	return 0;
}

static int ks_cli_txwrite(struct ks_handle *h, char **argv, int argc)
{
	ks_tx_t tx;
	int i, rc;

	if (argc < 2 || argc % 2)
		return 2;
	do {
		rc = ks_tx_start(h, &tx);
		if (rc)
			return ks_cli_fail("transaction", "start", rc);
		for (i = 0; i < argc && !rc; i += 2)
			rc = ks_write_str(h, tx, argv[i], argv[i + 1]);
		if (rc) {
			ks_tx_end(h, tx, false);
			return ks_cli_fail("write", argv[i - 2], rc);
		}
		rc = ks_tx_end(h, tx, true);
	} while (rc == -EAGAIN);
	return rc ? ks_cli_fail("transaction", "commit", rc) : 0;
}

static int ks_cli_run(struct ks_handle *h, char **argv, int argc)
{
	const char *cmd = argv[0];
	char *out = NULL, **names;
	unsigned n, i;
	int rc;

	if (!strcmp(cmd, "read") && argc == 2) {
		rc = ks_read(h, KS_TX_NONE, argv[1], &out, &n);
		if (rc)
			return ks_cli_fail("read", argv[1], rc);
		fwrite(out, 1, n, stdout);
		putchar('\n');
	} else if (!strcmp(cmd, "write") && argc == 3) {
		rc = ks_write_str(h, KS_TX_NONE, argv[1], argv[2]);
		if (rc)
			return ks_cli_fail("write", argv[1], rc);
	} else if (!strcmp(cmd, "rm") && argc == 2) {
		rc = ks_rm(h, KS_TX_NONE, argv[1]);
		if (rc)
			return ks_cli_fail("rm", argv[1], rc);
	} else if (!strcmp(cmd, "mkdir") && argc == 2) {
		rc = ks_mkdir(h, KS_TX_NONE, argv[1]);
		if (rc)
			return ks_cli_fail("mkdir", argv[1], rc);
	} else if (!strcmp(cmd, "ls") && argc == 2) {
		rc = ks_directory(h, KS_TX_NONE, argv[1], &names, &n);
		if (rc)
			return ks_cli_fail("ls", argv[1], rc);
		for (i = 0; i < n; i++)
			puts(names[i]);
		free(names);
	} else if (!strcmp(cmd, "perms") && argc == 2) {
		struct ks_perm *p;

		rc = ks_get_perms(h, KS_TX_NONE, argv[1], &p, &n);
		if (rc)
			return ks_cli_fail("perms", argv[1], rc);
		for (i = 0; i < n; i++)
			printf("%s%c%u", i ? " " : "", p[i].perm, p[i].domid);
		putchar('\n');
		free(p);
	} else if (!strcmp(cmd, "chmod") && argc >= 3) {
		struct ks_perm p[64];

		for (i = 0; i < (unsigned)argc - 2 && i < 64; i++) {
			p[i].perm = argv[i + 2][0];
			p[i].domid = (uint16_t)strtoul(argv[i + 2] + 1, NULL, 10);
		}
		rc = ks_set_perms(h, KS_TX_NONE, argv[1], p, i);
		if (rc)
			return ks_cli_fail("chmod", argv[1], rc);
	} else if (!strcmp(cmd, "watch") && argc == 3) {
		char *path, *token;
		unsigned long count = strtoul(argv[2], NULL, 10);

		rc = ks_watch(h, argv[1], "keelstore");
		if (rc)
			return ks_cli_fail("watch", argv[1], rc);
		for (i = 0; i < count; i++) {
			rc = ks_read_watch(h, -1, &path, &token);
			if (rc)
				return ks_cli_fail("watch", argv[1], rc);
			puts(path);
			fflush(stdout);
			free(path);
			free(token);
		}
	} else if (!strcmp(cmd, "control") && argc >= 2) {
		rc = ks_control(h, (const char *const *)argv + 1, (unsigned)argc - 1, &out);
		if (rc)
			return ks_cli_fail("control", argv[1], rc);
		fputs(out, stdout);
		if (*out && out[strlen(out) - 1] != '\n')
			putchar('\n');
	} else if (!strcmp(cmd, "introduce") && argc == 4) {
		rc = ks_introduce(h, (unsigned)strtoul(argv[1], NULL, 10),
				  strtoull(argv[2], NULL, 10),
				  (uint32_t)strtoul(argv[3], NULL, 10));
		if (rc)
			return ks_cli_fail("introduce", argv[1], rc);
	} else if (!strcmp(cmd, "release") && argc == 2) {
		rc = ks_release(h, (unsigned)strtoul(argv[1], NULL, 10));
		if (rc)
			return ks_cli_fail("release", argv[1], rc);
	} else if (!strcmp(cmd, "txwrite")) {
		return ks_cli_txwrite(h, argv + 1, argc - 1);
	} else if (!strcmp(cmd, "fill") || !strcmp(cmd, "verify")) {
		return ks_cli_fill(h, argv + 1, argc - 1, cmd[0] == 'v');
	} else {
		return 2;
	}
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct ks_handle *h;
	int rc;

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		sock = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: keelstore [-s SOCKET] COMMAND ARGS\n\n"
		       "A small client of the store (keel-xenstored, or any xenstored speaking\n"
		       "Xen's wire protocol on a socket), for scripts and tests:\n"
		       "  read PATH | write PATH VALUE | rm PATH | mkdir PATH | ls PATH\n"
		       "  perms PATH | chmod PATH PERM...   (Xen's permission strings: n0 r1 ...)\n"
		       "  watch PATH COUNT                  print COUNT watch events\n"
		       "  control CMD [ARG...]              the store's control commands\n"
		       "  introduce DOMID MFN EVTCHN | release DOMID\n"
		       "  txwrite PATH VALUE [PATH VALUE...]  one transaction, retried on EAGAIN\n"
		       "  fill PREFIX COUNT SIZE [TAG] | verify PREFIX COUNT SIZE [TAG]\n\n"
		       "Options:\n"
		       "  -s SOCKET   the store's socket (default $XENSTORED_PATH, else\n"
		       "              /run/keel/xenstored/socket)\n"
		       "  -h, --help  this help\n");
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr,
			"usage: keelstore [-s SOCKET] COMMAND ARGS (keelstore --help lists them)\n");
		return 2;
	}
	rc = ks_open(sock, &h);
	if (rc)
		return ks_cli_fail("connect", sock ? sock : "(default)", rc);
	rc = ks_cli_run(h, argv + 1, argc - 1);
	if (rc == 2)
		fprintf(stderr, "keelstore: bad command or arguments\n");
	ks_close(h);
	return rc;
}
