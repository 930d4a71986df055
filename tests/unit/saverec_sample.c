/*
 * A hand-written keeld state (saverec_sample.h).
 */
#include <linux/kvm.h>
#include <string.h>

#include "../../hypervisor/pv/pv_domain.h"
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
	p = (struct srb){0};
	srb_u32(&p, t->vcpu_id);
	srb_u32(&p, sizeof(struct kvm_regs));
	srb_u32(&p, sizeof(struct kvm_sregs));
	srb_u32(&p, sizeof(struct kvm_xsave));
	srb_u32(&p, sizeof(struct kvm_xcrs));
	srb_u32(&p, sizeof(struct kvm_vcpu_events));
	srb_u32(&p, 8);
	srb_u32(&p, 0);
	srb_bytes(&p, NULL,
		  sizeof(struct kvm_regs) + sizeof(struct kvm_sregs) + sizeof(struct kvm_xsave) +
			  sizeof(struct kvm_xcrs) + sizeof(struct kvm_vcpu_events));
	for (int i = 0; i < 8; i++) {
		srb_u32(&p, tsr_msrs[i]);
		srb_u64(&p, 0);
	}
	saverec_put(o, SAVEREC_VCPU_KVM, 1, &p);
	srb_free(&p);
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
