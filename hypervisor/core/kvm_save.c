/*
 * A vCPU's KVM registers as a save record (kvm_save.h), shared by every
 * kind's save.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_save.h"
#include "saverec.h"

struct kvm_save_msr_buf {
	struct kvm_msrs h;
	struct kvm_msr_entry e[KVM_SAVE_MAX_MSRS];
};

int kvm_save_vcpu(struct kvm_vcpu_ctx *k, int id, const struct kvm_save_msrs *m, struct srb *out)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave = calloc(1, sizeof(*xsave));
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_save_msr_buf *mb = calloc(1, sizeof(*mb));
	struct srb p = {0};
	int r = 0, got;

	if (!xsave || !mb || m->n > KVM_SAVE_MAX_MSRS) {
		free(xsave);
		free(mb);
		return -ENOMEM;
	}
	mb->h.nmsrs = m->n;
	for (unsigned i = 0; i < m->n; i++)
		mb->e[i].index = m->index[i];
	got = ioctl(k->fd, KVM_GET_MSRS, mb);
	if (kvm_regs_get(k, &regs) < 0 || kvm_sregs_get(k, &sregs) < 0 ||
	    ioctl(k->fd, KVM_GET_XSAVE, xsave) < 0 || ioctl(k->fd, KVM_GET_XCRS, &xcrs) < 0 ||
	    ioctl(k->fd, KVM_GET_VCPU_EVENTS, &events) < 0 || got < (int)m->min)
		r = -EIO;
	srb_u32(&p, (uint32_t)id);
	srb_u32(&p, sizeof(regs));
	srb_u32(&p, sizeof(sregs));
	srb_u32(&p, sizeof(*xsave));
	srb_u32(&p, sizeof(xcrs));
	srb_u32(&p, sizeof(events));
	srb_u32(&p, got > 0 ? (uint32_t)got : 0);
	srb_u32(&p, 0);
	srb_bytes(&p, &regs, sizeof(regs));
	srb_bytes(&p, &sregs, sizeof(sregs));
	srb_bytes(&p, xsave, sizeof(*xsave));
	srb_bytes(&p, &xcrs, sizeof(xcrs));
	srb_bytes(&p, &events, sizeof(events));
	for (int i = 0; i < got; i++) {
		srb_u32(&p, mb->e[i].index);
		srb_u64(&p, mb->e[i].data);
	}
	if (r == 0)
		saverec_put(out, SAVEREC_VCPU_KVM, 1, &p);
	srb_free(&p);
	free(xsave);
	free(mb);
	return r;
}

#define KVM_SAVE_BAD(...)                           \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

int kvm_save_check_vcpu(const struct saverec *r, const struct kvm_save_msrs *m, uint32_t *id,
			char *err, size_t errlen)
{
	struct src c = {r->data, r->len, 0};
	uint32_t sz[5], nmsrs;
	const size_t want[5] = {sizeof(struct kvm_regs), sizeof(struct kvm_sregs),
				sizeof(struct kvm_xsave), sizeof(struct kvm_xcrs),
				sizeof(struct kvm_vcpu_events)};

	*id = src_u32(&c);
	for (int i = 0; i < 5; i++)
		sz[i] = src_u32(&c);
	nmsrs = src_u32(&c);
	src_u32(&c);
	for (int i = 0; i < 5; i++)
		if (sz[i] != want[i])
			KVM_SAVE_BAD("vcpu-kvm record: register block %d is %u bytes, KVM's is %zu",
				     i, sz[i], want[i]);
	if (nmsrs < m->min || nmsrs > m->n)
		KVM_SAVE_BAD("vcpu-kvm record: %u MSRs", nmsrs);
	for (int i = 0; i < 5; i++)
		src_bytes(&c, sz[i]);
	for (uint32_t i = 0; i < nmsrs; i++) {
		if (src_u32(&c) != m->index[i] && !c.bad)
			KVM_SAVE_BAD("vcpu-kvm record: unexpected MSR in slot %u", i);
		src_u64(&c);
	}
	if (c.bad || c.left)
		KVM_SAVE_BAD("vcpu-kvm record: %u bytes", r->len);
	return 0;
}

int kvm_save_apply_vcpu(struct kvm_vcpu_ctx *k, const struct saverec *rec)
{
	struct src c = {rec->data, rec->len, 0};
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave = malloc(sizeof(*xsave));
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_save_msr_buf *mb = calloc(1, sizeof(*mb));
	uint32_t nmsrs;
	int r = 0;

	if (!xsave || !mb) {
		free(xsave);
		free(mb);
		return -ENOMEM;
	}
	src_bytes(&c, 24);
	nmsrs = src_u32(&c);
	src_u32(&c);
	memcpy(&regs, src_bytes(&c, sizeof(regs)), sizeof(regs));
	memcpy(&sregs, src_bytes(&c, sizeof(sregs)), sizeof(sregs));
	memcpy(xsave, src_bytes(&c, sizeof(*xsave)), sizeof(*xsave));
	memcpy(&xcrs, src_bytes(&c, sizeof(xcrs)), sizeof(xcrs));
	memcpy(&events, src_bytes(&c, sizeof(events)), sizeof(events));
	if (nmsrs > KVM_SAVE_MAX_MSRS)
		nmsrs = 0; /* checked before: cannot be */
	mb->h.nmsrs = nmsrs;
	for (uint32_t i = 0; i < nmsrs; i++) {
		mb->e[i].index = src_u32(&c);
		mb->e[i].data = src_u64(&c);
	}
	if (kvm_sregs_set(k, &sregs) < 0 || kvm_regs_set(k, &regs) < 0 ||
	    ioctl(k->fd, KVM_SET_XSAVE, xsave) < 0 || ioctl(k->fd, KVM_SET_XCRS, &xcrs) < 0 ||
	    ioctl(k->fd, KVM_SET_VCPU_EVENTS, &events) < 0 ||
	    ioctl(k->fd, KVM_SET_MSRS, mb) != (int)nmsrs)
		r = -EINVAL;
	free(xsave);
	free(mb);
	return r;
}
