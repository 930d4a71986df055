/*
 * keel-xenlibs-peer: the dom0 half of tests/integration/xenlibs-peer.sh,
 * linked only against Keel's libxenevtchn.so.1 and libxengnttab.so.1 and
 * written as a program built for Xen would be (-1/NULL and errno).
 *
 *   keel-xenlibs-peer grant DOMID PORT GREF [SECONDS]
 *	with the pv-grant guest: Xen's errno for bad domains, ports and
 *	references first; VIRQ_DOM_EXC bound before the guest is unpaused
 *	fires when it starts; the guest's store port (PORT) fires through
 *	the handle's fd; its string is read by grant copy, answered in the
 *	page mapped with map_domain_grant_refs; an unmap notify clears its
 *	byte; the same frame is found among the guest's RAM mapped through
 *	libxenforeignmemory (writes through one map show in the other);
 *	notify, unbind, close.
 *   keel-xenlibs-peer pong DOMID PORT ROUNDS [SECONDS]
 *	with evt-dom0pp: answer every event until ROUNDS + 1 were answered
 *	and 2 s pass quietly.
 *
 * Exit status 0 on success; each failed check is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "include/xenevtchn.h"
#include "include/xenforeignmemory.h"
#include "include/xentoolcore.h"
#include "include/xengnttab.h"

static int peer_failed;

/* One check: what was expected, and errno when it was not met. */
static void peer_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "keel-xenlibs-peer: FAILED: %s (errno %d: %s)\n", what, errno,
			strerror(errno));
		peer_failed = 1;
	} else {
		printf("ok: %s\n", what);
	}
}

/* rv == -1 with errno == want: how Xen's libraries refuse. */
static void peer_refused(int rv, int want, const char *what)
{
	int got = errno;

	if (rv != -1 || got != want) {
		fprintf(stderr,
			"keel-xenlibs-peer: FAILED: %s: returned %d errno %d (%s), want -1 %s\n",
			what, rv, got, strerror(got), strerror(want));
		peer_failed = 1;
	} else {
		printf("refused with %s: %s\n", strerror(want), what);
	}
}

static void peer_refused_ptr(const void *p, int want, const char *what)
{
	int got = errno;

	if (p || got != want) {
		fprintf(stderr,
			"keel-xenlibs-peer: FAILED: %s: returned %p errno %d (%s), want NULL %s\n",
			what, p, got, strerror(got), strerror(want));
		peer_failed = 1;
	} else {
		printf("refused with %s: %s\n", strerror(want), what);
	}
}

/* Wait for the handle's fd, then take pending ports until `want` came
 * (other ports, e.g. a VIRQ, are noted in *seen_virq and unmasked). */
