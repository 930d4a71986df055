/*
 * The operations the fuzz targets decode: each builds one hypercall's
 * argument block in the acting domain's argument area (as a guest would,
 * then keeld reads it through the guest's page tables) or, for what is not
 * a hypercall (a writable-page-table fault, a guest's own store to its
 * memory or grant table), does it directly.  A target is a list of these
 * (pv_fuzz_run); multicall nests any of the list's hypercalls.
 */
#include <string.h>

#include "../../hypervisor/evtchn/evtchn.h"
#include "../../hypervisor/gnttab/gnttab.h"
#include "../../hypervisor/pv/pv_vcpu.h"
#include "abi/grant_table.h"
#include "pv_fuzz_ops.h"

#define ARG(f, i, off, T) ((T *)pvf_arg(f, i, off))
#define VA(off)		  (PVF_ARG_VA + (off))
#define PVO_REFS	  12 /* refs the granter writes (8 of them reserved); maps try 2 more */

/* The other domain's id (half the time), DOMID_SELF, the actor's own id,
 * or one that names nobody (a free id, a reserved one). */
static uint16_t pvo_domid(struct pvf *f, int i)
{
	uint8_t b = pvf_u8(f);

	switch (b % 8) {
	case 4:
		return DOMID_SELF;
	case 5:
		return (uint16_t)f->d[i]->domid;
	case 6:
		return (uint16_t)(b >> 3) + 0x100;
	case 7:
		return (uint16_t)(0x7ff0 + (b >> 3) % 16);
	default:
		return (uint16_t)f->d[(i + 1) % f->ndoms]->domid;
	}
}

static void pvo_mmu_update(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	unsigned n = 1 + pvf_u8(f) % 3;
	struct mmu_update *u = ARG(f, i, off, struct mmu_update);

	for (unsigned k = 0; k < n; k++) {
		uint8_t mode = pvf_u8(f);

		u[k].ptr = (pvf_entry_addr(f, i) & ~3ULL) | (mode & 3);
		u[k].val = (mode & 3) == MMU_MACHPHYS_UPDATE ? pvf_frame(f, i) : pvf_pte(f, i);
	}
	/* (each value decoded in its own statement: the input's order) */
	uint64_t done = pvf_u8(f) & 1 ? VA(0x1ff0) : 0;
	uint64_t domid = pvf_u8(f) & 7 ? DOMID_SELF : pvo_domid(f, i);

	*c = (struct pvo_call){__HYPERVISOR_mmu_update, {VA(off), n, done, domid}};
}

static void pvo_mmuext_op(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	static const uint32_t cmds[] = {
		MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE,     MMUEXT_PIN_L3_TABLE,
		MMUEXT_PIN_L4_TABLE, MMUEXT_UNPIN_TABLE,      MMUEXT_NEW_BASEPTR,
		MMUEXT_SET_LDT,	     MMUEXT_NEW_USER_BASEPTR, MMUEXT_CLEAR_PAGE,
		MMUEXT_COPY_PAGE,    MMUEXT_TLB_FLUSH_LOCAL,  MMUEXT_INVLPG_ALL,
		MMUEXT_MARK_SUPER,   MMUEXT_UNPIN_TABLE,      MMUEXT_PIN_L1_TABLE,
		MMUEXT_PIN_L4_TABLE};
	unsigned n = 1 + pvf_u8(f) % 2;
	struct mmuext_op *op = ARG(f, i, off, struct mmuext_op);

	for (unsigned k = 0; k < n; k++) {
		memset(&op[k], 0, sizeof(op[k]));
		op[k].cmd = cmds[pvf_u8(f) % 16];
		if (op[k].cmd == MMUEXT_SET_LDT) {
			op[k].arg1.linear_addr = pvf_va(f, i);
			op[k].arg2.nr_ents = pvf_u16(f);
		} else {
			op[k].arg1.mfn = pvf_frame(f, i);
			op[k].arg2.src_mfn = pvf_frame(f, i);
		}
	}
	*c = (struct pvo_call){__HYPERVISOR_mmuext_op, {VA(off), n, 0, DOMID_SELF}};
}

static void pvo_update_va_mapping(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	uint64_t va = pvf_va(f, i), pte = pvf_pte(f, i), flags = pvf_u8(f) & 3;

	(void)off;
	*c = (struct pvo_call){__HYPERVISOR_update_va_mapping, {va, pte, flags, 0}};
}

