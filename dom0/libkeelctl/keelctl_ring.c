/*
 * One guest ring for a dom0 server: the page (keelctl_map_frames) and
 * dom0's end of the guest's event channel (keelctl_bind_evtchn), with the
 * calls shaped as keel-xenstored's ring mapper wants them; and the way back.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "keelctl.h"
#include "keelctl_int.h"

int keelctl_unbind_evtchn(struct keelctl *h, uint32_t domid, uint32_t port)
{
	struct keelctl_bind_req b = {port, 0};

	return keelctl_call(h, KEELCTL_OP_UNBIND_EVTCHN, domid, &b, sizeof(b), NULL, 0, NULL, NULL);
}

int keelctl_ring_map(const char *rundir, uint32_t domid, uint64_t mfn, uint32_t port, void **page,
		     int *kick_fd, int *notify_fd)
{
	struct keelctl *h;
	int r = keelctl_open(rundir, &h);

	if (r < 0)
		return r;
	r = keelctl_map_frames(h, domid, mfn, 1, page);
	if (r == 0) {
		r = keelctl_bind_evtchn(h, domid, port, kick_fd, notify_fd);
		if (r < 0)
			munmap(*page, 4096);
	}
	keelctl_close(h);
	return r;
}

int keelctl_ring_unmap(const char *rundir, uint32_t domid, uint32_t port, void *page, int kick_fd,
		       int notify_fd)
{
	struct keelctl *h;
	int r;

	if (page)
		munmap(page, 4096);
	if (kick_fd >= 0)
		close(kick_fd);
	if (notify_fd >= 0)
		close(notify_fd);
	r = keelctl_open(rundir, &h);
	if (r < 0)
		return r;
	r = keelctl_unbind_evtchn(h, domid, port);
	keelctl_close(h);
	return r == -ESRCH ? 0 : r; /* a destroyed domain has nothing to undo */
}
