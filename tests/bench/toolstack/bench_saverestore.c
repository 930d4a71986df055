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
 *   zlib1-write N IMG OUT       the same bytes xl save compressed into IMG
 *                               (IMG's payload inflated once, untimed),
 *                               deflated at zlib level 1 to OUT in 256 KiB
 *                               writes and fsync'd, as xl save writes its
 *                               image, median us
 *   zlib1-read N OUT            OUT (from zlib1-write) read and inflated into
 *                               fresh anonymous memory of the raw size, as
 *                               xl restore fills a new domain's RAM, median us
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

#define BENCH_SR_BUF (256 * 1024) /* xl_saveimg.c's output buffer */

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

static int bench_sr_full_write(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* IMG's payload (after its 64-byte header) inflated: the raw bytes xl save deflated. */
static int bench_sr_image_raw(const char *img, uint8_t **raw, size_t *len)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint64_t raw_size;
	uint8_t *in;
	z_stream z = {0};
	int r = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 64)
		return fd < 0 ? -errno : -EINVAL;
	in = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (in == MAP_FAILED)
		return -ENOMEM;
	memcpy(&raw_size, in + 24, 8); /* struct xl_saveimg_hdr.raw_size */
	*raw = malloc(raw_size ? raw_size : 1);
	if (!*raw || inflateInit(&z) != Z_OK) {
		free(*raw);
		munmap(in, (size_t)st.st_size);
		return -ENOMEM;
	}
	z.next_in = in + 64;
	z.avail_in = (uInt)(st.st_size - 64);
	z.next_out = *raw;
	z.avail_out = (uInt)raw_size;
	if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != raw_size)
		r = -EBADMSG;
	inflateEnd(&z);
	munmap(in, (size_t)st.st_size);
	if (r < 0)
		free(*raw);
	*len = raw_size;
	return r;
}

int bench_sr_zlib1_write(int n, const char *img, const char *file, double *samples)
{
	uint8_t *raw = NULL, *out = malloc(BENCH_SR_BUF);
	size_t len = 0;
	int r = out ? bench_sr_image_raw(img, &raw, &len) : -ENOMEM;

	if (r < 0) {
		free(out);
		return r;
	}
	for (int i = 0; r == 0 && i < n; i++) {
		double t0 = bench_sr_now_us();
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		uint64_t hdr = len;
		z_stream z = {0};
		int zr = Z_OK;

		if (fd < 0 || deflateInit(&z, 1) != Z_OK) {
			r = fd < 0 ? -errno : -ENOMEM;
			if (fd >= 0)
				close(fd);
			break;
		}
		r = bench_sr_full_write(fd, (const uint8_t *)&hdr, sizeof(hdr));
		z.next_in = raw;
		z.avail_in = (uInt)len;
		while (r == 0 && zr != Z_STREAM_END) {
			z.next_out = out;
			z.avail_out = BENCH_SR_BUF;
			zr = deflate(&z, Z_FINISH);
			if (zr == Z_STREAM_ERROR)
				r = -EIO;
			else
				r = bench_sr_full_write(fd, out, BENCH_SR_BUF - z.avail_out);
		}
		deflateEnd(&z);
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		close(fd);
		samples[i] = bench_sr_now_us() - t0;
	}
	free(raw);
	free(out);
	return r;
}

int bench_sr_zlib1_read(int n, const char *file, double *samples)
{
	uint8_t *in = malloc(BENCH_SR_BUF);
	int r = in ? 0 : -ENOMEM;

	for (int i = 0; r == 0 && i < n; i++) {
		double t0 = bench_sr_now_us();
		int fd = open(file, O_RDONLY | O_CLOEXEC), zr = Z_OK;
		uint64_t len = 0;
		uint8_t *ram;
		z_stream z = {0};

		if (fd < 0 || read(fd, &len, sizeof(len)) != sizeof(len) || len == 0) {
			r = fd < 0 ? -errno : -EIO;
			if (fd >= 0)
				close(fd);
			break;
		}
		ram = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ram == MAP_FAILED || inflateInit(&z) != Z_OK) {
			r = -ENOMEM;
			close(fd);
			break;
		}
		z.next_out = ram;
		z.avail_out = (uInt)len;
		while (r == 0 && zr != Z_STREAM_END) {
			ssize_t got = read(fd, in, BENCH_SR_BUF);

			if (got <= 0) {
				r = -EIO;
				break;
			}
			z.next_in = in;
			z.avail_in = (uInt)got;
			while (r == 0 && z.avail_in && zr != Z_STREAM_END) {
				zr = inflate(&z, Z_NO_FLUSH);
				if (zr != Z_OK && zr != Z_STREAM_END)
					r = -EBADMSG;
			}
		}
		if (r == 0 && z.total_out != len)
			r = -EBADMSG;
		inflateEnd(&z);
		close(fd);
		munmap(ram, len);
		samples[i] = bench_sr_now_us() - t0;
	}
	free(in);
	return r;
}
