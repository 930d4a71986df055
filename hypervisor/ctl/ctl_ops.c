/*
 * The control operations xl needs beyond creating and running domains:
 * rename, the domain handle (UUID), the memory ceiling, per-vCPU facts
 * (online, running or blocked, CPU time, host CPU), the credit
 * scheduler's weight and cap, the version keeld reports as Xen's, and
 * clearing the log.  Facts struct domain has no field for live here, in a
 * table indexed by domain id; an entry is dropped when its domain is
 * destroyed, so the table never holds more than keeld's domains.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "../core/kind.h"
#include "../pv/pv_vcpu.h"
#include "../evtchn/evtchn.h"
#include "../gnttab/gnttab.h"
#include "../hvm/hvm_domain.h"

/* What guests see through XENVER_version/extraversion/capabilities. */
#define CTL_XL_XEN_MAJOR 4
#define CTL_XL_XEN_MINOR 17
#define CTL_XL_XEN_EXTRA ".0-keel"
#define CTL_XL_XEN_CAPS	 "xen-3.0-x86_64"

#define CTL_XL_DEFAULT_WEIGHT 256

static char ctl_pidfile_path[4096];

/* The toolstack's facts live in the domain (d->ctl), made with it. */
static struct ctl_dom *ctl_lookup(const struct domain *d, int create)
{
	return d->ctl;
}

static int ctl_domain_init(struct domain *d)
{
	d->ctl = calloc(1, sizeof(*d->ctl));
	if (!d->ctl)
		return -ENOMEM;
	d->ctl->sched.weight = CTL_XL_DEFAULT_WEIGHT;
	return 0;
}

static void ctl_domain_destroy(struct domain *d)
{
	ctl_forget(d);
	free(d->ctl);
	d->ctl = NULL;
}

static const struct domain_subsys ctl_subsys = {
	.name = "ctl",
	.order = 10,
	.init = ctl_domain_init,
	.destroy = ctl_domain_destroy,
};
DOMAIN_SUBSYS(ctl_subsys)

/*
 * A vCPU thread's CPU time.  vCPU 0's thread exists once the domain has
 * started, the others once the guest brought them up (VCPUOP_up); a
 * thread that has ended keeps the last figure seen.
 */
static uint64_t ctl_vcpu_ns(struct domain *d, struct ctl_dom *x, int vcpu)
{
	int tid = ctl_vcpu_tid(d, vcpu);
	clockid_t clk;
	struct timespec ts;
	uint64_t ns;

	if (tid && pthread_getcpuclockid(d->vcpus[vcpu].thread, &clk) == 0 &&
	    clock_gettime(clk, &ts) == 0) {
		ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (x && ns > x->last_ns[vcpu])
			x->last_ns[vcpu] = ns;
	}
	return x ? x->last_ns[vcpu] : 0;
}

/* The host CPU a thread last ran on: field 39 of /proc/self/task/TID/stat. */
static int ctl_thread_cpu(int tid)
{
	char path[64], buf[1024], *p;
	int field = 2, cpu = -1;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return -1;
	for (p++; *p && field < 39; p++)
		if (*p == ' ')
			field++;
	if (field == 39 && sscanf(p, "%d", &cpu) != 1)
		cpu = -1;
	return cpu;
}

void ctl_fill_info(struct domain *d, struct keelctl_dominfo *i)
{
	struct ctl_dom *x = ctl_lookup(d, 1);

	i->max_kb = d->max_pages * 4;
	i->cur_kb = d->cur_pages * 4;
	if (!x)
		return;
	memcpy(i->handle, x->handle, sizeof(i->handle));
	for (int k = 0; k < d->nr_vcpus && k < DOMAIN_MAX_VCPUS; k++)
		i->cpu_time_ns += ctl_vcpu_ns(d, x, k);
	/* vCPUs the guest brought up since: into the domain's group */
	if (x->sched.have_group)
		ctl_sched_apply(d, &x->sched);
}

void ctl_forget(struct domain *d)
{
	struct ctl_dom *x = ctl_lookup(d, 0);

	if (!x)
		return;
	ctl_throttle_forget(d);
	ctl_sched_remove(d->domid, &x->sched);
}

static int ctl_rename(struct domain *d, struct ctl_dom *x, const void *in, void *out,
		      uint32_t *out_len)
{
	const struct keelctl_name_req *n = in;
	char old[64];

	if (!memchr(n->name, 0, sizeof(n->name)) || !n->name[0])
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	memcpy(old, d->name, sizeof(old));
	snprintf(d->name, sizeof(d->name), "%s", n->name);
	pthread_mutex_unlock(&d->lock);
	old[sizeof(old) - 1] = 0;
	hvlog("d%d: renamed '%s' -> '%s'", d->domid, old, n->name);
	return 0;
}

