/*
 * Unit tests for disk specs (tools/xlcfg/disk.c) and virtual disk numbers
 * (tools/xlcfg/vdev.c): positional and keyword forms, flags, deprecated
 * prefixes, target= taking the rest, cdroms, every error xl reports, and
 * the VBD numbers of xen-vbd-interface(7).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xlcfg.h"

static char *disk_diag;
static size_t disk_diag_len;

static int disk_parse1(struct xlcfg_disk *d, const char *spec)
{
	FILE *f;
	int r;

	free(disk_diag);
	disk_diag = NULL;
	f = open_memstream(&disk_diag, &disk_diag_len);
	r = xlcfg_disk_parse(d, 1, &spec, "t.cfg:3:5", f);
	fclose(f);
	return r;
}

static void disk_test_positional(void)
{
	struct xlcfg_disk d;

	CU_ASSERT_EQUAL(disk_parse1(&d, "/dev/vg/guest-volume,raw,xvda,rw"), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/dev/vg/guest-volume");
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_RAW);
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvda");
	CU_ASSERT_TRUE(d.readwrite);
	CU_ASSERT_EQUAL(d.vdev_number, 51712);
	xlcfg_disk_clear(&d);

	CU_ASSERT_EQUAL(disk_parse1(&d, "/i.qcow2, qcow2, hdb, r"), 0);
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_QCOW2);
	CU_ASSERT_FALSE(d.readwrite);
	CU_ASSERT_EQUAL(d.vdev_number, (3 << 8) | (1 << 6));
	xlcfg_disk_clear(&d);

	/* empty format slot means raw */
	CU_ASSERT_EQUAL(disk_parse1(&d, "/x,,xvdb"), 0);
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_RAW);
	xlcfg_disk_clear(&d);
}

static void disk_test_keywords(void)
{
	struct xlcfg_disk d;

	CU_ASSERT_EQUAL(disk_parse1(&d, "vdev=xvdc, access=ro, format=vhd, backendtype=phy, "
					"script=block-drbd, backend=dd, discard, direct-io-safe, "
					"untrusted, target=/a,b,c"),
			0);
	CU_ASSERT_STRING_EQUAL(d.target, "/a,b,c");
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvdc");
	CU_ASSERT_FALSE(d.readwrite);
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_VHD);
	CU_ASSERT_EQUAL(d.backendtype, XLCFG_BACKEND_PHY);
	CU_ASSERT_STRING_EQUAL(d.script, "block-drbd");
	CU_ASSERT_STRING_EQUAL(d.backend_domname, "dd");
	CU_ASSERT_EQUAL(d.discard, XLCFG_TRUE);
	CU_ASSERT_TRUE(d.direct_io_safe);
	CU_ASSERT_EQUAL(d.trusted, XLCFG_FALSE);
	xlcfg_disk_clear(&d);

	/* a keyword may precede positionals, which then fill the remaining slots */
	CU_ASSERT_EQUAL(disk_parse1(&d, "format=qcow,/img,xvde,w"), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/img");
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvde");
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_QCOW);
	xlcfg_disk_clear(&d);
}

static void disk_test_prefixes_and_cdrom(void)
{
	struct xlcfg_disk d;

	/* with a deprecated prefix the format slot is skipped */
	CU_ASSERT_EQUAL(disk_parse1(&d, "phy:/dev/sdb1,xvda1,w"), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/dev/sdb1");
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvda1");
	CU_ASSERT_EQUAL(d.vdev_number, (202 << 8) | 1);
	xlcfg_disk_clear(&d);

	CU_ASSERT_EQUAL(disk_parse1(&d, "tap:aio:/images/x.img,xvdb,r"), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/images/x.img");
	CU_ASSERT_FALSE(d.readwrite);
	xlcfg_disk_clear(&d);

	CU_ASSERT_EQUAL(disk_parse1(&d, "qcow2:/i.q2,xvdc,w"), 0);
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_QCOW2);
	xlcfg_disk_clear(&d);

	CU_ASSERT_EQUAL(disk_parse1(&d, "drbd:res0,xvdd,w"), 0);
	CU_ASSERT_STRING_EQUAL(d.script, "block-drbd");
	CU_ASSERT_STRING_EQUAL(d.target, "res0");
	xlcfg_disk_clear(&d);

	/* empty cdrom: vdev:cdrom in the format slot after an empty target */
	CU_ASSERT_EQUAL(disk_parse1(&d, ",hdc:cdrom,r"), 0);
	CU_ASSERT_TRUE(d.is_cdrom);
	CU_ASSERT_TRUE(d.removable);
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_EMPTY);
	CU_ASSERT_STRING_EQUAL(d.vdev, "hdc");
	CU_ASSERT_EQUAL(d.vdev_number, 22 << 8);
	xlcfg_disk_clear(&d);

	CU_ASSERT_EQUAL(disk_parse1(&d, "vdev=hdd, devtype=cdrom"), 0);
	CU_ASSERT_PTR_NULL(d.target);
	CU_ASSERT_FALSE(d.readwrite);
	CU_ASSERT_EQUAL(d.format, XLCFG_FORMAT_EMPTY);
	xlcfg_disk_clear(&d);
}

