/*
 * A hand-written keeld state (saverec_sample.h).
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/pv/pv_domain.h"
#include "abi/hvm.h"
#include "saverec_sample.h"

static const uint32_t tsr_msrs[8] = {0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
				     0xc0000102, 0xc0000103, 0x00000277, 0x00000176};

static void tsr_domain(struct srb *o, const struct tsr_opts *t)
{
	struct srb p = {0};

	srb_u32(&p, 1); /* vCPUs */
	srb_u32(&p, 1); /* flags: suspend_cancel */
	srb_u64(&p, TSR_PAGES);
	srb_u64(&p, TSR_PAGES);
	srb_u64(&p, TSR_PAGES);
	srb_u64(&p, 0); /* vm_assist */
	srb_u64(&p, 0); /* hypercall page */
	srb_u64(&p, t->console_mfn);
	srb_u64(&p, 2); /* store */
	srb_u64(&p, 3); /* start_info */
	srb_u64(&p, 5000000000ull);
	srb_u32(&p, 2); /* console port */
	srb_u32(&p, 1); /* store port */
	srb_u32(&p, 0); /* the vCPU that suspended */
	srb_u32(&p, 7); /* old domid */
	saverec_put(o, SAVEREC_DOMAIN, t->dom_version, &p);
	srb_free(&p);
}

/* A vcpu-kvm record (core/kvm_save.c): vCPU id, KVM's struct sizes, zeroed
 * state, then the n MSRs given, each with value 0. */
static void tsr_vcpu_kvm(struct srb *o, uint32_t id, const uint32_t *msrs, int n)
{
	struct srb p = {0};

	srb_u32(&p, id);
	srb_u32(&p, sizeof(struct kvm_regs));
	srb_u32(&p, sizeof(struct kvm_sregs));
	srb_u32(&p, sizeof(struct kvm_xsave));
	srb_u32(&p, sizeof(struct kvm_xcrs));
	srb_u32(&p, sizeof(struct kvm_vcpu_events));
	srb_u32(&p, (uint32_t)n);
	srb_u32(&p, 0);
	srb_bytes(&p, NULL,
		  sizeof(struct kvm_regs) + sizeof(struct kvm_sregs) + sizeof(struct kvm_xsave) +
			  sizeof(struct kvm_xcrs) + sizeof(struct kvm_vcpu_events));
	for (int i = 0; i < n; i++) {
		srb_u32(&p, msrs[i]);
		srb_u64(&p, 0);
	}
	saverec_put(o, SAVEREC_VCPU_KVM, 1, &p);
	srb_free(&p);
}

static void tsr_vcpu(struct srb *o, const struct tsr_opts *t)
{
	struct srb p = {0};

	srb_u32(&p, t->vcpu_id);
	for (int i = 0; i < 3; i++)
		srb_u32(&p, 1); /* online, initialised, kernel mode */
	srb_u32(&p, 0);		/* iopl */
	srb_u32(&p, 0);		/* fpu_ts */
	srb_u32(&p, 0);		/* GDT entries */
	srb_u32(&p, 0);
	srb_u64(&p, TSR_L4 << 12); /* kernel cr3 */
	srb_u64(&p, 0);		   /* user cr3 */
	srb_bytes(&p, NULL, 7 * 8 + 8 * 8 + 16 * 8 + 3 * 12 + 256 * 12);
	saverec_put(o, SAVEREC_VCPU_PV, 1, &p);
	srb_free(&p);
	tsr_vcpu_kvm(o, t->vcpu_id, tsr_msrs, 8);
	p = (struct srb){0};
	srb_u32(&p, t->vcpu_id);
	srb_u32(&p, 0);
	srb_bytes(&p, NULL, 0x9000); /* the shim's apply list and stack */
	saverec_put(o, SAVEREC_SHIM_VCPU, 1, &p);
	srb_free(&p);
}

void tsr_image(struct srb *o, const struct tsr_opts *t)
{
	struct srb p = {0};

	saverec_begin(o);
	tsr_domain(o, t);
	srb_u64(&p, TSR_PAGES);
	for (int i = 0; i < TSR_PAGES; i++) {
		uint8_t type = i == TSR_L4 ? PGT_l4 : i == 5 ? t->page_type_at5 : PGT_writable;

		srb_u8(&p, type);
		srb_u8(&p, i == TSR_L4);
		srb_u32(&p, 1);
	}
	saverec_put(o, SAVEREC_PAGE_TYPES, 1, &p);
	srb_free(&p);
	p = (struct srb){0};
	srb_u64(&p, TSR_PAGES);
	srb_bytes(&p, NULL, TSR_PAGES / 8);
	saverec_put(o, SAVEREC_RELEASED, 1, &p);
	srb_free(&p);
	tsr_vcpu(o, t);
	p = (struct srb){0};
	srb_bytes(&p, NULL, 4096);
	saverec_put(o, SAVEREC_SHARED_INFO, 1, &p);
	srb_free(&p);
	for (int i = 0; i < (t->skip_gdt ? 0 : t->dup_gdt ? 2 : 1); i++) {
		p = (struct srb){0};
		srb_bytes(&p, NULL, 14 * 4096);
		saverec_put(o, SAVEREC_GDT, 1, &p);
		srb_free(&p);
	}
	p = (struct srb){0};
	srb_u32(&p, 1);
	srb_u32(&p, 1);
	srb_bytes(&p, NULL, 4096);
	saverec_put(o, SAVEREC_GNTTAB, 1, &p);
	srb_free(&p);
	if (t->unknown_type) {
		p = (struct srb){0};
		srb_u32(&p, 0);
		saverec_put(o, 99, 1, &p);
		srb_free(&p);
	}
	saverec_end(o);
}

