/*
 * A device model's video RAM at the VGA card's linear framebuffer, as Xen
 * gives QEMU: XEN_DMOP_relocate_memory moves populated frames to another
 * guest-physical address (QEMU's video RAM, populated past the end of RAM,
 * to the PCI BAR where the guest mapped the LFB, and back when the guest
 * unmaps it), XEN_DMOP_track_dirty_vram tells which of them the guest
 * wrote since the last call (what QEMU redraws).
 *
 * A relocated range keeps its memfd pages (those of the frames it was
 * populated at), so every mapping dom0 made of them stays right; only the
 * KVM slot moves (deleted and added anew at the new address).  The range
 * stays populated and counted against maxmem; its old place maps nothing
 * until it moves back.  The dirty log is KVM's (KVM_MEM_LOG_DIRTY_PAGES on
 * that slot, KVM_GET_DIRTY_LOG), as the migration log-dirty's for RAM
 * (ctl/ctl_logdirty.c) through the same kvm.h calls; only writes by the
 * guest's vCPUs are in it, which is what Xen's HAP logs too.
 *
 * Xen moves frame by frame and replaces what is at the destination (a RAM
 * page there is freed); keeld moves a range whole and refuses with EINVAL
 * a destination that is not empty (RAM, keeld's region, populated frames,
 * another relocated range), a source that is not populated (Xen's EINVAL),
 * or only part of a relocated range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvm_domain.h"

static int hvm_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

int hvm_reloc_lookup(const struct hvm_domain *h, uint64_t gfn, uint64_t count, int64_t *index)
{
	for (int i = 0; i < h->nr_relocs; i++) {
		const struct hvm_reloc *e = &h->relocs[i];

		if (gfn >= e->gfn && gfn + count <= e->gfn + e->pages) {
			*index = hvm_hole_index(h, e->from) + (int64_t)(gfn - e->gfn);
			return 1;
		}
		if (hvm_overlap(gfn, count, e->gfn, e->pages) ||
		    hvm_overlap(gfn, count, e->from, e->pages))
			return -1;
	}
	return 0;
}

/* Nothing at [gfn, gfn+n): no RAM, keeld's region, populated frame or
 * relocated range (but `self`'s old place, where it may go back). */
static int hvm_reloc_dest_free(struct domain *d, uint64_t gfn, uint64_t n,
			       const struct hvm_reloc *self)
{
	const struct hvm_domain *h = d->hvm;

	if (gfn >= HVM_GFN_LIMIT || n > HVM_GFN_LIMIT - gfn)
		return 0;
	if (hvm_overlap(gfn, n, 0, h->low_pages) ||
	    hvm_overlap(gfn, n, HVM_HIGH_MEM_START >> 12, h->high_pages) ||
	    hvm_overlap(gfn, n, HVM_REGION_GPA >> 12, HVM_REGION_PAGES) ||
	    (h->shinfo_slot >= 0 && hvm_overlap(gfn, n, h->shinfo_gpa >> 12, 1)))
		return 0;
	for (int i = 0; i < h->nr_relocs; i++) {
		const struct hvm_reloc *e = &h->relocs[i];

		if (hvm_overlap(gfn, n, e->gfn, e->pages) ||
		    (e != self && hvm_overlap(gfn, n, e->from, e->pages)))
			return 0;
	}
	if (self && gfn == self->from && n == self->pages)
		return 1; /* back to its own frames */
	for (uint64_t g = gfn; g < gfn + n; g++) {
		int64_t f = hvm_hole_index(h, g);

		if (f >= 0 && (h->hole_populated[f / 8] & (1 << (f % 8))))
			return 0;
	}
	return 1;
}

/* The run holding all of [gfn, gfn+n), all populated; NULL if none. */
static struct hvm_hole_run *hvm_reloc_source(struct hvm_domain *h, uint64_t gfn, uint64_t n)
{
	for (int i = 0; i < h->nr_runs; i++) {
		struct hvm_hole_run *run = &h->runs[i];

		if (gfn >= run->gfn && gfn + n <= run->gfn + run->pages) {
			for (uint64_t g = gfn; g < gfn + n; g++) {
				int64_t f = hvm_hole_index(h, g);

				if (f < 0 || !(h->hole_populated[f / 8] & (1 << (f % 8))))
					return NULL;
			}
			return run;
		}
	}
	return NULL;
}

