/*
 * Commands that report on domains: list (xl's columns: name, id, memory in
 * MiB, online vCPUs, the six state letters "rbpscd" with the shutdown reason
 * letter from "-rscwS", CPU seconds; -v adds the UUID and reason code),
 * vcpu-list, uptime, domid and domname.  The numbers come from the backend;
 * the layout is xl's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xl.h"
#include "xl_backend.h"

static int fetch_domains(struct xl_backend *be, struct xl_domain_info **doms, int *n)
{
	int r;

	if (!be->ops->list)
		return xl_backend_fail("listing domains", -ENOSYS);
	r = be->ops->list(be->handle, doms, n);
	return r < 0 ? xl_backend_fail("listing domains", r) : 0;
}

/*
 * xl's columns; -Z adds the security label ("-": no XSM), -c the CPU pool
 * (Keel's one pool, Pool-0), -n the NUMA node affinity (one node, "all").
 */
static void print_list(const struct xl_domain_info *d, int n, bool verbose, bool context,
		       bool claim, bool cpupool, bool numa)
{
	static const char reason_letters[] = "-rscwS";

	printf("Name                                        ID   Mem VCPUs\tState\tTime(s)");
	if (verbose)
		printf("   UUID                            Reason-Code\tSecurity Label");
	if (context && !verbose)
		printf("   Security Label");
	if (claim)
		printf("  Claimed");
	if (cpupool)
		printf("         Cpupool");
	if (numa)
		printf(" NODE Affinity");
	printf("\n");
	for (int i = 0; i < n; i++) {
		int reason = d[i].shutdown ? d[i].shutdown_reason : 0;
		char uuid[37];

		printf("%-40s %5u %5lu %5d     %c%c%c%c%c%c  %8.1f", d[i].name, d[i].domid,
		       (unsigned long)(d[i].current_memkb / 1024), d[i].vcpus_online,
		       d[i].running ? 'r' : '-', d[i].blocked ? 'b' : '-', d[i].paused ? 'p' : '-',
		       d[i].shutdown ? 's' : '-',
		       reason >= 0 && reason < (int)sizeof(reason_letters) - 1
			       ? reason_letters[reason]
			       : '?',
		       d[i].dying ? 'd' : '-', (double)d[i].cpu_time_ns / 1e9);
		if (verbose) {
			xlcfg_uuid_unparse(d[i].uuid, uuid);
			printf(" %s", uuid);
			if (d[i].shutdown)
				printf(" %8x", reason);
			else
				printf(" %8s", "-");
		}
		if (claim) /* no memory claims in Keel */
			printf(" %5lu", 0UL);
		if (verbose || context)
			printf(" %16s", "-");
		if (cpupool)
			printf("%16s", "Pool-0");
		if (numa)
			printf(" all");
		putchar('\n');
	}
}

/* -l: each domain's configuration as xl prints it; domains without one are skipped. */
static int print_details(struct xl_backend *be, const struct xl_domain_info *d, int n)
{
	struct xlcfg_domain *cfgs;
	uint32_t *ids;
	int got = 0, rc = 0;

	if (!be->ops->get_config)
		return xl_backend_fail("reading domain configurations", -ENOSYS);
	cfgs = calloc((size_t)n + 1, sizeof(*cfgs));
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (!cfgs || !ids) {
		rc = xl_backend_fail("listing", -ENOMEM);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (be->ops->get_config(be->handle, d[i].domid, &cfgs[got]) < 0)
			continue;
		ids[got++] = d[i].domid;
	}
	xlcfg_domains_to_json(got, ids, cfgs, stdout);
	for (int i = 0; i < got; i++)
		xlcfg_domain_clear(&cfgs[i]);
out:
	free(cfgs);
	free(ids);
	return rc;
}

int main_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"long", 0, 0, 'l'},	{"verbose", 0, 0, 'v'}, {"context", 0, 0, 'Z'},
		{"cpupool", 0, 0, 'c'}, {"numa", 0, 0, 'n'},	XL_COMMON_LONG_OPTS,
	};
	bool verbose = false, details = false, context = false, cpupool = false, numa = false;
	struct xl_domain_info *doms = NULL, *shown;
	struct xl_backend *be;
	int opt, n = 0, rc;

	XL_FOREACH_OPT(opt, "lvhZcn", opts, "list", 0)
	{
	case 'l':
		details = true;
		break;
	case 'v':
		verbose = true;
		break;
	case 'Z':
		context = true;
		break;
	case 'c':
		cpupool = true;
		break;
	case 'n':
		numa = true;
		break;
	}
	if (argc - optind > 1) {
		xl_help("list");
		return 2;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = fetch_domains(be, &doms, &n);
	if (rc)
		goto out;
	shown = doms;
	if (optind < argc) {
		uint32_t domid;
		int i;

		if (xl_find_domain(be, argv[optind], &domid) < 0) {
			rc = 1;
			goto out;
		}
		for (i = 0; i < n && doms[i].domid != domid; i++)
			;
		shown = &doms[i];
		n = i < n ? 1 : 0;
	}
	if (details)
		rc = print_details(be, shown, n);
	else
		print_list(shown, n, verbose, context, false, cpupool, numa);
out:
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}

