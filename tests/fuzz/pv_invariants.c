/*
 * The invariants every fuzz target checks after each operation (one
 * checker, shared): what keeld's PV MMU, grant maps and event channels
 * must never let a guest reach, recomputed from scratch and compared with
 * keeld's own books.
 *
 *  - Type and reference counts: each frame's type count equals a recount
 *    of its holders (pins, loaded base pointers, validated entries naming
 *    it, writable grant maps of it, FIFO pages), all of one type; the
 *    linear-table counts equal a recount.
 *  - No page-table page is writable: a writable L1 entry names only a
 *    frame of type writable.
 *  - An L1 entry names only the domain's own RAM, its shared_info, its
 *    own grant or status frames, or a foreign-window frame of a live
 *    host map (writable only for a writable map).
 *  - Every validated L4 carries the hole slots; the shim's code and its
 *    page tables are unchanged.
 *  - Nothing of another domain is reachable: the canary frames (never
 *    named by any operation) of every domain are unchanged; a live map's
 *    granter frame is typed writable while the map is.
 *  - Event channels: interdomain pairs point at each other, VIRQ ports and
 *    each vCPU's virq_port agree, no port names a vCPU that does not exist.
 * A broken invariant prints what broke and aborts, so libFuzzer keeps the
 * input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/evtchn/evtchn.h"
#include "../../hypervisor/gnttab/gnttab.h"
#include "abi/grant_table.h"
#include "pv_fuzz.h"

struct pvi_ref {
	uint32_t count;
	uint8_t type; /* the type every holder took (PGT_none: none yet) */
	uint8_t clash;
};

#define PVI_SHIM_LOW  0x8000 /* the shim's code and IDT */
#define PVI_SHIM_PT   (SHIM_OFF_VCPU - SHIM_OFF_PT)
#define PVI_CANARY_SZ ((PVF_PAGES - PVF_CANARY_FIRST) * 4096)

/* What must never change, copied after setup. */
static struct pvi_shadow {
	uint8_t shim_low[PVF_MAX_DOMS][PVI_SHIM_LOW];
	uint8_t shim_pt[PVF_MAX_DOMS][PVI_SHIM_PT];
	uint8_t canary[PVF_MAX_DOMS][PVI_CANARY_SZ];
	uint64_t hole[PVF_MAX_DOMS][PV_HOLE_NSLOTS];
} pvi_shadow;