/* Populated frames [from, from+n) of one run to [to, to+n): the run's slot
 * keeps what is below them, what is above gets a run of its own. */
static int hvm_reloc_out(struct domain *d, struct hvm_hole_run *run, uint64_t n, uint64_t from,
			 uint64_t to)
{
	struct hvm_domain *h = d->hvm;
	uint64_t g = run->gfn, p = run->pages, below = from - g, above = g + p - from - n;
	int moved = -1, upper = -1, r;

	if (h->nr_relocs == HVM_RELOCS || (above && h->nr_runs == HVM_HOLE_RUNS))
		return -ENOSPC;
	r = kvm_vm_slot_flags(&d->vm, run->slot, g << 12, 0, hvm_hole_ptr(h, g), 0);
	if (r < 0)
		return r;
	if (below)
		r = kvm_vm_slot_flags(&d->vm, run->slot, g << 12, below << 12, hvm_hole_ptr(h, g),
				      0);
	if (r == 0 && above)
		r = hvm_slot_add(d, (from + n) << 12, above << 12, hvm_hole_ptr(h, from + n),
				 &upper);
	if (r == 0)
		r = hvm_slot_add(d, to << 12, n << 12, hvm_hole_ptr(h, from), &moved);
	if (r < 0) { /* put the run back as it was */
		if (upper >= 0)
			hvm_slot_delete(d, upper, (from + n) << 12, hvm_hole_ptr(h, from + n));
		kvm_vm_slot_flags(&d->vm, run->slot, g << 12, 0, hvm_hole_ptr(h, g), 0);
		kvm_vm_slot_flags(&d->vm, run->slot, g << 12, p << 12, hvm_hole_ptr(h, g), 0);
		return r;
	}
	if (above)
		h->runs[h->nr_runs++] = (struct hvm_hole_run){from + n, above, upper};
	if (below) {
		run->pages = below;
	} else { /* the run's slot id is free now: nothing of it is left */
		h->free_slots[h->nr_free_slots++] = run->slot;
		*run = h->runs[--h->nr_runs];
	}
	h->relocs[h->nr_relocs] =
		(struct hvm_reloc){.gfn = to, .from = from, .pages = n, .slot = moved};
	h->nr_relocs++;
	return 0;
}

/* A relocated range to `to`: its place again (it becomes populated frames
 * there, as before), or elsewhere. */
static int hvm_reloc_move(struct domain *d, struct hvm_reloc *e, uint64_t to)
{
	struct hvm_domain *h = d->hvm;
	void *hva = hvm_hole_ptr(h, e->from);
	int r = kvm_vm_slot_flags(&d->vm, e->slot, e->gfn << 12, 0, hva, 0);

	if (r < 0)
		return r;
	/* back: mapped as populated frames again (a run grown, or a slot) */
	r = to == e->from ? hvm_hole_map(d, to, e->pages)
			  : kvm_vm_slot_flags(&d->vm, e->slot, to << 12, e->pages << 12, hva, 0);
	if (r < 0) {
		kvm_vm_slot_flags(&d->vm, e->slot, e->gfn << 12, e->pages << 12, hva,
				  e->dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0);
		return r;
	}
	if (to != e->from) {
		e->gfn = to;
		e->dirty = 0;
		return 0;
	}
	h->free_slots[h->nr_free_slots++] = e->slot;
	*e = h->relocs[h->nr_relocs - 1];
	h->nr_relocs--;
	return 0;
}

