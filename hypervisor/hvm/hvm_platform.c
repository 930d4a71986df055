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
 *   at 3.579545 MHz from the domain's creation in 32 bits, as Xen's (the
 *   FADT hvmloader writes sets TMR_VAL_EXT).  TMR_STS is set whenever the
 *   counter's top bit has changed (every ~600 s), found from the elapsed
 *   time at each access to the block and, while the guest has TMR_EN set,
 *   by a thread of the domain's that wakes at the next change, so the SCI
 *   comes on time with no access (Xen arms a timer the same way).  The
 *   power and sleep buttons dom0 presses (Xen's
 *   XEN_DOMCTL_SENDTRIGGER_POWER/SLEEP, hvm_acpi_power_button) set
 *   PWRBTN_STS / SLPBTN_STS.  The SCI (ISA IRQ 9, level) is held asserted
 *   while a status bit and its enable bit are both set, as Xen's
 *   pmt_update_sci, and lowered when the guest's write-1-to-clear leaves
 *   none.  PM1a control is the device model's.
 */
#include <errno.h>
#include <pthread.h>
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
#define PM1_TMR_EN   0x0001
/* the counter's top bit, as Xen's 32-bit one (TMR_VAL_EXT) */
#define PM_TMR_MSB_SHIFT 31
#define PM_NS		 1000000000ULL

uint64_t hvm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *hvm_ticker_thread(void *arg)
{
	struct hvm_ticker *t = arg;

	pthread_mutex_lock(t->lock);
	while (!t->stop) {
		int64_t at = t->next(t->d);
		struct timespec ts = {.tv_sec = (time_t)(at / 1000000000LL),
				      .tv_nsec = (long)(at % 1000000000LL)};

		if (!at)
			pthread_cond_wait(&t->cond, t->lock);
		else if (pthread_cond_timedwait(&t->cond, t->lock, &ts) == ETIMEDOUT && !t->stop)
			t->fire(t->d, at);
	}
	pthread_mutex_unlock(t->lock);
	return NULL;
}

void hvm_ticker_init(struct hvm_ticker *t, struct domain *d, pthread_mutex_t *lock, clockid_t clock,
		     int64_t (*next)(struct domain *), void (*fire)(struct domain *, int64_t))
{
	pthread_condattr_t ca;

	memset(t, 0, sizeof(*t));
	t->d = d;
	t->lock = lock;
	t->clock = clock;
	t->next = next;
	t->fire = fire;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, clock);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
}

void hvm_ticker_kick(struct hvm_ticker *t, int start)
{
	if (!t->thread_ok && !t->stop && start)
		t->thread_ok = pthread_create(&t->thread, NULL, hvm_ticker_thread, t) == 0;
	pthread_cond_signal(&t->cond);
}

void hvm_ticker_destroy(struct hvm_ticker *t)
{
	pthread_mutex_lock(t->lock);
	t->stop = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(t->lock);
	if (t->thread_ok)
		pthread_join(t->thread, NULL);
	t->thread_ok = 0;
	pthread_cond_destroy(&t->cond);
}

static int64_t hvm_pm_next(struct domain *d);
static void hvm_pm_fire(struct domain *d, int64_t at);

void hvm_pm_init(struct domain *d)
{
	struct hvm_domain *h = d->hvm;

	h->pm_base_ns = hvm_now_ns();
	h->pm_tmr_half = 0;
	pthread_mutex_init(&h->pm_lock, NULL);
	hvm_ticker_init(&h->pm_tmr, d, &h->pm_lock, CLOCK_MONOTONIC, hvm_pm_next, hvm_pm_fire);
}

