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

int main_sched_credit(int argc, char **argv)
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
	const char *dom = NULL;
	int weight = -1, cap = -1, opt, rc = 0, r;
	bool opt_s = false;
	struct xl_backend *be;
	struct xl_domain_info *doms = NULL;
	int n = 0;

	XL_FOREACH_OPT(opt, "d:w:c:p:t:r:m:s", opts, "sched-credit", 0)
	{
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
	default: /* -t, -r, -m, -p: pool-wide parameters, see below */
		opt_s = opt_s || opt == 't' || opt == 'r' || opt == 'm';
		break;
	}
	if ((weight >= 0 || cap >= 0) && !dom) {
		fprintf(stderr, "Must specify a domain.\n");
		return 1;
	}
	if (opt_s) {
		fprintf(stderr, "xl: sched-credit -s: Keel has no pool-wide credit parameters\n");
		return 1;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->sched_credit_get || !be->ops->list) {
		rc = xl_backend_fail("reading scheduler parameters", -ENOSYS);
		goto out;
	}
	if (dom && (weight >= 0 || cap >= 0)) {
		uint32_t domid;

		if (xl_find_domain(be, dom, &domid) < 0) {
			rc = 1;
		} else {
			r = be->ops->sched_credit_set
				    ? be->ops->sched_credit_set(be->handle, domid, weight, cap)
				    : -ENOSYS;
			if (r < 0)
				rc = xl_backend_fail("setting scheduler parameters", r);
		}
		goto out;
	}
	r = be->ops->list(be->handle, &doms, &n);
	if (r < 0) {
		rc = xl_backend_fail("listing domains", r);
		goto out;
	}
	printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
	for (int i = 0; i < n; i++) {
		int w, c;

		if (dom && strcmp(dom, doms[i].name))
			continue;
		r = be->ops->sched_credit_get(be->handle, doms[i].domid, &w, &c);
		if (r < 0) {
			rc = xl_backend_fail("reading scheduler parameters", r);
			continue;
		}
		printf("%-33s %4u %6d %4d\n", doms[i].name, doms[i].domid, w, c);
	}
out:
	free(doms);
	xl_backend_disconnect(be);
	return rc;
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