static int ctl_set_handle(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			  uint32_t *out_len)
{
	memcpy(x->handle, in, sizeof(x->handle));
	return 0;
}

/*
 * The ceiling XENMEM_maximum_reservation reports (Xen's max_pages).  As
 * in Xen it may be set below what the domain holds: that only stops it
 * from growing.  A PV guest grows through populate_physmap into the space
 * it was created with (maxmem=), never past this ceiling; a ceiling above
 * that space is accepted as Xen does, the space bounding it (an HVM
 * domain of the largest RAM, 4096 MiB, has libxl's ceiling of memory= plus
 * 1 MiB: its device model populates video RAM and ROMs past the RAM).
 * Only a ceiling past 1 TiB is refused, as nonsense.
 */
static int ctl_set_maxmem(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			  uint32_t *out_len)
{
	uint64_t kb;

	memcpy(&kb, in, sizeof(kb));
	if (kb < 4 || kb > (1ULL << 30))
		return -EINVAL;
	d->max_pages = kb / 4;
	hvlog("d%d: max memory %llu KiB", d->domid, (unsigned long long)kb);
	return 0;
}

/* A vCPU's runstate times as of now (keeld's accounting, read from here). */
static void ctl_vcpu_runstate(struct vcpu *v, int tid, uint64_t out[4])
{
	struct vcpu_runstate_info ri;

	if (!v->rs.started)
		return;
	pv_runstate_read(v, tid, &ri);
	for (int i = 0; i < 4; i++)
		out[i] = ri.time[i];
}

static int ctl_vcpu_info(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			 uint32_t *out_len)
{
	struct keelctl_vcpuinfo *vi = out;
	int n = d->nr_vcpus < DOMAIN_MAX_VCPUS ? d->nr_vcpus : DOMAIN_MAX_VCPUS;

	for (int k = 0; k < n; k++) {
		struct vcpu *v = &d->vcpus[k];
		int tid = ctl_vcpu_tid(d, k);

		memset(&vi[k], 0, sizeof(vi[k]));
		vi[k].vcpu = (uint32_t)k;
		vi[k].cpu = -1;
		vi[k].cpu_time_ns = ctl_vcpu_ns(d, x, k);
		memcpy(vi[k].hard, v->aff_hard, sizeof(vi[k].hard));
		memcpy(vi[k].soft, v->aff_soft, sizeof(vi[k].soft));
		ctl_vcpu_runstate(v, tid, vi[k].runstate_ns);
		if (!v->online || !tid)
			continue;
		vi[k].flags = KEELCTL_VCPU_ONLINE;
		if (v->blocked)
			vi[k].flags |= KEELCTL_VCPU_BLOCKED;
		else if (d->state == DOM_RUNNING)
			vi[k].flags |= KEELCTL_VCPU_RUNNING;
		if (d->state == DOM_RUNNING || d->state == DOM_PAUSED)
			vi[k].cpu = ctl_thread_cpu(tid);
	}
	*out_len = (uint32_t)(n * sizeof(*vi));
	return 0;
}

/*
 * xl vcpu-pin: a vCPU's (or every vCPU's) hard and/or soft affinity.  Hard
 * affinity is applied to the vCPU thread at once (and when it starts);
 * soft affinity is kept and shown -- Linux has no soft affinity, so it does
 * not steer the thread.  A hard set with no host CPU this machine has is
 * -EINVAL, as libxl refuses an empty effective affinity.
 */
