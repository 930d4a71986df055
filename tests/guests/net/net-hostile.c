/*
 * net-hostile: a netfront that misbehaves on purpose against keel-netback
 * (ip=, host= on the command line, for traffic it can solicit).  Each
 * attack writes the shared rings by hand and states what the backend must
 * do.  Answered with errors, the vif staying Connected: a tx request with a
 * grant reference that does not exist, one granted to another domain, a
 * packet of 19 slots (more than XEN_NETIF_NR_SLOTS_MIN), a frame shorter
 * than an Ethernet header, fragment sizes that do not add up, and rx
 * requests whose grant is bogus or foreign (the host's ARP reply lands
 * there).  Disconnected (the backend goes to Closing): a runaway tx
 * req_prod, a runaway rx req_prod, a packet claiming more than 20 slots, a
 * fragment crossing its page, an unknown extra-info type, a first slot
 * claiming a 64 KiB frame.  After each disconnect the guest closes and
 * connects again; at the end the vif still carries an ARP round trip.
 * Refused at the handshake: a tx-ring-ref never granted, an event channel
 * offered to another domain; a good handshake works after them.
 */
#include "../../../frontends/netfront/netfront.h"
#include "../../../frontends/runtime/evtchn.h"
#include "../../../frontends/runtime/gnttab.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/page.h"
#include "../../../frontends/runtime/xenbus.h"
#include "net_pkt.h"

#define HX_BAD_GREF  0xfffffu
#define HX_OTHER_DOM 0x7ff0 /* a domain that is not the backend's */

static struct netfront nf;
static uint32_t my_ip, host_ip;
static uint8_t fr[NP_MAX_FRAME], rxf[NF_MAX_FRAME];

static int hx_connect(void)
{
	int err = netfront_init(&nf, 0, 10000);

	if (err)
		rt_printf("net-hostile: connect failed %d\n", err);
	return err;
}

/* A tx request by hand, on a real buffer unless @gref says otherwise. */
static void hx_tx(uint32_t gref, uint16_t offset, uint16_t size, uint16_t flags)
{
	struct netif_tx_request *r;
	uint16_t id;

	netfront_tx_reap(&nf); /* earlier frames' responses must not be counted as ours */
	id = nf.tx_nfree ? nf.tx_free[--nf.tx_nfree] : 0;
	nf.tx_busy[id] = 1;
	r = netif_tx_front_request(&nf.tx, nf.tx.req_prod_pvt++);

	rt_memcpy(nf.txb[id].va, fr, 60);
	r->gref = gref == ~0u ? nf.txb[id].gref : gref;
	r->offset = offset;
	r->flags = flags;
	r->id = id;
	r->size = size;
}

static void hx_push(void)
{
	netif_tx_front_push(&nf.tx);
	netfront_notify(&nf);
}

/* Collect @n tx responses (1 s at most): how many were errors, -1 if not all came. */
static int hx_tx_statuses(unsigned n)
{
	uint64_t end = rt_now_ns() + 1000000000ull;
	unsigned got = 0;
	int errors = 0;

	while (got < n && rt_now_ns() < end) {
		uint32_t prod = ring_load(&nf.tx.sring->rsp_prod);

		ring_rmb();
		while (nf.tx.rsp_cons != prod && got < n) {
			struct netif_tx_response r;

			netif_tx_front_copy_response(&nf.tx, nf.tx.rsp_cons++, &r);
			if (r.status == NETIF_RSP_NULL)
				continue;
			if (r.id < NF_TX_BUFS && nf.tx_busy[r.id]) {
				nf.tx_busy[r.id] = 0;
				nf.tx_free[nf.tx_nfree++] = r.id;
			}
			errors += r.status == NETIF_RSP_ERROR;
			got++;
		}
		if (got < n && !netif_tx_front_final_check(&nf.tx))
			netfront_wait(&nf, 20);
	}
	return got == n ? errors : -1;
}

static int hx_backend_closing(unsigned ms)
{
	int st = xb_wait_state(nf.be_path, 1u << XenbusStateClosing | 1u << XenbusStateClosed,
			       (uint64_t)ms * 1000000ull);

	return st == XenbusStateClosing || st == XenbusStateClosed;
}

/* After a disconnect: close our side, connect again. */
static int hx_reconnect(void)
{
	netfront_close(&nf, 3000);
	xb_switch_state(nf.fe_path, XenbusStateInitialising);
	return hx_connect();
}

static void hx_expect_errors(const char *what, unsigned n, int want)
{
	int errors = hx_tx_statuses(n);

	rt_check(errors == want && netfront_backend_state(&nf) == XenbusStateConnected, what,
		 errors);
}

static void hx_expect_disconnect(const char *what)
{
	int closed = hx_backend_closing(3000);

	rt_check(closed, what, netfront_backend_state(&nf));
	if (!closed)
		return;
	rt_check(hx_reconnect() == 0, "  connected again", 0);
}