/* One domain's rows, as xl's print_domain_vcpuinfo. */
static int print_domain_vcpus(struct xl_backend *be, const struct xl_domain_info *d)
{
	struct xl_vcpu_info *v = NULL;
	int nv = 0, r = be->ops->vcpu_list(be->handle, d->domid, &v, &nv);

	if (r < 0)
		return xl_backend_fail("listing vCPUs", r);
	for (int j = 0; j < nv; j++) {
		char cpu[16], hard[256] = "all", soft[256] = "all";

		if (v[j].cpu >= 0)
			snprintf(cpu, sizeof(cpu), "%d", v[j].cpu);
		else
			snprintf(cpu, sizeof(cpu), "-");
		/* xl's STA column: running, blocked, then p for an offline vCPU */
		if (!v[j].online)
			snprintf(cpu, sizeof(cpu), "-");
		if (v[j].affinity) {
			xl_cpumap_format(v[j].hard, xl_host_cpus(), hard, sizeof(hard));
			xl_cpumap_format(v[j].soft, xl_host_cpus(), soft, sizeof(soft));
		}
		printf("%-32s %5u %5u", d->name, d->domid, v[j].vcpu);
		if (!v[j].online)
			printf("%5c %3c%cp ", '-', '-', '-');
		else
			printf("%5s %3c%c- ", cpu, v[j].running ? 'r' : '-',
			       v[j].blocked ? 'b' : '-');
		printf("%9.1f  %s / %s\n", (double)v[j].cpu_time_ns / 1e9, hard, soft);
	}
	free(v);
	return 0;
}

/*
 * A domain qualifier per argument to indexes into @doms, as xl's
 * find_domain (an unknown one: its message, and the caller exits 1); no
 * arguments: every domain.  Returns the count, or -1.
 */
static int wanted_domains(struct xl_backend *be, const struct xl_domain_info *doms, int n,
			  char **args, int nargs, int *idx)
{
	if (!nargs) {
		for (int i = 0; i < n; i++)
			idx[i] = i;
		return n;
	}
	for (int a = 0; a < nargs; a++) {
		uint32_t domid;
		int i;

		if (xl_find_domain(be, args[a], &domid) < 0)
			return -1;
		for (i = 0; i < n && doms[i].domid != domid; i++)
			;
		if (i == n)
			return -1;
		idx[a] = i;
	}
	return nargs;
}

/* xl claims: Keel makes no memory claims (no claim_mode), so every domain's is 0. */
int main_claims(int argc, char **argv)
{
	struct xl_domain_info *doms = NULL;
	struct xl_backend *be;
	int opt, n = 0, rc;

	XL_FOREACH_OPT(opt, "", NULL, "claims", 0)
	{
	}
	fprintf(stderr, "claim_mode not enabled (see man xl.conf).\n");
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = fetch_domains(be, &doms, &n);
	if (!rc)
		print_list(doms, n, false, false, true, false, false);
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}

/* xl cpupool-list [-c] [POOL]: Keel's one pool, Pool-0, every host CPU, credit. */
int main_cpupoollist(int argc, char **argv)
{
	static const struct option opts[] = {{"cpus", 0, 0, 'c'}, XL_COMMON_LONG_OPTS};
	struct xl_domain_info *doms = NULL;
	struct xl_backend *be;
	bool cpus = false;
	int opt, n = 0, rc, ncpus = xl_host_cpus();

	XL_FOREACH_OPT(opt, "c", opts, "cpupool-list", 0)
	{
	case 'c':
		cpus = true;
		break;
	}
	if (optind < argc && strcmp(argv[optind], "Pool-0")) {
		fprintf(stderr, "Pool '%s' does not exist\n", argv[optind]);
		return 1;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = fetch_domains(be, &doms, &n);
	if (!rc) {
		printf("%-19s", "Name");
		printf(cpus ? "CPU list\n" : "CPUs   Sched     Active   Domain count\n");
		printf("%-19s", "Pool-0");
		if (cpus)
			for (int c = 0; c < ncpus; c++)
				printf(c ? ",%d" : "%d", c);
		else
			printf("%3d %9s       y       %4d", ncpus, "credit", n);
		printf("\n");
	}
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}

int main_vcpulist(int argc, char **argv)
{
	struct xl_domain_info *doms = NULL;
	struct xl_backend *be;
	int opt, n = 0, rc, *idx = NULL, count;

	XL_FOREACH_OPT(opt, "", NULL, "vcpu-list", 0)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = fetch_domains(be, &doms, &n);
	if (rc)
		goto out;
	if (!be->ops->vcpu_list) {
		rc = xl_backend_fail("listing vCPUs", -ENOSYS);
		goto out;
	}
	idx = calloc((size_t)(n + argc) + 1, sizeof(*idx));
	if (!idx) {
		rc = xl_backend_fail("listing vCPUs", -ENOMEM);
		goto out;
	}
	printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
	       "Affinity (Hard / Soft)");
	fflush(stdout);
	/* as xl: each named domain is looked up when its turn comes */
	for (int a = optind; a == optind || a < argc; a++) {
		count = wanted_domains(be, doms, n, argv + a, a < argc ? 1 : 0, idx);
		if (count < 0) {
			rc = 1;
			break;
		}
		for (int k = 0; k < count; k++)
			rc |= print_domain_vcpus(be, &doms[idx[k]]);
	}
out:
	free(idx);
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}

