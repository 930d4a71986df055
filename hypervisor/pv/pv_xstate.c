/*
 * The vector units a PV guest is offered, as Xen's PV CPUID policy offers
 * them: XSAVE and the host's user state components (x87, SSE, AVX, AVX-512's
 * opmask and upper ZMM halves), AVX/AVX2/FMA/F16C and the AVX-512 family
 * where the host has them; no XSAVES (a ring-0 instruction, and supervisor
 * state keeld does not manage), no MPX, PKRU or AMX.  OSXSAVE is what Xen
 * shows: the guest kernel's enlightened CPUID sees the host's (Linux looks
 * for XSAVE and OSXSAVE there before it sets CR4.OSXSAVE at all), guest user
 * code sees the guest's CR4.
 *
 * The guest kernel runs in ring 3, so its CR4 write and its XSETBV are #GPs
 * that keeld emulates: CR4.OSXSAVE is kept per vCPU, XSETBV is checked as
 * the hardware and Xen check it (XCR0 only, x87 always, SSE under AVX,
 * AVX-512's three components together and only with AVX, nothing the
 * policy does not offer: else #GP; #UD without CR4.OSXSAVE) and loaded
 * into the KVM vCPU, whose XSAVE area and XCRs the save records carry.
 */
#include <cpuid.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pv_vcpu.h"
#include "pv_xstate.h"

#define XCR0_X87    (1ull << 0)
#define XCR0_SSE    (1ull << 1)
#define XCR0_YMM    (1ull << 2)
#define XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */

static uint64_t pv_xstate_host_mask = ~0ull; /* not probed yet */

/* The components the host enables (its XCR0) that the policy offers; 0 when
 * the host has no usable XSAVE. */
uint64_t pv_xstate_offered(void)
{
	uint64_t m = __atomic_load_n(&pv_xstate_host_mask, __ATOMIC_ACQUIRE);
	unsigned a, b, c, d, lo, hi;

	if (m != ~0ull)
		return m;
	m = 0;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 26)) && (c & (1u << 27))) {
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		m = ((uint64_t)hi << 32 | lo) & (XCR0_X87 | XCR0_SSE | XCR0_YMM | XCR0_AVX512);
		if (!(m & XCR0_YMM) || (m & XCR0_AVX512) != XCR0_AVX512)
			m &= ~XCR0_AVX512;
		if ((m & (XCR0_X87 | XCR0_SSE)) != (XCR0_X87 | XCR0_SSE))
			m = 0;
	}
	__atomic_store_n(&pv_xstate_host_mask, m, __ATOMIC_RELEASE);
	return m;
}

void pv_xstate_cpuid_leaf1(struct vcpu *v, int kernel_view, uint32_t *c)
{
	uint64_t m = pv_xstate_offered();

	*c &= ~((1u << 12) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29));
	if (!m)
		return;
	*c |= 1u << 26;
	if (kernel_view || v->pv->cr4_osxsave)
		*c |= 1u << 27;
	if (m & XCR0_YMM) {
		uint32_t a, b, hc, d;

		__cpuid(1, a, b, hc, d);
		*c |= hc & ((1u << 12) | (1u << 28) | (1u << 29)); /* FMA, AVX, F16C */
	}
}

void pv_xstate_cpuid_leaf7(uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	uint64_t m = pv_xstate_offered();
	uint32_t ha, hb, hc, hd;

	__cpuid_count(7, sub, ha, hb, hc, hd);
	if (sub == 1) {
		/* AVX-VNNI, AVX512_BF16 */
		*a = ha & (((m & XCR0_YMM) ? 1u << 4 : 0) | ((m & XCR0_AVX512) ? 1u << 5 : 0));
		return;
	}
	if (m & XCR0_YMM)
		*b |= hb & (1u << 5); /* AVX2 */
	if (m & XCR0_AVX512) {
		*b |= hb & ((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) |
			    (1u << 28) | (1u << 30) | (1u << 31));
		*c |= hc & ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
		*d |= hd & ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23));
	}
	if (m & XCR0_YMM)
		*c |= hc & ((1u << 9) | (1u << 10)); /* VAES, VPCLMULQDQ (VEX forms) */
	*c |= hc & (1u << 8);			     /* GFNI */
	(void)a;
}

