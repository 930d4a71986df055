/*
 * Xen's hypercalls as keeld serves them, dispatched through one table by
 * number.  Every pointer argument is a guest virtual address read or written
 * through the guest's own page tables (pv_copy_*), so a bad pointer is
 * -EFAULT, never a keeld fault.  The MMU ones live in pv_mm.c.
 */
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "../gnttab/gnttab.h"
#include "pv_mm.h"
#include "pv_vcpu.h"

#define HC(name)                                                                             \
	static long hc_##name(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, \
			      uint64_t a4, uint64_t a5)

#define KEEL_XEN_MAJOR 4
#define KEEL_XEN_MINOR 17

HC(set_trap_table)
{
	struct vcpu *v = c->v;
	struct trap_info ti;

	if (!a1) {
		memset(v->pv->traps, 0, sizeof(v->pv->traps));
		return 0;
	}
	for (int i = 0; i < 256; i++) {
		if (pv_copy_from_guest(v, &ti, a1 + i * sizeof(ti), sizeof(ti)) < 0)
			return -XEN_EFAULT;
		if (ti.address == 0)
			break;
		v->pv->traps[ti.vector] = ti;
	}
	return 0;
}

/* Page types are the domain's: one vCPU changes them at a time. */
HC(mmu_update)
{
	long r;

	pthread_mutex_lock(&c->v->dom->mm_lock);
	r = pv_mmu_update(c->v, a1, a2, a3, a4);
	if (pv_mm_commit(c->v) < 0)
		r = -XEN_EIO;
	pthread_mutex_unlock(&c->v->dom->mm_lock);
	return r;
}

HC(mmuext_op)
{
	long r;

	pthread_mutex_lock(&c->v->dom->mm_lock);
	r = pv_mmuext_op(c->v, a1, a2, a3, a4);
	if (pv_mm_commit(c->v) < 0)
		r = -XEN_EIO;
	pthread_mutex_unlock(&c->v->dom->mm_lock);
	return r;
}

HC(update_va_mapping)
{
	long r;

	pthread_mutex_lock(&c->v->dom->mm_lock);
	r = pv_update_va_mapping(c->v, a1, a2, a3);
	if (pv_mm_commit(c->v) < 0)
		r = -XEN_EIO;
	pthread_mutex_unlock(&c->v->dom->mm_lock);
	return r;
}

HC(set_gdt)
{
	struct vcpu *v = c->v;
	uint64_t frames[16];
	unsigned nframes = (a2 * 8 + 4095) / 4096;
	uint64_t *gdt = (uint64_t *)(v->dom->shim + SHIM_OFF_GDT);

	if (a2 > FIRST_RESERVED_GDT_ENTRY)
		return -XEN_EINVAL;
	if (pv_copy_from_guest(v, frames, a1, nframes * 8) < 0)
		return -XEN_EFAULT;
	for (unsigned i = 0; i < nframes; i++)
		if (!pv_mm_owns(v->dom, frames[i]) ||
		    (v->dom->pv->pages[frames[i]].type_count &&
		     v->dom->pv->pages[frames[i]].type != PGT_seg_desc))
			return -XEN_EINVAL;
	/* The guest's descriptors are copied into the live GDT; ring-0 and
	 * system descriptors are not allowed in. */
	for (unsigned i = 0; i < a2; i++) {
		uint64_t desc;

		memcpy(&desc, v->dom->ram + (frames[i / 512] << 12) + (i % 512) * 8, 8);
		if ((desc & (1ULL << 47)) && (((desc >> 45) & 3) != 3 || !(desc & (1ULL << 44))))
			desc = 0;
		gdt[i] = desc;
	}
	memcpy(v->pv->gdt_frames, frames, nframes * 8);
	v->pv->gdt_ents = a2;
	return 0;
}

