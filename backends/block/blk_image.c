/*
 * The disk behind a vbd: a raw image file or a block device.  Opened with
 * O_DIRECT when the file system supports it (tmpfs does not), with a second
 * buffered descriptor for transfers O_DIRECT rejects for alignment; both
 * name the same inode, so fdatasync on either makes every completed write
 * durable.  Discard punches holes in files (keeping the size) and issues
 * BLKDISCARD on devices.  Sizes and sector sizes come from the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback.h"

static int blk_image_probe_bdev(struct blk_image *img)
{
	uint64_t size;
	int ssz, pbsz;
	unsigned int pbsz_u;

	if (ioctl(img->fd, BLKGETSIZE64, &size) < 0)
		return -errno;
	if (ioctl(img->fd, BLKSSZGET, &ssz) < 0)
		return -errno;
	if (ioctl(img->fd, BLKPBSZGET, &pbsz_u) < 0)
		pbsz_u = (unsigned int)ssz;
	pbsz = (int)pbsz_u;
	if (ssz < 512 || ssz > 65536 || (ssz & (ssz - 1)))
		return -EINVAL;
	img->size = size;
	img->sector_size = (uint32_t)ssz;
	img->phys_sector_size = pbsz >= ssz ? (uint32_t)pbsz : (uint32_t)ssz;
	img->can_discard = true; /* BLKDISCARD answers EOPNOTSUPP if the device cannot */
	return 0;
}

int blk_image_open(const char *path, bool readonly, struct blk_image **out)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct blk_image *img = calloc(1, sizeof(*img));
	struct stat st;
	int err;

	if (!img)
		return -ENOMEM;
	img->fd = img->fd_buffered = -1;
	img->readonly = readonly;
	img->fd_buffered = open(path, flags);
	if (img->fd_buffered < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(img->fd_buffered, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err = -EINVAL;
		goto fail;
	}
	img->is_bdev = S_ISBLK(st.st_mode);
	img->fd = open(path, flags | O_DIRECT);
	img->direct = img->fd >= 0;
	if (!img->direct)
		img->fd = dup(img->fd_buffered);
	if (img->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (img->is_bdev) {
		err = blk_image_probe_bdev(img);
		if (err)
			goto fail;
	} else {
		img->size = (uint64_t)st.st_size;
		img->sector_size = 512;
		img->phys_sector_size = 512;
		img->can_discard = true;
	}
	*out = img;
	return 0;
fail:
	blk_image_close(img);
	return err;
}

void blk_image_close(struct blk_image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	if (img->fd_buffered >= 0)
		close(img->fd_buffered);
	free(img);
}

/* One pass of preadv/pwritev, retried on the buffered fd if O_DIRECT refuses. */
static ssize_t blk_image_xfer(struct blk_image *img, bool write, const struct iovec *iov,
			      int iovcnt, off_t off)
{
	ssize_t n;

	n = write ? pwritev(img->fd, iov, iovcnt, off) : preadv(img->fd, iov, iovcnt, off);
	if (n < 0 && errno == EINVAL && img->direct)
		n = write ? pwritev(img->fd_buffered, iov, iovcnt, off)
			  : preadv(img->fd_buffered, iov, iovcnt, off);
	return n;
}

int blk_image_rw(struct blk_image *img, bool write, struct iovec *iov, int iovcnt, off_t off)
{
	if (write && img->readonly)
		return -EROFS;
	while (iovcnt > 0) {
		ssize_t n = blk_image_xfer(img, write, iov, iovcnt, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* past the end: the caller checked the range, so the image shrank */
		off += n;
		/* Continue a short transfer where it stopped. */
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int blk_image_flush(struct blk_image *img)
{
	if (img->readonly)
		return 0;
	return fdatasync(img->fd_buffered) < 0 ? -errno : 0;
}

int blk_image_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	if (img->readonly)
		return -EROFS;
	if (!len)
		return 0;
	if (img->is_bdev) {
		uint64_t range[2] = {off, len};

		return ioctl(img->fd_buffered, BLKDISCARD, range) < 0 ? -errno : 0;
	}
	if (fallocate(img->fd_buffered, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)len) < 0)
		return errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
	return 0;
}
