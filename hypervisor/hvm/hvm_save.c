/*
 * The HVM kind's save records and its resume (the kind's save /
 * restore_check / restore / resume; ctl/ctl_save.c drives them), after
 * Xen's HVM save: the domain is stopped by dom0 (SHUTDOWN_suspend, as
 * libxl's xc_domain_shutdown for a guest without PV drivers), nothing is
 * asked of the guest, and what the hypervisor holds is written beside
 * its RAM.  The device model's state is not keeld's: xl saves QEMU's own
 * through QMP (libxl's emulator context), and QEMU makes a new ioreq
 * server when it is started for the restored domain, so servers, their
 * pages and ports are not carried (as in Xen).
 *
 * Records: HVM_DOMAIN (sizes, frames, ports, HVM parameters, the
 * hypercall page and shared_info placement, keeld's platform: PCI
 * address latch, PM1a and PM timer, RTC, interrupt links, pending NMIs);
 * per vCPU VCPU_KVM (core/kvm_save.c: registers, xsave, xcrs, events,
 * the MSRs of hvm_save_msr_index KVM holds) and HVM_VCPU (LAPIC,
 * debug registers, mp_state); HVM_IRQCHIP (KVM's PIC master and slave,
 * IOAPIC, PIT); HVM_REGION (keeld's pages below Xen's special region
 * end: shared_info, grant frames, special pages -- the ioreq-server
 * pages are cleared on restore); HVM_POPULATED (which frames past RAM
 * were populated: hvmloader's, QEMU's ROMs and video RAM) and
 * HVM_FRAMES (the non-zero ones, up to HVM_SAVE_CHUNK a record).
 *
 * A restored domain goes on where it stopped: the PM timer counts on
 * from its saved value, the RTC keeps its offset from the host's clock,
 * KVM's TSC, LAPIC timer and PIT take their saved state; only the store
 * and console ports are open again (at their numbers), as for a new Xen
 * domain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi/xen.h"
#include "../core/kvm_save.h"
#include "../core/saverec.h"
#include "../evtchn/evtchn.h"
#include "hvm_domain.h"

#define HVM_RTC_REG_B	0x0b
#define HVM_RTC_B_IRQS	0x70   /* PIE | AIE | UIE: the IRQ8 thread runs (hvm_rtc.c) */
#define HVM_PM1_TMR_EN	0x0001 /* PM1a_EN's TMR_EN: the TMR_STS thread runs (hvm_platform.c) */
#define HVM_SAVE_CHUNK	1024   /* frames of one HVM_FRAMES record (4 MiB) */
#define HVM_SAVE_MAPPED 1u     /* HVM_DOMAIN flags: shared_info is mapped at shinfo_gpa */
/* the ioreq-server pages' offset in keeld's region */
#define HVM_SAVE_IOREQ_OFF ((HVM_IOREQ_SERVER_PFN(0) - (HVM_REGION_GPA >> 12)) << 12)

/* SYSENTER, PAT, TSC, the syscall MSRs, KERNEL_GS_BASE, the MTRRs
 * hvmloader programs, MISC_ENABLE, TSC_AUX, TSC_DEADLINE, the ones every
 * x86-64 KVM has first: KVM_GET_MSRS stops at the first it lacks, and a
 * save needs the first ten (this development host's KVM holds all 41). */
static const uint32_t hvm_save_msr_index[] = {
	0x174,	    0x175, 0x176, 0x277,      0x10,  0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000102, 0x2ff, 0x250, 0x258,      0x259, 0x268,	 0x269,	     0x26a,	 0x26b,
	0x26c,	    0x26d, 0x26e, 0x26f,      0x200, 0x201,	 0x202,	     0x203,	 0x204,
	0x205,	    0x206, 0x207, 0x208,      0x209, 0x20a,	 0x20b,	     0x20c,	 0x20d,
	0x20e,	    0x20f, 0x1a0, 0xc0000103, 0x6e0,
};
static const struct kvm_save_msrs hvm_save_msrs = {
	hvm_save_msr_index, sizeof(hvm_save_msr_index) / sizeof(hvm_save_msr_index[0]), 10};

/* The HVM_DOMAIN record, parsed (and what the domain is written from). */
struct hvm_save_dom {
	uint32_t nparams; /* HVM_NR_PARAMS */
	uint32_t nr_vcpus, flags, old_domid, store_port, console_port, entry, pci_cf8;
	uint64_t nr_pages, cur_pages, max_pages, low_pages, high_pages;
	uint64_t store_mfn, console_mfn, hypercall_page, start_info, shinfo_gpa;
	uint64_t params[HVM_NR_PARAMS];
	uint64_t pm_elapsed_ns, pm_tmr_half;
	uint16_t pm1a_sts, pm1a_en;
	uint32_t sci_level, nmi_pending, wire_lvt0, wire_forced;
	uint8_t link_route[4];
	uint32_t link_asserted[4];
	uint64_t intx_level[2];
	uint8_t rtc_regs[HVM_RTC_REGS], rtc_index, rtc_c_raised;
	int64_t rtc_offset_s, rtc_frozen_s, rtc_last_c_ns;
};

/* One field list for both directions: with `write`, s's values go to
 * w, else they are read from c into s (bounded by the cursor). */
