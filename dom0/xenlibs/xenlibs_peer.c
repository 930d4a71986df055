/*
 * keel-xenlibs-peer: the dom0 half of tests/integration/xenlibs-peer.sh,
 * linked only against Keel's libxen* libraries and written as a program
 * built for Xen would be (-1/NULL and errno).
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
 *   keel-xenlibs-peer ctrl DOMID_A DOMID_B DOMID_C
 *	with three running PV guests: libxenctrl and libxendevicemodel's
 *	refusals (NULL handles, bad domains and reasons, HVM parameters and
 *	device-model ops on PV domains, PCI passthrough, populate_physmap),
 *	then xc_domain_shutdown of A (reboot, then poweroff: the first reason
 *	stays), B (crash) and C (suspend); the script checks keeld's view.
 *   keel-xenlibs-peer populate DOMID
 *	with a running HVM domain of 32 MiB (maxmem 33 MiB): populate_physmap
 *	as QEMU calls it refused with Xen's EBUSY for frames of its RAM, a
 *	bad order, a misaligned extent, keeld's region and past 4 GiB; a frame
 *	past its RAM populated, mapped through libxenforeignmemory and read
 *	back through a second map; an extent past its maxmem refused.  Then
 *	relocate_memory (QEMU's video RAM to the VGA BAR) of those two
 *	frames: Xen's EINVAL for frames not populated, a destination over
 *	RAM, keeld's region or past the address space; moved, their content
 *	is at the new frames (and nothing at the old), track_dirty_vram
 *	there says all dirty at first, then clean, then stops; moved back.
 *	Then inject_msi's refusals: an address outside the 0xfee00000 window
 *	or past 4 GiB, SMI or NMI delivery (EINVAL), vector 0 (ERANGE),
 *	domain 0 (EPERM), no such domain (ESRCH).
 *   keel-xenlibs-peer vram DOMID GFN [FIRST LAST]
 *	the device model's dirty-VRAM log of the 4096 frames at GFN (QEMU's
 *	LFB): without FIRST..LAST one call (the log from then on); with
 *	them, frames FIRST..LAST dirty since (what hvmos wrote there), no
 *	others, then a second call finds none.
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

#include "abi/xen.h"
#include "include/xenctrl.h"
#include "include/xendevicemodel.h"
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
	{
		/* gntdev unmaps what one map call mapped, whole. */
		uint32_t twice[2] = {gref, gref};
		char *two = xengnttab_map_domain_grant_refs(xg, 2, domid, twice, PROT_READ);

		peer_check(two && !strcmp(two + 4096, "granted hello"),
			   "map_domain_grant_refs of two pages");
		if (!two)
			return 1;
		peer_refused(xengnttab_unmap(xg, two + 4096, 1), EINVAL,
			     "unmap from a region's second page");
		peer_refused(xengnttab_unmap(xg, two, 1), EINVAL, "unmap of part of a region");
		peer_check(xengnttab_unmap(xg, two, 2) == 0, "unmap of the whole region");
	}
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

#define NO_DOMAIN 31000 /* a domid keeld never gave out in this test */

