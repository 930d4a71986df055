/*
 * The PV domain builder.  The shim region gets the shim's code, GDT (with
 * Xen's flat ring-3 selectors in the reserved page), IDT, TSS (with an I/O
 * bitmap opening only the hypercall port) and the hole's page tables (M2P
 * read-only, shim, direct map of guest RAM).  The guest gets Xen's x86_64 PV
 * start-of-day layout: kernel, initrd, P2M list (or INIT_P2M's own area),
 * start_info, xenstore and console pages, page tables (mapped read-only),
 * boot stack, then at least 512 KiB of mapped padding; the L4 pinned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/elfnote.h"
#include "abi/xen.h"
#include "elf.h"
#include "../evtchn/evtchn.h"
#include "pv_build.h"
#include "pv_mm.h"
#include "abi/console.h"

#define PTE_LEAF  (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)

struct pv_pt_pool {
	uint8_t *base;
	uint64_t gpa;
	unsigned used, max;
};

static uint64_t *pool_alloc(struct pv_pt_pool *p, uint64_t *gpa)
{
	uint8_t *page;

	if (p->used == p->max)
		return NULL;
	page = p->base + p->used * PV_PAGE_SIZE;
	memset(page, 0, PV_PAGE_SIZE);
	*gpa = p->gpa + p->used * PV_PAGE_SIZE;
	p->used++;
	return (uint64_t *)page;
}

static uint64_t *pv_gpa_table(struct domain *d, uint64_t gpa)
{
	if (gpa >= SHIM_GPA)
		return (uint64_t *)(d->shim + (gpa - SHIM_GPA));
	return (uint64_t *)(d->ram + gpa);
}

/* Map va -> gpa with a 4 KiB leaf, creating tables from the pool. */
static int pv_map4k(struct domain *d, struct pv_pt_pool *pool, uint64_t *l4, uint64_t va,
		    uint64_t gpa, uint64_t leaf_flags, uint64_t table_flags)
{
	uint64_t *t = l4, ngpa;

	for (int level = 4; level > 1; level--) {
		unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;

		if (!(t[idx] & PTE_P)) {
			uint64_t *n = pool_alloc(pool, &ngpa);

			if (!n)
				return -ENOSPC;
			t[idx] = ngpa | table_flags;
		}
		t = pv_gpa_table(d, t[idx] & PTE_ADDR);
	}
	t[(va >> 12) & 511] = gpa | leaf_flags;
	return 0;
}

static void pv_gdt_set(uint64_t *gdt, uint16_t sel, uint64_t desc)
{
	gdt[sel >> 3] = desc;
}

