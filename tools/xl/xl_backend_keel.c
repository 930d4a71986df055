/*
 * xl's real toolstack backend: struct xl_backend_ops over keeld's control
 * library (dom0/libkeelctl) and the store (dom0/libkeelstore).  Linked into
 * build/bin/xl, it registers itself from a constructor.  The run directory
 * is $KEEL_RUNDIR or /run/keel, as keeld's --rundir; the store is found at
 * $XENSTORED_PATH or RUNDIR/xenstored/socket.
 *
 * keeld knows a domain's id, state, memory and vCPUs; names, UUIDs and
 * start times are the toolstack's and live in the store as on Xen.  Domain
 * 0 is the host: it is listed from the host's own figures.  Operations
 * keeld does not offer yet (memory targets, vCPU hot-plug, scheduler
 * parameters, save/restore) are left out of the table, so xl says "not
 * supported by the toolstack backend" instead of pretending.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "xl_backend_keel.h"

#define XLK_WAIT_POLL_MS	 200
#define XLK_PVCONTROL_TIMEOUT_MS (60 * 1000) /* libxl's pvcontrol wait */

static int xlk_open(void **handle, const char **why)
{
	static char msg[PATH_MAX + 128];
	const char *rundir = getenv("KEEL_RUNDIR"), *xs = getenv("XENSTORED_PATH");
	char xs_path[PATH_MAX + 32];
	struct xlk *k = calloc(1, sizeof(*k));
	int r;

	if (!k) {
		*why = "out of memory";
		return -ENOMEM;
	}
	snprintf(k->rundir, sizeof(k->rundir), "%s", rundir && *rundir ? rundir : "/run/keel");
	r = keelctl_open(k->rundir, &k->ctl);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "%s/keeld.sock: %s (is keel-dom0-up done?)", k->rundir,
			 strerror(-r));
		goto fail;
	}
	snprintf(xs_path, sizeof(xs_path), "%s/xenstored/socket", k->rundir);
	if (xs && *xs)
		snprintf(xs_path, sizeof(xs_path), "%s", xs);
	r = ks_open(xs_path, &k->xs);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "keel-xenstored at %s: %s", xs_path, strerror(-r));
		goto fail;
	}
	*handle = k;
	return 0;
fail:
	keelctl_close(k->ctl);
	free(k);
	*why = msg;
	return r;
}

static void xlk_close(void *h)
{
	struct xlk *k = h;

	if (k->ctl)
		keelctl_close(k->ctl);
	ks_close(k->xs);
	free(k);
}

static unsigned long long xlk_meminfo_kb(const char *key)
{
	char line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static int xlk_dom0_vcpus(struct xl_vcpu_info **out, int *n);

/*
 * Domain 0 is the host Linux: its memory, CPUs, boot time, and as its CPU
 * time the sum of its vCPUs' (so xl list's Time(s) agrees with vcpu-list).
 */
static void xlk_dom0_info(struct xlk *k, struct xl_domain_info *d)
{
	char line[256], *name = xlk_store_read(k, "/local/domain/0/name");
	struct xl_vcpu_info *v = NULL;
	FILE *f = fopen("/proc/stat", "r");
	int nv = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "Domain-0");
	free(name);
	d->current_memkb = d->max_memkb = xlk_meminfo_kb("MemTotal");
	d->vcpus_online = d->max_vcpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	d->running = true;
	d->shutdown_reason = -1;
	if (xlk_dom0_vcpus(&v, &nv) == 0)
		for (int i = 0; i < nv; i++)
			d->cpu_time_ns += v[i].cpu_time_ns;
	free(v);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "btime ", 6))
			d->start_time_s = strtoull(line + 6, NULL, 10);
	if (f)
		fclose(f);
}

/*
 * From the vCPUs, as Xen's getdomaininfo derives them: xl list's VCPUs is
 * the online count (Xen's vcpu_online), not maxvcpus; r when any online
 * vCPU runs, b when every online one is blocked (an idle guest is
 * "-b----", not "r-----").
 */
static void xlk_state_from_vcpus(struct xlk *k, const struct keelctl_dominfo *in,
				 struct xl_domain_info *d)
{
	struct keelctl_vcpuinfo vi[64];
	/* (the monitor's wait_shutdown asks without a connection of its own) */
	int got = k->ctl ? keelctl_vcpu_info(k->ctl, in->domid, vi, 64) : 0;
	bool running = false, blocked = true;

