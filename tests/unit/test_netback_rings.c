/*
 * netback end to end over the LOOPBACK TEST TRANSPORT, with the host side
 * of the vif played by one end of a SOCK_SEQPACKET pair that carries what a
 * TAP device with IFF_VNET_HDR carries (a virtio_net_hdr, then the frame);
 * the real TAP and bridge are exercised by tests/integration/
 * backend-net-tap.sh.  Covered: tx single and scatter-gather slots at page
 * offsets, checksum flags and GSO extra info into the virtio header, rx by
 * copy (single and multi-slot, flags from the kernel's header, frames
 * waiting for rx pages), `rate=` credit limiting, and hostile frontends
 * (runaway producers, fragments crossing pages, too many slots, sizes that
 * do not add up, bad grants, unknown extra info).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "../../backends/net/netfront_loop.h"

#define TN_DOM 8

struct tn {
	struct bk_loop *loop;
	struct bk_transport tp;
	struct netfront_loop nf;
	struct net_vif_params p;
	struct net_vif *vif;
	int sv[2];
	int fatal;
};

static void tn_on_fatal(void *arg)
{
	__atomic_fetch_add(&((struct tn *)arg)->fatal, 1, __ATOMIC_RELAXED);
}

static int tn_setup(struct tn *t, uint64_t credit_bytes, uint64_t credit_usec)
{
	int err;

	memset(t, 0, sizeof(*t));
	bk_log_quiet(true);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, t->sv) < 0)
		return -errno;
	/* The backend's end is non-blocking, like the TAP fd. */
	if (fcntl(t->sv[0], F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	if ((err = bk_loop_create(0, &t->loop)) ||
	    (err = bk_loop_add_domain(t->loop, TN_DOM, 1024, 1024)))
		return err;
	bk_loop_transport(t->loop, &t->tp);
	if ((err = netfront_loop_init(&t->nf, t->loop, TN_DOM, 0)))
		return err;
	netfront_loop_params(&t->nf, &t->p);
	t->p.tp = &t->tp;
	t->p.port_fd = t->sv[0];
	t->p.frontend_sg = true;
	t->p.frontend_csum = true;
	t->p.credit_bytes = credit_bytes;
	t->p.credit_usec = credit_usec;
	t->p.on_fatal = tn_on_fatal;
	t->p.fatal_arg = t;
	return net_vif_connect(&t->p, &t->vif);
}

static void tn_teardown(struct tn *t)
{
	net_vif_disconnect(t->vif);
	CU_ASSERT_EQUAL(bk_loop_mapped_count(t->loop, TN_DOM), 0);
	bk_loop_destroy(t->loop);
	close(t->sv[0]);
	close(t->sv[1]);
	bk_log_quiet(false);
}

/* What the "kernel" received: the header and the frame; frame length or -1. */
static int tn_host_read(struct tn *t, struct virtio_net_hdr *h, uint8_t *frame, size_t max,
			int timeout_ms)
{
	struct pollfd p = {t->sv[1], POLLIN, 0};
	struct iovec iov[2] = {{h, sizeof(*h)}, {frame, max}};
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	n = readv(t->sv[1], iov, 2);
	return n < (ssize_t)sizeof(*h) ? -1 : (int)(n - (ssize_t)sizeof(*h));
}

static int tn_host_write(struct tn *t, uint8_t hflags, const uint8_t *frame, size_t len)
{
	struct virtio_net_hdr h = {.flags = hflags};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)frame, len}};

	return writev(t->sv[1], iov, 2) == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

