/*
 * The RTC part of the CMOS at ports 0x70/0x71, as Xen's hypervisor
 * emulates it (xen/arch/x86/hvm/rtc.c): keeld owns registers 0x00-0x0d
 * (RTC_CMOS_SIZE 14, Xen's saved RTC state), the device model the rest
 * of the CMOS bytes (QEMU's: the boot order, the century, the NVRAM
 * hvmloader and SeaBIOS use).  An index write below 14 is keeld's alone;
 * one at or above it is latched here too and goes on to the device
 * model, whose data-port accesses follow while the index stays there.
 *
 * The time is the host's clock (CLOCK_REALTIME, UTC as xl's default
 * localtime=0) plus an offset the guest moves by writing the time
 * registers; register B picks BCD or binary and 12- or 24-hour values,
 * SET freezes the clock until cleared; register A's UIP is set for the
 * last 244 us of each second (divider 010, the running one); register C
 * reports UF (a second ended since the last read), PF (a period of
 * register A's rate passed) and AF (the alarm second passed, looked for
 * in the last 10 minutes), clearing
 * on read, IRQF when an enabled one is set; register D is VRT.
 *
 * IRQ8: once the guest first enables an RTC interrupt (PIE, UIE or AIE in
 * register B) a thread of the domain's waits for the next period or second
 * boundary, raises the flag and, if that interrupt is enabled and IRQF is
 * not already set (as Xen: no new interrupt until register C is read),
 * sets IRQF and pulses IRQ8 on KVM's PIC/IOAPIC.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "hvm_domain.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71
#define RTC_REG_A      0x0a
#define RTC_REG_B      0x0b
#define RTC_REG_C      0x0c
#define RTC_REG_D      0x0d
#define RTC_A_UIP      0x80
#define RTC_B_SET      0x80
#define RTC_B_PIE      0x40
#define RTC_B_AIE      0x20
#define RTC_B_UIE      0x10
#define RTC_B_DM       0x04 /* binary, not BCD */
#define RTC_B_24H      0x02
#define RTC_C_IRQF     0x80
#define RTC_C_PF       0x40
#define RTC_C_AF       0x20
#define RTC_C_UF       0x10
#define RTC_D_VRT      0x80
#define RTC_UIP_NS     244000
#define RTC_NS	       1000000000LL
#define RTC_IRQ	       8

static int64_t rtc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t rtc_irq8_next(struct domain *d);
static void rtc_irq8_fire(struct domain *d, int64_t at);

void hvm_rtc_init(struct domain *d)
{
	struct hvm_rtc *r = &d->hvm->rtc;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	hvm_ticker_init(&r->irq8, d, &r->lock, CLOCK_REALTIME, rtc_irq8_next, rtc_irq8_fire);
	r->regs[RTC_REG_A] = 0x26; /* 32.768 kHz divider, 1024 Hz rate */
	r->regs[RTC_REG_B] = RTC_B_24H;
	r->last_c_ns = rtc_now_ns();
}

/* The guest's time now, in seconds (frozen while SET is on). */
static int64_t rtc_guest_s(const struct hvm_rtc *r, int64_t now_ns)
{
	if (r->regs[RTC_REG_B] & RTC_B_SET)
		return r->frozen_s;
	return now_ns / 1000000000LL + r->offset_s;
}