/* libxenctrl's refusals, with Xen's errno for each. */
static void peer_ctrl_refusals(xc_interface *xch, uint32_t a)
{
	xen_pfn_t pfn = 0;
	unsigned long v = 0x1234;
	int pirq = -1;

	peer_refused(xc_domain_shutdown(NULL, a, SHUTDOWN_poweroff), EINVAL,
		     "xc_domain_shutdown on a NULL handle");
	peer_refused(xc_domain_shutdown(xch, NO_DOMAIN, SHUTDOWN_poweroff), ESRCH,
		     "xc_domain_shutdown of a domain that does not exist");
	peer_refused(xc_domain_shutdown(xch, DOMID_SELF, SHUTDOWN_poweroff), ESRCH,
		     "xc_domain_shutdown of DOMID_SELF (not a domain id)");
	peer_refused(xc_domain_shutdown(xch, 0, SHUTDOWN_poweroff), EPERM,
		     "xc_domain_shutdown of domain 0 (the host)");
	peer_refused(xc_domain_shutdown(xch, a, SHUTDOWN_soft_reset + 1), EINVAL,
		     "xc_domain_shutdown with a reason past SHUTDOWN_soft_reset");
	peer_refused(xc_domain_shutdown(xch, a, -1), EINVAL, "xc_domain_shutdown with reason -1");

	peer_refused(xc_get_hvm_param(xch, a, 1 /* HVM_PARAM_STORE_PFN */, &v), EINVAL,
		     "xc_get_hvm_param on a PV domain");
	peer_check(v == 0x1234, "xc_get_hvm_param leaves *value alone when it fails");
	peer_refused(xc_get_hvm_param(xch, NO_DOMAIN, 1, &v), ESRCH,
		     "xc_get_hvm_param on a domain that does not exist");
	peer_refused(xc_get_hvm_param(xch, NO_DOMAIN, HVM_NR_PARAMS, &v), EINVAL,
		     "xc_get_hvm_param: the index is checked before the domain, as in Xen");
	peer_refused(xc_get_hvm_param(xch, a, -1, &v), EINVAL, "xc_get_hvm_param index -1");
	peer_refused(xc_get_hvm_param(xch, 0, 1, &v), EINVAL,
		     "xc_get_hvm_param on domain 0 (not HVM)");
	peer_refused(xc_get_hvm_param(NULL, a, 1, &v), EINVAL, "xc_get_hvm_param on a NULL handle");
	peer_refused(xc_set_hvm_param(xch, a, 1, 5), EINVAL, "xc_set_hvm_param on a PV domain");
	peer_refused(xc_set_hvm_param(xch, NO_DOMAIN, 1, 5), ESRCH,
		     "xc_set_hvm_param on a domain that does not exist");

	peer_check(xc_domain_populate_physmap_exact(xch, a, 0, 0, 0, NULL) == 0,
		   "populate_physmap_exact of no extents succeeds");
	peer_refused(xc_domain_populate_physmap_exact(xch, a, 1, 0, 0, NULL), EFAULT,
		     "populate_physmap_exact with no extent array");
	peer_refused(xc_domain_populate_physmap_exact(xch, a, 1, 0, 0, &pfn), EBUSY,
		     "populate_physmap_exact on a PV domain (its RAM is fixed)");
	peer_refused(xc_domain_populate_physmap_exact(xch, NO_DOMAIN, 1, 0, 0, &pfn), EBUSY,
		     "populate_physmap_exact on a domain that does not exist (Xen: EBUSY)");

	peer_refused(xc_domain_bind_pt_pci_irq(xch, a, 5, 0, 3, 0), EOPNOTSUPP,
		     "xc_domain_bind_pt_pci_irq");
	peer_refused(xc_domain_bind_pt_pci_irq(xch, a, 5, 0, 3, 0), EOPNOTSUPP,
		     "xc_domain_bind_pt_pci_irq again (said once)");
	peer_refused(xc_domain_unbind_pt_irq(xch, a, 5, 0, 0, 3, 0, 0), EOPNOTSUPP,
		     "xc_domain_unbind_pt_irq");
	peer_refused(xc_domain_update_msi_irq(xch, a, 0x30, 1, 0, 0), EOPNOTSUPP,
		     "xc_domain_update_msi_irq");
	peer_refused(xc_domain_unbind_msi_irq(xch, a, 0x30, 1, 0), EOPNOTSUPP,
		     "xc_domain_unbind_msi_irq");
	peer_refused(xc_domain_iomem_permission(xch, a, 0xfe000, 1, 1), EOPNOTSUPP,
		     "xc_domain_iomem_permission");
	peer_refused(xc_domain_ioport_mapping(xch, a, 0xc000, 0xc000, 8, 1), EOPNOTSUPP,
		     "xc_domain_ioport_mapping");
	peer_refused(xc_domain_memory_mapping(xch, a, 0xf0000, 0xfe000, 1, 1), EOPNOTSUPP,
		     "xc_domain_memory_mapping");
	peer_refused(xc_physdev_map_pirq(xch, a, 5, &pirq), EOPNOTSUPP, "xc_physdev_map_pirq");
	peer_refused(xc_physdev_map_pirq_msi(xch, a, -1, &pirq, 0x18, 0, 0, 0), EOPNOTSUPP,
		     "xc_physdev_map_pirq_msi");
	peer_refused(xc_physdev_unmap_pirq(xch, a, 5), EOPNOTSUPP, "xc_physdev_unmap_pirq");
	peer_refused(xc_physdev_unmap_pirq(NULL, a, 5), EINVAL,
		     "xc_physdev_unmap_pirq on a NULL handle");
}