	if (got <= 0)
		return; /* keep what the domain state says */
	d->vcpus_online = 0;
	for (int i = 0; i < got && i < 64; i++) {
		if (!(vi[i].flags & KEELCTL_VCPU_ONLINE))
			continue;
		d->vcpus_online++;
		if (!(vi[i].flags & KEELCTL_VCPU_BLOCKED))
			blocked = false;
		if (vi[i].flags & KEELCTL_VCPU_RUNNING)
			running = true;
	}
	if (in->state == KEELCTL_STATE_RUNNING || in->state == KEELCTL_STATE_PAUSED) {
		d->running = running;
		d->blocked = blocked;
	}
}

static void xlk_fill_info(struct xlk *k, const struct keelctl_dominfo *in, struct xl_domain_info *d)
{
	static const uint8_t none[16];

	memset(d, 0, sizeof(*d));
	d->domid = in->domid;
	d->current_memkb = in->cur_kb ? in->cur_kb : in->mem_mb * 1024;
	d->max_memkb = in->max_kb ? in->max_kb : d->current_memkb;
	d->cpu_time_ns = in->cpu_time_ns;
	d->vcpus_online = d->max_vcpus = (int)in->vcpus;
	d->shutdown_reason = -1;
	switch (in->state) {
	case KEELCTL_STATE_RUNNING:
		d->running = true;
		break;
	case KEELCTL_STATE_CREATED: /* being built: not yet runnable */
	case KEELCTL_STATE_PAUSED:
		d->paused = true;
		break;
	case KEELCTL_STATE_CRASHED: /* Xen shows it as shut down, reason crash */
		d->crashed = true;
		d->shutdown = true;
		d->shutdown_reason = 3; /* SHUTDOWN_crash */
		break;
	case KEELCTL_STATE_SHUTDOWN:
		d->shutdown = true;
		d->shutdown_reason = in->shutdown_reason >= 0 ? in->shutdown_reason : 0;
		break;
	}
	xlk_state_from_vcpus(k, in, d);
	xlk_store_domain_facts(k, d, in->name);
	/* keeld's handle is the domain's UUID; the store's /vm path follows it */
	if (memcmp(in->handle, none, 16))
		memcpy(d->uuid, in->handle, 16);
}

static int xlk_list(void *h, struct xl_domain_info **out, int *n)
{
	struct xlk *k = h;
	struct keelctl_dominfo *infos = calloc(XLK_MAX_DOMAINS, sizeof(*infos));
	struct xl_domain_info *d;
	int got;

	if (!infos)
		return -ENOMEM;
	got = keelctl_domain_list(k->ctl, infos, XLK_MAX_DOMAINS);
	if (got < 0) {
		free(infos);
		return got;
	}
	if (got > XLK_MAX_DOMAINS)
		got = XLK_MAX_DOMAINS;
	d = calloc((size_t)got + 1, sizeof(*d));
	if (!d) {
		free(infos);
		return -ENOMEM;
	}
	xlk_dom0_info(k, &d[0]);
	for (int i = 0; i < got; i++)
		xlk_fill_info(k, &infos[i], &d[i + 1]);
	free(infos);
	*out = d;
	*n = got + 1;
	return 0;
}

static int xlk_destroy(void *h, uint32_t domid)
{
	struct xlk *k = h;
	int r;

	if (domid == 0)
		return -EPERM;
	/*
	 * libxl__destroy_domid: the devices go first (paused, so the guest does
	 * not fight the backends' closing), then the domain.
	 */
	keelctl_domain_pause(k->ctl, domid);
	xlk_devices_remove_all(k, domid);
	/* libxl__destroy_device_model, once its devices are closed */
	xlk_dm_stop(k, domid);
	r = keelctl_domain_destroy(k->ctl, domid);
	/* libxl__destroy_domid: the domain's nodes go with it (also after a lost race) */
	xlk_config_forget(k, domid);
	xlk_store_forget_domain(k, domid);
	return r;
}

static int xlk_pause(void *h, uint32_t domid)
{
	return domid ? keelctl_domain_pause(((struct xlk *)h)->ctl, domid) : -EPERM;
}

static int xlk_unpause(void *h, uint32_t domid)
{
	return domid ? keelctl_domain_unpause(((struct xlk *)h)->ctl, domid) : -EPERM;
}