/* An Ethernet + IPv4 + UDP (proto 17) or TCP (6) frame of @len bytes. */
static void tn_ipv4_frame(uint8_t *f, size_t len, uint8_t proto)
{
	memset(f, 0, len);
	memcpy(f, "\xfe\xff\xff\xff\xff\xff\x00\x16\x3e\x01\x02\x03\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	f[22] = 64;
	f[23] = proto;
	if (proto == 6)
		f[34 + 12] = 5 << 4; /* TCP header of 20 bytes */
	for (size_t i = 60; i < len; i++)
		f[i] = (uint8_t)(i * 13);
}

static void test_netback_tx(void)
{
	static uint8_t frame[9000], got[9100];
	struct netif_tx_response rsp;
	struct virtio_net_hdr h = {0};
	struct tn t;

	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	/* One slot. */
	tn_ipv4_frame(frame, 60, 17);
	CU_ASSERT_FATAL(netfront_loop_send(&t.nf, frame, 60, 4096, 0, 0, NULL) == 0);
	CU_ASSERT_EQUAL(tn_host_read(&t, &h, got, sizeof(got), 2000), 60);
	CU_ASSERT(memcmp(got, frame, 60) == 0);
	CU_ASSERT_EQUAL(h.flags, 0);
	CU_ASSERT_EQUAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
	CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_OKAY);
	/* Scatter-gather: 9000 bytes in slots of at most 1500, the first at offset 100. */
	tn_ipv4_frame(frame, 9000, 17);
	CU_ASSERT_FATAL(netfront_loop_send(&t.nf, frame, 9000, 1500, 100, 0, NULL) == 0);
	CU_ASSERT_EQUAL(tn_host_read(&t, &h, got, sizeof(got), 2000), 9000);
	CU_ASSERT(memcmp(got, frame, 9000) == 0);
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
		CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_OKAY);
	}
	/* Checksum offload: csum_blank becomes NEEDS_CSUM at the UDP checksum. */
	tn_ipv4_frame(frame, 200, 17);
	CU_ASSERT_FATAL(netfront_loop_send(&t.nf, frame, 200, 4096, 0,
					   NETTXF_csum_blank | NETTXF_data_validated, NULL) == 0);
	CU_ASSERT_EQUAL(tn_host_read(&t, &h, got, sizeof(got), 2000), 200);
	CU_ASSERT_EQUAL(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(h.csum_start, 34);
	CU_ASSERT_EQUAL(h.csum_offset, 6);
	CU_ASSERT_FATAL(
		netfront_loop_send(&t.nf, frame, 200, 4096, 0, NETTXF_data_validated, NULL) == 0);
	CU_ASSERT_EQUAL(tn_host_read(&t, &h, got, sizeof(got), 2000), 200);
	CU_ASSERT_EQUAL(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	/* GSO: the extra-info slot becomes gso_type/gso_size; its response is RSP_NULL. */
	{
		struct netif_extra_info gso = {.type = XEN_NETIF_EXTRA_TYPE_GSO};

		gso.u.gso.size = 1448;
		gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
		tn_ipv4_frame(frame, 5000, 6);
		while (netfront_loop_tx_response(&t.nf, &rsp, 100) == 0)
			;
		CU_ASSERT_FATAL(netfront_loop_send(&t.nf, frame, 5000, 4096, 0, NETTXF_csum_blank,
						   &gso) == 0);
		CU_ASSERT_EQUAL(tn_host_read(&t, &h, got, sizeof(got), 2000), 5000);
		CU_ASSERT_EQUAL(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
		CU_ASSERT_EQUAL(h.gso_size, 1448);
		CU_ASSERT_EQUAL(h.csum_offset, 16);
		CU_ASSERT_EQUAL(h.hdr_len, 54);
		CU_ASSERT_EQUAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
		CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_OKAY);
		CU_ASSERT_EQUAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
		CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_NULL);
		CU_ASSERT_EQUAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
		CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_OKAY);
	}
	CU_ASSERT(!net_vif_broken(t.vif));
	tn_teardown(&t);
}

static void test_netback_rx(void)
{
	static uint8_t frame[9000], got[9100];
	uint16_t flags = 0;
	struct net_stats st;
	struct tn t;

	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	CU_ASSERT_FATAL(netfront_loop_post_rx(&t.nf, 64) == 0);
	tn_ipv4_frame(frame, 100, 17);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, 100) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000), 100);
	CU_ASSERT(memcmp(got, frame, 100) == 0);
	CU_ASSERT_EQUAL(flags & (NETRXF_csum_blank | NETRXF_more_data), 0);
	CU_ASSERT_FATAL(tn_host_write(&t, VIRTIO_NET_HDR_F_NEEDS_CSUM, frame, 100) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000), 100);
	CU_ASSERT_EQUAL(flags & (NETRXF_csum_blank | NETRXF_data_validated),
			NETRXF_csum_blank | NETRXF_data_validated);
	/* A jumbo frame over three pages. */
	tn_ipv4_frame(frame, 9000, 17);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, 9000) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000), 9000);
	CU_ASSERT(memcmp(got, frame, 9000) == 0);
	CU_ASSERT(flags & NETRXF_more_data);
	tn_teardown(&t);

	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	/* No rx pages posted: the frame waits, then arrives once pages are posted. */
	tn_ipv4_frame(frame, 300, 17);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, 300) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 100), -ETIMEDOUT);
	CU_ASSERT_FATAL(netfront_loop_post_rx(&t.nf, 8) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000), 300);
	CU_ASSERT(memcmp(got, frame, 300) == 0);
	/* Without feature-sg a multi-page frame is dropped, not split. */
	net_vif_disconnect(t.vif);
	t.p.frontend_sg = false;
	CU_ASSERT_FATAL(net_vif_connect(&t.p, &t.vif) == 0);
	tn_ipv4_frame(frame, 9000, 17);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, 9000) == 0);
	tn_ipv4_frame(frame, 400, 17);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, 400) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000), 400);
	net_vif_stats(t.vif, &st);
	CU_ASSERT_EQUAL(st.rx_dropped, 1);
	tn_teardown(&t);

	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	/* Frames of odd lengths queued while no pages are posted go out in one
	 * batch, their headers packed at odd offsets of the read buffer (the
	 * SAN build's alignment check caught a header read in place there). */
	{
		static const size_t lens[] = {101, 57, 333, 64};

		for (unsigned i = 0; i < 4; i++) {
			tn_ipv4_frame(frame, lens[i], 17);
			CU_ASSERT_FATAL(tn_host_write(&t, i & 1 ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0,
						      frame, lens[i]) == 0);
		}
		CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 100),
				-ETIMEDOUT);
		CU_ASSERT_FATAL(netfront_loop_post_rx(&t.nf, 4) == 0);
		for (unsigned i = 0; i < 4; i++) {
			CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000),
					(int)lens[i]);
			CU_ASSERT_EQUAL(!!(flags & NETRXF_csum_blank), i & 1);
		}
	}
	tn_teardown(&t);
}