/* libxendevicemodel on PV domain a: every op as Xen's dm_op answers. */
static void peer_dm(uint32_t a)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	struct xen_dm_op_modified_memory_extent ext[300] = {{0}};
	unsigned long bitmap[4];
	unsigned int vcpus = 77;
	ioservid_t id = 0;
	domid_t d = (domid_t)a;

	peer_check(dm != NULL, "xendevicemodel_open");
	if (!dm)
		return;
	peer_check(xendevicemodel_close(NULL) == 0, "xendevicemodel_close(NULL)");
	peer_refused(xendevicemodel_set_pci_intx_level(NULL, d, 0, 0, 3, 0, 1), EINVAL,
		     "a device-model op on a NULL handle");
	peer_refused(xendevicemodel_set_pci_intx_level(dm, d, 0, 0, 3, 0, 1), EINVAL,
		     "set_pci_intx_level on a PV domain (dm_op: not HVM)");
	peer_refused(xendevicemodel_set_pci_intx_level(dm, NO_DOMAIN, 0, 0, 3, 0, 1), ESRCH,
		     "set_pci_intx_level on a domain that does not exist");
	peer_refused(xendevicemodel_set_pci_intx_level(dm, DOMID_SELF, 0, 0, 3, 0, 1), ESRCH,
		     "set_pci_intx_level on DOMID_SELF (not a remote domain id)");
	peer_refused(xendevicemodel_set_pci_intx_level(dm, 0, 0, 0, 3, 0, 1), EPERM,
		     "set_pci_intx_level on domain 0 (the caller's own)");
	peer_refused(xendevicemodel_create_ioreq_server(dm, d, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &id),
		     EINVAL, "create_ioreq_server on a PV domain");
	peer_refused(xendevicemodel_create_ioreq_server(dm, NO_DOMAIN, 0, &id), ESRCH,
		     "create_ioreq_server on a domain that does not exist");
	peer_refused(xendevicemodel_map_pcidev_to_ioreq_server(dm, d, 1, 0, 0, 0x20, 0), EINVAL,
		     "map_pcidev_to_ioreq_server with device 0x20");
	peer_refused(xendevicemodel_map_pcidev_to_ioreq_server(dm, NO_DOMAIN, 1, 0, 0, 3, 8),
		     EINVAL, "map_pcidev_to_ioreq_server with function 8 (before the domain)");
	peer_refused(xendevicemodel_map_mem_type_to_ioreq_server(dm, d, 1, HVMMEM_ram_rw, 0),
		     EINVAL, "map_mem_type_to_ioreq_server of HVMMEM_ram_rw");
	peer_refused(xendevicemodel_map_mem_type_to_ioreq_server(dm, d, 1, HVMMEM_ioreq_server,
								 XEN_DMOP_IOREQ_MEM_ACCESS_READ),
		     EINVAL, "map_mem_type_to_ioreq_server with the read flag");
	peer_refused(xendevicemodel_track_dirty_vram(dm, d, 0, 1, NULL), EFAULT,
		     "track_dirty_vram with no bitmap");
	peer_refused(xendevicemodel_track_dirty_vram(dm, d, 0, 40000, bitmap), E2BIG,
		     "track_dirty_vram with a bitmap over 4096 bytes");
	peer_refused(xendevicemodel_track_dirty_vram(dm, d, 0, 256, bitmap), EINVAL,
		     "track_dirty_vram on a PV domain");
	peer_refused(xendevicemodel_modified_memory_bulk(dm, d, ext, 300), E2BIG,
		     "modified_memory_bulk with 300 extents (over 4096 bytes)");
	peer_refused(xendevicemodel_modified_memory_bulk(dm, d, NULL, 2), EFAULT,
		     "modified_memory_bulk with no extents array");
	peer_refused(xendevicemodel_modified_memory(dm, d, 0, 1), EINVAL,
		     "modified_memory on a PV domain");
	peer_refused(xendevicemodel_pin_memory_cacheattr(dm, d, 0, 0xf, XEN_DMOP_MEM_CACHEATTR_WB),
		     EINVAL, "pin_memory_cacheattr on a PV domain");
	peer_refused(xendevicemodel_relocate_memory(dm, NO_DOMAIN, 1, 0, 1), ESRCH,
		     "relocate_memory on a domain that does not exist");
	peer_refused(xendevicemodel_relocate_memory(dm, d, 1, 0, 1), EINVAL,
		     "relocate_memory on a PV domain");
	peer_refused(xendevicemodel_relocate_memory(dm, 0, 1, 0, 1), EPERM,
		     "relocate_memory on domain 0");
	peer_refused(xendevicemodel_track_dirty_vram(dm, d, 0, 0, NULL), EINVAL,
		     "track_dirty_vram's stop on a PV domain");
	peer_refused(xendevicemodel_nr_vcpus(dm, d, &vcpus), EINVAL, "nr_vcpus on a PV domain");
	peer_check(vcpus == 77, "nr_vcpus leaves *vcpus alone when it fails");
	peer_refused(xendevicemodel_inject_msi(dm, d, 0xfee00000, 0x30), EINVAL,
		     "inject_msi on a PV domain");
	/* The device model's shutdown: Xen's dm_op refuses it for a PV
	 * domain (the script checks the domain was not shut down). */
	peer_refused(xendevicemodel_shutdown(dm, d, SHUTDOWN_poweroff), EINVAL,
		     "xendevicemodel_shutdown of a PV domain (dm_op: not HVM)");
	peer_refused(xendevicemodel_shutdown(dm, NO_DOMAIN, SHUTDOWN_poweroff), ESRCH,
		     "xendevicemodel_shutdown of a domain that does not exist");
	peer_refused(xendevicemodel_shutdown(dm, 0, SHUTDOWN_poweroff), EPERM,
		     "xendevicemodel_shutdown of domain 0 (the caller's own)");
	peer_check(xendevicemodel_restrict(dm, d) == 0 && xendevicemodel_restrict(dm, d) == 0,
		   "xendevicemodel_restrict succeeds (twice, one notice)");
	peer_check(xendevicemodel_close(dm) == 0, "xendevicemodel_close");
}