HC(update_descriptor)
{
	struct vcpu *v = c->v;
	uint64_t gpa = a1, mfn = gpa >> 12;

	if ((gpa & 7) || !pv_mm_owns(v->dom, mfn))
		return -XEN_EINVAL;
	if (v->dom->pv->pages[mfn].type_count && v->dom->pv->pages[mfn].type != PGT_seg_desc &&
	    v->dom->pv->pages[mfn].type != PGT_writable)
		return -XEN_EINVAL;
	/* Present descriptors must be user (DPL 3) code/data. */
	if ((a2 & (1ULL << 47)) && (((a2 >> 45) & 3) != 3 || !(a2 & (1ULL << 44))))
		return -XEN_EINVAL;
	memcpy(v->dom->ram + gpa, &a2, 8);
	for (unsigned i = 0; i < 16; i++)
		if (v->pv->gdt_ents && v->pv->gdt_frames[i] == mfn &&
		    i * 512 + (gpa & 0xfff) / 8 < v->pv->gdt_ents)
			((uint64_t *)(v->dom->shim + SHIM_OFF_GDT))[i * 512 + (gpa & 0xfff) / 8] =
				a2;
	return 0;
}

HC(stack_switch)
{
	c->v->pv->kernel_ss = a1;
	c->v->pv->kernel_sp = a2;
	return 0;
}

static long pv_register_callback(struct vcpu *v, unsigned type, uint64_t addr, int mask)
{
	struct callback_info *cb;

	switch (type) {
	case CALLBACKTYPE_event:
		cb = &v->pv->cb_event;
		break;
	case CALLBACKTYPE_failsafe:
		cb = &v->pv->cb_failsafe;
		break;
	case CALLBACKTYPE_syscall:
		cb = &v->pv->cb_syscall;
		break;
	case CALLBACKTYPE_nmi: {
		/* As Xen's register_guest_nmi_callback: the NMI's trap-table
		 * entry, entered with events masked; unregister clears it. */
		struct trap_info *t = &v->pv->traps[2];

		if (addr >= HYPERVISOR_VIRT_START && addr < HYPERVISOR_VIRT_END)
			return -XEN_EINVAL;
		*t = (struct trap_info){0};
		if (addr) {
			t->vector = 2;
			t->cs = FLAT_KERNEL_CS;
			t->address = addr;
			t->flags = 4; /* TI_SET_IF */
		}
		return 0;
	}
	case CALLBACKTYPE_syscall32:
	case CALLBACKTYPE_sysenter:
		return 0; /* accepted; never delivered on this platform */
	default:
		return -XEN_EINVAL;
	}
	if (addr >= HYPERVISOR_VIRT_START && addr < HYPERVISOR_VIRT_END)
		return -XEN_EINVAL;
	cb->address = addr;
	cb->mask_events = mask;
	return 0;
}

HC(set_callbacks)
{
	long r = pv_register_callback(c->v, CALLBACKTYPE_event, a1, 0);

	if (r == 0)
		r = pv_register_callback(c->v, CALLBACKTYPE_failsafe, a2, 0);
	if (r == 0)
		r = pv_register_callback(c->v, CALLBACKTYPE_syscall, a3, 0);
	return r;
}

HC(callback_op)
{
	struct callback_register cb;

	if (a1 == CALLBACKOP_register) {
		if (pv_copy_from_guest(c->v, &cb, a2, sizeof(cb)) < 0)
			return -XEN_EFAULT;
		return pv_register_callback(c->v, cb.type, cb.address,
					    cb.flags & CALLBACKF_mask_events);
	}
	if (a1 == CALLBACKOP_unregister) {
		struct callback_unregister u;

		if (pv_copy_from_guest(c->v, &u, a2, sizeof(u)) < 0)
			return -XEN_EFAULT;
		return pv_register_callback(c->v, u.type, 0, 0);
	}
	return -XEN_ENOSYS;
}

HC(fpu_taskswitch)
{
	c->v->pv->fpu_ts = a1 != 0;
	return 0;
}

/* Xen's prototypes take the register number as an int. */
HC(set_debugreg)
{
	return pv_set_debugreg(c->v, (unsigned)a1, a2);
}

HC(get_debugreg)
{
	uint64_t val;
	long r = pv_get_debugreg(c->v, (unsigned)a1, &val);

	return r < 0 ? r : (long)val;
}

