/*
 * The PV MMU, keeld side.  Every page-table frame of a domain has a type
 * (L1..L4) whose contents were validated when the type was taken; a frame
 * mapped writable has type "writable"; a frame can hold one type at a time,
 * so a page-table page can never be mapped writable and a writable page can
 * never become a page table.  Only the domain's own frames (and its
 * shared_info) may be mapped; the hole slots of every L4 are keeld's.
 * Linear (recursive) page tables are allowed by Xen's rules: a read-only
 * entry of an L2..L4 may name its own table, or another validated table of
 * the same level (which then holds one type reference for it).
 * Refusals return Xen's error and are logged.
 */
#include <string.h>

#include "abi/xen.h"
#include "../gnttab/gnttab.h"
#include "pv_mm.h"

#define PV_PTE_FLAGS_CHECKED (PTE_P | PTE_RW | PTE_PS | PTE_ADDR)

/* Set while pv_mm_grant_pte writes a grant mapping's entry (this thread). */
static __thread int pv_mm_installing_grant;

int pv_mm_owns(struct domain *d, uint64_t mfn)
{
	return mfn < d->nr_pages && !(d->released && (d->released[mfn / 8] >> (mfn % 8)) & 1);
}

/* keeld's frames a guest may map: shared_info and its grant table. */
static int pv_mm_is_shared_info(struct domain *d, uint64_t mfn)
{
	return mfn == ((SHIM_GPA + SHIM_OFF_SHARED_INFO) >> PV_PAGE_SHIFT) ||
	       gnttab_is_frame(d, mfn);
}

struct pv_apply_entry {
	uint64_t va, val;
};

static struct pv_apply_entry *pv_apply_list(struct vcpu *v)
{
	return (struct pv_apply_entry *)(v->dom->shim + SHIM_VCPU_OFF(v->id, SHIM_VCPU_APPLY));
}

uint64_t pv_mm_read_entry(struct vcpu *v, uint64_t gpa)
{
	struct domain *d = v->dom;
	struct pv_apply_entry *list = pv_apply_list(v);
	uint64_t val;

	/* A write queued earlier in this hypercall wins over memory. */
	for (int i = (int)v->pv->napply - 1; i >= 0; i--)
		if (list[i].va == DIRECTMAP_VIRT + gpa)
			return list[i].val;
	memcpy(&val, d->ram + gpa, 8);
	return val;
}

int pv_mm_write_entry(struct vcpu *v, uint64_t gpa, uint64_t val)
{
	struct domain *d = v->dom;
	int r;

	if (!pv_domain_started(d)) {
		memcpy(d->ram + gpa, &val, 8);
		return 0;
	}
	if (v->pv->napply == SHIM_APPLY_MAX) {
		r = pv_vcpu_apply(v);
		if (r < 0)
			return r;
	}
	pv_apply_list(v)[v->pv->napply++] = (struct pv_apply_entry){DIRECTMAP_VIRT + gpa, val};
	return 0;
}

static int pv_mm_entry_get(struct vcpu *v, int level, uint64_t table, uint64_t e);
static void pv_mm_entry_put(struct vcpu *v, int level, uint64_t table, uint64_t e);

/* A 64-bit PV kernel runs in ring 3, so every guest entry is made user
 * accessible (as Xen does); what the guest kernel alone may reach it keeps
 * out of the user page table. */
static uint64_t pv_mm_adjust(uint64_t e)
{
	return (e & PTE_P) ? (e | PTE_US) : e;
}