static int pv_build_shim(struct domain *d, const void *shim, size_t shim_size)
{
	struct pv_pt_pool pool = {d->shim + SHIM_OFF_PT, SHIM_GPA + SHIM_OFF_PT, 0, SHIM_PT_PAGES};
	uint64_t l4[512] = {0}, gpa;
	uint64_t *gdt = (uint64_t *)(d->shim + SHIM_OFF_GDT), m2p_pages;
	uint8_t *idt = d->shim + SHIM_OFF_IDT;
	struct elf_image img;
	int r, i;

	r = elf_parse(shim, shim_size, &img);
	if (r < 0)
		return r;
	for (i = 0; i < img.nsegs; i++) {
		if (img.segs[i].vaddr < SHIM_VIRT ||
		    img.segs[i].vaddr + img.segs[i].memsz > SHIM_VIRT + SHIM_CODE_MAX)
			return -ENOEXEC;
		elf_copy_segment(&img, i, d->shim + (img.segs[i].vaddr - SHIM_VIRT));
	}
	d->pv->shim_apply_va = elf_find_symbol(&img, "shim_apply");
	d->pv->shim_apply_iret_va = elf_find_symbol(&img, "shim_apply_iret");
	if (d->pv->shim_apply_va < SHIM_VIRT || d->pv->shim_apply_va >= SHIM_VIRT + SHIM_CODE_MAX ||
	    d->pv->shim_apply_iret_va < SHIM_VIRT ||
	    d->pv->shim_apply_iret_va >= SHIM_VIRT + SHIM_CODE_MAX)
		return -ENOEXEC; /* not our shim */
	/* The shim's first MiB at SHIM_VIRT: page 0 (the LSTAR stub) is the
	 * one a ring-3 guest may execute; the rest is ring-0 only. */
	for (uint64_t off = 0; off < SHIM_OFF_M2P; off += PV_PAGE_SIZE) {
		uint64_t fl = PTE_P | PTE_A | PTE_D | (off ? PTE_RW : PTE_US);

		if (off >= SHIM_CODE_MAX)
			fl |= PTE_NX;
		r = pv_map4k(d, &pool, l4, SHIM_VIRT + off, SHIM_GPA + off, fl, PTE_TABLE);
		if (r < 0)
			return r;
	}
	/* M2P, read-only to the guest, at Xen's address. */
	m2p_pages = (d->nr_pages * 8 + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE;
	for (uint64_t p = 0; p < m2p_pages; p++) {
		r = pv_map4k(d, &pool, l4, KEEL_M2P_VIRT + p * PV_PAGE_SIZE,
			     SHIM_GPA + SHIM_OFF_M2P + p * PV_PAGE_SIZE,
			     PTE_P | PTE_US | PTE_A | PTE_NX, PTE_P | PTE_US | PTE_A);
		if (r < 0)
			return r;
	}
	/* The same tables at Xen's MACH2PHYS_VIRT_START (slot 256), for guests
	 * that read the M2P there without asking: native where the host lets
	 * ring 3 read that slot, emulated by keeld where it does not
	 * (pv_m2p.c).  No page-table pages of its own. */
	l4[MACH2PHYS_VIRT_START >> 39 & 511] = l4[KEEL_M2P_VIRT >> 39 & 511];
	/* Direct map of guest RAM with 2 MiB pages, ring 0 only. */
	for (uint64_t off = 0; off < (d->nr_pages << PV_PAGE_SHIFT); off += 1 << 21) {
		uint64_t va = DIRECTMAP_VIRT + off, *t = l4;

		for (int level = 4; level > 2; level--) {
			unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;

			if (!(t[idx] & PTE_P)) {
				if (!pool_alloc(&pool, &gpa))
					return -ENOSPC;
				t[idx] = gpa | PTE_P | PTE_RW | PTE_A;
			}
			t = pv_gpa_table(d, t[idx] & PTE_ADDR);
		}
		t[(va >> 21) & 511] = off | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D | PTE_NX;
	}
	for (i = 0; i < PV_HOLE_NSLOTS; i++)
		d->pv->hole_l4e[i] = l4[PV_HOLE_FIRST_SLOT + i];
	/* GDT: Xen's reserved page holds the shim's and the flat selectors. */
	pv_gdt_set(gdt, SHIM_CS0, 0x00af9a000000ffffULL);
	pv_gdt_set(gdt, SHIM_DS0, 0x00cf92000000ffffULL);
	pv_gdt_set(gdt, FLAT_RING3_CS32, 0x00cffa000000ffffULL);
	pv_gdt_set(gdt, FLAT_RING3_DS32, 0x00cff2000000ffffULL);
	pv_gdt_set(gdt, FLAT_RING3_CS64, 0x00affa000000ffffULL);
	/* One TSS per vCPU (each with its own ring-0 stack). */
	for (i = 0; i < DOMAIN_MAX_VCPUS; i++) {
		uint64_t tss_va = SHIM_VIRT + SHIM_VCPU_OFF(i, SHIM_VCPU_TSS);
		uint64_t rsp0 = SHIM_VIRT + SHIM_VCPU_OFF(i, SHIM_VCPU_STACK_TOP);
		uint8_t *tss = d->shim + SHIM_VCPU_OFF(i, SHIM_VCPU_TSS);
		uint32_t limit = 104 + 8192;
		uint16_t iomap = 104;
		uint64_t lo = (limit & 0xffff) | ((tss_va & 0xffffff) << 16) | (0x89ULL << 40) |
			      ((uint64_t)((limit >> 16) & 0xf) << 48) |
			      (((tss_va >> 24) & 0xff) << 56);

		pv_gdt_set(gdt, SHIM_TSS_SEL + 16 * i, lo);
		pv_gdt_set(gdt, SHIM_TSS_SEL + 16 * i + 8, tss_va >> 32);
		/* rsp0, and an I/O bitmap that opens only the hypercall port. */
		memset(tss, 0, 104);
		memcpy(tss + 4, &rsp0, 8);
		memcpy(tss + 102, &iomap, 2);
		memset(tss + 104, 0xff, 8192 + 1);
		tss[104 + PV_PORT_HYPERCALL / 8] &= ~(1 << (PV_PORT_HYPERCALL % 8));
	}
	/* IDT: vectors 0-31 to the shim's stubs. */
	for (i = 0; i < 32; i++) {
		uint64_t h = SHIM_VIRT + 0x1000 + 16 * i;
		uint8_t *g = idt + 16 * i;

		memset(g, 0, 16);
		g[0] = h;
		g[1] = h >> 8;
		g[2] = SHIM_CS0 & 0xff;
		g[3] = SHIM_CS0 >> 8;
		g[5] = 0x8e;
		g[6] = h >> 16;
		g[7] = h >> 24;
		memcpy(g + 8, (uint32_t[]){h >> 32}, 4);
	}
	return 0;
}

/* A restored domain's shim region, built by this keeld: code, GDT's
 * reserved page, TSSs, IDT, the hole's page tables and the M2P. */
int pv_build_shim_region(struct domain *d, const void *shim, size_t shim_size)
{
	int r = pv_build_shim(d, shim, shim_size);

	if (r < 0)
		return r;
	for (uint64_t pfn = 0; pfn < d->nr_pages; pfn++)
		memcpy(d->shim + SHIM_OFF_M2P + pfn * 8, &pfn, 8);
	domain_shared_info(d)->arch.max_pfn = d->nr_pages;
	return 0;
}

/* Page tables needed to map [va, va + pages*4K) given what already maps. */
static unsigned pv_count_tables(uint64_t va, uint64_t pages)
{
	uint64_t end = va + pages * PV_PAGE_SIZE - 1;
	unsigned n = 0;

	for (int shift = 21; shift <= 39; shift += 9)
		n += (end >> shift) - (va >> shift) + 1;
	return n;
}

/* The hypercall page (its contents are the hypervisor's choice): each stub
 * exits straight to keeld with `out` to the hypercall port, one exit and
 * no `syscall` (which this host emulates slowly); keeld resumes after the
 * `out`.  Stub i: mov $i,%eax; out %al,$PORT; ret.  The iret stub pushes
 * Xen's frame first: push %rcx; push %r11; push %rax; mov $23,%eax; out. */
static void pv_write_hypercall_page(uint8_t *page)
{
	for (int i = 0; i < 128; i++) {
		uint8_t *s = page + i * 32;

		memset(s, 0xcc, 32);
		if (i == __HYPERVISOR_iret) {
			const uint8_t stub[] = {
				0x51, 0x41, 0x53, 0x50, 0xb8, 23, 0, 0, 0, 0xe6, PV_PORT_HYPERCALL,
				0x0f, 0x0b};
			memcpy(s, stub, sizeof(stub));
		} else {
			const uint8_t stub[] = {0xb8, i, 0, 0, 0, 0xe6, PV_PORT_HYPERCALL, 0xc3};
			memcpy(s, stub, sizeof(stub));
		}
	}
}

int pv_build_domain(struct domain *d, const struct domain_image *a)
{
	struct pv_pt_pool pool;
	struct vcpu *v = &d->vcpus[0];
	struct start_info *si;
	struct elf_image img;
	void *unpacked = NULL;
	const void *kern = a->kernel;
	size_t kern_size = a->kernel_size;
	uint64_t virt_base, kend_pfn, pfn, mod_pfn = 0, mod_pages = 0, p2m_pfn, p2m_pages;
	uint64_t si_pfn, store_pfn, cons_pfn, pt_pfn, stack_pfn, v_end_pfn, nr_pt;
	uint64_t *l4, l4_gpa = 0, p2m_va, hv_pfn = 0;
	char err[160];
	int r, i, init_p2m;

	r = pv_build_shim(d, a->shim, a->shim_size);
	if (r < 0) {
		domain_log(d, "builder: shim image unusable (%d)", r);
		return r;
	}
	/* Decompressed and parsed in a sandboxed helper (pv_unpack.c). */
	r = pv_unpack_kernel(kern, kern_size, &unpacked, &kern_size, &img, err, sizeof(err));
	if (r < 0) {
		domain_log(d, "builder: %s", err);
		goto out;
	}
	if (!img.xen.present)
		domain_log(d, "builder: kernel has no Xen ELF notes; assuming defaults");
	virt_base = img.xen.virt_base ? img.xen.virt_base : (img.vstart & ~0x3fffffULL);
	if (img.vstart < virt_base || (img.vstart & 0xfff)) {
		r = -ENOEXEC;
		domain_log(d, "builder: kernel start %#llx below VIRT_BASE %#llx",
			   (unsigned long long)img.vstart, (unsigned long long)virt_base);
		goto out;
	}
	kend_pfn = (img.vend - virt_base + PV_PAGE_SIZE - 1) >> PV_PAGE_SHIFT;
	pfn = kend_pfn;
	if (a->ramdisk_size) {
		mod_pfn = pfn;
		mod_pages = (a->ramdisk_size + PV_PAGE_SIZE - 1) >> PV_PAGE_SHIFT;
		pfn += mod_pages;
	}
	init_p2m = img.xen.has_init_p2m && img.xen.init_p2m;
	/* the guest starts with frames [0, cur_pages); the rest of its space
	 * (up to maxmem=) is the balloon's, populated later */
	p2m_pages = (d->cur_pages * 8 + PV_PAGE_SIZE - 1) >> PV_PAGE_SHIFT;
	p2m_pfn = pfn;
	if (!init_p2m)
		pfn += p2m_pages;
	si_pfn = pfn++;
	store_pfn = pfn++;
	cons_pfn = pfn++;
	pt_pfn = pfn;
	/* Page tables map [virt_base, v_end): iterate to a fixed point. */
	nr_pt = 1;
	for (;;) {
		uint64_t end = pt_pfn + nr_pt + 1 + (512 << 10) / PV_PAGE_SIZE;
		uint64_t need;

		end = (end + 1023) & ~1023ULL; /* round to 4 MiB */
		need = 1 + pv_count_tables(virt_base, end);
		if (init_p2m)
			need += pv_count_tables(img.xen.init_p2m, p2m_pages);
		if (need <= nr_pt) {
			v_end_pfn = end;
			break;
		}
		nr_pt = need;
	}
	stack_pfn = pt_pfn + nr_pt;
	if (init_p2m) {
		p2m_pfn = v_end_pfn;
		hv_pfn = p2m_pfn + p2m_pages;
	} else {
		hv_pfn = v_end_pfn;
	}
	if (hv_pfn > d->cur_pages) {
		r = -ENOMEM;
		domain_log(d, "builder: %llu pages needed, %llu available",
			   (unsigned long long)hv_pfn, (unsigned long long)d->cur_pages);
		goto out;
	}
	/* Load the image. */
	for (i = 0; i < img.nsegs; i++)
		elf_copy_segment(&img, i, d->ram + (img.segs[i].vaddr - virt_base));
	if (a->ramdisk_size)
		memcpy(d->ram + (mod_pfn << PV_PAGE_SHIFT), a->ramdisk, a->ramdisk_size);
	/* Page tables. */
	pool = (struct pv_pt_pool){d->ram + (pt_pfn << PV_PAGE_SHIFT), pt_pfn << PV_PAGE_SHIFT, 0,
				   nr_pt};
	l4 = pool_alloc(&pool, &l4_gpa);
	for (pfn = 0; pfn < v_end_pfn; pfn++) {
		uint64_t fl = PTE_LEAF;

		if (pfn >= pt_pfn && pfn < pt_pfn + nr_pt)
			fl &= ~PTE_RW; /* page tables are never writable */
		r = pv_map4k(d, &pool, l4, virt_base + (pfn << PV_PAGE_SHIFT), pfn << PV_PAGE_SHIFT,
			     fl, PTE_TABLE);
		if (r < 0)
			goto out;
	}
	p2m_va = virt_base + (p2m_pfn << PV_PAGE_SHIFT);
	if (init_p2m) {
		p2m_va = img.xen.init_p2m;
		for (pfn = 0; pfn < p2m_pages; pfn++) {
			r = pv_map4k(d, &pool, l4, p2m_va + (pfn << PV_PAGE_SHIFT),
				     (p2m_pfn + pfn) << PV_PAGE_SHIFT, PTE_LEAF, PTE_TABLE);
			if (r < 0)
				goto out;
		}
	}
	/* P2M and M2P: identity (pfn == mfn); the P2M lists what is populated */
	for (pfn = 0; pfn < d->nr_pages; pfn++) {
		if (pfn < d->cur_pages)
			memcpy(d->ram + (p2m_pfn << PV_PAGE_SHIFT) + pfn * 8, &pfn, 8);
		memcpy(d->shim + SHIM_OFF_M2P + pfn * 8, &pfn, 8);
	}
	d->pv->suspend_cancel = img.xen.suspend_cancel;
	if (img.xen.has_hypercall_page) {
		uint64_t hp = img.xen.hypercall_page;

		if (hp < img.vstart || hp + PV_PAGE_SIZE > img.vend || (hp & 0xfff)) {
			r = -ENOEXEC;
			goto out;
		}
		pv_write_hypercall_page(d->ram + (hp - virt_base));
		d->pv->hypercall_page_va = hp;
	}
	/* start_info. */
	si = (struct start_info *)(d->ram + (si_pfn << PV_PAGE_SHIFT));
	memset(si, 0, PV_PAGE_SIZE);
	memcpy(si->magic, XEN_START_INFO_MAGIC, sizeof(XEN_START_INFO_MAGIC));
	si->nr_pages = d->cur_pages;
	si->shared_info = SHIM_GPA + SHIM_OFF_SHARED_INFO;
	si->store_mfn = store_pfn;
	si->console.domU.mfn = cons_pfn;
	/* Store and console ports wait for dom0's ends; until a console
	 * backend binds, keeld drains the console ring itself. */
	d->store_port = evtchn_alloc_unbound_port(d, 0);
	d->console_port = evtchn_alloc_unbound_port(d, 0);
	if ((int)d->store_port < 0 || (int)d->console_port < 0) {
		r = -ENOMEM;
		goto out;
	}
	si->store_evtchn = d->store_port;
	si->console.domU.evtchn = d->console_port;
	d->console_mfn = cons_pfn;
	d->store_mfn = store_pfn;
	d->on_send = pv_console_drain;
	pv_time_now(d); /* guest system time starts at build */
	si->pt_base = virt_base + (pt_pfn << PV_PAGE_SHIFT);
	si->nr_pt_frames = nr_pt;
	si->mfn_list = p2m_va;
	if (a->ramdisk_size) {
		if (img.xen.mod_start_pfn) {
			si->flags |= SIF_MOD_START_PFN;
			si->mod_start = mod_pfn;
		} else {
			si->mod_start = virt_base + (mod_pfn << PV_PAGE_SHIFT);
		}
		si->mod_len = a->ramdisk_size;
	}
	if (a->cmdline)
		strncpy(si->cmd_line, a->cmdline, MAX_GUEST_CMDLINE - 1);
	if (init_p2m) {
		si->first_p2m_pfn = p2m_pfn;
		si->nr_p2m_frames = p2m_pages;
	}
	domain_shared_info(d)->arch.max_pfn = d->nr_pages;
	for (i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
		domain_shared_info(d)->vcpu_info[i].evtchn_upcall_mask = 1;
	/* Pin the L4 (validating everything under it) and load it. */
	v->pv->kernel_mode = 1;
	v->pv->kernel_cr3 = l4_gpa;
	r = pv_mm_get_type(v, l4_gpa >> PV_PAGE_SHIFT, PGT_l4);
	if (r == 0)
		r = pv_mm_get_type(v, l4_gpa >> PV_PAGE_SHIFT, PGT_l4);
	if (r < 0) {
		domain_log(d, "builder: initial page tables refused (%d)", r);
		goto out;
	}
	d->pv->pages[l4_gpa >> PV_PAGE_SHIFT].pinned = 1;
	d->pv->boot_rip = img.xen.entry ? img.xen.entry : img.entry;
	d->pv->boot_rsp = virt_base + ((stack_pfn + 1) << PV_PAGE_SHIFT);
	d->pv->boot_rsi = virt_base + (si_pfn << PV_PAGE_SHIFT);
	domain_log(d,
		   "built: %llu MiB, kernel %#llx-%#llx entry %#llx, start_info %#llx, "
		   "%llu pt frames, mapped to %#llx%s",
		   (unsigned long long)(d->nr_pages >> 8), (unsigned long long)img.vstart,
		   (unsigned long long)img.vend, (unsigned long long)d->pv->boot_rip,
		   (unsigned long long)d->pv->boot_rsi, (unsigned long long)nr_pt,
		   (unsigned long long)(virt_base + (v_end_pfn << PV_PAGE_SHIFT)),
		   init_p2m ? ", INIT_P2M" : "");
	r = 0;
out:
	free(unpacked);
	return r;
}

/* Stand-in console backend (no backend bound to the console port): move
 * the guest's console ring output to the console, then tell the guest
 * there is room again. */
void pv_console_drain(struct domain *d, uint32_t port)
{
	struct xencons_interface *c;
	uint32_t cons, prod;
	char buf[sizeof(c->out)];
	size_t n = 0;

	if (port != d->console_port || d->console_mfn >= d->nr_pages)
		return;
	c = (struct xencons_interface *)(d->ram + (d->console_mfn << 12));
	cons = __atomic_load_n(&c->out_cons, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&c->out_prod, __ATOMIC_ACQUIRE);
	if (prod - cons > sizeof(c->out))
		cons = prod - sizeof(c->out); /* a guest that overran its ring */
	while (cons != prod)
		buf[n++] = c->out[MASK_XENCONS_IDX(cons++, c->out)];
	__atomic_store_n(&c->out_cons, cons, __ATOMIC_RELEASE);
	/* Notify only when something was consumed, as xenconsoled does: a
	 * guest that kicks its port on every console event would otherwise
	 * livelock against us. */
	if (n) {
		domain_console_write(d, buf, n);
		evtchn_set_pending(d, port);
	}
}
