/*
 * The platform ports Xen answers inside the hypervisor for an HVM domain
 * and keeld answers for it here (KVM's in-kernel chips cover the PIC,
 * IOAPIC, LAPIC and PIT; these are the rest a firmware needs before a
 * device model exists):
 *
 * - PCI configuration mechanism 1: the address at 0xcf8 is latched per
 *   domain and reads back (a dword access only, as Xen's); the data ports
 *   0xcfc-0xcff reach the device model's PCI devices in Xen.  With no
 *   device model (no ioreq server yet) no device answers: reads are all
 *   ones -- "no device" to any bus scan -- and writes are dropped.
 * - The ACPI PM timer and PM1a status/enable registers (Xen's pmtimer.c),
 *   at the block HVM_PARAM_ACPI_IOPORTS_LOCATION selects: the timer counts
 *   at 3.579545 MHz from the domain's creation in 24 bits.  The power and
 *   sleep buttons dom0 presses (Xen's XEN_DOMCTL_SENDTRIGGER_POWER/SLEEP,
 *   hvm_acpi_power_button) set PWRBTN_STS / SLPBTN_STS, and the SCI (ISA
 *   IRQ 9) is held asserted while a status bit and its enable bit are
 *   both set, as Xen's pmt_update_sci; TMR_STS is never set (the timer's
 *   overflow is not tracked), so the timer raises no SCI here.  PM1a
 *   control is the device model's.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "abi/xen.h"
#include "hvm_domain.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define PM1_TMR_STS   0x0001
#define PM1_GBL_STS   0x0020
#define PM1_PWRBTN    0x0100
#define PM1_SLPBTN    0x0200
/* the PM1a status bits that raise an SCI (Xen's SCI_MASK) */
#define PM1_SCI_MASK (PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN | PM1_SLPBTN)
#define PM1_SCI_IRQ  9

uint64_t hvm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void hvm_platform_init(struct domain *d)
{
	d->hvm->pm_base_ns = hvm_now_ns();
	hvm_rtc_init(d);
}

static uint16_t hvm_pm_base(const struct domain *d)
{
	return d->hvm->params[HVM_PARAM_ACPI_IOPORTS_LOCATION] ? HVM_PM1A_EVT_V1 : HVM_PM1A_EVT_V0;
}

/* Xen's pmtimer_change_ioport: only between locations 0 and 1. */
int hvm_pm_set_location(struct domain *d, uint64_t v)
{
	uint64_t old = d->hvm->params[HVM_PARAM_ACPI_IOPORTS_LOCATION];

	if (v == old)
		return 0;
	if ((v ^ old) != 1)
		return -XEN_EINVAL;
	d->hvm->params[HVM_PARAM_ACPI_IOPORTS_LOCATION] = v;
	return 0;
}

static uint32_t hvm_pm_timer(struct domain *d)
{
	unsigned __int128 t =
		(unsigned __int128)(hvm_now_ns() - d->hvm->pm_base_ns) * HVM_PM_TMR_HZ;

	return (uint32_t)(t / 1000000000ULL) & 0xffffff;
}

/*
 * The SCI's level from PM1a status and enable (Xen's pmt_update_sci).
 * The vCPUs' writes and dom0's button presses race; the line is set under
 * the interrupt lines' lock from the registers as they are then.
 */
static void hvm_pm1a_update_sci(struct domain *d)
{
	struct hvm_domain *h = d->hvm;
	int level;

	pthread_mutex_lock(&h->ioreq_lock);
	level = !!(__atomic_load_n(&h->pm1a_sts, __ATOMIC_ACQUIRE) &
		   __atomic_load_n(&h->pm1a_en, __ATOMIC_ACQUIRE) & PM1_SCI_MASK);
	if (level != h->sci_level) {
		h->sci_level = level;
		hvm_irq_line(d, PM1_SCI_IRQ, level);
	}
	pthread_mutex_unlock(&h->ioreq_lock);
}

/* PM1a_STS (write 1 to clear) and PM1a_EN, 16 bits each, at the block's
 * first 4 bytes; byte accesses reach either half.  Status bits dom0 sets
 * meanwhile (a button) survive: the clear is an atomic and-not. */
static void hvm_pm1a_evt(struct domain *d, unsigned off, int is_write, uint8_t *data, unsigned size)
{
	struct hvm_domain *h = d->hvm;
	uint16_t sts = __atomic_load_n(&h->pm1a_sts, __ATOMIC_ACQUIRE);
	uint16_t clear = 0, en = h->pm1a_en;
	uint8_t regs[4];

	memcpy(regs, &sts, 2);
	memcpy(regs + 2, &en, 2);
	for (unsigned i = 0; i < size; i++) {
		unsigned at = off + i;

		if (at >= 4) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		if (!is_write)
			data[i] = regs[at];
		else if (at < 2)
			clear |= (uint16_t)(data[i] << (8 * at));
		else
			regs[at] = data[i];
	}
	if (is_write) {
		memcpy(&en, regs + 2, 2);
		__atomic_fetch_and(&h->pm1a_sts, (uint16_t)~clear, __ATOMIC_ACQ_REL);
		__atomic_store_n(&h->pm1a_en, en, __ATOMIC_RELEASE);
		hvm_pm1a_update_sci(d);
	}
}

int hvm_acpi_button(struct domain *d, int sleep)
{
	__atomic_fetch_or(&d->hvm->pm1a_sts, sleep ? PM1_SLPBTN : PM1_PWRBTN, __ATOMIC_ACQ_REL);
	hvm_pm1a_update_sci(d);
	return 0;
}

int hvm_pm_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size)
{
	unsigned pm = hvm_pm_base(d);

	if (port >= pm && port + size <= pm + 4) {
		hvm_pm1a_evt(d, port - pm, is_write, data, size);
		return 0;
	}
	if (port == pm + HVM_PM_TMR_OFF && size == 4) {
		uint32_t v = hvm_pm_timer(d);

		if (!is_write)
			memcpy(data, &v, 4);
		return 0;
	}
	return -1;
}

int hvm_platform_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size)
{
	if (port == PCI_CONF_ADDR && size == 4) {
		if (is_write)
			memcpy(&d->hvm->pci_cf8, data, 4);
		else
			memcpy(data, &d->hvm->pci_cf8, 4);
		return 0;
	}
	if (port >= PCI_CONF_DATA && port + size <= PCI_CONF_DATA + 4u) {
		if (!is_write)
			memset(data, 0xff, size); /* no device model: no device */
		return 0;
	}
	return hvm_pm_io(d, port, is_write, data, size);
}