static void hvm_save_dom_fields(struct hvm_save_dom *s, int write, struct srb *w, struct src *c)
{
#define F32(x) (write ? srb_u32(w, (uint32_t)(x)) : (void)((x) = src_u32(c)))
#define F64(x) (write ? srb_u64(w, (uint64_t)(x)) : (void)((x) = src_u64(c)))
#define F16(x) (write ? srb_u16(w, (x)) : (void)((x) = src_u16(c)))
#define F8(x)  (write ? srb_u8(w, (x)) : (void)((x) = src_u8(c)))
	F32(s->nr_vcpus);
	F32(s->flags);
	F64(s->nr_pages);
	F64(s->cur_pages);
	F64(s->max_pages);
	F64(s->low_pages);
	F64(s->high_pages);
	F32(s->old_domid);
	F32(s->store_port);
	F32(s->console_port);
	F32(s->entry);
	F64(s->store_mfn);
	F64(s->console_mfn);
	F64(s->hypercall_page);
	F64(s->start_info);
	F64(s->shinfo_gpa);
	F32(s->pci_cf8);
	F32(s->nparams);
	for (int i = 0; i < HVM_NR_PARAMS; i++)
		F64(s->params[i]);
	F64(s->pm_elapsed_ns);
	F64(s->pm_tmr_half);
	F16(s->pm1a_sts);
	F16(s->pm1a_en);
	F32(s->sci_level);
	F32(s->nmi_pending);
	F32(s->wire_lvt0);
	F32(s->wire_forced);
	for (int i = 0; i < 4; i++) {
		F8(s->link_route[i]);
		F32(s->link_asserted[i]);
	}
	F64(s->intx_level[0]);
	F64(s->intx_level[1]);
	for (int i = 0; i < HVM_RTC_REGS; i++)
		F8(s->rtc_regs[i]);
	F8(s->rtc_index);
	F8(s->rtc_c_raised);
	F64(s->rtc_offset_s);
	F64(s->rtc_frozen_s);
	F64(s->rtc_last_c_ns);
#undef F32
#undef F64
#undef F16
#undef F8
}

static void hvm_save_domain(struct domain *d, struct srb *out)
{
	struct hvm_domain *h = d->hvm;
	struct hvm_save_dom s = {0};
	struct srb p = {0};
	struct src none = {NULL, 0, 1}; /* not read: the fields go to p */

	s.nparams = HVM_NR_PARAMS;
	s.nr_vcpus = (uint32_t)d->nr_vcpus;
	s.flags = h->shinfo_slot >= 0 ? HVM_SAVE_MAPPED : 0;
	s.nr_pages = d->nr_pages;
	s.cur_pages = d->cur_pages;
	s.max_pages = d->max_pages;
	s.low_pages = h->low_pages;
	s.high_pages = h->high_pages;
	s.old_domid = (uint32_t)d->domid;
	s.store_port = d->store_port;
	s.console_port = d->console_port;
	s.entry = h->entry;
	s.store_mfn = d->store_mfn;
	s.console_mfn = d->console_mfn;
	s.hypercall_page = h->hypercall_page;
	s.start_info = h->start_info;
	s.shinfo_gpa = h->shinfo_slot >= 0 ? h->shinfo_gpa : 0;
	s.pci_cf8 = h->pci_cf8;
	memcpy(s.params, h->params, sizeof(s.params));
	pthread_mutex_lock(&h->ioreq_lock);
	s.pm_elapsed_ns = hvm_now_ns() - __atomic_load_n(&h->pm_base_ns, __ATOMIC_ACQUIRE);
	s.pm_tmr_half = h->pm_tmr_half;
	s.pm1a_sts = __atomic_load_n(&h->pm1a_sts, __ATOMIC_ACQUIRE);
	s.pm1a_en = __atomic_load_n(&h->pm1a_en, __ATOMIC_ACQUIRE);
	s.sci_level = (uint32_t)h->sci_level;
	memcpy(s.link_route, h->link_route, sizeof(s.link_route));
	for (int i = 0; i < 4; i++)
		s.link_asserted[i] = h->link_asserted[i];
	s.intx_level[0] = h->intx_level[0];
	s.intx_level[1] = h->intx_level[1];
	pthread_mutex_unlock(&h->ioreq_lock);
	s.nmi_pending = __atomic_load_n(&h->nmi_pending, __ATOMIC_ACQUIRE);
	s.wire_lvt0 = h->wire_lvt0;
	s.wire_forced = (uint32_t)h->wire_forced;
	pthread_mutex_lock(&h->rtc.lock);
	memcpy(s.rtc_regs, h->rtc.regs, HVM_RTC_REGS);
	s.rtc_index = h->rtc.index;
	s.rtc_c_raised = h->rtc.c_raised;
	s.rtc_offset_s = h->rtc.offset_s;
	s.rtc_frozen_s = h->rtc.frozen_s;
	s.rtc_last_c_ns = h->rtc.last_c_ns;
	pthread_mutex_unlock(&h->rtc.lock);
	hvm_save_dom_fields(&s, 1, &p, &none);
	saverec_put(out, SAVEREC_HVM_DOMAIN, 1, &p);
	srb_free(&p);
}

/* An I/O exit KVM has not completed (the value of an `in`, the step past
 * the instruction) is completed by entering KVM_RUN with immediate_exit:
 * KVM's documented way to a consistent state before reading it. */
static int hvm_save_settle(struct vcpu *v)
{
	int r;

	v->kvm.run->immediate_exit = 1;
	r = ioctl(v->kvm.fd, KVM_RUN, 0);
	v->kvm.run->immediate_exit = 0;
	return r < 0 && errno != EINTR ? -errno : 0;
}

