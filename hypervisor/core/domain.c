/*
 * Domain lifetime, for every kind: memory (one memfd: guest RAM, then
 * keeld's region), the KVM VM with both as memory slots, and the vCPUs; the
 * kind's part and each subsystem's state (domain_new / domain_free); pause,
 * crash and shutdown bookkeeping; and keeld's own log, which `keeld
 * daemon` serves as the hypervisor's dmesg.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "abi/console.h"
#include "abi/xen.h"
#include "domain.h"
#include "kind.h"

#define HVLOG_SIZE (64 * 1024)
static char hvlog_buf[HVLOG_SIZE];
static size_t hvlog_head; /* total bytes ever written */
static pthread_mutex_t hvlog_lock = PTHREAD_MUTEX_INITIALIZER;
int hvlog_to_stderr = 1;
void (*domain_state_hook)(struct domain *d);

static void domain_kick(struct domain *d);

static void domain_state_changed(struct domain *d)
{
	if (domain_state_hook)
		domain_state_hook(d);
}
struct timespec keeld_run_start;

void hvlog(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	pthread_mutex_lock(&hvlog_lock);
	for (int i = 0; i < n; i++)
		hvlog_buf[(hvlog_head + i) % HVLOG_SIZE] = line[i];
	hvlog_head += n;
	pthread_mutex_unlock(&hvlog_lock);
	if (hvlog_to_stderr)
		fprintf(stderr, "(keeld) %.*s", n, line);
}

/* xl dmesg -c: what was logged so far is not read again. */
void hvlog_clear(void)
{
	pthread_mutex_lock(&hvlog_lock);
	hvlog_head = 0;
	pthread_mutex_unlock(&hvlog_lock);
}

size_t hvlog_read(char *buf, size_t size)
{
	size_t n, start;

	pthread_mutex_lock(&hvlog_lock);
	n = hvlog_head < HVLOG_SIZE ? hvlog_head : HVLOG_SIZE;
	if (n > size)
		n = size;
	start = hvlog_head - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = hvlog_buf[(start + i) % HVLOG_SIZE];
	pthread_mutex_unlock(&hvlog_lock);
	return n;
}

void domain_log(struct domain *d, const char *fmt, ...)
{
	char msg[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hvlog("d%d: %s", d->domid, msg);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_CRASHED || d->state == DOM_SHUTDOWN) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(d->crash_reason, sizeof(d->crash_reason), fmt, ap);
	va_end(ap);
	d->state = DOM_CRASHED;
	d->shutdown_reason = 3; /* SHUTDOWN_crash */
	pthread_mutex_unlock(&d->lock);
	hvlog("d%d: crashed: %s", d->domid, d->crash_reason);
	domain_kick(d);
	domain_state_changed(d);
}

/* Keep the tail of a domain's console output (bounded: the oldest half is
 * dropped when full) for CONSOLE_READ; also copy it to d->console. */
void domain_console_write(struct domain *d, const char *buf, size_t n)
{
	if (d->timing && n) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		hvlog("timing: first console byte %.1f us after keeld run started",
		      (now.tv_sec - keeld_run_start.tv_sec) * 1e6 +
			      (now.tv_nsec - keeld_run_start.tv_nsec) / 1e3);
		d->timing = 0;
	}
	if (d->console) {
		fwrite(buf, 1, n, d->console);
		fflush(d->console);
	}
	if (!d->conbuf_size)
		return;
	pthread_mutex_lock(&d->lock);
	if (!d->conbuf)
		d->conbuf = malloc(d->conbuf_size);
	if (d->conbuf) {
		if (n > d->conbuf_size / 2) {
			buf += n - d->conbuf_size / 2;
			n = d->conbuf_size / 2;
		}
		if (d->conbuf_len + n > d->conbuf_size) {
			size_t drop = d->conbuf_len - d->conbuf_size / 2;

			memmove(d->conbuf, d->conbuf + drop, d->conbuf_len - drop);
			d->conbuf_len -= drop;
		}
		memcpy(d->conbuf + d->conbuf_len, buf, n);
		d->conbuf_len += n;
	}
	pthread_mutex_unlock(&d->lock);
}

/* Shut d down with a SHUTDOWN_* reason, asked for by the guest itself or
 * by dom0 (`remote`); a domain already shut down or crashed keeps its
 * first reason, as Xen's domain_shutdown keeps its shutdown_code. */
