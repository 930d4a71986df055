/*
 * Runstate: where each vCPU's time goes, as Xen's RUNSTATE_* counts it --
 * running (on a host CPU), runnable (wanting one: the vCPU thread's wait on
 * the host's run queue, from /proc/thread-self/schedstat), blocked (in
 * SCHEDOP_block/poll) and offline (paused, or not up) -- in guest system
 * time, so the four add up to the time since the vCPU started.  Linux's
 * steal time is runnable + offline.
 *
 * Only the vCPU's own thread accounts: at every state change and, while
 * the state holds, at most once a millisecond on its way back to the guest.
 * Each update is published to the guest's registered runstate area, with
 * Xen's protocol when the guest asked for VMASST_TYPE_runstate_update_flag:
 * XEN_RUNSTATE_UPDATE set in state_entry_time first, the record, then the
 * flag cleared, with barriers between, so a reader on another vCPU retries
 * instead of seeing a torn record.  VCPUOP_get_runstate_info answers from
 * the same numbers (snapshot under the vCPU's own lock).  Each full update
 * (account + publish) is timed with the host TSC, so the 'q' debug key
 * shows what the accounting costs per exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../core/domain.h"
#include "pv_domain.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

#define RUNSTATE_REFRESH_NS 1000000ULL /* refresh a held state once a millisecond */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

/* A schedstat file's run-queue wait, ns; @fallback when it cannot be read. */
static uint64_t runstate_read_wait(int fd, uint64_t fallback)
{
	char buf[96];
	unsigned long long run = 0, wait = 0;
	ssize_t n;

	if (fd < 0)
		return fallback;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return fallback;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return fallback;
	return wait;
}

/* The host's run-queue wait of this thread so far, ns (0 without schedstat). */
static uint64_t runstate_wait_ns(struct vcpu *v)
{
	return v->rs.schedstat_fd < 0 ? 0 : runstate_read_wait(v->rs.schedstat_fd, v->rs.last_wait);
}

/*
 * Add dt ns spent in ri's state, of which the thread waited dw for a host
 * CPU: a running or blocked (then woken) vCPU that waited was runnable.
 */
static void runstate_add(struct vcpu_runstate_info *ri, uint64_t dt, uint64_t dw)
{
	if (dw > dt)
		dw = dt;
	switch (ri->state) {
	case RUNSTATE_running:
	case RUNSTATE_blocked:
		ri->time[RUNSTATE_runnable] += dw;
		ri->time[ri->state] += dt - dw;
		break;
	default:
		ri->time[ri->state & 3] += dt;
		break;
	}
}

/* Account the time since the last update to the state held (under rs_lock). */
static void runstate_account(struct vcpu *v, uint64_t now)
{
	uint64_t dt = now > v->rs.info.state_entry_time ? now - v->rs.info.state_entry_time : 0;
	uint64_t wait = runstate_wait_ns(v),
		 dw = wait > v->rs.last_wait ? wait - v->rs.last_wait : 0;

	v->rs.last_wait = wait;
	runstate_add(&v->rs.info, dt, dw);
	v->rs.info.state_entry_time = now;
}

/* Write the record to the guest's area (from the vCPU's own thread). */
static void runstate_publish(struct vcpu *v, const struct vcpu_runstate_info *ri)
{
	uint64_t va = v->runstate_va, flagged = ri->state_entry_time | XEN_RUNSTATE_UPDATE;
	struct vcpu_runstate_info w = *ri;
	int update_flag = !!(v->dom->pv->vm_assist & (1ULL << VMASST_TYPE_runstate_update_flag));

	if (!va)
		return;
	if (update_flag) {
		w.state_entry_time = flagged;
		if (pv_copy_to_guest(v, va + offsetof(struct vcpu_runstate_info, state_entry_time),
				     &flagged, sizeof(flagged)) < 0)
			return;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (pv_copy_to_guest(v, va, &w, sizeof(w)) < 0)
		return;
	if (update_flag) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		pv_copy_to_guest(v, va + offsetof(struct vcpu_runstate_info, state_entry_time),
				 &ri->state_entry_time, sizeof(ri->state_entry_time));
	}
}

void pv_runstate_start(struct vcpu *v)
{
	v->rs.schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	pthread_mutex_lock(&v->rs.lock);
	v->rs.last_wait = runstate_wait_ns(v);
	if (!v->rs.started) {
		/* the vCPU's time starts now, offline until it first runs */
		memset(&v->rs.info, 0, sizeof(v->rs.info));
		v->rs.info.state = RUNSTATE_offline;
		v->rs.info.state_entry_time = pv_time_now(v->dom);
		v->rs.started = 1;
	}
	pthread_mutex_unlock(&v->rs.lock);
}

void pv_runstate_stop(struct vcpu *v)
{
	if (v->rs.schedstat_fd >= 0)
		close(v->rs.schedstat_fd);
	v->rs.schedstat_fd = -1;
}

/* The cost of one full update (account + publish), kept for the 'q' key. */
static void runstate_cost(struct vcpu *v, uint64_t c0)
{
	__atomic_fetch_add(&v->rs.cycles, __rdtsc() - c0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&v->rs.updates, 1, __ATOMIC_RELAXED);
}

void pv_runstate_set(struct vcpu *v, int state)
{
	struct vcpu_runstate_info ri;
	uint64_t c0 = __rdtsc();

	pthread_mutex_lock(&v->rs.lock);
	runstate_account(v, pv_time_now(v->dom));
	v->rs.info.state = state;
	ri = v->rs.info;
	pthread_mutex_unlock(&v->rs.lock);
	runstate_publish(v, &ri);
	runstate_cost(v, c0);
}

void pv_runstate_tick(struct vcpu *v)
{
	uint64_t now = pv_time_now(v->dom);
	struct vcpu_runstate_info ri;

	uint64_t c0;

	if (now - v->rs.info.state_entry_time < RUNSTATE_REFRESH_NS && !v->rs.publish)
		return;
	c0 = __rdtsc();
	pthread_mutex_lock(&v->rs.lock);
	runstate_account(v, now);
	v->rs.publish = 0;
	ri = v->rs.info;
	pthread_mutex_unlock(&v->rs.lock);
	runstate_publish(v, &ri);
	runstate_cost(v, c0);
}

/*
 * The runstate as of now, read from another thread (keeld's control side):
 * the totals plus the time since the vCPU's last update, split as its own
 * update would split it, from thread @tid's schedstat.  Nothing is changed.
 */
void pv_runstate_read(struct vcpu *v, int tid, struct vcpu_runstate_info *out)
{
	char path[64];
	int fd;
	uint64_t now, wait;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	fd = tid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	pthread_mutex_lock(&v->rs.lock);
	now = pv_time_now(v->dom);
	wait = runstate_read_wait(fd, v->rs.last_wait);
	*out = v->rs.info;
	if (v->rs.started && now > out->state_entry_time)
		runstate_add(out, now - out->state_entry_time,
			     wait > v->rs.last_wait ? wait - v->rs.last_wait : 0);
	pthread_mutex_unlock(&v->rs.lock);
	if (fd >= 0)
		close(fd);
}

void pv_runstate_snapshot(struct vcpu *v, struct vcpu_runstate_info *out)
{
	pthread_mutex_lock(&v->rs.lock);
	*out = v->rs.info;
	pthread_mutex_unlock(&v->rs.lock);
}