static int pv_mm_validate(struct vcpu *v, uint64_t mfn, int level)
{
	uint64_t base = mfn << PV_PAGE_SHIFT, e;
	struct domain *d = v->dom;
	int i, r;

	for (i = 0; i < 512; i++) {
		if (level == PGT_l4 && i >= PV_HOLE_FIRST_SLOT && i <= PV_HOLE_LAST_SLOT)
			continue;
		e = pv_mm_read_entry(v, base + i * 8);
		r = pv_mm_entry_get(v, level, mfn, e);
		if (r < 0)
			goto undo;
		if (pv_mm_adjust(e) != e)
			pv_mm_write_entry(v, base + i * 8, pv_mm_adjust(e));
	}
	if (level == PGT_l4)
		for (i = 0; i < PV_HOLE_NSLOTS; i++)
			pv_mm_write_entry(v, base + (PV_HOLE_FIRST_SLOT + i) * 8,
					  d->pv->hole_l4e[i]);
	return 0;
undo:
	domain_log(d, "mm: frame %#llx as L%d: entry %d (%#llx) refused (%d)",
		   (unsigned long long)mfn, level, i, (unsigned long long)e, r);
	while (--i >= 0) {
		if (level == PGT_l4 && i >= PV_HOLE_FIRST_SLOT && i <= PV_HOLE_LAST_SLOT)
			continue;
		pv_mm_entry_put(v, level, mfn, pv_mm_read_entry(v, base + i * 8));
	}
	return r;
}

static void pv_mm_devalidate(struct vcpu *v, uint64_t mfn, int level)
{
	uint64_t base = mfn << PV_PAGE_SHIFT;

	for (int i = 0; i < 512; i++) {
		if (level == PGT_l4 && i >= PV_HOLE_FIRST_SLOT && i <= PV_HOLE_LAST_SLOT)
			continue;
		pv_mm_entry_put(v, level, mfn, pv_mm_read_entry(v, base + i * 8));
	}
}

int pv_mm_get_type(struct vcpu *v, uint64_t mfn, int type)
{
	struct domain *d = v->dom;
	struct page_info *pi;
	int r;

	if (!pv_mm_owns(d, mfn))
		return -XEN_EPERM;
	pi = &d->pv->pages[mfn];
	if (pi->type_count == 0) {
		if (type >= PGT_l1 && type <= PGT_l4) {
			/* Mark first: an entry naming the table itself is then a
			 * type clash (refused, or a linear entry). */
			pi->type = type;
			pi->type_count = 1;
			r = pv_mm_validate(v, mfn, type);
			pi->type_count = 0;
			pi->type = PGT_none;
			if (r < 0)
				return r;
		}
		pi->type = type;
	} else if (pi->type != type) {
		return -XEN_EINVAL;
	}
	pi->type_count++;
	return 0;
}

void pv_mm_put_type(struct vcpu *v, uint64_t mfn)
{
	struct domain *d = v->dom;
	struct page_info *pi;

	if (!pv_mm_owns(d, mfn))
		return;
	pi = &d->pv->pages[mfn];
	if (pi->type_count == 0)
		return;
	if (--pi->type_count == 0) {
		int t = pi->type;

		if (t >= PGT_l1 && t <= PGT_l4) {
			pi->type_count = 1; /* hold it while its entries go */
			pv_mm_devalidate(v, mfn, t);
			pi->type_count = 0;
		}
		pi->type = PGT_none;
	}
}

/*
 * A linear page-table entry: entry e of `table` (an L2..L4 of type `level`)
 * names a frame that is not a table of the level below.  Xen allows it
 * (its "linear page table" rules, on by default for PV guests) when the
 * entry is read-only and names either the table itself, which takes no
 * reference (a table cannot hold a reference to itself and still be
 * freed), or another table of the same level already in use, which takes
 * a type reference.  A table that holds such entries may not be named by
 * one, and one that is named may not hold any: references never chain, so
 * a table's last reference can always go.  1 if allowed (counted), else 0.
 */
static int pv_mm_linear_get(struct vcpu *v, int level, uint64_t table, uint64_t e)
{
	struct page_info *pt = &v->dom->pv->pages[table], *pg;
	uint64_t mfn = (e & PTE_ADDR) >> PV_PAGE_SHIFT;

	if (e & PTE_RW)
		return 0; /* the guest could write a table without validation */
	if (mfn == table)
		return 1;
	pg = &v->dom->pv->pages[mfn];
	if (pg->type != level || !pg->type_count || pg->type_count == UINT32_MAX)
		return 0;
	if (pt->linear < 0 || pt->linear == INT16_MAX || pg->linear > 0 || pg->linear == INT16_MIN)
		return 0;
	pt->linear++;
	pg->linear--;
	pg->type_count++;
	return 1;
}

