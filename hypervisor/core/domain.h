/*
 * A Keel domain as keeld holds it, whatever its kind: guest RAM (one memfd,
 * then keeld's own region of the domain: shared_info, grant frames and
 * whatever the kind keeps there), the KVM VM, the vCPUs, the state every
 * Xen domain has (event channels, grant tables, time, the console), and a
 * pointer to the kind's own part (pv/pv_domain.h for PV).  Domains are made
 * and unmade in one place (domain_new / domain_free); each subsystem that
 * keeps state per domain registers {init, destroy} (and save records) with
 * DOMAIN_SUBSYS, and finds its state in the domain, never in a side table.
 */
#ifndef KEEL_HV_DOMAIN_H
#define KEEL_HV_DOMAIN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "abi/arch-x86_64.h"
#include "abi/shared_info.h"
#include "abi/xen.h"
#include "kvm.h"

#define DOMAIN_MAX_VCPUS      8
#define DOMAIN_MAX_MEM_MB     4096
#define DOMAIN_TABLE_SIZE     64 /* live domains at once */
#define DOMAIN_MAX_DOM0_BINDS 64
#define DOMAIN_PAGE_SHIFT     12
#define DOMAIN_PAGE_SIZE      4096ULL

enum domain_state { DOM_CREATED, DOM_RUNNING, DOM_PAUSED, DOM_SHUTDOWN, DOM_CRASHED };

struct domain_kind; /* kind.h */
struct pv_domain;   /* ../pv/pv_domain.h: the PV kind's part */
struct hvm_domain;  /* ../hvm/hvm_domain.h: the HVM kind's part */
struct pv_vcpu;
struct evtchn;
struct evtchn_fifo;
struct gnttab_maps;
struct ctl_dom;

/* A vCPU of any kind: its thread and KVM state, and what Xen keeps for
 * every vCPU (vcpu_info placement, timers, runstate, VIRQ bindings). */
struct vcpu {
	struct domain *dom;
	struct kvm_vcpu_ctx kvm;
	pthread_t thread;
	int thread_valid;
	int id;
	int online;
	int initialised;    /* has a context (boot, or VCPUOP_initialise) */
	int thread_created; /* a pthread of its own (vCPU 0's is threads_started) */
#ifdef KEEL_TEST_LAYOUT
	uint8_t test_layout_pad[KEEL_TEST_LAYOUT];
#endif
	uint64_t vcpu_info_gpa; /* 0: the legacy slot in shared_info */
	uint64_t runstate_va;
	uint64_t time_area_va;	      /* VCPUOP_register_vcpu_time_memory_area; 0 = none */
	int tsc_off_logged;	      /* its TSC was off the domain's time line (logged once) */
	uint64_t timer_deadline;      /* guest system time, ns; 0 = none: the nearer of */
	uint64_t singleshot_deadline; /* the one-shot timer and */
	uint64_t periodic_period, periodic_next; /* the periodic one (pv_time.c) */
	timer_t timer;				 /* fires SIGUSR1 at this thread at the deadline */
	int timer_ok;
	int blocked;		/* in SCHEDOP_block/poll, waiting on dom->cond */
	uint32_t virq_port[24]; /* NR_VIRQS */
	uint64_t hypercalls, exits;
	uint64_t interrupts, async_upcalls; /* KVM_RUN left for a signal; upcalls delivered then */
	/* host-CPU affinity (xl vcpu-pin, cpus=): hard is applied to the
	 * thread, soft only kept; all ones = every CPU */
	uint64_t aff_hard[4], aff_soft[4];
	struct { /* runstate accounting (pv_runstate.c) */
		pthread_mutex_t lock;
		struct vcpu_runstate_info info; /* what the guest is shown */
		uint64_t last_wait;		/* host run-queue wait seen so far, ns */
		int schedstat_fd;
		int started;
		int publish;		  /* the area moved: write it at the next tick */
		uint64_t updates, cycles; /* full updates so far, host TSC cycles in them */
	} rs;
	struct pv_vcpu *pv; /* the PV kind's part */
};