static int peer_ctrl(uint32_t a, uint32_t b, uint32_t c)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_interface *dummy = xc_interface_open(NULL, NULL, XC_OPENFLAG_DUMMY);

	peer_check(xch != NULL, "xc_interface_open");
	if (!xch)
		return 1;
	peer_check(xc_interface_close(NULL) == 0, "xc_interface_close(NULL)");
	peer_refused(xc_domain_shutdown(dummy, a, SHUTDOWN_poweroff), EBADF,
		     "xc_domain_shutdown on an XC_OPENFLAG_DUMMY handle");
	peer_check(xc_interface_close(dummy) == 0, "close the dummy handle");
	peer_ctrl_refusals(xch, a);
	peer_dm(a);

	peer_check(xc_domain_shutdown(xch, a, SHUTDOWN_reboot) == 0, "xc_domain_shutdown A reboot");
	peer_check(xc_domain_shutdown(xch, a, SHUTDOWN_poweroff) == 0,
		   "xc_domain_shutdown A again (poweroff: A keeps reboot, as in Xen)");
	peer_check(xc_domain_shutdown(xch, b, SHUTDOWN_crash) == 0, "xc_domain_shutdown B crash");
	peer_check(xc_domain_shutdown(xch, c, SHUTDOWN_suspend) == 0,
		   "xc_domain_shutdown C suspend");
	peer_refused(xc_get_hvm_param(xch, a, 1, &(unsigned long){0}), EINVAL,
		     "xc_get_hvm_param on the shut-down PV domain");
	peer_check(xc_interface_close(xch) == 0, "xc_interface_close");
	return peer_failed;
}

/* relocate_memory and track_dirty_vram on frames 0xe0000-0xe0001 (just
 * populated, the second holding 0x4b45454c), as QEMU uses them for the
 * VGA's linear framebuffer. */