static int hvm_save_vcpu(struct vcpu *v, struct srb *out)
{
	struct kvm_lapic_state *lapic = calloc(1, sizeof(*lapic));
	struct kvm_debugregs dr;
	struct kvm_mp_state mp;
	struct srb p = {0};
	int r = hvm_save_settle(v);

	if (!lapic)
		return -ENOMEM;
	if (r == 0)
		r = kvm_save_vcpu(&v->kvm, v->id, &hvm_save_msrs, out);
	if (r == 0 &&
	    (ioctl(v->kvm.fd, KVM_GET_LAPIC, lapic) < 0 || kvm_debugregs_get(&v->kvm, &dr) < 0 ||
	     ioctl(v->kvm.fd, KVM_GET_MP_STATE, &mp) < 0))
		r = -EIO;
	srb_u32(&p, (uint32_t)v->id);
	srb_u32(&p, (uint32_t)v->online);
	srb_u32(&p, (uint32_t)v->initialised);
	srb_u32(&p, r == 0 ? mp.mp_state : 0);
	srb_u32(&p, sizeof(*lapic));
	srb_u32(&p, sizeof(dr));
	srb_bytes(&p, lapic, sizeof(*lapic));
	srb_bytes(&p, &dr, sizeof(dr));
	if (r == 0)
		saverec_put(out, SAVEREC_HVM_VCPU, 1, &p);
	srb_free(&p);
	free(lapic);
	return r;
}

static int hvm_save_irqchip(struct domain *d, struct srb *out)
{
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
	struct srb p = {0};
	int r = 0;

	memset(chip, 0, sizeof(chip));
	srb_u32(&p, sizeof(chip[0]));
	srb_u32(&p, sizeof(pit));
	for (uint32_t i = 0; i < 3; i++) {
		chip[i].chip_id = i; /* PIC master, PIC slave, IOAPIC */
		if (ioctl(d->vm.vm_fd, KVM_GET_IRQCHIP, &chip[i]) < 0)
			r = -EIO;
		srb_bytes(&p, &chip[i], sizeof(chip[i]));
	}
	if (ioctl(d->vm.vm_fd, KVM_GET_PIT2, &pit) < 0)
		r = -EIO;
	srb_bytes(&p, &pit, sizeof(pit));
	if (r == 0)
		saverec_put(out, SAVEREC_HVM_IRQCHIP, 1, &p);
	srb_free(&p);
	return r;
}

static int hvm_save_is_zero(const uint8_t *page)
{
	static const uint8_t zero[4096];

	return !memcmp(page, zero, 4096);
}

/* Frames past RAM: which are populated, then the non-zero ones. */
static void hvm_save_hole(struct domain *d, struct srb *out)
{
	const struct hvm_domain *h = d->hvm;
	uint64_t total = h->hole_pages + h->top_pages, n = 0;
	uint64_t *idx = malloc(HVM_SAVE_CHUNK * sizeof(*idx));
	struct srb p = {0};

	srb_u64(&p, h->hole_gfn);
	srb_u64(&p, h->hole_pages);
	srb_u64(&p, h->top_gfn);
	srb_u64(&p, h->top_pages);
	srb_bytes(&p, h->hole_populated, (total + 7) / 8);
	saverec_put(out, SAVEREC_HVM_POPULATED, 1, &p);
	srb_free(&p);
	if (!idx) {
		out->err = -ENOMEM;
		return;
	}
	for (uint64_t i = 0; i <= total; i++) {
		if (i < total && (h->hole_populated[i / 8] >> (i % 8) & 1) &&
		    !hvm_save_is_zero(h->hole + (i << 12)))
			idx[n++] = i;
		if (n == HVM_SAVE_CHUNK || (i == total && n)) {
			p = (struct srb){0};
			srb_u64(&p, n);
			for (uint64_t k = 0; k < n; k++)
				srb_u64(&p, idx[k] < h->hole_pages
						    ? h->hole_gfn + idx[k]
						    : h->top_gfn + idx[k] - h->hole_pages);
			for (uint64_t k = 0; k < n; k++)
				srb_bytes(&p, h->hole + (idx[k] << 12), 4096);
			saverec_put(out, SAVEREC_HVM_FRAMES, 1, &p);
			srb_free(&p);
			n = 0;
		}
	}
	free(idx);
}

/* Populated frames the device model moved (its video RAM at the VGA card's
 * framebuffer, relocate_memory): where each range is, where it was
 * populated, its size.  Restore moves them there again; the dirty log is
 * the device model's to ask for anew. */
static void hvm_save_relocs(struct domain *d, struct srb *out)
{
	const struct hvm_domain *h = d->hvm;
	struct srb p = {0};

	pthread_mutex_lock(&d->mm_lock);
	srb_u32(&p, (uint32_t)h->nr_relocs);
	srb_u32(&p, 0);
	for (int i = 0; i < h->nr_relocs; i++) {
		srb_u64(&p, h->relocs[i].gfn);
		srb_u64(&p, h->relocs[i].from);
		srb_u64(&p, h->relocs[i].pages);
	}
	pthread_mutex_unlock(&d->mm_lock);
	saverec_put(out, SAVEREC_HVM_RELOCS, 1, &p);
	srb_free(&p);
}

int hvm_save(struct domain *d, struct srb *out)
{
	struct srb p = {0};
	int r = 0;

	hvm_save_domain(d, out);
	for (int k = 0; k < d->nr_vcpus && r == 0; k++)
		r = hvm_save_vcpu(&d->vcpus[k], out);
	if (r == 0)
		r = hvm_save_irqchip(d, out);
	if (r < 0)
		return r;
	srb_u32(&p, HVM_REGION_PAGES);
	srb_u32(&p, 0);
	srb_bytes(&p, d->shim, HVM_REGION_SIZE);
	saverec_put(out, SAVEREC_HVM_REGION, 1, &p);
	srb_free(&p);
	hvm_save_hole(d, out);
	hvm_save_relocs(d, out);
	return out->err;
}

