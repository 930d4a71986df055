/*
 * The hypercalls a PV domU may not use, answered as Xen 4.17 (default
 * x86 build: no XSM, so the dummy policy) answers an unprivileged domain.
 * Every Keel domain is a domU (the host is dom0), so none of them ever does
 * anything; what matters is the answer, and Xen checks what it can before
 * it checks privilege: a bad pointer is still -EFAULT, a wrong interface
 * version -EACCES, an unknown domain -ESRCH, then -EPERM.
 *
 * By number (the rest of 0..63 that Keel does not serve stay -ENOSYS):
 *   7 platform_op, 35 sysctl, 36 domctl, 37 kexec_op, 42 hypfs_op,
 *   48 mca, 49 paging_domctl_cont: -EPERM (after the checks above);
 *   41 dm_op: -EPERM on the caller's own domid, -ESRCH on an unknown one
 *     (DOMID_SELF included), -EINVAL on another (no HVM domains here);
 *   31 xenoprof_op (built by default): -EINVAL for an unknown op, -EPERM
 *     for the primary profiler's ops; the four a domU may use (init,
 *     get_buffer, enable/disable_virq) stay -ENOSYS, Keel has no profiler;
 *   40 xenpmu_op: -EOPNOTSUPP, Xen's answer with vPMU off (its default);
 *   27 xsm_op: -ENOSYS (the dummy policy's answer);
 *   38 tmem_op, 39 argo_op (CONFIG_ARGO is off by default): -ENOSYS, as
 *     for a number with no handler.
 */
#include <string.h>

#include "abi/xen.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

/* The interface versions of Xen 4.17's public headers. */
#define PV_SYSCTL_VERSION   0x00000015
#define PV_DOMCTL_VERSION   0x00000015
#define PV_PLATFORM_VERSION 0x03000001

/* The sizes Xen copies in before looking (header + 128-byte union). */
#define PV_SYSCTL_SIZE	 136
#define PV_DOMCTL_SIZE	 144
#define PV_PLATFORM_SIZE 136

/* Command numbers domctl treats before its domain look-up. */
#define PV_DOMCTL_createdomain	     1
#define PV_DOMCTL_getdomaininfo	     5
#define PV_DOMCTL_shadow_op	     10
#define PV_DOMCTL_assign_device	     37
#define PV_DOMCTL_test_assign_device 45
#define PV_DOMCTL_deassign_device    47
#define PV_DOMCTL_vm_event_op	     56

#define PV_XENOPROF_init	 0
#define PV_XENOPROF_enable_virq	 8
#define PV_XENOPROF_disable_virq 11
#define PV_XENOPROF_get_buffer	 14
#define PV_XENOPROF_last_op	 17

/* Whether Xen would find domain `domid`: the host is dom0; DOMID_SELF and
 * the other reserved ids name no domain in a by-id look-up. */
static int pv_domid_exists(uint16_t domid)
{
	return domid == 0 || domain_lookup(domid) != NULL;
}

/* Copy in the {cmd, interface_version, ...} header of a size-byte struct. */
static long pv_priv_copy(struct vcpu *v, uint64_t arg, size_t size, uint32_t hdr[3])
{
	uint8_t buf[PV_DOMCTL_SIZE];

	if (pv_copy_from_guest(v, buf, arg, size) < 0)
		return -XEN_EFAULT;
	memcpy(hdr, buf, 12);
	return 0;
}

long pv_hcall_sysctl(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5)
{
	uint32_t h[3];
	long r = pv_priv_copy(c->v, a1, PV_SYSCTL_SIZE, h);

	if (r < 0)
		return r;
	return h[1] != PV_SYSCTL_VERSION ? -XEN_EACCES : -XEN_EPERM;
}

long pv_hcall_platform_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5)
{
	uint32_t h[3];
	long r = pv_priv_copy(c->v, a1, PV_PLATFORM_SIZE, h);

	if (r < 0)
		return r;
	return h[1] != PV_PLATFORM_VERSION ? -XEN_EACCES : -XEN_EPERM;
}

long pv_hcall_domctl(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5)
{
	uint32_t h[3];
	uint16_t domid;
	long r = pv_priv_copy(c->v, a1, PV_DOMCTL_SIZE, h);

	if (r < 0)
		return r;
	if (h[1] != PV_DOMCTL_VERSION)
		return -XEN_EACCES;
	domid = (uint16_t)h[2];
	switch (h[0]) {
	case PV_DOMCTL_createdomain:
		return -XEN_EPERM; /* no domain looked up */
	case PV_DOMCTL_assign_device:
	case PV_DOMCTL_deassign_device:
		if (domid == DOMID_IO)
			return -XEN_EPERM;
		if (domid == DOMID_INVALID)
			return -XEN_ESRCH;
		break;
	case PV_DOMCTL_test_assign_device:
	case PV_DOMCTL_vm_event_op:
		if (domid == DOMID_INVALID)
			return -XEN_EPERM;
		break;
	case PV_DOMCTL_getdomaininfo:
		return -XEN_EPERM; /* an unknown domain is looked for later */
	}
	return pv_domid_exists(domid) ? -XEN_EPERM : -XEN_ESRCH;
}

long pv_hcall_paging_domctl_cont(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
				 uint64_t a4, uint64_t a5)
{
	uint32_t h[3];
	long r = pv_priv_copy(c->v, a1, PV_DOMCTL_SIZE, h);

	if (r < 0)
		return r;
	if (h[1] != PV_DOMCTL_VERSION || h[0] != PV_DOMCTL_shadow_op)
		return -XEN_EOPNOTSUPP;
	return pv_domid_exists((uint16_t)h[2]) ? -XEN_EPERM : -XEN_ESRCH;
}

/* kexec_op, hypfs_op and mca ask for privilege before anything else. */
long pv_hcall_eperm(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5)
{
	return -XEN_EPERM;
}

/* dm_op(domid, nr_bufs, bufs): at most 2 buffers of {handle, size}. */
long pv_hcall_dm_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5)
{
	uint64_t bufs[2 * 2];
	uint16_t domid = (uint16_t)a1;
	unsigned nr = (unsigned)a2;

	if (nr > 2)
		return -XEN_E2BIG;
	if (nr && pv_copy_from_guest(c->v, bufs, a3, nr * 16) < 0)
		return -XEN_EFAULT;
	if (!pv_domid_exists(domid))
		return -XEN_ESRCH;
	return domid == c->v->dom->domid ? -XEN_EPERM : -XEN_EINVAL;
}

long pv_hcall_xenoprof_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5)
{
	int op = (int)a1;

	if (op < 0 || op > PV_XENOPROF_last_op)
		return -XEN_EINVAL;
	if (op != PV_XENOPROF_init && op != PV_XENOPROF_enable_virq &&
	    op != PV_XENOPROF_disable_virq && op != PV_XENOPROF_get_buffer)
		return -XEN_EPERM;
	return -XEN_ENOSYS;
}

long pv_hcall_xenpmu_op(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			uint64_t a5)
{
	return -XEN_EOPNOTSUPP;
}
