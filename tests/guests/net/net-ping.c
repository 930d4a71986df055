/*
 * net-ping: netfront against keel-netback over a real bridge.  The guest
 * (ip=, host= on its command line) asks for the host's MAC with ARP,
 * answers the host's own ARP requests for its address, then sends
 * count= ICMP echo requests with a payload derived from the sequence number
 * (and one frame of size= bytes, default 1400) and checks every reply the
 * host's Linux IP stack sends back: addresses, checksums, id, sequence and
 * payload.  With rtt=1 it also prints round-trip times for the benchmark.
 * With csum=1 the vif runs with checksum offload and UDP probes to a closed
 * port of the host show NETTXF_csum_blank at work: a datagram carrying only
 * its pseudo-header sum is answered (ICMP port unreachable) when flagged,
 * and dropped by the host's UDP checksum check when not.  With attach=1 it
 * boots without a vif and waits for `xl network-attach`; with detach=1 it
 * ends by waiting for `xl network-detach` (the backend closing first).
 */
#include "../../../frontends/netfront/netfront.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/xenbus.h"
#include "net_pkt.h"

static uint8_t frame[NP_MAX_FRAME + 64], rxf[NF_MAX_FRAME];

struct np_ctx {
	struct netfront nf;
	uint32_t ip, host_ip;
	uint8_t host_mac[6];
	unsigned arp_answered;
};

static struct np_ctx ctx;

/* Answer an ARP request for our address (the host asks before it replies). */
static int np_handle_arp(struct np_ctx *c, const uint8_t *f, unsigned len, int *learned)
{
	uint8_t mac[6];
	uint32_t sip, tip;
	unsigned op = np_arp_parse(f, len, mac, &sip, &tip);

	if (!op)
		return 0;
	if (op == 1 && tip == c->ip) {
		netfront_send(&c->nf, frame, np_arp(frame, 2, c->nf.mac, c->ip, mac, sip));
		c->arp_answered++;
	}
	if (sip == c->host_ip && learned) {
		rt_memcpy(c->host_mac, mac, 6);
		*learned = 1;
	}
	return 1;
}

static int np_resolve(struct np_ctx *c)
{
	for (int tries = 0; tries < 20; tries++) {
		uint64_t end = rt_now_ns() + 250000000ull;
		int learned = 0;

		netfront_send(&c->nf, frame,
			      np_arp(frame, 1, c->nf.mac, c->ip, np_broadcast, c->host_ip));
		while (!learned && rt_now_ns() < end) {
			int n = netfront_recv(&c->nf, rxf, sizeof(rxf), 50);

			if (n > 0)
				np_handle_arp(c, rxf, (unsigned)n, &learned);
		}
		if (learned)
			return 0;
	}
	return -1;
}

static void np_payload(uint8_t *p, unsigned len, uint16_t seq)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i * 13 + (i >> 8));
}

/* One echo; returns the round trip in ns, or 0 if no good reply came. */
static uint64_t np_echo(struct np_ctx *c, uint16_t seq, unsigned plen, int *bad)
{
	static uint8_t want[NP_MAX_FRAME];
	uint64_t t0, end;

	np_payload(want, plen, seq);
	t0 = rt_now_ns();
	netfront_send(&c->nf, frame,
		      np_icmp_echo(frame, c->host_mac, c->nf.mac, c->ip, c->host_ip, 0x4b31, seq,
				   want, plen));
	end = t0 + 2000000000ull;
	while (rt_now_ns() < end) {
		const uint8_t *pl;
		unsigned got;
		uint16_t id, s;
		int n = netfront_recv(&c->nf, rxf, sizeof(rxf), 100);

		if (n <= 0 || np_handle_arp(c, rxf, (unsigned)n, NULL))
			continue;
		if (np_icmp_reply_parse(rxf, (unsigned)n, c->host_ip, c->ip, &id, &s, &pl, &got) ||
		    id != 0x4b31 || s != seq)
			continue;
		for (unsigned i = 0; i < plen; i++)
			if (got != plen || pl[i] != want[i]) {
				(*bad)++;
				return 0;
			}
		return rt_now_ns() - t0;
	}
	return 0;
}

/*
 * A UDP datagram to a closed port of the host: its kernel answers with ICMP
 * port unreachable only if the UDP checksum verifies.  1 if it answered.
 */
static int np_udp_probe(struct np_ctx *c, uint16_t dport, int csum, uint16_t txflags)
{
	static const uint8_t msg[] = "keel netfront checksum offload probe";
	uint64_t end;

	netfront_queue_flags(&c->nf, frame,
			     np_udp(frame, c->host_mac, c->nf.mac, c->ip, c->host_ip, 40000, dport,
				    msg, sizeof(msg), csum),
			     txflags);
	netfront_push(&c->nf);
	end = rt_now_ns() + 700000000ull;
	while (rt_now_ns() < end) {
		int n = netfront_recv(&c->nf, rxf, sizeof(rxf), 50);

		if (n <= 0 || np_handle_arp(c, rxf, (unsigned)n, NULL))
			continue;
		if (np_icmp_unreach_parse(rxf, (unsigned)n, c->host_ip, c->ip) == dport)
			return 1;
	}
	return 0;
}

