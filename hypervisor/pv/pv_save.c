/*
 * The PV kind's save records and its resume from Xen's suspend (the kind's
 * save / restore_check / restore / resume; ctl/ctl_save.c drives them).
 *
 * Records: DOMAIN (sizes, frames, ports, guest time), PAGE_TYPES (Xen's
 * type and count of every frame), RELEASED (frames given back), per vCPU
 * VCPU_PV (Xen's PV context), VCPU_KVM (registers as KVM holds them: the
 * kernel's own ABI structs, sizes recorded) and SHIM_VCPU (the shim's
 * ring-0 stack and apply list), SHARED_INFO and GDT (the guest's part).
 * Each field is written on its own; a reader checks every value against
 * the domain it would go into before anything is touched.
 *
 * A restored domain gets its shim region from this keeld (code, tables,
 * M2P), every L4 it has gets this keeld's hypervisor-hole slots, and it
 * resumes as a new Xen domain: no event channels but store and console
 * (at the numbers the guest knew, written into its start_info), no
 * timers, no vcpu_info, runstate or time-area registrations; the suspend
 * hypercall returns 0 and the guest re-does its own setup.  A cancelled
 * suspend (xl save -c) returns 1 and keeps everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "abi/xen.h"
#include "../core/kind.h"
#include "../core/kvm_save.h"
#include "../core/saverec.h"
#include "../evtchn/evtchn.h"
#include "pv_build.h"
#include "pv_mm.h"
#include "pv_vcpu.h"
#include "pv_xstate.h"

#define PV_SAVE_NMSRS	   8
#define PV_SAVE_GDT_BYTES  (14 * 4096) /* the guest's part; Xen reserves the rest */
#define PV_SAVE_SHIM_VCPU  (SHIM_VCPU_STACK_TOP - SHIM_VCPU_APPLY)
#define PV_SAVE_DOM_CANCEL 1u /* DOMAIN flags: the kernel has XEN_ELFNOTE_SUSPEND_CANCEL */

/* STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX, PAT, SYSENTER_EIP */
static const uint32_t pv_save_msr_index[PV_SAVE_NMSRS] = {
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000102, 0xc0000103, 0x00000277, 0x00000176,
};
static const struct kvm_save_msrs pv_save_msrs = {pv_save_msr_index, PV_SAVE_NMSRS, PV_SAVE_NMSRS};

static void pv_save_domain(struct domain *d, struct srb *out)
{
	struct srb p = {0};

	srb_u32(&p, (uint32_t)d->nr_vcpus);
	srb_u32(&p, d->pv->suspend_cancel ? PV_SAVE_DOM_CANCEL : 0);
	srb_u64(&p, d->nr_pages);
	srb_u64(&p, d->cur_pages);
	srb_u64(&p, d->max_pages);
	srb_u64(&p, d->pv->vm_assist);
	srb_u64(&p, d->pv->hypercall_page_va);
	srb_u64(&p, d->console_mfn);
	srb_u64(&p, d->store_mfn);
	srb_u64(&p, d->pv->start_info_mfn);
	srb_u64(&p, pv_time_now(d));
	srb_u32(&p, d->console_port);
	srb_u32(&p, d->store_port);
	srb_u32(&p, (uint32_t)d->suspend_vcpu);
	srb_u32(&p, (uint32_t)d->domid);
	saverec_put(out, SAVEREC_DOMAIN, 1, &p);
	srb_free(&p);
}

static void pv_save_page_types(struct domain *d, struct srb *out)
{
	struct srb p = {0};

	srb_u64(&p, d->nr_pages);
	for (uint64_t i = 0; i < d->nr_pages && !p.err; i++) {
		srb_u8(&p, d->pv->pages[i].type);
		srb_u8(&p, d->pv->pages[i].pinned);
		srb_u32(&p, d->pv->pages[i].type_count);
	}
	saverec_put(out, SAVEREC_PAGE_TYPES, 1, &p);
	srb_free(&p);
	p = (struct srb){0};
	srb_u64(&p, d->nr_pages);
	srb_bytes(&p, d->released, (d->nr_pages + 7) / 8);
	saverec_put(out, SAVEREC_RELEASED, 1, &p);
	srb_free(&p);
}

