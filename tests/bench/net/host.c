/*
 * keel-bench-net: the host baselines of tests/bench/net, measured the way
 * the guest figures are.
 *   blast IFNAME COUNT SIZE   COUNT Ethernet frames of SIZE bytes sent on
 *                             IFNAME through an AF_PACKET socket as fast as
 *                             the kernel takes them (the host side of a veth
 *                             pair); prints frames=, bytes=, ns=, drops=.
 *   ping ADDR COUNT           COUNT ICMP echo requests to ADDR, one at a
 *                             time, each reply checked (id, sequence,
 *                             payload); prints min/avg round trip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t hb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int hb_blast(const char *ifname, unsigned long count, unsigned long size)
{
	struct sockaddr_ll sll = {0};
	unsigned char frame[1514];
	unsigned long sent = 0, drops = 0;
	uint64_t t0;
	int s;

	if (size < 60 || size > sizeof(frame) || !count)
		return 2;
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0) {
		perror("keel-bench-net: AF_PACKET socket");
		return 1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_halen = 6;
	if (!sll.sll_ifindex) {
		fprintf(stderr, "keel-bench-net: no interface %s\n", ifname);
		return 1;
	}
	/* to a unicast address nobody has, from a locally administered one */
	memcpy(frame, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
	for (unsigned long i = 14; i < size; i++)
		frame[i] = (unsigned char)i;
	t0 = hb_now_ns();
	while (sent < count) {
		if (sendto(s, frame, size, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("keel-bench-net: sendto");
				return 1;
			}
			drops++;
			continue;
		}
		sent++;
	}
	printf("frames=%lu bytes=%lu ns=%llu drops=%lu\n", sent, sent * size,
	       (unsigned long long)(hb_now_ns() - t0), drops);
	close(s);
	return 0;
}

static uint16_t hb_csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (; len > 1; b += 2, len -= 2)
		sum += (uint32_t)(b[0] << 8 | b[1]);
	if (len)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int hb_ping(const char *addr, unsigned long count)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint64_t sum = 0, min = UINT64_MAX;
	unsigned long good = 0;
	int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (s < 0 || inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		perror("keel-bench-net: ICMP socket");
		return 1;
	}
	for (unsigned long seq = 1; seq <= count; seq++) {
		unsigned char req[64], rsp[1500];
		struct icmphdr *h = (struct icmphdr *)req;
		uint64_t t0, end;

		memset(req, 0, sizeof(req));
		h->type = ICMP_ECHO;
		h->un.echo.id = htons(0x4b32);
		h->un.echo.sequence = htons((uint16_t)seq);
		for (size_t i = sizeof(*h); i < sizeof(req); i++)
			req[i] = (unsigned char)(seq * 7 + i);
		h->checksum = hb_csum(req, sizeof(req));
		t0 = hb_now_ns();
		if (sendto(s, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("keel-bench-net: sendto");
			return 1;
		}
		end = t0 + 1000000000ull;
		for (;;) {
			struct pollfd p = {s, POLLIN, 0};
			uint64_t now = hb_now_ns();
			ssize_t n;
			size_t ihl;
			const struct icmphdr *r;

			if (now >= end || poll(&p, 1, (int)((end - now) / 1000000 + 1)) <= 0)
				break;
			n = recv(s, rsp, sizeof(rsp), 0);
			if (n < 20)
				continue;
			ihl = (size_t)(rsp[0] & 0xf) * 4;
			r = (const struct icmphdr *)(rsp + ihl);
			if ((size_t)n != ihl + sizeof(req) || r->type != ICMP_ECHOREPLY ||
			    r->un.echo.id != htons(0x4b32) ||
			    r->un.echo.sequence != htons((uint16_t)seq) ||
			    memcmp(rsp + ihl + sizeof(*h), req + sizeof(*h),
				   sizeof(req) - sizeof(*h)))
				continue;
			now = hb_now_ns() - t0;
			sum += now;
			min = now < min ? now : min;
			good++;
			break;
		}
	}
	close(s);
	if (!good) {
		fprintf(stderr, "keel-bench-net: no replies from %s\n", addr);
		return 1;
	}
	printf("replies=%lu min_ns=%llu avg_ns=%llu\n", good, (unsigned long long)min,
	       (unsigned long long)(sum / good));
	return good == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "blast"))
		return hb_blast(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "ping"))
		return hb_ping(argv[2], strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: keel-bench-net blast IFNAME COUNT SIZE | ping ADDR COUNT\n");
	return 2;
}
