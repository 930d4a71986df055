/*
 * Unit tests for Keel's shared ABI headers (include/abi/).  Every header that
 * exists is included, so its static layout checks are compiled here even when
 * nothing else uses it yet; the ring functions of abi/ring.h are exercised for
 * real: a frontend and a backend share one page, requests and responses flow
 * through it across index wraparound, and the event-index notification rules
 * are checked step by step.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "abi/event_channel.h"
#include "abi/grant_table.h"
#include "abi/ring.h"
#include "abi/blkif.h"
#include "abi/netif.h"
#include "abi/console.h"
#include "abi/xenbus.h"
/* Headers other parts of the tree own; included when present. */
#if __has_include("abi/xen.h")
#include "abi/xen.h"
#endif
#if __has_include("abi/arch-x86_64.h")
#include "abi/arch-x86_64.h"
#endif
#if __has_include("abi/shared_info.h")
#include "abi/shared_info.h"
#endif
#if __has_include("abi/elfnote.h")
#include "abi/elfnote.h"
#endif
#if __has_include("abi/xs_wire.h")
#include "abi/xs_wire.h"
#endif

#define ABI_PAGE 4096

static void *abi_page_alloc(void)
{
	void *p = NULL;

	CU_ASSERT_FATAL(posix_memalign(&p, ABI_PAGE, ABI_PAGE) == 0);
	memset(p, 0xa5, ABI_PAGE); /* garbage: init must not rely on zeroed memory */
	return p;
}

static void abi_test_entry_counts(void)
{
	CU_ASSERT_EQUAL(blkif_ring_nr_ents(ABI_PAGE), 32);
	CU_ASSERT_EQUAL(netif_tx_ring_nr_ents(ABI_PAGE), 256);
	CU_ASSERT_EQUAL(netif_rx_ring_nr_ents(ABI_PAGE), 256);
	/* Multi-page rings (ring-page-order): 2 pages of blkif hold 64. */
	CU_ASSERT_EQUAL(blkif_ring_nr_ents(2 * ABI_PAGE), 64);
	CU_ASSERT_EQUAL(blkif_ring_nr_ents(64), 0);
	CU_ASSERT_EQUAL(ring_round_down_pow2(0), 0);
	CU_ASSERT_EQUAL(ring_round_down_pow2(1), 1);
	CU_ASSERT_EQUAL(ring_round_down_pow2(36), 32);
	CU_ASSERT_EQUAL(ring_round_down_pow2(0xffffffffu), 0x80000000u);
	CU_ASSERT_EQUAL(sizeof(struct blkif_sring), 64);
	CU_ASSERT_EQUAL(offsetof(struct blkif_sring, ring), 64);
	CU_ASSERT_EQUAL(sizeof(union blkif_sring_entry), 112);
	/* The entries really fit: the last one ends inside the page. */
	CU_ASSERT(64 + 32 * sizeof(union blkif_sring_entry) <= ABI_PAGE);
	CU_ASSERT(64 + 256 * sizeof(union netif_tx_sring_entry) <= ABI_PAGE);
}

static void abi_test_sring_init(void)
{
	struct blkif_sring *s = abi_page_alloc();
	struct blkif_front_ring fr;

	blkif_sring_init(s);
	CU_ASSERT_EQUAL(s->req_prod, 0);
	CU_ASSERT_EQUAL(s->rsp_prod, 0);
	CU_ASSERT_EQUAL(s->req_event, 1);
	CU_ASSERT_EQUAL(s->rsp_event, 1);
	for (size_t i = 0; i < sizeof(s->pad); i++)
		CU_ASSERT_EQUAL(s->pad[i], 0);
	blkif_front_init(&fr, s, ABI_PAGE);
	CU_ASSERT_EQUAL(blkif_front_free_requests(&fr), 32);
	CU_ASSERT_FALSE(blkif_front_full(&fr));
	free(s);
}

/*
 * Push @n requests from the front, consume them at the back and answer each,
 * checking ids and slot reuse.  Returns nothing; asserts along the way.
 */