/* The standard-format XSAVE area size for the components in mask: the end
 * of the last one (the host's offsets), at least the legacy area and
 * header. */
static uint32_t pv_xstate_size(uint64_t mask)
{
	uint32_t size = 576, a, b, c, d;

	for (unsigned i = 2; i < 63; i++)
		if (mask & (1ull << i)) {
			__cpuid_count(0xd, i, a, b, c, d);
			if (a + b > size)
				size = a + b;
		}
	return size;
}

/* Leaf 0xd: the offered components, the sizes for the vCPU's XCR0 (EBX)
 * and for all offered (ECX), XSAVEOPT and XGETBV1 but not XSAVEC (Linux
 * would then size a compacted area from subleaf 1's EBX, which counts the
 * host's supervisor state) nor XSAVES; each offered component's subleaf as
 * the host has it. */
void pv_xstate_cpuid_leafd(struct vcpu *v, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			   uint32_t *d)
{
	uint64_t m = pv_xstate_offered();

	if (!m || sub >= 63 || (sub >= 2 && !(m & (1ull << sub)))) {
		*a = *b = *c = *d = 0;
		return;
	}
	__cpuid_count(0xd, sub, *a, *b, *c, *d);
	if (sub == 0) {
		*a = (uint32_t)m;
		*d = (uint32_t)(m >> 32);
		*b = pv_xstate_size(v->pv->xcr0 ? v->pv->xcr0 : XCR0_X87 | XCR0_SSE);
		*c = pv_xstate_size(m);
	} else if (sub == 1) {
		*a &= (1u << 0) | (1u << 2); /* XSAVEOPT, XGETBV1 */
		*b = *c = *d = 0;
	}
}

void pv_xstate_cr4_write(struct vcpu *v, uint64_t cr4)
{
	v->pv->cr4_osxsave = pv_xstate_offered() && (cr4 & PV_CR4_OSXSAVE);
}

/* XSETBV (0f 01 d1) from the guest kernel: bytes consumed, -1 for #GP,
 * PV_XSETBV_UD for #UD. */
int pv_xstate_xsetbv(struct vcpu *v, uint32_t index, uint64_t val)
{
	struct kvm_xcrs x = {.nr_xcrs = 1};
	uint64_t m = pv_xstate_offered();

	if (!m || !v->pv->cr4_osxsave)
		return PV_XSETBV_UD;
	if (index != 0 || (val & ~m) || !(val & XCR0_X87) ||
	    ((val & XCR0_YMM) && !(val & XCR0_SSE)) ||
	    ((val & XCR0_AVX512) && ((val & XCR0_AVX512) != XCR0_AVX512 || !(val & XCR0_YMM))))
		return -1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = val;
	if (ioctl(v->kvm.fd, KVM_SET_XCRS, &x) < 0)
		return -1;
	v->pv->xcr0 = val;
	return 0;
}

/* After a restore: the guest's XCR0 from the KVM vCPU (the VCPU_KVM record
 * carried it); CR4.OSXSAVE was set if the guest ever enabled more than x87,
 * which only a guest with OSXSAVE can. */
void pv_xstate_restored(struct vcpu *v)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	v->pv->xcr0 = XCR0_X87;
	if (ioctl(v->kvm.fd, KVM_GET_XCRS, &x) == 0)
		for (unsigned i = 0; i < x.nr_xcrs; i++)
			if (x.xcrs[i].xcr == 0)
				v->pv->xcr0 = x.xcrs[i].value;
	v->pv->cr4_osxsave = pv_xstate_offered() && (v->pv->xcr0 & ~XCR0_X87);
}