static void peer_relocate(uint32_t d, xenforeignmemory_handle *fm)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	unsigned long bits[1] = {0};
	xen_pfn_t to[2] = {0xe0400, 0xe0401}, from = 0xe0000;
	volatile uint32_t *p;

	peer_check(dm != NULL, "xendevicemodel_open");
	if (!dm)
		return;
	peer_refused(xendevicemodel_relocate_memory(dm, d, 1, 0xe0100, 0xe0400), EINVAL,
		     "relocate_memory of a frame not populated");
	peer_refused(xendevicemodel_relocate_memory(dm, d, 3, 0xe0000, 0xe0400), EINVAL,
		     "relocate_memory of three frames, two populated");
	peer_refused(xendevicemodel_relocate_memory(dm, d, 2, 0xe0000, 0x100), EINVAL,
		     "relocate_memory onto the domain's RAM");
	peer_refused(xendevicemodel_relocate_memory(dm, d, 2, 0xe0000, 0xfeffc), EINVAL,
		     "relocate_memory onto keeld's special pages");
	peer_refused(xendevicemodel_relocate_memory(dm, d, 2, 0xe0000, (1ULL << 40) - 1), EINVAL,
		     "relocate_memory past the guest's address space");
	peer_refused(xendevicemodel_track_dirty_vram(dm, d, 0xe0000, 2, bits), EOPNOTSUPP,
		     "track_dirty_vram of frames not relocated");
	peer_check(xendevicemodel_relocate_memory(dm, d, 2, 0xe0000, 0xe0400) == 0,
		   "relocate_memory of the two frames to 0xe0400");
	/* QEMU's pin after the move: write-back is what KVM maps anyway */
	peer_check(xendevicemodel_pin_memory_cacheattr(dm, d, 0xe0400, 0xe0401,
						       XEN_DMOP_MEM_CACHEATTR_WB) == 0,
		   "pin_memory_cacheattr WB of the moved frames");
	peer_refused(xendevicemodel_pin_memory_cacheattr(dm, d, 0xe0400, 0xe0401,
							 XEN_DMOP_MEM_CACHEATTR_UC),
		     EOPNOTSUPP, "pin_memory_cacheattr UC (KVM decides other memory types)");
	peer_refused(xendevicemodel_pin_memory_cacheattr(dm, d, 0xe0401, 0xe0400,
							 XEN_DMOP_MEM_CACHEATTR_WB),
		     EINVAL, "pin_memory_cacheattr of a range that ends before it starts");
	peer_refused(xendevicemodel_pin_memory_cacheattr(dm, d, 0xe0400, 0xe0401, 2), EINVAL,
		     "pin_memory_cacheattr of memory type 2 (none)");
	p = xenforeignmemory_map(fm, d, PROT_READ, 2, to, NULL);
	peer_check(p && p[1024] == 0x4b45454c, "their content at the new frames");
	if (p)
		xenforeignmemory_unmap(fm, (void *)p, 2);
	peer_refused_ptr(xenforeignmemory_map(fm, d, PROT_READ, 1, &from, NULL), EINVAL,
			 "nothing mapped at their old frames");
	peer_refused(xendevicemodel_relocate_memory(dm, d, 1, 0xe0400, 0xe0000), EINVAL,
		     "relocate_memory of half the moved range");
	peer_check(xendevicemodel_track_dirty_vram(dm, d, 0xe0400, 2, bits) == 0 && bits[0] == 3,
		   "track_dirty_vram's first call: all dirty");
	bits[0] = 0xf0;
	peer_check(xendevicemodel_track_dirty_vram(dm, d, 0xe0400, 2, bits) == 0 && bits[0] == 0,
		   "track_dirty_vram's next: none written by the guest");
	peer_check(xendevicemodel_track_dirty_vram(dm, d, 0, 0, NULL) == 0,
		   "track_dirty_vram stopped");
	peer_check(xendevicemodel_relocate_memory(dm, d, 2, 0xe0400, 0xe0000) == 0,
		   "relocate_memory back to 0xe0000");
	p = xenforeignmemory_map(fm, d, PROT_READ, 1, &to[1], NULL);
	peer_check(p == NULL, "nothing mapped at 0xe0401 any more");
	if (p)
		xenforeignmemory_unmap(fm, (void *)p, 1);
	from = 0xe0001;
	p = xenforeignmemory_map(fm, d, PROT_READ, 1, &from, NULL);
	peer_check(p && p[0] == 0x4b45454c, "the content back at 0xe0001");
	if (p)
		xenforeignmemory_unmap(fm, (void *)p, 1);
	xendevicemodel_close(dm);
}