static void pvo_update_descriptor(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	static const uint64_t descs[] = {0,
					 0x00cffa000000ffffULL,
					 0x00affb000000ffffULL,
					 0x00cf9a000000ffffULL,
					 0x0000890000000067ULL,
					 0x00cff2000000ffffULL};
	uint8_t b = pvf_u8(f);
	uint64_t gpa = pvf_frame(f, i) << 12;
	uint64_t desc;

	gpa += pvf_u16(f) & 0xfff;
	desc = b < 200 ? descs[b % 6] : pvf_u64(f);
	(void)off;
	*c = (struct pvo_call){__HYPERVISOR_update_descriptor, {gpa, desc, 0, 0}};
}

static void pvo_set_gdt(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	uint64_t *frames = ARG(f, i, off, uint64_t);

	frames[0] = pvf_frame(f, i);
	frames[1] = pvf_frame(f, i);
	*c = (struct pvo_call){__HYPERVISOR_set_gdt, {VA(off), pvf_u16(f) % 1100, 0, 0}};
}

/* Balloon: give frames back, take them again. */
static void pvo_memory_op(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	static const uint64_t ops[] = {XENMEM_decrease_reservation, XENMEM_increase_reservation,
				       XENMEM_populate_physmap, XENMEM_decrease_reservation};
	struct xen_memory_reservation *r = ARG(f, i, off, struct xen_memory_reservation);
	uint64_t *ext = ARG(f, i, off + 64, uint64_t);
	uint8_t b = pvf_u8(f);

	memset(r, 0, sizeof(*r));
	r->nr_extents = 1 + (b >> 2) % 3;
	r->extent_start = b & 0x80 && b & 0x40 ? pvf_va(f, i) : VA(off + 64);
	r->domid = pvf_u8(f) & 7 ? DOMID_SELF : pvo_domid(f, i);
	for (uint64_t k = 0; k < r->nr_extents; k++)
		ext[k] = pvf_frame(f, i);
	*c = (struct pvo_call){__HYPERVISOR_memory_op, {ops[b & 3], VA(off), 0, 0}};
}

/* A write to a page-table entry through a read-only mapping of the table
 * (Xen's writable page tables): the instruction, its registers, the
 * faulting address. */
static void pvo_ptwr(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	static const uint8_t forms[][8] = {
		{3, 0x48, 0x89, 0x10},			       /* mov %rdx,(%rax) */
		{3, 0x48, 0x87, 0x10},			       /* xchg %rdx,(%rax) */
		{5, 0xf0, 0x48, 0x0f, 0xb1, 0x10},	       /* lock cmpxchg %rdx,(%rax) */
		{3, 0x48, 0x09, 0x10},			       /* or %rdx,(%rax) */
		{3, 0x48, 0x21, 0x10},			       /* and %rdx,(%rax) */
		{5, 0x48, 0x0f, 0xba, 0x28, 0x01},	       /* bts $1,(%rax) */
		{5, 0x48, 0x0f, 0xba, 0x30, 0x01},	       /* btr $1,(%rax) */
		{7, 0x48, 0xc7, 0x00, 0x67, 0x10, 0x00, 0x00}, /* movq $0x1067,(%rax) */
	};
	struct domain *d = f->d[i];
	struct kvm_regs g;
	uint8_t b = pvf_u8(f);
	uint64_t cr2 = (pvf_frame(f, i) << 12) | (pvf_u16(f) & 0xfff);

	(void)off;
	memset(&g, 0, sizeof(g));
	/* The instruction sits in data frame 16 (va 0x10000 while mapped),
	 * stored by the guest while the frame is no table. */
	if (!d->pv->pages[16].type_count || d->pv->pages[16].type == PGT_writable)
		memcpy(d->ram + 16 * 4096 + 0xf00, &forms[b % 8][1], forms[b % 8][0]);
	g.rip = 0x10f00;
	g.rdx = pvf_pte(f, i);
	g.rax = b & 0x80 ? cr2 : pvf_pte(f, i);
	(void)pv_ptwr_emulate(&d->vcpus[0], &g, cr2);
	c->nr = PVO_DONE;
}

/* The guest's own store to a frame it may write (no page-table type):
 * its data, its FIFO words, its grant entries and status words. */
static void pvo_guest_store(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	struct domain *d = f->d[i];
	uint64_t mfn = pvf_frame(f, i), val = pvf_u8(f) & 1 ? pvf_u64(f) : pvf_u32(f);
	uint16_t at = pvf_u16(f) & 0xff8;
	uint8_t *p = NULL;

	(void)off;
	c->nr = PVO_DONE;
	if (mfn < d->nr_pages && pv_mm_owns(d, mfn) &&
	    (!d->pv->pages[mfn].type_count || d->pv->pages[mfn].type == PGT_writable))
		p = d->ram + (mfn << 12);
	else if (gnttab_is_frame(d, mfn))
		p = d->shim + ((mfn << 12) - SHIM_GPA);
	if (p)
		memcpy(p + at, &val, 8);
}