/* Give frames back (decrease_reservation: a frame no page table or GDT
 * holds) or take them (increase_reservation / populate_physmap: a frame
 * given back or never populated -- the domain's space reaches maxmem=
 * while it starts with memory= -- its MFN written to the extent list;
 * populate_physmap also points the M2P entry at the GPFN the list held,
 * and takes that very frame when it is free).  Never past max_pages: Xen
 * refuses the over-allocation and reports what it did.  Order-0 extents;
 * returns the number of extents done, as Xen does. */
long pv_memory_reservation(struct vcpu *v, uint64_t op, uint64_t arg)
{
	struct domain *d = v->dom;
	struct xen_memory_reservation res;
	uint64_t done, gpfn = 0, scan = 0;

	if (pv_copy_from_guest(v, &res, arg, sizeof(res)) < 0)
		return -XEN_EFAULT;
	if (res.domid != DOMID_SELF && res.domid != d->domid)
		return -XEN_ESRCH;
	if (res.extent_order != 0)
		return -XEN_EINVAL;
	if (res.nr_extents > (1 << 20))
		return -XEN_EINVAL;
	/* grant pins are looked at under the peers lock, taken before mm_lock */
	evtchn_peers_lock();
	pthread_mutex_lock(&d->mm_lock);
	for (done = 0; done < res.nr_extents; done++) {
		uint64_t mfn, va = res.extent_start + done * 8;

		if (op == XENMEM_decrease_reservation) {
			/* a frame another guest or dom0 still maps is not given back */
			if (pv_copy_from_guest(v, &mfn, va, 8) < 0 || !pv_mm_owns(d, mfn) ||
			    d->pv->pages[mfn].type_count || d->pv->pages[mfn].pinned ||
			    gnttab_frame_pinned(d, mfn))
				break;
			d->released[mfn / 8] |= 1 << (mfn % 8);
			d->cur_pages--;
			continue;
		}
		if (d->cur_pages >= d->max_pages)
			break;
		if (op == XENMEM_populate_physmap && pv_copy_from_guest(v, &gpfn, va, 8) < 0)
			break;
		if (op == XENMEM_populate_physmap && gpfn < d->nr_pages &&
		    ((d->released[gpfn / 8] >> (gpfn % 8)) & 1)) {
			mfn = gpfn;
		} else {
			while (scan < d->nr_pages && !((d->released[scan / 8] >> (scan % 8)) & 1))
				scan++;
			if (scan == d->nr_pages)
				break;
			mfn = scan;
		}
		memset(d->ram + (mfn << PV_PAGE_SHIFT), 0, PV_PAGE_SIZE);
		if (pv_copy_to_guest(v, va, &mfn, 8) < 0)
			break;
		if (op == XENMEM_populate_physmap)
			memcpy(d->shim + SHIM_OFF_M2P + mfn * 8, &gpfn, 8);
		d->released[mfn / 8] &= ~(1 << (mfn % 8));
		d->cur_pages++;
	}
	pthread_mutex_unlock(&d->mm_lock);
	evtchn_peers_unlock();
	return done;
}

