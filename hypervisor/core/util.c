/*
 * Small helpers keeld's parts share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int keeld_read_file(const char *path, size_t max, void **data, size_t *size)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		r = errno ? -errno : -EFBIG;
		close(fd);
		return r ? r : -EFBIG;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return r;
		}
		got += n;
	}
	close(fd);
	*data = buf;
	*size = got;
	return 0;
}

/* pvclock's scale for a TSC of khz: ns = ((tsc << shift) * mul) >> 32,
 * with mul < 2^32 (Xen's vcpu_time_info); khz 0 is taken as 1 GHz. */
void time_tsc_scale(uint64_t khz, uint32_t *mul, int8_t *shift)
{
	uint64_t m;
	int s = 0;

	if (!khz)
		khz = 1000000;
	m = (1000000ULL << 32) / khz;
	while (m >= (1ULL << 32)) {
		m >>= 1;
		s++;
	}
	while (m < (1ULL << 31) && s > -31) {
		m <<= 1;
		s--;
	}
	*mul = m;
	*shift = s;
}

int keeld_write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

int keeld_read_all(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p = (uint8_t *)p + r;
		n -= (size_t)r;
	}
	return 0;
}
