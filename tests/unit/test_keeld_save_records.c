/*
 * Unit tests of keeld's save records (hypervisor/core/saverec.c) and of the
 * restore reader's checks (hypervisor/ctl/ctl_save.c, ctl_restore_check).
 * The image here is written by hand from the format's description -- not
 * by keeld's writer -- so the test pins the format down: a good image is
 * accepted, and each kind of damage (truncated record, bad length, frame
 * out of range, wrong record or format version, bad checksum, duplicate,
 * missing or unknown record, a vCPU that does not exist) is refused with
 * its own reason before anything would be touched; every truncation and
 * every single flipped byte is refused.  Restore itself runs those
 * checks in a sandboxed helper (ctl_restore_sandboxed): its index and its
 * refusals are checked too.  An HVM domain's records (hypervisor/hvm/
 * hvm_save.c) the same way: a hand-written good state, each kind of
 * damage refused with its reason, truncations and flipped bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/core/domain.h"
#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/core/saverec.h"
#include "../../hypervisor/ctl/ctl.h"
#include "saverec_sample.h"
#include "unit.h"

static int tsr_check(const struct srb *img, char *err, size_t n)
{
	err[0] = 0;
	return ctl_restore_check(img->p, img->len, TSR_PAGES, 1, err, n);
}

static void tsr_accepts_good(void)
{
	struct srb img = {0};
	char err[256];

	tsr_image(&img, &tsr_good);
	CU_ASSERT_EQUAL_FATAL(img.err, 0);
	CU_ASSERT_EQUAL(tsr_check(&img, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "good image refused: %s\n", err);
	/* the domain it is offered to must be of the image's size */
	CU_ASSERT_EQUAL(ctl_restore_check(img.p, img.len, TSR_PAGES * 2, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "frames"));
	CU_ASSERT_EQUAL(ctl_restore_check(img.p, img.len, TSR_PAGES, 2, err, sizeof(err)), -EINVAL);
	srb_free(&img);
}

/* Each kind of damage: its errno and a word of its reason. */
static void tsr_refuses_one(const struct tsr_opts *t, int want, const char *why)
{
	struct srb img = {0};
	char err[256];

	tsr_image(&img, t);
	CU_ASSERT_EQUAL(tsr_check(&img, err, sizeof(err)), want);
	if (!strstr(err, why))
		fprintf(stderr, "reason '%s' lacks '%s'\n", err, why);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
	srb_free(&img);
}

static void tsr_refuses_bad_values(void)
{
	struct tsr_opts t;

	t = tsr_good, t.console_mfn = TSR_PAGES;
	tsr_refuses_one(&t, -EINVAL, "out of range");
	t = tsr_good, t.dom_version = 2;
	tsr_refuses_one(&t, -EPROTO, "version 2 not supported");
	t = tsr_good, t.vcpu_id = 1;
	tsr_refuses_one(&t, -EINVAL, "vCPU 1");
	t = tsr_good, t.skip_gdt = 1;
	tsr_refuses_one(&t, -EINVAL, "missing");
	t = tsr_good, t.dup_gdt = 1;
	tsr_refuses_one(&t, -EINVAL, "two gdt records");
	t = tsr_good, t.unknown_type = 1;
	tsr_refuses_one(&t, -EPROTO, "unknown type 99");
	t = tsr_good, t.page_type_at5 = 42;
	tsr_refuses_one(&t, -EINVAL, "frame 5 has type 42");
}

