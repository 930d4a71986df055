/*
 * A Keel domain as keeld holds it: the KVM VM, the memfd with guest RAM and
 * the shim region, the per-frame page-type table of Xen's PV MMU rules, and
 * one pv_vcpu per virtual CPU with the PV state Xen keeps per vCPU (mode,
 * page-table bases, trap table, callbacks, segment bases).
 */
#ifndef KEEL_HV_DOMAIN_H
#define KEEL_HV_DOMAIN_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "abi/arch-x86_64.h"
#include "abi/shared_info.h"
#include "kvm.h"
#include "../pv/pv_layout.h"

#define DOMAIN_MAX_VCPUS  8
#define DOMAIN_MAX_MEM_MB 4096

enum pv_page_type { PGT_none = 0, PGT_l1, PGT_l2, PGT_l3, PGT_l4, PGT_writable, PGT_seg_desc };

struct page_info {
	uint8_t type;
	uint8_t pinned;
	uint16_t grant_pins; /* grant entries a live guest or dom0 map holds on this frame */
	uint32_t type_count;
};

enum domain_state { DOM_CREATED, DOM_RUNNING, DOM_PAUSED, DOM_SHUTDOWN, DOM_CRASHED };

struct callback_info {
	uint64_t address;
	int mask_events;
};

struct pv_vcpu {
	struct domain *dom;
	struct kvm_vcpu_ctx kvm;
	pthread_t thread;
	int thread_valid;
	int id;
	int online;
	int initialised;    /* has a context (boot, or VCPUOP_initialise) */
	int thread_created; /* a pthread of its own (not keeld run's main thread) */
#ifdef KEEL_TEST_LAYOUT
	uint8_t test_layout_pad[KEEL_TEST_LAYOUT];
#endif
	int kernel_mode;
	uint64_t kernel_cr3, user_cr3; /* machine addresses of the L4s */
	uint64_t kernel_ss, kernel_sp;
	uint64_t fs_base, gs_base_kernel, gs_base_user;
	uint64_t debugreg[8];
	uint32_t iopl;
	int fpu_ts;
	struct trap_info traps[256];
	struct callback_info cb_event, cb_failsafe, cb_syscall;
	uint64_t gdt_frames[16];
	unsigned gdt_ents;
	uint64_t ldt_base, ldt_ents;
	uint64_t vcpu_info_gpa; /* 0: the legacy slot in shared_info */
	uint64_t runstate_va;
	uint64_t time_area_va;	      /* VCPUOP_register_vcpu_time_memory_area; 0 = none */
	uint64_t timer_deadline;      /* guest system time, ns; 0 = none: the nearer of */
	uint64_t singleshot_deadline; /* the one-shot timer and */
	uint64_t periodic_period, periodic_next; /* the periodic one (pv_time.c) */
	timer_t timer;				 /* fires SIGUSR1 at this thread at the deadline */
	int timer_ok;
	int blocked;		/* in SCHEDOP_block/poll, waiting on dom->cond */
	uint32_t virq_port[24]; /* NR_VIRQS */
	uint64_t hypercalls, exits;
	/* The page-table writes queued by the current hypercall. */
	unsigned napply;
	int flush_pending;
};

struct domain {
	int domid;
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
	uint8_t *shim; /* shim region */
	uint64_t shim_size;
	struct kvm_vm vm;
	int nr_vcpus;
	struct pv_vcpu vcpus[DOMAIN_MAX_VCPUS];
	struct page_info *pages;
	uint64_t vm_assist;
	uint64_t cur_pages; /* nr_pages less what the guest gave back */
	uint8_t *released;  /* bitmap: frames given back (decrease_reservation) */
	uint64_t boot_rip, boot_rsp, boot_rsi;
	uint64_t hypercall_page_va;		    /* 0: the kernel asked for none */
	uint64_t shim_apply_va, shim_apply_iret_va; /* from the shim's symbols */
	int started;
	int trace;
	int timing; /* log the time to the first console byte (KEEL_TIMING=1) */
	uint64_t tsc_khz;
	struct timespec start_wall; /* log every hypercall and bounce (KEEL_TRACE=1) */
	uint64_t max_pages;
	uint64_t hole_l4e[PV_HOLE_NSLOTS];
	FILE *console; /* where console_io writes go (NULL: discard) */
	char console_line[256];
	unsigned console_len;
	pthread_mutex_t lock;
	pthread_mutex_t mm_lock; /* page types: one vCPU at a time */
	pthread_cond_t cond;	 /* state changes (pause/unpause/destroy) */
	int dying;
	int notified_state; /* last state sent to subscribers (daemon) */
	int threads_started;
	struct evtchn *evtchns; /* port table (evtchn.c), allocated on first use */
	void (*on_send)(struct domain *d, uint32_t port); /* send on an unbound port */
	uint32_t console_port, store_port;
	struct domain_dom0_bind {
		uint32_t port; /* 0: the guest closed it */
		int g2d_fd, d2g_fd;
	} dom0_binds[64];
	int n_dom0_binds;
	uint64_t enosys_logged;
	uint32_t gnttab_frames;
	uint8_t gnttab_version;			   /* 2: version 2 (set_version); else 1 */
	/* grant-table frames set up (gnttab.c) */ /* hypercall numbers already reported */
	uint64_t console_mfn, store_mfn;
	struct timespec mono_base; /* guest system time 0 */
	/* console_io output kept for the control socket (daemon mode) */
	char *conbuf;
	size_t conbuf_size, conbuf_len;
	void (*on_stop)(struct domain *d);
	/* Xen's suspend protocol (SCHEDOP_shutdown(SHUTDOWN_suspend)): the vCPU
	 * that asked and the start_info frame it named (rdx); whether the
	 * kernel's ELF notes allow a cancelled suspend to return 1. */
	int suspend_vcpu;
	uint64_t start_info_mfn;
	int suspend_cancel;
	int threads_running; /* vCPU threads inside their loop (under lock) */
};

int domain_create(struct domain *d, int domid, uint64_t mem_mb, int nr_vcpus);
void domain_destroy(struct domain *d);
void domain_log(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void domain_crash(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void domain_shutdown(struct domain *d, int reason);
void domain_console_write(struct domain *d, const char *buf, size_t n);
int domain_start(struct domain *d);
void domain_pause(struct domain *d);
void domain_unpause(struct domain *d);
void domain_stop_threads(struct domain *d);
int domain_restart_threads(struct domain *d);
const char *domain_state_name(enum domain_state s);
struct shared_info *domain_shared_info(struct domain *d);
struct vcpu_info *pv_vcpu_info(struct pv_vcpu *v);
void pv_time_update(struct pv_vcpu *v);
uint64_t pv_time_now(struct domain *d);
int pv_timer_set(struct pv_vcpu *v, uint64_t deadline);
long pv_timer_periodic_op(struct pv_vcpu *caller, struct pv_vcpu *t, int stop, uint64_t arg);
void pv_timer_check(struct pv_vcpu *v);
void pv_vcpu_kick(struct pv_vcpu *v);
void domain_console_drain(struct domain *d, uint32_t port);

/* The hypervisor log (keeld's dmesg), a bounded ring. */
void hvlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t hvlog_read(char *buf, size_t size);
extern int hvlog_to_stderr;
/* Called (from any thread) after a domain's state changed. */
extern void (*domain_state_hook)(struct domain *d);
extern struct timespec keeld_run_start;

#endif
