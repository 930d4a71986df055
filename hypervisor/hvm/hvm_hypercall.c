/*
 * Xen's hypercalls from an HVM guest.  The hypercall page keeld writes
 * when the guest writes Xen's MSR holds one 32-byte stub per hypercall,
 * `mov $nr, %eax; out %eax, $0xe1; ret`: this host's KVM has no Xen
 * support, so a `vmcall` would never reach keeld (hypervisor/README.md).
 * Arguments are Xen's HVM registers (32-bit guests: ebx, ecx, edx, esi,
 * edi; 64-bit: rdi, rsi, rdx, r10, r8), pointers are the guest's own
 * addresses (guest-physical with paging off), copied with bounds checks.
 * Only a guest in ring 0 may call, as Xen's HVM hypercalls (else -EPERM).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "hvm_domain.h"

#define MEMOP_EXTENT_SHIFT 6 /* memory_op's cmd: sub-op in the low 6 bits */
#define MEMOP_CMD_MASK	   ((1u << MEMOP_EXTENT_SHIFT) - 1)
#define HVM_TSS32_SIZE	   104 /* a 32-bit TSS: the least VM86_TSS_SIZED takes */

struct hvm_hcall_ctx {
	struct vcpu *v;
	int mode64;
};

#define HVM_HC(name) static long hvm_hc_##name(struct hvm_hcall_ctx *c, const uint64_t *a)

static int hvm_copy_string(struct vcpu *v, uint64_t dst, const char *s, size_t size)
{
	char buf[1024] = {0};

	if (size > sizeof(buf))
		return -XEN_EINVAL;
	snprintf(buf, size, "%s", s);
	return guest_copy_to(v, dst, buf, size) < 0 ? -XEN_EFAULT : 0;
}

