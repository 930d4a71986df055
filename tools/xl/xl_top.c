/*
 * xl top: a live view of the host's domains, as Xen's `xl top` (which runs
 * xentop) shows it: name, state, CPU seconds and CPU% over the last
 * interval, memory, maximum memory and vCPUs, refreshed every delay
 * seconds.  -b (batch) prints plain frames one after another for scripts
 * and logs, -i N stops after N frames, -d S sets the delay; these are
 * xentop's flags.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"

struct xl_top_sample {
	uint32_t domid;
	uint64_t cpu_time_ns, ready_ns;
	bool ready_known, guest_known;
	uint64_t guest_busy, guest_all; /* the agent's line, in the guest's USER_HZ ticks */
};

/* One domain's figures in a frame. */
struct xl_top_row {
	const struct xl_domain_info *d;
	struct xl_dom_stats st;
	struct xl_top_sample now;
};

static double xl_top_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The previous frame's sample of @domid, or NULL when it is new. */
static const struct xl_top_sample *xl_top_prev(const struct xl_top_sample *prev, int nprev,
					       uint32_t domid)
{
	for (int i = 0; i < nprev; i++)
		if (prev[i].domid == domid)
			return &prev[i];
	return NULL;
}

/*
 * The guest agent's report: its /proc/stat "cpu" line (user nice system
 * idle iowait irq softirq steal ...).  Busy is what the guest charges to
 * work (user + nice + system + irq + softirq); all adds idle, iowait and
 * steal.  False when there is no report or it does not parse.
 */
static bool xl_top_guest_parse(const char *line, uint64_t *busy, uint64_t *all)
{
	unsigned long long v[8] = {0};
	int n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		       &v[3], &v[4], &v[5], &v[6], &v[7]);

	if (n < 7)
		return false;
	*busy = v[0] + v[1] + v[2] + v[5] + v[6];
	*all = *busy + v[3] + v[4] + v[7];
	return true;
}

static void xl_top_sample_of(struct xl_backend *be, const struct xl_domain_info *d,
			     struct xl_top_row *row)
{
	struct xl_vcpu_info *v = NULL;
	int nv = 0;

	memset(row, 0, sizeof(*row));
	row->d = d;
	row->now.domid = d->domid;
	row->now.cpu_time_ns = d->cpu_time_ns;
	if (be->ops->vcpu_list && be->ops->vcpu_list(be->handle, d->domid, &v, &nv) == 0)
		for (int i = 0; i < nv; i++) {
			row->now.ready_known |= v[i].runnable_known;
			row->now.ready_ns += v[i].runnable_ns;
		}
	free(v);
	if (be->ops->dom_stats)
		be->ops->dom_stats(be->handle, d->domid, &row->st);
	row->now.guest_known =
		xl_top_guest_parse(row->st.guest_cpu, &row->now.guest_busy, &row->now.guest_all);
}

/* Digits needed for @v, at least @min (xentop widens its counter columns so). */
static int xl_top_width(uint64_t v, int min)
{
	int w = 1;

	while (v >= 10) {
		v /= 10;
		w++;
	}
	return w > min ? w : min;
}

static int xl_top_by_name(const void *a, const void *b)
{
	return strcasecmp(((const struct xl_top_row *)a)->d->name,
			  ((const struct xl_top_row *)b)->d->name);
}

/* "%*.1f" of @v, or "-" when it is not known. */
static void xl_top_pct(int width, bool known, double v)
{
	if (known)
		printf(" %*.1f", width, v);
	else
		printf(" %*s", width, "-");
}

/*
 * A frame: xentop's columns and formats (so `xentop -b` parsers read it),
 * rows sorted by name as xentop sorts them, then Keel's own columns:
 * READY(%), the share of the interval the domain's vCPUs waited for a host
 * CPU (keeld's runnable time: VMware's CPU Ready, the guests' steal; "-"
 * for Domain-0, whose waiting keeld does not account); GUEST(%), the CPU the guest itself reports busy over the interval (its
 * agent's data/cpustat); CORR, keeld's measured CPU(%) over GUEST(%).
 */
