/*
 * The PV kind: Xen's x86_64 PV domains, the guest kernel in ring 3 under
 * keeld's shim.  This is the ops table the rest of keeld sees a PV domain
 * through (core/kind.h); the work is in the files beside it.
 */
#include <errno.h>
#include <stdlib.h>

#include "abi/xen.h"
#include "../core/kind.h"
#include "pv_build.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

/* The region after RAM: the shim's code, tables and per-vCPU areas, the
 * grant frames, then the M2P (8 bytes a frame, in 2 MiB steps). */
static uint64_t pv_region_size(uint64_t nr_pages)
{
	return SHIM_OFF_M2P + ((nr_pages * 8 + 0x1fffff) & ~0x1fffffULL);
}

static int pv_init(struct domain *d)
{
	d->pv = calloc(1, sizeof(*d->pv));
	if (!d->pv)
		return -ENOMEM;
	d->pv->pages = calloc(d->nr_pages, sizeof(*d->pv->pages));
	if (!d->pv->pages)
		return -ENOMEM;
	for (int k = 0; k < d->nr_vcpus; k++) {
		d->vcpus[k].pv = calloc(1, sizeof(*d->vcpus[k].pv));
		if (!d->vcpus[k].pv)
			return -ENOMEM;
		pv_debugreg_reset(&d->vcpus[k]);
	}
	return 0;
}

static void pv_destroy(struct domain *d)
{
	/* KEEL_PROFILE: where the domain's whole life went, into the log
	 * (`xl debug-keys pP` dumps it phase by phase while it runs) */
	if (getenv("KEEL_PROFILE") && d->pv)
		pv_prof_dump(d);
	for (int k = 0; k < d->nr_vcpus; k++) {
		free(d->vcpus[k].pv);
		d->vcpus[k].pv = NULL;
	}
	if (d->pv)
		free(d->pv->pages);
	free(d->pv);
	d->pv = NULL;
}

static int pv_build(struct domain *d, const struct domain_image *img)
{
	return pv_build_domain(d, img);
}

static int pv_start(struct domain *d)
{
	return pv_vcpu_start(&d->vcpus[0]);
}

static int pv_frame_writable(struct domain *d, uint64_t gfn)
{
	const struct page_info *pi = &d->pv->pages[gfn];

	return !pi->type_count || pi->type == PGT_writable;
}

static int pv_frame_get_writable(struct domain *d, uint64_t gfn)
{
	return pv_mm_get_type(&d->vcpus[0], gfn, PGT_writable);
}

static void pv_frame_put_writable(struct domain *d, uint64_t gfn)
{
	pv_mm_put_type(&d->vcpus[0], gfn);
}

static int pv_grant_map(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t gpa, int writable)
{
	uint64_t pte = gpa | PTE_P | PTE_US | PTE_A | PTE_D | PTE_NX | (writable ? PTE_RW : 0);

	return pv_mm_grant_pte(v, addr, contains_pte, ~0ULL, pte);
}

static int pv_grant_unmap(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t gpa,
			  uint64_t new_addr)
{
	int r;

	if (new_addr && contains_pte)
		return -XEN_EINVAL; /* Xen: no replace by an entry's machine address */
	if (new_addr)
		r = pv_mm_grant_replace(v, addr, gpa >> PV_PAGE_SHIFT, new_addr);
	else
		r = pv_mm_grant_pte(v, addr, contains_pte, gpa >> PV_PAGE_SHIFT, 0);

	if (r == 0)
		v->pv->flush_pending = 1;
	return r;
}

const struct domain_kind pv_kind = {
	.name = "pv",
	.region_gpa = SHIM_GPA,
	.region_size = pv_region_size,
	.shared_info_off = SHIM_OFF_SHARED_INFO,
	.gnttab_off = SHIM_OFF_GNTTAB,
	.init = pv_init,
	.destroy = pv_destroy,
	.build = pv_build,
	.start = pv_start,
	.vcpu_main = pv_vcpu_thread,
	.kick = pv_vcpu_kick,
	.send_nmi = pv_vcpu_send_nmi,
	.describe_vcpu = pv_vcpu_describe,
	.describe_domain = pv_time_describe,
	.profile_dump = pv_prof_dump,
	.profile_reset = pv_prof_reset,
	.copy_from_guest = pv_copy_from_guest,
	.copy_to_guest = pv_copy_to_guest,
	.frame_writable = pv_frame_writable,
	.frame_get_writable = pv_frame_get_writable,
	.frame_put_writable = pv_frame_put_writable,
	.grant_map = pv_grant_map,
	.grant_unmap = pv_grant_unmap,
	.grant_commit = pv_mm_commit,
	.frames_mapped = pv_mm_frames_mapped,
	.save = pv_save,
	.restore_check = pv_restore_check,
	.restore = pv_restore,
	.resume = pv_resume,
};
