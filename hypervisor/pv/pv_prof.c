/*
 * The exit profile of a PV domain: where its boot (or any phase of its
 * life) spends keeld's time.  Every exit a vCPU takes is put in one kind
 * by the code that handles it (pv_prof_kind) and timed by the vCPU loop
 * (pv_prof_note); guest RIPs are kept in a small table per vCPU that
 * favours the frequent ones (a heavy hitter replaces a slot only after
 * wearing its count down).  Xen's debug keys reach it: 'p' dumps every
 * domain's profile into the log (xl dmesg), 'P' starts a new phase, so a
 * boot is profiled phase by phase with `xl debug-keys pP` at each
 * milestone.  Counters are the vCPU thread's own; a dump reads them as
 * they stand (a count may be one exit behind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/xen.h"
#include "pv_prof.h"
#include "pv_vcpu.h"

static const char *const pv_prof_names[PV_PROF_KINDS - PV_PROF_USER_SYSCALL] = {
	"user syscall", "cpuid",    "privileged op", "page-table write",
	"M2P read",	"soft int", "interrupt",     "other",
};

static const char *const pv_prof_vectors[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "v9",  "#TS",
	"#NP", "#SS", "#GP", "#PF", "v15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void pv_prof_name(int kind, char *buf, size_t len)
{
	if (kind < PV_PROF_USER_SYSCALL)
		snprintf(buf, len, "hypercall %s",
			 pv_hcall_table[kind].name ? pv_hcall_table[kind].name : "?");
	else if (kind < PV_PROF_BOUNCE)
		snprintf(buf, len, "%s", pv_prof_names[kind - PV_PROF_USER_SYSCALL]);
	else
		snprintf(buf, len, "bounce %s",
			 pv_prof_vectors[kind - PV_PROF_BOUNCE]
				 ? pv_prof_vectors[kind - PV_PROF_BOUNCE]
				 : "vector");
}

uint64_t pv_prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void pv_prof_kind(struct vcpu *v, int kind, uint64_t rip)
{
	v->pv->prof_kind = kind;
	v->pv->prof_rip = rip;
}

void pv_prof_syscall(struct vcpu *v, uint64_t rip, uint64_t nr)
{
	pv_prof_kind(v, PV_PROF_USER_SYSCALL, rip);
	v->pv->prof_nr = nr > UINT32_MAX ? UINT32_MAX : (uint32_t)nr;
}

void pv_prof_note(struct vcpu *v, uint64_t ns)
{
	struct pv_prof *p = &v->pv->prof;
	unsigned gen = __atomic_load_n(&v->dom->pv->prof_gen, __ATOMIC_ACQUIRE);
	int k = v->pv->prof_kind;
	uint64_t rip = v->pv->prof_rip;
	unsigned slot;

	if (p->gen != gen) {
		memset(p, 0, sizeof(*p));
		p->gen = gen;
	}
	if (k < 0 || k >= PV_PROF_KINDS)
		k = PV_PROF_OTHER;
	p->count[k]++;
	p->ns[k] += ns;
	{
		struct pv_trace *t = &v->pv->trace[v->pv->trace_n++ % PV_TRACE_LEN];

		*t = (struct pv_trace){pv_prof_now(),	rip,	     v->pv->trace_at,
				       v->pv->trace_sp, (uint32_t)k, v->pv->trace_flags};
		v->pv->trace_flags = 0;
	}
	v->pv->prof_kind = PV_PROF_OTHER;
	v->pv->prof_rip = 0;
	if (!rip)
		return;
	slot = (unsigned)((rip ^ (rip >> 12) ^ (uint64_t)k * 0x9e3779b1u) % PV_PROF_RIPS);
	if (p->rips[slot].count &&
	    (p->rips[slot].rip != rip || p->rips[slot].kind != (uint32_t)k)) {
		if (--p->rips[slot].count)
			return;
	}
	if (!p->rips[slot].count) {
		p->rips[slot].rip = rip;
		p->rips[slot].kind = (uint32_t)k;
	}
	p->rips[slot].count++;
	if (k == PV_PROF_USER_SYSCALL)
		p->rips[slot].nr = v->pv->prof_nr;
}

struct pv_prof_row {
	uint64_t a, b; /* count and ns, or count and rip */
	int kind;
	uint32_t nr;
};

static int pv_prof_by_b(const void *x, const void *y)
{
	const struct pv_prof_row *p = x, *q = y;

	return p->b < q->b ? 1 : p->b > q->b ? -1 : 0;
}

static int pv_prof_by_a(const void *x, const void *y)
{
	const struct pv_prof_row *p = x, *q = y;

	return p->a < q->a ? 1 : p->a > q->a ? -1 : 0;
}