static void domain_shutdown_as(struct domain *d, int reason, int remote)
{
	int changed = 0;

	pthread_mutex_lock(&d->lock);
	if (d->state != DOM_CRASHED && d->state != DOM_SHUTDOWN) {
		d->state = reason == SHUTDOWN_crash ? DOM_CRASHED : DOM_SHUTDOWN;
		d->shutdown_reason = reason;
		if (reason == SHUTDOWN_crash)
			snprintf(d->crash_reason, sizeof(d->crash_reason),
				 "%s requested SHUTDOWN_crash", remote ? "dom0" : "guest");
		if (remote && reason == SHUTDOWN_suspend)
			d->suspend_vcpu = -1;
		changed = 1;
		/* a paused vCPU waiting for its unpause leaves now too */
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	hvlog("d%d: shutdown, reason %d%s%s", d->domid, reason, remote ? " (asked by dom0)" : "",
	      changed ? "" : " (already down: unchanged)");
	/* every vCPU leaves the guest (a suspend is saved once all have) */
	domain_kick(d);
	domain_state_changed(d);
}

void domain_shutdown(struct domain *d, int reason)
{
	domain_shutdown_as(d, reason, 0);
}

void domain_remote_shutdown(struct domain *d, int reason)
{
	domain_shutdown_as(d, reason, 1);
	if (reason == SHUTDOWN_suspend && d->kind->suspended)
		d->kind->suspended(d);
}

const char *domain_state_name(enum domain_state s)
{
	static const char *const names[] = {"created", "running", "paused", "shutdown", "crashed"};

	return s <= DOM_CRASHED ? names[s] : "?";
}

struct shared_info *domain_shared_info(struct domain *d)
{
	return (struct shared_info *)(d->shim + d->kind->shared_info_off);
}

void domain_populate_below(struct domain *d, uint64_t pages)
{
	for (uint64_t f = pages; f < d->nr_pages; f++)
		d->released[f / 8] |= 1 << (f % 8);
	if (pages < d->nr_pages)
		d->cur_pages = pages;
}

int domain_owns_frame(struct domain *d, uint64_t gfn)
{
	return gfn < d->nr_pages && !(d->released && (d->released[gfn / 8] >> (gfn % 8)) & 1);
}

struct vcpu_info *vcpu_info(struct vcpu *v)
{
	if (v->vcpu_info_gpa)
		return (struct vcpu_info *)(v->dom->ram + v->vcpu_info_gpa);
	return &domain_shared_info(v->dom)->vcpu_info[v->id];
}

/* Memory, the VM and its vCPUs. */
static int domain_make(struct domain *d, uint64_t nr_pages, int nr_vcpus, unsigned flags)
{
	uint64_t ram;
	int r, i;

	d->memfd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->mm_lock, NULL);
	{
		/* pv_vcpu_wait's deadlines are CLOCK_MONOTONIC (guest system
		 * time); with the default (realtime) clock they were long past
		 * and a blocked vCPU spun instead of sleeping. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&d->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	/* 4 MiB at least; RAM-only test domains may be as small as 16 frames */
	if (nr_pages < ((flags & DOMAIN_NO_KVM) ? 16 : 1024) ||
	    nr_pages > ((uint64_t)DOMAIN_MAX_MEM_MB << 8) || nr_vcpus < 1 ||
	    nr_vcpus > DOMAIN_MAX_VCPUS)
		return -EINVAL;
	ram = nr_pages << DOMAIN_PAGE_SHIFT;
	d->nr_pages = nr_pages;
	d->max_pages = d->nr_pages;
	d->cur_pages = d->nr_pages;
	d->shim_size = d->kind->region_size(d->nr_pages);
	d->memfd = memfd_create("keel-domain", MFD_CLOEXEC);
	if (d->memfd < 0)
		return -errno;
	if (ftruncate(d->memfd, ram + d->shim_size) < 0)
		return -errno;
	d->ram = mmap(NULL, ram + d->shim_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->ram == MAP_FAILED) {
		d->ram = NULL;
		return -errno;
	}
	d->shim = d->ram + ram;
	d->released = calloc((d->nr_pages + 7) / 8, 1);
	if (!d->released)
		return -ENOMEM;
	d->nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus; i++) {
		d->vcpus[i].dom = d;
		d->vcpus[i].id = i;
		d->vcpus[i].kvm.fd = -1;
		d->vcpus[i].rs.schedstat_fd = -1;
		memset(d->vcpus[i].aff_hard, 0xff, sizeof(d->vcpus[i].aff_hard));
		memset(d->vcpus[i].aff_soft, 0xff, sizeof(d->vcpus[i].aff_soft));
		pthread_mutex_init(&d->vcpus[i].rs.lock, NULL);
	}
	if (flags & DOMAIN_NO_KVM)
		return 0;
	r = kvm_vm_create(&d->vm);
	if (r == 0 && d->kind->vm_setup)
		r = d->kind->vm_setup(d);
	else if (r == 0)
		r = kvm_vm_add_memory(&d->vm, 0, ram, d->ram);
	if (r == 0 && !d->kind->vm_setup)
		r = kvm_vm_add_memory(&d->vm, d->kind->region_gpa, d->shim_size, d->shim);
	for (i = 0; i < nr_vcpus && r == 0; i++)
		r = kvm_vcpu_create(&d->vm,
				    i * (d->kind->apic_id_stride ? d->kind->apic_id_stride : 1),
				    &d->vcpus[i].kvm);
	return r;
}

