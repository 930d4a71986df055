/*
 * Xen's suspend protocol for the runtime's guests, as Linux's
 * drivers/xen/manage.c answers it: the toolstack writes "suspend" to
 * control/shutdown; the guest acknowledges (writes ""), quiesces and calls
 * SCHEDOP_shutdown(SHUTDOWN_suspend) with its start_info frame in the third
 * argument.  The call returns 1 when the suspend was cancelled (xl save -c
 * of a kernel with XEN_ELFNOTE_SUSPEND_CANCEL, which head.S declares): the
 * domain carries on as it was.  It returns 0 in a new life (a restore, or a
 * checkpoint of a kernel without that note): the same RAM and vCPU
 * registers, but hypervisor state as in a new domain (ports closed,
 * timers stopped, the grant table to set up again), new store and console
 * ports in start_info, and the store re-introduced.  The runtime then
 * redoes what it set up itself (shared_info, event callback, every vCPU's
 * VIRQ_TIMER port, grant frames, the xenbus port and watches) and calls
 * the hooks of whoever set up more (drivers, the test program).
 *
 * Single-threaded like the rest of the runtime: call these from vCPU 0's
 * main loop, not while a xenbus request is under way.  Other vCPUs keep
 * running through the suspend (on Xen their registers are saved and
 * restored); while rt_suspending() they must not trust a port number they
 * read earlier, and after it they read their timer port again.
 */
#ifndef KEEL_RT_SUSPEND_H
#define KEEL_RT_SUSPEND_H

#include <stdint.h>

enum {
	RT_SUSPEND_NONE = 0,	  /* no suspend asked for */
	RT_SUSPEND_RESUMED = 1,	  /* suspended, now in a new life (hypercall returned 0) */
	RT_SUSPEND_CANCELLED = 2, /* suspend cancelled, nothing reset (hypercall returned 1) */
};

/*
 * Answer suspend requests: watch control/shutdown and advertise
 * control/feature-suspend = 1.  0, or a negative errno (-XEN_ENOSYS when
 * the domain has no store).
 */
int rt_suspend_enable(void);
/*
 * Without waiting: if control/shutdown says "suspend" (the watch fired),
 * acknowledge it and suspend.  RT_SUSPEND_NONE / _RESUMED / _CANCELLED, or
 * a negative errno.  Other requests (poweroff, reboot...) are left alone.
 */
int rt_suspend_poll(void);
/*
 * Sleep on vCPU 0's VIRQ_TIMER until deadline (pvclock ns) or until the
 * store has something for us, then rt_suspend_poll().  A loop of these is
 * an idle guest that can be saved and restored.
 */
int rt_suspend_sleep_until(uint64_t deadline);
/*
 * The suspend itself, already acknowledged: RT_SUSPEND_RESUMED or
 * RT_SUSPEND_CANCELLED, or a negative errno when the hypervisor refused
 * (everything is then as after a cancel).
 */
int rt_suspend(void);

/*
 * A hook run after the runtime's own state is back: resume(fresh, arg),
 * fresh = 1 in a new life (redo ports, VIRQs, registrations, frontend
 * handshakes), 0 after a cancel.  suspend(arg), if not NULL, runs first,
 * before the runtime lets go of anything.  Up to 8; -XEN_ENOSPC beyond.
 */
int rt_suspend_hook(void (*suspend)(void *arg), void (*resume)(int fresh, void *arg), void *arg);

/* Set while a suspend is under way (before the hypercall, until vCPU 0
 * has bound the timer ports again); suspends completed so far. */
int rt_suspending(void);
unsigned rt_suspend_count(void);

#endif
