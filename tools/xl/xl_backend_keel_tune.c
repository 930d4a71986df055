/*
 * xl's keel backend: the tuning operations keeld carries out -- the
 * memory ceiling (mem-max, and mem-set's enforcement of its target as the
 * ceiling, as libxl_set_memory_target with enforce does), the credit
 * scheduler's weight and cap, per-vCPU facts, and the host facts xl info
 * prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend_keel.h"

/* libxl_domain_setmaxmem: not below the target; keeld's ceiling, then the store. */
int xlk_set_memory_max(void *h, uint32_t domid, uint64_t kb)
{
	struct xlk *k = h;
	char *target, path[64], value[32];
	int r;

	if (domid == 0)
		return -EPERM;
	target = xlk_store_read(k, "/local/domain/%u/memory/target", domid);
	if (target && kb < strtoull(target, NULL, 10)) {
		free(target);
		fprintf(stderr, "xl: memory_static_max must be greater than or equal to "
				"memory_dynamic_max\n");
		return -EINVAL;
	}
	free(target);
	r = keelctl_domain_set_maxmem(k->ctl, domid, kb);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/local/domain/%u/memory/static-max", domid);
	snprintf(value, sizeof(value), "%llu", (unsigned long long)kb);
	return ks_write_str(k->xs, KS_TX_NONE, path, value);
}

int xlk_sched_credit_get(void *h, uint32_t domid, int *weight, int *cap)
{
	struct xlk *k = h;
	struct keelctl_sched s;
	int r;

	if (domid == 0) { /* dom0 is the host: Linux schedules it, with Xen's defaults */
		*weight = 256;
		*cap = 0;
		return 0;
	}
	r = keelctl_sched_get(k->ctl, domid, &s);
	if (r < 0)
		return r;
	*weight = (int)s.weight;
	*cap = (int)s.cap;
	return 0;
}

int xlk_sched_credit_set(void *h, uint32_t domid, int weight, int cap)
{
	struct xlk *k = h;
	struct keelctl_sched s = {weight < 0 ? KEELCTL_SCHED_KEEP : (uint32_t)weight,
				  cap < 0 ? KEELCTL_SCHED_KEEP : (uint32_t)cap};
	int r;

	if (domid == 0)
		return -EPERM;
	if (weight == 0 || weight > 65535) {
		fprintf(stderr, "xl: weight %d out of range (1-65535)\n", weight);
		return -EINVAL;
	}
	r = keelctl_sched_set(k->ctl, domid, &s);
	if (r == -EOPNOTSUPP)
		fprintf(stderr, "xl: keeld cannot enforce weight and cap on this host "
				"(no writable cpu cgroup controller)\n");
	return r;
}

/* vCPU @vcpu's set from cpus= or cpus_soft= into map; 1 when the key names none. */
static int affinity_set(char *const *sets, int n, bool per_vcpu, int vcpu, const char *key,
			uint64_t *map)
{
	const char *s = per_vcpu ? (vcpu < n ? sets[vcpu] : NULL) : n ? sets[0] : NULL;
	int r;

	if (!s)
		return 1;
	r = xl_cpumap_parse(s, map, xl_host_cpus());
	if (r < 0)
		fprintf(stderr, "xl: %s: invalid CPU set `%s' for vcpu %d\n", key, s, vcpu);
	return r;
}

/*
 * cpus= and cpus_soft= onto the vCPU threads, as libxl sets each vCPU's
 * hard and soft affinity at build: one set for all, or a list naming vCPU
 * 0, 1, ... (those past its end keep every CPU; entries past the last vCPU
 * are ignored).
 */
