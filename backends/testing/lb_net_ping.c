/*
 * keel-backend-loopback net-ping: netback with a REAL TAP device on a REAL
 * Linux bridge, and a test netfront over the LOOPBACK TEST TRANSPORT in
 * place of a guest.  The "guest" resolves the host's address with ARP
 * (answering the host's own ARP requests too), sends an ICMP echo request
 * and waits for the host kernel's echo reply to come back through rx.
 * Run it inside a private network namespace (tests/integration/
 * backend-net-tap.sh does): it touches only the bridge it is given.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/bk_loop.h"
#include "../net/netfront_loop.h"
#include "lb.h"

#define LB_GUEST_DOM 9u

static uint16_t lb_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void lb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An ARP request (oper 1) or reply (oper 2), padded to the Ethernet minimum. */
static int lb_send_arp(struct lb_ping *g, uint16_t oper, const uint8_t *dst_mac, uint32_t target_ip)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t f[60] = {0};

	memcpy(f, oper == 1 ? bcast : dst_mac, 6);
	memcpy(f + 6, g->mac, 6);
	lb_put16(f + 12, 0x0806);
	lb_put16(f + 14, 1);
	lb_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	lb_put16(f + 20, oper);
	memcpy(f + 22, g->mac, 6);
	memcpy(f + 28, &g->guest_ip, 4);
	if (oper == 2)
		memcpy(f + 32, dst_mac, 6);
	memcpy(f + 38, &target_ip, 4);
	return netfront_loop_send(&g->nf, f, sizeof(f), 4096, 0, 0, NULL);
}

static int lb_send_echo(struct lb_ping *g, uint16_t id, uint16_t seq)
{
	uint8_t f[14 + 20 + 8 + 56] = {0};
	uint8_t *ip = f + 14, *icmp = ip + 20;

	memcpy(f, g->host_mac, 6);
	memcpy(f + 6, g->mac, 6);
	lb_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	lb_put16(ip + 2, 20 + 8 + 56);
	lb_put16(ip + 4, seq);
	lb_put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, &g->guest_ip, 4);
	memcpy(ip + 16, &g->host_ip, 4);
	lb_put16(ip + 10, lb_csum(ip, 20));
	icmp[0] = 8;
	lb_put16(icmp + 4, id);
	lb_put16(icmp + 6, seq);
	for (int i = 0; i < 56; i++)
		icmp[8 + i] = (uint8_t)(0x20 + i);
	lb_put16(icmp + 2, lb_csum(icmp, 8 + 56));
	return netfront_loop_send(&g->nf, f, sizeof(f), 4096, 0, 0, NULL);
}

/* Look at one received frame; returns 1 for the echo reply we wait for. */
static int lb_handle_frame(struct lb_ping *g, const uint8_t *f, int len, uint16_t id, uint16_t seq)
{
	unsigned type;

	if (len < 42)
		return 0;
	type = (unsigned)f[12] << 8 | f[13];
	if (type == 0x0806) {
		unsigned oper = (unsigned)f[20] << 8 | f[21];

		if (oper == 1 && !memcmp(f + 38, &g->guest_ip, 4)) {
			lb_send_arp(g, 2, f + 22, *(const uint32_t *)(f + 28));
			printf("net-ping: answered the host's ARP request\n");
		} else if (oper == 2 && !memcmp(f + 28, &g->host_ip, 4)) {
			memcpy(g->host_mac, f + 22, 6);
			g->have_host_mac = true;
			printf("net-ping: host %s is at %02x:%02x:%02x:%02x:%02x:%02x\n",
			       inet_ntoa(*(const struct in_addr *)&g->host_ip), f[22], f[23], f[24],
			       f[25], f[26], f[27]);
		}
		return 0;
	}
	if (type == 0x0800 && len >= 14 + 20 + 8 && f[23] == 1) {
		const uint8_t *icmp = f + 14 + (f[14] & 0xf) * 4;

		if (icmp + 8 <= f + len && icmp[0] == 0 && !memcmp(f + 26, &g->host_ip, 4) &&
		    ((unsigned)icmp[4] << 8 | icmp[5]) == id &&
		    ((unsigned)icmp[6] << 8 | icmp[7]) == seq)
			return 1;
	}
	return 0;
}

