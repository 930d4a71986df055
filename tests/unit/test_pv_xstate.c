/*
 * Unit tests of the vector units a PV guest is offered (hypervisor/pv/
 * pv_xstate.c) on a domain with no VM: the CPUID bits (XSAVE, OSXSAVE as
 * Xen shows it to the kernel and to user code, AVX only with its state),
 * leaf 0xd (the offered components, no XSAVES/XSAVEC, sizes), and every
 * refusal of an xsetbv (#UD without CR4.OSXSAVE, #GP for another XCR, no
 * x87, AVX without SSE, part of AVX-512, a component not offered).  The
 * accepted xsetbv reaches KVM and is shown by pv-linux (Debian enables
 * XCR0 0xe7 on both vCPUs).
 */
#include <cpuid.h>
#include <string.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/pv/pv_vcpu.h"
#include "../../hypervisor/pv/pv_xstate.h"
#include "unit.h"

static struct domain *d;
static struct vcpu *v;

static int test_pv_xstate_init(void)
{
	int err;

	d = domain_new(&pv_kind, "unit", 16, 1, DOMAIN_NO_KVM, &err);
	if (!d)
		return -1;
	v = &d->vcpus[0];
	hvlog_to_stderr = 0;
	return 0;
}

static int test_pv_xstate_cleanup(void)
{
	domain_free(d);
	return 0;
}

static void test_pv_xstate_cpuid(void)
{
	uint64_t m = pv_xstate_offered();
	uint32_t a, b, c, dx, hc = 0;

	v->pv->cr4_osxsave = 0;
	c = 0;
	pv_xstate_cpuid_leaf1(v, 1, &c);
	if (!m) {
		CU_ASSERT_EQUAL(c & ((1u << 26) | (1u << 27) | (1u << 28)), 0);
		return;
	}
	CU_ASSERT_EQUAL(m & 3, 3); /* x87 and SSE always */
	CU_ASSERT(c & (1u << 26)); /* XSAVE */
	CU_ASSERT(c & (1u << 27)); /* OSXSAVE: the kernel's view, as Xen leaks it */
	c = 0;
	pv_xstate_cpuid_leaf1(v, 0, &c);
	CU_ASSERT_FALSE(c & (1u << 27)); /* user code sees the guest's CR4 */
	pv_xstate_cr4_write(v, PV_CR4_OSXSAVE);
	c = 0;
	pv_xstate_cpuid_leaf1(v, 0, &c);
	CU_ASSERT(c & (1u << 27));
	/* AVX only with its state component, and only if the host has it */
	__get_cpuid(1, &a, &b, &hc, &dx);
	CU_ASSERT_EQUAL(!!(c & (1u << 28)), !!((m & 4) && (hc & (1u << 28))));
	/* a host CPUID bit outside the policy never leaks through */
	c = 1u << 12 | 1u << 29;
	pv_xstate_cpuid_leaf1(v, 1, &c);
	CU_ASSERT_EQUAL(c & (1u << 12), (m & 4) ? hc & (1u << 12) : 0);

	pv_xstate_cpuid_leafd(v, 0, &a, &b, &c, &dx);
	CU_ASSERT_EQUAL(a, (uint32_t)m);
	CU_ASSERT_EQUAL(dx, (uint32_t)(m >> 32));
	CU_ASSERT(c >= b && b >= 576);
	pv_xstate_cpuid_leafd(v, 1, &a, &b, &c, &dx);
	CU_ASSERT_EQUAL(a & ((1u << 1) | (1u << 3) | (1u << 4)), 0); /* no XSAVEC, XSAVES, XFD */
	CU_ASSERT_EQUAL(c | dx, 0);				     /* no XSS state */
	pv_xstate_cpuid_leafd(v, 9, &a, &b, &c, &dx);		     /* PKRU: not offered */
	CU_ASSERT_EQUAL(a | b | c | dx, 0);
	pv_xstate_cpuid_leafd(v, 17, &a, &b, &c, &dx); /* AMX tile config: not offered */
	CU_ASSERT_EQUAL(a | b | c | dx, 0);
	if (m & 4) {
		pv_xstate_cpuid_leafd(v, 2, &a, &b, &c, &dx);
		CU_ASSERT_EQUAL(a, 256); /* the YMM upper halves */
		CU_ASSERT_EQUAL(b, 576);
	}
	v->pv->cr4_osxsave = 0;
}

static void test_pv_xstate_xsetbv_refusals(void)
{
	uint64_t m = pv_xstate_offered();

	if (!m)
		return;
	v->pv->cr4_osxsave = 0;
	v->pv->xcr0 = 0;
	CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 3), PV_XSETBV_UD);
	pv_xstate_cr4_write(v, PV_CR4_OSXSAVE);
	CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 1, 3), -1);		    /* XCR1 and up */
	CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 2), -1);		    /* no x87 */
	CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 1ull << 9 | 3), -1); /* PKRU: not offered */
	CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 1ull << 63 | 3), -1);
	if (m & 4)
		CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 5), -1); /* AVX without SSE */
	if (m & 0xe0) {
		CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 0x27), -1); /* opmask alone */
		CU_ASSERT_EQUAL(pv_xstate_xsetbv(v, 0, 0xe3), -1); /* AVX-512 without AVX */
	}
	CU_ASSERT_EQUAL(v->pv->xcr0, 0); /* nothing was loaded */
	v->pv->cr4_osxsave = 0;
}

UNIT_SUITE(pv_xstate, test_pv_xstate_init, test_pv_xstate_cleanup, UNIT_TEST(test_pv_xstate_cpuid),
	   UNIT_TEST(test_pv_xstate_xsetbv_refusals))