/*
 * Domain 0's vCPUs are the host's CPUs: cpuN's busy time from /proc/stat,
 * less the time that CPU spent in guest mode (its guest and guest_nice
 * columns, which Linux also counts in user and nice): that time is the
 * guests', charged to them through keeld's accounting, as Xen never
 * charges a domU's time to dom0.
 */
static int xlk_dom0_vcpus(struct xl_vcpu_info **out, int *n)
{
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), got = 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct xl_vcpu_info *v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*v));
	FILE *f = fopen("/proc/stat", "r");
	char line[256];

	if (!v || !f) {
		free(v);
		if (f)
			fclose(f);
		return -ENOMEM;
	}
	while (got < ncpu && fgets(line, sizeof(line), f)) {
		unsigned long long us, ni, sy, id, io, irq, sirq, st = 0, gu = 0, gn = 0, busy;
		unsigned cpu;

		if (line[3] < '0' || line[3] > '9' || /* not the "cpu" total line */
		    sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
			   &us, &ni, &sy, &id, &io, &irq, &sirq, &st, &gu, &gn) < 8)
			continue;
		busy = us + ni + sy + irq + sirq;
		busy = busy > gu + gn ? busy - gu - gn : 0;
		v[got] = (struct xl_vcpu_info){
			.vcpu = (uint32_t)got, .cpu = (int)cpu, .online = true, .running = true};
		if (hz > 0)
			v[got].cpu_time_ns = busy * (1000000000ull / hz);
		got++;
	}
	fclose(f);
	*out = v;
	*n = got;
	return 0;
}

/* keeld's per-vCPU facts: online, running or blocked, CPU time, host CPU. */
static int xlk_vcpu_list(void *h, uint32_t domid, struct xl_vcpu_info **out, int *n)
{
	if (domid == 0)
		return xlk_dom0_vcpus(out, n);
	return xlk_vcpu_list_keeld(h, domid, out, n);
}

struct xlk_vcpus {
	uint32_t domid;
	int max, online;
};

