/*
 * Unit tests of keeld's PM1a event block for HVM domains
 * (hypervisor/hvm/hvm_platform.c), on a domain that is only a struct:
 * dom0's power and sleep buttons set their status bits, the SCI follows
 * Xen's pmt_update_sci (asserted while a status bit and its enable bit
 * are both set), the guest's write-1-to-clear lowers it and keeps the
 * bits it did not write, byte accesses reach either half, and ports past
 * the block and the timer are not keeld's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	return pthread_mutex_init(&tpm_d.hvm->ioreq_lock, NULL) ? -1 : 0;
}

static int tpm_cleanup(void)
{
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

UNIT_SUITE(keeld_hvm_pm, tpm_init, tpm_cleanup, UNIT_TEST(tpm_buttons), UNIT_TEST(tpm_ports));
