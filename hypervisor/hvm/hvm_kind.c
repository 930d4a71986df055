/*
 * The HVM kind: a domain that runs unmodified firmware (Debian's
 * hvmloader) and OSes in a KVM VM with KVM's in-kernel LAPIC/IOAPIC/PIC
 * and PIT, its RAM laid out as Xen lays out HVM RAM (below the MMIO hole
 * at 0xF0000000, the rest from 4 GiB), Xen's special pages at Xen's frame
 * numbers.  This is the ops table the rest of keeld sees it through
 * (core/kind.h); the builder, vCPU loop and hypercalls are beside it.
 * No grant maps yet; save and restore are hvm_save.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/xen.h"
#include "hvm_domain.h"

/* RAM frames below the MMIO hole; the rest goes above 4 GiB. */
static uint64_t hvm_low_pages(const struct domain *d)
{
	uint64_t hole = HVM_BELOW_4G_MMIO_START >> 12;

	return d->nr_pages < hole ? d->nr_pages : hole;
}

static uint64_t hvm_region_size(uint64_t nr_pages)
{
	(void)nr_pages;
	return HVM_REGION_SIZE;
}

/* Where frame gfn is among those populate_physmap may fill (the index
 * of its page in h->hole and its bit in h->hole_populated); -1: none. */
int64_t hvm_hole_index(const struct hvm_domain *h, uint64_t gfn)
{
	if (gfn >= h->hole_gfn && gfn - h->hole_gfn < h->hole_pages)
		return (int64_t)(gfn - h->hole_gfn);
	if (gfn >= h->top_gfn && gfn - h->top_gfn < h->top_pages)
		return (int64_t)(h->hole_pages + gfn - h->top_gfn);
	return -1;
}

/* keeld's pointer to frame gfn of them (one hvm_hole_index knows) */
uint8_t *hvm_hole_ptr(const struct hvm_domain *h, uint64_t gfn)
{
	return h->hole + ((uint64_t)hvm_hole_index(h, gfn) << 12);
}

/* The index of [gfn, gfn+count) if all of it is populated (where it is
 * now, for frames a device model relocated); -1 if not.  A vCPU thread
 * asks while the device model's thread may move a range: the relocation
 * table is read under mm_lock (the memfd page found stays valid after). */
static int64_t hvm_hole_range(struct domain *d, uint64_t gfn, uint64_t count)
{
	const struct hvm_domain *h = d->hvm;
	int64_t f = hvm_hole_index(h, gfn), l = hvm_hole_index(h, gfn + count - 1), at = -1;
	int moved = 0;

	if (count) {
		pthread_mutex_lock(&d->mm_lock);
		moved = hvm_reloc_lookup(h, gfn, count, &at);
		pthread_mutex_unlock(&d->mm_lock);
	}
	if (moved)
		return moved > 0 ? at : -1;

	if (!h->hole || !count || f < 0 || l < 0 || (uint64_t)(l - f) != count - 1)
		return -1;
	for (int64_t i = f; i <= l; i++)
		if (!(h->hole_populated[i / 8] & (1 << (i % 8))))
			return -1;
	return f;
}

void *hvm_gpa_ptr(struct domain *d, uint64_t gpa, uint64_t n)
{
	const struct hvm_domain *h = d->hvm;
	uint64_t low = h->low_pages << 12, high = h->high_pages << 12;

	if (n > (1ULL << 32) || gpa + n < gpa)
		return NULL;
	if (gpa < HVM_VGA_HOLE_END << 12 && gpa + n > HVM_VGA_HOLE_START << 12)
		return NULL; /* the VGA hole: MMIO */
	if (gpa + n <= low)
		return d->ram + gpa;
	if (gpa >= HVM_HIGH_MEM_START && gpa + n <= HVM_HIGH_MEM_START + high)
		return d->ram + low + (gpa - HVM_HIGH_MEM_START);
	if (gpa >= HVM_REGION_GPA && gpa + n <= HVM_REGION_GPA + d->shim_size)
		return d->shim + (gpa - HVM_REGION_GPA);
	if (h->shinfo_slot >= 0 && gpa >= h->shinfo_gpa && gpa + n <= h->shinfo_gpa + 4096)
		return d->shim + HVM_REGION_OFF_SHINFO + (gpa - h->shinfo_gpa);
	if (n) {
		int64_t f = hvm_hole_range(d, gpa >> 12, ((gpa + n - 1) >> 12) - (gpa >> 12) + 1);

		if (f >= 0)
			return h->hole + ((uint64_t)f << 12) + (gpa & 4095);
	}
	return NULL;
}

