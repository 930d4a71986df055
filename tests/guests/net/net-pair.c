/*
 * net-pair: two domains exchange raw Ethernet frames over the bridge.
 * role=send: frames numbered 1..count= (sizes from 60 to max= bytes,
 * default 1514, up to 9014 for a 9000-byte MTU: frames over a page take
 * several slots both ways, netif's scatter-gather; the payload derived
 * from the number) to peer=<MAC>, each resent until its
 * echo comes back (the peer may still be connecting), and every echo is
 * checked: from the peer, to us, same number, same bytes.  Then a "done"
 * frame.  role=echo: every test frame from the peer to our MAC goes back
 * to it unchanged but for the addresses, until "done".  Other traffic on
 * the bridge (IPv6 neighbour discovery, ...) is ignored.
 */
#include "../../../frontends/netfront/netfront.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "net_pkt.h"

#define PAIR_MAGIC 0x4b45454cu /* "KEEL" */
#define PAIR_DONE  0xffffffffu
#define PAIR_MAX   9014 /* a 9000-byte MTU's frame: three pages, three slots */

static struct netfront nf;
static uint8_t peer[6], txf[PAIR_MAX], rxf[NF_MAX_FRAME];
static unsigned pair_max = NP_MAX_FRAME;

static unsigned pair_size(uint32_t seq)
{
	/* the largest and a page-crossing size come early, then a spread */
	if (seq == 1 || seq == 2)
		return seq == 1 ? pair_max : 4097 < pair_max ? 4097 : 60;
	return 60 + (seq * 97) % (pair_max - 60 + 1);
}

static unsigned pair_build(uint8_t *f, uint32_t seq)
{
	unsigned len = pair_size(seq);

	np_eth(f, peer, nf.mac, NP_ETH_TEST);
	np_put32(f + 14, PAIR_MAGIC);
	np_put32(f + 18, seq);
	for (unsigned i = 22; i < len; i++)
		f[i] = (uint8_t)(seq ^ (i * 31));
	return len;
}

/* A test frame from the peer to us: its number (0 if not one). */
static uint32_t pair_parse(const uint8_t *f, int n)
{
	if (n < 22 || !np_mac_eq(f, nf.mac) || !np_mac_eq(f + 6, peer) ||
	    np_get16(f + 12) != NP_ETH_TEST || np_get32(f + 14) != PAIR_MAGIC)
		return 0;
	return np_get32(f + 18);
}

static void pair_send(long count)
{
	long good = 0, resent = 0, bad = 0;

	for (uint32_t seq = 1; seq <= (uint32_t)count; seq++) {
		unsigned len = pair_build(txf, seq);
		int got = 0;

		for (int tries = 0; tries < 40 && !got; tries++) {
			uint64_t end = rt_now_ns() + 250000000ull;

			resent += tries > 0;
			netfront_send(&nf, txf, len);
			while (!got && rt_now_ns() < end) {
				int n = netfront_recv(&nf, rxf, sizeof(rxf), 50);
				uint32_t s = pair_parse(rxf, n);

				if (!s || s != seq)
					continue;
				got = 1;
				for (unsigned i = 14; i < len; i++)
					if ((unsigned)n != len || rxf[i] != txf[i]) {
						bad++;
						break;
					}
			}
		}
		if (!got)
			break;
		good++;
	}
	rt_check(good == count && !bad, "every frame echoed intact", good);
	if (good == count && !bad)
		rt_printf("net-pair: %ld frames echoed in order (%ld resends)\n", good, resent);
	np_eth(txf, peer, nf.mac, NP_ETH_TEST);
	np_put32(txf + 14, PAIR_MAGIC);
	np_put32(txf + 18, PAIR_DONE);
	for (int i = 0; i < 3; i++)
		netfront_send(&nf, txf, 60);
}

static void pair_echo(long count)
{
	uint64_t end = rt_now_ns() + 50000000000ull;
	long echoed = 0;
	uint32_t last = 0;

	while (rt_now_ns() < end) {
		int n = netfront_recv(&nf, rxf, sizeof(rxf), 100);
		uint32_t s = pair_parse(rxf, n);

		if (!s)
			continue;
		if (s == PAIR_DONE)
			break;
		np_eth(rxf, peer, nf.mac, NP_ETH_TEST);
		netfront_send(&nf, rxf, (unsigned)n);
		echoed += s != last; /* a resend of the last one is not a new frame */
		last = s;
	}
	rt_check(echoed >= count, "echoed every numbered frame", echoed);
	rt_printf("net-pair: echoed %ld frames\n", echoed);
}

void test_main(void)
{
	const char *role = rt_cmdline_arg("role");
	long count = rt_cmdline_num("count"), max = rt_cmdline_num("max");
	int err;

	if (count < 1)
		count = 100;
	if (max >= 60 && max <= PAIR_MAX)
		pair_max = (unsigned)max;
	rt_check(role && np_parse_mac(rt_cmdline_arg("peer"), peer) == 0,
		 "role= and peer= on the command line", 0);
	if (!role || np_parse_mac(rt_cmdline_arg("peer"), peer))
		return;
	rt_check(rt_events_init() == 0, "events", 0);
	err = netfront_init(&nf, 0, 10000);
	rt_check(err == 0, "netfront connected", err);
	if (err)
		return;
	if (role[0] == 's')
		pair_send(count);
	else
		pair_echo(count);
	rt_printf("net-pair: tx %lu rx %lu tx errors %lu rx errors %lu (largest frame %u)\n",
		  nf.stats.tx_packets, nf.stats.rx_packets, nf.stats.tx_errors, nf.stats.rx_errors,
		  pair_max);
	netfront_close(&nf, 5000);
}