/* ---- restore: every record checked first --------------------------------------- */

struct hvm_rst {
	struct hvm_save_dom dom;
	const struct saverec *irqchip, *region, *populated, *relocs;
	const struct saverec *kvm[DOMAIN_MAX_VCPUS], *vcpu[DOMAIN_MAX_VCPUS];
	const struct saverec *frames[SAVEREC_MAX];
	unsigned nframes;
	uint64_t hole_gfn, hole_pages, top_gfn, top_pages;
};

#define HVM_BAD(...)                                \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

/* Is [gpa, gpa+n) in the domain's RAM (below the hole or above 4 GiB)? */
static int hvm_rst_in_ram(const struct hvm_save_dom *s, uint64_t gpa, uint64_t n)
{
	uint64_t low = s->low_pages << 12, high = s->high_pages << 12;

	return (gpa + n <= low && gpa + n >= gpa) ||
	       (gpa >= HVM_HIGH_MEM_START && gpa - HVM_HIGH_MEM_START + n <= high);
}

static int hvm_rst_domain(struct hvm_rst *st, const struct saverec *r, uint64_t nr_pages,
			  int nr_vcpus, char *err, size_t errlen)
{
	struct hvm_save_dom *s = &st->dom;
	struct src c = {r->data, r->len, 0};
	uint64_t hole = HVM_HOLE_GPA >> 12, low = nr_pages < hole ? nr_pages : hole;
	struct srb none = {0}; /* not written: the fields come from c */

	hvm_save_dom_fields(s, 0, &none, &c);
	if (c.bad || c.left || s->nparams != HVM_NR_PARAMS)
		HVM_BAD("hvm-domain record: %u bytes", r->len);
	if (s->nr_pages != nr_pages || s->nr_vcpus != (uint32_t)nr_vcpus)
		HVM_BAD("image of %llu frames and %u vCPUs, domain of %llu and %d",
			(unsigned long long)s->nr_pages, s->nr_vcpus, (unsigned long long)nr_pages,
			nr_vcpus);
	if (s->low_pages != low || s->high_pages != nr_pages - low)
		HVM_BAD("hvm-domain record: RAM of %llu+%llu frames around the hole",
			(unsigned long long)s->low_pages, (unsigned long long)s->high_pages);
	if (s->flags & ~HVM_SAVE_MAPPED)
		HVM_BAD("hvm-domain record: unknown flags %#x", s->flags);
	if (s->cur_pages > s->max_pages || s->max_pages > (1ull << 32))
		HVM_BAD("hvm-domain record: %llu pages (max %llu)",
			(unsigned long long)s->cur_pages, (unsigned long long)s->max_pages);
	if (s->store_mfn != HVM_SPECIAL_PFN(HVM_SPECIALPAGE_XENSTORE) ||
	    s->console_mfn != HVM_SPECIAL_PFN(HVM_SPECIALPAGE_CONSOLE) ||
	    s->params[HVM_PARAM_STORE_PFN] != s->store_mfn ||
	    s->params[HVM_PARAM_CONSOLE_PFN] != s->console_mfn)
		HVM_BAD("hvm-domain record: store and console frames %#llx, %#llx",
			(unsigned long long)s->store_mfn, (unsigned long long)s->console_mfn);
	if (s->console_port == 0 || s->console_port >= EVTCHN_2L_NR_CHANNELS ||
	    s->store_port == 0 || s->store_port >= EVTCHN_2L_NR_CHANNELS ||
	    s->console_port == s->store_port ||
	    s->params[HVM_PARAM_STORE_EVTCHN] != s->store_port ||
	    s->params[HVM_PARAM_CONSOLE_EVTCHN] != s->console_port)
		HVM_BAD("hvm-domain record: ports %u (console) and %u (store)", s->console_port,
			s->store_port);
	if ((s->hypercall_page &&
	     (s->hypercall_page & 0xfff || !hvm_rst_in_ram(s, s->hypercall_page, 4096))) ||
	    !hvm_rst_in_ram(s, s->start_info, 1))
		HVM_BAD("hvm-domain record: hypercall page %#llx, start info %#llx",
			(unsigned long long)s->hypercall_page, (unsigned long long)s->start_info);
	if ((s->flags & HVM_SAVE_MAPPED) &&
	    (s->shinfo_gpa & 0xfff || s->shinfo_gpa >= (1ull << 40)))
		HVM_BAD("hvm-domain record: shared_info at %#llx",
			(unsigned long long)s->shinfo_gpa);
	if (s->params[HVM_PARAM_ACPI_IOPORTS_LOCATION] > 1 ||
	    s->params[HVM_PARAM_TRIPLE_FAULT_REASON] > SHUTDOWN_soft_reset)
		HVM_BAD("hvm-domain record: parameters ACPI_IOPORTS_LOCATION %llu, "
			"TRIPLE_FAULT_REASON %llu",
			(unsigned long long)s->params[HVM_PARAM_ACPI_IOPORTS_LOCATION],
			(unsigned long long)s->params[HVM_PARAM_TRIPLE_FAULT_REASON]);
	if (s->pm_elapsed_ns > (1ull << 62) || s->sci_level > 1 || s->wire_forced > 1 ||
	    s->nmi_pending >> s->nr_vcpus || s->rtc_index > 0x7f)
		HVM_BAD("hvm-domain record: platform state out of range (PM timer %llu ns, SCI "
			"%u, NMIs %#x, RTC index %#x)",
			(unsigned long long)s->pm_elapsed_ns, s->sci_level, s->nmi_pending,
			s->rtc_index);
	for (int i = 0; i < 4; i++)
		if (s->link_route[i] > 15 || s->link_asserted[i] > 32 * 4)
			HVM_BAD("hvm-domain record: PCI link %d routed to %u, %u pins", i,
				s->link_route[i], s->link_asserted[i]);
	return 0;
}