/* The granter writes a grant entry (either version's layout): a frame of
 * its own, for the other domain, with flags worth trying. */
static void pvo_grant_write(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	static const uint16_t flags[] = {GTF_permit_access,
					 GTF_permit_access | GTF_readonly,
					 GTF_invalid,
					 GTF_permit_access | GTF_sub_page,
					 GTF_transitive,
					 GTF_accept_transfer,
					 0,
					 GTF_permit_access | GTF_reading | GTF_writing};
	struct domain *d = f->d[i];
	uint32_t ref = pvf_u8(f) % PVO_REFS;
	uint8_t b = pvf_u8(f);
	uint16_t domid = pvo_domid(f, i);
	uint64_t frame = pvf_frame(f, i);

	(void)off;
	c->nr = PVO_DONE;
	if (gnttab_v2(d)) {
		union grant_entry_v2 *e = (union grant_entry_v2 *)(d->shim + SHIM_OFF_GNTTAB) + ref;

		e->full_page.frame = frame;
		e->sub_page.page_off = (uint16_t)(b & 0x30) << 6;
		e->sub_page.length = (uint16_t)(b & 0xc0) << 5;
		e->hdr.domid = domid;
		__atomic_store_n(&e->hdr.flags, flags[b % 8], __ATOMIC_RELEASE);
	} else {
		struct grant_entry_v1 *e =
			(struct grant_entry_v1 *)(d->shim + SHIM_OFF_GNTTAB) + ref;

		e->frame = (uint32_t)frame;
		e->domid = domid;
		__atomic_store_n(&e->flags, flags[b % 8], __ATOMIC_RELEASE);
	}
}

static void pvo_grant_map(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	unsigned n = 1 + pvf_u8(f) % 2;
	struct gnttab_map_grant_ref *m = ARG(f, i, off, struct gnttab_map_grant_ref);

	for (unsigned k = 0; k < n; k++) {
		uint8_t b = pvf_u8(f);

		memset(&m[k], 0, sizeof(m[k]));
		m[k].flags = (b & 3 ? GNTMAP_host_map : 0) | (b & 4 ? GNTMAP_readonly : 0) |
			     (b & 8 ? GNTMAP_device_map : 0) | (b & 0x70 ? 0 : GNTMAP_contains_pte);
		m[k].host_addr =
			m[k].flags & GNTMAP_contains_pte ? pvf_entry_addr(f, i) : pvf_va(f, i);
		m[k].ref = pvf_u8(f) % (PVO_REFS + 2);
		m[k].dom = pvo_domid(f, i);
	}
	*c = (struct pvo_call){__HYPERVISOR_grant_table_op,
			       {GNTTABOP_map_grant_ref, VA(off), n, 0}};
}

static void pvo_grant_unmap(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	uint8_t b = pvf_u8(f);
	uint32_t h = pvf_u8(f) % 6;

	if (b & 1) {
		struct gnttab_unmap_and_replace *u =
			ARG(f, i, off, struct gnttab_unmap_and_replace);

		memset(u, 0, sizeof(*u));
		u->host_addr = pvf_va(f, i);
		u->new_addr = pvf_va(f, i);
		u->handle = h;
		*c = (struct pvo_call){__HYPERVISOR_grant_table_op,
				       {GNTTABOP_unmap_and_replace, VA(off), 1, 0}};
		return;
	}
	struct gnttab_unmap_grant_ref *u = ARG(f, i, off, struct gnttab_unmap_grant_ref);

	memset(u, 0, sizeof(*u));
	u->host_addr = b & 2 ? 0 : b & 4 ? pvf_entry_addr(f, i) : pvf_va(f, i);
	u->dev_bus_addr = b & 8 ? GNTTAB_WINDOW_GPA + ((uint64_t)h << 12) : b & 16 ? pvf_u64(f) : 0;
	u->handle = h;
	*c = (struct pvo_call){__HYPERVISOR_grant_table_op,
			       {GNTTABOP_unmap_grant_ref, VA(off), 1, 0}};
}

static void pvo_grant_copy_ptr(struct pvf *f, int i, struct gnttab_copy_ptr *p, int gref)
{
	uint8_t b = pvf_u8(f);

	if (gref)
		p->u.ref = pvf_u8(f) % (PVO_REFS + 2);
	else
		p->u.gmfn = pvf_frame(f, i);
	p->domid = pvo_domid(f, i);
	p->offset = b & 0x80 ? pvf_u16(f) : (uint16_t)((b & 0x7f) * 32);
}