struct domain {
	int domid;
	int slot; /* in the domain table */
	const struct domain_kind *kind;
	struct pv_domain *pv;	/* the PV kind's part */
	struct hvm_domain *hvm; /* the HVM kind's part */
#ifdef KEEL_TEST_LAYOUT
	/* a build whose struct layout differs (tests/integration/save-crossbuild) */
	uint8_t test_layout_pad[KEEL_TEST_LAYOUT];
#endif
	char name[64];
	enum domain_state state;
	int shutdown_reason;
	char crash_reason[256];
	int memfd;
	uint8_t *ram; /* guest RAM, nr_pages frames */
	uint64_t nr_pages;
	uint8_t *shim; /* keeld's region of the domain, after RAM (kind.h: region_gpa) */
	uint64_t shim_size;
	struct kvm_vm vm;
	int nr_vcpus;
	struct vcpu vcpus[DOMAIN_MAX_VCPUS];
	uint64_t cur_pages; /* nr_pages less what the guest gave back */
	uint8_t *released;  /* bitmap: frames given back (decrease_reservation) */
	int started;
	int trace;
	int timing; /* log the time to the first console byte (KEEL_TIMING=1) */
	uint64_t tsc_khz;
	struct timespec start_wall; /* log every hypercall and bounce (KEEL_TRACE=1) */
	uint64_t max_pages;
	FILE *console; /* where the console ring's output goes (keeld run: stdout; NULL: none) */
	/* console_io lines on their way to the hypervisor log (guest_log.c; under lock) */
	struct domain_guest_log {
		char line[200]; /* Xen's DOMAIN_PBUF_SIZE */
		unsigned len;
		int started;
		uint64_t tokens, last_ms, suppressed;
	} guest_log;
	pthread_mutex_t lock;
	pthread_mutex_t mm_lock; /* page types: one vCPU at a time */
	pthread_cond_t cond;	 /* state changes (pause/unpause/destroy) */
	int dying;
	int notified_state; /* last state sent to subscribers (daemon) */
	int threads_started;
	struct evtchn *evtchns;	   /* port table (evtchn.c), allocated on first use */
	struct evtchn_fifo *fifo;  /* FIFO ABI state (evtchn_fifo.c); NULL: 2-level */
	uint32_t evtchn_max_port;  /* max_event_channels; 0: libxl's default */
	struct gnttab_maps *gmaps; /* what it maps of other domains' grants (gnttab_map.c) */
	uint16_t *grant_pins;	   /* per frame: grant entries a live map holds on it */
	struct ctl_dom *ctl;	   /* the toolstack's facts (ctl/) */
	void (*on_send)(struct domain *d, uint32_t port); /* send on an unbound port */
	uint32_t console_port, store_port;
	struct domain_dom0_bind {
		uint32_t port; /* 0: the guest closed it */
		int g2d_fd, d2g_fd;
		int owner; /* the control connection that bound it (daemon) */
	} dom0_binds[DOMAIN_MAX_DOM0_BINDS];
	int n_dom0_binds;
	uint64_t enosys_logged;
	uint32_t gnttab_frames;
	uint8_t gnttab_version;			   /* 2: version 2 (set_version); else 1 */
	/* grant-table frames set up (gnttab.c) */ /* hypercall numbers already reported */
	uint64_t console_mfn, store_mfn;
	struct timespec mono_base; /* guest system time 0 */
	/* With a stable TSC, guest system time is one line in the guest's TSC
	 * (pv_time.c): ns = ns0 + scale(tsc - tsc0); host_off is the guest's
	 * TSC less the host's.  set: the line is in use. */
	struct domain_time_line {
		int set;
		uint64_t tsc0, ns0;
		int64_t host_off;
	} tline;
	/* console ring output keeld drained itself while no backend had bound
	 * the console port (pv_console_drain), kept for CONSOLE_READ (daemon mode) */
	char *conbuf;
	size_t conbuf_size, conbuf_len;
	void (*on_stop)(struct domain *d);
	/* Xen's suspend protocol (SCHEDOP_shutdown(SHUTDOWN_suspend)): the vCPU
	 * that asked (the kind keeps what else it named); -1 when dom0 shut the
	 * domain down with SHUTDOWN_suspend (domain_remote_shutdown): the guest
	 * never suspended itself, so there is nothing to save or resume. */
	int suspend_vcpu;
	int threads_running; /* vCPU threads inside their loop (under lock) */
	int subsys_done;     /* subsystems set up (domain_new) */
	/* Log-dirty for live migration (ctl/ctl_logdirty.c): frames written
	 * behind KVM's back (keeld's own writes, grant copies) while on; the
	 * bitmap is made on first use and kept until the domain goes, so a
	 * vCPU thread marking a frame never races with its free. */
	uint64_t *logdirty;
	int logdirty_on;
};

/* Frame pfn of d was written by keeld or dom0, not by the guest's vCPU
 * (KVM's log misses those): remember it while log-dirty is on. */
static inline void domain_dirty_mark(struct domain *d, uint64_t pfn)
{
	if (__atomic_load_n(&d->logdirty_on, __ATOMIC_ACQUIRE) && pfn < d->nr_pages)
		__atomic_fetch_or(&d->logdirty[pfn / 64], 1ULL << (pfn % 64), __ATOMIC_RELAXED);
}

/* A new domain of a kind: nr_pages of RAM, keeld's region, the KVM VM and
 * vCPUs (not with DOMAIN_NO_KVM: RAM-only domains for unit tests and
 * fuzzing), the
 * kind's part and every subsystem's state; entered in the domain table
 * under the next domid.  NULL with *err set. */
#define DOMAIN_NO_KVM 1u
struct domain *domain_new(const struct domain_kind *kind, const char *name, uint64_t nr_pages,
			  int nr_vcpus, unsigned flags, int *err);