static int hvm_rst_vcpu(const struct saverec *r, uint32_t nr_vcpus, uint32_t *id, char *err,
			size_t errlen)
{
	struct src c = {r->data, r->len, 0};
	uint32_t online, init, mp, lsz, dsz;

	*id = src_u32(&c);
	online = src_u32(&c);
	init = src_u32(&c);
	mp = src_u32(&c);
	lsz = src_u32(&c);
	dsz = src_u32(&c);
	if (lsz != sizeof(struct kvm_lapic_state) || dsz != sizeof(struct kvm_debugregs))
		HVM_BAD("hvm-vcpu record: LAPIC of %u and debug registers of %u bytes (KVM's: "
			"%zu, %zu)",
			lsz, dsz, sizeof(struct kvm_lapic_state), sizeof(struct kvm_debugregs));
	src_bytes(&c, lsz);
	src_bytes(&c, dsz);
	if (c.bad || c.left)
		HVM_BAD("hvm-vcpu record: %u bytes", r->len);
	if (*id >= nr_vcpus || online > 1 || init > 1 || mp > KVM_MP_STATE_AP_RESET_HOLD)
		HVM_BAD("hvm-vcpu record: vCPU %u: online %u, initialised %u, mp_state %u", *id,
			online, init, mp);
	return 0;
}

static int hvm_rst_irqchip(const struct saverec *r, char *err, size_t errlen)
{
	struct src c = {r->data, r->len, 0};
	uint32_t csz = src_u32(&c), psz = src_u32(&c);

	if (csz != sizeof(struct kvm_irqchip) || psz != sizeof(struct kvm_pit_state2) ||
	    r->len != 8 + 3 * csz + psz)
		HVM_BAD("hvm-irqchip record: chips of %u and a PIT of %u bytes in %u", csz, psz,
			r->len);
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_irqchip chip;

		memcpy(&chip, r->data + 8 + i * csz, sizeof(chip));
		if (chip.chip_id != i)
			HVM_BAD("hvm-irqchip record: chip %u is chip %u", i, chip.chip_id);
	}
	return 0;
}

/* Where frame gfn is in the populated bitmap; -1 if outside both ranges. */
static int64_t hvm_rst_index(const struct hvm_rst *s, uint64_t gfn)
{
	if (gfn >= s->hole_gfn && gfn - s->hole_gfn < s->hole_pages)
		return (int64_t)(gfn - s->hole_gfn);
	if (gfn >= s->top_gfn && gfn - s->top_gfn < s->top_pages)
		return (int64_t)(s->hole_pages + gfn - s->top_gfn);
	return -1;
}

static int hvm_rst_bit(const struct hvm_rst *s, int64_t i)
{
	return s->populated->data[32 + i / 8] >> (i % 8) & 1;
}

/* The frames past RAM: ranges as this domain has them, at most
 * HVM_HOLE_RUNS runs (a KVM slot each), every saved frame populated and
 * named once, in order. */
static int hvm_rst_hole(struct hvm_rst *s, char *err, size_t errlen)
{
	struct src c = {s->populated->data, s->populated->len, 0};
	uint64_t hi = HVM_HIGH_MEM_START >> 12, total, runs = 0, count = 0, last = 0;
	int have_last = 0;

	s->hole_gfn = s->dom.low_pages;
	s->hole_pages = (HVM_REGION_GPA >> 12) - s->hole_gfn;
	s->top_gfn = hi + s->dom.high_pages;
	s->top_pages = s->dom.high_pages ? HVM_TOP_PAGES : 0;
	total = s->hole_pages + s->top_pages;
	if (src_u64(&c) != s->hole_gfn || src_u64(&c) != s->hole_pages ||
	    src_u64(&c) != s->top_gfn || src_u64(&c) != s->top_pages || c.bad ||
	    c.left != (total + 7) / 8)
		HVM_BAD("hvm-populated record: %u bytes, not this domain's ranges",
			s->populated->len);
	for (uint64_t i = 0; i < total; i++) {
		int bit = hvm_rst_bit(s, (int64_t)i);

		count += (uint64_t)bit;
		if (bit && (i == 0 || i == s->hole_pages || !hvm_rst_bit(s, (int64_t)i - 1)))
			runs++;
	}
	for (uint64_t i = total; i < ((total + 7) & ~7ull); i++)
		if (hvm_rst_bit(s, (int64_t)i))
			HVM_BAD("hvm-populated record: bits past the end");
	if (runs > HVM_HOLE_RUNS || s->dom.nr_pages + count > s->dom.max_pages)
		HVM_BAD("hvm-populated record: %llu frames in %llu runs (at most %d runs, "
			"maxmem %llu)",
			(unsigned long long)count, (unsigned long long)runs, HVM_HOLE_RUNS,
			(unsigned long long)s->dom.max_pages);
	for (unsigned f = 0; f < s->nframes; f++) {
		const struct saverec *r = s->frames[f];
		struct src fc = {r->data, r->len, 0};
		uint64_t n = src_u64(&fc);

		if (n == 0 || n > HVM_SAVE_CHUNK || fc.left != n * (8 + 4096))
			HVM_BAD("hvm-frames record %u: %llu frames in %u bytes", f,
				(unsigned long long)n, r->len);
		for (uint64_t k = 0; k < n; k++) {
			uint64_t gfn = src_u64(&fc);
			int64_t i = hvm_rst_index(s, gfn);

			if (i < 0 || !hvm_rst_bit(s, i) || (have_last && gfn <= last))
				HVM_BAD("hvm-frames record %u: frame %#llx not populated or out "
					"of order",
					f, (unsigned long long)gfn);
			last = gfn;
			have_last = 1;
		}
	}
	return 0;
}