static void xl_top_frame(struct xl_top_row *rows, int n, const struct xl_top_sample *prev,
			 int nprev, double interval, uint64_t host_kb, int batch)
{
	int wtx = 8, wrx = 8;

	qsort(rows, (size_t)n, sizeof(*rows), xl_top_by_name);
	for (int i = 0; i < n; i++) {
		wtx = xl_top_width(rows[i].st.net_tx_bytes / 1024 + 1, wtx);
		wrx = xl_top_width(rows[i].st.net_rx_bytes / 1024 + 1, wrx);
	}
	if (!batch)
		printf("\033[H\033[2J");
	printf("%10s %6s %10s %6s %10s %6s %10s %9s %5s %4s %*s %*s %4s %8s %8s %8s %10s %10s "
	       "%4s %8s %8s %6s\n",
	       "NAME", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "MAXMEM(k)", "MAXMEM(%)",
	       "VCPUS", "NETS", wtx, "NETTX(k)", wrx, "NETRX(k)", "VBDS", "VBD_OO", "VBD_RD",
	       "VBD_WR", "VBD_RSECT", "VBD_WSECT", "SSID", "READY(%)", "GUEST(%)", "CORR");
	for (int i = 0; i < n; i++) {
		const struct xl_domain_info *d = rows[i].d;
		const struct xl_dom_stats *st = &rows[i].st;
		const struct xl_top_sample *now = &rows[i].now,
					   *was = xl_top_prev(prev, nprev, d->domid);
		bool have = was && interval > 0;
		double pct = 0, ready = 0, guest = 0;
		bool guest_known = have && now->guest_known && was->guest_known &&
				   now->guest_all > was->guest_all;

		if (have && now->cpu_time_ns >= was->cpu_time_ns)
			pct = (double)(now->cpu_time_ns - was->cpu_time_ns) / 1e9 / interval * 100;
		if (have && now->ready_ns >= was->ready_ns)
			ready = (double)(now->ready_ns - was->ready_ns) / 1e9 / interval * 100;
		/* The guest's busy share of its own elapsed vCPU time between its
		 * agent's two reports (so an agent that writes late or seldom
		 * does not skew it), as % of one CPU like CPU(%). */
		if (guest_known)
			guest = (double)(now->guest_busy - was->guest_busy) /
				(double)(now->guest_all - was->guest_all) * d->vcpus_online * 100;
		printf("%10.10s %c%c%c%c%c%c %10llu %6.1f %10llu %6.1f %10llu %9.1f %5d %4d %*llu "
		       "%*llu %4d",
		       d->name, d->dying ? 'd' : '-', d->shutdown ? 's' : '-',
		       d->blocked ? 'b' : '-', d->crashed ? 'c' : '-', d->paused ? 'p' : '-',
		       d->running ? 'r' : '-', (unsigned long long)(d->cpu_time_ns / 1000000000ull),
		       pct, (unsigned long long)d->current_memkb,
		       host_kb ? (double)d->current_memkb / (double)host_kb * 100 : 0,
		       (unsigned long long)d->max_memkb,
		       host_kb ? (double)d->max_memkb / (double)host_kb * 100 : 0, d->vcpus_online,
		       st->nets, wtx, (unsigned long long)st->net_tx_bytes / 1024, wrx,
		       (unsigned long long)st->net_rx_bytes / 1024, st->vbds);
		if (st->vbd_stats)
			printf(" %8llu %8llu %8llu %10llu %10llu", (unsigned long long)st->vbd_oo,
			       (unsigned long long)st->vbd_rd, (unsigned long long)st->vbd_wr,
			       (unsigned long long)st->vbd_rsect,
			       (unsigned long long)st->vbd_wsect);
		else
			printf(" %8c %8c %8c %10c %10c", '-', '-', '-', '-', '-');
		printf(" %4u", 0u);
		xl_top_pct(8, have && now->ready_known && was->ready_known, ready);
		xl_top_pct(8, guest_known, guest);
		xl_top_pct(6, guest_known && guest > 0, guest > 0 ? pct / guest : 0);
		putchar('\n');
	}
	fflush(stdout);
}

/* The host's memory in KiB, for MEM(%): xl info's total_memory, else /proc/meminfo. */
static uint64_t xl_top_host_kb(struct xl_backend *be)
{
	char **keys = NULL, **values = NULL, line[128];
	unsigned long long kb = 0;
	int n = 0;
	FILE *f;

	if (be->ops->host_info && be->ops->host_info(be->handle, &keys, &values, &n) == 0) {
		for (int i = 0; i < n; i++) {
			if (!kb && !strcmp(keys[i], "total_memory"))
				kb = strtoull(values[i], NULL, 10) * 1024;
			free(keys[i]);
			free(values[i]);
		}
		free(keys);
		free(values);
	}
	f = kb ? NULL : fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int main_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{"batch", 0, 0, 'b'},
		{"iterations", 1, 0, 'i'},
		{"delay", 1, 0, 'd'},
		XL_COMMON_LONG_OPTS,
	};
	struct xl_top_sample *prev = NULL;
	struct xl_backend *be;
	int opt, rc = 0, batch = 0, nprev = 0;
	long iterations = -1;
	double delay = 3, last = 0;
	uint64_t host_kb;
	char *end;

	XL_FOREACH_OPT(opt, "bi:d:", opts, "top", 0)
	{
	case 'b':
		batch = 1;
		break;
	case 'i':
		iterations = strtol(optarg, &end, 10);
		if (*end || iterations < 1) {
			fprintf(stderr,
				"xl top: -i wants a positive number of iterations, not '%s'\n",
				optarg);
			return 2;
		}
		break;
	case 'd':
		delay = strtod(optarg, &end);
		if (*end || !(delay > 0 && delay <= 3600)) {
			fprintf(stderr, "xl top: -d wants a delay in seconds (0-3600], not '%s'\n",
				optarg);
			return 2;
		}
		break;
	default:
		return 2;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->list) {
		rc = xl_backend_fail("listing domains", -ENOSYS);
		goto out;
	}
	host_kb = xl_top_host_kb(be);
	for (long frame = 0; iterations < 0 || frame < iterations; frame++) {
		struct xl_domain_info *d = NULL;
		struct xl_top_sample *cur;
		struct xl_top_row *rows;
		int n = 0, r;
		double now;

		if (frame > 0)
			usleep((useconds_t)(delay * 1e6));
		r = be->ops->list(be->handle, &d, &n);
		if (r < 0) {
			rc = xl_backend_fail("listing domains", r);
			break;
		}
		now = xl_top_now();
		rows = calloc(n ? n : 1, sizeof(*rows));
		cur = calloc(n ? n : 1, sizeof(*cur));
		if (!rows || !cur) {
			free(rows);
			free(cur);
			free(d);
			rc = xl_backend_fail("listing domains", -ENOMEM);
			break;
		}
		for (int i = 0; i < n; i++)
			xl_top_sample_of(be, &d[i], &rows[i]);
		xl_top_frame(rows, n, prev, nprev, frame ? now - last : 0, host_kb, batch);
		for (int i = 0; i < n; i++)
			cur[i] = rows[i].now;
		free(rows);
		free(prev);
		prev = cur;
		nprev = n;
		last = now;
		free(d);
	}
out:
	free(prev);
	xl_backend_disconnect(be);
	return rc;
}