static int pv_mm_entry_get(struct vcpu *v, int level, uint64_t table, uint64_t e)
{
	struct domain *d = v->dom;
	uint64_t mfn = (e & PTE_ADDR) >> PV_PAGE_SHIFT;
	int r;

	if (!(e & PTE_P))
		return 0;
	if (level == PGT_l1) {
		if (pv_mm_is_shared_info(d, mfn))
			return 0;
		/* A granted frame (the foreign window): only the grant op itself
		 * writes such an entry, for a live map, writable only for a
		 * writable map; no type reference (the page is not the guest's).
		 * Anything else naming one -- an alias by mmu_update or a
		 * writable page-table write, a table validated with one in it --
		 * is refused, as Xen refuses foreign frames: an alias could
		 * outlive the map and reach whatever the handle maps next. */
		if (mfn >= (GNTTAB_WINDOW_GPA >> PV_PAGE_SHIFT))
			return pv_mm_installing_grant
				       ? gnttab_window_frame_ok(d, mfn, !!(e & PTE_RW))
				       : -XEN_EPERM;
		if (!pv_mm_owns(d, mfn))
			return -XEN_EPERM;
		if (e & PTE_RW)
			return pv_mm_get_type(v, mfn, PGT_writable);
		return 0;
	}
	if (e & PTE_PS)
		return -XEN_EINVAL; /* no superpages for PV guests */
	if (!pv_mm_owns(d, mfn))
		return -XEN_EPERM;
	r = pv_mm_get_type(v, mfn, level - 1);
	/* As Xen: only a type clash may be a linear entry; the refusal stays
	 * the clash's -EINVAL. */
	if (r == -XEN_EINVAL && pv_mm_linear_get(v, level, table, e))
		r = 0;
	return r;
}

static void pv_mm_entry_put(struct vcpu *v, int level, uint64_t table, uint64_t e)
{
	struct page_info *pages = v->dom->pv->pages;
	uint64_t mfn = (e & PTE_ADDR) >> PV_PAGE_SHIFT;

	if (!(e & PTE_P))
		return;
	if (level == PGT_l1) {
		if ((e & PTE_RW) && pv_mm_owns(v->dom, mfn))
			pv_mm_put_type(v, mfn);
		return;
	}
	if (mfn == table)
		return; /* a linear entry naming its own table holds nothing */
	/* The entry holds a type reference, so the frame's type is still the
	 * one it was taken as: the table's own level means a linear entry. */
	if (pv_mm_owns(v->dom, mfn) && pages[mfn].type_count && pages[mfn].type == level) {
		pages[table].linear--;
		pages[mfn].linear++;
	}
	pv_mm_put_type(v, mfn);
}

/* After a restore: the linear counts follow from the tables (the save
 * records carry only types and counts). */
void pv_mm_recount_linear(struct domain *d)
{
	struct page_info *pages = d->pv->pages;
	uint64_t f;

	for (f = 0; f < d->nr_pages; f++)
		pages[f].linear = 0;
	for (f = 0; f < d->nr_pages; f++) {
		const uint64_t *t = (const uint64_t *)(d->ram + (f << PV_PAGE_SHIFT));

		if (!pages[f].type_count || pages[f].type < PGT_l2 || pages[f].type > PGT_l4 ||
		    !pv_mm_owns(d, f))
			continue;
		for (int i = 0; i < 512; i++) {
			uint64_t mfn = (t[i] & PTE_ADDR) >> PV_PAGE_SHIFT;

			if (pages[f].type == PGT_l4 && i >= PV_HOLE_FIRST_SLOT &&
			    i <= PV_HOLE_LAST_SLOT)
				continue;
			if (!(t[i] & PTE_P) || mfn == f || !pv_mm_owns(d, mfn) ||
			    pages[mfn].type != pages[f].type || !pages[mfn].type_count)
				continue;
			pages[f].linear++;
			pages[mfn].linear--;
		}
	}
}