static int xlk_vcpus_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	struct xlk_vcpus *v = arg;
	char path[96];

	for (int i = 0; i < v->max; i++) {
		int r;

		snprintf(path, sizeof(path), "/local/domain/%u/cpu/%d/availability", v->domid, i);
		r = ks_write_str(k->xs, tx, path, i < v->online ? "online" : "offline");
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * libxl_set_vcpuonline for a PV guest is a store operation
 * (libxl__set_vcpuonline_xenstore): cpu/N/availability, which the guest's
 * xenbus CPU hot-plug watch acts on by bringing vCPUs up or down
 * (VCPUOP_up/down).  keeld made maxvcpus vCPUs at creation.
 */
static int xlk_set_vcpus(void *h, uint32_t domid, int online)
{
	struct xlk *k = h;
	struct keelctl_dominfo in;
	struct xlk_vcpus v = {domid, 0, online};
	int r;

	if (domid == 0)
		return -EPERM; /* the host's CPUs are Linux's to hot-plug */
	r = keelctl_domain_getinfo(k->ctl, domid, &in);
	if (r < 0)
		return r;
	v.max = (int)in.vcpus;
	if (online > v.max) {
		fprintf(stderr, "xl: Requested %d VCPUs, however maxcpus is %d!\n", online, v.max);
		return -EINVAL;
	}
	return xlk_store_tx(k, xlk_vcpus_step, &v);
}

/*
 * libxl_set_memory_target with enforce (as xl mem-set asks): keeld's
 * ceiling becomes the target, so the guest cannot take more, then
 * memory/target, which the guest's balloon driver follows.
 */
static int xlk_set_memory_target(void *h, uint32_t domid, uint64_t kb)
{
	struct xlk *k = h;
	char *max, path[64], value[32];
	unsigned long long static_max, videoram;
	int r;

	if (domid == 0)
		return -EPERM;
	max = xlk_store_read(k, "/local/domain/%u/memory/static-max", domid);
	if (!max)
		return -ENOENT;
	static_max = strtoull(max, NULL, 10);
	free(max);
	if (kb > static_max) {
		fprintf(stderr, "xl: memory_dynamic_max must be less than or equal to "
				"memory_static_max\n");
		return -EINVAL;
	}
	r = keelctl_domain_set_maxmem(k->ctl, domid, kb);
	if (r < 0)
		return r;
	/* libxl: an HVM domain's video RAM is part of the figure asked for,
	 * not of the target its balloon follows */
	max = xlk_store_read(k, "/local/domain/%u/memory/videoram", domid);
	videoram = max ? strtoull(max, NULL, 10) : 0;
	free(max);
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
	snprintf(value, sizeof(value), "%llu",
		 (unsigned long long)(kb > videoram ? kb - videoram : 0));
	return ks_write_str(k->xs, KS_TX_NONE, path, value);
}

/* keeld's name (its log and keelctl use it), then the store's; undone together. */
static int xlk_rename(void *h, uint32_t domid, const char *name)
{
	struct xlk *k = h;
	struct keelctl_dominfo info;
	int r;

	if (domid == 0)
		return -EPERM;
	r = keelctl_domain_getinfo(k->ctl, domid, &info);
	if (r < 0)
		return r;
	if (strlen(name) >= sizeof(info.name)) {
		fprintf(stderr, "xl: domain name \"%s\" too long (keeld keeps at most %zu bytes)\n",
			name, sizeof(info.name) - 1);
		return -ENAMETOOLONG;
	}
	r = keelctl_domain_rename(k->ctl, domid, name);
	if (r < 0)
		return r;
	r = xlk_store_rename(k, domid, name);
	if (r == -EEXIST)
		fprintf(stderr, "xl: Domain with name \"%s\" already exists.\n", name);
	if (r < 0)
		keelctl_domain_rename(k->ctl, domid, info.name);
	return r;
}

long xlk_timeout_ms(const char *env)
{
	const char *e = getenv(env);
	long ms = e ? strtol(e, NULL, 10) : 0;

	return ms > 0 ? ms : XLK_PVCONTROL_TIMEOUT_MS;
}

/*
 * libxl__domain_pvcontrol: every PV guest is taken to have the PV control
 * interface (libxl__domain_pvcontrol_available answers 1 for any non-HVM
 * domain, whatever control/feature-* says): write control/shutdown and
 * wait, 60 s, until the guest clears it.  A guest that never does gets
 * libxl's message and ERROR_TIMEDOUT; the request stays in the store, as
 * libxl leaves it.
 */
static int xlk_shutdown(void *h, uint32_t domid, enum xl_shutdown_kind kind)
{
	struct xlk *k = h;
	const char *cmd = kind == XL_SHUTDOWN_REBOOT ? "reboot" : "poweroff";
	struct keelctl_dominfo in;
	int r;

	if (domid == 0)
		return -EPERM;
	r = keelctl_domain_getinfo(k->ctl, domid, &in);
	if (r < 0)
		return r;
	r = xlk_pvcontrol(k, domid, cmd, xlk_timeout_ms("KEEL_XL_PVCONTROL_TIMEOUT_MS"));
	if (r == -ETIMEDOUT)
		fprintf(stderr, "xl: guest didn't acknowledge control request: -9\n");
	return r;
}

int xlk_pvcontrol(struct xlk *k, uint32_t domid, const char *cmd, long timeout_ms)
{
	char path[64], *p = NULL, *t = NULL;
	struct timespec t0, now;
	int r;

	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
	r = ks_watch(k->xs, path, "xl-pvcontrol");
	if (r < 0)
		return r;
	r = ks_write_str(k->xs, KS_TX_NONE, path, cmd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r == 0) {
		char *v = xlk_store_read(k, "%s", path);
		long ms;

		if (!v || !*v) { /* acknowledged (or the node went with the domain) */
			free(v);
			break;
		}
		free(v);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms) {
			r = -ETIMEDOUT;
			break;
		}
		r = ks_read_watch(k->xs, (int)(timeout_ms - ms), &p, &t);
		free(p);
		free(t);
		p = t = NULL;
		if (r == -ETIMEDOUT)
			r = 0; /* loop once more to report it */
	}
	ks_unwatch(k->xs, path, "xl-pvcontrol");
	return r;
}

/*
 * The monitor's wait.  keeld has no state-change notification, so poll
 * it, each time on a fresh connection: a monitor per domain must not hold
 * one of keeld's few client slots for the domain's whole life.
 */
