/*
 * libkeelctl: grant copy for dom0 processes (Xen's GNTTABOP_copy as
 * libxengnttab's xengnttab_grant_copy offers it).  The process registers
 * a buffer with keeld once -- a memfd sealed against shrinking, passed
 * with SCM_RIGHTS -- and then asks for batches of copies between that
 * buffer and pages guests granted to dom0; no data crosses the socket and
 * a batch of up to KEELCTL_GCOPY_MAX pieces costs one round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "keelctl.h"
#include "keelctl_int.h"

int keelctl_grant_copy_register(struct keelctl *h, int memfd, uint64_t size, uint32_t *id)
{
	struct keelctl_gcopy_reg g = {.size = size};
	const void *p;
	uint32_t len;
	int r;

	r = keelctl_call(h, KEELCTL_OP_GCOPY_REGISTER, 0, &g, sizeof(g), &memfd, 1, &p, &len);
	if (r < 0)
		return r;
	if (len != sizeof(*id))
		return -EPROTO;
	memcpy(id, p, sizeof(*id));
	return 0;
}

int keelctl_grant_copy_unregister(struct keelctl *h, uint32_t id)
{
	struct keelctl_gcopy_reg g = {.id = id};

	return keelctl_call(h, KEELCTL_OP_GCOPY_UNREGISTER, 0, &g, sizeof(g), NULL, 0, NULL, NULL);
}

int keelctl_grant_copy_buffer(struct keelctl *h, size_t size, uint32_t *id, void **addr)
{
	void *p = MAP_FAILED;
	int fd, r;

	if (size == 0 || size > KEELCTL_GCOPY_BUF_MAX)
		return -EINVAL;
	fd = memfd_create("keel-gcopy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		goto out;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	r = keelctl_grant_copy_register(h, fd, size, id);
	if (r < 0) {
		munmap(p, size);
		goto out;
	}
	*addr = p;
out:
	close(fd);
	return r;
}

int keelctl_grant_copy(struct keelctl *h, const struct keelctl_gcopy *ops, unsigned count,
		       int16_t *status)
{
	struct keelctl_gcopy_req req;

	while (count) {
		unsigned n = count < KEELCTL_GCOPY_MAX ? count : KEELCTL_GCOPY_MAX;
		const void *p;
		uint32_t len;
		int r;

		memset(&req, 0, offsetof(struct keelctl_gcopy_req, ops));
		req.count = n;
		memcpy(req.ops, ops, n * sizeof(*ops));
		/* The request has a fixed size; the ops past count are not read. */
		r = keelctl_call(h, KEELCTL_OP_GRANT_COPY, 0, &req, sizeof(req), NULL, 0, &p, &len);
		if (r < 0)
			return r;
		if (len != n * sizeof(*status))
			return -EPROTO;
		memcpy(status, p, len);
		ops += n;
		status += n;
		count -= n;
	}
	return 0;
}