static int hvm_rst_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

/* The moved ranges (an old image has none): each from frames populated
 * in one piece, to a place with nothing there (no RAM, keeld's region or
 * populated frame) below 2^40 frames, no two overlapping anywhere. */
static int hvm_rst_relocs(struct hvm_rst *s, char *err, size_t errlen)
{
	const struct saverec *r = s->relocs;
	uint64_t e[HVM_RELOCS][3]; /* gfn, from, pages */
	uint32_t n;

	if (r->len < 8)
		HVM_BAD("hvm-relocs record: %u bytes", r->len);
	memcpy(&n, r->data, 4);
	if (n > HVM_RELOCS || r->len != 8 + n * 24)
		HVM_BAD("hvm-relocs record: %u ranges in %u bytes (at most %d)", n, r->len,
			HVM_RELOCS);
	memcpy(e, r->data + 8, n * 24);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t to = e[i][0], from = e[i][1], pages = e[i][2];
		int64_t f0 = hvm_rst_index(s, from);

		if (!pages || pages > HVM_VRAM_MAX || to >= HVM_GFN_LIMIT ||
		    pages > HVM_GFN_LIMIT - to || f0 < 0)
			HVM_BAD("hvm-relocs record: range %u (%llu frames from %#llx to %#llx) out "
				"of bounds",
				i, (unsigned long long)pages, (unsigned long long)from,
				(unsigned long long)to);
		for (uint64_t k = 0; k < pages; k++)
			if (hvm_rst_index(s, from + k) != f0 + (int64_t)k ||
			    !hvm_rst_bit(s, f0 + (int64_t)k))
				HVM_BAD("hvm-relocs record: range %u's frame %#llx is not populated",
					i, (unsigned long long)(from + k));
		if (hvm_rst_overlap(to, pages, 0, s->dom.low_pages) ||
		    hvm_rst_overlap(to, pages, HVM_HIGH_MEM_START >> 12, s->dom.high_pages) ||
		    hvm_rst_overlap(to, pages, HVM_REGION_GPA >> 12, HVM_REGION_PAGES))
			HVM_BAD("hvm-relocs record: range %u moved over RAM or keeld's region (gfn "
				"%#llx)",
				i, (unsigned long long)to);
		for (uint64_t k = 0; k < pages; k++) {
			int64_t f = hvm_rst_index(s, to + k);

			if (f >= 0 && hvm_rst_bit(s, f))
				HVM_BAD("hvm-relocs record: range %u moved over populated frame %#llx",
					i, (unsigned long long)(to + k));
		}
		for (uint32_t j = 0; j < i; j++)
			if (hvm_rst_overlap(to, pages, e[j][0], e[j][2]) ||
			    hvm_rst_overlap(from, pages, e[j][1], e[j][2]))
				HVM_BAD("hvm-relocs record: ranges %u and %u overlap", j, i);
	}
	return 0;
}
static int hvm_rst_parse(const struct saverec *recs, unsigned n, uint64_t nr_pages, int nr_vcpus,
			 struct hvm_rst *s, char *err, size_t errlen)
{
	const struct saverec *dom = NULL;
	uint32_t id;
	int r;

	memset(s, 0, sizeof(*s));
	if (nr_vcpus < 1 || nr_vcpus > DOMAIN_MAX_VCPUS)
		HVM_BAD("%d vCPUs", nr_vcpus);
	for (unsigned i = 0; i < n; i++) {
		const struct saverec *rec = &recs[i];
		const struct saverec **slot = NULL;

		switch (rec->type) {
		case SAVEREC_HVM_DOMAIN:
			slot = &dom;
			break;
		case SAVEREC_HVM_IRQCHIP:
			slot = &s->irqchip;
			break;
		case SAVEREC_HVM_REGION:
			slot = &s->region;
			break;
		case SAVEREC_HVM_POPULATED:
			slot = &s->populated;
			break;
		case SAVEREC_HVM_RELOCS:
			slot = &s->relocs;
			break;
		case SAVEREC_HVM_FRAMES:
		case SAVEREC_HVM_VCPU:
		case SAVEREC_VCPU_KVM:
			break;
		case SAVEREC_GNTTAB:
			continue; /* the grant table's own */
		default:
			HVM_BAD("record %u (%s) is not an HVM domain's", i,
				saverec_name(rec->type));
		}
		if (rec->version != 1) {
			snprintf(err, errlen, "%s record version %u not supported",
				 saverec_name(rec->type), rec->version);
			return -EPROTO;
		}
		if (rec->type == SAVEREC_HVM_FRAMES) {
			s->frames[s->nframes++] = rec;
			continue;
		}
		if (!slot)
			continue;
		if (*slot)
			HVM_BAD("two %s records", saverec_name(rec->type));
		*slot = rec;
	}
	if (!dom || !s->irqchip || !s->region || !s->populated)
		HVM_BAD("a record is missing (hvm-domain %d, hvm-irqchip %d, hvm-region %d, "
			"hvm-populated %d)",
			!!dom, !!s->irqchip, !!s->region, !!s->populated);
	r = hvm_rst_domain(s, dom, nr_pages, nr_vcpus, err, errlen);
	if (r == 0)
		r = hvm_rst_irqchip(s->irqchip, err, errlen);
	if (r == 0)
		r = hvm_rst_hole(s, err, errlen);
	if (r == 0 && s->relocs)
		r = hvm_rst_relocs(s, err, errlen);
	if (r < 0)
		return r;
	if (s->region->len != 8 + HVM_REGION_SIZE ||
	    ((const uint32_t *)(const void *)s->region->data)[0] != HVM_REGION_PAGES)
		HVM_BAD("hvm-region record: %u bytes", s->region->len);
	for (unsigned i = 0; i < n; i++) {
		const struct saverec *rec = &recs[i];
		const struct saverec **slot;

		if (rec->type == SAVEREC_VCPU_KVM) {
			r = kvm_save_check_vcpu(rec, &hvm_save_msrs, &id, err, errlen);
			if (r == 0 && id >= s->dom.nr_vcpus)
				HVM_BAD("vcpu-kvm record for vCPU %u", id);
			slot = r == 0 ? &s->kvm[id] : NULL;
		} else if (rec->type == SAVEREC_HVM_VCPU) {
			r = hvm_rst_vcpu(rec, s->dom.nr_vcpus, &id, err, errlen);
			slot = r == 0 ? &s->vcpu[id] : NULL;
		} else {
			continue;
		}
		if (r < 0)
			return r;
		if (*slot)
			HVM_BAD("two %s records for vCPU %u", saverec_name(rec->type), id);
		*slot = rec;
	}
	for (uint32_t k = 0; k < s->dom.nr_vcpus; k++)
		if (!s->kvm[k] || !s->vcpu[k])
			HVM_BAD("vCPU %u's records are missing", k);
	return 0;
}

