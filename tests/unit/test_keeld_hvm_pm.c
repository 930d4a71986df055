/*
 * Unit tests of keeld's PM1a event block for HVM domains
 * (hypervisor/hvm/hvm_platform.c), on a domain that is only a struct:
 * dom0's power and sleep buttons set their status bits, the SCI follows
 * Xen's pmt_update_sci (asserted while a status bit and its enable bit
 * are both set), the guest's write-1-to-clear lowers it and keeps the
 * bits it did not write, byte accesses reach either half, and ports past
 * the block and the timer are not keeld's.  The timer's TMR_STS: set once
 * the 32-bit counter's top bit flips (time is driven by moving the
 * timer's zero, pm_base_ns, back), never before, cleared by writing 1,
 * an SCI only with TMR_EN, and raised by keeld's thread at the flip with
 * no access from the guest.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hypervisor/hvm/hvm_domain.h"
#include "unit.h"

#define TPM_STS 0x1f40 /* ACPI_IOPORTS_LOCATION 0: Xen's V0 block */
#define TPM_EN	0x1f42

static struct domain tpm_d;

static int tpm_init(void)
{
	tpm_d.hvm = calloc(1, sizeof(*tpm_d.hvm));
	if (!tpm_d.hvm)
		return -1;
	tpm_d.vm.vm_fd = -1; /* no VM: the SCI's KVM_IRQ_LINE fails quietly */
	hvm_pm_init(&tpm_d);
	return pthread_mutex_init(&tpm_d.hvm->ioreq_lock, NULL) ? -1 : 0;
}

static int tpm_cleanup(void)
{
	hvm_pm_destroy(&tpm_d); /* ends the TMR_STS thread */
	pthread_mutex_destroy(&tpm_d.hvm->ioreq_lock);
	free(tpm_d.hvm);
	return 0;
}

static uint16_t tpm_read16(uint16_t port)
{
	uint16_t v = 0xdead;

	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, port, 0, (uint8_t *)&v, 2), 0);
	return v;
}

static void tpm_write16(uint16_t port, uint16_t v)
{
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, port, 1, (uint8_t *)&v, 2), 0);
}

static void tpm_buttons(void)
{
	uint8_t b;

	tpm_write16(TPM_EN, 0);
	tpm_write16(TPM_STS, 0xffff);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
	/* pressed while not enabled: the bit, no SCI */
	CU_ASSERT_EQUAL(hvm_acpi_button(&tpm_d, 0), 0);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0x0100);
	CU_ASSERT_EQUAL(tpm_d.hvm->sci_level, 0);
	/* enabled: the SCI rises; cleared: it falls */
	tpm_write16(TPM_EN, 0x0100);
	CU_ASSERT_EQUAL(tpm_read16(TPM_EN), 0x0100);
	CU_ASSERT_EQUAL(tpm_d.hvm->sci_level, 1);
	tpm_write16(TPM_STS, 0x0100);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
	CU_ASSERT_EQUAL(tpm_d.hvm->sci_level, 0);
	/* the sleep button, enabled by a byte write to EN's upper half */
	b = 0x03;
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_EN + 1, 1, &b, 1), 0);
	CU_ASSERT_EQUAL(tpm_read16(TPM_EN), 0x0300);
	CU_ASSERT_EQUAL(hvm_acpi_button(&tpm_d, 1), 0);
	CU_ASSERT_EQUAL(tpm_d.hvm->sci_level, 1);
	CU_ASSERT_EQUAL(hvm_acpi_button(&tpm_d, 0), 0);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0x0300);
	/* clearing one bit keeps the other, and the SCI with it */
	tpm_write16(TPM_STS, 0x0200);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0x0100);
	CU_ASSERT_EQUAL(tpm_d.hvm->sci_level, 1);
	b = 0x01; /* a byte write to STS's upper half clears PWRBTN_STS */
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 1, 1, &b, 1), 0);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
	CU_ASSERT_EQUAL(tpm_d.hvm->sci_level, 0);
	tpm_write16(TPM_EN, 0);
}

