/*
 * One guest ring for a dom0 server: the page (keelctl_map_frames) and
 * dom0's end of the guest's event channel (keelctl_bind_evtchn), with the
 * calls shaped as keel-xenstored's ring mapper wants them; and the way back.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "keelctl.h"
#include "keelctl_int.h"

int keelctl_unbind_evtchn(struct keelctl *h, uint32_t domid, uint32_t port)
{
	struct keelctl_bind_req b = {port, 0};

	return keelctl_call(h, KEELCTL_OP_UNBIND_EVTCHN, domid, &b, sizeof(b), NULL, 0, NULL, NULL);
}

/*
 * keeld releases a port's dom0 binding when the connection that bound it
 * closes (the process died, as closing /dev/xen/evtchn does), so a ring's
 * binding must be made on a connection that stays open while the ring is
 * mapped: one per rundir for the whole process (keeld serves a few dozen
 * clients, so not one per ring), closed when its last ring is unmapped.
 */
#define KEELCTL_RING_CONNS 4

struct keelctl_ring_conn {
	char rundir[256]; /* as passed ("" for NULL) */
	struct keelctl *h;
	unsigned rings;
};

static struct keelctl_ring_conn keelctl_ring_conns[KEELCTL_RING_CONNS];
static pthread_mutex_t keelctl_ring_lock = PTHREAD_MUTEX_INITIALIZER;

static struct keelctl_ring_conn *keelctl_ring_conn(const char *rundir, int create)
{
	const char *key = rundir ? rundir : "";
	struct keelctl_ring_conn *free_c = NULL;

	if (strlen(key) >= sizeof(free_c->rundir))
		return NULL;
	for (int i = 0; i < KEELCTL_RING_CONNS; i++) {
		struct keelctl_ring_conn *c = &keelctl_ring_conns[i];

		if (c->h && strcmp(c->rundir, key) == 0)
			return c;
		if (!c->h && !free_c)
			free_c = c;
	}
	if (!create || !free_c || keelctl_open(rundir, &free_c->h) < 0)
		return NULL;
	strcpy(free_c->rundir, key);
	free_c->rings = 0;
	return free_c;
}

static void keelctl_ring_conn_put(struct keelctl_ring_conn *c)
{
	if (c->rings && --c->rings)
		return;
	keelctl_close(c->h);
	c->h = NULL;
}

/* The connection is dead (keeld restarted): its bindings went with it. */
static int keelctl_ring_dead(int r)
{
	return r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN || r == -ECONNREFUSED ||
	       r == -EPROTO;
}

int keelctl_ring_map(const char *rundir, uint32_t domid, uint64_t mfn, uint32_t port, void **page,
		     int *kick_fd, int *notify_fd)
{
	struct keelctl_ring_conn *c;
	int r = -ENOMEM;

	pthread_mutex_lock(&keelctl_ring_lock);
	for (int attempt = 0; attempt < 2; attempt++) {
		c = keelctl_ring_conn(rundir, 1);
		if (!c) {
			r = -ECONNREFUSED;
			break;
		}
		r = keelctl_map_frames(c->h, domid, mfn, 1, page);
		if (r == 0) {
			r = keelctl_bind_evtchn(c->h, domid, port, kick_fd, notify_fd);
			if (r < 0)
				munmap(*page, 4096);
		}
		if (r == 0)
			c->rings++;
		if (!keelctl_ring_dead(r)) {
			if (r < 0 && !c->rings)
				keelctl_ring_conn_put(c);
			break;
		}
		keelctl_close(c->h);
		c->h = NULL;
	}
	pthread_mutex_unlock(&keelctl_ring_lock);
	return r;
}

int keelctl_ring_unmap(const char *rundir, uint32_t domid, uint32_t port, void *page, int kick_fd,
		       int notify_fd)
{
	struct keelctl_ring_conn *c;
	struct keelctl *h;
	int r;

	if (page)
		munmap(page, 4096);
	if (kick_fd >= 0)
		close(kick_fd);
	if (notify_fd >= 0)
		close(notify_fd);
	pthread_mutex_lock(&keelctl_ring_lock);
	c = keelctl_ring_conn(rundir, 0);
	if (c) {
		r = keelctl_unbind_evtchn(c->h, domid, port);
		keelctl_ring_conn_put(c);
	} else { /* mapped by an older library, or keeld restarted */
		r = keelctl_open(rundir, &h);
		if (r == 0) {
			r = keelctl_unbind_evtchn(h, domid, port);
			keelctl_close(h);
		}
	}
	pthread_mutex_unlock(&keelctl_ring_lock);
	return r == -ESRCH || keelctl_ring_dead(r) ? 0 : r; /* nothing left to undo */
}