const struct tsr_opts tsr_good = {
	.console_mfn = 4, .dom_version = 1, .page_type_at5 = PGT_writable};

/* ---- an HVM domain's state ---- */

#define TSR_HVM_REGION_PAGES 64
#define TSR_HVM_HOLE_GFN     TSR_PAGES /* frames past RAM start at its end */
#define TSR_HVM_HOLE_PAGES   (HVM_END_SPECIAL_REGION - TSR_HVM_REGION_PAGES - TSR_HVM_HOLE_GFN)
#define TSR_HVM_POP	     0xfc000ULL /* hvmloader's frames: 3 populated */

/* the first ten MSRs of the HVM kind's list */
static const uint32_t tsr_hvm_msrs[10] = {0x174,      0x175,	  0x176,      0x277,
					  0x10,	      0xc0000081, 0xc0000082, 0xc0000083,
					  0xc0000084, 0xc0000102};

static void tsr_hvm_domain(struct srb *o, enum tsr_hvm_damage dmg)
{
	struct srb p = {0};
	uint64_t store = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_XENSTORE);
	uint64_t console = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_CONSOLE);
	uint32_t sport = 1, cport = dmg == TSR_HVM_PORTS ? 1 : 2;

	srb_u32(&p, 1); /* vCPUs */
	srb_u32(&p, 0); /* flags: shared_info not mapped */
	srb_u64(&p, TSR_PAGES);
	srb_u64(&p, TSR_PAGES + 3);
	srb_u64(&p, TSR_PAGES + 256); /* max */
	srb_u64(&p, TSR_PAGES);	      /* below the hole */
	srb_u64(&p, 0);		      /* above 4 GiB */
	srb_u32(&p, 7);		      /* old domid */
	srb_u32(&p, sport);
	srb_u32(&p, cport);
	srb_u32(&p, 0x100000); /* entry */
	srb_u64(&p, store);
	srb_u64(&p, console);
	srb_u64(&p, 0x80000); /* hypercall page */
	srb_u64(&p, 0x1000);  /* start info */
	srb_u64(&p, 0);	      /* shared_info */
	srb_u32(&p, 0);	      /* 0xcf8 */
	srb_u32(&p, HVM_NR_PARAMS);
	for (int i = 0; i < HVM_NR_PARAMS; i++)
		srb_u64(&p, i == HVM_PARAM_STORE_PFN	    ? store
			    : i == HVM_PARAM_CONSOLE_PFN    ? console
			    : i == HVM_PARAM_STORE_EVTCHN   ? sport
			    : i == HVM_PARAM_CONSOLE_EVTCHN ? cport
							    : 0);
	srb_u64(&p, 8000000000ull); /* PM timer: 8 s */
	srb_u64(&p, 0);
	srb_u16(&p, 0); /* PM1a status, enable */
	srb_u16(&p, 0x301);
	srb_u32(&p, 0);	    /* SCI */
	srb_u32(&p, 0);	    /* NMIs */
	srb_u32(&p, 0x700); /* LVT0 */
	srb_u32(&p, 1);
	for (int i = 0; i < 4; i++) {
		srb_u8(&p, (uint8_t)(i ? 0 : 11));
		srb_u32(&p, 0);
	}
	srb_u64(&p, 0);
	srb_u64(&p, 0);
	for (int i = 0; i < 14; i++)
		srb_u8(&p, i == 0x0b ? 0x02 : 0); /* RTC registers: B = 24 h */
	srb_u8(&p, dmg == TSR_HVM_RTC_INDEX ? 0x80 : 0x0c);
	srb_u8(&p, 0);
	srb_u64(&p, 0);
	srb_u64(&p, 0);
	srb_u64(&p, 1700000000000000000ull);
	saverec_put(o, SAVEREC_HVM_DOMAIN, 1, &p);
	srb_free(&p);
}