static void __attribute__((noreturn, format(printf, 2, 3)))
pvi_fail(struct domain *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pv_invariants: domain %d: ", d ? d->domid : -1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void pvi_snapshot(struct pvf *f)
{
	for (int i = 0; i < f->ndoms; i++) {
		struct domain *d = f->d[i];

		memcpy(pvi_shadow.shim_low[i], d->shim, PVI_SHIM_LOW);
		memcpy(pvi_shadow.shim_pt[i], d->shim + SHIM_OFF_PT, PVI_SHIM_PT);
		memcpy(pvi_shadow.canary[i], d->ram + PVF_CANARY_FIRST * 4096, PVI_CANARY_SZ);
		memcpy(pvi_shadow.hole[i], d->pv->hole_l4e, sizeof(pvi_shadow.hole[i]));
	}
}

PVF_NOCOV static void pvi_hold(struct pvi_ref *r, uint64_t mfn, int type)
{
	struct pvi_ref *x = &r[mfn];

	if (x->count && x->type != type)
		x->clash = 1;
	x->type = (uint8_t)type;
	x->count++;
}

/* A FIFO page holds a writable reference (callback: the frames' owner). */
struct pvi_walk {
	struct domain *d;
	struct pvi_ref *r;
};

PVF_NOCOV static void pvi_fifo_frame(void *arg, uint64_t gfn)
{
	struct pvi_walk *w = arg;

	if (gfn >= w->d->nr_pages)
		pvi_fail(w->d, "FIFO page %#llx outside RAM", (unsigned long long)gfn);
	pvi_hold(w->r, gfn, PGT_writable);
}

static int pvi_hole_slot(int level, int i)
{
	return level == PGT_l4 && i >= PV_HOLE_FIRST_SLOT && i <= PV_HOLE_LAST_SLOT;
}

/* Every live map of every domain, collected once per check. */
#define PVI_MAX_MAPS 256
static struct pvi_map {
	struct domain *mapper, *granter;
	uint64_t frame, window_mfn;
	uint32_t flags;
} pvi_maps[PVI_MAX_MAPS];
static unsigned pvi_nmaps;

PVF_NOCOV static void pvi_map_collect(void *arg, struct domain *rd, uint64_t frame,
				      uint64_t window_mfn, uint32_t flags)
{
	if (pvi_nmaps == PVI_MAX_MAPS)
		pvi_fail(arg, "more than %d live grant maps", PVI_MAX_MAPS);
	pvi_maps[pvi_nmaps++] = (struct pvi_map){arg, rd, frame, window_mfn, flags};
}

PVF_NOCOV static void pvi_check_l1_entry(struct domain *d, uint64_t t, int i, uint64_t e)
{
	uint64_t mfn = (e & PTE_ADDR) >> 12;

	if (mfn < d->nr_pages) {
		if ((e & PTE_RW) && d->pv->pages[mfn].type != PGT_writable)
			pvi_fail(d, "L1 %#llx[%d] maps frame %#llx writable, its type is %d",
				 (unsigned long long)t, i, (unsigned long long)mfn,
				 d->pv->pages[mfn].type);
		return;
	}
	if (mfn == ((SHIM_GPA + SHIM_OFF_SHARED_INFO) >> 12) || gnttab_is_frame(d, mfn))
		return;
	if (mfn >= (GNTTAB_WINDOW_GPA >> 12)) {
		const struct pvi_map *m = NULL;

		for (unsigned k = 0; k < pvi_nmaps && !m; k++)
			if (pvi_maps[k].mapper == d && pvi_maps[k].window_mfn == mfn &&
			    (pvi_maps[k].flags & GNTMAP_host_map))
				m = &pvi_maps[k];
		if (!m)
			pvi_fail(d, "L1 %#llx[%d] names window frame %#llx of no live host map",
				 (unsigned long long)t, i, (unsigned long long)mfn);
		if ((e & PTE_RW) && (m->flags & GNTMAP_readonly))
			pvi_fail(d, "L1 %#llx[%d] maps read-only window frame %#llx writable",
				 (unsigned long long)t, i, (unsigned long long)mfn);
		return;
	}
	pvi_fail(d, "L1 %#llx[%d] = %#llx names a frame the domain does not own",
		 (unsigned long long)t, i, (unsigned long long)e);
}

/* Recount every frame's holders and compare with keeld's page_info. */
PVF_NOCOV static void pvi_check_mm(struct pvf *f, int di, struct pvi_ref *r, int16_t *lin)
{
	struct domain *d = f->d[di];
	struct page_info *pg = d->pv->pages;

	memset(r, 0, d->nr_pages * sizeof(*r));
	memset(lin, 0, d->nr_pages * sizeof(*lin));
	for (uint64_t t = 0; t < d->nr_pages; t++) {
		const uint64_t *tab = (const uint64_t *)(d->ram + (t << 12));
		int level = pg[t].type;

		if (pg[t].pinned)
			pvi_hold(r, t, pg[t].type);
		if (!pg[t].type_count || level < PGT_l1 || level > PGT_l4)
			continue;
		if (!pv_mm_owns(d, t))
			pvi_fail(d, "frame %#llx is a table but was given back",
				 (unsigned long long)t);
		for (int i = 0; i < 512; i++) {
			uint64_t e = tab[i], mfn = (e & PTE_ADDR) >> 12;

			if (pvi_hole_slot(level, i)) {
				if (e != pvi_shadow.hole[di][i - PV_HOLE_FIRST_SLOT])
					pvi_fail(d, "L4 %#llx hole slot %d is %#llx",
						 (unsigned long long)t, i, (unsigned long long)e);
				continue;
			}
			if (!(e & PTE_P))
				continue;
			if (!(e & PTE_US))
				pvi_fail(d, "table %#llx[%d] = %#llx without the user bit",
					 (unsigned long long)t, i, (unsigned long long)e);
			if (level == PGT_l1) {
				pvi_check_l1_entry(d, t, i, e);
				if ((e & PTE_RW) && pv_mm_owns(d, mfn))
					pvi_hold(r, mfn, PGT_writable);
				continue;
			}
			if (e & PTE_PS)
				pvi_fail(d, "L%d %#llx[%d] is a superpage", level,
					 (unsigned long long)t, i);
			if (!pv_mm_owns(d, mfn))
				pvi_fail(d, "L%d %#llx[%d] = %#llx names no frame of the domain",
					 level, (unsigned long long)t, i, (unsigned long long)e);
			if (mfn == t)
				continue;	     /* linear entry to itself: holds nothing */
			if (pg[mfn].type == level) { /* linear: to another table of its level */
				if (e & PTE_RW)
					pvi_fail(d, "writable linear entry %#llx[%d]",
						 (unsigned long long)t, i);
				lin[t]++;
				lin[mfn]--;
				pvi_hold(r, mfn, level);
			} else {
				pvi_hold(r, mfn, level - 1);
			}
		}
	}
	for (int k = 0; k < d->nr_vcpus; k++) {
		struct pv_vcpu *pv = d->vcpus[k].pv;

		if (pv->kernel_cr3)
			pvi_hold(r, pv->kernel_cr3 >> 12, PGT_l4);
		if (pv->user_cr3)
			pvi_hold(r, pv->user_cr3 >> 12, PGT_l4);
	}
	{
		struct pvi_walk w = {d, r};

		evtchn_fifo_visit_frames(d, pvi_fifo_frame, &w);
	}
	/* A writable map holds its granter's frame typed writable. */
	for (unsigned k = 0; k < pvi_nmaps; k++) {
		const struct pvi_map *m = &pvi_maps[k];

		if (m->granter != d || (m->flags & GNTMAP_readonly))
			continue;
		if (m->frame >= d->nr_pages)
			pvi_fail(d,
				 "domain %d maps frame %#llx writable: outside the granter's RAM",
				 m->mapper->domid, (unsigned long long)m->frame);
		pvi_hold(r, m->frame, PGT_writable);
	}
	for (uint64_t t = 0; t < d->nr_pages; t++) {
		if (r[t].clash)
			pvi_fail(d, "frame %#llx is held as two types", (unsigned long long)t);
		if (pg[t].type_count != r[t].count)
			pvi_fail(d, "frame %#llx: type %d count %u, a recount finds %u (type %d)",
				 (unsigned long long)t, pg[t].type, pg[t].type_count, r[t].count,
				 r[t].type);
		if (r[t].count && pg[t].type != r[t].type)
			pvi_fail(d, "frame %#llx: type %d, its holders took %d",
				 (unsigned long long)t, pg[t].type, r[t].type);
		if (!pg[t].type_count && pg[t].pinned)
			pvi_fail(d, "frame %#llx pinned without a type", (unsigned long long)t);
		if (pg[t].linear != lin[t])
			pvi_fail(d, "frame %#llx: linear %d, a recount finds %d",
				 (unsigned long long)t, pg[t].linear, lin[t]);
	}
}

PVF_NOCOV static void pvi_check_evtchn(struct pvf *f, int di)
{
	struct domain *d = f->d[di];

	for (int k = 0; k < d->nr_vcpus; k++)
		for (int virq = 0; virq < 24; virq++) {
			uint32_t p = d->vcpus[k].virq_port[virq];

			/* a global VIRQ is bound on vCPU 0, wherever it notifies */
			if (p && (!d->evtchns || p >= EVTCHN_2L_NR_CHANNELS ||
				  d->evtchns[p].state != ECS_VIRQ || d->evtchns[p].virq != virq ||
				  (evtchn_virq_global(virq) ? k != 0
							    : d->evtchns[p].vcpu != (uint32_t)k)))
				pvi_fail(d, "vcpu %d VIRQ %d names port %u, not bound to it", k,
					 virq, p);
		}
	if (!d->evtchns)
		return;
	for (uint32_t p = 1; p < EVTCHN_2L_NR_CHANNELS; p++) {
		const struct evtchn *c = &d->evtchns[p];

		if (c->state == ECS_FREE)
			continue;
		if (c->state > ECS_IPI)
			pvi_fail(d, "port %u in state %d", p, c->state);
		if (c->vcpu >= (uint32_t)d->nr_vcpus)
			pvi_fail(d, "port %u on vcpu %u", p, c->vcpu);
		if (c->state == ECS_VIRQ &&
		    (c->virq >= 24 ||
		     d->vcpus[evtchn_virq_global(c->virq) ? 0 : c->vcpu].virq_port[c->virq] != p))
			pvi_fail(d, "VIRQ port %u (virq %u) not in its vCPU's table", p, c->virq);
		if (c->state == ECS_INTERDOMAIN && !c->dom0_slot) {
			struct domain *rd = domain_lookup(c->remote_dom);
			const struct evtchn *rc;

			if (!rd || !rd->evtchns || c->remote_port == 0 ||
			    c->remote_port >= EVTCHN_2L_NR_CHANNELS)
				pvi_fail(d, "port %u bound to domain %u port %u: gone", p,
					 c->remote_dom, c->remote_port);
			rc = &rd->evtchns[c->remote_port];
			if (rc->state != ECS_INTERDOMAIN || rc->remote_dom != d->domid ||
			    rc->remote_port != p)
				pvi_fail(d, "port %u -> %u:%u does not point back (%d %u:%u)", p,
					 c->remote_dom, c->remote_port, rc->state, rc->remote_dom,
					 rc->remote_port);
		}
	}
}

PVF_NOCOV void pvi_check(struct pvf *f)
{
	static struct pvi_ref r[PVF_PAGES];
	static int16_t lin[PVF_PAGES];

	pvi_nmaps = 0;
	for (int i = 0; i < f->ndoms; i++)
		if (f->d[i])
			gnttab_maps_visit(f->d[i], pvi_map_collect, f->d[i]);
	for (int i = 0; i < f->ndoms; i++) {
		struct domain *d = f->d[i];

		if (!d)
			continue; /* destroyed already (pvf_teardown) */
		if (d->nr_pages != PVF_PAGES)
			pvi_fail(d, "nr_pages changed");
		if (memcmp(d->pv->hole_l4e, pvi_shadow.hole[i], sizeof(pvi_shadow.hole[i])))
			pvi_fail(d, "hole slots changed");
		if (memcmp(d->shim, pvi_shadow.shim_low[i], PVI_SHIM_LOW) ||
		    memcmp(d->shim + SHIM_OFF_PT, pvi_shadow.shim_pt[i], PVI_SHIM_PT))
			pvi_fail(d, "the shim's code or page tables changed");
		if (memcmp(d->ram + PVF_CANARY_FIRST * 4096, pvi_shadow.canary[i], PVI_CANARY_SZ))
			pvi_fail(d, "a canary frame changed (named by no operation)");
		pvi_check_mm(f, i, r, lin);
		pvi_check_evtchn(f, i);
	}
}