static uint8_t rtc_encode(const struct hvm_rtc *r, int v)
{
	return (r->regs[RTC_REG_B] & RTC_B_DM) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_decode(const struct hvm_rtc *r, uint8_t v)
{
	return (r->regs[RTC_REG_B] & RTC_B_DM) ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint8_t rtc_hour(const struct hvm_rtc *r, int h)
{
	uint8_t pm = 0;

	if (!(r->regs[RTC_REG_B] & RTC_B_24H)) {
		pm = h >= 12 ? 0x80 : 0;
		h = h % 12 ? h % 12 : 12;
	}
	return rtc_encode(r, h) | pm;
}

static int rtc_hour_decode(const struct hvm_rtc *r, uint8_t v)
{
	int h = rtc_decode(r, v & 0x7f);

	if (r->regs[RTC_REG_B] & RTC_B_24H)
		return h;
	return h % 12 + ((v & 0x80) ? 12 : 0);
}

/* Registers 0, 2, 4 and 6-9 hold the time (1, 3, 5: the alarm's). */
static int rtc_is_time(unsigned idx)
{
	return idx <= 9 && idx != 1 && idx != 3 && idx != 5;
}

/* A time register as the guest reads it. */
static uint8_t rtc_time_reg(const struct hvm_rtc *r, unsigned idx, int64_t now_ns)
{
	time_t s = (time_t)rtc_guest_s(r, now_ns);
	struct tm tm;

	gmtime_r(&s, &tm);
	switch (idx) {
	case 0:
		return rtc_encode(r, tm.tm_sec);
	case 2:
		return rtc_encode(r, tm.tm_min);
	case 4:
		return rtc_hour(r, tm.tm_hour);
	case 6:
		return rtc_encode(r, tm.tm_wday + 1);
	case 7:
		return rtc_encode(r, tm.tm_mday);
	case 8:
		return rtc_encode(r, tm.tm_mon + 1);
	default:
		return rtc_encode(r, tm.tm_year % 100);
	}
}

/* The guest set a time register: the clock moves by the difference. */
static void rtc_time_write(struct hvm_rtc *r, unsigned idx, uint8_t v, int64_t now_ns)
{
	time_t s = (time_t)rtc_guest_s(r, now_ns);
	struct tm tm;
	int64_t t;

	gmtime_r(&s, &tm);
	switch (idx) {
	case 0:
		tm.tm_sec = rtc_decode(r, v);
		break;
	case 2:
		tm.tm_min = rtc_decode(r, v);
		break;
	case 4:
		tm.tm_hour = rtc_hour_decode(r, v);
		break;
	case 6:
		return; /* the weekday follows the date */
	case 7:
		tm.tm_mday = rtc_decode(r, v);
		break;
	case 8:
		tm.tm_mon = rtc_decode(r, v) - 1;
		break;
	default:
		tm.tm_year = (tm.tm_year / 100) * 100 + rtc_decode(r, v);
		break;
	}
	t = (int64_t)timegm(&tm);
	if (r->regs[RTC_REG_B] & RTC_B_SET)
		r->frozen_s = t;
	else
		r->offset_s = t - now_ns / 1000000000LL;
}

/* 32768 Hz >> (rate - 1) from register A, rates 1 and 2 being 256 and
 * 128 Hz; 0 for rate 0 (off). */
static int64_t rtc_period_ns(const struct hvm_rtc *r)
{
	unsigned rate = r->regs[RTC_REG_A] & 0x0f;

	if (!rate)
		return 0;
	return rate <= 2 ? RTC_NS / (256 >> (rate - 1)) : (RTC_NS << (rate - 1)) / 32768;
}

/* The alarm registers match this time (0xc0 and up: any value). */
static int rtc_alarm_match(const struct hvm_rtc *r, const struct tm *tm)
{
	return (r->regs[1] >= 0xc0 || rtc_decode(r, r->regs[1]) == tm->tm_sec) &&
	       (r->regs[3] >= 0xc0 || rtc_decode(r, r->regs[3]) == tm->tm_min) &&
	       (r->regs[5] >= 0xc0 || rtc_hour_decode(r, r->regs[5]) == tm->tm_hour);
}

/* Register C: the flags raised since its last read, then cleared. */
static uint8_t rtc_reg_c(struct hvm_rtc *r, int64_t now_ns)
{
	uint8_t b = r->regs[RTC_REG_B], c = 0;
	unsigned rate = r->regs[RTC_REG_A] & 0x0f;
	int64_t from = r->last_c_ns;

	if (!(b & RTC_B_SET) && now_ns / 1000000000LL != from / 1000000000LL) {
		int64_t base = (now_ns - from) / 1000000000LL + 1;

		c |= RTC_C_UF;
		for (int64_t s = rtc_guest_s(r, now_ns), k = 0; k < base && k < 600; k++, s--) {
			time_t ts = (time_t)s;
			struct tm tm;

			gmtime_r(&ts, &tm);
			if (rtc_alarm_match(r, &tm)) {
				c |= RTC_C_AF;
				break;
			}
		}
	}
	if (rate) {
		int64_t period = rtc_period_ns(r);

		if (now_ns / period != from / period)
			c |= RTC_C_PF;
	}
	if (((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
	    ((c & RTC_C_UF) && (b & RTC_B_UIE)))
		c |= RTC_C_IRQF;
	c |= r->c_raised;
	r->c_raised = 0;
	r->last_c_ns = now_ns;
	return c;
}

/* The next boundary an enabled RTC interrupt fires at; 0 if none is. */
static int64_t rtc_next_event(const struct hvm_rtc *r, int64_t now)
{
	uint8_t b = r->regs[RTC_REG_B];
	int64_t p = rtc_period_ns(r), next = 0;

	if ((b & RTC_B_PIE) && p)
		next = (now / p + 1) * p;
	if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
		int64_t s = (now / RTC_NS + 1) * RTC_NS;

		if (!next || s < next)
			next = s;
	}
	return next;
}

/* At boundary t: raise the flags due there and, for an enabled one, IRQ8. */
static void rtc_fire(struct domain *d, struct hvm_rtc *r, int64_t t)
{
	uint8_t b = r->regs[RTC_REG_B], c = 0;
	int64_t p = rtc_period_ns(r);

	if (p && t % p == 0)
		c |= RTC_C_PF;
	if (t % RTC_NS == 0 && !(b & RTC_B_SET)) {
		time_t ts = (time_t)rtc_guest_s(r, t);
		struct tm tm;

		c |= RTC_C_UF;
		gmtime_r(&ts, &tm);
		if (rtc_alarm_match(r, &tm))
			c |= RTC_C_AF;
	}
	r->c_raised |= c;
	if (!(r->c_raised & RTC_C_IRQF) &&
	    (((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
	     ((c & RTC_C_UF) && (b & RTC_B_UIE)))) {
		r->c_raised |= RTC_C_IRQF;
		hvm_irq_line(d, RTC_IRQ, 1); /* an edge, as Xen's */
		hvm_irq_line(d, RTC_IRQ, 0);
	}
}

static int64_t rtc_irq8_next(struct domain *d)
{
	return rtc_next_event(&d->hvm->rtc, rtc_now_ns());
}

static void rtc_irq8_fire(struct domain *d, int64_t at)
{
	rtc_fire(d, &d->hvm->rtc, at);
}

void hvm_rtc_destroy(struct domain *d)
{
	hvm_ticker_destroy(&d->hvm->rtc.irq8);
	pthread_mutex_destroy(&d->hvm->rtc.lock);
}

static int rtc_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size)
{
	struct hvm_rtc *r = &d->hvm->rtc;
	int64_t now = rtc_now_ns();
	unsigned idx = r->index;

	if (port != RTC_PORT_INDEX && port != RTC_PORT_DATA)
		return 0;
	if (size != 1) { /* Xen: "bad access", reads all ones */
		if (!is_write)
			memset(data, 0xff, size);
		return 1;
	}
	if (port == RTC_PORT_INDEX && is_write) {
		r->index = data[0] & 0x7f;
		return r->index < HVM_RTC_REGS;
	}
	if (idx >= HVM_RTC_REGS)
		return 0; /* the device model's CMOS byte */
	if (port == RTC_PORT_INDEX) {
		data[0] = 0xff; /* the index port is write-only */
		return 1;
	}
	if (!is_write) {
		switch (rtc_is_time(idx) ? 0 : idx) {
		case 0:
			data[0] = rtc_time_reg(r, idx, now);
			break;
		case RTC_REG_A:
			data[0] = r->regs[RTC_REG_A];
			if ((data[0] & 0x70) == 0x20 && !(r->regs[RTC_REG_B] & RTC_B_SET) &&
			    now % 1000000000LL >= 1000000000LL - RTC_UIP_NS)
				data[0] |= RTC_A_UIP;
			break;
		case RTC_REG_C:
			data[0] = rtc_reg_c(r, now);
			break;
		case RTC_REG_D:
			data[0] = RTC_D_VRT;
			break;
		default:
			data[0] = r->regs[idx]; /* the alarm registers */
			break;
		}
		return 1;
	}
	switch (rtc_is_time(idx) ? 0 : idx) {
	case 0:
		rtc_time_write(r, idx, data[0], now);
		break;
	case RTC_REG_A:
		r->regs[RTC_REG_A] = data[0] & 0x7f;
		break;
	case RTC_REG_B:
		if ((data[0] & RTC_B_SET) && !(r->regs[RTC_REG_B] & RTC_B_SET))
			r->frozen_s = rtc_guest_s(r, now);
		else if (!(data[0] & RTC_B_SET) && (r->regs[RTC_REG_B] & RTC_B_SET))
			r->offset_s = r->frozen_s - now / 1000000000LL;
		/* as Xen: SET clears UIE */
		r->regs[RTC_REG_B] = (data[0] & RTC_B_SET) ? data[0] & ~RTC_B_UIE : data[0];
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		r->regs[idx] = data[0];
		break;
	}
	if (idx == RTC_REG_A || idx == RTC_REG_B) {
		/* the IRQ8 thread, from the first interrupt enabled */
		hvm_ticker_kick(&r->irq8, r->regs[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE));
	}
	return 1;
}

int hvm_rtc_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size)
{
	struct hvm_rtc *r = &d->hvm->rtc;
	int handled;

	if (port != RTC_PORT_INDEX && port != RTC_PORT_DATA)
		return 0;
	pthread_mutex_lock(&r->lock);
	handled = rtc_io(d, port, is_write, data, size);
	pthread_mutex_unlock(&r->lock);
	return handled;
}