static int ctl_vcpu_pin(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			uint32_t *out_len)
{
	const struct keelctl_vcpu_pin *p = in;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int first = 0, last = d->nr_vcpus - 1, usable = 0;

	*out_len = 0;
	if (!p->which || (p->which & ~(KEELCTL_PIN_HARD | KEELCTL_PIN_SOFT)))
		return -EINVAL;
	if (p->vcpu != KEELCTL_VCPU_ALL) {
		if (p->vcpu >= (uint32_t)d->nr_vcpus)
			return -EINVAL;
		first = last = (int)p->vcpu;
	}
	for (long c = 0; c < ncpu && c < 64 * KEELCTL_CPUMAP_WORDS; c++)
		usable |= (int)(p->hard[c / 64] >> (c % 64) & 1);
	if ((p->which & KEELCTL_PIN_HARD) && !usable)
		return -EINVAL;
	for (int k = first; k <= last; k++) {
		struct vcpu *v = &d->vcpus[k];

		if (p->which & KEELCTL_PIN_SOFT)
			memcpy(v->aff_soft, p->soft, sizeof(v->aff_soft));
		if (p->which & KEELCTL_PIN_HARD) {
			int tid = ctl_vcpu_tid(d, k), r;

			memcpy(v->aff_hard, p->hard, sizeof(v->aff_hard));
			r = tid ? vcpu_apply_affinity(v, tid) : 0;
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int ctl_sched_get(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			 uint32_t *out_len)
{
	struct keelctl_sched s = {x->sched.weight, x->sched.cap};

	memcpy(out, &s, sizeof(s));
	*out_len = sizeof(s);
	return 0;
}

/* Xen's credit scheduler: weight 1..65535, cap 0 (none) or a percentage. */
static int ctl_sched_set(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			 uint32_t *out_len)
{
	struct keelctl_sched s;
	uint32_t old_w = x->sched.weight, old_c = x->sched.cap;
	int r;

	memcpy(&s, in, sizeof(s));
	if (s.weight != KEELCTL_SCHED_KEEP && (s.weight < 1 || s.weight > 65535))
		return -EINVAL;
	if (s.cap != KEELCTL_SCHED_KEEP && s.cap > 100u * DOMAIN_MAX_VCPUS)
		return -EINVAL;
	if (s.weight != KEELCTL_SCHED_KEEP)
		x->sched.weight = s.weight;
	if (s.cap != KEELCTL_SCHED_KEEP)
		x->sched.cap = s.cap;
	r = ctl_sched_apply(d, &x->sched);
	if (r < 0) {
		x->sched.weight = old_w;
		x->sched.cap = old_c;
		return r;
	}
	hvlog("d%d: credit weight %u cap %u", d->domid, x->sched.weight, x->sched.cap);
	return 0;
}

/* Host memory from /proc/meminfo, in KiB (0 when unreadable). */
static uint64_t ctl_meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	size_t kl = strlen(key);
	unsigned long long v = 0;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			sscanf(line + kl + 1, "%llu", &v);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static int ctl_version(struct domain *d, struct ctl_dom *x, const void *in, void *out,
		       uint32_t *out_len)
{
	struct keelctl_version v = {.major = CTL_XL_XEN_MAJOR, .minor = CTL_XL_XEN_MINOR};

	snprintf(v.extra, sizeof(v.extra), "%s", CTL_XL_XEN_EXTRA);
	snprintf(v.caps, sizeof(v.caps), "%s", CTL_XL_XEN_CAPS);
	v.total_kb = ctl_meminfo_kb("MemTotal");
	v.free_kb = ctl_meminfo_kb("MemAvailable");
	v.nr_cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	v.sched_enforced = (uint32_t)ctl_sched_available();
	memcpy(out, &v, sizeof(v));
	*out_len = sizeof(v);
	return 0;
}

static int ctl_dmesg_clear(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			   uint32_t *out_len)
{
	hvlog_clear();
	return 0;
}

/* The 'q' key's report of d: its state and, per vCPU, where its events
 * stand (the vcpu_info in use) and the kind's view. */
static void ctl_dump_domain(struct domain *d)
{
	char dom[256] = "";

	if (d->kind->describe_domain)
		d->kind->describe_domain(d, dom, sizeof(dom));
	hvlog("d%u '%s': state %d, %d vCPUs, %llu pages%s%s", d->domid, d->name, (int)d->state,
	      d->nr_vcpus, (unsigned long long)d->nr_pages, dom[0] ? "; " : "", dom);
	for (int i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];
		struct vcpu_info *vi = vcpu_info(v);
		char kind[384] = "";

		if (d->kind->describe_vcpu)
			d->kind->describe_vcpu(v, kind, sizeof(kind));
		hvlog("  vcpu %d: online %d initialised %d blocked %d; vcpu_info %s%#llx: pending %u "
		      "mask %u; %llu hypercalls, %llu exits, %llu interrupts (%llu upcalls); %s",
		      i, v->online, v->initialised, v->blocked,
		      v->vcpu_info_gpa ? "" : "shared_info, ", (unsigned long long)v->vcpu_info_gpa,
		      __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE),
		      __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE),
		      (unsigned long long)v->hypercalls, (unsigned long long)v->exits,
		      (unsigned long long)v->interrupts, (unsigned long long)v->async_upcalls,
		      kind);
	}
}