/* Update entry `gpa` of a validated table of type `level`. */
int pv_mm_update_entry(struct vcpu *v, int level, uint64_t gpa, uint64_t val, int preserve_ad)
{
	uint64_t old = pv_mm_read_entry(v, gpa), nv = pv_mm_adjust(val);
	unsigned idx = (gpa & 0xfff) / 8;
	int r;

	if (level == PGT_l4 && idx >= PV_HOLE_FIRST_SLOT && idx <= PV_HOLE_LAST_SLOT)
		return -XEN_EPERM;
	if (preserve_ad)
		nv |= old & (PTE_A | PTE_D);
	if (nv == old)
		return 0; /* nothing to write (and so nothing to flush) */
	if (((old ^ nv) & PV_PTE_FLAGS_CHECKED) == 0)
		return pv_mm_write_entry(v, gpa, nv);
	r = pv_mm_entry_get(v, level, gpa >> PV_PAGE_SHIFT, nv);
	if (r < 0)
		return r;
	pv_mm_entry_put(v, level, gpa >> PV_PAGE_SHIFT, old);
	return pv_mm_write_entry(v, gpa, nv);
}

static int64_t pv_mm_l1e_of(struct vcpu *v, uint64_t cr3, uint64_t va);

/* The L1 entry a grant op names: a virtual address in the current tables,
 * or with contains_pte an entry's machine address, which must be 8-byte
 * aligned (Xen refuses a misaligned one rather than write over part of
 * two entries); either way in a validated L1 table. */
static int64_t pv_mm_grant_l1e(struct vcpu *v, uint64_t addr, int contains_pte)
{
	struct domain *d = v->dom;
	int64_t l1e;

	if (contains_pte) {
		if (addr & 7)
			return -XEN_EINVAL;
		l1e = (int64_t)addr;
		if (!pv_mm_owns(d, (uint64_t)l1e >> PV_PAGE_SHIFT))
			return -XEN_EINVAL;
	} else {
		if (addr >= HYPERVISOR_VIRT_START && addr < HYPERVISOR_VIRT_END)
			return -XEN_EINVAL;
		l1e = pv_mm_l1e_of(v, v->pv->kernel_mode ? v->pv->kernel_cr3 : v->pv->user_cr3,
				   addr);
		if (l1e < 0)
			return l1e;
	}
	if (d->pv->pages[l1e >> PV_PAGE_SHIFT].type != PGT_l1 ||
	    !d->pv->pages[l1e >> PV_PAGE_SHIFT].type_count)
		return -XEN_EINVAL;
	return l1e;
}

int pv_mm_grant_pte(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t expect_mfn,
		    uint64_t val)
{
	int64_t l1e;
	uint64_t old;
	int r;

	l1e = pv_mm_grant_l1e(v, addr, contains_pte);
	if (l1e < 0)
		return (int)l1e;
	old = pv_mm_read_entry(v, (uint64_t)l1e);
	if (expect_mfn != ~0ULL &&
	    (!(old & PTE_P) || ((old & PTE_ADDR) >> PV_PAGE_SHIFT) != expect_mfn))
		return -XEN_EINVAL;
	v->pv->flush_pending = 1;
	pv_mm_installing_grant = 1;
	r = pv_mm_update_entry(v, PGT_l1, (uint64_t)l1e, val, 0);
	pv_mm_installing_grant = 0;
	return r;
}

/*
 * GNTTABOP_unmap_and_replace: the grant's entry at addr (which must map
 * expect_mfn) takes the entry that maps new_addr, and new_addr's entry is
 * cleared, as Xen's steal_linear_address does.  Everything is checked
 * before anything is written, so a refusal changes nothing (Xen has
 * already cleared new_addr's entry when it finds addr's entry wrong).  An
 * entry naming a granted frame is not moved: keeld tracks each grant
 * mapping by its address.
 */
