/*
 * The credit scheduler's weight and cap, enforced by the host kernel.
 * Each domain whose parameters differ from the defaults gets a CPU
 * control group of its own, KEELD_GROUP/keel-<keeld pid>/d<domid>, and its
 * vCPU threads are moved into it (cgroup v1's cpu controller takes thread
 * ids in `tasks`; threads a vCPU creates later inherit the group):
 *   weight -> cpu.shares = weight * 4 (Xen's default 256 -> Linux's 1024),
 *   cap    -> cpu.cfs_quota_us = cap% of cpu.cfs_period_us (100 ms), -1 none.
 * CFS then throttles the domain to its cap per period and divides
 * contended CPUs in proportion to the shares, as credit does.  Without a
 * writable cpu controller (or with KEEL_SCHED_NO_CGROUP=1 in keeld's
 * environment) keeld enforces them itself: ctl_throttle.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define CTL_XL_CPU_V1	  "/sys/fs/cgroup/cpu"
#define CTL_XL_PERIOD_US  100000
#define CTL_XL_DEF_WEIGHT 256

static int ctl_write(const char *dir, const char *file, const char *fmt, long long v)
{
	char path[512], buf[32];
	int fd, n, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = snprintf(buf, sizeof(buf), fmt, v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

static void ctl_group_dir(char *buf, size_t size, int domid)
{
	if (domid < 0)
		snprintf(buf, size, "%s/keel-%d", CTL_XL_CPU_V1, (int)getpid());
	else
		snprintf(buf, size, "%s/keel-%d/d%d", CTL_XL_CPU_V1, (int)getpid(), domid);
}

static int ctl_cgroup_usable(void)
{
	const char *off = getenv("KEEL_SCHED_NO_CGROUP");

	return !(off && *off && strcmp(off, "0")) &&
	       access(CTL_XL_CPU_V1 "/cpu.cfs_quota_us", W_OK) == 0 &&
	       access(CTL_XL_CPU_V1 "/tasks", W_OK) == 0;
}

int ctl_sched_available(void)
{
	return ctl_cgroup_usable() ? 1 : 2;
}

/*
 * pthread_getcpuclockid gives a thread CPU-time clock, which the kernel
 * encodes as ((~tid) << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED
 * (posix-cpu-timers' ABI); the tid is what cgroups and /proc want.
 */
int ctl_vcpu_tid(struct domain *d, int vcpu)
{
	struct vcpu *v = &d->vcpus[vcpu];
	int has = vcpu == 0 ? d->threads_started : v->thread_created;
	clockid_t clk;

	if (!has || !v->thread_valid || pthread_getcpuclockid(v->thread, &clk) != 0)
		return 0;
	if ((clk & 7) != 6)
		return 0;
	return ~(clk >> 3);
}

/* At keeld's exit (its domains' threads have ended): the groups go too. */
static void ctl_parent_remove(void)
{
	char dir[256], sub[512];
	struct dirent *e;
	DIR *dp;

	ctl_group_dir(dir, sizeof(dir), -1);
	dp = opendir(dir);
	while (dp && (e = readdir(dp)))
		if (e->d_type == DT_DIR && e->d_name[0] == 'd') {
			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			rmdir(sub);
		}
	if (dp)
		closedir(dp);
	rmdir(dir);
}

int ctl_sched_apply(struct domain *d, struct ctl_sched *s)
{
	char dir[256];
	int r;

	if (!s->have_group && s->weight == CTL_XL_DEF_WEIGHT && s->cap == 0)
		return 0; /* defaults: the threads stay where keeld is */
	if (!ctl_cgroup_usable()) {
		if (!s->have_group)
			hvlog("d%d: no cpu cgroup controller: keeld throttles the vCPU threads "
			      "itself",
			      d->domid);
		s->have_group = 2; /* no group: re-applied for vCPUs that come up later */
		return ctl_throttle_apply(d, s->weight, s->cap);
	}
	if (!s->have_group) {
		static int parent_made;

		ctl_group_dir(dir, sizeof(dir), -1);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!parent_made) {
			parent_made = 1;
			atexit(ctl_parent_remove);
		}
		ctl_group_dir(dir, sizeof(dir), d->domid);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		s->have_group = 1;
		memset(s->applied_tid, 0, sizeof(s->applied_tid));
		s->group_weight = s->group_cap = UINT32_MAX;
	}
	ctl_group_dir(dir, sizeof(dir), d->domid);
	r = 0;
	/* the files only when the parameters changed (this runs on every list) */
	if (s->group_weight != s->weight || s->group_cap != s->cap) {
		r = ctl_write(dir, "cpu.shares", "%lld", (long long)s->weight * 4);
		if (r == 0)
			r = ctl_write(dir, "cpu.cfs_period_us", "%lld", CTL_XL_PERIOD_US);
		if (r == 0)
			r = ctl_write(dir, "cpu.cfs_quota_us", "%lld",
				      s->cap ? (long long)s->cap * CTL_XL_PERIOD_US / 100 : -1LL);
		if (r == 0) {
			s->group_weight = s->weight;
			s->group_cap = s->cap;
		}
	}
	for (int k = 0; r == 0 && k < d->nr_vcpus && k < DOMAIN_MAX_VCPUS; k++) {
		int tid = ctl_vcpu_tid(d, k);

		if (!tid || s->applied_tid[k] == tid)
			continue;
		/* a thread that just ended is not an error */
		if (ctl_write(dir, "tasks", "%lld", tid) == 0)
			s->applied_tid[k] = tid;
	}
	return r;
}

/* After the domain's threads have ended: the empty group can go. */
void ctl_sched_remove(int domid, struct ctl_sched *s)
{
	char dir[256];

	if (s->have_group != 1) {
		s->have_group = 0;
		return;
	}
	ctl_group_dir(dir, sizeof(dir), domid);
	if (rmdir(dir) < 0)
		hvlog("d%d: cpu group %s not removed: %s", domid, dir, strerror(errno));
	s->have_group = 0;
}