/* ns from the timer's zero to its top bit's first flip (2^31 ticks) */
#define TPM_FLIP_NS ((uint64_t)(((unsigned __int128)1 << 31) * 1000000000ULL / HVM_PM_TMR_HZ))
#define TPM_MS	    1000000ULL

/* Make the timer read as elapsed ns since its zero. */
static void tpm_set_elapsed(uint64_t ns)
{
	__atomic_store_n(&tpm_d.hvm->pm_base_ns, hvm_now_ns() - ns, __ATOMIC_RELEASE);
}

static int tpm_sci(void)
{
	return __atomic_load_n(&tpm_d.hvm->sci_level, __ATOMIC_ACQUIRE);
}

static void tpm_timer_sts(void)
{
	uint32_t v = 0;
	int i;

	tpm_write16(TPM_EN, 0);
	tpm_write16(TPM_STS, 0xffff);
	/* 300 ms before the flip: the top bit is still clear, no TMR_STS */
	tpm_set_elapsed(TPM_FLIP_NS - 300 * TPM_MS);
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 8, 0, (uint8_t *)&v, 4), 0);
	CU_ASSERT(v >= 0x7f000000u && v < 0x80000000u);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
	/* past it: TMR_STS, but no SCI while TMR_EN is clear */
	tpm_set_elapsed(TPM_FLIP_NS + 10 * TPM_MS);
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 8, 0, (uint8_t *)&v, 4), 0);
	CU_ASSERT(v >= 0x80000000u && v < 0x81000000u); /* 32 bits, as Xen's */
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0x0001);
	CU_ASSERT_EQUAL(tpm_sci(), 0);
	/* TMR_EN: the SCI; writing 1 to TMR_STS: both gone, and the same
	 * flip does not set it again */
	tpm_write16(TPM_EN, 0x0001);
	CU_ASSERT_EQUAL(tpm_sci(), 1);
	tpm_write16(TPM_STS, 0x0001);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
	CU_ASSERT_EQUAL(tpm_sci(), 0);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
	/* the next flip (top bit back to 0, the counter wrapping) 200 ms
	 * ahead: keeld's thread raises it with no access; EN written again
	 * has the thread look at the moved zero */
	tpm_set_elapsed(2 * TPM_FLIP_NS - 200 * TPM_MS);
	tpm_write16(TPM_EN, 0x0001);
	CU_ASSERT_EQUAL(tpm_sci(), 0);
	for (i = 0; i < 300 && !tpm_sci(); i++)
		usleep(10000);
	CU_ASSERT_EQUAL(tpm_sci(), 1);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0x0001);
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 8, 0, (uint8_t *)&v, 4), 0);
	CU_ASSERT(v < 0x01000000u);
	/* TMR_EN cleared: the SCI drops though TMR_STS stays */
	tpm_write16(TPM_EN, 0);
	CU_ASSERT_EQUAL(tpm_sci(), 0);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0x0001);
	tpm_write16(TPM_STS, 0x0001);
	CU_ASSERT_EQUAL(tpm_read16(TPM_STS), 0);
}

static void tpm_ports(void)
{
	uint32_t v = 0;

	/* the timer (a dword at +8) is keeld's; PM1a control (+4) and the
	 * moved block's ports are not (the device model's, or unclaimed) */
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 8, 0, (uint8_t *)&v, 4), 0);
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 4, 0, (uint8_t *)&v, 2), -1);
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, 0xb000, 0, (uint8_t *)&v, 2), -1);
	CU_ASSERT_EQUAL(hvm_pm_io(&tpm_d, TPM_STS + 2, 0, (uint8_t *)&v, 4), -1);
}

UNIT_SUITE(keeld_hvm_pm, tpm_init, tpm_cleanup, UNIT_TEST(tpm_buttons), UNIT_TEST(tpm_timer_sts),
	   UNIT_TEST(tpm_ports));