static int xlk_affinity_from_config(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	for (int v = 0; v < dom->max_vcpus; v++) {
		uint64_t hard[XL_CPUMAP_WORDS], soft[XL_CPUMAP_WORDS];
		int h = affinity_set(dom->cpus, dom->n_cpus, dom->cpus_per_vcpu, v, "cpus", hard);
		int s = affinity_set(dom->cpus_soft, dom->n_cpus_soft, dom->cpus_soft_per_vcpu, v,
				     "cpus_soft", soft);
		int r;

		if (h < 0 || s < 0)
			return -EINVAL;
		r = xlk_vcpu_pin(k, domid, v, h ? NULL : hard, s ? NULL : soft);
		if (r < 0) {
			fprintf(stderr,
				"xl: setting the affinity of vcpu %d from cpus=/cpus_soft=: %s\n",
				v, strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * The configuration's placement and scheduler parameters (cpus=,
 * cpus_soft=, cpu_weight, cap), applied after keeld built the domain.
 */
int xlk_sched_from_config(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	int r = xlk_affinity_from_config(k, domid, dom);

	if (r < 0)
		return r;
	if (dom->cpu_weight < 0 && dom->cap < 0)
		return 0;
	if ((dom->cpu_weight < 0 || dom->cpu_weight == 256) && dom->cap <= 0)
		return 0; /* the defaults: nothing to enforce */
	return xlk_sched_credit_set(k, domid, dom->cpu_weight, dom->cap);
}

int xlk_vcpu_list_keeld(struct xlk *k, uint32_t domid, struct xl_vcpu_info **out, int *n)
{
	struct keelctl_vcpuinfo vi[64];
	struct xl_vcpu_info *v;
	int got = keelctl_vcpu_info(k->ctl, domid, vi, 64);

	if (got < 0)
		return got;
	if (got > 64)
		got = 64;
	v = calloc((size_t)got + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < got; i++) {
		v[i].vcpu = vi[i].vcpu;
		v[i].cpu = vi[i].cpu;
		v[i].online = vi[i].flags & KEELCTL_VCPU_ONLINE;
		v[i].running = vi[i].flags & KEELCTL_VCPU_RUNNING;
		v[i].blocked = vi[i].flags & KEELCTL_VCPU_BLOCKED;
		v[i].cpu_time_ns = vi[i].cpu_time_ns;
		v[i].runnable_known = true;
		v[i].runnable_ns = vi[i].runstate_ns[1]; /* RUNSTATE_runnable */
		v[i].affinity = true;
		memcpy(v[i].hard, vi[i].hard, sizeof(v[i].hard));
		memcpy(v[i].soft, vi[i].soft, sizeof(v[i].soft));
	}
	*out = v;
	*n = got;
	return 0;
}

/* The "Xen" half of xl info, from keeld. */
int xlk_version_facts(struct xlk *k, char *major, char *minor, char *extra, char *caps,
		      unsigned long long *total_mb, unsigned long long *free_mb, size_t size)
{
	struct keelctl_version v;
	int r = keelctl_version(k->ctl, &v);

	if (r < 0)
		return r;
	snprintf(major, size, "%u", v.major);
	snprintf(minor, size, "%u", v.minor);
	snprintf(extra, size, "%s", v.extra);
	snprintf(caps, size, "%s", v.caps);
	*total_mb = v.total_kb / 1024;
	*free_mb = v.free_kb / 1024;
	return 0;
}

int xlk_vcpu_pin(void *h, uint32_t domid, int vcpu, const uint64_t *hard, const uint64_t *soft)
{
	struct keelctl_vcpu_pin p = {.vcpu = vcpu < 0 ? KEELCTL_VCPU_ALL : (uint32_t)vcpu};

	if (domid == 0)
		return -EOPNOTSUPP; /* dom0's CPUs are the host's own */
	if (hard) {
		p.which |= KEELCTL_PIN_HARD;
		memcpy(p.hard, hard, sizeof(p.hard));
	}
	if (soft) {
		p.which |= KEELCTL_PIN_SOFT;
		memcpy(p.soft, soft, sizeof(p.soft));
	}
	return p.which ? keelctl_vcpu_pin(((struct xlk *)h)->ctl, domid, &p) : 0;
}