static void np_csum_checks(struct np_ctx *c)
{
	rt_check(np_udp_probe(c, 33434, NP_CSUM_FULL, 0),
		 "UDP with a full checksum: the host answers (port unreachable)", 0);
	rt_check(!np_udp_probe(c, 33435, NP_CSUM_PARTIAL, 0),
		 "UDP with only the pseudo-header sum, no flag: the host drops it", 0);
	rt_check(np_udp_probe(c, 33436, NP_CSUM_PARTIAL, NETTXF_csum_blank),
		 "UDP with NETTXF_csum_blank: completed on the way, the host answers", 0);
}

/* attach=1: no vif at boot; wait for the toolstack's network-attach. */
static int np_wait_attach(void)
{
	uint64_t end = rt_now_ns() + 30000000000ull;
	char buf[64];
	int r = xb_watch("device", "np-attach");

	rt_printf("net-ping: waiting for a vif\n");
	while (r >= 0 && rt_now_ns() < end) {
		if (xb_read("device/vif/0/backend", buf, sizeof(buf)) >= 0 &&
		    xb_read("device/vif/0/mac", buf, sizeof(buf)) >= 0)
			break;
		xb_wait_watch("np-attach", 0, 0, end - rt_now_ns());
	}
	xb_unwatch("device", "np-attach");
	return r < 0 ? r : rt_now_ns() < end ? 0 : -XEN_ETIME;
}

void test_main(void)
{
	struct np_ctx *c = &ctx;
	long count = rt_cmdline_num("count"), size = rt_cmdline_num("size");
	int rtt = rt_cmdline_num("rtt") == 1, csum = rt_cmdline_num("csum") == 1;
	int attach = rt_cmdline_num("attach") == 1, detach = rt_cmdline_num("detach") == 1;
	int err, bad = 0, good = 0;
	uint64_t sum = 0, min = ~0ull, max = 0;

	if (count < 1)
		count = 4;
	if (size < 0 || size > NP_MAX_FRAME - NP_ETH_HLEN - NP_IP_HLEN - NP_ICMP_HLEN)
		size = 1400;
	c->ip = np_parse_ip(rt_cmdline_arg("ip"));
	c->host_ip = np_parse_ip(rt_cmdline_arg("host"));
	rt_check(c->ip && c->host_ip, "ip= and host= on the command line", c->ip);
	if (!c->ip || !c->host_ip)
		return;
	rt_check(rt_events_init() == 0, "events", 0);
	if (attach) {
		err = np_wait_attach();
		rt_check(err == 0, "a vif was attached while we ran", err);
		if (err)
			return;
	}
	err = netfront_init_opts(&c->nf, 0, 10000, csum ? NF_OPT_CSUM_OFFLOAD : 0);
	rt_check(err == 0, "netfront connected", err);
	if (err)
		return;
	rt_printf("net-ping: mac %x:%x:%x:%x:%x:%x backend %s\n", c->nf.mac[0], c->nf.mac[1],
		  c->nf.mac[2], c->nf.mac[3], c->nf.mac[4], c->nf.mac[5], c->nf.be_path);
	rt_check(np_resolve(c) == 0, "ARP: the host's MAC on the bridge", c->host_mac[5]);
	for (long i = 0; i < count; i++) {
		uint64_t ns = np_echo(c, (uint16_t)(i + 1), 56, &bad);

		if (!ns)
			continue;
		good++;
		sum += ns;
		min = ns < min ? ns : min;
		max = ns > max ? ns : max;
		if (rtt)
			rt_printf("net-ping: rtt seq=%ld %lu ns\n", i + 1, ns);
	}
	rt_check(good == count && !bad, "echo replies from the host's IP stack, payload intact",
		 good);
	if (good) {
		rt_printf("net-ping: %d replies, rtt min %lu avg %lu max %lu us\n", good,
			  min / 1000, sum / good / 1000, max / 1000);
		rt_printf("net-ping: replies=%d min_ns=%lu avg_ns=%lu\n", good, min, sum / good);
	}
	rt_check(np_echo(c, 0x7fff, (unsigned)size, &bad) != 0 && !bad,
		 "a large echo (size= bytes of payload) intact", size);
	if (csum)
		np_csum_checks(c);
	rt_printf("net-ping: tx %lu frames, rx %lu frames, tx errors %lu, arp answered %u\n",
		  c->nf.stats.tx_packets, c->nf.stats.rx_packets, c->nf.stats.tx_errors,
		  c->arp_answered);
	if (detach) {
		/* the toolstack's network-detach: the backend closes first */
		rt_printf("net-ping: waiting for detach\n");
		err = xb_wait_state(c->nf.be_path,
				    1u << XenbusStateClosing | 1u << XenbusStateClosed |
					    1u << XenbusStateUnknown,
				    30000000000ull);
		rt_check(err == XenbusStateClosing || err == XenbusStateClosed,
			 "network-detach: the backend is closing", err);
		netfront_close(&c->nf, 5000);
		return;
	}
	netfront_close(&c->nf, 5000);
	rt_check(netfront_backend_state(&c->nf) == 6, "backend Closed after our close",
		 netfront_backend_state(&c->nf));
}