static void pvo_grant_copy(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	struct gnttab_copy *g = ARG(f, i, off, struct gnttab_copy);
	uint8_t b = pvf_u8(f);

	memset(g, 0, sizeof(*g));
	g->flags = b & 3;
	pvo_grant_copy_ptr(f, i, &g->source, g->flags & GNTCOPY_source_gref);
	pvo_grant_copy_ptr(f, i, &g->dest, g->flags & GNTCOPY_dest_gref);
	g->len = b & 4 ? pvf_u16(f) : (uint16_t)((b >> 3) * 128);
	*c = (struct pvo_call){__HYPERVISOR_grant_table_op, {GNTTABOP_copy, VA(off), 1, 0}};
}

/* setup_table, set_version, get_status_frames, query_size, get_version,
 * transfer (refused) and an unknown op. */
static void pvo_grant_table(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	uint8_t b = pvf_u8(f);
	uint64_t cmd = GNTTABOP_setup_table;

	memset(ARG(f, i, off, uint8_t), 0, 64);
	switch (b % 7) {
	case 0: {
		struct gnttab_setup_table *s = ARG(f, i, off, struct gnttab_setup_table);

		s->dom = pvf_u8(f) & 3 ? DOMID_SELF : pvo_domid(f, i);
		s->nr_frames = b >> 6;
		s->frame_list = VA(off + 64);
		break;
	}
	case 1:
		cmd = GNTTABOP_set_version;
		*ARG(f, i, off, uint32_t) = (b >> 3) % 4;
		break;
	case 2: {
		struct gnttab_get_status_frames *s =
			ARG(f, i, off, struct gnttab_get_status_frames);

		cmd = GNTTABOP_get_status_frames;
		s->nr_frames = (b >> 3) % 3;
		s->dom = DOMID_SELF;
		s->frame_list = b & 0x80 ? pvf_va(f, i) : VA(off + 64);
		break;
	}
	case 3:
		cmd = GNTTABOP_query_size;
		*ARG(f, i, off, uint16_t) = pvo_domid(f, i);
		break;
	case 4:
		cmd = GNTTABOP_get_version;
		*ARG(f, i, off, uint16_t) = pvo_domid(f, i);
		break;
	case 5: {
		struct gnttab_transfer *t = ARG(f, i, off, struct gnttab_transfer);

		cmd = GNTTABOP_transfer;
		t->mfn = pvf_frame(f, i);
		t->domid = pvo_domid(f, i);
		t->ref = pvf_u8(f) % (PVO_REFS + 2);
		break;
	}
	default:
		cmd = pvf_u8(f);
		break;
	}
	*c = (struct pvo_call){__HYPERVISOR_grant_table_op, {cmd, VA(off), 1, 0}};
}

static uint32_t pvo_port(struct pvf *f)
{
	uint8_t b = pvf_u8(f);

	return b < 240 ? b % 12 : b < 250 ? 4093 + b % 8 : pvf_u32(f);
}

/* Every event-channel op, its block filled with values worth trying. */
static void pvo_evtchn(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	uint8_t b = pvf_u8(f);
	uint32_t cmd = b % 14, *w = ARG(f, i, off, uint32_t);

	memset(w, 0, 64);
	switch (cmd) {
	case EVTCHNOP_alloc_unbound: {
		struct evtchn_alloc_unbound *a = (void *)w;

		a->dom = pvf_u8(f) & 3 ? DOMID_SELF : pvo_domid(f, i);
		a->remote_dom = pvo_domid(f, i);
		break;
	}
	case EVTCHNOP_bind_interdomain: {
		struct evtchn_bind_interdomain *a = (void *)w;

		a->remote_dom = pvo_domid(f, i);
		a->remote_port = pvo_port(f);
		break;
	}
	case EVTCHNOP_bind_virq:
		w[0] = pvf_u8(f) % 26; /* virq */
		w[1] = pvf_u8(f) % 3;  /* vcpu */
		break;
	case EVTCHNOP_bind_ipi:
		w[0] = pvf_u8(f) % 3;
		break;
	case EVTCHNOP_bind_vcpu:
		w[0] = pvo_port(f);
		w[1] = pvf_u8(f) % 3;
		break;
	case EVTCHNOP_status:
		*(uint16_t *)w = pvo_domid(f, i);
		w[1] = pvo_port(f);
		break;
	case EVTCHNOP_reset:
		*(uint16_t *)w = pvo_domid(f, i);
		break;
	case EVTCHNOP_init_control: {
		struct evtchn_init_control *a = (void *)w;

		a->control_gfn = pvf_frame(f, i);
		a->offset = (pvf_u8(f) & 0xfe) * 16;
		a->vcpu = pvf_u8(f) % 3;
		break;
	}
	case EVTCHNOP_expand_array:
		*(uint64_t *)w = pvf_frame(f, i);
		break;
	case EVTCHNOP_set_priority:
		w[0] = pvo_port(f);
		w[1] = pvf_u8(f) % 17;
		break;
	default: /* close, send, unmask, bind_pirq: a port */
		w[0] = pvo_port(f);
		break;
	}
	*c = (struct pvo_call){__HYPERVISOR_event_channel_op, {cmd, VA(off), 0, 0}};
}

