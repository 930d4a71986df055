/*
 * xl top: a live view of the host's domains, as Xen's `xl top` (which runs
 * xentop) shows it: name, state, CPU seconds and CPU% over the last
 * interval, memory, maximum memory and vCPUs, refreshed every delay
 * seconds.  -b (batch) prints plain frames one after another for scripts
 * and logs, -i N stops after N frames, -d S sets the delay; these are
 * xentop's flags.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"

struct xl_top_sample {
	uint32_t domid;
	uint64_t cpu_time_ns;
};

static double xl_top_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The CPU time of @domid in the previous frame, or -1 when it is new. */
static int64_t xl_top_prev(const struct xl_top_sample *prev, int nprev, uint32_t domid)
{
	for (int i = 0; i < nprev; i++)
		if (prev[i].domid == domid)
			return (int64_t)prev[i].cpu_time_ns;
	return -1;
}

static void xl_top_frame(const struct xl_domain_info *d, int n, const struct xl_top_sample *prev,
			 int nprev, double interval, int batch)
{
	if (!batch)
		printf("\033[H\033[2J");
	printf("%10s %5s %8s %10s %6s %10s %10s %5s\n", "NAME", "ID", "STATE", "CPU(sec)", "CPU(%)",
	       "MEM(k)", "MAXMEM(k)", "VCPUS");
	for (int i = 0; i < n; i++) {
		int64_t before = xl_top_prev(prev, nprev, d[i].domid);
		double pct = 0;

		if (before >= 0 && interval > 0 && d[i].cpu_time_ns >= (uint64_t)before)
			pct = (double)(d[i].cpu_time_ns - (uint64_t)before) / 1e9 / interval * 100;
		printf("%10.10s %5u   %c%c%c%c%c%c %10.0f %6.1f %10llu %10llu %5d\n", d[i].name,
		       d[i].domid, d[i].running ? 'r' : '-', d[i].blocked ? 'b' : '-',
		       d[i].paused ? 'p' : '-', d[i].shutdown ? 's' : '-', d[i].crashed ? 'c' : '-',
		       d[i].dying ? 'd' : '-', (double)d[i].cpu_time_ns / 1e9, pct,
		       (unsigned long long)d[i].current_memkb, (unsigned long long)d[i].max_memkb,
		       d[i].vcpus_online);
	}
	if (batch)
		printf("\n");
	fflush(stdout);
}

int main_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{"batch", 0, 0, 'b'},
		{"iterations", 1, 0, 'i'},
		{"delay", 1, 0, 'd'},
		XL_COMMON_LONG_OPTS,
	};
	struct xl_top_sample *prev = NULL;
	struct xl_backend *be;
	int opt, rc = 0, batch = 0, nprev = 0;
	long iterations = -1;
	double delay = 3, last = 0;
	char *end;

	XL_FOREACH_OPT(opt, "bi:d:", opts, "top", 0)
	{
	case 'b':
		batch = 1;
		break;
	case 'i':
		iterations = strtol(optarg, &end, 10);
		if (*end || iterations < 1) {
			fprintf(stderr,
				"xl top: -i wants a positive number of iterations, not '%s'\n",
				optarg);
			return 2;
		}
		break;
	case 'd':
		delay = strtod(optarg, &end);
		if (*end || !(delay > 0 && delay <= 3600)) {
			fprintf(stderr, "xl top: -d wants a delay in seconds (0-3600], not '%s'\n",
				optarg);
			return 2;
		}
		break;
	default:
		return 2;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->list) {
		rc = xl_backend_fail("listing domains", -ENOSYS);
		goto out;
	}
	for (long frame = 0; iterations < 0 || frame < iterations; frame++) {
		struct xl_domain_info *d = NULL;
		struct xl_top_sample *cur;
		int n = 0, r;
		double now;

		if (frame > 0)
			usleep((useconds_t)(delay * 1e6));
		r = be->ops->list(be->handle, &d, &n);
		if (r < 0) {
			rc = xl_backend_fail("listing domains", r);
			break;
		}
		now = xl_top_now();
		xl_top_frame(d, n, prev, nprev, frame ? now - last : 0, batch);
		cur = calloc(n ? n : 1, sizeof(*cur));
		if (!cur) {
			free(d);
			rc = xl_backend_fail("listing domains", -ENOMEM);
			break;
		}
		for (int i = 0; i < n; i++)
			cur[i] = (struct xl_top_sample){d[i].domid, d[i].cpu_time_ns};
		free(prev);
		prev = cur;
		nprev = n;
		last = now;
		free(d);
	}
out:
	free(prev);
	xl_backend_disconnect(be);
	return rc;
}