static int peer_wait_port(xenevtchn_handle *xe, int want, int virq_port, int *seen_virq, int secs)
{
	struct pollfd pfd = {xenevtchn_fd(xe), POLLIN, 0};

	for (int waited = 0; waited < secs * 10;) {
		int p;

		if (poll(&pfd, 1, 100) != 1) {
			waited++;
			continue;
		}
		p = xenevtchn_pending(xe);
		if (p < 0)
			return -1;
		if (p == virq_port && seen_virq)
			*seen_virq = 1;
		if (p == want)
			return p;
		xenevtchn_unmask(xe, p);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* libxenforeignmemory: Xen's per-frame errors, and the granted frame `ro`
 * found among the guest's RAM (GUEST_PAGES frames from 0), the same page. */
#define GUEST_PAGES 16384 /* the test's 64 MiB guest */

static void peer_foreign(uint32_t domid, volatile char *ro)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t two[2] = {0, 1ul << 40}, *all;
	int err[2] = {1, 1}, *errs;
	char *mem, *hit = NULL;
	size_t found = 0;

	peer_check(fm != NULL, "xenforeignmemory_open");
	if (!fm)
		return;
	mem = xenforeignmemory_map(fm, domid, PROT_READ | PROT_WRITE, 2, two, err);
	peer_check(mem && err[0] == 0 && err[1] == -EINVAL,
		   "foreign map with an err array: frame 0 mapped, a frame past RAM -EINVAL");
	if (mem)
		xenforeignmemory_unmap(fm, mem, 2);
	peer_refused_ptr(xenforeignmemory_map(fm, domid, PROT_READ, 2, two, NULL), EINVAL,
			 "foreign map without an err array, one frame past RAM");
	peer_refused_ptr(xenforeignmemory_map(fm, 31000, PROT_READ, 1, two, NULL), ESRCH,
			 "foreign map of a domain that does not exist");
	peer_refused_ptr(
		xenforeignmemory_map_resource(fm, domid, 0, 0, 0, 1, (void **)&mem, PROT_READ, 0),
		EOPNOTSUPP, "map_resource (not offered)");

	all = malloc(GUEST_PAGES * sizeof(*all));
	errs = malloc(GUEST_PAGES * sizeof(*errs));
	if (!all || !errs)
		return;
	for (size_t i = 0; i < GUEST_PAGES; i++)
		all[i] = i;
	mem = xenforeignmemory_map(fm, domid, PROT_READ | PROT_WRITE, GUEST_PAGES, all, errs);
	peer_check(mem != NULL, "foreign map of the guest's whole RAM");
	for (size_t i = 0; mem && i < GUEST_PAGES; i++)
		if (!errs[i] && !memcmp(mem + i * 4096, (const char *)ro, 4096)) {
			hit = mem + i * 4096;
			found++;
		}
	peer_check(found == 1, "the granted frame is found once among the guest's RAM");
	if (hit) {
		hit[3000] = 0x77;
		peer_check(ro[3000] == 0x77,
			   "a write through the foreign map shows in the grant map");
		hit[3000] = 0;
	}
	if (mem)
		peer_check(xenforeignmemory_unmap(fm, mem, GUEST_PAGES) == 0, "foreign unmap");
	peer_check(xenforeignmemory_close(fm) == 0, "xenforeignmemory_close");
	free(all);
	free(errs);
}

static int peer_grant(uint32_t domid, evtchn_port_t store, uint32_t gref, int secs)
{
	xengnttab_grant_copy_segment_t seg;
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	xengnttab_handle *xg = xengnttab_open(NULL, 0);
	uint32_t bad = 100000, refs[1] = {gref};
	char buf[1024], *page, *ro;
	int port, virq, seen_virq = 0, fl, r;

	peer_check(xe && xg, "xenevtchn_open and xengnttab_open");
	if (!xe || !xg)
		return 1;
	peer_check(xenevtchn_fd(xe) >= 0 && xengnttab_fd(xg) >= 0, "both handles have an fd");

	/* Refusals, with Linux's errno. */
	peer_refused(xenevtchn_bind_interdomain(xe, domid, 4000), EINVAL,
		     "bind_interdomain to a port the guest never allocated");
	peer_refused(xenevtchn_bind_interdomain(xe, 31000, store), ESRCH,
		     "bind_interdomain to a domain that does not exist");
	peer_refused(xenevtchn_bind_unbound_port(xe, domid), EOPNOTSUPP,
		     "bind_unbound_port (guests allocate on Keel)");
	peer_refused(xenevtchn_bind_virq(xe, 99), EINVAL, "bind_virq past NR_VIRQS");
	peer_refused(xenevtchn_bind_virq(xe, VIRQ_TBUF), EOPNOTSUPP,
		     "bind_virq VIRQ_TBUF (no source in keeld)");
	peer_refused(xenevtchn_notify(xe, 77), ENOTCONN, "notify on a port not bound here");
	peer_refused(xenevtchn_notify(xe, 1u << 20), EINVAL, "notify past the channel count");
	peer_refused(xenevtchn_unbind(xe, 77), ENOTCONN, "unbind of a port not bound here");
	peer_check(xenevtchn_unmask(xe, 77) == 0, "unmask of a port not bound here is ignored");
	peer_refused_ptr(xengnttab_map_grant_ref(xg, domid, bad, PROT_READ), EINVAL,
			 "map_grant_ref of a reference past the table");
	peer_refused_ptr(xengnttab_map_grant_ref(xg, 31000, gref, PROT_READ), EINVAL,
			 "map_grant_ref from a domain that does not exist");
	peer_refused_ptr(xengnttab_map_grant_ref(xg, domid, gref, PROT_EXEC), EINVAL,
			 "map_grant_ref with PROT_EXEC");
	peer_refused_ptr(xengnttab_map_grant_ref_notify(xg, domid, gref, PROT_READ, 8, -1), EINVAL,
			 "unmap notify on a read-only map");
	peer_refused(xengnttab_unmap(xg, NULL, 1), EINVAL, "unmap of NULL");
	peer_refused(xengnttab_unmap(xg, buf, 1), EINVAL, "unmap of memory not mapped here");
	seg = (xengnttab_grant_copy_segment_t){.len = 8};
	seg.source.virt = buf;
	seg.dest.virt = buf + 8;
	peer_refused(xengnttab_grant_copy(xg, 1, &seg), EINVAL, "grant copy with no grant side");
	peer_check(xengntshr_open(NULL, 0) == NULL && errno == EOPNOTSUPP,
		   "xengntshr_open: not offered");
	peer_check(xenevtchn_restrict(xe, domid) == 0, "xenevtchn_restrict succeeds");
	peer_check(xentoolcore_restrict_all(domid) == 0 && xentoolcore_restrict_all(domid) == 0,
		   "xentoolcore_restrict_all succeeds (twice, one notice)");
	{
		xenevtchn_handle *inh = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC);

		peer_check(inh && !(fcntl(xenevtchn_fd(inh), F_GETFD) & FD_CLOEXEC) &&
				   (fcntl(xenevtchn_fd(xe), F_GETFD) & FD_CLOEXEC),
			   "XENEVTCHN_NO_CLOEXEC: only that handle's fd survives exec");
		xenevtchn_close(inh);
	}

	/* VIRQ_DOM_EXC fires when the guest is unpaused. */
	virq = xenevtchn_bind_virq(xe, VIRQ_DOM_EXC);
	peer_check(virq > 0, "bind_virq VIRQ_DOM_EXC");
	peer_refused(xenevtchn_bind_virq(xe, VIRQ_DOM_EXC), EEXIST, "VIRQ_DOM_EXC bound twice");
	port = xenevtchn_bind_interdomain(xe, domid, store);
	peer_check(port > 0 && port != virq, "bind_interdomain to the guest's store port");
	if (port <= 0)
		return 1;
	printf("READY\n");
	fflush(stdout);

	r = peer_wait_port(xe, port, virq, &seen_virq, secs);
	peer_check(r == port, "the guest's event came through the fd and pending");
	if (r != port)
		return 1;
	if (!seen_virq)
		seen_virq = peer_wait_port(xe, virq, -1, NULL, 5) == virq;
	peer_check(seen_virq, "VIRQ_DOM_EXC fired when the domain started");
	fl = fcntl(xenevtchn_fd(xe), F_GETFL);
	fcntl(xenevtchn_fd(xe), F_SETFL, fl | O_NONBLOCK);
	peer_refused(xenevtchn_pending(xe), EAGAIN, "pending on a masked port (O_NONBLOCK fd)");
	fcntl(xenevtchn_fd(xe), F_SETFL, fl);
	peer_check(xenevtchn_unmask(xe, port) == 0, "unmask");

	/* The guest's string by grant copy; a bad reference gets its status. */
	memset(buf, 0, sizeof(buf));
	seg = (xengnttab_grant_copy_segment_t){.flags = GNTCOPY_source_gref, .len = 1023};
	seg.source.foreign.ref = gref;
	seg.source.foreign.domid = (uint16_t)domid;
	seg.dest.virt = buf;
	r = xengnttab_grant_copy(xg, 1, &seg);
	peer_check(r == 0 && seg.status == GNTST_okay && !strcmp(buf, "granted hello"),
		   "grant copy of the guest's string");
	{
		xengnttab_grant_copy_segment_t two[2] = {seg, seg};

		two[1].source.foreign.ref = bad;
		two[0].status = two[1].status = 99;
		r = xengnttab_grant_copy(xg, 2, two);
		peer_check(r == 0 && two[0].status == GNTST_okay &&
				   two[1].status == GNTST_bad_gntref,
			   "grant copy: one status per segment (okay, bad_gntref)");
	}

	/* A read-only map shows the string; a notify map clears its byte
	 * at unmap; the answer goes into a map_domain_grant_refs page. */
	ro = xengnttab_map_grant_ref(xg, domid, gref, PROT_READ);
	peer_check(ro && !strcmp(ro, "granted hello"), "map_grant_ref read-only");
	page = xengnttab_map_grant_ref_notify(xg, domid, gref, PROT_READ | PROT_WRITE, 4000, -1);
	peer_check(page != NULL, "map_grant_ref_notify with an offset");
	if (!ro || !page)
		return 1;
	page[4000] = 0x5a;
	peer_check(ro[4000] == 0x5a, "both maps show the same frame");
	peer_check(xengnttab_unmap(xg, page, 1) == 0, "unmap the notify map");
	peer_check(ro[4000] == 0, "the unmap cleared the notify byte");
	peer_foreign(domid, ro);
	peer_check(xengnttab_set_max_grants(xg, 64) == 0, "set_max_grants");
	page = xengnttab_map_domain_grant_refs(xg, 1, domid, refs, PROT_READ | PROT_WRITE);
	peer_check(page != NULL, "map_domain_grant_refs writable");
	if (!page)
		return 1;
	for (size_t i = 0; buf[i]; i++)
		page[2048 + i] = buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i];
	peer_check(xengnttab_unmap(xg, page, 1) == 0, "unmap");
	peer_refused(xengnttab_unmap(xg, page, 1), EINVAL, "unmap twice");
	peer_check(xengnttab_unmap(xg, ro, 1) == 0, "unmap the read-only map");
	peer_check(xenevtchn_notify(xe, port) == 0, "notify the guest");
	peer_check(xenevtchn_unbind(xe, port) == 0, "unbind");
	peer_refused(xenevtchn_notify(xe, port), ENOTCONN, "notify after unbind");
	peer_check(xenevtchn_unbind(xe, virq) == 0, "unbind the VIRQ");
	peer_check(xengnttab_close(xg) == 0 && xenevtchn_close(xe) == 0, "close");
	printf("answered through libxenevtchn/libxengnttab: %s\n", buf);
	return peer_failed;
}

