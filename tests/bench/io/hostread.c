/*
 * keel-bench-hostread: the host baseline of tests/bench/io's guest
 * figures: one process reading the same image file the guest's disk is,
 * with the same shapes -- 4 KiB preads at random page offsets, then 1 MiB
 * sequential preads -- for the same time each, printing I/O counts and
 * the process's CPU time (getrusage) per phase.
 *
 *   keel-bench-hostread IMAGE SECONDS
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double hr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double hr_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static uint64_t hr_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int hr_phase(int fd, uint64_t size, int seq, double secs, const char *name)
{
	size_t len = seq ? 1 << 20 : 4096;
	uint64_t pos = 0, rnd = 12345, ios = 0;
	char *buf = aligned_alloc(4096, len);
	double t0 = hr_now(), c0 = hr_cpu(), t;

	if (!buf)
		return -1;
	do {
		for (int k = 0; k < 16; k++, ios++) {
			off_t off;

			if (seq) {
				if (pos + len > size)
					pos = 0;
				off = (off_t)pos;
				pos += len;
			} else {
				rnd = hr_mix(rnd);
				off = (off_t)((rnd % (size / 4096)) * 4096);
			}
			if (pread(fd, buf, len, off) != (ssize_t)len) {
				free(buf);
				return -1;
			}
		}
		t = hr_now() - t0;
	} while (t < secs);
	printf("%s_ios=%llu\n%s_secs=%.6f\n%s_cpu=%.6f\n", name, (unsigned long long)ios, name, t,
	       name, hr_cpu() - c0);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	double secs;
	off_t size;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: keel-bench-hostread IMAGE SECONDS\n");
		return 2;
	}
	secs = atof(argv[2]);
	fd = open(argv[1], O_RDONLY);
	size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	if (fd < 0 || size < (1 << 20) || secs <= 0) {
		fprintf(stderr, "keel-bench-hostread: %s: cannot read (or smaller than 1 MiB)\n",
			argv[1]);
		return 1;
	}
	if (hr_phase(fd, (uint64_t)size, 0, secs, "rand4k") ||
	    hr_phase(fd, (uint64_t)size, 1, secs, "seq1m")) {
		fprintf(stderr, "keel-bench-hostread: short read\n");
		return 1;
	}
	return 0;
}