static void pv_save_vcpu_pv(struct vcpu *v, struct srb *out)
{
	const struct callback_info *cbs[3] = {&v->pv->cb_event, &v->pv->cb_failsafe,
					      &v->pv->cb_syscall};
	struct srb p = {0};

	srb_u32(&p, (uint32_t)v->id);
	srb_u32(&p, (uint32_t)v->online);
	srb_u32(&p, (uint32_t)v->initialised);
	srb_u32(&p, (uint32_t)v->pv->kernel_mode);
	srb_u32(&p, v->pv->iopl);
	srb_u32(&p, (uint32_t)v->pv->fpu_ts);
	srb_u32(&p, v->pv->gdt_ents);
	srb_u32(&p, 0);
	srb_u64(&p, v->pv->kernel_cr3);
	srb_u64(&p, v->pv->user_cr3);
	srb_u64(&p, v->pv->kernel_ss);
	srb_u64(&p, v->pv->kernel_sp);
	srb_u64(&p, v->pv->fs_base);
	srb_u64(&p, v->pv->gs_base_kernel);
	srb_u64(&p, v->pv->gs_base_user);
	srb_u64(&p, v->pv->ldt_base);
	srb_u64(&p, v->pv->ldt_ents);
	for (int i = 0; i < 8; i++)
		srb_u64(&p, v->pv->debugreg[i]);
	for (int i = 0; i < 16; i++)
		srb_u64(&p, v->pv->gdt_frames[i]);
	for (int i = 0; i < 3; i++) {
		srb_u64(&p, cbs[i]->address);
		srb_u32(&p, (uint32_t)cbs[i]->mask_events);
	}
	for (int i = 0; i < 256; i++) {
		srb_u8(&p, v->pv->traps[i].vector);
		srb_u8(&p, v->pv->traps[i].flags);
		srb_u16(&p, v->pv->traps[i].cs);
		srb_u64(&p, v->pv->traps[i].address);
	}
	saverec_put(out, SAVEREC_VCPU_PV, 1, &p);
	srb_free(&p);
}

static void pv_save_shim_parts(struct domain *d, struct srb *out)
{
	struct srb p = {0};

	srb_bytes(&p, domain_shared_info(d), 4096);
	saverec_put(out, SAVEREC_SHARED_INFO, 1, &p);
	srb_free(&p);
	p = (struct srb){0};
	srb_bytes(&p, d->shim + SHIM_OFF_GDT, PV_SAVE_GDT_BYTES);
	saverec_put(out, SAVEREC_GDT, 1, &p);
	srb_free(&p);
	for (int k = 0; k < d->nr_vcpus; k++) {
		p = (struct srb){0};
		srb_u32(&p, (uint32_t)k);
		srb_u32(&p, 0);
		srb_bytes(&p, d->shim + SHIM_VCPU_OFF(k, SHIM_VCPU_APPLY), PV_SAVE_SHIM_VCPU);
		saverec_put(out, SAVEREC_SHIM_VCPU, 1, &p);
		srb_free(&p);
	}
}

struct pv_rst_vcpu {
	const struct saverec *pv, *kvm, *shim;
};

struct pv_rst {
	const struct saverec *recs;
	unsigned n;
	const struct saverec *types, *released, *shinfo, *gdt;
	struct pv_rst_vcpu v[DOMAIN_MAX_VCPUS];
	uint32_t nr_vcpus, flags, console_port, store_port, suspend_vcpu, old_domid;
	uint64_t nr_pages, cur_pages, max_pages, vm_assist, hypercall_page_va;
	uint64_t console_mfn, store_mfn, start_info_mfn, guest_time_ns;
};

#define PV_BAD(...)                                 \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

