/*
 * keeld's control operations for xl (ctl_xl.c, ctl_sched.c): rename,
 * UUID, max memory, per-vCPU facts, credit-scheduler parameters, version
 * and log clearing.  daemon.c finds the domain and checks the payload
 * size; these files do the rest and keep the per-domain facts struct
 * domain has no room for in a side table of their own.
 */
#ifndef KEEL_HV_CTL_XL_H
#define KEEL_HV_CTL_XL_H

#include <stdint.h>

#include "../../dom0/libkeelctl/keelctl_wire.h"
#include "../core/domain.h"

/* One xl operation on domain d (NULL: none with that id). */
int ctl_op(uint32_t op, struct domain *d, const void *in, void *out, uint32_t *out_len,
	   const int *fds, int nfds);
/* Add UUID, CPU time and max memory to a getinfo/list answer. */
void ctl_fill_info(struct domain *d, struct keelctl_dominfo *i);
/* The domain is being destroyed (its threads are stopped): drop its facts. */
void ctl_forget(struct domain *d);
/* Write keeld's pid to path (keeld --pidfile); removed again at exit. */
int ctl_pidfile(const char *path);

/* Save / restore the state outside a suspended domain's RAM as save
 * records through fd; resume a suspended domain in place (ctl_save.c). */
int ctl_save_state(struct domain *d, int fd);
int ctl_restore_state(struct domain *d, int fd);
int ctl_resume(struct domain *d, int cancel);
/* The shim restore builds into a restored domain (keeld daemon --shim). */
void ctl_save_shim_path(const char *path);
/* Parse and check a state without touching anything (tests, fuzzing):
 * 0, or negative errno with the reason in err. */
int ctl_restore_check(const uint8_t *img, size_t len, uint64_t nr_pages, int nr_vcpus, char *err,
		      size_t errlen);
/* ... for a domain of that kind (ctl_restore_check: PV). */
int ctl_restore_check_kind(const struct domain_kind *kind, const uint8_t *img, size_t len,
			   uint64_t nr_pages, int nr_vcpus, char *err, size_t errlen);
/* What restore does with an image: split and check it in a sandboxed
 * helper (core/sandbox.h), which hands back an index of the records; the
 * index is checked against the image and recs[] (SAVEREC_MAX of them)
 * point into img.  0, or negative errno with the reason in err (the
 * helper's, or how it died). */
struct domain_kind;
struct saverec;
int ctl_restore_sandboxed(const struct domain_kind *kind, const uint8_t *img, size_t len,
			  uint64_t nr_pages, int nr_vcpus, struct saverec *recs, unsigned *n,
			  char *err, size_t errlen);

/* LOG_DIRTY for live migration (ctl_logdirty.c); d may be NULL (ESRCH). */
int ctl_logdirty(struct domain *d, struct ctl_dom *x, const void *in, void *out, uint32_t *out_len);

/* The hypervisor log (domain.c): empty it, as xl dmesg -c does. */
void hvlog_clear(void);

/* The credit scheduler's enforcement (ctl_sched.c). */
struct ctl_sched {
	uint32_t weight, cap;
	int applied_tid[DOMAIN_MAX_VCPUS]; /* threads already moved into the group */
	uint32_t group_weight, group_cap;  /* what the group's files hold now */
	int have_group; /* 1: a cpu cgroup; 2: keeld's throttling (ctl_throttle.c) */
};
/* keeld's own throttling (ctl_throttle.c): this period's budget. */
struct ctl_thr {
	uint32_t cap;
	uint64_t period_start_ns, used_at_start;
	int parked;
};

/* What the toolstack set for a domain (d->ctl, ctl_ops.c). */
struct ctl_dom {
	uint8_t handle[16];
	struct ctl_sched sched;
	struct ctl_thr thr;
	uint64_t last_ns[DOMAIN_MAX_VCPUS]; /* CPU time kept after a vCPU thread ends */
};

/* 1: a cpu cgroup enforces weight and cap; 2: keeld's own throttling. */
int ctl_sched_available(void);
/* Bring the domain's group in line with s and move its vCPU threads into it. */
int ctl_sched_apply(struct domain *d, struct ctl_sched *s);
void ctl_sched_remove(int domid, struct ctl_sched *s);
/* Without a cgroup: nice values and a CPU-time budget (ctl_throttle.c). */
int ctl_throttle_apply(struct domain *d, uint32_t weight, uint32_t cap);
void ctl_throttle_forget(struct domain *d);
/* The kernel thread id of a vCPU's thread, 0 when it has none running. */
int ctl_vcpu_tid(struct domain *d, int vcpu);

#endif
