/*
 * The seam between a dom0 backend and the hypervisor: how a backend reaches
 * a frontend's granted pages and its event channels.  Two small tables of
 * function pointers, one for grant access (map a batch of grant references
 * of domain D into one contiguous area, unmap it, copy to or from granted
 * pages) and one for event channels (bind to a remote port, get an fd to
 * poll, notify, consume).  Two implementations: the daemons' (bk_xen.c, over
 * Xen's library API: libxengnttab, libxenevtchn, libxenforeignmemory, which
 * in dom0 are Keel's builds over keeld) and the in-process loopback test
 * transport (bk_loop.h).  Every op returns 0 or a negative errno; a map
 * either maps every reference or none.
 */
#ifndef KEEL_BK_TRANSPORT_H
#define KEEL_BK_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/grant_table.h"

#define BK_PAGE_SIZE  4096u
#define BK_PAGE_SHIFT 12

/* Flags of bk_gnt_ops.map. */
#define BK_GNT_READONLY 0x1u

/* One copy between a granted page and local memory (GNTTABOP_copy's job). */
struct bk_gnt_copy {
	uint16_t domid;	  /* granting domain */
	grant_ref_t gref; /* its reference */
	uint16_t offset;  /* inside the granted page */
	uint16_t len;	  /* offset + len <= BK_PAGE_SIZE */
	void *local;	  /* backend memory */
	bool to_grant;	  /* true: local -> granted page (needs a writable grant) */
	int status;	  /* OUT: 0 or -errno */
};

struct bk_gnt_ops {
	const char *name;
	/*
	 * Map @count references of @domid at one contiguous address (*addr,
	 * BK_PAGE_SIZE per reference, in order).  The loopback transport tells
	 * refusals apart (-ENOENT bad reference, -EACCES granted to another
	 * domain, -EPERM writable map of a read-only grant, -ESRCH no such
	 * domain, -EFAULT bad frame) and *bad_index names the reference that
	 * failed (if bad_index is not NULL); Xen's libraries, and so the
	 * daemons' transport, say -EINVAL for any refused grant and set
	 * *bad_index to 0.
	 */
	int (*map)(void *ctx, uint16_t domid, const grant_ref_t *refs, unsigned count,
		   unsigned flags, void **addr, unsigned *bad_index);
	int (*unmap)(void *ctx, void *addr, unsigned count);
	/* Every op is attempted; returns 0 if all succeeded, else the first error. */
	int (*copy)(void *ctx, struct bk_gnt_copy *ops, unsigned count);
	/*
	 * Optional (NULL if the transport cannot): map frame @mfn of @domid by
	 * number, the privileged foreign mapping a console backend falls back to
	 * when the console page is not granted.  bk_gnt_unmap(addr, 1) undoes it.
	 */
	int (*map_frame)(void *ctx, uint16_t domid, uint64_t mfn, void **addr);
};

struct bk_evtchn_ops {
	const char *name;
	/* Bind a local port to @remote_port of @domid (an unbound port it allocated). */
	int (*bind)(void *ctx, uint16_t domid, uint32_t remote_port, uint32_t *local_port);
	int (*unbind)(void *ctx, uint32_t local_port);
	/* A descriptor that polls readable while the port has a pending event. */
	int (*fd)(void *ctx, uint32_t local_port);
	int (*notify)(void *ctx, uint32_t local_port);
	/* Clear the pending event (after it was seen on the fd). */
	int (*consume)(void *ctx, uint32_t local_port);
};

/* A backend's view of the hypervisor: both tables and the domain it runs in. */
struct bk_transport {
	const char *name;
	uint16_t self_domid;
	const struct bk_gnt_ops *gnt;
	void *gnt_ctx;
	const struct bk_evtchn_ops *evtchn;
	void *evtchn_ctx;
};

static inline int bk_gnt_map(const struct bk_transport *t, uint16_t domid, const grant_ref_t *refs,
			     unsigned count, unsigned flags, void **addr, unsigned *bad_index)
{
	return t->gnt->map(t->gnt_ctx, domid, refs, count, flags, addr, bad_index);
}

static inline int bk_gnt_unmap(const struct bk_transport *t, void *addr, unsigned count)
{
	return t->gnt->unmap(t->gnt_ctx, addr, count);
}

static inline int bk_gnt_copy(const struct bk_transport *t, struct bk_gnt_copy *ops, unsigned count)
{
	return t->gnt->copy(t->gnt_ctx, ops, count);
}

static inline int bk_evtchn_bind(const struct bk_transport *t, uint16_t domid, uint32_t rport,
				 uint32_t *lport)
{
	return t->evtchn->bind(t->evtchn_ctx, domid, rport, lport);
}

static inline int bk_evtchn_unbind(const struct bk_transport *t, uint32_t lport)
{
	return t->evtchn->unbind(t->evtchn_ctx, lport);
}

static inline int bk_evtchn_fd(const struct bk_transport *t, uint32_t lport)
{
	return t->evtchn->fd(t->evtchn_ctx, lport);
}

static inline int bk_evtchn_notify(const struct bk_transport *t, uint32_t lport)
{
	return t->evtchn->notify(t->evtchn_ctx, lport);
}

static inline int bk_evtchn_consume(const struct bk_transport *t, uint32_t lport)
{
	return t->evtchn->consume(t->evtchn_ctx, lport);
}

/*
 * The transport the daemons use: Xen's libraries (bk_xen.c).  Keel's builds
 * of them reach keeld under $KEEL_RUNDIR (default /run/keel); a non-NULL
 * @rundir is put in $KEEL_RUNDIR first.  On failure a message is put in
 * *why.
 */
int bk_transport_open_real_at(struct bk_transport *t, const char *rundir, const char **why);
int bk_transport_open_real(struct bk_transport *t, const char **why);
/* Release what the transport still holds (bindings, maps) and its handles. */
void bk_transport_close_real(struct bk_transport *t);

/* Logging shared by the backends: "<prog>: <message>" on stderr. */
void bk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The GNTST_* a failed copy's -errno stands for (the seam's mapping, inverted;
 * the loopback transport's -EACCES, granted to another domain, is
 * GNTST_permission_denied), for messages that speak Xen's terms. */
int16_t bk_gnt_copy_gntst(int status);
/* The -errno the seam gives for a copy's GNTST_* status (the real transport's
 * side of the same table; -EINVAL for a status it does not name). */
int bk_gnt_copy_errno(int16_t gntst);
/* Silence bk_log (hostile-frontend tests provoke thousands of messages). */
void bk_log_quiet(bool quiet);

#endif