void hvm_platform_init(struct domain *d)
{
	hvm_pm_init(d);
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

/* Timer ticks since the domain's creation, unwrapped. */
static uint64_t hvm_pm_ticks(const struct domain *d, uint64_t now)
{
	uint64_t base = __atomic_load_n(&d->hvm->pm_base_ns, __ATOMIC_ACQUIRE);

	return now > base ? (uint64_t)((unsigned __int128)(now - base) * HVM_PM_TMR_HZ / PM_NS) : 0;
}

/*
 * The SCI's level from PM1a status and enable (Xen's pmt_update_sci),
 * TMR_STS first set if the counter's top bit changed since it was last
 * looked at (Xen's pmt_update_time).  The vCPUs' accesses, dom0's button
 * presses and the TMR_STS thread race; the line is set under the
 * interrupt lines' lock from the registers as they are then.
 */
static void hvm_pm1a_update_sci(struct domain *d)
{
	struct hvm_domain *h = d->hvm;
	uint64_t half;
	int level;

	pthread_mutex_lock(&h->ioreq_lock);
	half = hvm_pm_ticks(d, hvm_now_ns()) >> PM_TMR_MSB_SHIFT;
	if (half != h->pm_tmr_half) {
		__atomic_store_n(&h->pm_tmr_half, half, __ATOMIC_RELEASE);
		__atomic_fetch_or(&h->pm1a_sts, PM1_TMR_STS, __ATOMIC_ACQ_REL);
	}
	level = !!(__atomic_load_n(&h->pm1a_sts, __ATOMIC_ACQUIRE) &
		   __atomic_load_n(&h->pm1a_en, __ATOMIC_ACQUIRE) & PM1_SCI_MASK);
	if (level != h->sci_level) {
		h->sci_level = level;
		hvm_irq_line(d, PM1_SCI_IRQ, level);
	}
	pthread_mutex_unlock(&h->ioreq_lock);
}

/* While TMR_EN is set, the counter's next top-bit change, where TMR_STS
 * (and so the SCI) rises, as Xen's pmt_timer_callback; with TMR_EN clear,
 * nothing until PM1a_EN is written again. */
static int64_t hvm_pm_next(struct domain *d)
{
	struct hvm_domain *h = d->hvm;
	uint64_t next;

	if (!(__atomic_load_n(&h->pm1a_en, __ATOMIC_ACQUIRE) & PM1_TMR_EN))
		return 0;
	/* the first ns at which the tick count reaches the next flip */
	next = ((hvm_pm_ticks(d, hvm_now_ns()) >> PM_TMR_MSB_SHIFT) + 1) << PM_TMR_MSB_SHIFT;
	return (int64_t)(__atomic_load_n(&h->pm_base_ns, __ATOMIC_ACQUIRE) +
			 (uint64_t)(((unsigned __int128)next * PM_NS + HVM_PM_TMR_HZ - 1) /
				    HVM_PM_TMR_HZ));
}

static void hvm_pm_fire(struct domain *d, int64_t at)
{
	hvm_pm1a_update_sci(d);
}

/* PM1a_EN was written: the TMR_STS thread starts the first time TMR_EN is
 * set, and looks at TMR_EN (and the time) again. */
static void hvm_pm_en_written(struct domain *d, uint16_t en)
{
	struct hvm_domain *h = d->hvm;

	pthread_mutex_lock(&h->pm_lock);
	hvm_ticker_kick(&h->pm_tmr, en & PM1_TMR_EN);
	pthread_mutex_unlock(&h->pm_lock);
}

void hvm_pm_destroy(struct domain *d)
{
	hvm_ticker_destroy(&d->hvm->pm_tmr);
	pthread_mutex_destroy(&d->hvm->pm_lock);
}

/* PM1a_STS (write 1 to clear) and PM1a_EN, 16 bits each, at the block's
 * first 4 bytes; byte accesses reach either half.  Status bits dom0 sets
 * meanwhile (a button) survive: the clear is an atomic and-not. */
static void hvm_pm1a_evt(struct domain *d, unsigned off, int is_write, uint8_t *data, unsigned size)
{
	struct hvm_domain *h = d->hvm;
	uint16_t sts, clear = 0, en = h->pm1a_en;
	uint8_t regs[4];

	hvm_pm1a_update_sci(d); /* TMR_STS as of now */
	sts = __atomic_load_n(&h->pm1a_sts, __ATOMIC_ACQUIRE);
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
		hvm_pm_en_written(d, en);
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
		uint64_t ticks = hvm_pm_ticks(d, hvm_now_ns());
		uint32_t v = (uint32_t)ticks;

		/* a flip seen here sets TMR_STS too; firmware reads the timer
		 * often, so the lock is taken only then */
		if (ticks >> PM_TMR_MSB_SHIFT !=
		    __atomic_load_n(&d->hvm->pm_tmr_half, __ATOMIC_ACQUIRE))
			hvm_pm1a_update_sci(d);
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