static void abi_blk_round(struct blkif_front_ring *fr, struct blkif_back_ring *br, unsigned n,
			  uint64_t *next_id)
{
	uint64_t first = *next_id;

	for (unsigned i = 0; i < n; i++) {
		struct blkif_request *req = blkif_front_request(fr, fr->req_prod_pvt++);

		req->operation = BLKIF_OP_READ;
		req->nr_segments = 1;
		req->id = (*next_id)++;
		req->sector_number = req->id * 8;
	}
	blkif_front_push(fr);

	unsigned seen = 0;
	while (blkif_back_unconsumed_requests(br)) {
		struct blkif_request req;
		struct blkif_response *rsp;

		CU_ASSERT_FALSE(blkif_back_cons_overflow(br, br->req_cons));
		blkif_back_copy_request(br, br->req_cons++, &req);
		CU_ASSERT_EQUAL(req.id, first + seen);
		CU_ASSERT_EQUAL(req.sector_number, req.id * 8);
		rsp = blkif_back_response(br, br->rsp_prod_pvt++);
		rsp->id = req.id;
		rsp->operation = req.operation;
		rsp->status = BLKIF_RSP_OKAY;
		seen++;
	}
	CU_ASSERT_EQUAL(seen, n);
	blkif_back_push(br);

	seen = 0;
	while (blkif_front_unconsumed_responses(fr)) {
		struct blkif_response rsp;

		blkif_front_copy_response(fr, fr->rsp_cons++, &rsp);
		CU_ASSERT_EQUAL(rsp.id, first + seen);
		CU_ASSERT_EQUAL(rsp.status, BLKIF_RSP_OKAY);
		seen++;
	}
	CU_ASSERT_EQUAL(seen, n);
	CU_ASSERT_EQUAL(blkif_front_free_requests(fr), fr->nr_ents);
}

static void abi_test_ring_wraparound(void)
{
	struct blkif_sring *s = abi_page_alloc();
	struct blkif_front_ring fr;
	struct blkif_back_ring br;
	uint64_t id = 1;

	/* Start just below 2^32 so the free-running indices wrap during the test. */
	blkif_sring_init(s);
	s->req_prod = s->rsp_prod = 0xfffffff0u;
	blkif_front_attach(&fr, s, 0xfffffff0u, ABI_PAGE);
	blkif_back_attach(&br, s, 0xfffffff0u, ABI_PAGE);
	for (int round = 0; round < 20; round++)
		abi_blk_round(&fr, &br, 1 + (round * 7) % 32, &id);
	CU_ASSERT(fr.req_prod_pvt < 0x1000); /* wrapped past zero */
	CU_ASSERT_EQUAL(s->req_prod, fr.req_prod_pvt);
	CU_ASSERT_EQUAL(s->rsp_prod, br.rsp_prod_pvt);

	/* Fill the ring: the frontend sees it full, the backend sees exactly 32. */
	for (unsigned i = 0; i < 32; i++)
		blkif_front_request(&fr, fr.req_prod_pvt++)->id = i;
	CU_ASSERT_TRUE(blkif_front_full(&fr));
	blkif_front_push(&fr);
	CU_ASSERT_EQUAL(blkif_back_unconsumed_requests(&br), 32);
	free(s);
}

static void abi_test_notify_requests(void)
{
	struct netif_tx_sring *s = abi_page_alloc();
	struct netif_tx_front_ring fr;
	struct netif_tx_back_ring br;

	netif_tx_sring_init(s);
	netif_tx_front_init(&fr, s, ABI_PAGE);
	netif_tx_back_init(&br, s, ABI_PAGE);

	/* req_event starts at 1: the first request notifies. */
	fr.req_prod_pvt++;
	CU_ASSERT_TRUE(netif_tx_front_push_check_notify(&fr));
	/* The backend has not re-armed: the next ones do not. */
	fr.req_prod_pvt += 3;
	CU_ASSERT_FALSE(netif_tx_front_push_check_notify(&fr));

	/* The backend consumes all 4, re-arms, and finds nothing more. */
	CU_ASSERT_EQUAL(netif_tx_back_unconsumed_requests(&br), 4);
	br.req_cons += 4;
	br.rsp_prod_pvt += 4;
	CU_ASSERT_EQUAL(netif_tx_back_final_check(&br), 0);
	CU_ASSERT_EQUAL(s->req_event, 5);
	/* Now a push that crosses req_event notifies again. */
	fr.req_prod_pvt += 2;
	CU_ASSERT_TRUE(netif_tx_front_push_check_notify(&fr));

	/* final_check with work pending reports it and leaves req_event alone. */
	CU_ASSERT_EQUAL(netif_tx_back_final_check(&br), 2);
	CU_ASSERT_EQUAL(s->req_event, 5);

	/* An event index in the past does not notify; one far ahead does not either. */
	br.req_cons += 2;
	br.rsp_prod_pvt += 2;
	s->req_event = 100;
	fr.req_prod_pvt += 1;
	CU_ASSERT_FALSE(netif_tx_front_push_check_notify(&fr));

	/* Wraparound: the event index just past 2^32. */
	netif_tx_sring_init(s);
	s->req_prod = 0xfffffffeu;
	netif_tx_front_attach(&fr, s, 0xfffffffeu, ABI_PAGE);
	s->req_event = 0x00000001u;
	fr.req_prod_pvt += 3; /* old 0xfffffffe, new 1: event 1 is in (old, new] */
	CU_ASSERT_TRUE(netif_tx_front_push_check_notify(&fr));
	free(s);
}

