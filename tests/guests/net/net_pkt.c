/*
 * Packet helpers for the in-guest network tests (see net_pkt.h).
 */
#include "net_pkt.h"

const uint8_t np_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int np_mac_eq(const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

uint32_t np_parse_ip(const char *s)
{
	uint32_t ip = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (s && *s >= '0' && *s <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || v > 255 || (part < 3 && *s++ != '.'))
			return 0;
		ip = ip << 8 | v;
	}
	return ip;
}

static int np_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int np_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi, lo;

		if (!s || (hi = np_hex(s[0])) < 0 || (lo = np_hex(s[1])) < 0)
			return -1;
		if (i < 5 && s[2] != ':')
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

uint16_t np_csum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += np_get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

unsigned np_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	for (int i = 0; i < 6; i++) {
		f[i] = dst[i];
		f[6 + i] = src[i];
	}
	np_put16(f + 12, type);
	return NP_ETH_HLEN;
}

unsigned np_arp(uint8_t *f, unsigned op, const uint8_t *src_mac, uint32_t src_ip,
		const uint8_t *dst_mac, uint32_t dst_ip)
{
	static const uint8_t zero[6];
	uint8_t *a = f + np_eth(f, op == 1 ? np_broadcast : dst_mac, src_mac, NP_ETH_ARP);

	np_put16(a, 1); /* Ethernet */
	np_put16(a + 2, NP_ETH_IP);
	a[4] = 6;
	a[5] = 4;
	np_put16(a + 6, (uint16_t)op);
	for (int i = 0; i < 6; i++) {
		a[8 + i] = src_mac[i];
		a[18 + i] = op == 1 ? zero[i] : dst_mac[i];
	}
	np_put32(a + 14, src_ip);
	np_put32(a + 24, dst_ip);
	/* pad to the 60-byte minimum a real NIC would send */
	for (unsigned i = NP_ETH_HLEN + NP_ARP_LEN; i < 60; i++)
		f[i] = 0;
	return 60;
}

unsigned np_icmp_echo(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src_ip,
		      uint32_t dst_ip, uint16_t id, uint16_t seq, const uint8_t *payload,
		      unsigned plen)
{
	uint8_t *ip = f + np_eth(f, dst_mac, src_mac, NP_ETH_IP), *icmp = ip + NP_IP_HLEN;
	unsigned tot = NP_IP_HLEN + NP_ICMP_HLEN + plen;

	ip[0] = 0x45;
	ip[1] = 0;
	np_put16(ip + 2, (uint16_t)tot);
	np_put16(ip + 4, seq);	  /* identification */
	np_put16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	np_put16(ip + 10, 0);
	np_put32(ip + 12, src_ip);
	np_put32(ip + 16, dst_ip);
	np_put16(ip + 10, np_csum(ip, NP_IP_HLEN));
	icmp[0] = 8; /* echo request */
	icmp[1] = 0;
	np_put16(icmp + 2, 0);
	np_put16(icmp + 4, id);
	np_put16(icmp + 6, seq);
	for (unsigned i = 0; i < plen; i++)
		icmp[NP_ICMP_HLEN + i] = payload[i];
	np_put16(icmp + 2, np_csum(icmp, NP_ICMP_HLEN + plen));
	return NP_ETH_HLEN + tot;
}

unsigned np_arp_parse(const uint8_t *f, unsigned len, uint8_t *mac, uint32_t *sip, uint32_t *tip)
{
	const uint8_t *a = f + NP_ETH_HLEN;

	if (len < NP_ETH_HLEN + NP_ARP_LEN || np_get16(f + 12) != NP_ETH_ARP || np_get16(a) != 1 ||
	    np_get16(a + 2) != NP_ETH_IP || a[4] != 6 || a[5] != 4)
		return 0;
	for (int i = 0; i < 6; i++)
		mac[i] = a[8 + i];
	*sip = np_get32(a + 14);
	*tip = np_get32(a + 24);
	return np_get16(a + 6);
}

