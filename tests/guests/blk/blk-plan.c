/*
 * keel-blk-plan: the host half of the blk test guests.  Replays on an
 * image file exactly what blk-pattern does to its disk (blk_plan.h: the
 * same extents, the same pattern, discards as zeros), or fills a whole
 * image with the pattern (the read-only disk the guest reads back), so the
 * integration test can compare the guest's disk with `cmp`.
 *
 *   keel-blk-plan apply IMAGE SEED DISK COUNT [discard|seq]
 *   keel-blk-plan fill IMAGE SEED DISK
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_plan.h"

static int blk_plan_write(int fd, uint64_t seed, unsigned disk, uint64_t sector, uint32_t nsect,
			  int zero)
{
	size_t len = (size_t)nsect * 512;
	char *buf = calloc(1, len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	if (!zero)
		bp_fill(seed, disk, sector, nsect, buf);
	n = pwrite(fd, buf, len, (off_t)(sector * 512));
	free(buf);
	return n == (ssize_t)len ? 0 : -EIO;
}

static unsigned long long blk_plan_num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || !*s) {
		fprintf(stderr, "keel-blk-plan: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct stat st;
	uint64_t seed, sectors;
	unsigned disk;
	int fd, err = 0;

	if (argc < 5 || (strcmp(argv[1], "apply") && strcmp(argv[1], "fill")) ||
	    (!strcmp(argv[1], "apply") && argc < 6)) {
		fprintf(stderr, "usage: keel-blk-plan apply IMAGE SEED DISK COUNT [discard|seq]\n"
				"       keel-blk-plan fill IMAGE SEED DISK\n");
		return 2;
	}
	seed = blk_plan_num(argv[3], "seed");
	disk = (unsigned)blk_plan_num(argv[4], "disk");
	fd = open(argv[2], O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "keel-blk-plan: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	sectors = (uint64_t)st.st_size / 512;
	if (sectors < 4096) {
		fprintf(stderr, "keel-blk-plan: %s: smaller than 2 MiB\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "fill")) {
		for (uint64_t s = 0; !err && s < sectors; s += 2048)
			err = blk_plan_write(fd, seed, disk, s,
					     (uint32_t)(sectors - s < 2048 ? sectors - s : 2048),
					     0);
	} else {
		unsigned count = (unsigned)blk_plan_num(argv[5], "count");
		int discard = argc > 6 && !strcmp(argv[6], "discard");
		int seq = argc > 6 && !strcmp(argv[6], "seq");

		for (unsigned i = 0; !err && i < count; i++) {
			struct bp_extent e;

			if (seq)
				bp_seq_extent(i, &e);
			else
				bp_extent(seed, disk, i, sectors, discard, &e);
			if (e.sector + e.nsect > sectors)
				break;
			err = blk_plan_write(fd, seed, disk, e.sector, e.nsect, e.op == BP_DISCARD);
		}
	}
	if (err || close(fd) < 0) {
		fprintf(stderr, "keel-blk-plan: %s: write failed\n", argv[2]);
		return 1;
	}
	return 0;
}
