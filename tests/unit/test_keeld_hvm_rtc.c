/*
 * Unit tests of keeld's RTC for HVM domains (hypervisor/hvm/hvm_rtc.c), on
 * a domain that is only a struct: Xen's split of the CMOS (registers
 * 0x00-0x0d keeld's, the rest the device model's), register D, BCD and
 * binary, 24- and 12-hour values, a time set under SET and running on from
 * it, register C's flags cleared on read, a wide access refused, and the
 * IRQ8 thread raising PF and IRQF once PIE is on.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../hypervisor/hvm/hvm_domain.h"
#include "unit.h"

static struct domain trtc_d;

static int trtc_init(void)
{
	trtc_d.hvm = calloc(1, sizeof(*trtc_d.hvm));
	if (!trtc_d.hvm)
		return -1;
	trtc_d.vm.vm_fd = -1; /* no VM: the IRQ8 pulses fail quietly */
	hvm_rtc_init(&trtc_d);
	return 0;
}

static int trtc_cleanup(void)
{
	hvm_rtc_destroy(&trtc_d);
	free(trtc_d.hvm);
	return 0;
}

/* Write v to CMOS register idx; 1 if keeld took both accesses. */
static int trtc_write(uint8_t idx, uint8_t v)
{
	return hvm_rtc_io(&trtc_d, 0x70, 1, &idx, 1) && hvm_rtc_io(&trtc_d, 0x71, 1, &v, 1);
}

static uint8_t trtc_read(uint8_t idx)
{
	uint8_t v = 0x5a;

	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x70, 1, &idx, 1), 1);
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x71, 0, &v, 1), 1);
	return v;
}

static void trtc_split(void)
{
	uint8_t idx = 0x3d, v = 0;
	uint16_t wide = 0;

	/* the device model's bytes: neither the index nor the data is keeld's */
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x70, 1, &idx, 1), 0);
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x71, 0, &v, 1), 0);
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x71, 1, &v, 1), 0);
	idx = 0x80 | 0x0d; /* the NMI bit is not part of the index */
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x70, 1, &idx, 1), 1);
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x71, 0, &v, 1), 1);
	CU_ASSERT_EQUAL(v, 0x80);
	/* not the RTC's ports; a 16-bit access reads all ones, as Xen's */
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x72, 0, &v, 1), 0);
	CU_ASSERT_EQUAL(hvm_rtc_io(&trtc_d, 0x71, 0, (uint8_t *)&wide, 2), 1);
	CU_ASSERT_EQUAL(wide, 0xffff);
	CU_ASSERT_EQUAL(trtc_read(0x0b), 0x02); /* 24-hour BCD after reset */
}

static void trtc_modes(void)
{
	uint8_t s;

	CU_ASSERT(trtc_write(0x0b, 0x82)); /* SET: 17:45:30 on 2026-12-06 */
	CU_ASSERT(trtc_write(0x09, 0x26));
	CU_ASSERT(trtc_write(0x08, 0x12));
	CU_ASSERT(trtc_write(0x07, 0x06));
	CU_ASSERT(trtc_write(0x04, 0x17));
	CU_ASSERT(trtc_write(0x02, 0x45));
	CU_ASSERT(trtc_write(0x00, 0x30));
	CU_ASSERT_EQUAL(trtc_read(0x04), 0x17);
	CU_ASSERT_EQUAL(trtc_read(0x06), 0x01); /* a Sunday */
	CU_ASSERT(trtc_write(0x0b, 0x00));	/* 12-hour BCD, running */
	CU_ASSERT_EQUAL(trtc_read(0x04), 0x85); /* 5 pm */
	CU_ASSERT_EQUAL(trtc_read(0x02), 0x45);
	s = trtc_read(0x00);
	CU_ASSERT(s == 0x30 || s == 0x31 || s == 0x32);
	CU_ASSERT(trtc_write(0x0b, 0x06)); /* binary, 24-hour */
	CU_ASSERT_EQUAL(trtc_read(0x04), 17);
	CU_ASSERT_EQUAL(trtc_read(0x08), 12);
	CU_ASSERT_EQUAL(trtc_read(0x09), 26);
	CU_ASSERT(trtc_write(0x0b, 0x02));
	CU_ASSERT_EQUAL(trtc_read(0x0d), 0x80);
}

static void trtc_reg_c(void)
{
	uint8_t c;

	CU_ASSERT(trtc_write(0x0a, 0x2f)); /* 2 Hz periodic rate */
	CU_ASSERT(trtc_write(0x0b, 0x12)); /* UIE */
	trtc_read(0x0c);
	trtc_d.hvm->rtc.last_c_ns -= 2000000000LL; /* two seconds ago */
	c = trtc_read(0x0c);
	CU_ASSERT_EQUAL(c & 0xd0, 0xd0);	    /* IRQF, PF, UF */
	CU_ASSERT_EQUAL(trtc_read(0x0c) & 0x10, 0); /* cleared by the read */
	CU_ASSERT(trtc_write(0x0b, 0x92));	    /* SET clears UIE, as Xen's */
	CU_ASSERT_EQUAL(trtc_read(0x0b), 0x82);
	CU_ASSERT(trtc_write(0x0b, 0x02));
	CU_ASSERT(trtc_write(0x0a, 0xa6)); /* UIP is read-only */
	CU_ASSERT_EQUAL(trtc_read(0x0a) & 0x7f, 0x26);
}

/* PIE on: the IRQ8 thread raises PF and IRQF within a period or two. */
static void trtc_periodic(void)
{
	struct timespec ms = {0, 1000000};
	uint8_t raised = 0;

	CU_ASSERT(trtc_write(0x0a, 0x26)); /* 1024 Hz */
	trtc_read(0x0c);
	CU_ASSERT(trtc_write(0x0b, 0x42)); /* PIE */
	for (int i = 0; i < 1000 && !(raised & 0x80); i++) {
		nanosleep(&ms, NULL);
		pthread_mutex_lock(&trtc_d.hvm->rtc.lock);
		raised = trtc_d.hvm->rtc.c_raised;
		pthread_mutex_unlock(&trtc_d.hvm->rtc.lock);
	}
	CU_ASSERT_EQUAL(raised & 0xc0, 0xc0);
	CU_ASSERT(trtc_d.hvm->rtc.irq8.thread_ok);
	CU_ASSERT_EQUAL(trtc_read(0x0c) & 0xc0, 0xc0);
	CU_ASSERT(trtc_write(0x0b, 0x02));
}

UNIT_SUITE(keeld_hvm_rtc, trtc_init, trtc_cleanup, UNIT_TEST(trtc_split), UNIT_TEST(trtc_modes),
	   UNIT_TEST(trtc_reg_c), UNIT_TEST(trtc_periodic));
