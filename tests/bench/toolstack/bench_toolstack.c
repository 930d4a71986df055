/*
 * keel-bench-toolstack: the timing side of tests/bench/toolstack.  Every
 * mode runs its subject N times and prints the median in microseconds, so
 * the toolstack and its baseline are measured by the same clock and the
 * same process-launch costs:
 *   first-byte N CMD...         run CMD, time until its first stdout byte
 *   keelctl-first-byte N RUNDIR KERNEL MEM_MB
 *                               libkeelctl create + load + unpause, then poll
 *                               keeld's console record until the first byte
 *                               (the domain is destroyed after each run)
 *   run N CMD...                run CMD to its exit (stdout discarded)
 *   fill / ramdump / zlib1 / zlib1-write / zlib1-read
 *                               save/restore baselines (bench_saverestore.c)
 * In CMD, "@N@" inside an argument becomes the run's number (unique names).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keelctl.h"

double bench_sr_now_us(void);
int bench_sr_fill(const char *rundir, uint32_t domid, uint64_t from_mib);
int bench_sr_ramdump(int n, const char *rundir, uint32_t domid, const char *file, double *samples);
int bench_sr_zlib1(int n, const char *file, double *samples);
int bench_sr_zlib1_write(int n, const char *img, const char *file, double *samples);
int bench_sr_zlib1_read(int n, const char *file, double *samples);

double bench_sr_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double bench_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* argv with "@N@" replaced by @i (in a static copy good until the next call). */
static char **bench_argv(char **argv, int i)
{
	static char *out[64], bufs[64][512];
	int k;

	for (k = 0; k < 63 && argv[k]; k++) {
		const char *at = strstr(argv[k], "@N@");

		if (!at) {
			out[k] = argv[k];
			continue;
		}
		snprintf(bufs[k], sizeof(bufs[k]), "%.*s%d%s", (int)(at - argv[k]), argv[k], i,
			 at + 3);
		out[k] = bufs[k];
	}
	out[k] = NULL;
	return out;
}

/* Start argv with stdout on a pipe (or /dev/null); returns the pid. */
static pid_t bench_spawn(char **argv, int *out_fd)
{
	int p[2] = {-1, -1};
	pid_t pid;

	if (out_fd && pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(out_fd ? p[1] : null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (out_fd) {
		close(p[1]);
		*out_fd = p[0];
	}
	return pid;
}

static int bench_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int bench_first_byte(int n, char **argv, double *samples)
{
	for (int i = 0; i < n; i++) {
		char c, sink[4096];
		double t0 = bench_now_us();
		int fd;
		pid_t pid = bench_spawn(bench_argv(argv, i), &fd);

		if (pid < 0 || read(fd, &c, 1) != 1) {
			fprintf(stderr, "bench: %s gave no output\n", argv[0]);
			return -1;
		}
		samples[i] = bench_now_us() - t0;
		while (read(fd, sink, sizeof(sink)) > 0)
			;
		close(fd);
		if (bench_wait(pid) != 0) {
			fprintf(stderr, "bench: %s failed\n", argv[0]);
			return -1;
		}
	}
	return 0;
}

static int bench_run(int n, char **argv, double *samples)
{
	for (int i = 0; i < n; i++) {
		double t0 = bench_now_us();
		pid_t pid = bench_spawn(bench_argv(argv, i), NULL);

		if (pid < 0 || bench_wait(pid) != 0) {
			fprintf(stderr, "bench: %s failed\n", argv[0]);
			return -1;
		}
		samples[i] = bench_now_us() - t0;
	}
	return 0;
}

static int bench_keelctl_first_byte(int n, const char *rundir, const char *kernel, int mem,
				    double *samples)
{
	static char buf[KEELCTL_RSP_MAX + 1];

	for (int i = 0; i < n; i++) {
		double t0 = bench_now_us();
		struct keelctl *h;
		uint32_t domid;
		int r = keelctl_open(rundir, &h);

		if (r == 0)
			r = keelctl_domain_create(h, "bench-bare", (uint64_t)mem, 1, &domid);
		if (r == 0) {
			r = keelctl_domain_load(h, domid, kernel, NULL, "");
			if (r == 0)
				r = keelctl_domain_unpause(h, domid);
			while (r == 0 &&
			       (r = keelctl_console_read(h, domid, buf, sizeof(buf))) == 0)
				usleep(200);
			samples[i] = bench_now_us() - t0;
			keelctl_domain_destroy(h, domid);
		}
		if (r < 0) {
			fprintf(stderr, "bench: keelctl: %s\n", strerror(-r));
			return -1;
		}
		keelctl_close(h);
	}
	return 0;
}

int main(int argc, char **argv)
{
	double *samples;
	int n, r;

	if (argc == 5 && !strcmp(argv[1], "fill"))
		return bench_sr_fill(argv[2], (uint32_t)atoi(argv[3]), strtoull(argv[4], NULL, 10))
			       ? 1
			       : 0;
	if (argc < 4) {
		fprintf(stderr, "usage: keel-bench-toolstack first-byte|run N CMD... | "
				"keelctl-first-byte N RUNDIR KERNEL MEM_MB\n");
		return 2;
	}
	n = atoi(argv[2]);
	if (n < 1 || n > 10000)
		return 2;
	samples = calloc((size_t)n, sizeof(*samples));
	if (!samples)
		return 1;
	if (!strcmp(argv[1], "first-byte"))
		r = bench_first_byte(n, argv + 3, samples);
	else if (!strcmp(argv[1], "run"))
		r = bench_run(n, argv + 3, samples);
	else if (!strcmp(argv[1], "ramdump") && argc == 6)
		r = bench_sr_ramdump(n, argv[3], (uint32_t)atoi(argv[4]), argv[5], samples);
	else if (!strcmp(argv[1], "zlib1") && argc == 4)
		r = bench_sr_zlib1(n, argv[3], samples);
	else if (!strcmp(argv[1], "zlib1-write") && argc == 5)
		r = bench_sr_zlib1_write(n, argv[3], argv[4], samples);
	else if (!strcmp(argv[1], "zlib1-read") && argc == 4)
		r = bench_sr_zlib1_read(n, argv[3], samples);
	else if (!strcmp(argv[1], "keelctl-first-byte") && argc == 6)
		r = bench_keelctl_first_byte(n, argv[3], argv[4], atoi(argv[5]), samples);
	else
		r = -1;
	if (r == 0)
		printf("%.1f\n", bench_median(samples, n));
	free(samples);
	return r == 0 ? 0 : 1;
}
