/*
 * A domain's console log with size-bounded rotation: when the current file
 * would pass @max bytes it becomes name.1 (name.1 becomes name.2 ... up to
 * name.<keep>, the oldest dropped) and a fresh file starts.  So a guest
 * that prints forever uses at most (keep + 1) * max bytes of disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cons.h"

struct cons_log {
	int fd;
	size_t size, max;
	unsigned keep;
	char path[];
};

static int cons_log_reopen(struct cons_log *log, bool truncate)
{
	struct stat st;

	log->fd = open(log->path,
		       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
	if (log->fd < 0)
		return -errno;
	log->size = fstat(log->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

int cons_log_open(const char *path, size_t max, unsigned keep, struct cons_log **out)
{
	size_t len = strlen(path);
	struct cons_log *log;
	int err;

	if (!max || len > 4000)
		return -EINVAL;
	log = calloc(1, sizeof(*log) + len + 1);
	if (!log)
		return -ENOMEM;
	memcpy(log->path, path, len + 1);
	log->max = max;
	log->keep = keep;
	err = cons_log_reopen(log, false);
	if (err) {
		free(log);
		return err;
	}
	*out = log;
	return 0;
}

static int cons_log_rotate(struct cons_log *log)
{
	size_t len = strlen(log->path) + 16;
	char *from = malloc(len), *to = malloc(len);
	int err = -ENOMEM;

	if (!from || !to)
		goto out;
	close(log->fd);
	log->fd = -1;
	for (unsigned i = log->keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, len, "%s", log->path);
		else
			snprintf(from, len, "%s.%u", log->path, i - 1);
		snprintf(to, len, "%s.%u", log->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			break;
	}
	err = cons_log_reopen(log, true);
out:
	free(from);
	free(to);
	return err;
}

int cons_log_write(struct cons_log *log, const char *buf, size_t len)
{
	while (len) {
		size_t room, n;
		ssize_t w;
		int err;

		if (log->fd < 0 && (err = cons_log_reopen(log, false)))
			return err;
		if (log->size >= log->max) {
			if (log->keep)
				err = cons_log_rotate(log);
			else
				err = ftruncate(log->fd, 0) < 0 ? -errno : (log->size = 0, 0);
			if (err)
				return err;
		}
		room = log->max - log->size;
		n = len < room ? len : room;
		w = write(log->fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		log->size += (size_t)w;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

void cons_log_close(struct cons_log *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log);
}
