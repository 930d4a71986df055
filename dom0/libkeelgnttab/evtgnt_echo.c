/*
 * keel-evtgnt-echo DOMID GREF [SECONDS]: the dom0 half of
 * tests/integration/pv-events-dom0.sh, written only against libkeelevtchn
 * and libkeelgnttab (plus keelctl_domain_getinfo for the store port), the
 * way a backend would: bind the guest's store port, wait on the handle's
 * fd, read the guest's string through a grant copy, answer it upper-cased
 * in the page mapped through map_grant_refs, notify, and check the
 * libraries' refusals.  Exit status 0 on success.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../libkeelctl/keelctl.h"
#include "../libkeelevtchn/keelevtchn.h"
#include "abi/grant_table.h"
#include "keelgnttab.h"

static int echo_fail(const char *what, int r)
{
	fprintf(stderr, "keel-evtgnt-echo: %s: %s\n", what, strerror(r < 0 ? -r : r));
	return 1;
}

int main(int argc, char **argv)
{
	struct keelctl_dominfo info;
	struct keelcopy_buf {
		char s[1024];
	} buf;
	struct keelgnttab_copy_seg seg;
	struct keelevtchn *xe;
	struct keelgnttab *xg;
	struct keelctl *ctl;
	struct pollfd pfd;
	uint32_t domid, gref, bad = 100000;
	char *page;
	void *p;
	int port, r, secs;

	if (argc < 3)
		return fprintf(stderr, "usage: keel-evtgnt-echo DOMID GREF [SECONDS]\n"), 2;
	domid = strtoul(argv[1], NULL, 0);
	gref = strtoul(argv[2], NULL, 0);
	secs = argc > 3 ? atoi(argv[3]) : 30;
	if ((r = keelctl_open(NULL, &ctl)) < 0 ||
	    (r = keelctl_domain_getinfo(ctl, domid, &info)) < 0)
		return echo_fail("getinfo", r);
	keelctl_close(ctl);
	if ((r = keelevtchn_open(NULL, &xe)) < 0 || (r = keelgnttab_open(NULL, &xg)) < 0)
		return echo_fail("open", r);

	/* Refusals first: a port the guest did not leave for dom0, an
	 * unbound-port allocation, a reference past the table. */
	if (keelevtchn_bind_interdomain(xe, domid, 4000) >= 0)
		return echo_fail("bound a port the guest never allocated", EINVAL);
	if (keelevtchn_bind_unbound_port(xe, domid) != -EOPNOTSUPP)
		return echo_fail("bind_unbound_port", EINVAL);
	if (keelgnttab_map_grant_ref(xg, domid, bad, PROT_READ, &p) >= 0)
		return echo_fail("mapped a reference past the table", EINVAL);
	if (keelevtchn_notify(xe, 77) != -EINVAL)
		return echo_fail("notify on an unbound local port", EINVAL);

	port = keelevtchn_bind_interdomain(xe, domid, info.store_port);
	if (port < 0)
		return echo_fail("bind_interdomain", port);
	pfd = (struct pollfd){keelevtchn_fd(xe), POLLIN, 0};
	if (poll(&pfd, 1, secs * 1000) != 1)
		return echo_fail("no event from the guest", ETIMEDOUT);
	r = keelevtchn_pending(xe);
	if (r != port)
		return echo_fail("pending", r < 0 ? r : EPROTO);
	if (keelevtchn_pending(xe) != -EAGAIN)
		return echo_fail("a masked port reported twice", EPROTO);
	if ((r = keelevtchn_unmask(xe, port)) < 0)
		return echo_fail("unmask", r);

	/* The guest's string, by grant copy (keeld checks the grant). */
	memset(&buf, 0, sizeof(buf));
	seg = (struct keelgnttab_copy_seg){.flags = KEELGNTTAB_COPY_SOURCE_GREF, .len = 1023};
	seg.source.foreign.ref = gref;
	seg.source.foreign.domid = (uint16_t)domid;
	seg.dest.virt = buf.s;
	if (keelgnttab_copy(xg, 1, &seg) < 0 || seg.status != GNTST_okay)
		return echo_fail("grant copy from the guest", EIO);
	seg.source.foreign.ref = bad;
	keelgnttab_copy(xg, 1, &seg);
	if (seg.status != GNTST_bad_gntref)
		return echo_fail("grant copy of a bad reference", EPROTO);

	/* The answer, in the page mapped writable. */
	if ((r = keelgnttab_map_grant_refs(xg, 1, &domid, &gref, PROT_READ | PROT_WRITE, &p)) < 0)
		return echo_fail("map_grant_refs", r);
	page = p;
	for (size_t i = 0; i < 1023 && buf.s[i]; i++)
		page[2048 + i] = buf.s[i] >= 'a' && buf.s[i] <= 'z' ? buf.s[i] - 32 : buf.s[i];
	if ((r = keelgnttab_munmap(xg, p, 1)) < 0)
		return echo_fail("munmap", r);
	if (keelgnttab_munmap(xg, p, 1) != -EINVAL)
		return echo_fail("munmap twice", EPROTO);
	if ((r = keelevtchn_notify(xe, port)) < 0)
		return echo_fail("notify", r);
	printf("echoed through libkeelevtchn/libkeelgnttab: %.1023s\n", buf.s);
	if ((r = keelevtchn_unbind(xe, port)) < 0)
		return echo_fail("unbind", r);
	keelgnttab_close(xg);
	keelevtchn_close(xe);
	return 0;
}