static void tsr_hvm_vcpu(struct srb *o, enum tsr_hvm_damage dmg)
{
	uint32_t msrs[10];
	struct srb p = {0};

	memcpy(msrs, tsr_hvm_msrs, sizeof(msrs));
	if (dmg == TSR_HVM_MSR)
		msrs[4] = 0x3a; /* not on the HVM kind's list */
	tsr_vcpu_kvm(o, 0, msrs, 10);
	srb_u32(&p, 0); /* id */
	srb_u32(&p, 1); /* online */
	srb_u32(&p, 1); /* initialised */
	srb_u32(&p, 0); /* KVM_MP_STATE_RUNNABLE */
	srb_u32(&p, sizeof(struct kvm_lapic_state) + (dmg == TSR_HVM_LAPIC_SIZE ? 8 : 0));
	srb_u32(&p, sizeof(struct kvm_debugregs));
	srb_bytes(&p, NULL, sizeof(struct kvm_lapic_state) + sizeof(struct kvm_debugregs));
	saverec_put(o, SAVEREC_HVM_VCPU, 1, &p);
	srb_free(&p);
}

static void tsr_hvm_chips(struct srb *o, enum tsr_hvm_damage dmg)
{
	struct srb p = {0};

	srb_u32(&p, sizeof(struct kvm_irqchip));
	srb_u32(&p, sizeof(struct kvm_pit_state2));
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_irqchip chip;

		memset(&chip, 0, sizeof(chip));
		chip.chip_id = dmg == TSR_HVM_CHIP_ID && i == 1 ? 2 : i;
		srb_bytes(&p, &chip, sizeof(chip));
	}
	srb_bytes(&p, NULL, sizeof(struct kvm_pit_state2));
	saverec_put(o, SAVEREC_HVM_IRQCHIP, 1, &p);
	srb_free(&p);
}

static void tsr_hvm_hole(struct srb *o, enum tsr_hvm_damage dmg)
{
	uint64_t total = TSR_HVM_HOLE_PAGES, first = TSR_HVM_POP - TSR_HVM_HOLE_GFN;
	uint8_t *bits = calloc((total + 7) / 8, 1);
	struct srb p = {0};

	if (!bits) {
		o->err = -12;
		return;
	}
	for (uint64_t i = first; i < first + 3; i++)
		bits[i / 8] |= (uint8_t)(1 << (i % 8));
	srb_u64(&p, TSR_HVM_HOLE_GFN + (dmg == TSR_HVM_HOLE_RANGES));
	srb_u64(&p, total);
	srb_u64(&p, (HVM_HIGH_MEM_START >> 12)); /* no RAM above 4 GiB: none past it */
	srb_u64(&p, 0);
	srb_bytes(&p, bits, (total + 7) / 8);
	saverec_put(o, SAVEREC_HVM_POPULATED, 1, &p);
	srb_free(&p);
	free(bits);
	p = (struct srb){0};
	srb_u64(&p, 2);
	srb_u64(&p, TSR_HVM_POP);
	srb_u64(&p, TSR_HVM_POP + (dmg == TSR_HVM_UNPOPULATED ? 3 : 2));
	srb_bytes(&p, NULL, 2 * 4096);
	saverec_put(o, SAVEREC_HVM_FRAMES, 1, &p);
	srb_free(&p);
}

/* The device model moved two of the populated frames (its video RAM to
 * the framebuffer, as QEMU does) to 0xf1000: nothing there. */
static void tsr_hvm_relocs(struct srb *o, enum tsr_hvm_damage dmg)
{
	uint32_t n = dmg == TSR_HVM_RELOC_OVERLAP ? 2 : dmg == TSR_HVM_RELOC_COUNT ? 5 : 1;
	struct srb p = {0};

	srb_u32(&p, n);
	srb_u32(&p, 0);
	for (uint32_t i = 0; i < n; i++) {
		srb_u64(&p, dmg == TSR_HVM_RELOC_RAM ? 0x10 : 0xf1000 + i);
		srb_u64(&p, TSR_HVM_POP + (dmg == TSR_HVM_RELOC_UNPOP ? 2 : 0));
		srb_u64(&p, 2);
	}
	saverec_put(o, SAVEREC_HVM_RELOCS, 1, &p);
	srb_free(&p);
}

void tsr_hvm_image(struct srb *o, enum tsr_hvm_damage dmg)
{
	struct srb p = {0};

	saverec_begin(o);
	tsr_hvm_domain(o, dmg);
	tsr_hvm_vcpu(o, dmg);
	if (dmg != TSR_HVM_NO_IRQCHIP)
		tsr_hvm_chips(o, dmg);
	srb_u32(&p, TSR_HVM_REGION_PAGES);
	srb_u32(&p, 0);
	srb_bytes(&p, NULL, TSR_HVM_REGION_PAGES * 4096);
	saverec_put(o, SAVEREC_HVM_REGION, 1, &p);
	srb_free(&p);
	tsr_hvm_hole(o, dmg);
	tsr_hvm_relocs(o, dmg);
	p = (struct srb){0};
	srb_u32(&p, 1);
	srb_u32(&p, 1);
	srb_bytes(&p, NULL, 4096);
	saverec_put(o, SAVEREC_GNTTAB, 1, &p);
	srb_free(&p);
	if (dmg == TSR_HVM_PV_RECORD) {
		p = (struct srb){0};
		srb_bytes(&p, NULL, 4096);
		saverec_put(o, SAVEREC_SHARED_INFO, 1, &p);
		srb_free(&p);
	}
	saverec_end(o);
}