static int lb_parse_mac(const char *s, uint8_t *mac)
{
	unsigned b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int lb_ping_parse(int argc, char **argv, struct lb_ping *g)
{
	const char *mac = lb_opt(argc, argv, "--mac", "00:16:3e:5a:00:01");

	if (inet_pton(AF_INET, lb_opt(argc, argv, "--host-ip", ""), &g->host_ip) != 1 ||
	    inet_pton(AF_INET, lb_opt(argc, argv, "--guest-ip", ""), &g->guest_ip) != 1 ||
	    lb_parse_mac(mac, g->mac))
		return -EINVAL;
	return 0;
}

void lb_print_master(const char *ifname)
{
	char link[128], target[128];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/net/%s/master", ifname);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	printf("net-ping: %s is a port of %s\n", ifname,
	       n > 0 && strrchr(target, '/') ? strrchr(target, '/') + 1 : "(none)");
}

/* ARP for the host, then @count echo requests; returns the replies received. */
int lb_ping_exchange(struct lb_ping *g, int count)
{
	static uint8_t frame[70000];
	int replies = 0;

	for (uint16_t seq = 1; seq <= count; seq++) {
		time_t deadline = time(NULL) + 5;
		int n;

		while (!g->have_host_mac && time(NULL) < deadline) {
			lb_send_arp(g, 1, NULL, g->host_ip);
			n = netfront_loop_recv(&g->nf, frame, sizeof(frame), NULL, 500);
			if (n > 0)
				lb_handle_frame(g, frame, n, 0, 0);
		}
		if (!g->have_host_mac)
			break;
		lb_send_echo(g, 0x4b45, seq);
		while (time(NULL) < deadline) {
			n = netfront_loop_recv(&g->nf, frame, sizeof(frame), NULL, 500);
			if (n > 0 && lb_handle_frame(g, frame, n, 0x4b45, seq)) {
				printf("net-ping: echo reply seq=%u from the host kernel\n", seq);
				replies++;
				break;
			}
		}
	}
	return replies;
}

int lb_cmd_net_ping(int argc, char **argv)
{
	const char *bridge = lb_opt(argc, argv, "--bridge", NULL);
	struct net_vif_params p = {0};
	struct bk_transport tp;
	struct bk_loop *loop;
	struct net_vif *vif;
	struct lb_ping g = {0};
	struct net_stats st;
	int tap, err, replies;
	char ifname[16];

	if (!bridge || lb_ping_parse(argc, argv, &g)) {
		fprintf(stderr, "usage: net-ping --bridge BR --host-ip A --guest-ip B [--mac M]\n");
		return 2;
	}
	printf("net-ping: LOOPBACK TEST TRANSPORT frontend (not a guest), real TAP + bridge\n");
	snprintf(ifname, sizeof(ifname), "vif%u.0", LB_GUEST_DOM);
	if ((err = net_tap_open(ifname, 1500, true, &tap)) ||
	    (err = net_tap_set_offload(tap, true)) || (err = net_bridge_add(bridge, ifname))) {
		fprintf(stderr, "net-ping: %s on %s: %s\n", ifname, bridge, strerror(-err));
		return 1;
	}
	if ((err = bk_loop_create(0, &loop)) ||
	    (err = bk_loop_add_domain(loop, LB_GUEST_DOM, 1024, 1024)) ||
	    (err = netfront_loop_init(&g.nf, loop, LB_GUEST_DOM, 0))) {
		fprintf(stderr, "net-ping: loopback: %s\n", strerror(-err));
		return 1;
	}
	lb_print_master(ifname);
	bk_loop_transport(loop, &tp);
	netfront_loop_params(&g.nf, &p);
	p.tp = &tp;
	p.port_fd = tap;
	p.frontend_sg = true;
	p.frontend_csum = true;
	if ((err = net_vif_connect(&p, &vif)) || (err = netfront_loop_post_rx(&g.nf, 200))) {
		fprintf(stderr, "net-ping: connect: %s\n", strerror(-err));
		return 1;
	}
	replies = lb_ping_exchange(&g, 3);
	net_vif_stats(vif, &st);
	printf("net-ping: tx %llu frames, rx %llu frames, %llu dropped\n",
	       (unsigned long long)st.tx_packets, (unsigned long long)st.rx_packets,
	       (unsigned long long)st.rx_dropped);
	net_vif_disconnect(vif);
	bk_loop_destroy(loop);
	close(tap);
	printf("net-ping: %d/3 replies\n", replies);
	return replies == 3 ? 0 : 1;
}
