/*
 * keelctl: a small client for keeld's control socket, built on libkeelctl
 * (for tests and for poking at a running keeld by hand).
 *   keelctl [--rundir DIR] create NAME MEM_MB [VCPUS]     prints the domid
 *   keelctl create-hvm NAME MEM_MB [VCPUS]   an HVM domain; load its firmware
 *   keelctl load DOMID KERNEL [CMDLINE [RAMDISK]]
 *   keelctl unpause|pause|destroy|info|console DOMID
 *   keelctl restore-state DOMID FILE  hand keeld a save-record state (what
 *       xl restore sends) for a just-created domain (tests of the reader)
 *   keelctl list | dmesg
 *   keelctl echo-store DOMID [SECONDS]  map the guest's store page and bind
 *       its store port; answer the first string the guest puts at offset 0
 *       with its upper-case copy at offset 2048 (a dom0 end-to-end check)
 *   keelctl grant-echo DOMID GREF [SECONDS]  the same through a granted page:
 *       wait for the guest's store-port kick, map grant GREF writable, answer
 *   keelctl grant-map DOMID GREF  map grant GREF read-only, print its start
 *   keelctl watch N [SECONDS] [DOMID]  print the next N domain state changes
 *       (or fewer: up to DOMID's destruction).  Events carry a domain's state
 *       when keeld's loop looks, so a state left at once (running, for a
 *       guest that shuts down at once) may never be seen, as on Xen.
 *   keelctl ring-check DOMID  map and bind the store ring, let go, do it again
 *   keelctl null-store DOMID [SECONDS]  answer the domain's store ring as an
 *       empty store (a test fixture, keelctl_nullstore.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "keelctl.h"

static void keelctl_print_info(const struct keelctl_dominfo *i)
{
	printf("%u %s %s mem=%lluMiB vcpus=%u hypercalls=%llu exits=%llu reason=%d%s%s\n", i->domid,
	       i->name, keelctl_state_name(i->state), (unsigned long long)i->mem_mb, i->vcpus,
	       (unsigned long long)i->hypercalls, (unsigned long long)i->exits, i->shutdown_reason,
	       i->crash_reason[0] ? " crash=" : "", i->crash_reason);
}

static int keelctl_echo_store(struct keelctl *h, uint32_t domid, int seconds)
{
	struct keelctl_dominfo info;
	struct pollfd p;
	uint64_t n = 1;
	char *page;
	int kick, notify, r;

	r = keelctl_domain_getinfo(h, domid, &info);
	if (r < 0)
		return r;
	r = keelctl_map_frames(h, domid, info.store_mfn, 1, (void **)&page);
	if (r < 0)
		return r;
	r = keelctl_bind_evtchn(h, domid, info.store_port, &kick, &notify);
	if (r < 0) {
		munmap(page, 4096);
		return r;
	}
	printf("bound\n"); /* callers unpause the guest on this line */
	fflush(stdout);
	p = (struct pollfd){kick, POLLIN, 0};
	r = poll(&p, 1, seconds * 1000);
	if (r == 1 && read(kick, &n, sizeof(n)) == sizeof(n)) {
		size_t i;

		for (i = 0; i < 1023 && page[i]; i++)
			page[2048 + i] = page[i] >= 'a' && page[i] <= 'z' ? page[i] - 32 : page[i];
		page[2048 + i] = 0;
		n = 1;
		r = write(notify, &n, sizeof(n)) == sizeof(n) ? 0 : -errno;
		printf("echoed: %.1023s\n", page);
	} else {
		r = r == 0 ? -ETIMEDOUT : -errno;
	}
	close(kick);
	close(notify);
	munmap(page, 4096);
	return r;
}