static int xlk_wait_shutdown(void *h, uint32_t domid, struct xl_domain_info *info)
{
	struct xlk *k = h;
	int failures = 0, r, dm_gone = 0;

	keelctl_close(k->ctl);
	k->ctl = NULL;
	for (;;) {
		struct keelctl_dominfo in;
		struct keelctl *c;
		int dm_pid;

		/* QEMU serving the domain's qdisk disks died: say so, once (the
		 * guest runs on; those disks stop answering, as on Xen) */
		if (xlk_dm_check(k, domid, &dm_pid) < 0) {
			if (dm_pid != dm_gone)
				fprintf(stderr,
					"xl: the device model of domain %u (pid %d) has exited; "
					"its qdisk disks are no longer served\n",
					domid, dm_pid);
			dm_gone = dm_pid;
		}

		r = keelctl_open(k->rundir, &c);
		if (r == 0) {
			r = keelctl_domain_getinfo(c, domid, &in);
			keelctl_close(c);
		}
		if (r == 0 &&
		    (in.state == KEELCTL_STATE_SHUTDOWN || in.state == KEELCTL_STATE_CRASHED)) {
			xlk_fill_info(k, &in, info);
			break;
		}
		if (r == -ESRCH)
			break;
		/* keeld gone (dom0 brought down): give up after a few tries */
		if (r < 0 && ++failures >= 10)
			break;
		if (r == 0)
			failures = 0;
		usleep(XLK_WAIT_POLL_MS * 1000);
	}
	{
		int o = keelctl_open(k->rundir, &k->ctl);

		if (o < 0) {
			k->ctl = NULL;
			if (r >= 0)
				r = o;
		}
	}
	return r;
}

struct xlk_preserve {
	uint32_t domid;
	const char *suffix;
	char new_vm[64];
};

/* libxl_domain_preserve: new name and /vm/<new uuid>; the old /vm entry goes. */
static int xlk_preserve_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	static const char *const keep[] = {"start_time", "image/ostype", "image/kernel",
					   "image/ramdisk", "image/cmdline"};
	struct xlk_preserve *pv = arg;
	char *name = xlk_store_read(k, "/local/domain/%u/name", pv->domid), *old = NULL;
	char path[512], newname[320];
	uint8_t uuid[16];
	uint32_t other;
	int r = xlk_store_vm_path(k, pv->domid, &old, uuid);

	if (r < 0 || !name)
		goto out;
	snprintf(newname, sizeof(newname), "%s%s", name, pv->suffix);
	/* libxl_domain_preserve renames: the new name must be free */
	if (xlk_find_name(k, newname, &other) == 0 && other != pv->domid) {
		r = -EEXIST;
		goto out;
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		char *v = xlk_store_read(k, "%s/%s", old, keep[i]);

		snprintf(path, sizeof(path), "%s/%s", pv->new_vm, keep[i]);
		if (v && (r = ks_write_str(k->xs, tx, path, v)) < 0) {
			free(v);
			goto out;
		}
		free(v);
	}
	snprintf(path, sizeof(path), "%s/uuid", pv->new_vm);
	if ((r = ks_write_str(k->xs, tx, path, pv->new_vm + 4)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/name", pv->new_vm);
	if ((r = ks_write_str(k->xs, tx, path, newname)) < 0)
		goto out;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", pv->domid);
	if ((r = ks_write_str(k->xs, tx, path, pv->new_vm)) < 0)
		goto out;
	snprintf(path, sizeof(path), "/local/domain/%u/name", pv->domid);
	if ((r = ks_write_str(k->xs, tx, path, newname)) < 0)
		goto out;
	r = ks_rm(k->xs, tx, old);
out:
	if (r == 0 && !name)
		r = -ENOENT;
	free(name);
	free(old);
	return r;
}

static int xlk_preserve(void *h, uint32_t domid, const char *suffix, const uint8_t uuid[16])
{
	struct xlk *k = h;
	struct xlk_preserve pv = {.domid = domid, .suffix = suffix};
	struct xlcfg_domain cfg;
	char u[37];
	int r, have_cfg;

	xlcfg_uuid_unparse(uuid, u);
	snprintf(pv.new_vm, sizeof(pv.new_vm), "/vm/%s", u);
	/* the saved configuration is filed under the UUID: carry it over */
	have_cfg = xlk_get_config(h, domid, &cfg) == 0;
	if (have_cfg)
		xlk_config_forget(k, domid);
	r = xlk_store_tx(k, xlk_preserve_step, &pv);
	if (r == 0) {
		char *nn = xlk_store_read(k, "/local/domain/%u/name", domid);

		/* keeld carries the new identity too, outside the store */
		r = keelctl_domain_set_handle(k->ctl, domid, uuid);
		if (r == 0 && nn && strlen(nn) < 64)
			r = keelctl_domain_rename(k->ctl, domid, nn);
		free(nn);
	}
	if (have_cfg) {
		if (r == 0) {
			free(cfg.name);
			cfg.name = xlk_store_read(k, "/local/domain/%u/name", domid);
			memcpy(cfg.uuid, uuid, 16);
			if (cfg.name)
				xlk_config_save(k, domid, &cfg);
		}
		xlcfg_domain_clear(&cfg);
	}
	return r;
}

static const char *xlk_state_dir(void *h)
{
	return ((struct xlk *)h)->rundir;
}

static int xlk_dmesg(void *h, bool clear, char **text)
{
	struct xlk *k = h;
	char *buf;
	int r;

	buf = malloc(KEELCTL_RSP_MAX + 1);
	if (!buf)
		return -ENOMEM;
	r = keelctl_dmesg(k->ctl, buf, KEELCTL_RSP_MAX + 1);
	/* xl dmesg -c: print what is there, then clear it */
	if (r >= 0 && clear)
		r = keelctl_dmesg_clear(k->ctl);
	if (r < 0) {
		free(buf);
		return r;
	}
	*text = buf;
	return 0;
}

struct xlk_sysrq {
	uint32_t domid;
	char key;
};

static int xlk_sysrq_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	const struct xlk_sysrq *s = arg;
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u/control/sysrq", s->domid);
	return ks_write(k->xs, tx, path, &s->key, 1);
}