static void disk_test_errors(void)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{"/x,raw", "no vdev specified"},
		{"vdev=xvda", "no target specified (and device not removable)"},
		{"/x,raw,xvda,rw,extra", "too many positional parameters"},
		{"/x,foo,xvda", "unknown value for format"},
		{"/x,raw,xvda,rx", "unknown value for access"},
		{"bogus=1,/x,raw,xvda", "unknown parameter"},
		{"/x,raw,xvda,format=qcow", "format respecified"},
		{"weird:/x,xvda", "unknown deprecated disk prefix"},
		{"/a=b,raw,xvda", "bad disk syntax"},
		{"devtype=floppy,/x,raw,xvda", "unknown value for type"},
		{"backendtype=nbd,/x,raw,xvda", "unknown value for backendtype"},
		{"/x,raw,xvda,rw,target=/y", "target respecified"},
	};
	struct xlcfg_disk d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = disk_parse1(&d, bad[i].spec);

		CU_ASSERT_EQUAL(r, -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(disk_diag, bad[i].msg));
		CU_ASSERT_PTR_NOT_NULL(strstr(disk_diag, "t.cfg:3:5: config parsing error in disk "
							 "specification"));
		if (!strstr(disk_diag, bad[i].msg))
			fprintf(stderr, "spec `%s': got %s", bad[i].spec, disk_diag);
	}
	/* target= swallows even what looks like another target= */
	CU_ASSERT_EQUAL(disk_parse1(&d, "vdev=xvda,target=/a,target=/b"), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/a,target=/b");
	xlcfg_disk_clear(&d);
}

static void disk_test_multi_spec(void)
{
	const char *specs[] = {"/img", "raw", "xvdf", "ro"};
	struct xlcfg_disk d;

	CU_ASSERT_EQUAL(xlcfg_disk_parse(&d, 4, specs, "cmdline", stderr), 0);
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvdf");
	CU_ASSERT_FALSE(d.readwrite);
	xlcfg_disk_clear(&d);
}

static void disk_test_vdev_numbers(void)
{
	static const struct {
		const char *vdev;
		int number;
	} ok[] = {
		{"xvda", 202 << 8},
		{"xvdb", (202 << 8) | (1 << 4)},
		{"xvdp15", (202 << 8) | (15 << 4) | 15},
		{"xvdq", (1 << 28) | (16 << 8)},
		{"xvda16", (1 << 28) | 16},
		{"xvdaa", (1 << 28) | (26 << 8)},
		{"xvdtq37", (1 << 28) | (536 << 8) | 37},
		{"d536p37", (1 << 28) | (536 << 8) | 37},
		{"d0p0", 202 << 8},
		{"d1p2", (202 << 8) | (1 << 4) | 2},
		{"sda", 8 << 8},
		{"sdb3", (8 << 8) | (1 << 4) | 3},
		{"sdp15", (8 << 8) | (15 << 4) | 15},
		{"hda", 3 << 8},
		{"hdb63", (3 << 8) | (1 << 6) | 63},
		{"hdc2", (22 << 8) | 2},
		{"hdd", (22 << 8) | (1 << 6)},
		{"51712", 51712},
		{"0xca00", 51712},
	};
	static const char *const bad[] = {"xvd",   "xvda0", "xvda01", "xvda256",    "sdq",
					  "sda16", "hde",   "hda64",  "vda",	    "xvdA",
					  "",	   "d1p",   "-1",     "99999999999"};
	int disk, part;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int n = xlcfg_vdev_number(ok[i].vdev, NULL, NULL);

		CU_ASSERT_EQUAL(n, ok[i].number);
		if (n != ok[i].number)
			fprintf(stderr, "%s: %d != %d\n", ok[i].vdev, n, ok[i].number);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(xlcfg_vdev_number(bad[i], NULL, NULL), -EINVAL);
	CU_ASSERT(xlcfg_vdev_number("xvdtq37", &disk, &part) > 0);
	CU_ASSERT_EQUAL(disk, 536);
	CU_ASSERT_EQUAL(part, 37);
	CU_ASSERT_EQUAL(xlcfg_vdev_number("51712", &disk, &part), -EINVAL);
}