static int pv_rst_domain(struct pv_rst *s, const struct saverec *r, uint64_t nr_pages, int nr_vcpus,
			 char *err, size_t errlen)
{
	struct src c = {r->data, r->len, 0};

	s->nr_vcpus = src_u32(&c);
	s->flags = src_u32(&c);
	s->nr_pages = src_u64(&c);
	s->cur_pages = src_u64(&c);
	s->max_pages = src_u64(&c);
	s->vm_assist = src_u64(&c);
	s->hypercall_page_va = src_u64(&c);
	s->console_mfn = src_u64(&c);
	s->store_mfn = src_u64(&c);
	s->start_info_mfn = src_u64(&c);
	s->guest_time_ns = src_u64(&c);
	s->console_port = src_u32(&c);
	s->store_port = src_u32(&c);
	s->suspend_vcpu = src_u32(&c);
	s->old_domid = src_u32(&c);
	if (c.bad || c.left)
		PV_BAD("domain record: %u bytes", r->len);
	if (s->nr_pages != nr_pages || s->nr_vcpus != (uint32_t)nr_vcpus)
		PV_BAD("image of %llu frames and %u vCPUs, domain of %llu and %d",
		       (unsigned long long)s->nr_pages, s->nr_vcpus, (unsigned long long)nr_pages,
		       nr_vcpus);
	if (s->flags & ~PV_SAVE_DOM_CANCEL)
		PV_BAD("domain record: unknown flags %#x", s->flags);
	if (s->cur_pages > nr_pages || s->max_pages < s->cur_pages || s->max_pages > (1ull << 32))
		PV_BAD("domain record: %llu pages of %llu (max %llu)",
		       (unsigned long long)s->cur_pages, (unsigned long long)nr_pages,
		       (unsigned long long)s->max_pages);
	if (s->console_mfn >= nr_pages || s->store_mfn >= nr_pages || s->start_info_mfn >= nr_pages)
		PV_BAD("domain record: frame out of range (console %llu, store %llu, start_info "
		       "%llu of %llu)",
		       (unsigned long long)s->console_mfn, (unsigned long long)s->store_mfn,
		       (unsigned long long)s->start_info_mfn, (unsigned long long)nr_pages);
	if (s->console_port == 0 || s->console_port >= EVTCHN_2L_NR_CHANNELS ||
	    s->store_port == 0 || s->store_port >= EVTCHN_2L_NR_CHANNELS ||
	    s->console_port == s->store_port)
		PV_BAD("domain record: ports %u (console) and %u (store)", s->console_port,
		       s->store_port);
	if (s->suspend_vcpu >= s->nr_vcpus)
		PV_BAD("domain record: vCPU %u suspended", s->suspend_vcpu);
	if (s->hypercall_page_va &&
	    (s->hypercall_page_va & 0xfff || (s->hypercall_page_va >= HYPERVISOR_VIRT_START &&
					      s->hypercall_page_va < HYPERVISOR_VIRT_END)))
		PV_BAD("domain record: hypercall page at %#llx",
		       (unsigned long long)s->hypercall_page_va);
	return 0;
}

static int pv_rst_types(const struct saverec *types, const struct saverec *rel, uint64_t nr,
			char *err, size_t errlen)
{
	struct src c = {types->data, types->len, 0};

	if (src_u64(&c) != nr || c.left != nr * 6)
		PV_BAD("page-types record: %u bytes for %llu frames", types->len,
		       (unsigned long long)nr);
	for (uint64_t i = 0; i < nr; i++) {
		uint8_t type = src_u8(&c), pinned = src_u8(&c);
		uint32_t count = src_u32(&c);

		if (type > PGT_seg_desc || pinned > 1 ||
		    (pinned && (type < PGT_l1 || type > PGT_l4)) || count > (1u << 28) ||
		    (type == PGT_none && count))
			PV_BAD("page-types record: frame %llu has type %u, pinned %u, count %u",
			       (unsigned long long)i, type, pinned, count);
	}
	c = (struct src){rel->data, rel->len, 0};
	if (src_u64(&c) != nr || c.left != (nr + 7) / 8)
		PV_BAD("released record: %u bytes for %llu frames", rel->len,
		       (unsigned long long)nr);
	return 0;
}