int hvm_restore_check(const struct saverec *recs, unsigned n, uint64_t nr_pages, int nr_vcpus,
		      char *err, size_t errlen)
{
	struct hvm_rst *s = malloc(sizeof(*s));
	int r = s ? hvm_rst_parse(recs, n, nr_pages, nr_vcpus, s, err, errlen) : -ENOMEM;

	free(s);
	return r;
}

/* The populated frames past RAM, each maximal run one KVM slot, then the
 * saved contents. */
static int hvm_rst_apply_hole(struct domain *d, const struct hvm_rst *s)
{
	struct hvm_domain *h = d->hvm;
	uint64_t total = h->hole_pages + h->top_pages;
	int r;

	memcpy(h->hole_populated, s->populated->data + 32, (total + 7) / 8);
	for (uint64_t i = 0; i < total;) {
		uint64_t end = i, lim = i < h->hole_pages ? h->hole_pages : total, gfn;

		if (!hvm_rst_bit(s, (int64_t)i)) {
			i++;
			continue;
		}
		while (end < lim && hvm_rst_bit(s, (int64_t)end))
			end++;
		gfn = i < h->hole_pages ? h->hole_gfn + i : h->top_gfn + i - h->hole_pages;
		r = kvm_vm_add_memory(&d->vm, gfn << 12, (end - i) << 12, h->hole + (i << 12));
		if (r < 0)
			return r;
		h->runs[h->nr_runs++] = (struct hvm_hole_run){gfn, end - i, d->vm.nslots - 1};
		i = end;
	}
	for (unsigned f = 0; f < s->nframes; f++) {
		const struct saverec *rec = s->frames[f];
		uint64_t n;

		memcpy(&n, rec->data, 8);
		for (uint64_t k = 0; k < n; k++) {
			uint64_t gfn;

			memcpy(&gfn, rec->data + 8 + k * 8, 8);
			memcpy(h->hole + ((uint64_t)hvm_rst_index(s, gfn) << 12),
			       rec->data + 8 + n * 8 + k * 4096, 4096);
		}
	}
	return 0;
}

/* The device model's moves again, from the frames just populated. */
static int hvm_rst_apply_relocs(struct domain *d, const struct saverec *rec)
{
	uint32_t n;
	int r = 0;

	memcpy(&n, rec->data, 4);
	for (uint32_t i = 0; i < n && r == 0; i++) {
		uint64_t e[3]; /* gfn, from, pages */

		memcpy(e, rec->data + 8 + i * 24, sizeof(e));
		r = hvm_relocate_memory(d, e[2], e[1], e[0]);
	}
	return r;
}

static void hvm_rst_apply_platform(struct domain *d, const struct hvm_save_dom *s)
{
	struct hvm_domain *h = d->hvm;

	memcpy(h->params, s->params, sizeof(h->params));
	h->hypercall_page = s->hypercall_page;
	h->start_info = s->start_info;
	h->entry = s->entry;
	h->pci_cf8 = s->pci_cf8;
	pthread_mutex_lock(&h->ioreq_lock);
	__atomic_store_n(&h->pm_base_ns, hvm_now_ns() - s->pm_elapsed_ns, __ATOMIC_RELEASE);
	h->pm_tmr_half = s->pm_tmr_half;
	__atomic_store_n(&h->pm1a_sts, s->pm1a_sts, __ATOMIC_RELEASE);
	__atomic_store_n(&h->pm1a_en, s->pm1a_en, __ATOMIC_RELEASE);
	h->sci_level = (int)s->sci_level;
	memcpy(h->link_route, s->link_route, sizeof(h->link_route));
	for (int i = 0; i < 4; i++)
		h->link_asserted[i] = s->link_asserted[i];
	h->intx_level[0] = s->intx_level[0];
	h->intx_level[1] = s->intx_level[1];
	pthread_mutex_unlock(&h->ioreq_lock);
	h->nmi_pending = s->nmi_pending;
	h->wire_lvt0 = s->wire_lvt0;
	h->wire_forced = (int)s->wire_forced;
	pthread_mutex_lock(&h->rtc.lock);
	memcpy(h->rtc.regs, s->rtc_regs, HVM_RTC_REGS);
	h->rtc.index = s->rtc_index;
	h->rtc.c_raised = s->rtc_c_raised;
	h->rtc.offset_s = s->rtc_offset_s;
	h->rtc.frozen_s = s->rtc_frozen_s;
	h->rtc.last_c_ns = s->rtc_last_c_ns;
	pthread_mutex_unlock(&h->rtc.lock);
}

