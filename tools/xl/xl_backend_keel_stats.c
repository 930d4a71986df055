/*
 * xl's keel backend: the per-domain figures xl top shows beside keeld's CPU
 * time, found where Xen's libxenstat finds them.  Networks: the domain's
 * vifs in the store, their traffic from the dom0 interface keel-netback
 * made for each (vifD.N, or the vifname= it was given), with receive and
 * transmit swapped to the domain's side as xenstat does.  Block devices:
 * the domain's vbd and qdisk backends; the request counters of each vbd
 * keel-blkback serves come from the file it keeps for it,
 * RUNDIR/stats/vbd-D-N (include/keel/vbd_stats.h: Linux blkback's sysfs
 * statistics), summed as xenstat sums them; QEMU's qdisk disks publish
 * none, and a domain with no readable file shows xentop's "-".  The guest's own
 * view: the node data/cpustat a small agent in the guest keeps current
 * (see xl_top.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keel/vbd_stats.h"
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

/* Add one vbd's counters (RUNDIR/stats/vbd-D-N) to @out; false when unreadable. */
static bool xlk_vbd_counters(struct xlk *k, uint32_t domid, const char *devid,
			     struct xl_dom_stats *out)
{
	struct keel_vbd_stats_file f;
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	if (strchr(devid, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/%s/vbd-%u-%s", k->rundir, KEEL_VBD_STATS_DIR, domid,
		 devid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, &f, sizeof(f), 0);
	close(fd);
	if (n != (ssize_t)sizeof(f) || memcmp(f.magic, KEEL_VBD_STATS_MAGIC, sizeof(f.magic)) ||
	    f.nr_queues > KEEL_VBD_STATS_QUEUES)
		return false;
	for (uint32_t q = 0; q < f.nr_queues; q++) {
		out->vbd_oo += f.queue[q].oo_req;
		out->vbd_rd += f.queue[q].rd_req;
		out->vbd_wr += f.queue[q].wr_req;
		out->vbd_rsect += f.queue[q].rd_sect;
		out->vbd_wsect += f.queue[q].wr_sect;
	}
	return true;
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
	for (int i = 0; i < out->vbds; i++)
		out->vbd_stats |= xlk_vbd_counters(k, domid, ids[i], out);
	free(ids);
	out->vbds += (int)xlk_backend_devs(k, "qdisk", domid, &ids);
	free(ids);
	cpu = xlk_store_read(k, "/local/domain/%u/data/cpustat", domid);
	if (cpu)
		snprintf(out->guest_cpu, sizeof(out->guest_cpu), "%s", cpu);
	free(cpu);
	return 0;
}
