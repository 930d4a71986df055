/*
 * keel-bench-events: host baselines for tests/bench/events, measured in
 * the same run as the guest figures.
 *   pipe N    two processes ping-pong one byte over a pair of pipes N times;
 *             prints pipe_rtt_ns (per round trip, best of 3)
 *   memcpy P  copies P pages of 4 KiB (the grant-copy batch), best of 200;
 *             prints memcpy_ns
 *   sleep     200 absolute clock_nanosleep deadlines 1-3 ms ahead (as the
 *             guest's one-shot timers); prints sleep_p50_ns, sleep_p99_ns
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static unsigned long long bench_pipe(int n)
{
	int a[2], b[2];
	unsigned long long t0, t1;
	char c = 'x';
	pid_t pid;

	if (pipe(a) < 0 || pipe(b) < 0)
		return 0;
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++)
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	t0 = bench_now();
	for (int i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			break;
	t1 = bench_now();
	waitpid(pid, NULL, 0);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	return (t1 - t0) / n;
}

static int bench_cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static void bench_sleep(void)
{
	static unsigned long long late[200];

	for (int i = 0; i < 200; i++) {
		unsigned long long d = bench_now() + 1000000 + (i % 3) * 1000000, now;
		struct timespec ts = {d / 1000000000ULL, d % 1000000000ULL};

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		now = bench_now();
		late[i] = now > d ? now - d : 0;
	}
	qsort(late, 200, sizeof(late[0]), bench_cmp);
	printf("sleep_p50_ns=%llu\nsleep_p99_ns=%llu\n", late[100], late[198]);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sleep")) {
		bench_sleep();
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "pipe")) {
		int n = atoi(argv[2]);
		unsigned long long best = ~0ULL;

		if (n <= 0)
			return 2;
		for (int k = 0; k < 3; k++) {
			unsigned long long r = bench_pipe(n);

			if (r && r < best)
				best = r;
		}
		printf("pipe_rtt_ns=%llu\n", best);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "memcpy")) {
		int pages = atoi(argv[2]);
		size_t sz = (size_t)(pages > 0 && pages <= 4096 ? pages : 64) * 4096;
		char *src = malloc(sz), *dst = malloc(sz);
		unsigned long long best = ~0ULL;

		if (!src || !dst)
			return 1;
		memset(src, 'a', sz);
		memset(dst, 'b', sz);
		for (int k = 0; k < 200; k++) {
			unsigned long long t0 = bench_now(), t1;

			for (size_t p = 0; p < sz / 4096; p++)
				memcpy(dst + p * 4096, src + p * 4096, 4096);
			__asm__ volatile("" ::"r"(dst) : "memory");
			t1 = bench_now();
			if (t1 - t0 < best)
				best = t1 - t0;
		}
		printf("memcpy_ns=%llu\n", best);
		free(src);
		free(dst);
		return 0;
	}
	fprintf(stderr, "usage: keel-bench-events pipe N | memcpy PAGES | sleep\n");
	return 2;
}