static void abi_test_notify_responses(void)
{
	struct netif_rx_sring *s = abi_page_alloc();
	struct netif_rx_front_ring fr;
	struct netif_rx_back_ring br;

	netif_rx_sring_init(s);
	netif_rx_front_init(&fr, s, ABI_PAGE);
	netif_rx_back_init(&br, s, ABI_PAGE);
	fr.req_prod_pvt += 8;
	netif_rx_front_push(&fr);
	br.req_cons += 8;

	br.rsp_prod_pvt += 1;
	CU_ASSERT_TRUE(netif_rx_back_push_check_notify(&br));
	br.rsp_prod_pvt += 1;
	CU_ASSERT_FALSE(netif_rx_back_push_check_notify(&br));
	CU_ASSERT_EQUAL(netif_rx_front_unconsumed_responses(&fr), 2);
	fr.rsp_cons += 2;
	CU_ASSERT_EQUAL(netif_rx_front_final_check(&fr), 0);
	CU_ASSERT_EQUAL(s->rsp_event, 3);
	br.rsp_prod_pvt += 6;
	CU_ASSERT_TRUE(netif_rx_back_push_check_notify(&br));
	CU_ASSERT_EQUAL(netif_rx_front_final_check(&fr), 6);
	free(s);
}

/* A frontend that publishes an impossible req_prod must not make the backend loop. */
static void abi_test_hostile_producer(void)
{
	struct blkif_sring *s = abi_page_alloc();
	struct blkif_back_ring br;
	struct blkif_front_ring fr;

	blkif_sring_init(s);
	blkif_back_init(&br, s, ABI_PAGE);
	blkif_front_init(&fr, s, ABI_PAGE);
	s->req_prod = 1000;
	CU_ASSERT_TRUE(blkif_back_prod_overflow(&br, s->req_prod));
	CU_ASSERT_EQUAL(blkif_back_unconsumed_requests(&br), 32);
	CU_ASSERT_FALSE(blkif_back_prod_overflow(&br, 32));
	CU_ASSERT_TRUE(blkif_back_cons_overflow(&br, 32));
	s->rsp_prod = 33;
	CU_ASSERT_TRUE(blkif_front_prod_overflow(&fr, s->rsp_prod));
	CU_ASSERT_FALSE(blkif_front_prod_overflow(&fr, 32));
	free(s);
}

static void abi_test_misc(void)
{
	struct xencons_interface cons;

	CU_ASSERT_EQUAL(MASK_XENCONS_IDX(1025u, cons.in), 1);
	CU_ASSERT_EQUAL(MASK_XENCONS_IDX(2049u, cons.out), 1);
	CU_ASSERT_STRING_EQUAL(xenbus_state_name(XenbusStateConnected), "Connected");
	CU_ASSERT_STRING_EQUAL(xenbus_state_name(XenbusStateReconfigured), "Reconfigured");
	CU_ASSERT_STRING_EQUAL(xenbus_state_name(9), "Invalid");
	CU_ASSERT_STRING_EQUAL(xenbus_state_name(-1), "Invalid");
	CU_ASSERT_STRING_EQUAL(gnttab_status_name(GNTST_okay), "okay");
	CU_ASSERT_STRING_EQUAL(gnttab_status_name(GNTST_no_space), "no space");
	CU_ASSERT_STRING_EQUAL(gnttab_status_name(-14), "unknown grant status");
	CU_ASSERT_EQUAL(EVTCHN_FIFO_LINK_MASK, 0x1ffff);
	CU_ASSERT_EQUAL(EVTCHN_FIFO_NR_CHANNELS, 131072);
	CU_ASSERT_EQUAL(ABI_PAGE / sizeof(struct grant_entry_v1), 512);
	CU_ASSERT_EQUAL(ABI_PAGE / sizeof(union grant_entry_v2), 256);
}

UNIT_SUITE(abi, NULL, NULL, UNIT_TEST(abi_test_entry_counts), UNIT_TEST(abi_test_sring_init),
	   UNIT_TEST(abi_test_ring_wraparound), UNIT_TEST(abi_test_notify_requests),
	   UNIT_TEST(abi_test_notify_responses), UNIT_TEST(abi_test_hostile_producer),
	   UNIT_TEST(abi_test_misc))