int pv_mm_grant_replace(struct vcpu *v, uint64_t addr, uint64_t expect_mfn, uint64_t new_addr)
{
	int64_t l1e = pv_mm_grant_l1e(v, addr, 0), nl1e;
	uint64_t old, moved;
	int r;

	if (l1e < 0)
		return (int)l1e;
	nl1e = pv_mm_grant_l1e(v, new_addr, 0);
	if (nl1e < 0)
		return (int)nl1e;
	if (nl1e == l1e)
		return -XEN_EINVAL;
	old = pv_mm_read_entry(v, (uint64_t)l1e);
	if (!(old & PTE_P) || ((old & PTE_ADDR) >> PV_PAGE_SHIFT) != expect_mfn)
		return -XEN_EINVAL;
	moved = pv_mm_read_entry(v, (uint64_t)nl1e);
	if ((moved & PTE_P) &&
	    ((moved & PTE_ADDR) >> PV_PAGE_SHIFT) >= (GNTTAB_WINDOW_GPA >> PV_PAGE_SHIFT))
		return -XEN_EINVAL;
	v->pv->flush_pending = 1;
	/* The moved entry is taken at addr first (its references counted
	 * twice for a moment), then dropped at new_addr. */
	r = pv_mm_update_entry(v, PGT_l1, (uint64_t)l1e, moved, 0);
	if (r < 0)
		return r;
	return pv_mm_update_entry(v, PGT_l1, (uint64_t)nl1e, 0, 0);
}

/*
 * Does a validated L1 table of the domain hold a present entry naming one
 * of the n frames from mfn?  Memory holds the tables, except for writes
 * v's current hypercall queued: those win (pv_mm_read_entry), and a
 * queued write can also be the only place such an entry is.  Caller holds
 * mm_lock, so no other vCPU changes a table meanwhile.
 */
int pv_mm_frames_mapped(struct vcpu *v, uint64_t mfn, uint64_t n)
{
	struct domain *d = v->dom;
	struct pv_apply_entry *list = pv_apply_list(v);

	for (uint64_t f = 0; f < d->nr_pages; f++) {
		const uint64_t *t = (const uint64_t *)(d->ram + (f << PV_PAGE_SHIFT));

		if (d->pv->pages[f].type != PGT_l1 || !d->pv->pages[f].type_count ||
		    !pv_mm_owns(d, f))
			continue;
		for (int i = 0; i < 512; i++) {
			uint64_t e = __atomic_load_n(&t[i], __ATOMIC_RELAXED);

			if (!(e & PTE_P) || ((e & PTE_ADDR) >> PV_PAGE_SHIFT) - mfn >= n)
				continue;
			e = pv_mm_read_entry(v, (f << PV_PAGE_SHIFT) + i * 8);
			if ((e & PTE_P) && ((e & PTE_ADDR) >> PV_PAGE_SHIFT) - mfn < n)
				return 1;
		}
	}
	for (unsigned i = 0; i < v->pv->napply; i++) {
		uint64_t gpa = list[i].va - DIRECTMAP_VIRT, e = list[i].val,
			 f = gpa >> PV_PAGE_SHIFT;

		if (!(e & PTE_P) || ((e & PTE_ADDR) >> PV_PAGE_SHIFT) - mfn >= n ||
		    !pv_mm_owns(d, f) || d->pv->pages[f].type != PGT_l1 ||
		    !d->pv->pages[f].type_count)
			continue;
		if (pv_mm_read_entry(v, gpa) == e)
			return 1; /* the last write queued for that entry */
	}
	return 0;
}

static int pv_mm_normal_update(struct vcpu *v, uint64_t ptr, uint64_t val, int preserve_ad)
{
	struct domain *d = v->dom;
	uint64_t mfn = ptr >> PV_PAGE_SHIFT;
	struct page_info *pi;

	ptr &= ~7ULL;
	if (!pv_mm_owns(d, mfn))
		return -XEN_EPERM;
	pi = &d->pv->pages[mfn];
	if (pi->type_count && pi->type >= PGT_l1 && pi->type <= PGT_l4)
		return pv_mm_update_entry(v, pi->type, ptr, val, preserve_ad);
	if (pi->type_count && pi->type != PGT_writable)
		return -XEN_EINVAL;
	/* An ordinary page: the update is an ordinary write. */
	memcpy(d->ram + ptr, &val, 8);
	return 0;
}