/* A frame named by a vCPU (an L4 base): in RAM and typed L4 by the image. */
static int pv_rst_l4(const struct saverec *types, uint64_t nr, uint64_t addr)
{
	uint64_t f = addr >> PV_PAGE_SHIFT;

	return !(addr & 0xfff) && f < nr && types->data[8 + f * 6] == PGT_l4;
}

static int pv_rst_vcpu_pv(const struct pv_rst *s, const struct saverec *r, uint32_t *id, char *err,
			  size_t errlen)
{
	struct src c = {r->data, r->len, 0};
	uint32_t online, init, kmode, iopl, fpu_ts, gdt_ents;
	uint64_t kcr3, ucr3, ldt_ents;

	*id = src_u32(&c);
	online = src_u32(&c);
	init = src_u32(&c);
	kmode = src_u32(&c);
	iopl = src_u32(&c);
	fpu_ts = src_u32(&c);
	gdt_ents = src_u32(&c);
	src_u32(&c);
	kcr3 = src_u64(&c);
	ucr3 = src_u64(&c);
	src_bytes(&c, 5 * 8); /* kernel ss/sp, fs/gs bases: any value */
	src_u64(&c);	      /* ldt_base */
	ldt_ents = src_u64(&c);
	src_bytes(&c, 8 * 8); /* debug registers */
	for (int i = 0; i < 16; i++) {
		uint64_t f = src_u64(&c);

		if ((unsigned)i < (gdt_ents + 511) / 512 && f >= s->nr_pages)
			PV_BAD("vcpu-pv record: GDT frame %llu out of range",
			       (unsigned long long)f);
	}
	src_bytes(&c, 3 * 12 + 256 * 12);
	if (c.bad || c.left)
		PV_BAD("vcpu-pv record: %u bytes", r->len);
	if (*id >= s->nr_vcpus || online > 1 || init > 1 || kmode > 1 || iopl > 3 || fpu_ts > 1 ||
	    gdt_ents > PV_SAVE_GDT_BYTES / 8 || ldt_ents > 8192)
		PV_BAD("vcpu-pv record: vCPU %u: online %u, initialised %u, mode %u, iopl %u, "
		       "%u GDT and %llu LDT entries",
		       *id, online, init, kmode, iopl, gdt_ents, (unsigned long long)ldt_ents);
	if (init && (!pv_rst_l4(s->types, s->nr_pages, kcr3) ||
		     (ucr3 && !pv_rst_l4(s->types, s->nr_pages, ucr3))))
		PV_BAD("vcpu-pv record: vCPU %u: page-table base %#llx/%#llx is not an L4", *id,
		       (unsigned long long)kcr3, (unsigned long long)ucr3);
	return 0;
}

/* Find the kind's records, check every value against the domain's size. */
static int pv_restore_parse(const struct saverec *recs, unsigned n, uint64_t nr_pages, int nr_vcpus,
			    struct pv_rst *s, char *err, size_t errlen)
{
	const struct saverec *dom = NULL;
	uint32_t id;
	int r;