static int keelctl_grant_echo(struct keelctl *h, uint32_t domid, uint32_t gref, int seconds)
{
	struct keelctl_dominfo info;
	struct pollfd p;
	uint64_t n = 1;
	char *page;
	int kick, notify, r;

	r = keelctl_domain_getinfo(h, domid, &info);
	if (r < 0)
		return r;
	r = keelctl_bind_evtchn(h, domid, info.store_port, &kick, &notify);
	if (r < 0)
		return r;
	printf("bound\n");
	fflush(stdout);
	p = (struct pollfd){kick, POLLIN, 0};
	if (poll(&p, 1, seconds * 1000) != 1 || read(kick, &n, sizeof(n)) != sizeof(n)) {
		r = -ETIMEDOUT;
		goto out;
	}
	r = keelctl_map_grant(h, domid, gref, 1, (void **)&page);
	if (r < 0)
		goto out;
	{
		size_t i;

		for (i = 0; i < 1023 && page[i]; i++)
			page[2048 + i] = page[i] >= 'a' && page[i] <= 'z' ? page[i] - 32 : page[i];
		page[2048 + i] = 0;
		printf("granted page said: %.1023s\n", page);
	}
	r = keelctl_unmap_grant(h, domid, gref, page);
	n = 1;
	if (r == 0 && write(notify, &n, sizeof(n)) != sizeof(n))
		r = -errno;
out:
	close(kick);
	close(notify);
	return r;
}

int keelctl_null_store(const char *rundir, struct keelctl *h, uint32_t domid, int seconds);

