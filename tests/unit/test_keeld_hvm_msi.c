/*
 * Unit tests of keeld's XEN_DMOP_inject_msi checks (hypervisor/hvm/
 * hvm_irq.c, hvm_inject_msi), on a domain that is only a struct with no
 * VM (vm_fd -1): a message the checks refuse gets its errno before KVM is
 * asked; one they pass reaches KVM_SIGNAL_MSI, which fails with EBADF
 * here (hvm-os delivers real ones to a guest through QEMU's edu device).
 */
#include <errno.h>
#include <stdlib.h>

#include "../../hypervisor/hvm/hvm_domain.h"
#include "unit.h"

static struct domain tmsi_d;

static int tmsi_init(void)
{
	tmsi_d.hvm = calloc(1, sizeof(*tmsi_d.hvm));
	tmsi_d.vm.vm_fd = -1;
	return tmsi_d.hvm ? 0 : -1;
}

static int tmsi_cleanup(void)
{
	free(tmsi_d.hvm);
	return 0;
}

/* Both address forms Xen accepts: 0xfee00000 + offset, and the offset
 * alone (QEMU's xen-apic passes that); fixed and lowest priority, edge
 * and level, physical and logical destinations. */
static void tmsi_passes(void)
{
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfee00000, 0x41), -EBADF);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0x0, 0x41), -EBADF);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfeeff00c, 0x141), -EBADF);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xff004, 0x8041), -EBADF);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfee00000, 0xffff0041), -EBADF);
}

/* Outside the window or past 4 GiB, data over 32 bits, SMI, NMI, INIT,
 * start-up, ExtINT and the reserved mode: EINVAL; vector 0: ERANGE. */
static void tmsi_refused(void)
{
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfed00000, 0x41), -EINVAL);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0x100000, 0x41), -EINVAL);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0x1fee00000ULL, 0x41), -EINVAL);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfee00000, 1ULL << 32 | 0x41), -EINVAL);
	for (unsigned mode = 2; mode < 8; mode++)
		CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfee00000, mode << 8 | 0x41), -EINVAL);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfee00000, 0), -ERANGE);
	CU_ASSERT_EQUAL(hvm_inject_msi(&tmsi_d, 0xfee00000, 0x100), -ERANGE);
}

UNIT_SUITE(keeld_hvm_msi, tmsi_init, tmsi_cleanup, UNIT_TEST(tmsi_passes), UNIT_TEST(tmsi_refused));