	memset(s, 0, sizeof(*s));
	s->recs = recs;
	s->n = n;
	if (nr_vcpus < 1 || nr_vcpus > DOMAIN_MAX_VCPUS)
		PV_BAD("%d vCPUs", nr_vcpus);
	for (unsigned i = 0; i < s->n; i++) {
		const struct saverec *rec = &s->recs[i];
		const struct saverec **slot = NULL;

		switch (rec->type) {
		case SAVEREC_DOMAIN:
			slot = &dom;
			break;
		case SAVEREC_PAGE_TYPES:
			slot = &s->types;
			break;
		case SAVEREC_RELEASED:
			slot = &s->released;
			break;
		case SAVEREC_SHARED_INFO:
			slot = &s->shinfo;
			break;
		case SAVEREC_GDT:
			slot = &s->gdt;
			break;
		default:
			continue; /* vCPU records after the domain record (below); others' */
		}
		if (rec->version != 1) {
			snprintf(err, errlen, "%s record version %u not supported",
				 saverec_name(rec->type), rec->version);
			return -EPROTO;
		}
		if (*slot)
			PV_BAD("two %s records", saverec_name(rec->type));
		*slot = rec;
	}
	if (!dom || !s->types || !s->released || !s->shinfo || !s->gdt)
		PV_BAD("a record is missing (domain %d, page types %d, released %d, shared info "
		       "%d, GDT %d)",
		       !!dom, !!s->types, !!s->released, !!s->shinfo, !!s->gdt);
	r = pv_rst_domain(s, dom, nr_pages, nr_vcpus, err, errlen);
	if (r == 0)
		r = pv_rst_types(s->types, s->released, s->nr_pages, err, errlen);
	if (r < 0)
		return r;
	if (s->shinfo->len != 4096 || s->gdt->len != PV_SAVE_GDT_BYTES)
		PV_BAD("shared-info or GDT record of the wrong size (%u, %u)", s->shinfo->len,
		       s->gdt->len);
	for (unsigned i = 0; i < s->n; i++) {
		const struct saverec *rec = &s->recs[i];
		const struct saverec **slot;

		if ((rec->type == SAVEREC_VCPU_PV || rec->type == SAVEREC_VCPU_KVM ||
		     rec->type == SAVEREC_SHIM_VCPU) &&
		    rec->version != 1) {
			snprintf(err, errlen, "%s record version %u not supported",
				 saverec_name(rec->type), rec->version);
			return -EPROTO;
		}
		if (rec->type == SAVEREC_VCPU_PV) {
			r = pv_rst_vcpu_pv(s, rec, &id, err, errlen);
			slot = r == 0 ? &s->v[id].pv : NULL;
		} else if (rec->type == SAVEREC_VCPU_KVM) {
			r = kvm_save_check_vcpu(rec, &pv_save_msrs, &id, err, errlen);
			slot = r == 0 ? &s->v[id < s->nr_vcpus ? id : 0].kvm : NULL;
			if (r == 0 && id >= s->nr_vcpus)
				PV_BAD("vcpu-kvm record for vCPU %u", id);
		} else if (rec->type == SAVEREC_SHIM_VCPU) {
			struct src c = {rec->data, rec->len, 0};

			id = src_u32(&c);
			if (rec->len != 8 + PV_SAVE_SHIM_VCPU || id >= s->nr_vcpus)
				PV_BAD("shim-vcpu record: vCPU %u, %u bytes", id, rec->len);
			slot = &s->v[id].shim;
		} else {
			continue;
		}
		if (r < 0)
			return r;
		if (*slot)
			PV_BAD("two %s records for vCPU %u", saverec_name(rec->type), id);
		*slot = rec;
	}
	for (uint32_t k = 0; k < s->nr_vcpus; k++)
		if (!s->v[k].pv || !s->v[k].kvm || !s->v[k].shim)
			PV_BAD("vCPU %u's records are missing", k);
	return 0;
}

static void pv_rst_apply_vcpu_pv(struct vcpu *v, const struct saverec *r)
{
	struct callback_info *cbs[3] = {&v->pv->cb_event, &v->pv->cb_failsafe, &v->pv->cb_syscall};
	struct src c = {r->data, r->len, 0};

	src_u32(&c); /* id */
	v->online = (int)src_u32(&c);
	v->initialised = (int)src_u32(&c);
	v->pv->kernel_mode = (int)src_u32(&c);
	v->pv->iopl = src_u32(&c);
	v->pv->fpu_ts = (int)src_u32(&c);
	v->pv->gdt_ents = src_u32(&c);
	src_u32(&c);
	v->pv->kernel_cr3 = src_u64(&c);
	v->pv->user_cr3 = src_u64(&c);
	v->pv->kernel_ss = src_u64(&c);
	v->pv->kernel_sp = src_u64(&c);
	v->pv->fs_base = src_u64(&c);
	v->pv->gs_base_kernel = src_u64(&c);
	v->pv->gs_base_user = src_u64(&c);
	v->pv->ldt_base = src_u64(&c);
	v->pv->ldt_ents = src_u64(&c);
	for (int i = 0; i < 8; i++)
		v->pv->debugreg[i] = src_u64(&c);
	v->pv->debugreg_dirty = 1; /* into the new vCPU before it runs */
	for (int i = 0; i < 16; i++)
		v->pv->gdt_frames[i] = src_u64(&c);
	for (int i = 0; i < 3; i++) {
		cbs[i]->address = src_u64(&c);
		cbs[i]->mask_events = (int)src_u32(&c);
	}
	for (int i = 0; i < 256; i++) {
		v->pv->traps[i].vector = src_u8(&c);
		v->pv->traps[i].flags = src_u8(&c);
		v->pv->traps[i].cs = src_u16(&c);
		v->pv->traps[i].address = src_u64(&c);
	}
	/* A new life: no registrations, timers or counters of the old one. */
	v->vcpu_info_gpa = 0;
	v->runstate_va = 0;
	v->time_area_va = 0;
	v->timer_deadline = v->singleshot_deadline = 0;
	v->periodic_period = v->periodic_next = 0;
	v->blocked = 0;
	v->pv->napply = 0;
	v->hypercalls = v->exits = 0;
}

