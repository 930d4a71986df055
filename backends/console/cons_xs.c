/*
 * Which domains have a console: the store tells keel-consoled, as it tells
 * xenconsoled.  A domain is served once /local/domain/<id>/console/port
 * exists (the toolstack writes it with ring-ref when it builds the domain);
 * its page is reached through grant GNTTAB_RESERVED_CONSOLE, or failing that
 * by the frame number console/ring-ref gives (xenconsoled's fallback), its log is
 * named after /local/domain/<id>/name; once its socket listens, its path
 * goes in console/tty (where xenconsoled puts the pty's), which clients
 * wait for.  A domain whose directory is gone
 * (destroyed) stops being served.  Rescans on @introduceDomain,
 * @releaseDomain and any change under /local/domain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dom0/libkeelstore/keelstore.h"
#include "cons.h"
#include "cons_xs.h"

static int cons_xs_read_uint(struct ks_handle *ks, const char *path, unsigned long max,
			     unsigned long *out)
{
	char *v = NULL, *end;
	unsigned len;
	int err = ks_read(ks, KS_TX_NONE, path, &v, &len);

	if (!err) {
		errno = 0;
		*out = strtoul(v, &end, 10);
		if (errno || end == v || *end || *out > max || v[0] == '-')
			err = -EINVAL;
	}
	free(v);
	return err;
}

/*
 * console/tty = @sock, in a transaction that first sees console/port: a
 * write alone would create the directory again of a domain destroyed
 * meanwhile.  0 when the domain is gone.
 */
static int cons_xs_write_tty(struct ks_handle *ks, unsigned long domid, const char *sock)
{
	char port[128], tty[128], *v = NULL;
	unsigned len;
	int err = -EAGAIN;

	snprintf(port, sizeof(port), "/local/domain/%lu/console/port", domid);
	snprintf(tty, sizeof(tty), "/local/domain/%lu/console/tty", domid);
	for (int tries = 0; err == -EAGAIN && tries < 5; tries++) {
		ks_tx_t tx;

		if ((err = ks_tx_start(ks, &tx)))
			return err;
		err = ks_read(ks, tx, port, &v, &len);
		free(v);
		v = NULL;
		if (!err)
			err = ks_write_str(ks, tx, tty, sock);
		if (err) {
			ks_tx_end(ks, tx, false);
			return err == -ENOENT ? 0 : err;
		}
		err = ks_tx_end(ks, tx, true);
	}
	return err;
}

static void cons_xs_try_add(struct cons_server *srv, struct ks_handle *ks, unsigned long domid)
{
	struct cons_dom_params p = {.domid = (uint16_t)domid, .gref = GNTTAB_RESERVED_CONSOLE};
	char path[128], sock[108], *name = NULL;
	unsigned long port, mfn;
	unsigned len;
	int err;

	snprintf(path, sizeof(path), "/local/domain/%lu/console/port", domid);
	if (cons_xs_read_uint(ks, path, UINT32_MAX, &port))
		return;
	p.port = (uint32_t)port;
	snprintf(path, sizeof(path), "/local/domain/%lu/console/ring-ref", domid);
	if (cons_xs_read_uint(ks, path, UINT64_MAX >> 12, &mfn) == 0)
		p.mfn = mfn;
	snprintf(path, sizeof(path), "/local/domain/%lu/name", domid);
	if (ks_read(ks, KS_TX_NONE, path, &name, &len) == 0)
		snprintf(p.name, sizeof(p.name), "%s", name);
	free(name);
	err = cons_server_add(srv, &p);
	if (err && err != -EEXIST)
		bk_log("console of domain %lu: cannot connect: %s", domid, strerror(-err));
	if (err)
		return;
	/*
	 * As xenconsoled fills in console/tty once the pty is there: the socket
	 * now listens, and a client that found no socket (xl create -c, racing
	 * this daemon's watch) waits for this node rather than fall back to a
	 * stream that stops when the ring is bound here.
	 */
	if (cons_server_socket_path(srv, p.domid, sock, sizeof(sock)) == 0 &&
	    (err = cons_xs_write_tty(ks, domid, sock)))
		bk_log("console of domain %lu: cannot write console/tty: %s", domid,
		       strerror(-err));
}

int cons_xs_rescan(struct cons_server *srv, struct ks_handle *ks, uint16_t self)
{
	bool present[65536] = {false};
	char **doms = NULL;
	unsigned n = 0;
	int err = ks_directory(ks, KS_TX_NONE, "/local/domain", &doms, &n);

	if (err && err != -ENOENT)
		return err;
	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long domid = strtoul(doms[i], &end, 10);

		if (*end || end == doms[i] || domid >= 0xfff0 || domid == self)
			continue;
		present[domid] = true;
		if (!cons_server_has(srv, (uint16_t)domid))
			cons_xs_try_add(srv, ks, domid);
	}
	free(doms);
	{
		uint16_t served[CONS_MAX_DOMAINS];
		unsigned ns = cons_server_list(srv, served, CONS_MAX_DOMAINS);

		for (unsigned i = 0; i < ns; i++)
			if (!present[served[i]])
				cons_server_remove(srv, served[i]);
	}
	return 0;
}

int cons_xs_watch(struct ks_handle *ks)
{
	int err = ks_watch(ks, "/local/domain", "cons-domains");

	if (!err)
		err = ks_watch(ks, "@introduceDomain", "cons-intro");
	if (!err)
		err = ks_watch(ks, "@releaseDomain", "cons-release");
	return err;
}

/* Store events first (without blocking), then one round of console I/O. */
int cons_xs_serve(struct cons_server *srv, struct ks_handle *ks, uint16_t self, volatile int *stop)
{
	while (!*stop) {
		char *path = NULL, *token = NULL;
		int err = ks_read_watch(ks, 0, &path, &token);

		if (err == 0) {
			/* One rescan for a burst of events. */
			do {
				free(path);
				free(token);
			} while (ks_read_watch(ks, 0, &path, &token) == 0);
			if ((err = cons_xs_rescan(srv, ks, self)))
				return err;
			continue;
		}
		if (err != -ETIMEDOUT)
			return err;
		/* The store's fd is not in the server's poll set: keep rounds short. */
		if ((err = cons_server_poll(srv, 100)))
			return err;
	}
	return 0;
}
