/*
 * Resource commands: mem-set and mem-max (sizes as xl reads them: MiB by
 * default, or a b/k/m/g/t suffix), vcpu-set and sched-credit (show or set a
 * domain's weight and cap).  Arguments are validated before the backend is
 * asked to do anything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"
#include "xl_backend.h"

static int mem_command(int argc, char **argv, const char *cmd, bool max)
{
	struct xl_backend *be;
	uint64_t kb;
	uint32_t domid;
	int opt, rc = 0, r;

	XL_FOREACH_OPT(opt, "", NULL, cmd, 2)
	{
	}
	if (xl_parse_mem_kb(argv[optind + 1], &kb) < 0) {
		fprintf(stderr, "invalid memory size: %s\n", argv[optind + 1]);
		return 1;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (xl_find_domain(be, argv[optind], &domid) < 0) {
		rc = 1;
	} else {
		if (max)
			r = be->ops->set_memory_max ? be->ops->set_memory_max(be->handle, domid, kb)
						    : -ENOSYS;
		else
			r = be->ops->set_memory_target
				    ? be->ops->set_memory_target(be->handle, domid, kb)
				    : -ENOSYS;
		if (r < 0)
			rc = xl_backend_fail(max ? "setting maximum memory" : "setting memory", r);
	}
	xl_backend_disconnect(be);
	return rc;
}

int main_memmax(int argc, char **argv)
{
	return mem_command(argc, argv, "mem-max", true);
}

int main_memset(int argc, char **argv)
{
	return mem_command(argc, argv, "mem-set", false);
}

int main_vcpuset(int argc, char **argv)
{
	static const struct option opts[] = {{"ignore-host", 0, 0, 'i'}, XL_COMMON_LONG_OPTS};
	struct xl_backend *be;
	unsigned long n;
	char *end;
	uint32_t domid;
	int opt, rc = 0, r;

	XL_FOREACH_OPT(opt, "i", opts, "vcpu-set", 2)
	{
	default:
		break;
	}
	n = strtoul(argv[optind + 1], &end, 10);
	if (*end || !*argv[optind + 1] || n < 1 || n > 4096) {
		fprintf(stderr, "Invalid vCPUs count: %s\n", argv[optind + 1]);
		return 1;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (xl_find_domain(be, argv[optind], &domid) < 0) {
		rc = 1;
	} else {
		r = be->ops->set_vcpus ? be->ops->set_vcpus(be->handle, domid, (int)n) : -ENOSYS;
		if (r < 0)
			rc = xl_backend_fail("setting vCPUs", r);
	}
	xl_backend_disconnect(be);
	return rc;
}

static int parse_int_arg(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/*
 * The pool line: Keel has one pool, Pool-0, and no pool-wide credit
 * parameters (tslice, ratelimit, migration delay), so it reads as xl's
 * does when libxl cannot get them.
 */
static void sched_pool_output(bool credit2)
{
	fprintf(stderr, "libxl_sched_credit%s_params_get failed.\n", credit2 ? "2" : "");
	printf("Cpupool Pool-0: [sched params unavailable]\n");
}

static int sched_domain_row(struct xl_backend *be, const struct xl_domain_info *d)
{
	int w, c, r = be->ops->sched_credit_get(be->handle, d->domid, &w, &c);

	if (r < 0) {
		fprintf(stderr, "libxl_domain_sched_params_get failed.\n");
		return 1;
	}
	printf("%-33s %4d %6d %4d\n", d->name, (int)d->domid, w, c);
	return 0;
}

/*
 * sched-credit and sched-credit2: Keel's weight (1-65535, default 256)
 * and cap (% of one CPU, 0 = none) are both schedulers' per-domain
 * parameters, so both commands read and set the same two numbers.
 */