/* Every L4 the guest has gets this keeld's hypervisor-hole slots. */
static void pv_rst_hole_slots(struct domain *d)
{
	for (uint64_t f = 0; f < d->nr_pages; f++)
		if (d->pv->pages[f].type == PGT_l4)
			memcpy(d->ram + (f << PV_PAGE_SHIFT) + PV_HOLE_FIRST_SLOT * 8,
			       d->pv->hole_l4e, sizeof(d->pv->hole_l4e));
}

/* What a new Xen domain has: no ports but store and console, no
 * registrations; start_info tells the guest its frames and ports. */
static int pv_resume_fresh(struct domain *d)
{
	struct shared_info *sh = domain_shared_info(d);
	struct start_info *si =
		(struct start_info *)(d->ram + (d->pv->start_info_mfn << PV_PAGE_SHIFT));
	int r = evtchn_reset_for_resume(d, d->store_port, d->console_port);

	if (r < 0)
		return r;
	for (int k = 0; k < d->nr_vcpus; k++) {
		d->vcpus[k].vcpu_info_gpa = 0;
		d->vcpus[k].runstate_va = 0;
		d->vcpus[k].time_area_va = 0;
		d->vcpus[k].timer_deadline = d->vcpus[k].singleshot_deadline = 0;
		d->vcpus[k].periodic_period = d->vcpus[k].periodic_next = 0;
	}
	for (int k = 0; k < XEN_LEGACY_MAX_VCPUS; k++) {
		sh->vcpu_info[k].evtchn_upcall_pending = 0;
		sh->vcpu_info[k].evtchn_pending_sel = 0;
	}
	si->store_mfn = d->store_mfn;
	si->store_evtchn = d->store_port;
	si->console.domU.mfn = d->console_mfn;
	si->console.domU.evtchn = d->console_port;
	d->on_send = pv_console_drain;
	return 0;
}

