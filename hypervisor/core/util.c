/*
 * Small helpers keeld's parts share.
 */
#include <errno.h>
#include <fcntl.h>
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