/*
 * rate=5000 bytes per 400 ms: 12 frames of 1000 bytes need the first
 * window's credit and two more, so they cannot all be out before 800 ms
 * (a lower bound: a slow machine cannot break it).
 */
static void test_netback_rate_limit(void)
{
	static uint8_t frame[1000], got[1100];
	struct virtio_net_hdr h = {0};
	struct timespec t0, t1;
	struct net_stats st;
	unsigned total = 0;
	double elapsed;
	struct tn t;

	/* Before the vif exists, so the bound holds however slow the set-up is. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_FATAL(tn_setup(&t, 5000, 400000) == 0);
	tn_ipv4_frame(frame, sizeof(frame), 17);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_FATAL(netfront_loop_send(&t.nf, frame, sizeof(frame), 4096, 0, 0, NULL) ==
				0);
	while (total < 12 && tn_host_read(&t, &h, got, sizeof(got), 3000) == (int)sizeof(frame))
		total++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CU_ASSERT_EQUAL(total, 12);
	CU_ASSERT(elapsed >= 0.79);
	net_vif_stats(t.vif, &st);
	CU_ASSERT(st.tx_credit_waits >= 2);
	tn_teardown(&t);
}

/* Wait for the vif to be declared hostile. */
static int tn_wait_broken(struct tn *t)
{
	for (int i = 0; i < 200 && !net_vif_broken(t->vif); i++)
		usleep(5000);
	return net_vif_broken(t->vif);
}

static void tn_raw_tx(struct tn *t, struct netif_tx_request r)
{
	*netif_tx_front_request(&t->nf.tx, t->nf.tx.req_prod_pvt++) = r;
}

static void tn_push(struct tn *t)
{
	netif_tx_front_push(&t->nf.tx);
	bk_loop_evtchn_front_notify(t->loop, TN_DOM, t->nf.port);
}

static void test_netback_hostile_tx(void)
{
	static uint8_t frame[2000];
	struct netif_tx_response rsp;
	struct net_stats st;
	struct tn t;
	grant_ref_t g;

	/* Drops with an error, the vif carries on. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	g = t.nf.txb[0].gref;
	tn_raw_tx(&t, (struct netif_tx_request){g, 0, 0, 1, 10});     /* shorter than Ethernet */
	tn_raw_tx(&t, (struct netif_tx_request){99999, 0, 0, 2, 60}); /* bad grant */
	tn_raw_tx(&t, (struct netif_tx_request){t.nf.rxb[0].gref + 5000, 0, 0, 3, 60});
	/* first size smaller than the fragments that follow */
	tn_raw_tx(&t, (struct netif_tx_request){g, 0, NETTXF_more_data, 4, 100});
	tn_raw_tx(&t, (struct netif_tx_request){g, 0, 0, 5, 200});
	/* 19 slots: more than XEN_NETIF_NR_SLOTS_MIN */
	for (int i = 0; i < 19; i++)
		tn_raw_tx(&t, (struct netif_tx_request){g, 0, i < 18 ? NETTXF_more_data : 0,
							(uint16_t)(10 + i), i ? 10 : 190});
	tn_push(&t);
	for (int i = 0; i < 3 + 2 + 19; i++) {
		CU_ASSERT_EQUAL_FATAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
		CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_ERROR);
	}
	CU_ASSERT(!net_vif_broken(t.vif));
	/* Every error counted, the two bad grants among them. */
	net_vif_stats(t.vif, &st);
	CU_ASSERT_EQUAL(st.tx_errors, 5); /* packets, not slots */
	CU_ASSERT_EQUAL(st.tx_grant_errors, 2);
	CU_ASSERT_EQUAL(st.rx_grant_errors, 0);
	tn_ipv4_frame(frame, 60, 17);
	CU_ASSERT_FATAL(netfront_loop_send(&t.nf, frame, 60, 4096, 0, 0, NULL) == 0);
	CU_ASSERT_EQUAL(netfront_loop_tx_response(&t.nf, &rsp, 2000), 0);
	CU_ASSERT_EQUAL(rsp.status, NETIF_RSP_OKAY);
	net_vif_stats(t.vif, &st);
	CU_ASSERT_EQUAL(st.tx_grant_errors, 2);
	CU_ASSERT_EQUAL(st.tx_packets, 1);
	tn_teardown(&t);

	/* A fragment that crosses its page: hostile. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	tn_raw_tx(&t, (struct netif_tx_request){t.nf.txb[0].gref, 4000, 0, 1, 200});
	tn_push(&t);
	CU_ASSERT(tn_wait_broken(&t));
	CU_ASSERT_EQUAL(t.fatal, 1);
	tn_teardown(&t);

	/* A runaway producer: hostile. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	ring_store(&t.nf.tx.sring->req_prod, t.nf.tx.req_prod_pvt + 1000);
	bk_loop_evtchn_front_notify(t.loop, TN_DOM, t.nf.port);
	CU_ASSERT(tn_wait_broken(&t));
	tn_teardown(&t);

	/* An unknown extra-info type: hostile. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	tn_raw_tx(&t, (struct netif_tx_request){t.nf.txb[0].gref, 0, NETTXF_extra_info, 1, 60});
	{
		struct netif_extra_info *e = (struct netif_extra_info *)netif_tx_front_request(
			&t.nf.tx, t.nf.tx.req_prod_pvt++);

		memset(e, 0, sizeof(*e));
		e->type = 77;
	}
	tn_push(&t);
	CU_ASSERT(tn_wait_broken(&t));
	tn_teardown(&t);

	/* A packet that claims more slots than any packet may: hostile. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	for (int i = 0; i < 30; i++)
		tn_raw_tx(&t, (struct netif_tx_request){t.nf.txb[0].gref, 0, NETTXF_more_data,
							(uint16_t)i, 100});
	tn_push(&t);
	CU_ASSERT(tn_wait_broken(&t));
	tn_teardown(&t);
}

static void test_netback_hostile_rx(void)
{
	static uint8_t frame[200], got[300];
	struct net_stats st;
	uint16_t flags;
	struct tn t;

	/* rx pages with bad grants: the frame is dropped with an error status. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	{
		struct netif_rx_request *r =
			netif_rx_front_request(&t.nf.rx, t.nf.rx.req_prod_pvt++);

		r->id = 0;
		r->gref = 77777;
	}
	netif_rx_front_push(&t.nf.rx);
	tn_ipv4_frame(frame, sizeof(frame), 17);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, sizeof(frame)) == 0);
	CU_ASSERT_EQUAL(netfront_loop_recv(&t.nf, got, sizeof(got), &flags, 2000), -EPROTO);
	CU_ASSERT(!net_vif_broken(t.vif));
	net_vif_stats(t.vif, &st);
	CU_ASSERT_EQUAL(st.rx_dropped, 1);
	CU_ASSERT_EQUAL(st.rx_grant_errors, 1);
	CU_ASSERT_EQUAL(st.tx_grant_errors, 0);
	tn_teardown(&t);

	/* A runaway rx producer: hostile. */
	CU_ASSERT_FATAL(tn_setup(&t, 0, 0) == 0);
	ring_store(&t.nf.rx.sring->req_prod, t.nf.rx.req_prod_pvt + 5000);
	CU_ASSERT_FATAL(tn_host_write(&t, 0, frame, sizeof(frame)) == 0);
	bk_loop_evtchn_front_notify(t.loop, TN_DOM, t.nf.port);
	CU_ASSERT(tn_wait_broken(&t));
	tn_teardown(&t);
}

UNIT_SUITE(netback_rings, NULL, NULL, UNIT_TEST(test_netback_tx), UNIT_TEST(test_netback_rx),
	   UNIT_TEST(test_netback_rate_limit), UNIT_TEST(test_netback_hostile_tx),
	   UNIT_TEST(test_netback_hostile_rx))