static int pv_restore_apply(struct domain *d, const struct pv_rst *s, const void *shim,
			    size_t shim_size)
{
	struct src c;
	struct timespec now;
	uint64_t t;
	int r;

	r = pv_build_shim_region(d, shim, shim_size);
	if (r < 0)
		return r;
	d->cur_pages = s->cur_pages;
	d->max_pages = s->max_pages;
	d->pv->vm_assist = s->vm_assist;
	d->pv->hypercall_page_va = s->hypercall_page_va;
	d->console_mfn = s->console_mfn;
	d->store_mfn = s->store_mfn;
	d->pv->start_info_mfn = s->start_info_mfn;
	d->console_port = s->console_port;
	d->store_port = s->store_port;
	d->suspend_vcpu = (int)s->suspend_vcpu;
	d->pv->suspend_cancel = !!(s->flags & PV_SAVE_DOM_CANCEL);
	c = (struct src){s->types->data + 8, s->types->len - 8, 0};
	for (uint64_t i = 0; i < d->nr_pages; i++) {
		d->pv->pages[i].type = src_u8(&c);
		d->pv->pages[i].pinned = src_u8(&c);
		d->pv->pages[i].type_count = src_u32(&c);
	}
	memcpy(d->released, s->released->data + 8, (d->nr_pages + 7) / 8);
	pv_mm_recount_linear(d);
	pv_rst_hole_slots(d);
	memcpy(domain_shared_info(d), s->shinfo->data, 4096);
	memcpy(d->shim + SHIM_OFF_GDT, s->gdt->data, PV_SAVE_GDT_BYTES);
	for (int k = 0; k < d->nr_vcpus && r == 0; k++) {
		memcpy(d->shim + SHIM_VCPU_OFF(k, SHIM_VCPU_APPLY), s->v[k].shim->data + 8,
		       PV_SAVE_SHIM_VCPU);
		pv_rst_apply_vcpu_pv(&d->vcpus[k], s->v[k].pv);
		r = kvm_save_apply_vcpu(&d->vcpus[k].kvm, s->v[k].kvm);
		if (r == 0)
			pv_xstate_restored(&d->vcpus[k]);
	}
	if (r < 0)
		return r;
	/* the guest's system time carries on from the moment it was saved */
	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec - s->guest_time_ns;
	d->mono_base.tv_sec = (time_t)(t / 1000000000ull);
	d->mono_base.tv_nsec = (long)(t % 1000000000ull);
	/* a new VM, new TSC offsets: the time line starts again from here */
	__atomic_store_n(&d->tline.set, 0, __ATOMIC_RELEASE);
	for (int k = 0; k < d->nr_vcpus; k++)
		if (d->vcpus[k].initialised)
			pv_time_update(&d->vcpus[k]);
	return 0;
}

/* ---- the kind's ops ------------------------------------------------------------- */

int pv_save(struct domain *d, struct srb *out)
{
	int r = 0;

	pv_save_domain(d, out);
	pv_save_page_types(d, out);
	for (int k = 0; k < d->nr_vcpus && r == 0; k++) {
		pv_save_vcpu_pv(&d->vcpus[k], out);
		r = kvm_save_vcpu(&d->vcpus[k].kvm, k, &pv_save_msrs, out);
	}
	pv_save_shim_parts(d, out);
	return r < 0 ? r : out->err;
}

int pv_restore_check(const struct saverec *recs, unsigned n, uint64_t nr_pages, int nr_vcpus,
		     char *err, size_t errlen)
{
	struct pv_rst *s = malloc(sizeof(*s));
	int r = s ? pv_restore_parse(recs, n, nr_pages, nr_vcpus, s, err, errlen) : -ENOMEM;

	free(s);
	return r;
}

int pv_restore(struct domain *d, const struct saverec *recs, unsigned n, const void *shim,
	       size_t shim_size)
{
	struct pv_rst *s = malloc(sizeof(*s));
	char err[256];
	int r = s ? pv_restore_parse(recs, n, d->nr_pages, d->nr_vcpus, s, err, sizeof(err))
		  : -ENOMEM;

	if (r == 0)
		r = pv_restore_apply(d, s, shim, shim_size);
	if (r == 0)
		hvlog("d%d: restored from d%u's suspended state (guest time %llu ms)", d->domid,
		      s->old_domid, (unsigned long long)(s->guest_time_ns / 1000000));
	free(s);
	return r;
}

/* Back to work after a suspend, paused: cancelled (the suspend returns 1,
 * nothing was lost: xl save -c) or as a new Xen domain (restore). */
int pv_resume(struct domain *d, int cancel)
{
	struct vcpu *v = &d->vcpus[d->suspend_vcpu];
	struct kvm_regs regs;
	int r;

	if (cancel) {
		if (kvm_regs_get(&v->kvm, &regs) < 0)
			return -EIO;
		regs.rax = 1;
		if (kvm_regs_set(&v->kvm, &regs) < 0)
			return -EIO;
	} else if ((r = pv_resume_fresh(d)) < 0) {
		return r;
	}
	pthread_mutex_lock(&d->lock);
	d->state = DOM_PAUSED;
	d->shutdown_reason = 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}
