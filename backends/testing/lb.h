/*
 * keel-backend-loopback: a TEST-ONLY program that runs the real backends
 * against frontends played by threads of this process over the LOOPBACK
 * TEST TRANSPORT.  It exists for the integration tests and the I/O
 * benchmark while keeld offers no grant mapping or event channels to dom0
 * processes; it is never a way to serve a guest.
 */
#ifndef KEEL_LB_H
#define KEEL_LB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../net/netfront_loop.h"

/* The value after option @name in argv, or @def. */
static inline const char *lb_opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

/* The ICMP echo exchange net-ping and xenbus-vif share (lb_net_ping.c). */
struct lb_ping {
	uint8_t mac[6], host_mac[6];
	uint32_t guest_ip, host_ip; /* network order */
	bool have_host_mac;
	struct netfront_loop nf;
};

int lb_ping_parse(int argc, char **argv, struct lb_ping *g);
int lb_ping_exchange(struct lb_ping *g, int count);
void lb_print_master(const char *ifname);

/* A frontend's view of one device in the store (lb_xenbus_vbd.c). */
struct ks_handle;
struct lb_xb {
	struct ks_handle *ks;
	char be[128], fe[128];
	int last_state;
	const char *who; /* prefix of the printed lines */
};
/* Wait until the backend's state reads @want, printing every change. */
int lb_xb_wait(struct lb_xb *v, int want);
int lb_xb_fe_write(struct lb_xb *v, const char *key, unsigned val);
extern volatile int lb_xb_stop;
void *lb_xb_bus_thread(void *bus);

int lb_cmd_net_ping(int argc, char **argv);
int lb_cmd_xenbus_vif(int argc, char **argv);
int lb_cmd_xenbus_vbd(int argc, char **argv);
int lb_cmd_bench_io(int argc, char **argv);

#endif
