/*
 * The credit scheduler without a cpu cgroup controller (cgroup v2-only
 * hosts, containers): keeld enforces weight and cap itself.
 *   weight -> the nice value of each vCPU thread (setpriority on its tid):
 *             CFS gives each nice step about 1.25x the share of the next,
 *             so nice = -log1.25(weight / 256), clamped to -20..19;
 *   cap    -> a CPU-time budget per 100 ms period: a throttle thread looks
 *             at the domain's vCPU threads' CPU clocks every 5 ms and, once
 *             the budget is spent, parks the threads (SIGUSR2, whose handler
 *             waits in sigsuspend) until the period ends.
 * A parked thread that is asked to stop (destroy, pause) is released at
 * the latest at the end of the period, so a domain never stays stuck.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define CTL_THR_PERIOD_NS 100000000ULL
#define CTL_THR_TICK_NS	  5000000L
#define CTL_THR_MAX_TIDS  (DOMAIN_TABLE_SIZE * DOMAIN_MAX_VCPUS)

/* The throttle thread's work: the domains with a cap, by their slot in the
 * domain table (their budget lives in d->ctl->thr).  Under ctl_thr_lock,
 * never the domain table's lock: a parked vCPU thread may hold that one. */
static pthread_mutex_t ctl_thr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct domain *ctl_thr_capped[DOMAIN_TABLE_SIZE];
static int ctl_thr_parked_tids[CTL_THR_MAX_TIDS]; /* read by the signal handler */
static int ctl_thr_started;

static int ctl_thr_is_parked(int tid)
{
	for (int i = 0; i < CTL_THR_MAX_TIDS; i++)
		if (__atomic_load_n(&ctl_thr_parked_tids[i], __ATOMIC_SEQ_CST) == tid)
			return 1;
	return 0;
}

/* In the vCPU thread: wait here while the throttle thread says so. */
static void ctl_thr_signal(int sig)
{
	int tid = gettid(), saved = errno;
	sigset_t wait;

	sigemptyset(&wait);
	while (ctl_thr_is_parked(tid))
		sigsuspend(&wait);
	errno = saved;
}

static uint64_t ctl_thr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ctl_thr_used(struct domain *d)
{
	uint64_t ns = 0;

	for (int k = 0; k < d->nr_vcpus && k < DOMAIN_MAX_VCPUS; k++) {
		clockid_t clk;
		struct timespec ts;

		if (ctl_vcpu_tid(d, k) && pthread_getcpuclockid(d->vcpus[k].thread, &clk) == 0 &&
		    clock_gettime(clk, &ts) == 0)
			ns += (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return ns;
}

static void ctl_thr_park(struct domain *d, int park)
{
	struct ctl_thr *t = &d->ctl->thr;

	for (int k = 0; k < d->nr_vcpus && k < DOMAIN_MAX_VCPUS; k++) {
		int tid = ctl_vcpu_tid(d, k), slot = d->slot * DOMAIN_MAX_VCPUS + k;

		__atomic_store_n(&ctl_thr_parked_tids[slot], park && tid ? tid : 0,
				 __ATOMIC_SEQ_CST);
		if (tid)
			pthread_kill(d->vcpus[k].thread, SIGUSR2);
	}
	t->parked = park;
}

static void *ctl_thr_main(void *arg)
{
	struct timespec tick = {0, CTL_THR_TICK_NS};
	sigset_t block;

	/* the throttle thread itself never takes the park signal */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	for (;;) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&ctl_thr_lock);
		for (int i = 0; i < DOMAIN_TABLE_SIZE; i++) {
			struct domain *d = ctl_thr_capped[i];
			struct ctl_thr *t;
			uint64_t now, used;

			if (!d)
				continue;
			t = &d->ctl->thr;
			now = ctl_thr_now();
			used = ctl_thr_used(d);
			if (now - t->period_start_ns >= CTL_THR_PERIOD_NS) {
				if (t->parked)
					ctl_thr_park(d, 0);
				t->period_start_ns = now;
				t->used_at_start = used;
			} else if (!t->parked &&
				   used - t->used_at_start >= CTL_THR_PERIOD_NS * t->cap / 100) {
				ctl_thr_park(d, 1);
			}
		}
		pthread_mutex_unlock(&ctl_thr_lock);
	}
	return NULL;
}

static int ctl_thr_start(void)
{
	struct sigaction sa = {.sa_handler = ctl_thr_signal};
	pthread_t th;
	int r;

	if (ctl_thr_started)
		return 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	r = -pthread_create(&th, NULL, ctl_thr_main, NULL);
	if (r == 0) {
		pthread_detach(th);
		ctl_thr_started = 1;
	}
	return r;
}

/* Weight as nice values on the vCPU threads (those running now). */
static int ctl_thr_weight(struct domain *d, uint32_t weight)
{
	double x = (double)weight / 256.0;
	int nice = 0;

	/* -log1.25(x) rounded: step by 1.25 while beyond half a step (1.118) */
	while (x >= 1.118 && nice > -20) {
		x /= 1.25;
		nice--;
	}
	while (x < 1 / 1.118 && nice < 19) {
		x *= 1.25;
		nice++;
	}
	for (int k = 0; k < d->nr_vcpus && k < DOMAIN_MAX_VCPUS; k++) {
		int tid = ctl_vcpu_tid(d, k);

		if (tid && setpriority(PRIO_PROCESS, (id_t)tid, nice) < 0)
			return -errno;
	}
	return 0;
}

int ctl_throttle_apply(struct domain *d, uint32_t weight, uint32_t cap)
{
	struct ctl_thr *t = &d->ctl->thr;
	int r = ctl_thr_weight(d, weight);

	if (r < 0)
		return r;
	if (cap && (r = ctl_thr_start()) < 0)
		return r;
	if (d->slot < 0 || d->slot >= DOMAIN_TABLE_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&ctl_thr_lock);
	if (cap && !ctl_thr_capped[d->slot]) {
		t->period_start_ns = ctl_thr_now();
		t->used_at_start = ctl_thr_used(d);
		t->parked = 0;
		ctl_thr_capped[d->slot] = d;
	}
	if (cap) {
		t->cap = cap;
	} else if (ctl_thr_capped[d->slot]) { /* cap lifted */
		if (t->parked)
			ctl_thr_park(d, 0);
		ctl_thr_capped[d->slot] = NULL;
	}
	pthread_mutex_unlock(&ctl_thr_lock);
	return r;
}

void ctl_throttle_forget(struct domain *d)
{
	if (!d->ctl || d->slot < 0 || d->slot >= DOMAIN_TABLE_SIZE)
		return;
	pthread_mutex_lock(&ctl_thr_lock);
	if (ctl_thr_capped[d->slot] == d) {
		if (d->ctl->thr.parked)
			ctl_thr_park(d, 0);
		ctl_thr_capped[d->slot] = NULL;
	}
	pthread_mutex_unlock(&ctl_thr_lock);
}