static void tsr_refuses_damage(void)
{
	struct srb img = {0};
	char err[256];
	uint8_t *copy;
	uint32_t len;

	tsr_image(&img, &tsr_good);
	copy = malloc(img.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	/* a record's length past the end (the domain record's, at 16 + 8) */
	memcpy(copy, img.p, img.len);
	len = 0x7fffff;
	memcpy(copy + 16 + 8, &len, 4);
	CU_ASSERT_EQUAL(ctl_restore_check(copy, img.len, TSR_PAGES, 1, err, sizeof(err)), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "past the end"));
	/* a shorter length: the checksum no longer matches */
	memcpy(copy, img.p, img.len);
	len = 8;
	memcpy(copy + 16 + 8, &len, 4);
	CU_ASSERT_EQUAL(ctl_restore_check(copy, img.len, TSR_PAGES, 1, err, sizeof(err)), -EBADMSG);
	/* another format version */
	memcpy(copy, img.p, img.len);
	copy[8] = 1;
	CU_ASSERT_EQUAL(ctl_restore_check(copy, img.len, TSR_PAGES, 1, err, sizeof(err)), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "format 1"));
	/* every truncation, every flipped byte: refused, never a crash */
	for (size_t n = 0; n < img.len; n++)
		CU_ASSERT_NOT_EQUAL(ctl_restore_check(img.p, n, TSR_PAGES, 1, err, sizeof(err)), 0);
	for (size_t i = 0; i < img.len; i++) {
		memcpy(copy, img.p, img.len);
		copy[i] ^= 0x5a;
		if (ctl_restore_check(copy, img.len, TSR_PAGES, 1, err, sizeof(err)) == 0) {
			fprintf(stderr, "byte %zu flipped: accepted\n", i);
			CU_FAIL("a flipped byte was accepted");
			break;
		}
	}
	free(copy);
	srb_free(&img);
}

/* Restore's own path: the image split and checked in the sandboxed
 * helper, whose index points where the in-process split does; its
 * refusals carry the helper's reason. */