/* Ask the host for its MAC: its reply must land in the next posted rx page. */
static void hx_solicit(void)
{
	netfront_send(&nf, fr, np_arp(fr, 1, nf.mac, my_ip, np_broadcast, host_ip));
}

static int hx_arp_round_trip(void)
{
	for (int tries = 0; tries < 10; tries++) {
		uint64_t end = rt_now_ns() + 300000000ull;

		hx_solicit();
		while (rt_now_ns() < end) {
			int n = netfront_recv(&nf, rxf, sizeof(rxf), 50);
			uint8_t mac[6];
			uint32_t sip, tip;

			if (n > 0 && np_arp_parse(rxf, (unsigned)n, mac, &sip, &tip) == 2 &&
			    sip == host_ip)
				return 1;
		}
	}
	return 0;
}

/* Replace the grant of the next rx request the backend will use, then make a frame come. */
static void hx_rx_bad_gref(const char *what, uint32_t gref)
{
	struct netif_rx_request *r;
	uint64_t end = rt_now_ns() + 3000000000ull;
	int saw_error = 0;

	/* Take every response first: the slot at rsp_cons must still hold a request. */
	while (netfront_recv(&nf, rxf, sizeof(rxf), 20) != -XEN_ETIME)
		;
	r = netif_rx_front_request(&nf.rx, nf.rx.rsp_cons);
	r->gref = gref;
	ring_wmb();
	while (!saw_error && rt_now_ns() < end) {
		hx_solicit();
		for (int i = 0; i < 6 && !saw_error; i++)
			saw_error = netfront_recv(&nf, rxf, sizeof(rxf), 50) == -XEN_EIO;
	}
	rt_check(saw_error && netfront_backend_state(&nf) == XenbusStateConnected, what, saw_error);
}

static void hx_tx_attacks(void)
{
	int foreign;
	unsigned i;

	np_eth(fr, np_broadcast, nf.mac, NP_ETH_TEST);
	hx_tx(HX_BAD_GREF, 0, 60, 0);
	hx_push();
	hx_expect_errors("tx with a grant reference that does not exist: ERROR", 1, 1);

	foreign = gnt_grant(HX_OTHER_DOM, nf.txb[0].frame, 1);
	hx_tx((uint32_t)foreign, 0, 60, 0);
	hx_push();
	hx_expect_errors("tx with a reference granted to another domain: ERROR", 1, 1);
	gnt_end((grant_ref_t)foreign);

	for (i = 0; i < 19; i++)
		hx_tx(~0u, 0, i ? 60 : 19 * 60, i < 18 ? NETTXF_more_data : 0);
	hx_push();
	hx_expect_errors("tx packet of 19 slots: ERROR on every slot", 19, 19);

	hx_tx(~0u, 0, 10, 0);
	hx_push();
	hx_expect_errors("tx frame shorter than an Ethernet header: ERROR", 1, 1);

	hx_tx(~0u, 0, 100, NETTXF_more_data);
	hx_tx(~0u, 0, 200, 0);
	hx_push();
	hx_expect_errors("tx fragments larger than the frame: ERROR", 2, 2);

	rt_check(hx_arp_round_trip(), "the vif still works after the refused requests", 0);
}

static void hx_fatal_attacks(void)
{
	/* runaway tx producer */
	ring_store(&nf.tx.sring->req_prod, nf.tx.req_prod_pvt + 1000);
	netfront_notify(&nf);
	hx_expect_disconnect("runaway tx req_prod: backend disconnects");

	/* more than 20 slots in one packet */
	np_eth(fr, np_broadcast, nf.mac, NP_ETH_TEST);
	for (unsigned i = 0; i < 24; i++)
		hx_tx(~0u, 0, i ? 60 : 24 * 60, i < 23 ? NETTXF_more_data : 0);
	hx_push();
	hx_expect_disconnect("tx packet of 24 slots: backend disconnects");

	/* a fragment crossing its page */
	hx_tx(~0u, 4000, 200, 0);
	hx_push();
	hx_expect_disconnect("tx fragment crossing its page: backend disconnects");

	/* an extra-info slot of an unknown type */
	{
		struct netif_extra_info *e;

		hx_tx(~0u, 0, 60, NETTXF_extra_info);
		e = (struct netif_extra_info *)netif_tx_front_request(&nf.tx, nf.tx.req_prod_pvt++);
		rt_memset(e, 0, sizeof(*e));
		e->type = 9;
		hx_push();
	}
	hx_expect_disconnect("unknown extra-info type: backend disconnects");

	/* a first slot claiming a 64 KiB frame that is not there */
	hx_tx(~0u, 0, 0xffff, 0);
	hx_push();
	hx_expect_disconnect("first slot claiming 65535 bytes in one page: backend disconnects");

	/* runaway rx producer, noticed when a frame comes */
	ring_store(&nf.rx.sring->req_prod, nf.rx.req_prod_pvt + 5000);
	netfront_notify(&nf);
	for (int i = 0; i < 5 && netfront_backend_state(&nf) == XenbusStateConnected; i++) {
		hx_solicit();
		rt_sleep_ns(100000000ull);
	}
	hx_expect_disconnect("runaway rx req_prod: backend disconnects");
}