static int sched_credit_common(int argc, char **argv, bool credit2)
{
	static const struct option opts[] = {
		{"domain", 1, 0, 'd'},
		{"weight", 1, 0, 'w'},
		{"cap", 1, 0, 'c'},
		{"schedparam", 0, 0, 's'},
		{"tslice_ms", 1, 0, 't'},
		{"ratelimit_us", 1, 0, 'r'},
		{"migration_delay_us", 1, 0, 'm'},
		{"cpupool", 1, 0, 'p'},
		XL_COMMON_LONG_OPTS,
	};
	const char *cmd = credit2 ? "sched-credit2" : "sched-credit";
	const char *dom = NULL, *pool = NULL;
	int weight = -1, cap = -1, opt, rc = 0, r;
	bool opt_s = false, opt_param = false;
	struct xl_backend *be;
	struct xl_domain_info *doms = NULL;
	int n = 0;

	while ((opt = xl_getopt(argc, argv, credit2 ? "hd:w:c:p:r:s" : "hd:w:c:p:t:r:m:s", opts,
				cmd, 0)) != -1)
		switch (opt) {
		case 'd':
			dom = optarg;
			break;
		case 'w':
			if (parse_int_arg(optarg, 1, 65535, &weight) < 0) {
				fprintf(stderr, "Invalid weight: %s (1-65535)\n", optarg);
				return 1;
			}
			break;
		case 'c':
			if (parse_int_arg(optarg, 0, INT_MAX, &cap) < 0) {
				fprintf(stderr, "Invalid cap: %s\n", optarg);
				return 1;
			}
			break;
		case 's':
			opt_s = true;
			break;
		case 'p':
			pool = optarg;
			break;
		default: /* -t, -r, -m: pool-wide parameters */
			opt_param = true;
			break;
		}
	if ((pool || (opt_s && !credit2)) && (dom || weight >= 0 || cap >= 0)) {
		fprintf(stderr,
			credit2 ? "Specifying a cpupool is not allowed with other options.\n"
				: "Specifying a cpupool or schedparam is not allowed with "
				  "domain options.\n");
		return 1;
	}
	if ((weight >= 0 || cap >= 0) && !dom) {
		fprintf(stderr, "Must specify a domain.\n");
		return 1;
	}
	if (!credit2 && !opt_s && opt_param) {
		fprintf(stderr, "Must specify schedparam to set schedule parameter values.\n");
		return 1;
	}
	if (pool && strcmp(pool, "Pool-0") && strcmp(pool, "0")) {
		fprintf(stderr, "unknown cpupool '%s'\n", pool);
		return 1;
	}
	if (opt_s) {
		if (!opt_param) {
			sched_pool_output(credit2);
			return 0;
		}
		fprintf(stderr, "libxl_sched_credit%s_params_set failed.\n", credit2 ? "2" : "");
		fprintf(stderr,
			"(Keel schedules by weight and cap only: no pool-wide parameters)\n");
		return 1;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->sched_credit_get || !be->ops->list) {
		rc = xl_backend_fail("reading scheduler parameters", -ENOSYS);
		goto out;
	}
	r = be->ops->list(be->handle, &doms, &n);
	if (r < 0) {
		fprintf(stderr, "libxl_list_domain failed.\n");
		rc = 1;
		goto out;
	}
	if (dom) {
		uint32_t domid;
		int i;

		if (xl_find_domain(be, dom, &domid) < 0) {
			rc = 1;
			goto out;
		}
		for (i = 0; i < n && doms[i].domid != domid; i++)
			;
		if (weight >= 0 || cap >= 0) {
			r = be->ops->sched_credit_set
				    ? be->ops->sched_credit_set(be->handle, domid, weight, cap)
				    : -ENOSYS;
			if (r < 0) {
				fprintf(stderr, "libxl_domain_sched_params_set failed.\n");
				rc = 1;
			}
		} else if (i < n) {
			printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
			rc = sched_domain_row(be, &doms[i]);
		}
		goto out;
	}
	sched_pool_output(credit2);
	printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
	for (int i = 0; i < n && !rc; i++)
		rc = sched_domain_row(be, &doms[i]);
out:
	free(doms);
	xl_backend_disconnect(be);
	return rc;
}

int main_sched_credit(int argc, char **argv)
{
	return sched_credit_common(argc, argv, false);
}

int main_sched_credit2(int argc, char **argv)
{
	return sched_credit_common(argc, argv, true);
}

/* xl vcpu-pin [-f] DOMAIN VCPU|all HARD|-|all [SOFT|-|all] */
int main_vcpupin(int argc, char **argv)
{
	static const struct option opts[] = {{"force", 0, 0, 'f'}, XL_COMMON_LONG_OPTS};
	uint64_t hard[XL_CPUMAP_WORDS], soft[XL_CPUMAP_WORDS];
	const char *vcpu_s, *hard_s, *soft_s;
	bool use_hard, use_soft;
	struct xl_backend *be;
	uint32_t domid;
	int opt, vcpu = -1, r, rc = 0, ncpus = xl_host_cpus();
	char *end;

	XL_FOREACH_OPT(opt, "f", opts, "vcpu-pin", 3)
	{
	case 'f':
		break; /* dom0's own vCPUs are the host's: nothing to force */
	}
	vcpu_s = argv[optind + 1];
	hard_s = argv[optind + 2];
	soft_s = optind + 3 < argc ? argv[optind + 3] : "-";
	if (strcmp(vcpu_s, "all")) {
		long l = strtol(vcpu_s, &end, 10);

		if (end == vcpu_s || *end || l < 0 || l > 0x7fffffff) {
			fprintf(stderr, "Error: Invalid argument %s as VCPU.\n", vcpu_s);
			return 1;
		}
		vcpu = (int)l;
	}
	use_hard = strcmp(hard_s, "-") != 0;
	use_soft = strcmp(soft_s, "-") != 0;
	if ((use_hard && xl_cpumap_parse(hard_s, hard, ncpus) < 0) ||
	    (use_soft && xl_cpumap_parse(soft_s, soft, ncpus) < 0)) {
		fprintf(stderr, "Error: Invalid cpu set %s.\n", use_hard ? hard_s : soft_s);
		return 1;
	}
	if (!use_hard && !use_soft)
		return 0;
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = xl_find_domain(be, argv[optind], &domid);
	if (r == 0)
		r = be->ops->vcpu_pin
			    ? be->ops->vcpu_pin(be->handle, domid, vcpu, use_hard ? hard : NULL,
						use_soft ? soft : NULL)
			    : -ENOSYS;
	if (r == -EINVAL)
		fprintf(stderr,
			"Setting vcpu affinity failed: vcpu %s of %s, or an empty "
			"cpu set\n",
			vcpu_s, argv[optind]);
	if (r < 0)
		rc = xl_backend_fail("setting vcpu affinity", r);
	xl_backend_disconnect(be);
	return rc;
}