static void tsr_sandboxed(void)
{
	struct saverec *mine = calloc(SAVEREC_MAX, sizeof(*mine));
	struct saverec *theirs = calloc(SAVEREC_MAX, sizeof(*theirs));
	struct srb img = {0};
	unsigned n = 0, m = 0;
	char err[256] = "";
	uint32_t len = 0x7fffff;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mine);
	CU_ASSERT_PTR_NOT_NULL_FATAL(theirs);
	tsr_image(&img, &tsr_good);
	CU_ASSERT_EQUAL_FATAL(img.err, 0);
	CU_ASSERT_EQUAL(saverec_split(img.p, img.len, mine, SAVEREC_MAX, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ctl_restore_sandboxed(&pv_kind, img.p, img.len, TSR_PAGES, 1, theirs, &m,
					      err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(m, n);
	for (unsigned i = 0; i < n && i < m; i++) {
		CU_ASSERT_EQUAL(theirs[i].type, mine[i].type);
		CU_ASSERT_EQUAL(theirs[i].len, mine[i].len);
		CU_ASSERT_PTR_EQUAL(theirs[i].data, mine[i].data);
	}
	/* a domain of another size: the helper's value checks refuse it */
	CU_ASSERT_EQUAL(ctl_restore_sandboxed(&pv_kind, img.p, img.len, TSR_PAGES * 2, 1, theirs,
					      &m, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "frames"));
	/* a length past the end: refused with the helper's reason */
	memcpy(img.p + 16 + 8, &len, 4);
	CU_ASSERT_EQUAL(ctl_restore_sandboxed(&pv_kind, img.p, img.len, TSR_PAGES, 1, theirs, &m,
					      err, sizeof(err)),
			-EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "past the end"));
	free(mine);
	free(theirs);
	srb_free(&img);
}

/* ---- an HVM domain's records (hypervisor/hvm/hvm_save.c) ---- */

static int tsr_hvm_check(const struct srb *img, char *err, size_t n)
{
	err[0] = 0;
	return ctl_restore_check_kind(&hvm_kind, img->p, img->len, TSR_PAGES, 1, err, n);
}

static void tsr_hvm_accepts_good(void)
{
	struct srb img = {0}, pv = {0};
	char err[256];

	tsr_hvm_image(&img, TSR_HVM_GOOD);
	CU_ASSERT_EQUAL_FATAL(img.err, 0);
	CU_ASSERT_EQUAL(tsr_hvm_check(&img, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "good HVM image refused: %s\n", err);
	/* of the image's size only; not for a PV domain, nor a PV image for HVM */
	CU_ASSERT_EQUAL(ctl_restore_check_kind(&hvm_kind, img.p, img.len, TSR_PAGES * 2, 1, err,
					       sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "frames"));
	CU_ASSERT_NOT_EQUAL(ctl_restore_check(img.p, img.len, TSR_PAGES, 1, err, sizeof(err)), 0);
	tsr_image(&pv, &tsr_good);
	CU_ASSERT_EQUAL(tsr_hvm_check(&pv, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an HVM domain's"));
	srb_free(&pv);
	srb_free(&img);
}

static void tsr_hvm_refuses_bad_values(void)
{
	static const struct {
		enum tsr_hvm_damage dmg;
		const char *why;
	} cases[] = {
		{TSR_HVM_PORTS, "ports"},
		{TSR_HVM_LAPIC_SIZE, "LAPIC of"},
		{TSR_HVM_MSR, "unexpected MSR"},
		{TSR_HVM_CHIP_ID, "chip 1 is chip 2"},
		{TSR_HVM_UNPOPULATED, "not populated"},
		{TSR_HVM_NO_IRQCHIP, "missing"},
		{TSR_HVM_PV_RECORD, "shared-info) is not an HVM domain's"},
		{TSR_HVM_HOLE_RANGES, "not this domain's ranges"},
		{TSR_HVM_RTC_INDEX, "RTC index"},
		{TSR_HVM_RELOC_RAM, "moved over RAM"},
		{TSR_HVM_RELOC_UNPOP, "is not populated"},
		{TSR_HVM_RELOC_OVERLAP, "overlap"},
		{TSR_HVM_RELOC_COUNT, "ranges in"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct srb img = {0};
		char err[256];

		tsr_hvm_image(&img, cases[i].dmg);
		CU_ASSERT_EQUAL(tsr_hvm_check(&img, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].why))
			fprintf(stderr, "HVM damage %d: reason '%s' lacks '%s'\n", cases[i].dmg,
				err, cases[i].why);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].why));
		srb_free(&img);
	}
}

/* Truncations and flipped bytes all through the image (every 61st: the
 * image is 400 KiB, mostly the region and the populated bitmap). */
static void tsr_hvm_refuses_damage(void)
{
	struct srb img = {0};
	char err[256];
	uint8_t *copy;

	tsr_hvm_image(&img, TSR_HVM_GOOD);
	copy = malloc(img.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	for (size_t n = 0; n < img.len; n += 61)
		CU_ASSERT_NOT_EQUAL(
			ctl_restore_check_kind(&hvm_kind, img.p, n, TSR_PAGES, 1, err, sizeof(err)),
			0);
	for (size_t i = 0; i < img.len; i += 61) {
		memcpy(copy, img.p, img.len);
		copy[i] ^= 0x5a;
		if (ctl_restore_check_kind(&hvm_kind, copy, img.len, TSR_PAGES, 1, err,
					   sizeof(err)) == 0) {
			fprintf(stderr, "HVM image byte %zu flipped: accepted\n", i);
			CU_FAIL("a flipped byte was accepted");
			break;
		}
	}
	free(copy);
	srb_free(&img);
}

UNIT_SUITE(keeld_save_records, NULL, NULL, UNIT_TEST(tsr_accepts_good),
	   UNIT_TEST(tsr_refuses_bad_values), UNIT_TEST(tsr_refuses_damage),
	   UNIT_TEST(tsr_sandboxed), UNIT_TEST(tsr_hvm_accepts_good),
	   UNIT_TEST(tsr_hvm_refuses_bad_values), UNIT_TEST(tsr_hvm_refuses_damage));
