/*
 * The daemons' transport: the seam (bk_transport.h) over Xen's library API,
 * libxengnttab, libxenevtchn and libxenforeignmemory, declared in the
 * project's own headers (dom0/xenlibs/include).  In dom0 the daemons link
 * Keel's builds of those libraries (dom0/xenlibs, over keeld); the same
 * binary runs on Xen's own libraries (LD_LIBRARY_PATH), which reach a Xen
 * kernel through /dev/xen/gntdev and /dev/xen/evtchn.
 *
 * Grants: one xengnttab handle for the process.  A batch is one
 * xengnttab_map_domain_grant_refs (one contiguous area, all or nothing),
 * undone by one xengnttab_unmap; copies are xengnttab_grant_copy.  Xen's
 * libraries refuse any bad grant with one errno (EINVAL, as gntdev does),
 * so the seam's map errors are whatever the library says.
 *
 * Event channels: one xenevtchn handle per bound port.  The seam gives each
 * port a descriptor of its own, polled by the thread that serves that port
 * (a block queue, a vif, the console loop); xenevtchn has one descriptor per
 * handle and xenevtchn_pending names the port that fired.  With one handle
 * per port the handle's descriptor is the port's, no demultiplexing thread
 * sits between a kick and the thread that serves it, and no thread can take
 * another's event.  A handle costs an open of /dev/xen/evtchn on Xen and
 * nothing in keeld on Keel (libkeelevtchn shares one connection per
 * process).  `consume` is xenevtchn_pending (non-blocking) and unmask, the
 * pair a Xen program runs after its descriptor polls readable.
 *
 * map_frame, the console's fallback, is xenforeignmemory_map of one frame
 * (the privileged foreign mapping xenconsoled uses), opened on first use.
 * One lock covers the tables; the libraries' own calls run outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bk_transport.h"
#include "xenevtchn.h"
#include "xenforeignmemory.h"
#include "xengnttab.h"

#define BK_XEN_MAX_PORTS  1024
#define BK_XEN_MAX_FRAMES 1024
#define BK_XEN_COPY_BATCH 128 /* segments per xengnttab_grant_copy call */

struct bk_xen_port {
	xenevtchn_handle *xce; /* NULL: free slot */
	evtchn_port_t port;    /* the handle's port */
	int fd;
};

struct bk_xen {
	pthread_mutex_t lock;
	xengnttab_handle *xgt;
	xenforeignmemory_handle *xfm;		    /* opened by the first map_frame */
	struct bk_xen_port ports[BK_XEN_MAX_PORTS]; /* local port = index + 1 */
	void *frames[BK_XEN_MAX_FRAMES];	    /* map_frame's pages */
};

static int bk_xen_err(void)
{
	return errno ? -errno : -EIO;
}

static int bk_xen_map(void *ctx, uint16_t domid, const grant_ref_t *refs, unsigned count,
		      unsigned flags, void **addr, unsigned *bad_index)
{
	struct bk_xen *x = ctx;
	int prot = flags & BK_GNT_READONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	void *p;

	if (count == 0)
		return -EINVAL;
	if (bad_index)
		*bad_index = 0; /* Xen's libraries do not say which reference failed */
	/* Xen's prototype takes the references without const; it only reads them. */
	p = xengnttab_map_domain_grant_refs(x->xgt, count, domid, (uint32_t *)refs, prot);
	if (!p)
		return bk_xen_err();
	*addr = p;
	return 0;
}

/* The map_frame slot holding addr, or a free one for NULL (locked); -1: none. */
static int bk_xen_frame_slot(struct bk_xen *x, const void *addr)
{
	for (int i = 0; i < BK_XEN_MAX_FRAMES; i++)
		if (x->frames[i] == addr)
			return i;
	return -1;
}

static int bk_xen_unmap(void *ctx, void *addr, unsigned count)
{
	struct bk_xen *x = ctx;
	int slot;

	pthread_mutex_lock(&x->lock);
	slot = count == 1 && addr ? bk_xen_frame_slot(x, addr) : -1;
	if (slot >= 0)
		x->frames[slot] = NULL;
	pthread_mutex_unlock(&x->lock);
	if (slot >= 0)
		return xenforeignmemory_unmap(x->xfm, addr, 1) ? bk_xen_err() : 0;
	return xengnttab_unmap(x->xgt, addr, count) ? bk_xen_err() : 0;
}