static int keelctl_cli_usage(void)
{
	fprintf(stderr,
		"usage: keelctl [--rundir DIR] create[-hvm] NAME MEM_MB [VCPUS] | "
		"load DOMID KERNEL [CMDLINE [RAMDISK]] | unpause|pause|destroy|info|console "
		"DOMID | restore-state DOMID FILE | list | dmesg\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *rundir = NULL, *cmd;
	static char text[KEELCTL_RSP_MAX + 1];
	struct keelctl *h;
	uint32_t domid = 0;
	int r, i = 1;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: keelctl [--rundir DIR] COMMAND [ARGS]\n\n"
		       "keeld's control socket by hand, below xl (for debugging and tests):\n"
		       "  create NAME MEM_MB [VCPUS] | create-hvm NAME MEM_MB [VCPUS]\n"
		       "  load DOMID KERNEL [CMDLINE [RAMDISK]]\n"
		       "  unpause DOMID | pause DOMID | destroy DOMID | info DOMID\n"
		       "  console DOMID      the stand-in console keeld keeps\n"
		       "  list | dmesg       domains; keeld's log (xl dmesg)\n"
		       "and test commands (watch, grant-echo, grant-map, null-store, ring-check,\n"
		       "echo-store) described in dom0/libkeelctl/keelctl_cli.c.\n\n"
		       "Options:\n"
		       "  --rundir DIR  keeld's run directory (default $KEEL_RUNDIR, else /run/keel)\n"
		       "  -h, --help    this help\n");
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--rundir")) {
		rundir = argv[2];
		i = 3;
	}
	if (i >= argc)
		return keelctl_cli_usage();
	cmd = argv[i++];
	r = keelctl_open(rundir, &h);
	if (r < 0) {
		fprintf(stderr, "keelctl: cannot reach keeld: %s\n", strerror(-r));
		return 1;
	}
	if (!strcmp(cmd, "watch")) {
		int want = i < argc ? atoi(argv[i]) : 1,
		    secs = i + 1 < argc ? atoi(argv[i + 1]) : 30;
		long until = i + 2 < argc ? strtol(argv[i + 2], NULL, 0) : -1;
		struct keelctl_event ev;
		struct pollfd p;

		r = keelctl_subscribe(h);
		if (r == 0) {
			/* Watchers synchronize on this line, not on a delay. */
			printf("subscribed\n");
			fflush(stdout);
		}
		for (int k = 0; r == 0 && k < want; k++) {
			p = (struct pollfd){keelctl_event_fd(h), POLLIN, 0};
			if (poll(&p, 1, secs * 1000) != 1) {
				r = -ETIMEDOUT;
				break;
			}
			r = keelctl_read_event(h, &ev);
			if (r == 0)
				printf("event d%u %s reason=%d%s\n", ev.domid,
				       keelctl_state_name(ev.state), ev.shutdown_reason,
				       ev.flags & KEELCTL_EVENT_DESTROYED ? " destroyed" : "");
			fflush(stdout);
			if (r == 0 && (long)ev.domid == until && ev.flags & KEELCTL_EVENT_DESTROYED)
				break;
		}
		keelctl_close(h);
		if (r < 0) {
			fprintf(stderr, "keelctl watch: %s\n", strerror(-r));
			return 1;
		}
		return 0;
	}
	if (strcmp(cmd, "list") && strcmp(cmd, "dmesg") && strcmp(cmd, "create") &&
	    strcmp(cmd, "create-hvm")) {
		if (i >= argc)
			return keelctl_cli_usage();
		domid = strtoul(argv[i++], NULL, 0);
	}
	if (!strcmp(cmd, "create") || !strcmp(cmd, "create-hvm")) {
		if (i + 1 >= argc)
			return keelctl_cli_usage();
		r = keelctl_domain_create_kind(h, argv[i], strtoull(argv[i + 1], NULL, 0),
					       i + 2 < argc ? atoi(argv[i + 2]) : 1,
					       !strcmp(cmd, "create-hvm"), &domid);
		if (r == 0)
			printf("%u\n", domid);
	} else if (!strcmp(cmd, "load")) {
		if (i >= argc)
			return keelctl_cli_usage();
		r = keelctl_domain_load(h, domid, argv[i], i + 2 < argc ? argv[i + 2] : NULL,
					i + 1 < argc ? argv[i + 1] : "");
	} else if (!strcmp(cmd, "restore-state")) {
		int fd = i < argc ? open(argv[i], O_RDONLY | O_CLOEXEC) : -1;

		if (i >= argc)
			return keelctl_cli_usage();
		r = fd < 0 ? -errno : keelctl_restore_state(h, domid, fd);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(cmd, "unpause")) {
		r = keelctl_domain_unpause(h, domid);
	} else if (!strcmp(cmd, "pause")) {
		r = keelctl_domain_pause(h, domid);
	} else if (!strcmp(cmd, "destroy")) {
		r = keelctl_domain_destroy(h, domid);
	} else if (!strcmp(cmd, "info")) {
		struct keelctl_dominfo info;

		r = keelctl_domain_getinfo(h, domid, &info);
		if (r == 0)
			keelctl_print_info(&info);
	} else if (!strcmp(cmd, "list")) {
		struct keelctl_dominfo infos[64];

		r = keelctl_domain_list(h, infos, 64);
		for (int k = 0; k < r && k < 64; k++)
			keelctl_print_info(&infos[k]);
	} else if (!strcmp(cmd, "dmesg")) {
		r = keelctl_dmesg(h, text, sizeof(text));
		if (r >= 0)
			fputs(text, stdout);
	} else if (!strcmp(cmd, "grant-echo") || !strcmp(cmd, "grant-map")) {
		uint32_t gref;
		char *page;

		if (i >= argc)
			return keelctl_cli_usage();
		gref = strtoul(argv[i], NULL, 0);
		if (!strcmp(cmd, "grant-echo")) {
			r = keelctl_grant_echo(h, domid, gref,
					       i + 1 < argc ? atoi(argv[i + 1]) : 10);
		} else {
			r = keelctl_map_grant(h, domid, gref, 0, (void **)&page);
			if (r == 0) {
				printf("%.64s\n", page);
				r = keelctl_unmap_grant(h, domid, gref, page);
			}
		}
	} else if (!strcmp(cmd, "null-store")) {
		r = keelctl_null_store(rundir, h, domid, i < argc ? atoi(argv[i]) : 60);
	} else if (!strcmp(cmd, "ring-check")) {
		struct keelctl_dominfo info;
		int kick, notify;
		void *page;

		r = keelctl_domain_getinfo(h, domid, &info);
		for (int k = 0; r == 0 && k < 2; k++) {
			r = keelctl_ring_map(rundir, domid, info.store_mfn, info.store_port, &page,
					     &kick, &notify);
			if (r == 0)
				r = keelctl_ring_unmap(rundir, domid, info.store_port, page, kick,
						       notify);
		}
		if (r == 0)
			printf("ring map/unmap twice: ok\n");
	} else if (!strcmp(cmd, "echo-store")) {
		r = keelctl_echo_store(h, domid, i < argc ? atoi(argv[i]) : 10);
	} else if (!strcmp(cmd, "console")) {
		r = keelctl_console_read(h, domid, text, sizeof(text));
		if (r >= 0)
			fputs(text, stdout);
	} else {
		keelctl_close(h);
		return keelctl_cli_usage();
	}
	keelctl_close(h);
	if (r < 0) {
		fprintf(stderr, "keelctl %s: %s\n", cmd, strerror(-r));
		return 1;
	}
	return 0;
}