/* An event from outside the guest's hypercalls: a VIRQ keeld raises. */
static void pvo_virq(struct pvf *f, int i, size_t off, struct pvo_call *c)
{
	struct domain *d = f->d[i];

	(void)off;
	evtchn_send_virq(&d->vcpus[pvf_u8(f) % d->nr_vcpus], pvf_u8(f) % 24);
	c->nr = PVO_DONE;
}

const struct pvo_op pvo_ops[PVO_NR] = {
	[PVO_MMU_UPDATE] = {"mmu_update", pvo_mmu_update},
	[PVO_MMUEXT] = {"mmuext_op", pvo_mmuext_op},
	[PVO_UPDATE_VA] = {"update_va_mapping", pvo_update_va_mapping},
	[PVO_UPDATE_DESC] = {"update_descriptor", pvo_update_descriptor},
	[PVO_SET_GDT] = {"set_gdt", pvo_set_gdt},
	[PVO_MEMORY] = {"memory_op", pvo_memory_op},
	[PVO_PTWR] = {"ptwr", pvo_ptwr},
	[PVO_STORE] = {"guest store", pvo_guest_store},
	[PVO_GNT_WRITE] = {"grant entry", pvo_grant_write},
	[PVO_GNT_MAP] = {"map_grant_ref", pvo_grant_map},
	[PVO_GNT_UNMAP] = {"unmap_grant_ref", pvo_grant_unmap},
	[PVO_GNT_COPY] = {"grant copy", pvo_grant_copy},
	[PVO_GNT_TABLE] = {"grant table op", pvo_grant_table},
	[PVO_EVTCHN] = {"event_channel_op", pvo_evtchn},
	[PVO_VIRQ] = {"virq", pvo_virq},
};

/* A multicall of up to three of the target's ops (a hypercall that is
 * not one is skipped), sometimes with a nested multicall entry. */
static void pvo_multicall(struct pvf *f, int i, const uint8_t *list, unsigned n)
{
	struct multicall_entry *e = ARG(f, i, 0, struct multicall_entry);
	unsigned cnt = 0, want = 1 + pvf_u8(f) % 3;

	for (unsigned k = 0; k < want; k++) {
		uint8_t b = pvf_u8(f);
		struct pvo_call c = {0, {0}};

		memset(&e[cnt], 0, sizeof(e[cnt]));
		if (b == 0xff) {
			e[cnt].op = __HYPERVISOR_multicall;
			e[cnt].args[0] = VA(0);
			e[cnt++].args[1] = 1;
			continue;
		}
		pvo_ops[list[b % n]].build(f, i, 0x400 * (k + 1), &c);
		if (c.nr == PVO_DONE)
			continue;
		e[cnt].op = c.nr;
		memcpy(e[cnt++].args, c.a, sizeof(c.a));
	}
	(void)pvf_hypercall(f, i, __HYPERVISOR_multicall, VA(0), cnt, 0, 0);
}

void pvo_run(struct pvf *f, const uint8_t *list, unsigned n)
{
	while (pvf_more(f)) {
		uint8_t b = pvf_u8(f);
		int i = (b >> 7) % f->ndoms;
		unsigned k = b & 0x7f;
		struct pvo_call c = {0, {0}};

		if (k >= n) {
			pvo_multicall(f, i, list, n);
		} else {
			pvo_ops[list[k]].build(f, i, 0x100, &c);
			if (c.nr != PVO_DONE)
				(void)pvf_hypercall(f, i, c.nr, c.a[0], c.a[1], c.a[2], c.a[3]);
		}
		pvi_check(f);
	}
}

int pvo_fuzz_one(const uint8_t *data, size_t size, int ndoms, const uint8_t *list, unsigned n)
{
	static struct pvf f; /* large (the argument stages): not on the stack */

	pvf_setup(&f, ndoms, data, size);
	pvo_run(&f, list, n);
	pvf_teardown(&f);
	return 0;
}
