/*
 * The arguments an HVM domain's device model gets from the config's USB,
 * platform and device model keys, as libxl__build_device_model_args_new
 * gives them to qemu-xen: usb=1 or a usbdevice= as -usb and one
 * -usbdevice per device, else usbversion= as libxl's controller (1: PIIX3
 * UHCI, 2: ICH9 EHCI with its three UHCI companions at 00:1d, 3: NEC
 * XHCI); acpi=0 as -no-acpi; then device_model_args=, the machine, and
 * device_model_args_hvm= right after it, where libxl puts them (so a
 * user's argument comes after Keel's own and wins where QEMU lets a later
 * option win).  One addition libxl has no need of: hpet=0 as -no-hpet,
 * since QEMU, not the hypervisor, is the guest's HPET under Keel (Xen
 * answers HVM_PARAM_HPET_ENABLED=0 with a region of all ones instead).
 * No allocation: every string is the config's or a constant, so this is
 * tested alone (tests/unit/test_xl_dm_args.c).
 */
#include <errno.h>
#include <stddef.h>

#include "xl_dm_args.h"

/* libxl's usbversion=2: ich9-usb-ehci1 and ich9-usb-uhci1..3 on masterbus usb.0 */
static const char *const xl_dm_usb2[] = {
	"-device", "ich9-usb-ehci1,id=usb,addr=0x1d.0x7,multifunction=on",
	"-device", "ich9-usb-uhci1,masterbus=usb.0,firstport=0,addr=0x1d.0,multifunction=on",
	"-device", "ich9-usb-uhci2,masterbus=usb.0,firstport=2,addr=0x1d.0x1,multifunction=on",
	"-device", "ich9-usb-uhci3,masterbus=usb.0,firstport=4,addr=0x1d.0x2,multifunction=on",
	NULL,
};

size_t xl_dm_hvm_args_max(const struct xlcfg_domain *d)
{
	return 16 + 2 * (size_t)d->n_usbdevice + (size_t)d->n_dm_args + (size_t)d->n_dm_args_hvm;
}

int xl_dm_hvm_args(const struct xlcfg_domain *d, char **argv, size_t max)
{
	size_t n = 0;

	if (max < xl_dm_hvm_args_max(d) + 1)
		return -E2BIG;
	if (d->usb == XLCFG_TRUE || d->n_usbdevice) {
		argv[n++] = "-usb";
		for (int i = 0; i < d->n_usbdevice; i++) {
			argv[n++] = "-usbdevice";
			argv[n++] = d->usbdevice[i];
		}
	} else if (d->usbversion == 1) {
		argv[n++] = "-device";
		argv[n++] = "piix3-usb-uhci,id=usb";
	} else if (d->usbversion == 2) {
		for (const char *const *a = xl_dm_usb2; *a; a++)
			argv[n++] = (char *)*a;
	} else if (d->usbversion == 3) {
		argv[n++] = "-device";
		argv[n++] = "nec-usb-xhci,id=usb";
	} else if (d->usbversion) {
		return -EINVAL; /* refused when the config was read */
	}
	if (d->acpi == XLCFG_FALSE)
		argv[n++] = "-no-acpi";
	if (d->hpet == XLCFG_FALSE)
		argv[n++] = "-no-hpet";
	for (int i = 0; i < d->n_dm_args; i++)
		argv[n++] = d->dm_args[i];
	argv[n++] = "-machine";
	argv[n++] = "xenfv";
	for (int i = 0; i < d->n_dm_args_hvm; i++)
		argv[n++] = d->dm_args_hvm[i];
	argv[n] = NULL;
	return (int)n;
}
