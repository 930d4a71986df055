/*
 * Publishing a vbd's request counters for xentop (`xl top`): Linux's
 * xen-blkback shows them in sysfs, Keel's in RUNDIR/stats/vbd-D-N (see
 * include/keel/vbd_stats.h), a file blkback maps shared and the queue
 * threads update in place.  Why a mapped file and not store nodes: the
 * counters change with every request, and a store write per request (or a
 * timer batching them) would cost the store and the request path what a
 * relaxed add to shared memory does not; a reader gets the figures of the
 * moment it reads.  The file goes with the device.  Where there is no run
 * directory to write (a driver domain without one), the counters are kept
 * in memory only and xentop prints its "-".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback.h"

struct blk_stats_pub {
	struct keel_vbd_stats_file *file; /* mapped, or &local when not published */
	struct keel_vbd_stats_file local;
	char path[256];
};

static const char *blk_stats_rundir(void)
{
	const char *d = getenv("KEEL_RUNDIR");

	return d && *d ? d : "/run/keel";
}

/* Map RUNDIR/stats/vbd-@domid-@devid, fresh; -errno when it cannot be made. */
static int blk_stats_map(struct blk_stats_pub *s, uint16_t domid, uint32_t devid)
{
	char dir[200];
	void *m;
	int fd, n;

	n = snprintf(dir, sizeof(dir), "%s/%s", blk_stats_rundir(), KEEL_VBD_STATS_DIR);
	if (n < 0 || n >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(s->path, sizeof(s->path), "%s/vbd-%u-%u", dir, domid, devid);
	fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(struct keel_vbd_stats_file)) < 0) {
		n = -errno;
		close(fd);
		unlink(s->path);
		return n;
	}
	m = mmap(NULL, sizeof(struct keel_vbd_stats_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	n = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (n) {
		unlink(s->path);
		return n;
	}
	s->file = m;
	return 0;
}

int blk_stats_publish(uint16_t domid, uint32_t devid, struct blk_stats_pub **out)
{
	struct blk_stats_pub *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = blk_stats_map(s, domid, devid);
	if (err) {
		bk_log("vbd %u/%u: request counters not published (%s): xentop shows '-'", domid,
		       devid, strerror(-err));
		s->path[0] = '\0';
		s->file = &s->local;
	}
	memcpy(s->file->magic, KEEL_VBD_STATS_MAGIC, sizeof(s->file->magic));
	*out = s;
	return 0;
}

struct keel_vbd_stats_file *blk_stats_file(struct blk_stats_pub *s)
{
	return s ? s->file : NULL;
}

void blk_stats_withdraw(struct blk_stats_pub *s)
{
	if (!s)
		return;
	if (s->file != &s->local) {
		munmap(s->file, sizeof(*s->file));
		unlink(s->path);
	}
	free(s);
}