/* inject_msi's refusals on a running HVM domain (hvm-os checks that it
 * runs on after them): none of them reaches the guest. */
static void peer_msi_refusals(uint32_t d)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);

	peer_check(dm != NULL, "xendevicemodel_open");
	if (!dm)
		return;
	peer_refused(xendevicemodel_inject_msi(dm, d, 0xfed00000, 0x41), EINVAL,
		     "inject_msi to 0xfed00000 (outside the 0xfee00000 window)");
	peer_refused(xendevicemodel_inject_msi(dm, d, 0x1fee00000ULL, 0x41), EINVAL,
		     "inject_msi to 0x1fee00000 (past 4 GiB)");
	peer_refused(xendevicemodel_inject_msi(dm, d, 0xfee00000, 0x200 | 0x41), EINVAL,
		     "inject_msi with SMI delivery");
	peer_refused(xendevicemodel_inject_msi(dm, d, 0xfee00000, 0x400 | 0x41), EINVAL,
		     "inject_msi with NMI delivery");
	peer_refused(xendevicemodel_inject_msi(dm, d, 0xfee00000, 0), ERANGE,
		     "inject_msi of vector 0 (no pirq remap)");
	peer_refused(xendevicemodel_inject_msi(dm, 0, 0xfee00000, 0x41), EPERM,
		     "inject_msi on domain 0");
	peer_refused(xendevicemodel_inject_msi(dm, NO_DOMAIN, 0xfee00000, 0x41), ESRCH,
		     "inject_msi on a domain that does not exist");
	xendevicemodel_close(dm);
}

/* The frames QEMU populates for option ROMs and video RAM, on an HVM
 * domain as keeld builds it (tests/integration/hvm-os.sh). */
static int peer_populate(uint32_t d)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t pfn, two[2];
	volatile uint32_t *p, *q;

	peer_check(xch && fm, "xc_interface_open, xenforeignmemory_open");
	if (!xch || !fm)
		return 1;
	pfn = 0x100;
	peer_refused(xc_domain_populate_physmap_exact(xch, d, 1, 0, 0, &pfn), EBUSY,
		     "populate_physmap of a frame of the domain's RAM");
	pfn = 0xe0000;
	peer_refused(xc_domain_populate_physmap_exact(xch, d, 1, 10, 0, &pfn), EBUSY,
		     "populate_physmap of order 10 (Xen's largest for a domU is 9)");
	pfn = 0xe0001;
	peer_refused(xc_domain_populate_physmap_exact(xch, d, 1, 1, 0, &pfn), EBUSY,
		     "populate_physmap of a misaligned order-1 extent");
	pfn = 0xfeffc;
	peer_refused(xc_domain_populate_physmap_exact(xch, d, 1, 0, 0, &pfn), EBUSY,
		     "populate_physmap of a frame of keeld's special pages");
	pfn = 0x100000 + 0x10;
	peer_refused(xc_domain_populate_physmap_exact(xch, d, 1, 0, 0, &pfn), EBUSY,
		     "populate_physmap past 4 GiB (the domain has no RAM there)");
	pfn = 0xe0000;
	peer_refused_ptr(xenforeignmemory_map(fm, d, PROT_READ, 1, &pfn, NULL), EINVAL,
			 "map a frame past RAM not yet populated");
	two[0] = 0xe0000, two[1] = 0xe0001;
	peer_check(xc_domain_populate_physmap_exact(xch, d, 2, 0, 0, two) == 0,
		   "populate_physmap of two frames past the domain's RAM");
	peer_check(xc_domain_populate_physmap_exact(xch, d, 1, 0, 0, &pfn) == 0,
		   "populate_physmap of one of them again");
	p = xenforeignmemory_map(fm, d, PROT_READ | PROT_WRITE, 2, two, NULL);
	q = xenforeignmemory_map(fm, d, PROT_READ, 1, &two[1], NULL);
	peer_check(p && q, "map them through libxenforeignmemory");
	if (p && q) {
		peer_check(p[0] == 0 && p[1024] == 0, "they are zeroed");
		p[1024] = 0x4b45454c;
		peer_check(q[0] == 0x4b45454c, "a write through one map shows in the other");
		xenforeignmemory_unmap(fm, (void *)p, 2);
		xenforeignmemory_unmap(fm, (void *)q, 1);
	}
	pfn = 0xe0200;
	peer_refused(xc_domain_populate_physmap_exact(xch, d, 1, 9, 0, &pfn), EBUSY,
		     "populate_physmap of 2 MiB past the domain's maxmem");
	peer_relocate(d, fm);
	peer_msi_refusals(d);
	xenforeignmemory_close(fm);
	xc_interface_close(xch);
	return peer_failed;
}

