/*
 * keel-xenstored's link to keeld: the ring mapper that turns INTRODUCE into
 * a served store ring (the guest's store frame mapped and dom0's end of its
 * event channel bound, through libkeelctl), and a subscription to keeld's
 * domain-state stream so that a domain that shuts down or is destroyed
 * without a RELEASE still ends in @releaseDomain (Xen's xenstored learns the
 * same from VIRQ_DOM_EXC).  After a restart, the domains the journal says
 * are introduced get their rings mapped again; those keeld no longer knows
 * are released.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "keelctl.h"
#include "xs_store.h"

struct xs_keeld {
	char *rundir;
	struct keelctl *events; /* subscribed handle, or NULL */
	/* the port each mapped domain's ring was bound on, for the unbind */
	uint32_t port[0x7ff0];
};

/*
 * A store daemon killed without unmapping left the port bound in keeld; the
 * store port is ours alone, so let go of the old binding and bind again.
 */
static int xs_keeld_unbind_stale(struct xs_keeld *k, unsigned domid, uint32_t port)
{
	struct keelctl *h;
	int rc = keelctl_open(k->rundir, &h);

	if (rc < 0)
		return rc;
	rc = keelctl_unbind_evtchn(h, domid, port);
	keelctl_close(h);
	if (rc == 0)
		xs_log("domid %u: port %u was still bound (a previous store?), rebinding", domid,
		       port);
	return rc;
}

static int xs_keeld_map(void *opaque, unsigned domid, uint64_t mfn, uint32_t evtchn, void **page,
			int *kick_fd, int *notify_fd)
{
	struct xs_keeld *k = opaque;
	int rc;

	if (domid >= 0x7ff0)
		return -EINVAL;
	rc = keelctl_ring_map(k->rundir, domid, mfn, evtchn, page, kick_fd, notify_fd);
	if (rc == -EINVAL && xs_keeld_unbind_stale(k, domid, evtchn) == 0)
		rc = keelctl_ring_map(k->rundir, domid, mfn, evtchn, page, kick_fd, notify_fd);
	if (rc < 0) {
		xs_log("domid %u: mapping store ring (mfn %#llx, port %u): %s", domid,
		       (unsigned long long)mfn, evtchn, strerror(-rc));
		return rc;
	}
	k->port[domid] = evtchn;
	xs_log("domid %u: store ring mapped (mfn %#llx, port %u)", domid, (unsigned long long)mfn,
	       evtchn);
	return 0;
}

static void xs_keeld_unmap(void *opaque, unsigned domid, void *page, int kick_fd, int notify_fd)
{
	struct xs_keeld *k = opaque;
	int rc;

	if (domid >= 0x7ff0)
		return;
	rc = keelctl_ring_unmap(k->rundir, domid, k->port[domid], page, kick_fd, notify_fd);
	if (rc < 0 && rc != -ENOENT)
		xs_log("domid %u: unmapping store ring: %s", domid, strerror(-rc));
	else
		xs_log("domid %u: store ring unmapped", domid);
}

/* A domain keeld reports shut down, crashed or destroyed. */
static void xs_keeld_event(struct xs_server *s, const struct keelctl_event *ev)
{
	struct xs_domain *d = xs_domain_find(s, ev->domid);

	if (!d || !d->introduced)
		return;
	if (ev->flags & KEELCTL_EVENT_DESTROYED) {
		/* Gone: drop its ring and tell the watchers, as RELEASE would. */
		xs_log("domid %u: destroyed, releasing", ev->domid);
		xs_domain_release(s, ev->domid);
		return;
	}
	if ((ev->state == KEELCTL_STATE_SHUTDOWN || ev->state == KEELCTL_STATE_CRASHED) &&
	    !d->shutdown) {
		/* Still mapped (it may be restarted or saved); the toolstack hears it. */
		d->shutdown = true;
		xs_watch_fire_special(s, "@releaseDomain", ev->domid);
	}
}

static void xs_keeld_readable(struct xs_server *s, void *opaque)
{
	struct xs_keeld *k = opaque;
	struct keelctl_event ev;
	int rc;

	while (k->events && (rc = keelctl_read_event(k->events, &ev)) == 0) {
		xs_keeld_event(s, &ev);
		/* One event's changes (a release) are one batch, as a request's are. */
		if (s->journal_on)
			xs_journal_end_batch(&s->journal);
	}
	if (k->events && rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR) {
		xs_log("keeld event stream: %s; domain deaths are no longer followed",
		       strerror(-rc));
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, keelctl_event_fd(k->events), NULL);
		keelctl_close(k->events);
		k->events = NULL;
	}
	xs_server_commit(s);
}

/* Re-map the rings of domains a replayed journal says are introduced. */
static void xs_keeld_remap(struct xs_server *s)
{
	for (unsigned i = 1; s->domains && i < 0x7ff0; i++) {
		struct xs_domain *d = s->domains[i];
		uint64_t mfn;
		uint32_t evtchn;

		if (!d || !d->introduced || d->conn)
			continue;
		mfn = d->mfn;
		evtchn = d->evtchn;
		d->introduced = false; /* introduce again, mapping this time */
		if (xs_domain_introduce(s, i, mfn, evtchn) == 0)
			continue;
		/* keeld no longer has it (or will not give it): it is gone for us. */
		d->introduced = true;
		xs_log("domid %u: cannot map its ring again, releasing", i);
		xs_domain_release(s, i);
	}
	if (s->journal_on)
		xs_journal_end_batch(&s->journal);
}

int xs_keeld_attach(struct xs_server *s, const char *rundir)
{
	struct xs_keeld *k = calloc(1, sizeof(*k));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->ext_fd};
	int rc, fd;

	if (!k)
		return -ENOMEM;
	k->rundir = strdup(rundir);
	if (!k->rundir) {
		free(k);
		return -ENOMEM;
	}
	rc = keelctl_open(rundir, &k->events);
	if (rc == 0)
		rc = keelctl_subscribe(k->events);
	if (rc < 0) {
		if (k->events)
			keelctl_close(k->events);
		free(k->rundir);
		free(k);
		return rc;
	}
	fd = keelctl_event_fd(k->events);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		rc = -errno;
		keelctl_close(k->events);
		free(k->rundir);
		free(k);
		return rc;
	}
	s->ext_fd = fd;
	s->ext_fn = xs_keeld_readable;
	s->ext_opaque = k;
	s->mapper.map = xs_keeld_map;
	s->mapper.unmap = xs_keeld_unmap;
	s->mapper.opaque = k;
	xs_keeld_remap(s);
	xs_server_commit(s);
	return 0;
}

void xs_keeld_detach(struct xs_server *s)
{
	struct xs_keeld *k = s->mapper.opaque;

	if (s->mapper.map != xs_keeld_map || !k)
		return;
	if (k->events)
		keelctl_close(k->events);
	k->events = NULL;
	s->ext_fn = NULL;
	s->ext_fd = -1;
}

void xs_keeld_free(struct xs_server *s)
{
	struct xs_keeld *k = s->mapper.opaque;

	if (s->mapper.map != xs_keeld_map || !k)
		return;
	xs_keeld_detach(s);
	free(k->rundir);
	free(k);
	memset(&s->mapper, 0, sizeof(s->mapper));
}