static int hvm_rst_apply_vcpu(struct vcpu *v, const struct saverec *kvm, const struct saverec *rec)
{
	struct kvm_lapic_state *lapic = malloc(sizeof(*lapic));
	struct kvm_debugregs dr;
	struct kvm_mp_state mp;
	int r;

	if (!lapic)
		return -ENOMEM;
	memcpy(&mp.mp_state, rec->data + 12, 4);
	memcpy(lapic, rec->data + 24, sizeof(*lapic));
	memcpy(&dr, rec->data + 24 + sizeof(*lapic), sizeof(dr));
	v->online = (int)rec->data[4];
	v->initialised = (int)rec->data[8];
	r = hvm_vcpu_set_cpuid(v);
	if (r == 0)
		r = kvm_save_apply_vcpu(&v->kvm, kvm);
	if (r == 0 &&
	    (ioctl(v->kvm.fd, KVM_SET_MP_STATE, &mp) < 0 ||
	     ioctl(v->kvm.fd, KVM_SET_LAPIC, lapic) < 0 || kvm_debugregs_set(&v->kvm, &dr) < 0))
		r = -EINVAL;
	free(lapic);
	return r;
}

static int hvm_rst_apply(struct domain *d, const struct hvm_rst *s)
{
	const struct hvm_save_dom *dm = &s->dom;
	struct kvm_pit_state2 pit;
	int r;

	d->cur_pages = dm->cur_pages;
	d->max_pages = dm->max_pages;
	d->store_mfn = dm->store_mfn;
	d->console_mfn = dm->console_mfn;
	memcpy(d->shim, s->region->data + 8, HVM_REGION_SIZE);
	/* the device model makes its server anew: no old requests */
	memset(d->shim + HVM_SAVE_IOREQ_OFF, 0, HVM_NR_IOREQ_SERVER_PAGES * 4096ULL);
	r = evtchn_reset_for_resume(d, dm->store_port, dm->console_port);
	if (r == 0 && (dm->flags & HVM_SAVE_MAPPED))
		r = hvm_map_shared_info(d, dm->shinfo_gpa);
	if (r == 0)
		r = hvm_rst_apply_hole(d, s);
	if (r == 0 && s->relocs)
		r = hvm_rst_apply_relocs(d, s->relocs);
	if (r < 0)
		return r;
	hvm_rst_apply_platform(d, dm);
	/* the chips before the vCPUs' LAPICs, as QEMU orders them */
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_irqchip chip;

		memcpy(&chip, s->irqchip->data + 8 + i * sizeof(chip), sizeof(chip));
		if (ioctl(d->vm.vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return -EINVAL;
	}
	memcpy(&pit, s->irqchip->data + 8 + 3 * sizeof(struct kvm_irqchip), sizeof(pit));
	if (ioctl(d->vm.vm_fd, KVM_SET_PIT2, &pit) < 0)
		return -EINVAL;
	for (int k = 0; k < d->nr_vcpus && r == 0; k++)
		r = hvm_rst_apply_vcpu(&d->vcpus[k], s->kvm[k], s->vcpu[k]);
	if (r < 0)
		return r;
	/* the platform's timer threads look at their next moment anew */
	pthread_mutex_lock(&d->hvm->rtc.lock);
	hvm_ticker_kick(&d->hvm->rtc.irq8, !!(dm->rtc_regs[HVM_RTC_REG_B] & HVM_RTC_B_IRQS));
	pthread_mutex_unlock(&d->hvm->rtc.lock);
	pthread_mutex_lock(&d->hvm->pm_lock);
	hvm_ticker_kick(&d->hvm->pm_tmr, !!(dm->pm1a_en & HVM_PM1_TMR_EN));
	pthread_mutex_unlock(&d->hvm->pm_lock);
	return 0;
}

int hvm_restore(struct domain *d, const struct saverec *recs, unsigned n, const void *shim,
		size_t shim_size)
{
	struct hvm_rst *s = malloc(sizeof(*s));
	char err[256];
	int r = s ? hvm_rst_parse(recs, n, d->nr_pages, d->nr_vcpus, s, err, sizeof(err)) : -ENOMEM;

	(void)shim, (void)shim_size;
	if (r < 0 && s)
		domain_log(d, "restore refused: %s", err);
	if (r == 0)
		r = hvm_rst_apply(d, s);
	if (r == 0)
		hvlog("d%d: hvm: restored from d%u's saved state (PM timer at %llu ms)", d->domid,
		      s->dom.old_domid, (unsigned long long)(s->dom.pm_elapsed_ns / 1000000));
	free(s);
	return r;
}

/* Back to work, paused for xl to unpause: after a restore, or in place
 * after a save (xl save -c): nothing was handed to the guest, so a
 * cancelled and a fresh resume are the same. */
int hvm_resume(struct domain *d, int cancel)
{
	(void)cancel;
	pthread_mutex_lock(&d->lock);
	d->state = DOM_PAUSED;
	d->shutdown_reason = 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}