static int bk_xen_map_frame(void *ctx, uint16_t domid, uint64_t mfn, void **addr)
{
	struct bk_xen *x = ctx;
	xen_pfn_t pfn = (xen_pfn_t)mfn;
	int err = 0, slot;
	void *p;

	pthread_mutex_lock(&x->lock);
	slot = bk_xen_frame_slot(x, NULL);
	if (slot < 0)
		err = -ENOSPC;
	else if (!x->xfm && !(x->xfm = xenforeignmemory_open(NULL, 0)))
		err = bk_xen_err();
	if (!err) {
		p = xenforeignmemory_map(x->xfm, domid, PROT_READ | PROT_WRITE, 1, &pfn, NULL);
		if (!p)
			err = bk_xen_err();
		else
			x->frames[slot] = *addr = p;
	}
	pthread_mutex_unlock(&x->lock);
	return err;
}

/* Up to BK_XEN_COPY_BATCH ops in one xengnttab_grant_copy. */
static void bk_xen_copy_batch(struct bk_xen *x, struct bk_gnt_copy *ops, unsigned count)
{
	xengnttab_grant_copy_segment_t seg[BK_XEN_COPY_BATCH];
	unsigned n = 0, idx[BK_XEN_COPY_BATCH];
	int err;

	for (unsigned i = 0; i < count; i++) {
		struct bk_gnt_copy *op = &ops[i];
		xengnttab_grant_copy_segment_t *s = &seg[n];
		union xengnttab_copy_ptr grant = {.foreign = {op->gref, op->offset, op->domid}};
		union xengnttab_copy_ptr local = {.virt = op->local};

		/* The library would refuse the whole call for this one op. */
		if ((unsigned)op->offset + op->len > BK_PAGE_SIZE) {
			op->status = -EINVAL;
			continue;
		}
		*s = (xengnttab_grant_copy_segment_t){.len = op->len};
		if (op->to_grant) {
			s->source = local;
			s->dest = grant;
			s->flags = GNTCOPY_dest_gref;
		} else {
			s->source = grant;
			s->dest = local;
			s->flags = GNTCOPY_source_gref;
		}
		idx[n++] = i;
	}
	if (!n)
		return;
	err = xengnttab_grant_copy(x->xgt, n, seg) ? bk_xen_err() : 0;
	for (unsigned k = 0; k < n; k++)
		ops[idx[k]].status = err ? err : bk_gnt_copy_errno(seg[k].status);
}

static int bk_xen_copy(void *ctx, struct bk_gnt_copy *ops, unsigned count)
{
	for (unsigned i = 0; i < count; i += BK_XEN_COPY_BATCH)
		bk_xen_copy_batch(ctx, ops + i,
				  count - i < BK_XEN_COPY_BATCH ? count - i : BK_XEN_COPY_BATCH);
	for (unsigned i = 0; i < count; i++)
		if (ops[i].status)
			return ops[i].status;
	return 0;
}

/* The port behind a local port (locked), or NULL. */
static struct bk_xen_port *bk_xen_port(struct bk_xen *x, uint32_t lport)
{
	if (lport == 0 || lport > BK_XEN_MAX_PORTS || !x->ports[lport - 1].xce)
		return NULL;
	return &x->ports[lport - 1];
}

/* A copy of the port's entry, so the library is called outside the lock. */
static int bk_xen_port_get(struct bk_xen *x, uint32_t lport, struct bk_xen_port *out)
{
	struct bk_xen_port *p;

	pthread_mutex_lock(&x->lock);
	p = bk_xen_port(x, lport);
	if (p)
		*out = *p;
	pthread_mutex_unlock(&x->lock);
	return p ? 0 : -EINVAL;
}

static int bk_xen_bind(void *ctx, uint16_t domid, uint32_t remote_port, uint32_t *local_port)
{
	struct bk_xen *x = ctx;
	struct bk_xen_port np = {0};
	xenevtchn_port_or_error_t port;
	int err = 0, fl;
	unsigned i;

	np.xce = xenevtchn_open(NULL, 0);
	if (!np.xce)
		return bk_xen_err();
	port = xenevtchn_bind_interdomain(np.xce, domid, remote_port);
	np.fd = xenevtchn_fd(np.xce);
	if (port < 0 || np.fd < 0) {
		err = bk_xen_err();
	} else {
		/* consume must never wait: xenevtchn_pending reads a blocking fd. */
		fl = fcntl(np.fd, F_GETFL);
		if (fl < 0 || fcntl(np.fd, F_SETFL, fl | O_NONBLOCK) < 0)
			err = -errno;
	}
	np.port = (evtchn_port_t)port;
	if (!err) {
		pthread_mutex_lock(&x->lock);
		for (i = 0; i < BK_XEN_MAX_PORTS && x->ports[i].xce; i++)
			;
		if (i < BK_XEN_MAX_PORTS) {
			x->ports[i] = np;
			*local_port = i + 1;
		} else {
			err = -ENOSPC;
		}
		pthread_mutex_unlock(&x->lock);
	}
	if (err)
		xenevtchn_close(np.xce); /* unbinds what it bound */
	return err;
}