/* 'p' / 'P' on every domain whose kind keeps an exit profile. */
static void ctl_profile_key(int reset)
{
	domain_table_lock();
	for (int k = 0; k < DOMAIN_TABLE_SIZE; k++) {
		struct domain *d = domain_table_at(k);

		if (d && reset && d->kind->profile_reset)
			d->kind->profile_reset(d);
		else if (d && !reset && d->kind->profile_dump)
			d->kind->profile_dump(d);
	}
	domain_table_unlock();
}

/*
 * Xen's debug keys (xl debug-keys): each key's report goes to the log
 * (xl dmesg).  'h' lists the keys, 'e' dumps every domain's event
 * channels, 'g' every domain's grant-table use, 'q' every domain's vCPUs, 'p' every domain's exit profile
 * (Xen: its performance counters), 'P' starts a new profile phase;
 * other keys are ignored, as Xen ignores keys with no handler.
 */
static int ctl_debug_keys(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			  uint32_t *out_len)
{
	const char *keys = in;

	for (int i = 0; i < KEELCTL_DEBUG_KEYS_MAX && keys[i]; i++) {
		switch (keys[i]) {
		case 'h':
			hvlog("'h' pressed -> showing installed handlers");
			hvlog(" key 'e' (ascii '65') => dump evtchn info");
			hvlog(" key 'g' (ascii '67') => print grant table usage");
			hvlog(" key 'h' (ascii '68') => show this message");
			hvlog(" key 'p' (ascii '70') => dump exit profile (performance counters)");
			hvlog(" key 'P' (ascii '50') => reset exit profile (a new phase)");
			hvlog(" key 'q' (ascii '71') => dump domain (and guest debug) info");
			break;
		case 'q':
			hvlog("'q' pressed -> dumping domain info");
			domain_table_lock();
			for (int k = 0; k < DOMAIN_TABLE_SIZE; k++)
				if (domain_table_at(k))
					ctl_dump_domain(domain_table_at(k));
			domain_table_unlock();
			break;
		case 'p':
		case 'P':
			hvlog("'%c' pressed -> %s", keys[i],
			      keys[i] == 'p' ? "dumping exit profile" : "resetting exit profile");
			ctl_profile_key(keys[i] == 'P');
			break;
		case 'e':
		case 'g':
			hvlog(keys[i] == 'e' ? "'e' pressed -> dumping event-channel info"
					     : "'g' pressed -> Grant table usage");
			domain_table_lock();
			for (int k = 0; k < DOMAIN_TABLE_SIZE; k++)
				if (domain_table_at(k))
					(keys[i] == 'e' ? evtchn_dump
							: gnttab_dump)(domain_table_at(k));
			domain_table_unlock();
			break;
		default:
			break;
		}
	}
	return 0;
}

/* A device model's dm_op on an HVM domain (hypervisor/hvm/hvm_ioreq.c;
 * inject_msi: hvm_irq.c); EINVAL for any other. */
static int ctl_dm(struct domain *d, struct ctl_dom *x, const void *in, void *out, uint32_t *out_len)
{
	struct keelctl_dm_req q;
	uint32_t data_len = 0;
	int r;

	memcpy(&q, in, sizeof(q));
	/* what follows the answer: track_dirty_vram's bitmap (32 KiB at most);
	 * an MSI goes to the interrupt code, not the ioreq servers' */
	if (q.op == KEELCTL_DM_INJECT_MSI)
		r = d->hvm ? hvm_inject_msi(d, q.arg[0], q.arg[1]) : -EINVAL;
	else
		r = hvm_dm_op(d, &q, (uint8_t *)out + sizeof(q), &data_len);
	if (r < 0)
		return r;
	memcpy(out, &q, sizeof(q));
	*out_len = sizeof(q) + data_len;
	return 0;
}

/*
 * Xen's XEN_DOMCTL_SENDTRIGGER_NMI: the vCPU gets an NMI, delivered by its
 * kind on the way back to the guest (a PV guest: through its NMI callback,
 * trap-table vector 2); one pending at a time, as Xen's nmi_pending.
 */
static int ctl_send_nmi(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			uint32_t *out_len)
{
	uint32_t vcpu;

	memcpy(&vcpu, in, sizeof(vcpu));
	*out_len = 0;
	if (vcpu >= (uint32_t)d->nr_vcpus)
		return -ESRCH;
	if (!d->kind->send_nmi)
		return -EOPNOTSUPP;
	return d->kind->send_nmi(&d->vcpus[vcpu]);
}

/*
 * Xen's XEN_DOMCTL_sendtrigger as its x86 domctl answers it: a vCPU the
 * domain lacks -ESRCH; NMI as above; the ACPI power and sleep buttons
 * for a kind with ACPI (HVM: its PM1a status and the SCI), -EINVAL for
 * one without; reset, init and anything else -ENOSYS.
 */