/* Stop its threads, leave the table, each subsystem's destroy (last
 * registered first), the kind's, then memory and KVM. */
void domain_free(struct domain *d);
/* Before it is built: only frames [0, pages) populated, the rest of its
 * space given back (Xen's memory= below maxmem=; populate_physmap takes
 * them again, up to max_pages). */
void domain_populate_below(struct domain *d, uint64_t pages);

/* Per-domain state of a subsystem (event channels, grant tables, the
 * toolstack's facts): made with the domain, dropped with it, in order
 * (destroy runs from the highest order down).  Registered at start-up. */
struct srb;
struct saverec;
struct domain_subsys {
	const char *name;
	int order;
	int (*init)(struct domain *d);
	void (*destroy)(struct domain *d);
	/* Its save records (core/saverec.h), if it has state to carry: write;
	 * check its records among recs (nothing touched; 0 or -errno with the
	 * reason in err); apply them to a domain being restored. */
	int (*save)(struct domain *d, struct srb *out);
	int (*check)(const struct saverec *recs, unsigned n, char *err, size_t errlen);
	void (*restore)(struct domain *d, const struct saverec *recs, unsigned n);
};
void domain_subsys_register(const struct domain_subsys *s);
/* domain_new / domain_free: each init in order (done: how many ran); the
 * destroys of those that ran, last first. */
int domain_subsys_init(struct domain *d, int *done);
void domain_subsys_destroy(struct domain *d, int done);
int domain_subsys_save(struct domain *d, struct srb *out);
int domain_subsys_check(const struct saverec *recs, unsigned n, char *err, size_t errlen);
void domain_subsys_restore(struct domain *d, const struct saverec *recs, unsigned n);
#define DOMAIN_SUBSYS(sym)                                            \
	static void __attribute__((constructor)) sym##_register(void) \
	{                                                             \
		domain_subsys_register(&sym);                         \
	}

/* The domain table (registry.c).  Its lock comes before any domain's
 * lock and serialises what touches two domains (channels between guests,
 * grant copies and maps); while it is held a domain found in the table
 * stays valid: a domain leaves the table, under the lock, before any of
 * its state goes.  The daemon's thread, the only one that adds or
 * removes, may look up without it. */
void domain_table_lock(void);
void domain_table_unlock(void);
struct domain *domain_lookup(int domid); /* live (not dying) */
struct domain *domain_table_at(int slot);
int domain_table_add(struct domain *d);
void domain_table_remove(struct domain *d);

void domain_log(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void domain_crash(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void domain_shutdown(struct domain *d, int reason);
/* Xen's SCHEDOP_remote_shutdown: dom0 (not the guest) shuts d down with a
 * SHUTDOWN_* reason; the first reason a domain got stays, as in Xen. */
void domain_remote_shutdown(struct domain *d, int reason);
void domain_console_write(struct domain *d, const char *buf, size_t n);
/* A domU's console_io output: to the hypervisor log, "(dN) " lines (guest_log.c). */
void domain_guest_log_write(struct domain *d, const char *buf, size_t n);
/* Per domain: GUEST_LOG_BURST lines at once, then one every GUEST_LOG_INTERVAL_MS. */
#define GUEST_LOG_BURST	      200
#define GUEST_LOG_INTERVAL_MS 100
int domain_start(struct domain *d);
void domain_pause(struct domain *d);
void domain_unpause(struct domain *d);
void domain_stop_threads(struct domain *d);
int domain_restart_threads(struct domain *d);
const char *domain_state_name(enum domain_state s);
struct shared_info *domain_shared_info(struct domain *d);
/* Is gfn a frame of the domain's RAM it has not given back? */
int domain_owns_frame(struct domain *d, uint64_t gfn);
struct vcpu_info *vcpu_info(struct vcpu *v);
void pv_time_update(struct vcpu *v);
uint64_t pv_time_now(struct domain *d);
void pv_time_describe(struct domain *d, char *buf, size_t len);
/* The vCPU's hard affinity onto thread tid (0: the calling thread); -errno. */
int vcpu_apply_affinity(struct vcpu *v, int tid);
void pv_time_to_mono(struct domain *d, uint64_t ns, struct timespec *ts);
int pv_timer_set(struct vcpu *v, uint64_t deadline);
int pv_timer_retry(struct vcpu *v, uint64_t ns);
long pv_timer_periodic_op(struct vcpu *caller, struct vcpu *t, int stop, uint64_t arg);
void pv_timer_check(struct vcpu *v);

/* The hypervisor log (keeld's dmesg), a bounded ring. */
void hvlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t hvlog_read(char *buf, size_t size);
extern int hvlog_to_stderr;
/* Called (from any thread) after a domain's state changed. */
extern void (*domain_state_hook)(struct domain *d);
extern struct timespec keeld_run_start;

#endif
