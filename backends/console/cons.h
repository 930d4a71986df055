/*
 * keel-consoled: the xenconsoled role.  For each domain with a PV console
 * it maps the console page (grant GNTTAB_RESERVED_CONSOLE, as xenconsoled
 * does), binds the console event channel, and moves bytes both ways: the
 * guest's output ring to a per-domain log (size-bounded, rotated) and to
 * every attached client; clients' input to the guest's input ring.  Clients
 * attach through a Unix stream socket per domain under the run directory
 * (cons_client.h), which is the stream xl's console_open hands to
 * xl_console_relay.  One thread serves every domain with poll(2).
 */
#ifndef KEEL_CONS_H
#define KEEL_CONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/bk_transport.h"

#define CONS_MAX_CLIENTS  4
#define CONS_MAX_DOMAINS  256
#define CONS_INPUT_BUFFER 4096
#define CONS_LOG_MAX	  (1u << 20) /* bytes per log file before rotation */
#define CONS_LOG_KEEP	  3	     /* rotated files kept: name.log.1 .. .3 */
/*
 * What a client that attaches after the guest started is shown first: the
 * last CONS_REPLAY bytes of output, from the first whole line in them (as a
 * new xenconsole client sees xenconsoled's buffered recent output), then
 * live.  The whole history is in the log.
 */
#define CONS_REPLAY (16u * 1024)

struct cons_dom_params {
	uint16_t domid;
	char name[64];	  /* for the log's file name; "" = by domid */
	grant_ref_t gref; /* the console page's grant (GNTTAB_RESERVED_CONSOLE) */
	uint32_t port;	  /* the guest's console event channel */
	uint64_t mfn;	  /* console/ring-ref, the page's frame: mapped by number (as
			   * xenconsoled falls back to) when the grant cannot be; 0 = none */
};

struct cons_server_cfg {
	const char *rundir; /* logs in rundir/console/, sockets too */
	size_t log_max;	    /* 0: CONS_LOG_MAX */
	unsigned log_keep;  /* 0: CONS_LOG_KEEP */
	size_t replay; /* recent output a newly attached client gets first (0: none; see CONS_REPLAY) */
	const struct bk_transport *tp;
	/*
	 * Optional second source of a domain's console output, merged into its
	 * log and clients each round (keeld's record of the ring output it
	 * drained before the backend bound the port, cons_keeld.c): bytes put
	 * in buf, 0 for none.
	 */
	int (*extra_out)(void *opaque, uint16_t domid, char *buf, size_t len);
	/*
	 * Optional: has the domain stopped (shut down, crashed, gone)?  Asked
	 * once a round per domain (the answer may be cached briefly); a stopped
	 * domain's clients get its last output and then end of stream, as xl's
	 * console ends when the guest stops (xl create -c then carries on with
	 * the domain's on_poweroff action).  A domain that runs again (xl save
	 * -c resumes it) is served as before.
	 */
	bool (*stopped)(void *opaque, uint16_t domid);
	void *extra_opaque; /* for extra_out and stopped */
};

struct cons_server;

int cons_server_create(const struct cons_server_cfg *cfg, struct cons_server **out);
void cons_server_destroy(struct cons_server *srv);
/* Connect to a domain's console; -EEXIST if already served. */
int cons_server_add(struct cons_server *srv, const struct cons_dom_params *p);
/* The socket clients of domain @domid attach to (cons_socket_path under the run directory). */
int cons_server_socket_path(struct cons_server *srv, uint16_t domid, char *buf, size_t len);
int cons_server_remove(struct cons_server *srv, uint16_t domid);
bool cons_server_has(struct cons_server *srv, uint16_t domid);
/* The domains served (up to @max ids); returns how many. */
unsigned cons_server_list(struct cons_server *srv, uint16_t *ids, unsigned max);
/* Clients attached to the domain's console (0 if not served). */
unsigned cons_server_client_count(struct cons_server *srv, uint16_t domid);
/* Did the domain break its ring (then it is no longer served)? */
bool cons_server_broken(struct cons_server *srv, uint16_t domid);
/* One round: wait up to @timeout_ms for anything, move every byte that can move. */
int cons_server_poll(struct cons_server *srv, int timeout_ms);
/* Wake a cons_server_poll running in another thread (after add/remove). */
void cons_server_wake(struct cons_server *srv);

/* ---- rings (cons_ring.c) ---- */
struct xencons_interface;
/* Guest output into @buf (<= @len); -EPROTO on impossible indices. */
int cons_ring_read_out(struct xencons_interface *intf, char *buf, size_t len);
/* Up to @len bytes of input into the guest's ring; bytes written or -EPROTO. */
int cons_ring_write_in(struct xencons_interface *intf, const char *buf, size_t len);

/* ---- keeld's console record as a second output source (cons_keeld.c) ---- */
struct cons_keeld;
int cons_keeld_open(const char *rundir, struct cons_keeld **out);
int cons_keeld_read(void *opaque, uint16_t domid, char *buf, size_t len);
/* keeld's view: shut down, crashed or gone (a true answer makes the next read immediate). */
bool cons_keeld_stopped(void *opaque, uint16_t domid);
void cons_keeld_close(struct cons_keeld *k);

/* ---- logs (cons_log.c) ---- */
struct cons_log;
int cons_log_open(const char *path, size_t max, unsigned keep, struct cons_log **out);
int cons_log_write(struct cons_log *log, const char *buf, size_t len);
void cons_log_close(struct cons_log *log);

#endif
