/*
 * keel-bench-toolstack's save/restore modes: the baselines xl save and
 * xl restore are measured against, on the same domain's RAM in the same
 * run.
 *   fill RUNDIR DOMID FROM_MIB  fill a paused domain's RAM from FROM_MIB
 *                               up with data like a busy guest's: every
 *                               fourth page random, the others text-like
 *   ramdump N RUNDIR DOMID FILE write the domain's RAM raw to FILE and
 *                               fsync (the raw write speed), median us
 *   zlib1 N FILE                deflate FILE's bytes at zlib level 1 in
 *                               memory (the compressor's own speed), median us
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "keelctl.h"

double bench_sr_now_us(void);

static int bench_sr_map(const char *rundir, uint32_t domid, uint8_t **ram, uint64_t *pages)
{
	struct keelctl *h;
	struct keelctl_dominfo info;
	int r = keelctl_open(rundir, &h);

	if (r < 0)
		return r;
	r = keelctl_domain_getinfo(h, domid, &info);
	if (r == 0) {
		*pages = info.mem_mb << 8;
		r = keelctl_map_frames(h, domid, 0, *pages, (void **)ram);
	}
	keelctl_close(h);
	return r;
}

int bench_sr_fill(const char *rundir, uint32_t domid, uint64_t from_mib)
{
	static const char words[] = "keel domain save restore page frame event channel grant ";
	uint64_t pages, x = 88172645463325252ull;
	uint8_t *ram;
	int r = bench_sr_map(rundir, domid, &ram, &pages);

	if (r < 0)
		return r;
	for (uint64_t pfn = from_mib << 8; pfn < pages; pfn++) {
		uint8_t *p = ram + pfn * 4096;

		for (int i = 0; i < 4096; i += 8) {
			x ^= x << 13; /* xorshift64 */
			x ^= x >> 7;
			x ^= x << 17;
			if (pfn % 4 == 0)
				memcpy(p + i, &x, 8);
			else
				memcpy(p + i, words + (x % (sizeof(words) - 9)), 8);
		}
	}
	munmap(ram, pages * 4096);
	return 0;
}

int bench_sr_ramdump(int n, const char *rundir, uint32_t domid, const char *file, double *samples)
{
	uint64_t pages;
	uint8_t *ram;
	int r = bench_sr_map(rundir, domid, &ram, &pages);

	for (int i = 0; r == 0 && i < n; i++) {
		double t0 = bench_sr_now_us();
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		uint64_t off = 0;

		if (fd < 0) {
			r = -errno;
			break;
		}
		while (r == 0 && off < pages * 4096) {
			ssize_t w = write(fd, ram + off, pages * 4096 - off);

			if (w <= 0)
				r = -EIO;
			else
				off += (uint64_t)w;
		}
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		close(fd);
		samples[i] = bench_sr_now_us() - t0;
	}
	if (r == 0)
		munmap(ram, pages * 4096);
	return r;
}

int bench_sr_zlib1(int n, const char *file, double *samples)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *in, *out;
	int r = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	in = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	out = malloc(256 * 1024);
	if (in == MAP_FAILED || !out) {
		free(out);
		return -ENOMEM;
	}
	for (int i = 0; r == 0 && i < n; i++) {
		z_stream z = {0};
		double t0 = bench_sr_now_us();

		if (deflateInit(&z, 1) != Z_OK) {
			r = -ENOMEM;
			break;
		}
		z.next_in = in;
		z.avail_in = (uInt)st.st_size;
		do {
			z.next_out = out;
			z.avail_out = 256 * 1024;
			if (deflate(&z, Z_FINISH) == Z_STREAM_ERROR)
				r = -EIO;
		} while (r == 0 && z.avail_out == 0);
		deflateEnd(&z);
		samples[i] = bench_sr_now_us() - t0;
	}
	munmap(in, (size_t)st.st_size);
	free(out);
	return r;
}
