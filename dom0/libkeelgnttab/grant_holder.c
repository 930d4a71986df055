/*
 * keel-grant-holder DOMID RW RO BULK N: the dom0 half of
 * tests/integration/pv-grant-dom0release.sh, a backend that dies without
 * cleaning up.  On libkeelgnttab and libkeelevtchn it binds the guest's
 * store port, maps grant RW writable, RO read-only and BULK..BULK+N-1
 * read-only in one batch (MAP_GRANTS), checks what it sees, writes
 * "held by dom0" into the writable page, prints "holding" and then waits
 * to be killed (the test sends SIGKILL: nothing is unmapped or unbound by
 * the process; keeld must release it all when the socket closes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../libkeelctl/keelctl.h"
#include "../libkeelevtchn/keelevtchn.h"
#include "keelgnttab.h"

#define HOLDER_MAX 64

static int holder_fail(const char *what, int r)
{
	fprintf(stderr, "keel-grant-holder: %s: %s\n", what, strerror(r < 0 ? -r : r));
	return 1;
}

int main(int argc, char **argv)
{
	uint32_t domid, rw, ro, bulk, n, domids[HOLDER_MAX], refs[HOLDER_MAX];
	struct keelctl_dominfo info;
	struct keelevtchn *xe;
	struct keelgnttab *xg;
	struct keelctl *ctl;
	void *prw, *pro, *pbulk;
	int port, r;

	if (argc != 6)
		return fprintf(stderr, "usage: keel-grant-holder DOMID RW RO BULK N\n"), 2;
	domid = strtoul(argv[1], NULL, 0);
	rw = strtoul(argv[2], NULL, 0);
	ro = strtoul(argv[3], NULL, 0);
	bulk = strtoul(argv[4], NULL, 0);
	n = strtoul(argv[5], NULL, 0);
	if (n == 0 || n > HOLDER_MAX)
		return holder_fail("N", EINVAL);
	if ((r = keelctl_open(NULL, &ctl)) < 0 ||
	    (r = keelctl_domain_getinfo(ctl, domid, &info)) < 0)
		return holder_fail("getinfo", r);
	keelctl_close(ctl);
	if ((r = keelevtchn_open(NULL, &xe)) < 0 || (r = keelgnttab_open(NULL, &xg)) < 0)
		return holder_fail("open", r);
	port = keelevtchn_bind_interdomain(xe, domid, info.store_port);
	if (port < 0)
		return holder_fail("bind_interdomain", port);
	if ((r = keelgnttab_map_grant_ref(xg, domid, ro, PROT_READ, &pro)) < 0)
		return holder_fail("map read-only", r);
	for (uint32_t i = 0; i < n; i++) {
		domids[i] = domid;
		refs[i] = bulk + i;
	}
	if ((r = keelgnttab_map_grant_refs(xg, n, domids, refs, PROT_READ, &pbulk)) < 0)
		return holder_fail("map batch", r);
	if ((r = keelgnttab_map_grant_ref(xg, domid, rw, PROT_READ | PROT_WRITE, &prw)) < 0)
		return holder_fail("map writable", r);
	if (((char *)pro)[100] != 'r')
		return holder_fail("read-only page contents", EPROTO);
	for (uint32_t i = 0; i < n; i++)
		if (((char *)pbulk)[i * 4096 + 7] != (char)('a' + i))
			return holder_fail("batch page contents", EPROTO);
	memcpy((char *)prw + 2048, "held by dom0", 13);
	printf("holding port %d, %u grants of d%u\n", port, n + 2, domid);
	fflush(stdout);
	for (;;)
		pause();
}
