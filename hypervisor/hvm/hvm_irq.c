/*
 * How the 8259 PIC's interrupts reach vCPU 0, as Xen decides it
 * (__vlapic_accept_pic_intr): when LAPIC LVT0 is unmasked ExtINT, when
 * the LAPIC is disabled, or when IOAPIC pin 0 is unmasked ExtINT aimed at
 * that LAPIC ("virtual wire" through the IOAPIC).  KVM's in-kernel chips
 * know only the first two: its IOAPIC ignores an ExtINT pin.  hvmloader
 * masks LVT0 and sets up exactly that IOAPIC virtual wire before it hands
 * over, so under KVM alone SeaBIOS would never see its timer tick (IRQ0)
 * and would wait forever for its boot menu's timeout.
 *
 * So keeld applies Xen's third rule itself: when IOAPIC pin 0 is such a
 * wire and LVT0 is masked, it unmasks LVT0 as ExtINT in KVM's LAPIC (and
 * masks it again once the wire is gone, if the guest has not changed
 * LVT0 since).  The chips are in the kernel and their registers change
 * without an exit, so the check runs on the vCPU's own thread at its port
 * exits, at most once per HVM_WIRE_CHECK_NS; a guest reading LVT0 while
 * the wire is up sees it unmasked.
 *
 * And a device model's MSIs (Xen's XEN_DMOP_inject_msi, hvm_inject_msi):
 * QEMU's emulated PCI device writes its MSI message to the interrupt
 * window at 0xfee00000, where QEMU's xen-apic region hands keeld the
 * write's offset in that window and its data; KVM's in-kernel LAPICs
 * take it as KVM_SIGNAL_MSI.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "hvm_domain.h"

#define HVM_WIRE_CHECK_NS 10000000ULL /* 10 ms */
#define APIC_ID		  0x20
#define APIC_SPIV	  0xf0
#define APIC_LVT0	  0x350
#define APIC_SPIV_ENABLE  0x100
#define APIC_LVT_MASKED	  0x10000
#define APIC_MODE_MASK	  0x700
#define APIC_DM_EXTINT	  0x700
#define IOAPIC_DM_SHIFT	  8
#define IOAPIC_MASKED	  (1ULL << 16)
#define MSI_WINDOW	  0xfee00000ULL
#define MSI_WINDOW_MASK	  0xfffffULL
#define MSI_DATA_VECTOR	  0xffU
#define MSI_DATA_DM_SHIFT 8
#define MSI_DM_FIXED	  0
#define MSI_DM_LOWEST	  1

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned off)
{
	uint32_t v;

	memcpy(&v, l->regs + off, 4);
	return v;
}

static void lapic_reg_set(struct kvm_lapic_state *l, unsigned off, uint32_t v)
{
	memcpy(l->regs + off, &v, 4);
}

/* Is IOAPIC pin 0 an unmasked ExtINT wire to LAPIC id? */
static int hvm_ioapic_wire(struct domain *d, uint32_t id)
{
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	uint64_t e;

	if (ioctl(d->vm.vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return 0;
	e = chip.chip.ioapic.redirtbl[0].bits;
	return ((e >> IOAPIC_DM_SHIFT) & 7) == 7 && !(e & IOAPIC_MASKED) && (e >> 56) == id;
}

void hvm_irq_wire_check(struct vcpu *v)
{
	struct hvm_domain *h = v->dom->hvm;
	struct kvm_lapic_state l;
	struct timespec ts;
	uint64_t now;
	uint32_t lvt0;
	int wire;

	if (v->id != 0)
		return; /* the PIC's target is vCPU 0 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (now - h->wire_checked < HVM_WIRE_CHECK_NS)
		return;
	h->wire_checked = now;
	if (ioctl(v->kvm.fd, KVM_GET_LAPIC, &l) < 0)
		return;
	lvt0 = lapic_reg(&l, APIC_LVT0);
	wire = (lapic_reg(&l, APIC_SPIV) & APIC_SPIV_ENABLE) &&
	       hvm_ioapic_wire(v->dom, lapic_reg(&l, APIC_ID) >> 24);
	if (wire && (lvt0 & APIC_LVT_MASKED)) {
		lapic_reg_set(&l, APIC_LVT0,
			      (lvt0 & ~(APIC_LVT_MASKED | APIC_MODE_MASK)) | APIC_DM_EXTINT);
		if (ioctl(v->kvm.fd, KVM_SET_LAPIC, &l) == 0) {
			h->wire_lvt0 = lapic_reg(&l, APIC_LVT0);
			h->wire_forced = 1;
			domain_log(v->dom, "hvm: IOAPIC pin 0 is the PIC's virtual wire: LVT0 "
					   "unmasked for it");
		}
	} else if (!wire && h->wire_forced) {
		h->wire_forced = 0;
		if (lvt0 == h->wire_lvt0) {
			lapic_reg_set(&l, APIC_LVT0, lvt0 | APIC_LVT_MASKED);
			ioctl(v->kvm.fd, KVM_SET_LAPIC, &l);
		}
	}
}

/*
 * XEN_DMOP_inject_msi as Xen's hvm_inject_msi answers it: Xen reads the
 * destination (address bits 19:12) and destination mode (bit 2) from the
 * low half of the address and ignores the rest, so QEMU's xen-apic sends
 * the write's offset in the window, not 0xfee00000 + offset; keeld takes
 * either form and refuses any other address (EINVAL: no interrupt
 * message, which KVM would otherwise deliver by its destination bits
 * alone).  The data is 32 bits (more is EINVAL); Xen, and KVM, read only
 * its vector, delivery and trigger mode.  Vector 0 is Xen's
 * emulated-MSI-to-pirq remap, which keeld does not offer (no
 * XENFEAT_hvm_pirqs): ERANGE, Xen's answer for vector 0 without a pirq.
 * Fixed and lowest-priority delivery only, as Xen's vmsi_deliver (EINVAL
 * for SMI, NMI, INIT, ExtINT); a lowest-priority MSI no vCPU takes is
 * ESRCH, a fixed one 0 (Xen's: no matching LAPIC, nothing delivered).
 */
int hvm_inject_msi(struct domain *d, uint64_t addr, uint64_t data)
{
	struct kvm_msi msi = {0};
	unsigned mode = (unsigned)(data >> MSI_DATA_DM_SHIFT) & 7;
	int r;

	if ((addr & ~MSI_WINDOW_MASK) != MSI_WINDOW && (addr & ~MSI_WINDOW_MASK) != 0)
		return -EINVAL;
	if (data >> 32)
		return -EINVAL;
	if (!(data & MSI_DATA_VECTOR))
		return -ERANGE;
	if (mode != MSI_DM_FIXED && mode != MSI_DM_LOWEST)
		return -EINVAL;
	msi.address_lo = (uint32_t)(MSI_WINDOW | (addr & MSI_WINDOW_MASK));
	msi.data = (uint32_t)data;
	r = ioctl(d->vm.vm_fd, KVM_SIGNAL_MSI, &msi);
	if (r >= 0)
		return 0;
	/* KVM answers -1 (EPERM to user space) when no LAPIC matched */
	if (errno == EPERM)
		return mode == MSI_DM_LOWEST ? -ESRCH : 0;
	return -errno;
}