int hvm_relocate_memory(struct domain *d, uint64_t pages, uint64_t from, uint64_t to)
{
	struct hvm_domain *h = d->hvm;
	struct hvm_reloc *self = NULL;
	struct timespec t0, t1;
	int r = -EINVAL;

	if (!pages)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (from >= HVM_GFN_LIMIT || pages > HVM_GFN_LIMIT - from || to >= HVM_GFN_LIMIT ||
	    pages > HVM_GFN_LIMIT - to || !h->hole)
		return -EINVAL;
	pthread_mutex_lock(&d->mm_lock);
	for (int i = 0; i < h->nr_relocs; i++)
		if (h->relocs[i].gfn == from && h->relocs[i].pages == pages)
			self = &h->relocs[i];
	if (!hvm_reloc_dest_free(d, to, pages, self)) {
		hvlog("d%d: relocate_memory of %llu frames to gfn %#llx: not empty there "
		      "(RAM, keeld's frames, populated or relocated frames), refused",
		      d->domid, (unsigned long long)pages, (unsigned long long)to);
	} else if (self) {
		r = hvm_reloc_move(d, self, to);
	} else {
		int64_t at;
		struct hvm_hole_run *run = hvm_reloc_lookup(h, from, pages, &at)
						   ? NULL
						   : hvm_reloc_source(h, from, pages);

		if (run)
			r = hvm_reloc_out(d, run, pages, from, to);
		else
			hvlog("d%d: relocate_memory of %llu frames from gfn %#llx: not all "
			      "populated frames of one range, refused",
			      d->domid, (unsigned long long)pages, (unsigned long long)from);
	}
	pthread_mutex_unlock(&d->mm_lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0)
		hvlog("d%d: relocate_memory: %llu frames from gfn %#llx to gfn %#llx in %lld us",
		      d->domid, (unsigned long long)pages, (unsigned long long)from,
		      (unsigned long long)to,
		      (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
				  (t1.tv_nsec - t0.tv_nsec) / 1000));
	else if (r != -EINVAL)
		hvlog("d%d: relocate_memory of %llu frames from gfn %#llx to %#llx: %s", d->domid,
		      (unsigned long long)pages, (unsigned long long)from, (unsigned long long)to,
		      strerror(-r));
	return r;
}

static int hvm_vram_log(struct domain *d, struct hvm_reloc *e, int on)
{
	int r = kvm_vm_slot_flags(&d->vm, e->slot, e->gfn << 12, e->pages << 12,
				  hvm_hole_ptr(d->hvm, e->from), on ? KVM_MEM_LOG_DIRTY_PAGES : 0);

	if (r == 0)
		e->dirty = on;
	return r;
}

int hvm_track_dirty_vram(struct domain *d, uint64_t first, uint64_t nr, void *out,
			 uint32_t *out_len)
{
	struct hvm_domain *h = d->hvm;
	struct hvm_reloc *e = NULL;
	uint64_t *log;
	uint8_t *bits = out;
	int r = 0;

	if (nr > HVM_VRAM_MAX || first >= HVM_GFN_LIMIT || nr > HVM_GFN_LIMIT - first)
		return -EINVAL;
	pthread_mutex_lock(&d->mm_lock);
	for (int i = 0; i < h->nr_relocs; i++) {
		struct hvm_reloc *x = &h->relocs[i];

		if (nr && first >= x->gfn && first + nr <= x->gfn + x->pages)
			e = x;
		else if (x->dirty) /* one range tracked at a time, as Xen's */
			r = hvm_vram_log(d, x, 0);
	}
	if (!nr || r < 0)
		goto out;
	if (!e) {
		hvlog("d%d: track_dirty_vram of gfn %#llx+%llu: not relocated video RAM (the "
		      "only frames keeld tracks this way)",
		      d->domid, (unsigned long long)first, (unsigned long long)nr);
		r = -EOPNOTSUPP;
		goto out;
	}
	memset(bits, 0, (nr + 7) / 8);
	*out_len = (uint32_t)((nr + 7) / 8);
	if (!e->dirty || e->dirty_first != first || e->dirty_nr != nr) {
		/* a new range: nothing logged yet, all of it dirty (Xen's HAP) */
		r = hvm_vram_log(d, e, 1);
		hvlog("d%d: track_dirty_vram: gfn %#llx+%llu logged (KVM's dirty log on its slot)",
		      d->domid, (unsigned long long)first, (unsigned long long)nr);
		e->dirty_first = first;
		e->dirty_nr = nr;
		for (uint64_t i = 0; i < nr; i++)
			bits[i / 8] |= (uint8_t)(1 << (i % 8));
		goto out;
	}
	log = calloc((e->pages + 63) / 64, sizeof(uint64_t));
	r = log ? kvm_vm_dirty_log(&d->vm, e->slot, log) : -ENOMEM;
	for (uint64_t i = 0, o = first - e->gfn; r == 0 && i < nr; i++, o++)
		if ((log[o / 64] >> (o % 64)) & 1)
			bits[i / 8] |= (uint8_t)(1 << (i % 8));
	free(log);
out:
	pthread_mutex_unlock(&d->mm_lock);
	if (r < 0)
		*out_len = 0;
	return r;
}
