/*
 * xl's keel backend: the per-domain figures xl top shows beside keeld's CPU
 * time, found where Xen's libxenstat finds them.  Networks: the domain's
 * vifs in the store, their traffic from the dom0 interface keel-netback
 * made for each (vifD.N, or the vifname= it was given), with receive and
 * transmit swapped to the domain's side as xenstat does.  Block devices:
 * the domain's vbd and qdisk backends; keel-blkback does not publish
 * per-device request counters yet, so those are reported unknown (xentop
 * prints "-" for a vbd whose statistics it cannot read).  The guest's own
 * view: the node data/cpustat a small agent in the guest keeps current
 * (see xl_top.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl_backend_keel.h"

static uint64_t xlk_sysfs_u64(const char *ifname, const char *counter)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, counter);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* The devices of one backend type of a domain: their ids (malloc'd), count. */
static unsigned xlk_backend_devs(struct xlk *k, const char *type, uint32_t domid, char ***ids)
{
	char path[96];
	unsigned n = 0;

	snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", type, domid);
	if (ks_directory(k->xs, KS_TX_NONE, path, ids, &n) < 0) {
		*ids = NULL;
		n = 0;
	}
	return n;
}

static void xlk_vif_traffic(struct xlk *k, uint32_t domid, struct xl_dom_stats *out)
{
	char **ids;
	unsigned n = xlk_backend_devs(k, "vif", domid, &ids);

	out->nets = (int)n;
	for (unsigned i = 0; i < n; i++) {
		char ifname[64],
			*name = xlk_store_read(k, "/local/domain/0/backend/vif/%u/%s/vifname",
					       domid, ids[i]);
		char probe[128];

		snprintf(ifname, sizeof(ifname), "vif%u.%s", domid, ids[i]);
		if (name && *name && !strchr(name, '/')) {
			snprintf(probe, sizeof(probe), "/sys/class/net/%s", name);
			if (access(probe, F_OK) == 0)
				snprintf(ifname, sizeof(ifname), "%s", name);
		}
		free(name);
		/* dom0's interface receives what the domain transmits */
		out->net_tx_bytes += xlk_sysfs_u64(ifname, "rx_bytes");
		out->net_rx_bytes += xlk_sysfs_u64(ifname, "tx_bytes");
	}
	free(ids);
}

int xlk_dom_stats(void *h, uint32_t domid, struct xl_dom_stats *out)
{
	struct xlk *k = h;
	char **ids, *cpu;

	memset(out, 0, sizeof(*out));
	if (domid == 0)
		return 0; /* the host's own interfaces and disks are not vifs or vbds */
	xlk_vif_traffic(k, domid, out);
	out->vbds = (int)xlk_backend_devs(k, "vbd", domid, &ids);
	free(ids);
	out->vbds += (int)xlk_backend_devs(k, "qdisk", domid, &ids);
	free(ids);
	cpu = xlk_store_read(k, "/local/domain/%u/data/cpustat", domid);
	if (cpu)
		snprintf(out->guest_cpu, sizeof(out->guest_cpu), "%s", cpu);
	free(cpu);
	return 0;
}