static int ctl_send_trigger(struct domain *d, struct ctl_dom *x, const void *in, void *out,
			    uint32_t *out_len)
{
	struct keelctl_trigger_req q;

	memcpy(&q, in, sizeof(q));
	*out_len = 0;
	if (q.vcpu >= (uint32_t)d->nr_vcpus)
		return -ESRCH;
	switch (q.trigger) {
	case KEELCTL_TRIGGER_NMI:
		return ctl_send_nmi(d, x, &q.vcpu, out, out_len);
	case KEELCTL_TRIGGER_POWER:
	case KEELCTL_TRIGGER_SLEEP:
		if (!d->kind->acpi_button)
			return -EINVAL;
		return d->kind->acpi_button(d, q.trigger == KEELCTL_TRIGGER_SLEEP);
	default:
		return -ENOSYS;
	}
}

struct ctl_handler {
	uint32_t op;
	int (*fn)(struct domain *d, struct ctl_dom *x, const void *in, void *out,
		  uint32_t *out_len);
	int needs_domain;
};

static const struct ctl_handler ctl_handlers[] = {
	{KEELCTL_OP_RENAME, ctl_rename, 1},	    {KEELCTL_OP_SET_HANDLE, ctl_set_handle, 1},
	{KEELCTL_OP_SET_MAXMEM, ctl_set_maxmem, 1}, {KEELCTL_OP_VCPU_INFO, ctl_vcpu_info, 1},
	{KEELCTL_OP_SCHED_GET, ctl_sched_get, 1},   {KEELCTL_OP_SCHED_SET, ctl_sched_set, 1},
	{KEELCTL_OP_VERSION, ctl_version, 0},	    {KEELCTL_OP_DMESG_CLEAR, ctl_dmesg_clear, 0},
	{KEELCTL_OP_DEBUG_KEYS, ctl_debug_keys, 0}, {KEELCTL_OP_LOG_DIRTY, ctl_logdirty, 0},
	{KEELCTL_OP_VCPU_PIN, ctl_vcpu_pin, 1},	    {KEELCTL_OP_DM, ctl_dm, 1},
	{KEELCTL_OP_SEND_NMI, ctl_send_nmi, 1},	    {KEELCTL_OP_SEND_TRIGGER, ctl_send_trigger, 1},
};

int ctl_op(uint32_t op, struct domain *d, const void *in, void *out, uint32_t *out_len,
	   const int *fds, int nfds)
{
	if (op == KEELCTL_OP_SAVE_STATE || op == KEELCTL_OP_RESTORE_STATE) {
		struct stat st;

		if (!d)
			return -ESRCH;
		/* a file (xl passes a memfd): a pipe could stall the daemon's loop */
		if (nfds != 1 || fstat(fds[0], &st) < 0 || !S_ISREG(st.st_mode))
			return -EBADF;
		*out_len = 0;
		return op == KEELCTL_OP_SAVE_STATE ? ctl_save_state(d, fds[0])
						   : ctl_restore_state(d, fds[0]);
	}
	if (op == KEELCTL_OP_RESUME) {
		uint32_t cancel;

		if (!d)
			return -ESRCH;
		memcpy(&cancel, in, sizeof(cancel));
		*out_len = 0;
		return ctl_resume(d, cancel != 0);
	}
	for (size_t i = 0; i < sizeof(ctl_handlers) / sizeof(ctl_handlers[0]); i++) {
		const struct ctl_handler *h = &ctl_handlers[i];
		struct ctl_dom *x = NULL;

		if (h->op != op)
			continue;
		if (h->needs_domain) {
			if (!d)
				return -ESRCH;
			x = ctl_lookup(d, 1);
			if (!x)
				return -ENOSPC;
		}
		*out_len = 0;
		return h->fn(d, x, in, out, out_len);
	}
	return -EOPNOTSUPP;
}

static void ctl_pidfile_remove(void)
{
	if (ctl_pidfile_path[0])
		unlink(ctl_pidfile_path);
}

int ctl_pidfile(const char *path)
{
	FILE *f;
	int n = snprintf(ctl_pidfile_path, sizeof(ctl_pidfile_path), "%s", path);

	if (n < 0 || n >= (int)sizeof(ctl_pidfile_path)) {
		ctl_pidfile_path[0] = 0;
		return -ENAMETOOLONG;
	}
	f = fopen(path, "w");
	if (!f) {
		n = -errno;
		ctl_pidfile_path[0] = 0;
		return n;
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0)
		return -EIO;
	atexit(ctl_pidfile_remove);
	return 0;
}