void pv_prof_dump(struct domain *d)
{
	static struct pv_prof_row rows[PV_PROF_KINDS], rips[PV_PROF_RIPS * 4];
	unsigned gen = __atomic_load_n(&d->pv->prof_gen, __ATOMIC_ACQUIRE);
	uint64_t exits = 0, ns = 0;
	int nrips = 0, shown = 0;
	char name[48];

	memset(rows, 0, sizeof(rows));
	for (int k = 0; k < PV_PROF_KINDS; k++)
		rows[k].kind = k;
	for (int i = 0; i < d->nr_vcpus; i++) {
		struct pv_prof *p = d->vcpus[i].pv ? &d->vcpus[i].pv->prof : NULL;

		if (!p || p->gen != gen)
			continue; /* nothing since the reset */
		for (int k = 0; k < PV_PROF_KINDS; k++) {
			rows[k].a += p->count[k];
			rows[k].b += p->ns[k];
			exits += p->count[k];
			ns += p->ns[k];
		}
		for (int s = 0; s < PV_PROF_RIPS && nrips < PV_PROF_RIPS * 4; s++)
			if (p->rips[s].count)
				rips[nrips++] =
					(struct pv_prof_row){p->rips[s].count, p->rips[s].rip,
							     (int)p->rips[s].kind, p->rips[s].nr};
	}
	qsort(rows, PV_PROF_KINDS, sizeof(rows[0]), pv_prof_by_b);
	qsort(rips, (size_t)nrips, sizeof(rips[0]), pv_prof_by_a);
	hvlog("d%u profile (phase %u): %llu exits, %.3f s in keeld", d->domid, gen,
	      (unsigned long long)exits, ns / 1e9);
	hvlog("  %-28s %10s %10s %8s", "kind", "exits", "keeld ms", "us/exit");
	for (int k = 0; k < PV_PROF_KINDS && shown < 20; k++) {
		if (!rows[k].a)
			continue;
		pv_prof_name(rows[k].kind, name, sizeof(name));
		hvlog("  %-28s %10llu %10.1f %8.1f", name, (unsigned long long)rows[k].a,
		      rows[k].b / 1e6, rows[k].b / 1e3 / rows[k].a);
		shown++;
	}
	hvlog("  guest RIPs with the most exits:");
	for (int i = 0; i < nrips && i < 12; i++) {
		pv_prof_name(rips[i].kind, name, sizeof(name));
		if (rips[i].kind == PV_PROF_USER_SYSCALL)
			snprintf(name, sizeof(name), "user syscall %u", rips[i].nr);
		hvlog("  %#18llx %-28s %10llu", (unsigned long long)rips[i].b, name,
		      (unsigned long long)rips[i].a);
	}
}

/* Console output: what a dying kernel's messages cost, not why it died. */
static int pv_trace_console(uint32_t kind)
{
	return kind == PV_PROF_HCALL + __HYPERVISOR_console_io ||
	       kind == PV_PROF_HCALL + __HYPERVISOR_event_channel_op;
}

void pv_trace_dump(struct vcpu *v)
{
	unsigned n = v->pv->trace_n, first = n > PV_TRACE_LEN ? n - PV_TRACE_LEN : 0;
	unsigned i = n, shown = 0, skipped = 0;
	uint64_t now = pv_prof_now();
	char name[48];

	/* back from the newest to the oldest of the PV_TRACE_SHOW to show */
	while (i > first && shown < PV_TRACE_SHOW) {
		const struct pv_trace *t = &v->pv->trace[--i % PV_TRACE_LEN];

		if (pv_trace_console(t->kind))
			skipped++;
		else
			shown++;
	}
	domain_log(v->dom,
		   "vcpu%d: its last %u exits but console output, oldest first (us before now;"
		   " %u console_io/event_channel_op exits among them not shown):",
		   v->id, shown, skipped);
	for (; i < n; i++) {
		const struct pv_trace *t = &v->pv->trace[i % PV_TRACE_LEN];

		if (pv_trace_console(t->kind))
			continue;
		pv_prof_name((int)t->kind, name, sizeof(name));
		domain_log(v->dom, " -%8llu %-20s rip %#llx at %#llx sp %#llx%s%s%s",
			   (unsigned long long)((now - t->ns) / 1000), name,
			   (unsigned long long)t->rip, (unsigned long long)t->at,
			   (unsigned long long)t->sp, t->flags & PV_TRACE_EINTR ? " signal" : "",
			   t->flags & PV_TRACE_UPCALL ? " +upcall" : "",
			   t->flags & PV_TRACE_NMI ? " +nmi" : "");
	}
}

void pv_prof_reset(struct domain *d)
{
	__atomic_add_fetch(&d->pv->prof_gen, 1, __ATOMIC_RELEASE);
}