struct domain *domain_new(const struct domain_kind *kind, const char *name, uint64_t nr_pages,
			  int nr_vcpus, unsigned flags, int *err)
{
	struct domain *d = calloc(1, sizeof(*d));
	int r, kind_done = 0;

	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->kind = kind;
	d->slot = -1;
	r = domain_make(d, nr_pages, nr_vcpus, flags);
	if (r == 0) {
		r = kind->init(d);
		kind_done = r == 0;
	}
	if (r == 0)
		r = domain_table_add(d);
	if (r == 0) {
		if (name && name[0])
			snprintf(d->name, sizeof(d->name), "%s", name);
		else
			snprintf(d->name, sizeof(d->name), "domain-%d", d->domid);
		r = domain_subsys_init(d, &d->subsys_done);
	}
	if (r < 0) {
		if (!kind_done)
			d->kind = NULL; /* nothing of the kind's to drop */
		domain_free(d);
		*err = r;
		return NULL;
	}
	return d;
}

void domain_free(struct domain *d)
{
	domain_stop_threads(d);
	/* Out of the table first: no other domain finds it from now on. */
	domain_table_remove(d);
	/* Then each subsystem's state, last registered first (event channels
	 * before grant maps: other domains' channels to this one are torn
	 * down before anything else goes). */
	domain_subsys_destroy(d, d->subsys_done);
	if (d->kind)
		d->kind->destroy(d);
	for (int i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].kvm.run || d->vcpus[i].kvm.fd > 0)
			kvm_vcpu_destroy(&d->vcpus[i].kvm);
	if (d->vm.vm_fd > 0)
		kvm_vm_destroy(&d->vm);
	if (d->ram)
		munmap(d->ram, (d->nr_pages << DOMAIN_PAGE_SHIFT) + d->shim_size);
	if (d->memfd >= 0)
		close(d->memfd);
	free(d->released);
	free(d->logdirty);
	free(d->conbuf);
	free(d);
}

/* Make every vCPU leave KVM_RUN (or its wait) so it sees a state change. */
static void domain_kick(struct domain *d)
{
	pthread_cond_broadcast(&d->cond);
	for (int i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].online && d->vcpus[i].kvm.run)
			vcpu_kick(&d->vcpus[i]);
}

/* vCPU 0's thread, and those of the other vCPUs its kind or the guest
 * had made ready (initialised). */
static int domain_create_threads(struct domain *d)
{
	int r = -pthread_create(&d->vcpus[0].thread, NULL, d->kind->vcpu_main, &d->vcpus[0]);

	if (r == 0)
		d->threads_started = 1;
	for (int k = 1; k < d->nr_vcpus && r == 0; k++) {
		struct vcpu *v = &d->vcpus[k];

		if (!v->initialised)
			continue;
		r = -pthread_create(&v->thread, NULL, d->kind->vcpu_main, v);
		if (r == 0)
			v->thread_created = 1;
	}
	return r;
}

/* Start the vCPU threads (vCPU 0 online, at the entry its kind set; a PV
 * guest brings the others up with VCPUOP_up, an HVM kind's wait in KVM
 * for their start-up IPIs). */
int domain_start(struct domain *d)
{
	int r;

	r = d->kind->start(d);
	if (r < 0)
		return r;
	d->started = 1;
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_CREATED)
		d->state = DOM_PAUSED;
	pthread_mutex_unlock(&d->lock);
	return domain_create_threads(d);
}

void domain_pause(struct domain *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_RUNNING)
		d->state = DOM_PAUSED;
	pthread_mutex_unlock(&d->lock);
	domain_kick(d);
	domain_state_changed(d);
}

void domain_unpause(struct domain *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_PAUSED)
		d->state = DOM_RUNNING;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	domain_state_changed(d);
}

/* Wait for every vCPU thread of the domain to end. */
static void domain_join_threads(struct domain *d)
{
	if (d->threads_started)
		pthread_join(d->vcpus[0].thread, NULL);
	d->threads_started = 0;
	for (int i = 1; i < d->nr_vcpus; i++)
		if (d->vcpus[i].thread_created) {
			pthread_join(d->vcpus[i].thread, NULL);
			d->vcpus[i].thread_created = 0;
		}
}

/* Start the threads of a domain whose vCPUs hold their state already
 * (restored, or resumed after a suspend): vCPU 0's, and the others' the
 * guest had brought up.  The threads of an earlier run ended when the
 * domain suspended: they are joined first. */
int domain_restart_threads(struct domain *d)
{
	domain_join_threads(d);
	d->started = 1;
	return domain_create_threads(d);
}

void domain_stop_threads(struct domain *d)
{
	pthread_mutex_lock(&d->lock);
	d->dying = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	domain_kick(d);
	domain_join_threads(d);
}

int vcpu_apply_affinity(struct vcpu *v, int tid)
{
	cpu_set_t set;
	int any = 0;

	CPU_ZERO(&set);
	for (int c = 0; c < 256 && c < CPU_SETSIZE; c++)
		if (v->aff_hard[c / 64] >> (c % 64) & 1) {
			CPU_SET(c, &set);
			any = 1;
		}
	if (!any)
		return -EINVAL;
	return sched_setaffinity(tid, sizeof(set), &set) < 0 ? -errno : 0;
}
