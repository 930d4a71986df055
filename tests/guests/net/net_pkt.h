/*
 * Just enough Ethernet, ARP, IPv4 and ICMP for the in-guest network tests:
 * build an ARP request or reply, an ICMP echo request, recognise the
 * answers, and the Internet checksum.  Byte order is done by hand (the
 * guests are freestanding); every parser checks lengths before it reads.
 */
#ifndef KEEL_GUEST_NET_PKT_H
#define KEEL_GUEST_NET_PKT_H

#include <stdint.h>

#define NP_ETH_HLEN  14
#define NP_ETH_ARP   0x0806
#define NP_ETH_IP    0x0800
#define NP_ETH_TEST  0x88b5 /* IEEE "local experimental": net-pair's frames */
#define NP_ARP_LEN   28
#define NP_IP_HLEN   20
#define NP_ICMP_HLEN 8
#define NP_MAX_FRAME 1514

extern const uint8_t np_broadcast[6];

static inline void np_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t np_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void np_put32(uint8_t *p, uint32_t v)
{
	np_put16(p, (uint16_t)(v >> 16));
	np_put16(p + 2, (uint16_t)v);
}

static inline uint32_t np_get32(const uint8_t *p)
{
	return (uint32_t)np_get16(p) << 16 | np_get16(p + 2);
}

int np_mac_eq(const uint8_t *a, const uint8_t *b);
/* "a.b.c.d" -> host-order address; 0 if malformed. */
uint32_t np_parse_ip(const char *s);
/* "xx:xx:xx:xx:xx:xx" -> 0, else -1. */
int np_parse_mac(const char *s, uint8_t mac[6]);
uint16_t np_csum(const uint8_t *p, unsigned len);
/* Ethernet header; returns NP_ETH_HLEN. */
unsigned np_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type);
/* ARP frame (op 1 request, 2 reply); returns its length. */
unsigned np_arp(uint8_t *f, unsigned op, const uint8_t *src_mac, uint32_t src_ip,
		const uint8_t *dst_mac, uint32_t dst_ip);
/* ICMP echo request with @plen bytes of payload; returns the frame's length. */
unsigned np_icmp_echo(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src_ip,
		      uint32_t dst_ip, uint16_t id, uint16_t seq, const uint8_t *payload,
		      unsigned plen);
/*
 * UDP datagram in IPv4; its checksum per @csum: NP_CSUM_FULL, NP_CSUM_PARTIAL
 * (only the pseudo-header sum, for NETTXF_csum_blank: whoever sends it on
 * completes it) or NP_CSUM_BAD (a wrong one).  Returns the frame's length.
 */
#define NP_CSUM_FULL	0
#define NP_CSUM_PARTIAL 1
#define NP_CSUM_BAD	2
unsigned np_udp(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src_ip,
		uint32_t dst_ip, uint16_t sport, uint16_t dport, const uint8_t *payload,
		unsigned plen, int csum);
/*
 * An ICMP port-unreachable from @src_ip to @dst_ip (checksums verified)
 * quoting a UDP datagram: the quoted datagram's destination port, else -1.
 */
int np_icmp_unreach_parse(const uint8_t *f, unsigned len, uint32_t src_ip, uint32_t dst_ip);
/* An ARP frame: its op, sender MAC (into @mac) and IPs; 0 if not ARP/IPv4. */
unsigned np_arp_parse(const uint8_t *f, unsigned len, uint8_t *mac, uint32_t *sip, uint32_t *tip);
/*
 * An ICMP echo reply from @src_ip to @dst_ip with checksums that verify:
 * its id, seq, payload (pointer into @f) and payload length; -1 otherwise.
 */
int np_icmp_reply_parse(const uint8_t *f, unsigned len, uint32_t src_ip, uint32_t dst_ip,
			uint16_t *id, uint16_t *seq, const uint8_t **payload, unsigned *plen);

#endif