/*
 * A handshake with a bad ring reference (which 0) or an event channel
 * offered to another domain (which 1): the backend must refuse to connect
 * (Closing), never serve it.  We then close and the device is reusable.
 */
static int hx_bad_handshake(int which)
{
	char key[160];
	uint8_t *tx = rt_page_alloc(), *rx = rt_page_alloc();
	int txref, rxref, st;
	uint32_t port = 0;

	if (!tx || !rx)
		return 0;
	txref = gnt_grant(nf.be_domid, rt_virt_to_mfn(tx), 0);
	rxref = gnt_grant(nf.be_domid, rt_virt_to_mfn(rx), 0);
	netif_tx_sring_init((struct netif_tx_sring *)tx);
	netif_rx_sring_init((struct netif_rx_sring *)rx);
	rt_evtchn_alloc_unbound(which == 1 ? HX_OTHER_DOM : nf.be_domid, &port);
	xb_switch_state(nf.fe_path, XenbusStateInitialising);
	st = xb_wait_state(nf.be_path, 1u << XenbusStateInitWait, 5000000000ull);
	if (st != XenbusStateInitWait)
		return 0;
	rt_snprintf(key, sizeof(key), "%s/tx-ring-ref", nf.fe_path);
	xb_printf(key, "%u", which == 0 ? HX_BAD_GREF : (unsigned)txref);
	rt_snprintf(key, sizeof(key), "%s/rx-ring-ref", nf.fe_path);
	xb_printf(key, "%u", (unsigned)rxref);
	rt_snprintf(key, sizeof(key), "%s/event-channel", nf.fe_path);
	xb_printf(key, "%u", port);
	rt_snprintf(key, sizeof(key), "%s/request-rx-copy", nf.fe_path);
	xb_write(key, "1");
	xb_switch_state(nf.fe_path, XenbusStateConnected);
	st = xb_wait_state(nf.be_path,
			   1u << XenbusStateConnected | 1u << XenbusStateClosing |
				   1u << XenbusStateClosed,
			   5000000000ull);
	/* close our side either way, then give the pages back */
	xb_switch_state(nf.fe_path, XenbusStateClosing);
	xb_wait_state(nf.be_path, 1u << XenbusStateClosing | 1u << XenbusStateClosed,
		      3000000000ull);
	xb_switch_state(nf.fe_path, XenbusStateClosed);
	xb_wait_state(nf.be_path, 1u << XenbusStateClosed, 3000000000ull);
	rt_evtchn_close(port);
	if (gnt_end((grant_ref_t)txref) == 0)
		rt_page_free(tx);
	if (gnt_end((grant_ref_t)rxref) == 0)
		rt_page_free(rx);
	return st == XenbusStateClosing || st == XenbusStateClosed;
}

void test_main(void)
{
	int foreign;

	my_ip = np_parse_ip(rt_cmdline_arg("ip"));
	host_ip = np_parse_ip(rt_cmdline_arg("host"));
	rt_check(my_ip && host_ip, "ip= and host= on the command line", 0);
	rt_check(rt_events_init() == 0, "events", 0);
	if (!my_ip || !host_ip || hx_connect())
		return;
	rt_check(hx_arp_round_trip(), "ARP round trip before the attacks", 0);
	hx_tx_attacks();
	hx_rx_bad_gref("rx into a grant reference that does not exist: ERROR status", HX_BAD_GREF);
	foreign = gnt_grant(HX_OTHER_DOM, nf.rxb[0].frame, 0);
	hx_rx_bad_gref("rx into a reference granted to another domain: ERROR status",
		       (uint32_t)foreign);
	gnt_end((grant_ref_t)foreign);
	hx_fatal_attacks();
	rt_check(hx_arp_round_trip(), "after every attack the vif carries an ARP round trip", 0);
	netfront_close(&nf, 3000);
	rt_check(netfront_backend_state(&nf) == XenbusStateClosed, "closed cleanly", 0);
	rt_check(hx_bad_handshake(0), "handshake with a tx-ring-ref never granted: refused", 0);
	rt_check(hx_bad_handshake(1), "handshake with a channel offered to another domain: refused",
		 0);
	xb_switch_state(nf.fe_path, XenbusStateInitialising);
	rt_check(hx_connect() == 0 && hx_arp_round_trip(), "then a good handshake works again", 0);
	netfront_close(&nf, 3000);
	rt_check(netfront_backend_state(&nf) == XenbusStateClosed, "closed cleanly at the end",
		 netfront_backend_state(&nf));
}