static int xlk_send_nmi(void *h, uint32_t domid, uint32_t vcpu)
{
	struct xlk *k = h;

	return domid == 0 ? -EPERM : keelctl_send_nmi(k->ctl, domid, vcpu);
}

static int xlk_sysrq(void *h, uint32_t domid, char key)
{
	struct xlk *k = h;
	struct keelctl_dominfo in;
	struct xlk_sysrq s = {domid, key};
	int r;

	if (domid == 0)
		return -EPERM;
	r = keelctl_domain_getinfo(k->ctl, domid, &in);
	return r < 0 ? r : xlk_store_tx(k, xlk_sysrq_step, &s);
}

static int xlk_debug_keys(void *h, const char *keys)
{
	return keelctl_debug_keys(((struct xlk *)h)->ctl, keys);
}

/* The host facts xl info can report truthfully today. */
/* A sysfs/procfs number, or @dflt. */
static long xlk_read_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/* NUMA nodes online ("0", "0-1", "0,2"...), 1 without the sysfs file. */
static int xlk_nr_nodes(void)
{
	FILE *f = fopen("/sys/devices/system/node/online", "r");
	char buf[256];
	int n = 0, a, b;

	if (!f)
		return 1;
	if (fgets(buf, sizeof(buf), f))
		for (char *p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n"))
			n += sscanf(p, "%d-%d", &a, &b) == 2 ? b - a + 1 : 1;
	fclose(f);
	return n ? n : 1;
}

/* The host's CPU clock in kHz, from /proc/cpuinfo's first "cpu MHz". */
static long xlk_cpu_khz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu MHz", 7) && sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1)
			break;
	fclose(f);
	return (long)(mhz * 1000 + 0.5);
}

/* Xen's hw_caps: featureset words 1d, 1c, e1d, e1c, Da1, 7b0, 7c0, e7d. */
static void xlk_hw_caps(char *buf, size_t len)
{
	unsigned int w[8] = {0}, a, b, c, d;

#if defined(__x86_64__) || defined(__i386__)
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		w[0] = d;
		w[1] = c;
	}
	if (__get_cpuid(0x80000001, &a, &b, &c, &d)) {
		w[2] = d;
		w[3] = c;
	}
	if (__get_cpuid_count(0xd, 1, &a, &b, &c, &d))
		w[4] = a;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		w[5] = b;
		w[6] = c;
	}
	if (__get_cpuid(0x80000007, &a, &b, &c, &d))
		w[7] = d;
#else
	(void)a, (void)b, (void)c, (void)d;
#endif
	snprintf(buf, len, "%08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x", w[0], w[1], w[2], w[3], w[4],
		 w[5], w[6], w[7]);
}