/*
 * The argument rules mmu_update and mmuext_op share: a PV guest may only
 * name itself (DOMID_SELF or its own id; foreign updates are dom0's, which
 * keeld never runs as a PV guest), and a batch is bounded so one hypercall
 * cannot hold a vCPU indefinitely.
 */
static int pv_mm_batch_check(const struct domain *d, uint64_t domid, uint64_t count)
{
	if ((domid & 0xffff) != DOMID_SELF && (domid & 0xffff) != (uint64_t)d->domid)
		return -XEN_EPERM;
	if (count > (1 << 20))
		return -XEN_EINVAL;
	return 0;
}

int pv_mmu_update(struct vcpu *v, uint64_t reqs, uint64_t count, uint64_t done_ptr, uint64_t domid)
{
	struct domain *d = v->dom;
	uint64_t i;
	int r = 0;

	r = pv_mm_batch_check(d, domid, count);
	if (r < 0) {
		domain_log(d, "mmu_update: foreigndom %#llx, count %llu refused (%d)",
			   (unsigned long long)domid, (unsigned long long)count, r);
		return r;
	}
	for (i = 0; i < count; i++) {
		struct mmu_update req;

		r = pv_copy_from_guest(v, &req, reqs + i * sizeof(req), sizeof(req));
		if (r < 0)
			break;
		switch (req.ptr & 3) {
		case MMU_NORMAL_PT_UPDATE:
		case MMU_PT_UPDATE_PRESERVE_AD:
			r = pv_mm_normal_update(v, req.ptr & ~3ULL, req.val,
						(req.ptr & 3) == MMU_PT_UPDATE_PRESERVE_AD);
			break;
		case MMU_MACHPHYS_UPDATE: {
			uint64_t mfn = req.ptr >> PV_PAGE_SHIFT;

			if (!pv_mm_owns(d, mfn)) {
				r = -XEN_EPERM;
				break;
			}
			memcpy(d->shim + SHIM_OFF_M2P + mfn * 8, &req.val, 8);
			r = 0;
			break;
		}
		default:
			r = -XEN_ENOSYS;
		}
		if (r < 0) {
			domain_log(d, "mmu_update: ptr %#llx val %#llx refused (%d)",
				   (unsigned long long)req.ptr, (unsigned long long)req.val, r);
			break;
		}
	}
	if (done_ptr) {
		uint32_t done = i;

		if (pv_copy_to_guest(v, done_ptr, &done, sizeof(done)) < 0 && r == 0)
			r = -XEN_EFAULT;
	}
	return r;
}

/* The L1 entry (guest-physical address) mapping va, or a negative errno. */
static int64_t pv_mm_l1e_of(struct vcpu *v, uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & PTE_ADDR, e;

	for (int level = 4; level > 1; level--) {
		unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;

		e = pv_mm_read_entry(v, table + idx * 8);
		if (!(e & PTE_P) || (e & PTE_PS))
			return -XEN_EINVAL;
		table = e & PTE_ADDR;
		if (table >= (v->dom->nr_pages << PV_PAGE_SHIFT))
			return -XEN_EINVAL;
	}
	return table + ((va >> 12) & 511) * 8;
}

static uint64_t pv_current_cr3(struct vcpu *v)
{
	return v->pv->kernel_mode ? v->pv->kernel_cr3 : v->pv->user_cr3;
}

int pv_update_va_mapping(struct vcpu *v, uint64_t va, uint64_t val, uint64_t flags)
{
	int64_t l1e;
	int r;

	if (va >= HYPERVISOR_VIRT_START && va < HYPERVISOR_VIRT_END)
		return -XEN_EINVAL;
	l1e = pv_mm_l1e_of(v, pv_current_cr3(v), va);
	if (l1e < 0)
		return (int)l1e;
	if (v->dom->pv->pages[l1e >> PV_PAGE_SHIFT].type != PGT_l1)
		return -XEN_EINVAL;
	r = pv_mm_update_entry(v, PGT_l1, l1e, val, 0);
	if (r < 0)
		domain_log(v->dom, "update_va_mapping: va %#llx val %#llx refused (%d)",
			   (unsigned long long)va, (unsigned long long)val, r);
	if (flags & UVMF_FLUSHTYPE_MASK)
		v->pv->flush_pending = 1;
	return r;
}