int hvm_copy_from_gpa(struct domain *d, void *dst, uint64_t gpa, size_t n)
{
	void *p = hvm_gpa_ptr(d, gpa, n);

	if (!p)
		return -1;
	memcpy(dst, p, n);
	return 0;
}

int hvm_copy_to_gpa(struct domain *d, uint64_t gpa, const void *src, size_t n)
{
	void *p = hvm_gpa_ptr(d, gpa, n);

	if (!p)
		return -1;
	memcpy(p, src, n);
	if (gpa < (d->hvm->low_pages << 12))
		for (uint64_t f = gpa >> 12; f <= (gpa + n - 1) >> 12 && n; f++)
			domain_dirty_mark(d, f);
	return 0;
}

/* A guest address as the vCPU sees it: physical with paging off, else
 * through its page tables (KVM_TRANSLATE); -1 if it maps nothing. */
static int hvm_translate(struct vcpu *v, uint64_t addr, uint64_t *gpa)
{
	struct kvm_sregs s;
	struct kvm_translation t = {.linear_address = addr};

	if (kvm_sregs_get(&v->kvm, &s) < 0)
		return -1;
	if (!(s.cr0 & 0x80000000ULL)) {
		*gpa = (s.efer & 0x400) ? addr : (addr & 0xffffffffULL);
		return 0;
	}
	if (ioctl(v->kvm.fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return -1;
	*gpa = t.physical_address;
	return 0;
}

/* Guest copies page by page: each page translated and bounds-checked. */
static int hvm_copy(struct vcpu *v, uint64_t addr, void *buf, size_t n, int to_guest)
{
	while (n) {
		size_t chunk = 4096 - (addr & 4095);
		uint64_t gpa;
		int r;

		if (chunk > n)
			chunk = n;
		if (hvm_translate(v, addr, &gpa) < 0)
			return -1;
		r = to_guest ? hvm_copy_to_gpa(v->dom, gpa, buf, chunk)
			     : hvm_copy_from_gpa(v->dom, buf, gpa, chunk);
		if (r < 0)
			return -1;
		addr += chunk;
		buf = (uint8_t *)buf + chunk;
		n -= chunk;
	}
	return 0;
}

static int hvm_copy_from_guest(struct vcpu *v, void *dst, uint64_t src, size_t n)
{
	return hvm_copy(v, src, dst, n, 0);
}

static int hvm_copy_to_guest(struct vcpu *v, uint64_t dst, const void *src, size_t n)
{
	return hvm_copy(v, dst, (void *)src, n, 1);
}

/* RAM around the hole, keeld's region ending at Xen's special region end,
 * the in-kernel irqchip (LAPIC, IOAPIC, PIC) and PIT, and MSR exits to
 * keeld for what KVM does not know (Xen's hypercall MSR). */
static int hvm_vm_setup(struct domain *d)
{
	struct kvm_pit_config pit = {.flags = 0};
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR};
	uint64_t low = hvm_low_pages(d), high = d->nr_pages - low;
	int r;

	/* runs before the kind's init (the VM exists before the kind's part);
	 * no RAM in the VGA hole (0xa0000-0xbffff), as Xen's HVM builder
	 * leaves it: its accesses are MMIO, a VGA card's in the device model */
	r = kvm_vm_add_memory(&d->vm, 0,
			      (low < HVM_VGA_HOLE_START ? low : HVM_VGA_HOLE_START) << 12, d->ram);
	if (r == 0 && low > HVM_VGA_HOLE_END)
		r = kvm_vm_add_memory(&d->vm, HVM_VGA_HOLE_END << 12,
				      (low - HVM_VGA_HOLE_END) << 12,
				      d->ram + (HVM_VGA_HOLE_END << 12));
	if (r == 0 && high)
		r = kvm_vm_add_memory(&d->vm, HVM_HIGH_MEM_START, high << 12, d->ram + (low << 12));
	if (r == 0)
		r = kvm_vm_add_memory(&d->vm, HVM_REGION_GPA, d->shim_size, d->shim);
	if (r < 0)
		return r;
	if (ioctl(d->vm.vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	if (ioctl(d->vm.vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	cap.args[0] = KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN;
	if (ioctl(d->vm.vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -errno;
	return 0;
}

int hvm_slot_add(struct domain *d, uint64_t gpa, uint64_t size, void *hva, int *slot)
{
	struct hvm_domain *h = d->hvm;
	int r;

	if (h->nr_free_slots) {
		r = kvm_vm_slot_flags(&d->vm, h->free_slots[h->nr_free_slots - 1], gpa, size, hva,
				      0);
		if (r == 0)
			*slot = h->free_slots[--h->nr_free_slots];
		return r;
	}
	r = kvm_vm_add_memory(&d->vm, gpa, size, hva);
	if (r == 0)
		*slot = d->vm.nslots - 1;
	return r;
}

int hvm_slot_delete(struct domain *d, int slot, uint64_t gpa, void *hva)
{
	struct hvm_domain *h = d->hvm;
	int r;

	if (h->nr_free_slots == HVM_HOLE_RUNS + HVM_RELOCS)
		return -ENOSPC;
	r = kvm_vm_slot_flags(&d->vm, slot, gpa, 0, hva, 0);
	if (r == 0)
		h->free_slots[h->nr_free_slots++] = slot;
	return r;
}

/* Grow the run that ends just below [gfn, gfn+pages) or starts just above
 * it (KVM moves a slot by deleting it and adding it anew), else start a
 * run in a slot of its own.  Runs are never merged: hvmloader populates
 * upwards from a few starting points, so a handful of slots serve it; a
 * device model's contiguous range (its video RAM) is one operation. */
int hvm_hole_map(struct domain *d, uint64_t gfn, uint64_t pages)
{
	struct hvm_domain *h = d->hvm;
	struct hvm_hole_run *run = NULL;
	uint64_t start;
	int r;

	for (int i = 0; i < h->nr_runs && !run; i++)
		if (h->runs[i].gfn + h->runs[i].pages == gfn || h->runs[i].gfn == gfn + pages)
			run = &h->runs[i];
	if (!run) {
		int slot;

		if (h->nr_runs == HVM_HOLE_RUNS)
			return -ENOSPC;
		r = hvm_slot_add(d, gfn << 12, pages << 12, hvm_hole_ptr(h, gfn), &slot);
		if (r < 0)
			return r;
		h->runs[h->nr_runs++] = (struct hvm_hole_run){gfn, pages, slot};
		return 0;
	}
	start = run->gfn == gfn + pages ? gfn : run->gfn;
	r = kvm_vm_slot_flags(&d->vm, run->slot, run->gfn << 12, 0, hvm_hole_ptr(h, run->gfn), 0);
	if (r == 0) {
		r = kvm_vm_slot_flags(&d->vm, run->slot, start << 12, (run->pages + pages) << 12,
				      hvm_hole_ptr(h, start), 0);
		if (r < 0) /* put the run back as it was */
			kvm_vm_slot_flags(&d->vm, run->slot, run->gfn << 12, run->pages << 12,
					  hvm_hole_ptr(h, run->gfn), 0);
	}
	if (r < 0)
		return r;
	run->gfn = start;
	run->pages += pages;
	return 0;
}

/* [gfn, gfn+count) at once, when all of it is in the hole, none of it
 * populated yet (nor the shared_info frame) and maxmem has room for all
 * of it: zeroed, mapped with one KVM slot operation, counted.  1 done;
 * 0 not so (the caller goes frame by frame, for Xen's exact answer). */
int hvm_hole_populate_range(struct domain *d, uint64_t gfn, uint64_t count)
{
	struct hvm_domain *h = d->hvm;
	int64_t f = hvm_hole_index(h, gfn), l = hvm_hole_index(h, gfn + count - 1);
	int r = 1;

	if (!h->hole || count < 2 || count > (1ULL << 20) || f < 0 || l < 0 ||
	    (uint64_t)(l - f) != count - 1)
		return 0;
	if (h->shinfo_slot >= 0 && h->shinfo_gpa >> 12 >= gfn && h->shinfo_gpa >> 12 < gfn + count)
		return 0;
	pthread_mutex_lock(&d->mm_lock);
	if (hvm_reloc_lookup(h, gfn, count, &f) != 0) /* frame by frame: -EBUSY */
		r = 0;
	f = hvm_hole_index(h, gfn);
	for (int64_t i = f; i <= l && r; i++)
		if (h->hole_populated[i / 8] & (1 << (i % 8)))
			r = 0;
	if (r && __atomic_load_n(&d->cur_pages, __ATOMIC_RELAXED) + count > d->max_pages)
		r = 0;
	if (r && hvm_hole_map(d, gfn, count) < 0)
		r = 0;
	if (r) {
		memset(h->hole + (f << 12), 0, count << 12);
		for (int64_t i = f; i <= l; i++)
			h->hole_populated[i / 8] |= 1 << (i % 8);
		__atomic_add_fetch(&d->cur_pages, count, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&d->mm_lock);
	return r;
}

int hvm_hole_populate(struct domain *d, uint64_t gfn)
{
	struct hvm_domain *h = d->hvm;
	int64_t f = hvm_hole_index(h, gfn), at;
	int r = 0;

	if (f < 0 || !h->hole || (h->shinfo_slot >= 0 && gfn == h->shinfo_gpa >> 12))
		return -EINVAL;
	pthread_mutex_lock(&d->mm_lock);
	/* a relocated frame's new or old place: its memfd page is in use
	 * elsewhere (Xen would give a fresh page; keeld does not) */
	if (hvm_reloc_lookup(h, gfn, 1, &at) != 0) {
		pthread_mutex_unlock(&d->mm_lock);
		hvlog("d%d: populate_physmap at gfn %#llx: relocated video RAM's place, refused",
		      d->domid, (unsigned long long)gfn);
		return -EBUSY;
	}
	/* a frame populated again is a fresh one, as Xen's would be */
	memset(h->hole + (f << 12), 0, 4096);
	if (!(h->hole_populated[f / 8] & (1 << (f % 8)))) {
		r = hvm_hole_map(d, gfn, 1);
		if (r == 0) {
			h->hole_populated[f / 8] |= 1 << (f % 8);
			r = 1;
		}
	}
	pthread_mutex_unlock(&d->mm_lock);
	return r;
}

int hvm_populate_extent(struct domain *d, uint64_t gfn, unsigned order)
{
	uint64_t n = 1ULL << order;

	if (order > HVM_MAX_ORDER || (gfn & (n - 1)) || gfn >= (1ULL << 40))
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++) {
		int r;

		/* a frame populated again replaces its old one: not counted twice */
		if (__atomic_load_n(&d->cur_pages, __ATOMIC_RELAXED) + 1 > d->max_pages &&
		    !hvm_gpa_ptr(d, (gfn + i) << 12, 4096))
			return -ENOMEM;
		r = hvm_hole_populate(d, gfn + i);
		if (r < 0)
			return r;
		if (r == 1)
			__atomic_add_fetch(&d->cur_pages, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

int hvm_map_shared_info(struct domain *d, uint64_t gpa)
{
	struct hvm_domain *h = d->hvm;
	void *page = d->shim + HVM_REGION_OFF_SHINFO;
	int r;

	pthread_mutex_lock(&d->mm_lock);
	if (h->shinfo_slot < 0) {
		r = kvm_vm_add_memory(&d->vm, gpa, 4096, page);
		if (r == 0)
			h->shinfo_slot = d->vm.nslots - 1;
	} else {
		/* KVM moves a slot by deleting it (size 0) and adding it anew */
		r = kvm_vm_slot_flags(&d->vm, h->shinfo_slot, h->shinfo_gpa, 0, page, 0);
		if (r == 0)
			r = kvm_vm_slot_flags(&d->vm, h->shinfo_slot, gpa, 4096, page, 0);
	}
	if (r == 0)
		h->shinfo_gpa = gpa;
	pthread_mutex_unlock(&d->mm_lock);
	if (r < 0)
		hvlog("d%d: hvm: shared_info at %#llx: %s", d->domid, (unsigned long long)gpa,
		      strerror(-r));
	return r;
}

/* RAM below the hole, RAM above 4 GiB, or keeld's region (the special
 * pages: a store or console backend maps them), never across two. */
static int hvm_frame_offset(struct domain *d, uint64_t gfn, uint64_t count, uint64_t *off)
{
	const struct hvm_domain *h = d->hvm;
	uint64_t hi = HVM_HIGH_MEM_START >> 12, rg = HVM_REGION_GPA >> 12;
	int64_t f;

	if (count == 0 || count > (1ULL << 20) || gfn > (1ULL << 40))
		return -EINVAL;
	if (gfn < HVM_VGA_HOLE_END && gfn + count > HVM_VGA_HOLE_START)
		return -EINVAL; /* the VGA hole: no RAM, as in Xen's p2m */
	if (gfn + count <= h->low_pages)
		*off = gfn << 12;
	else if (gfn >= hi && gfn + count <= hi + h->high_pages)
		*off = (h->low_pages + gfn - hi) << 12;
	else if (gfn >= rg && gfn + count <= rg + HVM_REGION_PAGES)
		*off = (d->nr_pages + gfn - rg) << 12;
	else if ((f = hvm_hole_range(d, gfn, count)) >= 0) /* populated only, as Xen's p2m */
		*off = (d->nr_pages << 12) + d->shim_size + ((uint64_t)f << 12);
	else
		return -EINVAL;
	return 0;
}

static int hvm_init(struct domain *d)
{
	uint64_t off, hole;

	d->hvm = calloc(1, sizeof(*d->hvm));
	if (!d->hvm)
		return -ENOMEM;
	d->hvm->low_pages = hvm_low_pages(d);
	d->hvm->shinfo_slot = -1;
	d->hvm->high_pages = d->nr_pages - d->hvm->low_pages;
	d->hvm->hole_gfn = d->hvm->low_pages;
	d->hvm->hole_pages = (HVM_REGION_GPA >> 12) - d->hvm->hole_gfn;
	d->hvm->top_gfn = (HVM_HIGH_MEM_START >> 12) + d->hvm->high_pages;
	d->hvm->top_pages = d->hvm->high_pages ? HVM_TOP_PAGES : 0;
	hole = (d->hvm->hole_pages + d->hvm->top_pages) << 12;
	/* the memfd past keeld's region, sparse: frames are backed when
	 * first populated, and dom0 maps them through the memfd as RAM */
	off = (d->nr_pages << 12) + d->shim_size;
	d->hvm->hole = ftruncate(d->memfd, (off_t)(off + hole)) < 0
			       ? MAP_FAILED
			       : mmap(NULL, hole, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd,
				      (off_t)off);
	d->hvm->hole_populated = calloc(((hole >> 12) + 7) / 8, 1);
	if (d->hvm->hole == MAP_FAILED || !d->hvm->hole_populated) {
		if (d->hvm->hole != MAP_FAILED)
			munmap(d->hvm->hole, hole);
		free(d->hvm->hole_populated);
		free(d->hvm);
		d->hvm = NULL;
		return -ENOMEM;
	}
	hvm_platform_init(d);
	return hvm_ioreq_init(d);
}

static void hvm_destroy(struct domain *d)
{
	if (!d->hvm)
		return;
	hvm_rtc_destroy(d);
	hvm_pm_destroy(d);
	hvm_ioreq_destroy(d);
	munmap(d->hvm->hole, (d->hvm->hole_pages + d->hvm->top_pages) << 12);
	free(d->hvm->hole_populated);
	free(d->hvm);
	d->hvm = NULL;
}

/* vCPU 0 at hvmloader's entry; the others run from the start too, held
 * by KVM's in-kernel LAPIC until the guest's INIT and SIPI, as Xen's APs
 * wait for hvmloader's (and then the OS's) start-up IPIs. */
static int hvm_start(struct domain *d)
{
	for (int k = 1; k < d->nr_vcpus; k++)
		d->vcpus[k].initialised = d->vcpus[k].online = 1;
	return hvm_vcpu_start(&d->vcpus[0]);
}

/* xl save suspends the domain and then has QEMU save its state: the
 * writes still on the buffered ring must reach QEMU first (a second at
 * most: QEMU takes them within its 100 ms timer). */
static void hvm_kind_suspended(struct domain *d)
{
	hvm_ioreq_drain(d, 1000);
}

static void hvm_describe_vcpu(struct vcpu *v, char *buf, size_t len)
{
	snprintf(buf, len, "hvm, hypercall page %#llx",
		 (unsigned long long)v->dom->hvm->hypercall_page);
}

static int hvm_frame_writable(struct domain *d, uint64_t gfn)
{
	return gfn < d->hvm->low_pages; /* no page types in HVM: RAM is writable */
}

static int hvm_frame_get_writable(struct domain *d, uint64_t gfn)
{
	return hvm_frame_writable(d, gfn) ? 0 : -XEN_EINVAL;
}

static void hvm_frame_put_writable(struct domain *d, uint64_t gfn)
{
	(void)d;
	(void)gfn;
}

/* Grant host maps into an HVM guest go through its physmap in Xen; not
 * in this slice. */
static int hvm_grant_map(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t gpa,
			 int writable)
{
	(void)v, (void)addr, (void)contains_pte, (void)gpa, (void)writable;
	return -XEN_ENOSYS;
}

static int hvm_grant_unmap(struct vcpu *v, uint64_t addr, int contains_pte, uint64_t gpa,
			   uint64_t new_addr)
{
	(void)v, (void)addr, (void)contains_pte, (void)gpa, (void)new_addr;
	return -XEN_ENOSYS;
}

static int hvm_grant_commit(struct vcpu *v)
{
	(void)v;
	return 0;
}

static int hvm_frames_mapped(struct vcpu *v, uint64_t mfn, uint64_t n)
{
	(void)v, (void)mfn, (void)n;
	return 0;
}

const struct domain_kind hvm_kind = {
	.name = "hvm",
	.hvm = 1,
	.apic_id_stride = 2,
	.region_gpa = HVM_REGION_GPA,
	.region_size = hvm_region_size,
	.shared_info_off = HVM_REGION_OFF_SHINFO,
	.gnttab_off = HVM_REGION_OFF_GNTTAB,
	.vm_setup = hvm_vm_setup,
	.frame_offset = hvm_frame_offset,
	.init = hvm_init,
	.destroy = hvm_destroy,
	.build = hvm_build_domain,
	.start = hvm_start,
	.vcpu_main = hvm_vcpu_thread,
	.kick = hvm_vcpu_kick,
	.send_nmi = hvm_vcpu_send_nmi,
	.acpi_button = hvm_acpi_button,
	.suspended = hvm_kind_suspended,
	.describe_vcpu = hvm_describe_vcpu,
	.copy_from_guest = hvm_copy_from_guest,
	.copy_to_guest = hvm_copy_to_guest,
	.frame_writable = hvm_frame_writable,
	.frame_get_writable = hvm_frame_get_writable,
	.frame_put_writable = hvm_frame_put_writable,
	.grant_map = hvm_grant_map,
	.grant_unmap = hvm_grant_unmap,
	.grant_commit = hvm_grant_commit,
	.frames_mapped = hvm_frames_mapped,
	.save = hvm_save,
	.restore_check = hvm_restore_check,
	.restore = hvm_restore,
	.resume = hvm_resume,
};