int np_icmp_reply_parse(const uint8_t *f, unsigned len, uint32_t src_ip, uint32_t dst_ip,
			uint16_t *id, uint16_t *seq, const uint8_t **payload, unsigned *plen)
{
	const uint8_t *ip = f + NP_ETH_HLEN, *icmp;
	unsigned ihl, tot;

	if (len < NP_ETH_HLEN + NP_IP_HLEN || np_get16(f + 12) != NP_ETH_IP || (ip[0] >> 4) != 4)
		return -1;
	ihl = (ip[0] & 0xfu) * 4;
	tot = np_get16(ip + 2);
	if (ihl < NP_IP_HLEN || tot < ihl + NP_ICMP_HLEN || NP_ETH_HLEN + tot > len || ip[9] != 1 ||
	    np_get32(ip + 12) != src_ip || np_get32(ip + 16) != dst_ip || np_csum(ip, ihl) != 0)
		return -1;
	icmp = ip + ihl;
	if (icmp[0] != 0 || icmp[1] != 0 || np_csum(icmp, tot - ihl) != 0)
		return -1;
	*id = np_get16(icmp + 4);
	*seq = np_get16(icmp + 6);
	*payload = icmp + NP_ICMP_HLEN;
	*plen = tot - ihl - NP_ICMP_HLEN;
	return 0;
}

/* The IPv4 header of an ICMP or UDP frame (checksummed); returns where L4 starts. */
static uint8_t *np_ip(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src_ip,
		      uint32_t dst_ip, uint8_t proto, unsigned l4len, uint16_t ident)
{
	uint8_t *ip = f + np_eth(f, dst_mac, src_mac, NP_ETH_IP);

	ip[0] = 0x45;
	ip[1] = 0;
	np_put16(ip + 2, (uint16_t)(NP_IP_HLEN + l4len));
	np_put16(ip + 4, ident);
	np_put16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	np_put16(ip + 10, 0);
	np_put32(ip + 12, src_ip);
	np_put32(ip + 16, dst_ip);
	np_put16(ip + 10, np_csum(ip, NP_IP_HLEN));
	return ip + NP_IP_HLEN;
}

unsigned np_udp(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src_ip,
		uint32_t dst_ip, uint16_t sport, uint16_t dport, const uint8_t *payload,
		unsigned plen, int csum)
{
	unsigned ulen = 8 + plen;
	uint8_t *u = np_ip(f, dst_mac, src_mac, src_ip, dst_ip, 17, ulen, dport);
	uint32_t sum;
	uint16_t c;

	np_put16(u, sport);
	np_put16(u + 2, dport);
	np_put16(u + 4, (uint16_t)ulen);
	np_put16(u + 6, 0);
	for (unsigned i = 0; i < plen; i++)
		u[8 + i] = payload[i];
	/* the pseudo header: addresses, protocol, UDP length */
	sum = (src_ip >> 16) + (src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff) + 17 + ulen;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (csum == NP_CSUM_PARTIAL) {
		np_put16(u + 6, (uint16_t)sum);
	} else {
		/* ones' complement over pseudo header + datagram: seed the field, sum, invert */
		np_put16(u + 6, (uint16_t)sum);
		c = np_csum(u, ulen);
		if (c == 0)
			c = 0xffff;
		np_put16(u + 6, csum == NP_CSUM_BAD ? (uint16_t)(c ^ 0x5a5a) : c);
	}
	return NP_ETH_HLEN + NP_IP_HLEN + ulen;
}

int np_icmp_unreach_parse(const uint8_t *f, unsigned len, uint32_t src_ip, uint32_t dst_ip)
{
	const uint8_t *ip = f + NP_ETH_HLEN, *icmp, *in;
	unsigned ihl, tot, iihl;

	if (len < NP_ETH_HLEN + NP_IP_HLEN || np_get16(f + 12) != NP_ETH_IP || (ip[0] >> 4) != 4)
		return -1;
	ihl = (ip[0] & 0xfu) * 4;
	tot = np_get16(ip + 2);
	if (ihl < NP_IP_HLEN || NP_ETH_HLEN + tot > len || tot < ihl + 8 + NP_IP_HLEN + 8 ||
	    ip[9] != 1 || np_get32(ip + 12) != src_ip || np_get32(ip + 16) != dst_ip ||
	    np_csum(ip, ihl) != 0)
		return -1;
	icmp = ip + ihl;
	if (icmp[0] != 3 || icmp[1] != 3 || np_csum(icmp, tot - ihl) != 0)
		return -1;
	in = icmp + 8;
	iihl = (in[0] & 0xfu) * 4;
	if ((in[0] >> 4) != 4 || iihl < NP_IP_HLEN || tot < ihl + 8 + iihl + 8 || in[9] != 17 ||
	    np_get32(in + 12) != dst_ip || np_get32(in + 16) != src_ip)
		return -1;
	return np_get16(in + iihl + 2);
}