/*
 * virt_caps: what this host offers.  keeld's PV kind (pv) and HVM kind
 * (hvm, on KVM); KVM's two-dimensional paging makes that hap, else KVM
 * shadows the guest's page tables (shadow); grant tables v1 and v2.  No
 * device passthrough (directio), IOMMU, processor trace or vPMU.
 */
static void xlk_virt_caps(const char *xen_caps, char *buf, size_t len)
{
	char s[8] = "";
	bool hap = false;
	FILE *f;

	for (int i = 0; i < 2 && !hap; i++) {
		f = fopen(i ? "/sys/module/kvm_amd/parameters/npt"
			    : "/sys/module/kvm_intel/parameters/ept",
			  "r");
		if (f) {
			hap = fgets(s, sizeof(s), f) && (s[0] == 'Y' || s[0] == '1');
			fclose(f);
		}
	}
	snprintf(buf, len, "%s%shvm %s gnttab-v1 gnttab-v2",
		 strstr(xen_caps, "xen-3.0") ? "pv" : "", strstr(xen_caps, "xen-3.0") ? " " : "",
		 hap ? "hap" : "shadow");
}

/* keeld's command line, from its pid file's process (xl info's xen_commandline). */
static void xlk_keeld_cmdline(const struct xlk *k, char *buf, size_t len)
{
	char path[PATH_MAX + 32];
	long pid;
	size_t got = 0;
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/keeld.pid", k->rundir);
	pid = xlk_read_long(path, -1);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	got = fread(buf, 1, len - 1, f);
	fclose(f);
	for (size_t i = 0; i + 1 < got; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[got] = 0;
}

static int xlk_host_info(void *h, char ***keys, char ***values, int *n)
{
	struct xlk *k = h;
	struct keelctl_dominfo *infos = calloc(XLK_MAX_DOMAINS, sizeof(*infos));
	struct utsname u;
	char *kv[2][48], major[128], minor[128], extra[128], caps[128], hw[128], virt[128];
	char cmdline[512];
	unsigned long long total_mb, free_mb;
	long khz = xlk_cpu_khz(), threads, cores_per_pkg, cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int c = 0, doms, r;

	if (!infos)
		return -ENOMEM;
	doms = keelctl_domain_list(k->ctl, infos, XLK_MAX_DOMAINS);
	free(infos);
	if (doms < 0)
		return doms;
	r = xlk_version_facts(k, major, minor, extra, caps, &total_mb, &free_mb, 128);
	if (r < 0)
		return r;
	uname(&u);
	xlk_hw_caps(hw, sizeof(hw));
	xlk_virt_caps(caps, virt, sizeof(virt));
	xlk_keeld_cmdline(k, cmdline, sizeof(cmdline));
	threads = 1;
	{
		/* threads per core: CPUs sharing cpu0's core; cores: per package */
		char list[64] = "";
		FILE *f = fopen("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "r");
		int a = 0, b = 0;

		if (f && fgets(list, sizeof(list), f)) {
			if (sscanf(list, "%d-%d", &a, &b) == 2)
				threads = b - a + 1;
			else
				threads = (long)(1 + (strchr(list, ',') != NULL));
		}
		if (f)
			fclose(f);
		if (threads < 1)
			threads = 1;
		f = fopen("/sys/devices/system/cpu/cpu0/topology/core_siblings_list", "r");
		cores_per_pkg = cpus;
		if (f && fgets(list, sizeof(list), f) && sscanf(list, "%d-%d", &a, &b) == 2)
			cores_per_pkg = b - a + 1;
		if (f)
			fclose(f);
	}
#define XLK_KV(key, ...)                                  \
	do {                                              \
		kv[0][c] = strdup(key);                   \
		if (asprintf(&kv[1][c], __VA_ARGS__) < 0) \
			kv[1][c] = NULL;                  \
		c++;                                      \
	} while (0)
	/* xl 4.17's output_nodeinfo, output_physinfo, output_xeninfo, in order */
	XLK_KV("host", "%s", u.nodename);
	XLK_KV("release", "%s", u.release);
	XLK_KV("version", "%s", u.version);
	XLK_KV("machine", "%s", u.machine);
	XLK_KV("nr_cpus", "%ld", cpus);
	XLK_KV("max_cpu_id", "%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
	XLK_KV("nr_nodes", "%d", xlk_nr_nodes());
	XLK_KV("cores_per_socket", "%ld", cores_per_pkg / threads);
	XLK_KV("threads_per_core", "%ld", threads);
	XLK_KV("cpu_mhz", "%ld.%03ld", khz / 1000, khz % 1000);
	XLK_KV("hw_caps", "%s", hw);
	XLK_KV("virt_caps", "%s", virt);
	XLK_KV("total_memory", "%llu", total_mb);
	XLK_KV("free_memory", "%llu", free_mb);
	XLK_KV("sharing_freed_memory", "%d", 0);
	XLK_KV("sharing_used_memory", "%d", 0);
	XLK_KV("outstanding_claims", "%d", 0);
	XLK_KV("free_cpus", "%d", 0); /* every CPU is in Pool-0 */
	XLK_KV("xen_major", "%s", major);
	XLK_KV("xen_minor", "%s", minor);
	XLK_KV("xen_extra", "%s", extra);
	XLK_KV("xen_version", "%s.%s%s", major, minor, extra);
	XLK_KV("xen_caps", "%s", caps);
	XLK_KV("xen_scheduler", "%s", "credit");
	XLK_KV("xen_pagesize", "%d", 4096);
	XLK_KV("platform_params", "virt_start=0x%llx", 0xffff800000000000ULL);
	XLK_KV("xen_changeset", "%s", "unavailable");
	XLK_KV("xen_commandline", "%s", cmdline);
#ifdef __clang__
	XLK_KV("cc_compiler", "clang %s", __clang_version__);
#else
	XLK_KV("cc_compiler", "gcc (%s)", __VERSION__);
#endif
	XLK_KV("cc_compile_by", "%s", "keel");
	XLK_KV("cc_compile_domain", "%s", "");
	XLK_KV("cc_compile_date", "%s %s", __DATE__, __TIME__);
	XLK_KV("build_id", "%s", "");
	XLK_KV("xend_config_format", "%d", 4);
	XLK_KV("keel_rundir", "%s", k->rundir);
	(void)doms;
#undef XLK_KV
	*keys = calloc((size_t)c, sizeof(char *));
	*values = calloc((size_t)c, sizeof(char *));
	if (!*keys || !*values) {
		free(*keys);
		free(*values);
		for (int i = 0; i < c; i++) {
			free(kv[0][i]);
			free(kv[1][i]);
		}
		return -ENOMEM;
	}
	for (int i = 0; i < c; i++) {
		(*keys)[i] = kv[0][i];
		(*values)[i] = kv[1][i] ? kv[1][i] : strdup("");
	}
	*n = c;
	return 0;
}

static const struct xl_backend_ops xlk_ops = {
	.name = "keeld",
	.open = xlk_open,
	.close = xlk_close,
	.create = xlk_create,
	.list = xlk_list,
	.get_config = xlk_get_config,
	.set_config = xlk_set_config,
	.destroy = xlk_destroy,
	.shutdown = xlk_shutdown,
	.pause = xlk_pause,
	.unpause = xlk_unpause,
	.rename = xlk_rename,
	.vcpu_list = xlk_vcpu_list,
	.set_vcpus = xlk_set_vcpus,
	.set_memory_target = xlk_set_memory_target,
	.set_memory_max = xlk_set_memory_max,
	.sched_credit_get = xlk_sched_credit_get,
	.sched_credit_set = xlk_sched_credit_set,
	.save = xlk_save,
	.dump_core = xlk_dump_core,
	.restore = xlk_restore,
	.migrate_send = xlk_migrate_send,
	.migrate_finish = xlk_migrate_finish,
	.migrate_receive = xlk_migrate_receive,
	.host_info = xlk_host_info,
	.dmesg = xlk_dmesg,
	.debug_keys = xlk_debug_keys,
	.sysrq = xlk_sysrq,
	.send_nmi = xlk_send_nmi,
	.send_trigger = xlk_send_trigger,
	.cdrom_insert = xlk_cdrom_insert,
	.vnc_info = xlk_vnc_info,
	.vcpu_pin = xlk_vcpu_pin,
	.dom_stats = xlk_dom_stats,
	.console_open = xlk_console_open,
	.wait_shutdown = xlk_wait_shutdown,
	.preserve = xlk_preserve,
	.state_dir = xlk_state_dir,
	.device_add = xlk_device_add,
	.device_remove = xlk_device_remove,
	.device_list = xlk_device_list,
};

static void __attribute__((constructor)) xlk_register(void)
{
	xl_backend_register(&xlk_ops);
}