static void disk_test_vdev_names(void)
{
	char buf[16];
	int disk, part;

	CU_ASSERT_EQUAL(xlcfg_vdev_name(0, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "xvda");
	CU_ASSERT_EQUAL(xlcfg_vdev_name(25, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "xvdz");
	CU_ASSERT_EQUAL(xlcfg_vdev_name(26, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "xvdaa");
	CU_ASSERT_EQUAL(xlcfg_vdev_name(536, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "xvdtq");
	/* name and number agree for every disk index */
	for (unsigned int i = 0; i < 20000; i += 7) {
		CU_ASSERT_EQUAL_FATAL(xlcfg_vdev_name(i, buf, sizeof(buf)), 0);
		CU_ASSERT_FATAL(xlcfg_vdev_number(buf, &disk, &part) > 0);
		CU_ASSERT_EQUAL_FATAL(disk, (int)i);
	}
	CU_ASSERT_EQUAL(xlcfg_vdev_name(1u << 20, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(xlcfg_vdev_name(0, buf, 4), -ENOSPC);
}

/*
 * The cases of Xen's own disk-spec regression test (tools/xl/check-xl-disk-
 * parse, culled from xl-disk-configuration): each group of specs, given as
 * separate words where xl's test passes several, must give the same disk.
 */
struct disk_expect {
	const char *target; /* NULL: absent */
	const char *vdev;
	enum xlcfg_disk_format format;
	enum xlcfg_disk_backend backend;
	const char *script;
	bool readwrite, is_cdrom;
	enum xlcfg_tristate discard, trusted;
};

static void disk_check(const char *const *specs, int n, const struct disk_expect *e)
{
	struct xlcfg_disk d;
	int r = xlcfg_disk_parse(&d, n, specs, "case", stderr);

	CU_ASSERT_EQUAL_FATAL(r, 0);
	if (e->target) {
		CU_ASSERT_STRING_EQUAL(d.target ? d.target : "(null)", e->target);
	} else {
		CU_ASSERT_PTR_NULL(d.target);
	}
	CU_ASSERT_STRING_EQUAL(d.vdev, e->vdev);
	CU_ASSERT_EQUAL(d.format, e->format);
	CU_ASSERT_EQUAL(d.backendtype, e->backend);
	if (e->script) {
		CU_ASSERT_STRING_EQUAL(d.script ? d.script : "(null)", e->script);
	} else {
		CU_ASSERT_PTR_NULL(d.script);
	}
	CU_ASSERT_EQUAL(d.readwrite, e->readwrite);
	CU_ASSERT_EQUAL(d.is_cdrom, e->is_cdrom);
	CU_ASSERT_EQUAL(d.removable, e->is_cdrom);
	CU_ASSERT_EQUAL(d.discard, e->discard);
	CU_ASSERT_EQUAL(d.trusted, e->trusted);
	xlcfg_disk_clear(&d);
}

#define ONE(e, ...)                                                                  \
	do {                                                                         \
		const char *specs_[] = {__VA_ARGS__};                                \
		disk_check(specs_, (int)(sizeof(specs_) / sizeof(specs_[0])), &(e)); \
	} while (0)

static void disk_test_xl_cases(void)
{
	const enum xlcfg_tristate D = XLCFG_DEFAULT;
	struct xlcfg_disk d;
	const char *foo = "foo";
	const struct disk_expect vol_hda = {
		"/dev/vg/guest-volume", "hda", XLCFG_FORMAT_RAW, 0, NULL, true, false, D, D};
	const struct disk_expect iso_hdc = {
		"/root/image.iso", "hdc", XLCFG_FORMAT_RAW, 0, NULL, false, true, D, D};
	const struct disk_expect phy_xvdb = {"/dev/vg/guest-volume",
					     "xvdb",
					     XLCFG_FORMAT_RAW,
					     XLCFG_BACKEND_PHY,
					     NULL,
					     true,
					     false,
					     D,
					     D};
	const struct disk_expect empty_hdc = {"", "hdc", XLCFG_FORMAT_EMPTY, 0, NULL, false, true,
					      D,  D};
	const struct disk_expect none_hdc = {NULL, "hdc", XLCFG_FORMAT_EMPTY, 0, NULL, false, true,
					     D,	   D};
	const struct disk_expect iscsi = {
		"iqn.2001-05.com.equallogic:0-8a0906-23fe93404-c82797962054a96d-examplehost",
		"xvda",
		XLCFG_FORMAT_RAW,
		0,
		"block-iscsi",
		true,
		false,
		D,
		D};
	const struct disk_expect drbd = {
		"app01", "hda", XLCFG_FORMAT_RAW, 0, "block-drbd", true, false, D, D};
	const struct disk_expect discard = {"/some/disk/image.raw",
					    "hda",
					    XLCFG_FORMAT_RAW,
					    0,
					    NULL,
					    true,
					    false,
					    XLCFG_TRUE,
					    D};
	const struct disk_expect nodiscard_cd = {"/some/disk/image.iso",
						 "hda",
						 XLCFG_FORMAT_RAW,
						 0,
						 NULL,
						 false,
						 true,
						 XLCFG_FALSE,
						 D};
	const struct disk_expect trusted = {"/some/disk/image.raw",
					    "hda",
					    XLCFG_FORMAT_RAW,
					    0,
					    NULL,
					    true,
					    false,
					    D,
					    XLCFG_TRUE};
	const struct disk_expect untrusted = {"/some/disk/image.raw",
					      "hda",
					      XLCFG_FORMAT_RAW,
					      0,
					      NULL,
					      true,
					      false,
					      D,
					      XLCFG_FALSE};

	FILE *devnull = fopen("/dev/null", "w");

	CU_ASSERT_EQUAL(xlcfg_disk_parse(&d, 1, &foo, "case", devnull), -EINVAL);
	fclose(devnull);
	ONE(vol_hda, "/dev/vg/guest-volume,,hda");
	ONE(vol_hda, "/dev/vg/guest-volume,raw,hda,rw");
	ONE(vol_hda, "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume");
	ONE(vol_hda, "format=raw", "vdev=hda", "access=rw", "target=/dev/vg/guest-volume");
	ONE(vol_hda, "raw:/dev/vg/guest-volume,hda,w");
	ONE(iso_hdc, "/root/image.iso,,hdc,cdrom");
	ONE(iso_hdc, "/root/image.iso,,hdc,,cdrom");
	ONE(iso_hdc, "/root/image.iso,raw,hdc,devtype=cdrom");
	ONE(iso_hdc, "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso");
	ONE(iso_hdc, "format=raw", "vdev=hdc", "access=ro", "devtype=cdrom",
	    "target=/root/image.iso");
	ONE(iso_hdc, "raw:/root/image.iso,hdc:cdrom,ro");
	ONE(phy_xvdb, "backendtype=phy,vdev=xvdb,access=w,target=/dev/vg/guest-volume");
	ONE(empty_hdc, "devtype=cdrom,,,hdc");
	ONE(empty_hdc, ",,hdc:cdrom,r");
	ONE(empty_hdc, ",hdc:cdrom,r");
	ONE(empty_hdc, "vdev=hdc,access=r,devtype=cdrom,target=");
	ONE(empty_hdc, ",empty,hdc:cdrom,r");
	ONE(none_hdc, "vdev=hdc,access=r,devtype=cdrom,format=empty");
	ONE(none_hdc, "vdev=hdc,access=r,devtype=cdrom");
	ONE(iscsi, "iscsi:iqn.2001-05.com.equallogic:0-8a0906-23fe93404-c82797962054a96d-"
		   "examplehost,xvda,w");
	ONE(iscsi, "vdev=xvda,access=w,script=block-iscsi,target=iqn.2001-05.com.equallogic:0-"
		   "8a0906-23fe93404-c82797962054a96d-examplehost");
	ONE(drbd, "drbd:app01,hda,w");
	ONE(discard, "discard", "vdev=hda", "target=/some/disk/image.raw");
	ONE(nodiscard_cd, "cdrom", "no-discard", "vdev=hda", "target=/some/disk/image.iso");
	ONE(trusted, "trusted", "vdev=hda", "target=/some/disk/image.raw");
	ONE(untrusted, "untrusted", "vdev=hda", "target=/some/disk/image.raw");
}

static int disk_cleanup(void)
{
	free(disk_diag);
	disk_diag = NULL;
	return 0;
}

UNIT_SUITE(xlcfg_disk, NULL, disk_cleanup, UNIT_TEST(disk_test_positional),
	   UNIT_TEST(disk_test_keywords), UNIT_TEST(disk_test_prefixes_and_cdrom),
	   UNIT_TEST(disk_test_errors), UNIT_TEST(disk_test_multi_spec),
	   UNIT_TEST(disk_test_vdev_numbers), UNIT_TEST(disk_test_vdev_names),
	   UNIT_TEST(disk_test_xl_cases))
