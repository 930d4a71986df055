/*
 * Xen's suspend protocol for the runtime (suspend.h), in the order Linux's
 * do_suspend / xen_suspend follow: the request acknowledged in the store,
 * the drivers' hooks, the grant frames and shared_info unmapped, start_info's
 * store and console frames made pseudo-physical (the toolstack turns them
 * back into machine frames on a restore: Linux's xen_pv_pre_suspend), then
 * SCHEDOP_shutdown(SHUTDOWN_suspend) naming start_info's frame in rdx.
 * Afterwards the same steps backwards; in a new life each layer also
 * redoes what the hypervisor forgot.
 */
#include "evtchn.h"
#include "gnttab.h"
#include "keel_guest.h"
#include "page.h"
#include "suspend.h"
#include "xenbus.h"

#define RT_SUSPEND_TOKEN "rt-suspend"
#define RT_SUSPEND_HOOKS 8

static struct {
	void (*suspend)(void *arg);
	void (*resume)(int fresh, void *arg);
	void *arg;
} rt_hooks[RT_SUSPEND_HOOKS];
static unsigned rt_nhooks, rt_suspends;
static volatile int rt_busy;
static int rt_enabled;

int rt_suspend_hook(void (*suspend)(void *arg), void (*resume)(int fresh, void *arg), void *arg)
{
	if (rt_nhooks == RT_SUSPEND_HOOKS)
		return -XEN_ENOSPC;
	rt_hooks[rt_nhooks].suspend = suspend;
	rt_hooks[rt_nhooks].resume = resume;
	rt_hooks[rt_nhooks].arg = arg;
	rt_nhooks++;
	return 0;
}

int rt_suspending(void)
{
	return __atomic_load_n(&rt_busy, __ATOMIC_ACQUIRE);
}

unsigned rt_suspend_count(void)
{
	return rt_suspends;
}

int rt_suspend_enable(void)
{
	int r;

	if (rt_enabled)
		return 0;
	if (!rt_start_info->store_mfn || !rt_start_info->store_evtchn)
		return -XEN_ENOSYS;
	r = xb_watch("control/shutdown", RT_SUSPEND_TOKEN);
	if (r < 0)
		return r;
	rt_enabled = 1;
	/* what Linux's setup_shutdown_watcher advertises for "suspend" */
	return xb_write("control/feature-suspend", "1");
}

int rt_suspend_poll(void)
{
	char req[32];
	int seen = 0, r;

	if (!rt_enabled)
		return RT_SUSPEND_NONE;
	while ((r = xb_poll_watch(RT_SUSPEND_TOKEN, NULL, 0)) > 0)
		seen = 1;
	if (r < 0)
		return r;
	if (!seen)
		return RT_SUSPEND_NONE;
	r = xb_read("control/shutdown", req, sizeof(req));
	if (r < 0 || !rt_streq(req, "suspend"))
		return RT_SUSPEND_NONE;	      /* gone, empty, or a request for someone else */
	r = xb_write("control/shutdown", ""); /* the acknowledgement xl waits for */
	if (r < 0)
		return r;
	return rt_suspend();
}

int rt_suspend_sleep_until(uint64_t deadline)
{
	uint32_t ports[2];
	unsigned n = 0;
	long r = rt_timer_port(0);
	uint64_t now = rt_now_ns();

	if (r < 0)
		return (int)r;
	ports[n++] = (uint32_t)r;
	if (rt_enabled)
		ports[n++] = xb_evtchn();
	if (now < deadline) {
		/* no timeout of our own: a timer lost over a resume shows as a hang */
		if (rt_set_timer(deadline, 0) == 0)
			rt_evtchn_wait(ports, n, 0);
		else
			rt_evtchn_wait(ports, n, deadline - now);
	}
	return rt_suspend_poll();
}

/* A frame number start_info holds, made pseudo-physical for the suspend. */
static uint64_t rt_canonical(uint64_t *mfn)
{
	if (*mfn)
		*mfn = rt_mfn_to_pfn(*mfn);
	return *mfn;
}

/* ... and back: after a cancel always, in a new life only if the
 * toolstack left the field as the guest wrote it. */
static void rt_uncanonical(uint64_t *field, uint64_t pfn, int fresh)
{
	if (pfn && (!fresh || *field == pfn))
		*field = rt_pfn_to_mfn(pfn);
}

int rt_suspend(void)
{
	struct start_info *si = rt_start_info;
	struct sched_shutdown s = {SHUTDOWN_suspend};
	uint64_t si_mfn = rt_virt_to_mfn(si), store_pfn, con_pfn;
	long r, er;
	int fresh, gr, xr;

	r = xb_suspend();
	if (r)
		return (int)r;
	__atomic_store_n(&rt_busy, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < rt_nhooks; i++)
		if (rt_hooks[i].suspend)
			rt_hooks[i].suspend(rt_hooks[i].arg);
	gnt_suspend();
	rt_events_suspend();
	store_pfn = rt_canonical(&si->store_mfn);
	con_pfn = rt_canonical(&si->console.domU.mfn);

	r = HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &s, si_mfn);

	fresh = r == 0;
	rt_uncanonical(&si->store_mfn, store_pfn, fresh);
	rt_uncanonical(&si->console.domU.mfn, con_pfn, fresh);
	er = rt_events_resume(fresh);
	__atomic_store_n(&rt_busy, 0, __ATOMIC_RELEASE); /* timer ports are bound again */
	gr = gnt_resume(fresh);
	xr = xb_resume(fresh);
	/* a restored domain's control/ is the toolstack's new one */
	if (fresh && !xr)
		xr = xb_write("control/feature-suspend", "1");
	rt_suspends++;
	if (er || gr || xr)
		rt_printf("rt_suspend: resume (%s): events %ld, grants %d, xenbus %d\n",
			  fresh ? "new life" : "cancelled", er, gr, xr);
	for (unsigned i = 0; i < rt_nhooks; i++)
		if (rt_hooks[i].resume)
			rt_hooks[i].resume(fresh, rt_hooks[i].arg);
	if (r < 0)
		return (int)r;
	return fresh ? RT_SUSPEND_RESUMED : RT_SUSPEND_CANCELLED;
}