static int peer_pong(uint32_t domid, evtchn_port_t store, int rounds, int secs)
{
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	struct pollfd pfd;
	int port, n = 0;

	if (!xe)
		return perror("xenevtchn_open"), 1;
	port = xenevtchn_bind_interdomain(xe, domid, store);
	if (port < 0)
		return perror("xenevtchn_bind_interdomain"), 1;
	pfd = (struct pollfd){xenevtchn_fd(xe), POLLIN, 0};
	for (;;) {
		/* After ROUNDS + 1 answers keep answering until 2 s of quiet:
		 * the guest may have repeated its first send. */
		if (poll(&pfd, 1, n > rounds ? 2000 : secs * 1000) != 1) {
			if (n > rounds)
				break;
			fprintf(stderr, "keel-xenlibs-peer: no event after %d answers\n", n);
			return 1;
		}
		if (xenevtchn_pending(xe) != port)
			continue;
		if (xenevtchn_unmask(xe, port) < 0 || xenevtchn_notify(xe, port) < 0)
			return perror("unmask/notify"), 1;
		n++;
	}
	xenevtchn_close(xe);
	printf("answered %d events\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t domid;
	evtchn_port_t port;
	int secs;

	if (argc < 5 || (strcmp(argv[1], "grant") && strcmp(argv[1], "pong"))) {
		fprintf(stderr, "usage: keel-xenlibs-peer grant|pong DOMID PORT GREF|ROUNDS "
				"[SECONDS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	domid = strtoul(argv[2], NULL, 0);
	port = strtoul(argv[3], NULL, 0);
	secs = argc > 5 ? atoi(argv[5]) : 30;
	if (!strcmp(argv[1], "grant"))
		return peer_grant(domid, port, strtoul(argv[4], NULL, 0), secs);
	return peer_pong(domid, port, atoi(argv[4]), secs);
}
