/*
 * `keeld run`: build one PV domain from a kernel (and ramdisk) the way the
 * daemon builds one (domain_new, the kind's build, domain_start), run it
 * with its console on stdout, and exit 0 when it powers off, 1 when it
 * crashes (the reason and a register dump are in keeld's log on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "../core/domain.h"
#include "keeld.h"
#include "../core/kind.h"

int keeld_default_shim(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	if (strlen(exe) + 20 > size)
		return -ENAMETOOLONG;
	strcpy(buf, exe);
	strcat(buf, "/../guests/pv-shim");
	return 0;
}

int keeld_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"kernel", required_argument, 0, 'k'},
		{"ramdisk", required_argument, 0, 'r'},
		{"cmdline", required_argument, 0, 'c'},
		{"memory", required_argument, 0, 'm'},
		{"vcpus", required_argument, 0, 'n'},
		{"shim", required_argument, 0, 's'},
		{0, 0, 0, 0},
	};
	const char *kernel = NULL, *ramdisk = NULL, *cmdline = "", *what = NULL;
	char shim_path[PATH_MAX] = "";
	struct domain_image img;
	struct domain *d = NULL;
	void *kbuf = NULL, *rbuf = NULL, *sbuf = NULL;
	size_t ksz = 0, rsz = 0, ssz = 0;
	long mem = 64, vcpus = 1;
	int o, r;

	clock_gettime(CLOCK_MONOTONIC, &keeld_run_start);

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'k':
			kernel = optarg;
			break;
		case 'r':
			ramdisk = optarg;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'm':
			mem = strtol(optarg, NULL, 0);
			break;
		case 'n':
			vcpus = strtol(optarg, NULL, 0);
			break;
		case 's':
			snprintf(shim_path, sizeof(shim_path), "%s", optarg);
			break;
		default:
			return 2;
		}
	}
	if (!kernel) {
		fprintf(stderr, "keeld run: --kernel is required\n");
		return 2;
	}
	if (!shim_path[0] && keeld_default_shim(shim_path, sizeof(shim_path)) < 0)
		return keeld_fail("shim path", -ENOENT);
	if ((r = keeld_read_file(kernel, 512 << 20, &kbuf, &ksz)) < 0) {
		what = kernel;
		goto out;
	}
	if (ramdisk && (r = keeld_read_file(ramdisk, 1u << 30, &rbuf, &rsz)) < 0) {
		what = ramdisk;
		goto out;
	}
	if ((r = keeld_read_file(shim_path, 1 << 20, &sbuf, &ssz)) < 0) {
		what = shim_path;
		goto out;
	}
	r = -EINVAL;
	if (mem > 0 && mem <= DOMAIN_MAX_MEM_MB)
		d = domain_new(&pv_kind, "run", (uint64_t)mem << 8, (int)vcpus, 0, &r);
	if (!d) {
		what = "create domain";
		goto out;
	}
	d->console = stdout;
	d->trace = getenv("KEEL_TRACE") != NULL;
	d->timing = getenv("KEEL_TIMING") != NULL;
	img = (struct domain_image){kbuf, ksz, rbuf, rsz, cmdline, sbuf, ssz};
	r = d->kind->build(d, &img);
	if (r < 0) {
		what = "build domain";
		goto out;
	}
	r = keeld_seccomp_install();
	if (r < 0) {
		what = "seccomp";
		goto out;
	}
	r = domain_start(d);
	if (r < 0) {
		what = "start vcpu";
		goto out;
	}
	domain_unpause(d);
	/* until it powers off, reboots or crashes */
	pthread_mutex_lock(&d->lock);
	while (d->state == DOM_RUNNING || d->state == DOM_PAUSED)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	domain_stop_threads(d);
	fflush(stdout);
	if (d->state == DOM_SHUTDOWN && d->shutdown_reason == 0) {
		hvlog("d%d: powered off", d->domid);
		r = 0;
	} else {
		fprintf(stderr, "keeld: domain %s: %s\n",
			d->state == DOM_CRASHED ? "crashed" : "stopped",
			d->crash_reason[0] ? d->crash_reason : "shutdown");
		r = d->shutdown_reason == 1 ? 3 : 1; /* reboot: 3, anything else: 1 */
	}
out:
	if (what)
		r = keeld_fail(what, r);
	if (d)
		domain_free(d);
	free(kbuf);
	free(rbuf);
	free(sbuf);
	return r;
}