static void print_uptime(bool short_mode, const struct xl_domain_info *d, uint64_t now)
{
	uint64_t up = now > d->start_time_s ? now - d->start_time_s : 0;
	unsigned long days = up / 86400, h = up / 3600 % 24, m = up / 60 % 60, s = up % 60;

	char up_s[64] = "";

	if (days)
		snprintf(up_s, sizeof(up_s), "%lu day%s, ", days, days == 1 ? "" : "s");
	if (short_mode) {
		/* xl: " HH:MM:SS up [N day(s), ]HH:MM, NAME (ID)" with the local time */
		time_t t = (time_t)now;
		struct tm tm;
		char clock[16] = "";

		if (localtime_r(&t, &tm))
			strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		printf(" %s up %s%2lu:%02lu, %s (%u)\n", clock, up_s, h, m, d->name, d->domid);
		return;
	}
	printf("%-33s %4u %s%2lu:%02lu:%02lu\n", d->name, d->domid, up_s, h, m, s);
}

int main_uptime(int argc, char **argv)
{
	struct xl_domain_info *doms = NULL;
	struct xl_backend *be;
	bool short_mode = false;
	int opt, n = 0, rc;

	XL_FOREACH_OPT(opt, "s", NULL, "uptime", 0)
	{
	case 's':
		short_mode = true;
		break;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = fetch_domains(be, &doms, &n);
	if (!rc) {
		uint64_t now = (uint64_t)time(NULL);
		int *idx = calloc((size_t)(n + argc) + 1, sizeof(*idx)), count;

		/* as xl: every named domain is looked up before the header */
		count = idx ? wanted_domains(be, doms, n, argv + optind, argc - optind, idx) : -1;
		if (count < 0)
			rc = 1;
		else if (!short_mode)
			printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
		for (int k = 0; k < count; k++)
			print_uptime(short_mode, &doms[idx[k]], now);
		free(idx);
	}
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}

/* libxl_name_to_domid: by name only (xl domid 3 looks for a domain named "3"). */
static int xl_domid_of_name(struct xl_backend *be, const char *name, uint32_t *domid)
{
	struct xl_domain_info *doms = NULL;
	int n = 0, r = -ENOENT;

	if (!be->ops->list || be->ops->list(be->handle, &doms, &n) < 0)
		return -EIO;
	for (int i = 0; i < n && r; i++)
		if (!strcmp(doms[i].name, name)) {
			*domid = doms[i].domid;
			r = 0;
		}
	free(doms);
	return r;
}

int main_domid(int argc, char **argv)
{
	struct xl_backend *be;
	uint32_t domid;
	int opt, rc = 0;

	XL_FOREACH_OPT(opt, "", NULL, "domid", 1)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (xl_domid_of_name(be, argv[optind], &domid) < 0) {
		fprintf(stderr,
			"Can't get domid of domain name '%s', maybe this domain does not exist.\n",
			argv[optind]);
		rc = 1;
	} else {
		printf("%u\n", domid);
	}
	xl_backend_disconnect(be);
	return rc;
}

int main_domname(int argc, char **argv)
{
	struct xl_domain_info *doms = NULL;
	struct xl_backend *be;
	char *end;
	unsigned long id;
	int opt, n = 0, rc;

	XL_FOREACH_OPT(opt, "", NULL, "domname", 1)
	{
	}
	id = strtoul(argv[optind], &end, 10);
	if (id == 0 && end == argv[optind]) { /* as xl: no digits at all */
		fprintf(stderr, "Invalid domain id.\n\n");
		return 1;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = fetch_domains(be, &doms, &n);
	if (!rc) {
		int i;

		for (i = 0; i < n && doms[i].domid != id; i++)
			;
		if (i == n) {
			fprintf(stderr,
				"Can't get domain name of domain id '%u', maybe this "
				"domain does not exist.\n",
				(unsigned)id);
			rc = 1;
		} else {
			printf("%s\n", doms[i].name);
		}
	}
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}