/* What hvm-os's guest wrote through the LFB, in the dirty-VRAM log QEMU
 * started (the same range, so the log since then, not a fresh start). */
static int peer_vram(uint32_t d, uint64_t gfn, unsigned first, unsigned last)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	unsigned long bits[4096 / (8 * sizeof(unsigned long))];
	unsigned n = 0, other = 0;

	peer_check(dm != NULL, "xendevicemodel_open");
	if (!dm)
		return 1;
	memset(bits, 0, sizeof(bits));
	peer_check(xendevicemodel_track_dirty_vram(dm, d, gfn, 4096, bits) == 0,
		   "track_dirty_vram of the LFB");
	if (first > last) {
		xendevicemodel_close(dm);
		return peer_failed;
	}
	for (unsigned i = 0; i < 4096; i++) {
		int dirty = (bits[i / (8 * sizeof(long))] >> (i % (8 * sizeof(long)))) & 1;

		if (i >= first && i <= last)
			n += dirty;
		else
			other += dirty;
	}
	printf("vram: %u of frames %u-%u dirty, %u others\n", n, first, last, other);
	peer_check(n == last - first + 1 && other == 0,
		   "the frames the guest wrote dirty, no others");
	peer_check(xendevicemodel_track_dirty_vram(dm, d, gfn, 4096, bits) == 0,
		   "track_dirty_vram again");
	n = 0;
	for (unsigned i = 0; i < 4096 / (8 * sizeof(long)); i++)
		n += bits[i] != 0;
	peer_check(n == 0, "nothing written since");
	xendevicemodel_close(dm);
	return peer_failed;
}

int main(int argc, char **argv)
{
	uint32_t domid;
	evtchn_port_t port;
	int secs;

	if ((argc < 5 && !(argc == 3 && !strcmp(argv[1], "populate")) &&
	     !(argc == 4 && !strcmp(argv[1], "vram"))) ||
	    (strcmp(argv[1], "populate") && strcmp(argv[1], "grant") && strcmp(argv[1], "pong") &&
	     strcmp(argv[1], "ctrl") && strcmp(argv[1], "vram")) ||
	    (!strcmp(argv[1], "vram") && argc != 4 && argc != 6)) {
		fprintf(stderr, "usage: keel-xenlibs-peer grant|pong DOMID PORT GREF|ROUNDS "
				"[SECONDS]\n"
				"       keel-xenlibs-peer ctrl DOMID_A DOMID_B DOMID_C\n"
				"       keel-xenlibs-peer populate DOMID\n"
				"       keel-xenlibs-peer vram DOMID GFN [FIRST LAST]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "populate"))
		return peer_populate(strtoul(argv[2], NULL, 0));
	if (!strcmp(argv[1], "vram"))
		return peer_vram(strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
				 argc == 6 ? strtoul(argv[4], NULL, 0) : 1,
				 argc == 6 ? strtoul(argv[5], NULL, 0) : 0);
	if (!strcmp(argv[1], "ctrl"))
		return peer_ctrl(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
				 strtoul(argv[4], NULL, 0));
	domid = strtoul(argv[2], NULL, 0);
	port = strtoul(argv[3], NULL, 0);
	secs = argc > 5 ? atoi(argv[5]) : 30;
	if (!strcmp(argv[1], "grant"))
		return peer_grant(domid, port, strtoul(argv[4], NULL, 0), secs);
	return peer_pong(domid, port, atoi(argv[4]), secs);
}