static int pv_mmuext_one(struct vcpu *v, const struct mmuext_op *op)
{
	struct domain *d = v->dom;
	uint64_t mfn = op->arg1.mfn;
	int r;

	switch (op->cmd) {
	case MMUEXT_PIN_L1_TABLE:
	case MMUEXT_PIN_L2_TABLE:
	case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		if (!pv_mm_owns(d, mfn))
			return -XEN_EPERM;
		if (d->pv->pages[mfn].pinned)
			return -XEN_EINVAL;
		r = pv_mm_get_type(v, mfn, PGT_l1 + (op->cmd - MMUEXT_PIN_L1_TABLE));
		if (r == 0)
			d->pv->pages[mfn].pinned = 1;
		return r;
	case MMUEXT_UNPIN_TABLE:
		if (!pv_mm_owns(d, mfn))
			return -XEN_EPERM;
		if (!d->pv->pages[mfn].pinned)
			return -XEN_EINVAL;
		d->pv->pages[mfn].pinned = 0;
		pv_mm_put_type(v, mfn);
		return 0;
	case MMUEXT_NEW_BASEPTR:
		/* Frame 0 is "no table" in keeld's books (as MFN 0 is null in
		 * Xen's, never a guest's frame): loaded, its reference would
		 * never be dropped (found by pv_mm_fuzz). */
		if (!mfn)
			return -XEN_EINVAL;
		r = pv_mm_get_type(v, mfn, PGT_l4);
		if (r < 0)
			return r;
		if (v->pv->kernel_cr3)
			pv_mm_put_type(v, v->pv->kernel_cr3 >> PV_PAGE_SHIFT);
		v->pv->kernel_cr3 = mfn << PV_PAGE_SHIFT;
		/* The new L4's hole slots must be in place before it is loaded. */
		if (v->pv->napply && pv_vcpu_apply(v) < 0)
			return -XEN_EIO;
		return v->pv->kernel_mode ? pv_vcpu_load_cr3(v) : 0;
	case MMUEXT_NEW_USER_BASEPTR:
		if (mfn) {
			r = pv_mm_get_type(v, mfn, PGT_l4);
			if (r < 0)
				return r;
		}
		if (v->pv->user_cr3)
			pv_mm_put_type(v, v->pv->user_cr3 >> PV_PAGE_SHIFT);
		v->pv->user_cr3 = mfn << PV_PAGE_SHIFT;
		return 0;
	case MMUEXT_TLB_FLUSH_LOCAL:
	case MMUEXT_INVLPG_LOCAL:
	case MMUEXT_TLB_FLUSH_MULTI:
	case MMUEXT_INVLPG_MULTI:
	case MMUEXT_TLB_FLUSH_ALL:
	case MMUEXT_INVLPG_ALL:
	case MMUEXT_FLUSH_CACHE:
	case MMUEXT_FLUSH_CACHE_GLOBAL:
		v->pv->flush_pending = 1;
		return 0;
	case MMUEXT_SET_LDT:
		if (op->arg2.nr_ents > 8192 || (op->arg1.linear_addr & 0xfff) ||
		    (op->arg1.linear_addr >= HYPERVISOR_VIRT_START &&
		     op->arg1.linear_addr < HYPERVISOR_VIRT_END))
			return -XEN_EINVAL;
		v->pv->ldt_base = op->arg1.linear_addr;
		v->pv->ldt_ents = op->arg2.nr_ents;
		return 0;
	case MMUEXT_CLEAR_PAGE:
	case MMUEXT_COPY_PAGE:
		if (!pv_mm_owns(d, mfn) ||
		    (d->pv->pages[mfn].type_count && d->pv->pages[mfn].type != PGT_writable))
			return -XEN_EINVAL;
		if (op->cmd == MMUEXT_CLEAR_PAGE) {
			memset(d->ram + (mfn << PV_PAGE_SHIFT), 0, PV_PAGE_SIZE);
		} else {
			if (!pv_mm_owns(d, op->arg2.src_mfn))
				return -XEN_EINVAL;
			memcpy(d->ram + (mfn << PV_PAGE_SHIFT),
			       d->ram + (op->arg2.src_mfn << PV_PAGE_SHIFT), PV_PAGE_SIZE);
		}
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

int pv_mmuext_op(struct vcpu *v, uint64_t ops, uint64_t count, uint64_t done_ptr, uint64_t domid)
{
	struct domain *d = v->dom;
	uint64_t i;
	int r = 0;

	r = pv_mm_batch_check(d, domid, count);
	if (r < 0)
		return r;
	for (i = 0; i < count; i++) {
		struct mmuext_op op;

		r = pv_copy_from_guest(v, &op, ops + i * sizeof(op), sizeof(op));
		if (r < 0)
			break;
		r = pv_mmuext_one(v, &op);
		if (r < 0) {
			domain_log(d, "mmuext_op: cmd %u arg %#llx refused (%d)", op.cmd,
				   (unsigned long long)op.arg1.mfn, r);
			break;
		}
	}
	if (done_ptr) {
		uint32_t done = i;

		if (pv_copy_to_guest(v, done_ptr, &done, sizeof(done)) < 0 && r == 0)
			r = -XEN_EFAULT;
	}
	return r;
}

/* Translate a guest virtual address with the guest's current page tables;
 * the guest must itself be allowed the access. */
int pv_guest_translate(struct vcpu *v, uint64_t va, int write, uint64_t *gpa)
{
	uint64_t table = pv_current_cr3(v) & PTE_ADDR, e = 0;
	uint64_t limit = v->dom->nr_pages << PV_PAGE_SHIFT;

	if ((va >= HYPERVISOR_VIRT_START && va < HYPERVISOR_VIRT_END) ||
	    ((int64_t)va >> 47 != 0 && (int64_t)va >> 47 != -1))
		return -XEN_EFAULT;
	for (int level = 4; level >= 1; level--) {
		unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;

		if (table >= limit)
			return -XEN_EFAULT;
		e = pv_mm_read_entry(v, table + idx * 8);
		if (!(e & PTE_P) || !(e & PTE_US) || (write && !(e & PTE_RW)))
			return -XEN_EFAULT;
		table = e & PTE_ADDR;
	}
	if (table >= limit) {
		/* Only the shared_info frame lies outside RAM, readable. */
		if (!pv_mm_is_shared_info(v->dom, table >> PV_PAGE_SHIFT))
			return -XEN_EFAULT;
	}
	*gpa = table + (va & 0xfff);
	return 0;
}

static uint8_t *pv_gpa_ptr(struct domain *d, uint64_t gpa)
{
	if (gpa < (d->nr_pages << PV_PAGE_SHIFT))
		return d->ram + gpa;
	return d->shim + (gpa - SHIM_GPA);
}

int pv_copy_from_guest(struct vcpu *v, void *dst, uint64_t va, size_t len)
{
	while (len) {
		size_t chunk = PV_PAGE_SIZE - (va & 0xfff);
		uint64_t gpa;
		int r;

		if (chunk > len)
			chunk = len;
		r = pv_guest_translate(v, va, 0, &gpa);
		if (r < 0)
			return r;
		memcpy(dst, pv_gpa_ptr(v->dom, gpa), chunk);
		dst = (uint8_t *)dst + chunk;
		va += chunk;
		len -= chunk;
	}
	return 0;
}

int pv_copy_to_guest(struct vcpu *v, uint64_t va, const void *src, size_t len)
{
	while (len) {
		size_t chunk = PV_PAGE_SIZE - (va & 0xfff);
		uint64_t gpa;
		int r;

		if (chunk > len)
			chunk = len;
		r = pv_guest_translate(v, va, 1, &gpa);
		if (r < 0)
			return r;
		/* Writable in the guest's tables means not a page table. */
		memcpy(pv_gpa_ptr(v->dom, gpa), src, chunk);
		domain_dirty_mark(v->dom, gpa >> 12);
		src = (const uint8_t *)src + chunk;
		va += chunk;
		len -= chunk;
	}
	return 0;
}