static int bk_xen_unbind(void *ctx, uint32_t local_port)
{
	struct bk_xen *x = ctx;
	struct bk_xen_port *p, old = {0};
	int err = 0;

	pthread_mutex_lock(&x->lock);
	p = bk_xen_port(x, local_port);
	if (p) {
		old = *p;
		memset(p, 0, sizeof(*p));
	}
	pthread_mutex_unlock(&x->lock);
	if (!old.xce)
		return -EINVAL;
	/* A domain already gone has nothing left to undo (ESRCH, ENOTCONN). */
	if (xenevtchn_unbind(old.xce, old.port) && errno != ESRCH && errno != ENOTCONN)
		err = bk_xen_err();
	xenevtchn_close(old.xce);
	return err;
}

static int bk_xen_fd(void *ctx, uint32_t local_port)
{
	struct bk_xen_port p;
	int err = bk_xen_port_get(ctx, local_port, &p);

	return err ? err : p.fd;
}

static int bk_xen_notify(void *ctx, uint32_t local_port)
{
	struct bk_xen_port p;
	int err = bk_xen_port_get(ctx, local_port, &p);

	if (!err && xenevtchn_notify(p.xce, p.port))
		err = bk_xen_err();
	return err;
}

static int bk_xen_consume(void *ctx, uint32_t local_port)
{
	struct bk_xen_port p;
	xenevtchn_port_or_error_t fired;
	int err = bk_xen_port_get(ctx, local_port, &p);

	if (err)
		return err;
	fired = xenevtchn_pending(p.xce);
	if (fired < 0)
		return errno == EAGAIN ? 0 : bk_xen_err(); /* EAGAIN: nothing pending */
	/* The handle holds this port alone: what fired is it. */
	return xenevtchn_unmask(p.xce, (evtchn_port_t)fired) ? bk_xen_err() : 0;
}

static const struct bk_gnt_ops bk_xen_gnt_ops = {
	.name = "xengnttab",
	.map = bk_xen_map,
	.unmap = bk_xen_unmap,
	.copy = bk_xen_copy,
	.map_frame = bk_xen_map_frame,
};

static const struct bk_evtchn_ops bk_xen_evtchn_ops = {
	.name = "xenevtchn",
	.bind = bk_xen_bind,
	.unbind = bk_xen_unbind,
	.fd = bk_xen_fd,
	.notify = bk_xen_notify,
	.consume = bk_xen_consume,
};

int bk_transport_open_real_at(struct bk_transport *t, const char *rundir, const char **why)
{
	struct bk_xen *x;
	xenevtchn_handle *probe;
	int err;

	/* Keel's libraries find keeld through $KEEL_RUNDIR (Xen's through /dev/xen). */
	if (rundir && setenv("KEEL_RUNDIR", rundir, 1) < 0) {
		*why = "out of memory";
		return -ENOMEM;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		*why = "out of memory";
		return -ENOMEM;
	}
	x->xgt = xengnttab_open(NULL, 0);
	/* Event channels are opened per port: check now that they can be. */
	probe = x->xgt ? xenevtchn_open(NULL, 0) : NULL;
	if (!probe) {
		err = bk_xen_err();
		xengnttab_close(x->xgt);
		free(x);
		*why = "cannot open Xen's grant-table and event-channel interfaces (Keel's: is "
		       "keeld running? --rundir / $KEEL_RUNDIR; Xen's: /dev/xen/gntdev and "
		       "/dev/xen/evtchn)";
		return err;
	}
	xenevtchn_close(probe);
	pthread_mutex_init(&x->lock, NULL);
	memset(t, 0, sizeof(*t));
	t->name = "xen";
	t->self_domid = 0;
	t->gnt = &bk_xen_gnt_ops;
	t->gnt_ctx = x;
	t->evtchn = &bk_xen_evtchn_ops;
	t->evtchn_ctx = x;
	return 0;
}

int bk_transport_open_real(struct bk_transport *t, const char **why)
{
	return bk_transport_open_real_at(t, NULL, why);
}

void bk_transport_close_real(struct bk_transport *t)
{
	struct bk_xen *x = t->gnt_ctx;

	if (!x || t->gnt != &bk_xen_gnt_ops)
		return;
	for (unsigned i = 0; i < BK_XEN_MAX_PORTS; i++)
		if (x->ports[i].xce)
			bk_xen_unbind(x, i + 1);
	for (unsigned i = 0; i < BK_XEN_MAX_FRAMES; i++)
		if (x->frames[i])
			xenforeignmemory_unmap(x->xfm, x->frames[i], 1);
	/* Closing the handle unmaps the grants still mapped. */
	xengnttab_close(x->xgt);
	xenforeignmemory_close(x->xfm);
	pthread_mutex_destroy(&x->lock);
	free(x);
	t->gnt_ctx = t->evtchn_ctx = NULL;
}
