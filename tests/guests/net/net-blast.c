/*
 * net-blast: the guest half of tests/bench/net.  count= Ethernet frames of
 * size= bytes (default 20000 x 1514) sent through netfront to a unicast
 * address nobody on the bridge has, as fast as the tx ring and keel-netback
 * take them, published batch= frames at a time (default 1: one push, and
 * a notification when the backend asks for one, per frame); the clock stops when the last tx response is in (every frame
 * written to the TAP).  Prints frames=, bytes=, ns= and the error count.
 */
#include "../../../frontends/netfront/netfront.h"
#include "../../../frontends/runtime/keel_guest.h"
#include "net_pkt.h"

static struct netfront nf;
static uint8_t frame[NP_MAX_FRAME];

void test_main(void)
{
	static const uint8_t nobody[6] = {0x02, 0, 0, 0, 0, 0x01};
	long count = rt_cmdline_num("count"), size = rt_cmdline_num("size");
	long batch = rt_cmdline_num("batch");
	uint64_t t0, ns;
	long sent = 0;
	int err;

	if (count < 1)
		count = 20000;
	if (size < 60 || size > NP_MAX_FRAME)
		size = NP_MAX_FRAME;
	if (batch < 1 || batch > NF_TX_BUFS)
		batch = 1;
	rt_check(rt_events_init() == 0, "events", 0);
	err = netfront_init(&nf, 0, 10000);
	rt_check(err == 0, "netfront connected", err);
	if (err)
		return;
	np_eth(frame, nobody, nf.mac, NP_ETH_TEST);
	for (long i = NP_ETH_HLEN; i < size; i++)
		frame[i] = (uint8_t)i;
	t0 = rt_now_ns();
	for (; sent < count; sent++) {
		if (netfront_queue(&nf, frame, (unsigned)size))
			break;
		if (sent % batch == batch - 1)
			netfront_push(&nf);
	}
	netfront_push(&nf);
	/* every slot back: the backend has written every frame to the TAP */
	while (nf.tx_nfree < NF_TX_BUFS && rt_now_ns() - t0 < 30000000000ull) {
		netfront_tx_reap(&nf);
		if (nf.tx_nfree < NF_TX_BUFS && !netif_tx_front_final_check(&nf.tx))
			netfront_wait(&nf, 10);
	}
	ns = rt_now_ns() - t0;
	rt_check(sent == count && nf.tx_nfree == NF_TX_BUFS, "every frame sent and completed",
		 sent);
	rt_check(nf.stats.tx_errors == 0, "no tx errors", (long)nf.stats.tx_errors);
	rt_printf("net-blast: frames=%ld bytes=%ld ns=%lu errors=%lu\n", sent, sent * size, ns,
		  nf.stats.tx_errors);
	netfront_close(&nf, 5000);
}
