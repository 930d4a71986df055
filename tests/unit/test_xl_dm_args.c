/*
 * Unit tests for an HVM device model's arguments from the config's keys
 * (tools/xl/xl_dm_args.c): libxl's USB forms (usb=/usbdevice=, else
 * usbversion=), -no-acpi, -no-hpet, and device_model_args= before the
 * machine, device_model_args_hvm= right after it, as libxl places them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xl_dm_args.h"
#include "xlcfg.h"

/* The domain of config @text, its arguments joined by spaces into @out. */
static int dm_args_of(const char *text, char *out, size_t size)
{
	struct xlcfg_domain d;
	FILE *null = fopen("/dev/null", "w");
	struct xlcfg *cfg = xlcfg_new("t.cfg", null);
	char *argv[64];
	int r = xlcfg_parse_data(cfg, text, strlen(text));

	if (r == 0)
		r = xlcfg_domain_from_cfg(&d, cfg);
	xlcfg_free(cfg);
	fclose(null);
	if (r)
		return r;
	r = xl_dm_hvm_args(&d, argv, 64);
	out[0] = 0;
	for (int i = 0; i < r; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", argv[i]);
	CU_ASSERT(r < 0 || argv[r] == NULL);
	xlcfg_domain_clear(&d);
	return r;
}

static void test_xl_dm_args_forms(void)
{
	static const struct {
		const char *keys, *args;
	} cases[] = {
		{"", "-machine xenfv"},
		{"usb=1\n", "-usb -machine xenfv"},
		/* libxl: a usbdevice= alone enables the bus too, each its -usbdevice */
		{"usbdevice='tablet'\n", "-usb -usbdevice tablet -machine xenfv"},
		{"usb=1\nusbdevice=['tablet','mouse']\nusbversion=3\n",
		 "-usb -usbdevice tablet -usbdevice mouse -machine xenfv"},
		{"usbversion=1\n", "-device piix3-usb-uhci,id=usb -machine xenfv"},
		{"usbversion=2\n",
		 "-device ich9-usb-ehci1,id=usb,addr=0x1d.0x7,multifunction=on "
		 "-device ich9-usb-uhci1,masterbus=usb.0,firstport=0,addr=0x1d.0,multifunction=on "
		 "-device ich9-usb-uhci2,masterbus=usb.0,firstport=2,addr=0x1d.0x1,multifunction=on "
		 "-device ich9-usb-uhci3,masterbus=usb.0,firstport=4,addr=0x1d.0x2,multifunction=on "
		 "-machine xenfv"},
		{"usbversion=3\n", "-device nec-usb-xhci,id=usb -machine xenfv"},
		{"usb=0\nacpi=0\nhpet=0\n", "-no-acpi -no-hpet -machine xenfv"},
		{"acpi=1\nhpet=1\n", "-machine xenfv"},
		{"device_model_args=['-global','a.b=1']\ndevice_model_args_hvm=['-uuid','u']\n",
		 "-global a.b=1 -machine xenfv -uuid u"},
	};
	char text[512], out[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "name='h'\ntype='hvm'\n%s", cases[i].keys);
		CU_ASSERT(dm_args_of(text, out, sizeof(out)) > 0);
		CU_ASSERT_STRING_EQUAL(out, cases[i].args);
		if (strcmp(out, cases[i].args))
			fprintf(stderr, "dm args case %zu: %s\n", i, out);
	}
}

/* Too few slots: -E2BIG, nothing past them written. */
static void test_xl_dm_args_bounds(void)
{
	struct xlcfg_domain d;
	char *argv[64];

	memset(&d, 0, sizeof(d));
	d.usb = d.hpet = XLCFG_DEFAULT;
	d.acpi = XLCFG_DEFAULT;
	CU_ASSERT(xl_dm_hvm_args_max(&d) >= 3);
	CU_ASSERT_EQUAL(xl_dm_hvm_args(&d, argv, 2), -E2BIG);
	d.usbversion = 7; /* refused when read; never given to QEMU */
	CU_ASSERT_EQUAL(xl_dm_hvm_args(&d, argv, 64), -EINVAL);
}

UNIT_SUITE(xl_dm_args, NULL, NULL, UNIT_TEST(test_xl_dm_args_forms),
	   UNIT_TEST(test_xl_dm_args_bounds))