HC(memory_op)
{
	struct vcpu *v = c->v;
	struct domain *d = v->dom;

	switch (a1) {
	case XENMEM_maximum_ram_page:
		return d->nr_pages - 1;
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation: {
		uint16_t domid;

		if (pv_copy_from_guest(v, &domid, a2, 2) < 0)
			return -XEN_EFAULT;
		if (domid != DOMID_SELF && domid != d->domid)
			return -XEN_ESRCH;
		return a1 == XENMEM_current_reservation ? d->cur_pages : d->max_pages;
	}
	case XENMEM_decrease_reservation:
	case XENMEM_increase_reservation:
	case XENMEM_populate_physmap:
		return pv_memory_reservation(v, a1, a2);
	case XENMEM_machphys_mapping: {
		struct xen_machphys_mapping m = {KEEL_M2P_VIRT, KEEL_M2P_VIRT + d->nr_pages * 8,
						 d->nr_pages - 1};

		return pv_copy_to_guest(v, a2, &m, sizeof(m)) < 0 ? -XEN_EFAULT : 0;
	}
	case XENMEM_memory_map: {
		struct xen_memory_map map;
		struct xen_e820_entry e = {0, d->nr_pages << 12, XEN_E820_RAM};

		if (pv_copy_from_guest(v, &map, a2, sizeof(map)) < 0)
			return -XEN_EFAULT;
		if (map.nr_entries < 1)
			return -XEN_EINVAL;
		if (pv_copy_to_guest(v, map.buffer, &e, sizeof(e)) < 0)
			return -XEN_EFAULT;
		map.nr_entries = 1;
		return pv_copy_to_guest(v, a2, &map, sizeof(map)) < 0 ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/*
 * As Xen's do_multicall for a 64-bit PV guest: a nested multicall is
 * -EINVAL in its entry; an iret entry runs (its frame on the guest stack
 * at the multicall, as for the iret stub) and ends the batch there, the
 * vCPU going on where the iret frame says, with the frame's rax as the
 * multicall's answer.  Its result slot is written as best effort only.
 */
HC(multicall)
{
	struct vcpu *v = c->v;

	if (a2 > 4096)
		return -XEN_EINVAL;
	for (uint64_t i = 0; i < a2; i++) {
		struct multicall_entry e;
		struct pv_hcall_ctx sub = {v, c->regs, 0};
		uint64_t slot = a1 + i * sizeof(e) + offsetof(struct multicall_entry, result);

		if (pv_copy_from_guest(v, &e, a1 + i * sizeof(e), sizeof(e)) < 0)
			return -XEN_EFAULT;
		if (e.op == __HYPERVISOR_multicall)
			e.result = -XEN_EINVAL;
		else
			e.result = pv_do_hypercall(&sub, e.op, e.args);
		if (sub.no_return) {
			(void)pv_copy_to_guest(v, slot, &e.result, 8);
			c->no_return = 1;
			return e.result;
		}
		if (pv_copy_to_guest(v, slot, &e.result, 8) < 0)
			return -XEN_EFAULT;
		if (v->dom->state != DOM_RUNNING)
			break;
	}
	return 0;
}

static long pv_copy_string(struct vcpu *v, uint64_t va, const char *s, size_t size)
{
	char buf[1024] = {0};

	strncpy(buf, s, sizeof(buf) - 1);
	return pv_copy_to_guest(v, va, buf, size) < 0 ? -XEN_EFAULT : 0;
}

HC(xen_version)
{
	struct vcpu *v = c->v;

	switch (a1) {
	case XENVER_version:
		return (KEEL_XEN_MAJOR << 16) | KEEL_XEN_MINOR;
	case XENVER_extraversion:
		return pv_copy_string(v, a2, ".0-keel", 16);
	case XENVER_compile_info:
		return pv_copy_string(v, a2, "keel", 140);
	case XENVER_capabilities:
		return pv_copy_string(v, a2, "xen-3.0-x86_64", 1024);
	case XENVER_changeset:
		return pv_copy_string(v, a2, "keel", 64);
	case XENVER_commandline:
		return pv_copy_string(v, a2, "", 1024);
	case XENVER_platform_parameters: {
		uint64_t start = HYPERVISOR_VIRT_START;

		return pv_copy_to_guest(v, a2, &start, 8) < 0 ? -XEN_EFAULT : 0;
	}
	case XENVER_get_features: {
		struct xen_feature_info fi;

		if (pv_copy_from_guest(v, &fi, a2, sizeof(fi)) < 0)
			return -XEN_EFAULT;
		fi.submap = 0;
		if (fi.submap_idx == 0)
			fi.submap = (1u << XENFEAT_mmu_pt_update_preserve_ad) |
				    (1u << XENFEAT_highmem_assist) |
				    (1u << XENFEAT_gnttab_map_avail_bits);
		return pv_copy_to_guest(v, a2, &fi, sizeof(fi)) < 0 ? -XEN_EFAULT : 0;
	}
	case XENVER_pagesize:
		return 4096;
	case XENVER_guest_handle: {
		uint8_t h[16] = {0};

		return pv_copy_to_guest(v, a2, h, 16) < 0 ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/*
 * console_io from a domU, as a Xen built with CONFIG_VERBOSE_DEBUG answers
 * it: writes go to the hypervisor log as "(dN) " lines (core/guest_log.c),
 * never to the guest's console, which is its xencons ring; anything else
 * (reading the hypervisor's serial input) is for privileged domains only.
 * Xen's release builds refuse a domU's writes too (-EPERM); guests such as
 * Linux's earlyprintk=xen then fall back to the console ring.
 */
HC(console_io)
{
	struct vcpu *v = c->v;
	struct domain *d = v->dom;
	char buf[256];

	if (a1 != CONSOLEIO_write)
		return -XEN_EPERM;
	if (a2 > (1 << 16))
		return -XEN_EINVAL;
	for (uint64_t done = 0; done < a2;) {
		size_t n = a2 - done < sizeof(buf) ? a2 - done : sizeof(buf);

		if (pv_copy_from_guest(v, buf, a3 + done, n) < 0)
			return -XEN_EFAULT;
		domain_guest_log_write(d, buf, n);
		done += n;
	}
	return 0;
}

/* What Xen accepts from a 64-bit PV guest, including assists that mean
 * nothing to it now (4gb_segments*, pae_extended_cr3) but never failed. */
#define PV_VM_ASSIST_VALID                                                                       \
	((1ULL << VMASST_TYPE_4gb_segments) | (1ULL << VMASST_TYPE_4gb_segments_notify) |        \
	 (1ULL << VMASST_TYPE_writable_pagetables) | (1ULL << VMASST_TYPE_pae_extended_cr3) |    \
	 (1ULL << VMASST_TYPE_architectural_iopl) | (1ULL << VMASST_TYPE_runstate_update_flag) | \
	 (1ULL << VMASST_TYPE_m2p_strict))

HC(vm_assist)
{
	if (a2 >= 64 || !(PV_VM_ASSIST_VALID & (1ULL << a2)))
		return -XEN_EINVAL;
	if (a1 == VMASST_CMD_enable)
		c->v->dom->pv->vm_assist |= 1ULL << a2;
	else if (a1 == VMASST_CMD_disable)
		c->v->dom->pv->vm_assist &= ~(1ULL << a2);
	else
		return -XEN_ENOSYS;
	return 0;
}

HC(set_segment_base)
{
	struct vcpu *v = c->v;
	struct kvm_sregs s;

	if (!pv_is_canonical(a2))
		return -XEN_EINVAL;
	switch (a1) {
	case SEGBASE_FS:
		v->pv->fs_base = a2;
		break;
	case SEGBASE_GS_USER:
		v->pv->gs_base_user = a2;
		return 0;
	case SEGBASE_GS_KERNEL:
		v->pv->gs_base_kernel = a2;
		break;
	case SEGBASE_GS_USER_SEL:
		v->pv->gs_base_user = 0;
		return 0;
	default:
		return -XEN_EINVAL;
	}
	if (kvm_sregs_get(&v->kvm, &s) < 0)
		return -XEN_EIO;
	s.fs.base = v->pv->fs_base;
	s.gs.base = v->pv->kernel_mode ? v->pv->gs_base_kernel : v->pv->gs_base_user;
	return kvm_sregs_set(&v->kvm, &s) < 0 ? -XEN_EIO : 0;
}

HC(sched_op)
{
	struct vcpu *v = c->v;

	switch (a1) {
	case SCHEDOP_yield:
		sched_yield();
		return 0;
	case SCHEDOP_block:
		/* Blocking enables event delivery (Xen's do_block). */
		vcpu_info(v)->evtchn_upcall_mask = 0;
		pv_vcpu_wait(v, NULL, 0, 0);
		return 0;
	case SCHEDOP_poll: {
		struct sched_poll sp;
		uint32_t ports[128];

		if (pv_copy_from_guest(v, &sp, a2, sizeof(sp)) < 0)
			return -XEN_EFAULT;
		if (sp.nr_ports > 128)
			return -XEN_EINVAL;
		if (pv_copy_from_guest(v, ports, sp.ports, sp.nr_ports * sizeof(uint32_t)) < 0)
			return -XEN_EFAULT;
		pv_vcpu_wait(v, ports, sp.nr_ports, sp.timeout);
		return 0;
	}
	case SCHEDOP_shutdown: {
		struct sched_shutdown s;

		if (pv_copy_from_guest(v, &s, a2, sizeof(s)) < 0)
			return -XEN_EFAULT;
		if (s.reason > SHUTDOWN_soft_reset)
			return -XEN_EINVAL;
		if (s.reason == SHUTDOWN_crash)
			pv_vcpu_dump(v, "guest requested crash");
		if (s.reason == SHUTDOWN_suspend) {
			/* Xen's PV suspend: rdx names the start_info frame the
			 * toolstack rewrites on restore (Linux's HYPERVISOR_suspend). */
			if (a3 >= v->dom->nr_pages)
				return -XEN_EINVAL;
			v->dom->suspend_vcpu = v->id;
			v->dom->pv->start_info_mfn = a3;
		}
		domain_shutdown(v->dom, s.reason);
		return 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

HC(physdev_op)
{
	struct physdev_set_iopl io;

	if (a1 == PHYSDEVOP_set_iopl) {
		if (pv_copy_from_guest(c->v, &io, a2, sizeof(io)) < 0)
			return -XEN_EFAULT;
		if (io.iopl > 3)
			return -XEN_EINVAL;
		c->v->pv->iopl = io.iopl;
		return 0;
	}
	return -XEN_ENOSYS;
}

HC(vcpu_op)
{
	struct vcpu *t;

	if (a2 >= (uint64_t)c->v->dom->nr_vcpus)
		return -XEN_ENOENT;
	t = &c->v->dom->vcpus[a2];
	switch (a1) {
	case VCPUOP_is_up:
		return t->online;
	case VCPUOP_initialise:
		return pv_vcpu_initialise(t, c->v, a3);
	case VCPUOP_up:
		return pv_vcpu_up(t);
	case VCPUOP_down:
		/* The vCPU stops at its next return to the loop. */
		t->online = 0;
		if (t != c->v)
			pv_vcpu_kick(t);
		return 0;
	case VCPUOP_register_runstate_memory_area: {
		/* The record now (Xen writes it at once); t's own thread keeps it
		 * current from its next pass (pv_runstate.c). */
		struct vcpu_runstate_info ri;
		uint64_t va;

		if (pv_copy_from_guest(c->v, &va, a3, 8) < 0)
			return -XEN_EFAULT;
		pv_runstate_snapshot(t, &ri);
		if (va && pv_copy_to_guest(c->v, va, &ri, sizeof(ri)) < 0)
			return -XEN_EFAULT;
		t->runstate_va = va;
		t->rs.publish = 1;
		return 0;
	}
	case VCPUOP_get_runstate_info: {
		struct vcpu_runstate_info ri;

		if (t == c->v)
			pv_runstate_tick(t);
		pv_runstate_snapshot(t, &ri);
		return pv_copy_to_guest(c->v, a3, &ri, sizeof(ri)) < 0 ? -XEN_EFAULT : 0;
	}
	case VCPUOP_register_vcpu_info: {
		struct vcpu_register_vcpu_info r;
		struct vcpu_info old;

		if (pv_copy_from_guest(c->v, &r, a3, sizeof(r)) < 0)
			return -XEN_EFAULT;
		/* A misaligned offset is refused as Xen 4.18 on refuses it
		 * (4.17 took it): keeld's typed accesses to the vcpu_info need
		 * its alignment (pv-fuzz found a misaligned one killing the
		 * sanitizer build; pv-hostile-regress replays it). */
		if (!pv_mm_owns(t->dom, r.mfn) || r.offset > 4096 - sizeof(struct vcpu_info) ||
		    (r.offset & (_Alignof(struct vcpu_info) - 1)) || t->vcpu_info_gpa)
			return -XEN_EINVAL;
		if (t->dom->pv->pages[r.mfn].type_count &&
		    t->dom->pv->pages[r.mfn].type != PGT_writable)
			return -XEN_EINVAL;
		if (t != c->v)
			pv_vcpu_kick(t); /* out of KVM_RUN for pv_time_update's TSC read */
		old = *vcpu_info(t);
		t->vcpu_info_gpa = (r.mfn << 12) + r.offset;
		/* As Xen: every event marked pending in the new area (the guest
		 * gets a spurious upcall, but nothing raised around the move is
		 * lost). */
		old.evtchn_pending_sel = ~0UL;
		old.evtchn_upcall_pending = 1;
		*vcpu_info(t) = old;
		pv_time_update(t);
		pv_vcpu_kick(t);
		return 0;
	}
	case VCPUOP_set_singleshot_timer: {
		/* { u64 timeout_abs_ns; u32 flags; }: VIRQ_TIMER at that time. */
		uint64_t st[2];

		if (t != c->v)
			return -XEN_EINVAL;
		if (pv_copy_from_guest(c->v, st, a3, sizeof(st)) < 0)
			return -XEN_EFAULT;
		if ((st[1] & VCPU_SSHOTTMR_future) && st[0] < pv_time_now(t->dom))
			return -XEN_ETIME;
		return pv_timer_set(t, st[0] ? st[0] : 1) < 0 ? -XEN_EIO : 0;
	}
	case VCPUOP_set_periodic_timer:
	case VCPUOP_stop_periodic_timer:
		return pv_timer_periodic_op(c->v, t, a1 == VCPUOP_stop_periodic_timer, a3);
	case VCPUOP_stop_singleshot_timer:
		if (t != c->v)
			return -XEN_EINVAL;
		return pv_timer_set(t, 0) < 0 ? -XEN_EIO : 0;
	case VCPUOP_register_vcpu_time_memory_area:
		return pv_time_area_register(c->v, t, a3);
	default:
		return -XEN_ENOSYS;
	}
}

/* The iret hypercall: pop Xen's iret frame from the guest stack. */
long pv_hcall_iret(struct pv_hcall_ctx *c, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		   uint64_t a5)
{
	struct vcpu *v = c->v;
	struct kvm_regs *regs = c->regs;
	struct vcpu_info *vi = vcpu_info(v);
	struct iret_context f;

	if (pv_copy_from_guest(v, &f, regs->rsp, sizeof(f)) < 0) {
		pv_vcpu_dump(v, "iret with an unreadable frame");
		domain_crash(v->dom, "iret: frame at %#llx unreadable",
			     (unsigned long long)regs->rsp);
		return -XEN_EFAULT;
	}
	if ((f.cs & 3) == 3 && pv_vcpu_set_mode(v, regs, 0) < 0)
		return -XEN_EIO;
	if (f.rip >= HYPERVISOR_VIRT_START && f.rip < HYPERVISOR_VIRT_END) {
		domain_crash(v->dom, "iret to the hypervisor hole %#llx",
			     (unsigned long long)f.rip);
		return -XEN_EFAULT;
	}
	regs->rax = f.rax;
	if (!(f.flags & VGCF_in_syscall)) {
		regs->r11 = f.r11;
		regs->rcx = f.rcx;
	}
	regs->rip = f.rip;
	regs->rsp = f.rsp;
	vi->evtchn_upcall_mask = !(f.rflags & 0x200);
	/* Xen's async_exception_cleanup: an iret ends the NMI's masking. */
	v->pv->nmi_masked = 0;
	/* With architectural IOPL the frame's IOPL is the vCPU's virtual one,
	 * as popf/iret would set it on hardware; the real IOPL stays 0. */
	if (v->dom->pv->vm_assist & (1ULL << VMASST_TYPE_architectural_iopl))
		v->pv->iopl = (f.rflags >> 12) & 3;
	regs->rflags = (f.rflags & ~(0x3000ULL | 0x4000ULL | 0x20000ULL)) | 0x202;
	c->no_return = 1;
	/* As Xen's do_iret: the frame's rax is the answer, which a multicall
	 * ending in iret stores in the entry and returns. */
	return (long)f.rax;
}

HC(set_timer_op)
{
	return pv_timer_set(c->v, a1) < 0 ? -XEN_EIO : 0;
}

HC(grant_table_op)
{
	return gnttab_do_op(c->v, a1, a2, a3);
}

HC(event_channel_op)
{
	return evtchn_do_op(c->v, a1, a2);
}

const struct pv_hcall pv_hcall_table[64] = {
	[__HYPERVISOR_set_trap_table] = {"set_trap_table", hc_set_trap_table},
	[__HYPERVISOR_mmu_update] = {"mmu_update", hc_mmu_update},
	[__HYPERVISOR_set_gdt] = {"set_gdt", hc_set_gdt},
	[__HYPERVISOR_stack_switch] = {"stack_switch", hc_stack_switch},
	[__HYPERVISOR_set_callbacks] = {"set_callbacks", hc_set_callbacks},
	[__HYPERVISOR_fpu_taskswitch] = {"fpu_taskswitch", hc_fpu_taskswitch},
	[__HYPERVISOR_set_debugreg] = {"set_debugreg", hc_set_debugreg},
	[__HYPERVISOR_get_debugreg] = {"get_debugreg", hc_get_debugreg},
	[__HYPERVISOR_update_descriptor] = {"update_descriptor", hc_update_descriptor},
	[__HYPERVISOR_memory_op] = {"memory_op", hc_memory_op},
	[__HYPERVISOR_multicall] = {"multicall", hc_multicall},
	[__HYPERVISOR_update_va_mapping] = {"update_va_mapping", hc_update_va_mapping},
	[__HYPERVISOR_xen_version] = {"xen_version", hc_xen_version},
	[__HYPERVISOR_console_io] = {"console_io", hc_console_io},
	[__HYPERVISOR_vm_assist] = {"vm_assist", hc_vm_assist},
	[__HYPERVISOR_iret] = {"iret", pv_hcall_iret},
	[__HYPERVISOR_vcpu_op] = {"vcpu_op", hc_vcpu_op},
	[__HYPERVISOR_set_segment_base] = {"set_segment_base", hc_set_segment_base},
	[__HYPERVISOR_mmuext_op] = {"mmuext_op", hc_mmuext_op},
	[__HYPERVISOR_sched_op] = {"sched_op", hc_sched_op},
	[__HYPERVISOR_callback_op] = {"callback_op", hc_callback_op},
	[__HYPERVISOR_physdev_op] = {"physdev_op", hc_physdev_op},
	[__HYPERVISOR_set_timer_op] = {"set_timer_op", hc_set_timer_op},
	[__HYPERVISOR_event_channel_op] = {"event_channel_op", hc_event_channel_op},
	[__HYPERVISOR_grant_table_op] = {"grant_table_op", hc_grant_table_op},
	/* Refused to a domU as Xen refuses them (pv_priv.c says which answer). */
	[__HYPERVISOR_platform_op] = {"platform_op", pv_hcall_platform_op},
	[__HYPERVISOR_xenoprof_op] = {"xenoprof_op", pv_hcall_xenoprof_op},
	[__HYPERVISOR_sysctl] = {"sysctl", pv_hcall_sysctl},
	[__HYPERVISOR_domctl] = {"domctl", pv_hcall_domctl},
	[__HYPERVISOR_kexec_op] = {"kexec_op", pv_hcall_eperm},
	[__HYPERVISOR_xenpmu_op] = {"xenpmu_op", pv_hcall_xenpmu_op},
	[__HYPERVISOR_dm_op] = {"dm_op", pv_hcall_dm_op},
	[__HYPERVISOR_hypfs_op] = {"hypfs_op", pv_hcall_eperm},
	[__HYPERVISOR_mca] = {"mca", pv_hcall_eperm},
	[__HYPERVISOR_paging_domctl_cont] = {"paging_domctl_cont", pv_hcall_paging_domctl_cont},
};

long pv_do_hypercall(struct pv_hcall_ctx *c, uint64_t nr, const uint64_t *a)
{
	if (nr >= 64 || !pv_hcall_table[nr].fn) {
		/* Logged once per number: a guest must not flood the log. */
		uint64_t bit = 1ULL << (nr < 63 ? nr : 63);

		if (!(__atomic_fetch_or(&c->v->dom->enosys_logged, bit, __ATOMIC_RELAXED) & bit))
			domain_log(c->v->dom, "hypercall %llu not implemented",
				   (unsigned long long)nr);
		return -XEN_ENOSYS;
	}
	if (c->v->dom->trace) {
		long r = pv_hcall_table[nr].fn(c, a[0], a[1], a[2], a[3], a[4]);

		domain_log(c->v->dom, "hypercall %s(%#llx, %#llx, %#llx) = %ld",
			   pv_hcall_table[nr].name, (unsigned long long)a[0],
			   (unsigned long long)a[1], (unsigned long long)a[2], r);
		return r;
	}
	return pv_hcall_table[nr].fn(c, a[0], a[1], a[2], a[3], a[4]);
}