HVM_HC(xen_version)
{
	switch (a[0]) {
	case XENVER_version:
		return (4 << 16) | 17;
	case XENVER_extraversion:
		return hvm_copy_string(c->v, a[1], ".0-keel", 16);
	case XENVER_compile_info:
		return hvm_copy_string(c->v, a[1], "keel", 140);
	case XENVER_capabilities:
		return hvm_copy_string(c->v, a[1], "hvm-3.0-x86_32 hvm-3.0-x86_64", 1024);
	case XENVER_changeset:
		return hvm_copy_string(c->v, a[1], "keel", 64);
	case XENVER_get_features: {
		uint32_t fi[2]; /* submap_idx, submap */

		if (guest_copy_from(c->v, fi, a[1], sizeof(fi)) < 0)
			return -XEN_EFAULT;
		fi[1] = 0;
		return guest_copy_to(c->v, a[1], fi, sizeof(fi)) < 0 ? -XEN_EFAULT : 0;
	}
	case XENVER_pagesize:
		return 4096;
	case XENVER_guest_handle: {
		/* zeros, as the PV kind answers: the handle is the toolstack's
		 * (ctl/), outside the HVM kind's reach */
		uint8_t h[16] = {0};

		return guest_copy_to(c->v, a[1], h, sizeof(h)) < 0 ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/* Which parameters a guest may read and set about itself, as Xen 4.17's
 * hvm_allow_get_param / hvm_allow_set_param: 0, -EPERM (the toolstack's
 * and device model's) or -EINVAL (deprecated). */
static int hvm_param_guest_may(uint32_t index, int set)
{
	switch (index) {
	case HVM_PARAM_CALLBACK_IRQ:
	case HVM_PARAM_VM86_TSS:
	case HVM_PARAM_VM86_TSS_SIZED:
	case HVM_PARAM_ACPI_IOPORTS_LOCATION:
	case HVM_PARAM_VM_GENERATION_ID_ADDR:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_EVTCHN:
	case HVM_PARAM_X87_FIP_WIDTH:
		return 0;
	case HVM_PARAM_STORE_PFN:
	case HVM_PARAM_CONSOLE_PFN:
	case HVM_PARAM_ALTP2M:
		return set ? -XEN_EPERM : 0;
	case HVM_PARAM_PAE_ENABLED:
	case HVM_PARAM_DM_DOMAIN:
	case HVM_PARAM_MEMORY_EVENT_CR0:
	case HVM_PARAM_MEMORY_EVENT_CR3:
	case HVM_PARAM_MEMORY_EVENT_CR4:
	case HVM_PARAM_MEMORY_EVENT_INT3:
	case HVM_PARAM_NESTEDHVM:
	case HVM_PARAM_MEMORY_EVENT_SINGLE_STEP:
	case HVM_PARAM_BUFIOREQ_EVTCHN:
	case HVM_PARAM_MEMORY_EVENT_MSR:
		return -XEN_EINVAL;
	default:
		return -XEN_EPERM;
	}
}

/* Xen's hvm_set_param checks for what a guest may set; the value is kept
 * (CALLBACK_IRQ has no upcall behind it yet). */
static long hvm_param_set(struct vcpu *v, uint32_t index, uint64_t value)
{
	struct domain *d = v->dom;

	switch (index) {
	case HVM_PARAM_ACPI_IOPORTS_LOCATION:
		return hvm_pm_set_location(d, value);
	case HVM_PARAM_X87_FIP_WIDTH:
		if (value != 0 && value != 4 && value != 8)
			return -XEN_EINVAL;
		break;
	case HVM_PARAM_VM86_TSS:
		if (value != (uint32_t)value) {
			domain_crash(d, "HVM_PARAM_VM86_TSS %#llx past 4 GiB",
				     (unsigned long long)value);
			return -XEN_EINVAL;
		}
		/* old hvmloaders: 128 bytes (Xen's VM86_TSS_UPDATED flag aside) */
		if (value)
			value |= 128ULL << 32;
		index = HVM_PARAM_VM86_TSS_SIZED;
		break;
	case HVM_PARAM_VM86_TSS_SIZED:
		if ((value >> 32) < HVM_TSS32_SIZE) {
			domain_crash(d, "HVM_PARAM_VM86_TSS_SIZED %#llx: smaller than a TSS",
				     (unsigned long long)value);
			return -XEN_EINVAL;
		}
		break;
	default:
		break;
	}
	d->hvm->params[index] = value;
	return 0;
}

HVM_HC(hvm_op)
{
	struct xen_hvm_param p;
	struct domain *d = c->v->dom;
	int r;

	if (a[0] != HVMOP_set_param && a[0] != HVMOP_get_param)
		return -XEN_ENOSYS;
	if (guest_copy_from(c->v, &p, a[1], sizeof(p)) < 0)
		return -XEN_EFAULT;
	if (p.domid != DOMID_SELF && p.domid != d->domid)
		return -XEN_EPERM; /* only the toolstack reaches other domains */
	if (p.index >= HVM_NR_PARAMS)
		return -XEN_EINVAL;
	r = hvm_param_guest_may(p.index, a[0] == HVMOP_set_param);
	if (r < 0)
		return r;
	if (a[0] == HVMOP_set_param)
		return hvm_param_set(c->v, p.index, p.value);
	p.value = d->hvm->params[p.index];
	return guest_copy_to(c->v, a[1], &p, sizeof(p)) < 0 ? -XEN_EFAULT : 0;
}

static long hvm_memory_map_op(struct hvm_hcall_ctx *c, uint64_t arg)
{
	struct hvm_memmap_entry map[4];
	struct xen_e820entry e[4];
	uint32_t nr;
	uint64_t buf;
	unsigned n = hvm_memory_map(c->v->dom, map, 4);

	if (c->mode64) {
		struct xen_memory_map64 m;

		if (guest_copy_from(c->v, &m, arg, sizeof(m)) < 0)
			return -XEN_EFAULT;
		nr = m.nr_entries;
		buf = m.buffer;
	} else {
		struct xen_memory_map32 m;

		if (guest_copy_from(c->v, &m, arg, sizeof(m)) < 0)
			return -XEN_EFAULT;
		nr = m.nr_entries;
		buf = m.buffer;
	}
	if (nr < n)
		return -XEN_EINVAL;
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct xen_e820entry){map[i].addr, map[i].size, map[i].type};
	if (guest_copy_to(c->v, buf, e, n * sizeof(e[0])) < 0)
		return -XEN_EFAULT;
	nr = n;
	return guest_copy_to(c->v, arg, &nr, sizeof(nr)) < 0 ? -XEN_EFAULT : 0;
}

/* XENMEM_add_to_physmap of the shared_info page (hvmloader puts it in
 * the MMIO hole, Linux in its own RAM): keeld's page becomes a KVM memory
 * slot of its own at the frame asked for, moved if asked again.  Only a
 * frame in the hole (not RAM, not keeld's region) in this slice. */
static long hvm_add_to_physmap(struct hvm_hcall_ctx *c, uint64_t arg)
{
	struct domain *d = c->v->dom;
	uint16_t domid;
	uint32_t space;
	uint64_t idx, gpfn, gpa;
	uint8_t raw[24];

	if (guest_copy_from(c->v, raw, arg, c->mode64 ? 24 : 16) < 0)
		return -XEN_EFAULT;
	memcpy(&domid, raw, 2);
	memcpy(&space, raw + 4, 4);
	if (c->mode64) {
		memcpy(&idx, raw + 8, 8);
		memcpy(&gpfn, raw + 16, 8);
	} else {
		uint32_t i32, g32;

		memcpy(&i32, raw + 8, 4);
		memcpy(&g32, raw + 12, 4);
		idx = i32;
		gpfn = g32;
	}
	if (domid != DOMID_SELF && domid != d->domid)
		return -XEN_EPERM;
	if (space != XENMAPSPACE_shared_info)
		return -XEN_ENOSYS; /* grant frames, gmfn: not in this slice */
	if (idx != 0)
		return -XEN_EINVAL;
	gpa = gpfn << 12;
	if (gpfn >= (1ULL << 20) || gpa < HVM_BELOW_4G_MMIO_START ||
	    (gpa >= HVM_REGION_GPA && gpa < HVM_REGION_GPA + d->shim_size))
		return -XEN_EINVAL;
	return hvm_map_shared_info(d, gpa) < 0 ? -XEN_EINVAL : 0;
}

/* XENMEM_populate_physmap for a translated guest, as Xen's: the list
 * holds the frames to populate; returns how many extents were done, and
 * stops at the first that cannot be (an unreadable list entry, memory
 * past max_pages, a frame in the RAM the domain was built with: keeld
 * cannot replace it, where Xen would).  Any domain but the
 * caller's is -EPERM; an unreadable argument, a bad extent order or a
 * continuation past the list is 0 extents, as Xen answers. */
static long hvm_populate_physmap(struct hvm_hcall_ctx *c, uint64_t cmd, uint64_t arg)
{
	struct domain *d = c->v->dom;
	uint64_t list, nr, start = cmd >> MEMOP_EXTENT_SHIFT, done;
	uint32_t order;
	uint16_t domid;

	if (c->mode64) {
		struct xen_memory_reservation r;

		if (guest_copy_from(c->v, &r, arg, sizeof(r)) < 0)
			return (long)start;
		list = r.extent_start, nr = r.nr_extents, order = r.extent_order, domid = r.domid;
	} else {
		struct xen_memory_reservation32 r;

		if (guest_copy_from(c->v, &r, arg, sizeof(r)) < 0)
			return (long)start;
		list = r.extent_start, nr = r.nr_extents, order = r.extent_order, domid = r.domid;
	}
	if (nr > (UINT32_MAX >> MEMOP_EXTENT_SHIFT) || start >= nr)
		return (long)start;
	if (domid != DOMID_SELF && domid != d->domid)
		return -XEN_EPERM;
	if (order > HVM_MAX_ORDER)
		return (long)start;
	for (done = start; done < nr; done++) {
		uint64_t gfn = 0, n = 1ULL << order;

		if (guest_copy_from(c->v, &gfn, list + done * (c->mode64 ? 8 : 4),
				    c->mode64 ? 8 : 4) < 0)
			break;
		if ((gfn & (n - 1)) ||
		    __atomic_load_n(&d->cur_pages, __ATOMIC_RELAXED) + n > d->max_pages)
			break;
		if (hvm_populate_extent(d, gfn, order) < 0)
			break;
	}
	return (long)done;
}

HVM_HC(memory_op)
{
	switch (a[0] & MEMOP_CMD_MASK) { /* the rest: a continuation's start extent */
	case XENMEM_memory_map:
		return a[0] == XENMEM_memory_map ? hvm_memory_map_op(c, a[1]) : -XEN_EINVAL;
	case XENMEM_add_to_physmap:
		return a[0] == XENMEM_add_to_physmap ? hvm_add_to_physmap(c, a[1]) : -XEN_EINVAL;
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation: {
		uint16_t domid;

		if (a[0] & ~(uint64_t)MEMOP_CMD_MASK)
			return -XEN_EINVAL;
		if (guest_copy_from(c->v, &domid, a[1], sizeof(domid)) < 0)
			return -XEN_EFAULT;
		if (domid != DOMID_SELF && domid != c->v->dom->domid)
			return -XEN_EPERM;
		return (long)(a[0] == XENMEM_current_reservation ? c->v->dom->cur_pages
								 : c->v->dom->max_pages);
	}
	case XENMEM_populate_physmap:
		return hvm_populate_physmap(c, a[0], a[1]);
	default:
		return -XEN_ENOSYS;
	}
}

HVM_HC(event_channel_op)
{
	return evtchn_do_op(c->v, a[0], a[1]);
}

/* SCHEDOP_poll for a guest with no upcall yet: wait for one of its ports
 * (or the timeout, guest system time in ns) on the domain's condition. */
static long hvm_sched_poll(struct hvm_hcall_ctx *c, uint64_t arg)
{
	struct vcpu *v = c->v;
	struct domain *d = v->dom;
	uint32_t nr, port;
	uint64_t ports, timeout;

	if (c->mode64) {
		uint64_t s[3]; /* ports, nr_ports (+pad), timeout */

		if (guest_copy_from(v, s, arg, sizeof(s)) < 0)
			return -XEN_EFAULT;
		ports = s[0];
		nr = (uint32_t)s[1];
		timeout = s[2];
	} else {
		uint32_t s[4]; /* ports, nr_ports, timeout (64-bit) */

		if (guest_copy_from(v, s, arg, sizeof(s)) < 0)
			return -XEN_EFAULT;
		ports = s[0];
		nr = s[1];
		timeout = s[2] | ((uint64_t)s[3] << 32);
	}
	if (nr != 1)
		return nr == 0 ? 0 : -XEN_EINVAL; /* one port is what hvmloader polls */
	if (guest_copy_from(v, &port, ports, sizeof(port)) < 0)
		return -XEN_EFAULT;
	(void)timeout; /* no guest clock in this slice: wakes every 50 ms */
	pthread_mutex_lock(&d->lock);
	v->blocked = 1;
	if (d->state == DOM_RUNNING && !d->dying && !evtchn_port_pending(d, port)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	}
	v->blocked = 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

HVM_HC(sched_op)
{
	switch (a[0]) {
	case SCHEDOP_yield:
		return 0;
	case SCHEDOP_shutdown: {
		uint32_t reason;

		if (guest_copy_from(c->v, &reason, a[1], sizeof(reason)) < 0)
			return -XEN_EFAULT;
		if (reason > SHUTDOWN_soft_reset)
			return -XEN_EINVAL;
		domain_shutdown(c->v->dom, (int)reason);
		return 0;
	}
	case SCHEDOP_poll:
		return hvm_sched_poll(c, a[1]);
	default:
		return -XEN_ENOSYS;
	}
}

struct hvm_hcall {
	const char *name;
	long (*fn)(struct hvm_hcall_ctx *c, const uint64_t *a);
};

static const struct hvm_hcall hvm_hcall_table[64] = {
	[__HYPERVISOR_memory_op] = {"memory_op", hvm_hc_memory_op},
	[__HYPERVISOR_xen_version] = {"xen_version", hvm_hc_xen_version},
	[__HYPERVISOR_sched_op] = {"sched_op", hvm_hc_sched_op},
	[__HYPERVISOR_event_channel_op] = {"event_channel_op", hvm_hc_event_channel_op},
	[__HYPERVISOR_hvm_op] = {"hvm_op", hvm_hc_hvm_op},
};

int hvm_hypercall(struct vcpu *v, struct kvm_regs *regs)
{
	struct hvm_hcall_ctx c = {v, 0};
	struct kvm_sregs s;
	uint64_t a[5], nr;
	long ret;

	if (kvm_sregs_get(&v->kvm, &s) < 0)
		return -1;
	c.mode64 = (s.efer & 0x400) && s.cs.l;
	if (c.mode64) {
		nr = regs->rax;
		a[0] = regs->rdi, a[1] = regs->rsi, a[2] = regs->rdx, a[3] = regs->r10,
		a[4] = regs->r8;
	} else {
		nr = regs->rax & 0xffffffffULL;
		a[0] = regs->rbx & 0xffffffffULL, a[1] = regs->rcx & 0xffffffffULL;
		a[2] = regs->rdx & 0xffffffffULL, a[3] = regs->rsi & 0xffffffffULL;
		a[4] = regs->rdi & 0xffffffffULL;
	}
	if (s.cs.dpl != 0 || (s.cr0 & 1) == 0) {
		ret = -XEN_EPERM; /* user mode (or real mode) may not call */
	} else if (nr >= 64 || !hvm_hcall_table[nr].fn) {
		uint64_t bit = 1ULL << (nr < 63 ? nr : 63);

		if (!(__atomic_fetch_or(&v->dom->enosys_logged, bit, __ATOMIC_RELAXED) & bit))
			domain_log(v->dom, "hvm hypercall %llu not implemented",
				   (unsigned long long)nr);
		ret = -XEN_ENOSYS;
	} else {
		ret = hvm_hcall_table[nr].fn(&c, a);
		if (v->dom->trace)
			domain_log(v->dom, "hvm hypercall %s(%#llx, %#llx) = %ld",
				   hvm_hcall_table[nr].name, (unsigned long long)a[0],
				   (unsigned long long)a[1], ret);
	}
	regs->rax = c.mode64 ? (uint64_t)ret : (uint64_t)(uint32_t)ret;
	return 0;
}

/* The hypercall-page MSR: value = page address | page index.  One page;
 * it must be RAM below the hole.  Each 32-byte slot: b8 <nr> (mov),
 * e7 e1 (out %eax, $0xe1), c3 (ret), the rest int3. */
int hvm_hypercall_page_write(struct vcpu *v, uint64_t val)
{
	struct domain *d = v->dom;
	uint64_t gpa = val & ~0xfffULL;
	uint8_t *p;

	if ((val & 0xfff) != 0)
		return -1; /* Xen: only page 0 of 1 (#GP) */
	if (gpa + 4096 > d->hvm->low_pages << 12)
		return -1;
	p = d->ram + gpa;
	memset(p, 0xcc, 4096);
	for (uint32_t nr = 0; nr < 128; nr++) {
		uint8_t *stub = p + nr * 32;

		stub[0] = 0xb8;
		memcpy(stub + 1, &nr, 4);
		stub[5] = 0xe7;
		stub[6] = HVM_PORT_HYPERCALL;
		stub[7] = 0xc3;
	}
	d->hvm->hypercall_page = gpa;
	domain_log(d, "hvm: hypercall page at %#llx", (unsigned long long)gpa);
	return 0;
}
