/*
 * Unit tests of save images: xl's image format (tools/xl/xl_saveimg.c) --
 * a round trip with zero pages skipped, and every single-byte corruption
 * and every truncation of a small image refused before or while reading,
 * never crashing.  keeld's save records: test_keeld_save_records.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/xl/xl_saveimg.h"
#include "unit.h"

#define TSI_PAGES 64

static char tsi_path[64];
static uint8_t tsi_ram[TSI_PAGES * XL_SAVEIMG_PAGE];

static int tsi_init(void)
{
	int fd;

	snprintf(tsi_path, sizeof(tsi_path), "/tmp/keel-unit-saveimg.XXXXXX");
	fd = mkstemp(tsi_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int tsi_cleanup(void)
{
	unlink(tsi_path);
	return 0;
}

/* An image: a config, RAM with a few non-zero pages, a state blob. */
static size_t tsi_make(void)
{
	struct xl_saveimg_w *w;
	static const char cfg[] = "name = \"t\"\nmemory = 1\n";
	uint8_t state[300];
	FILE *f;
	long n;

	memset(tsi_ram, 0, sizeof(tsi_ram));
	for (int p = 3; p < TSI_PAGES; p += 7)
		memset(tsi_ram + p * XL_SAVEIMG_PAGE, 0x40 + p, XL_SAVEIMG_PAGE / 2);
	for (size_t i = 0; i < sizeof(state); i++)
		state[i] = (uint8_t)(i * 7);
	CU_ASSERT_EQUAL_FATAL(xl_saveimg_create(tsi_path, 1, &w), 0);
	CU_ASSERT_EQUAL(xl_saveimg_section(w, XL_SAVEIMG_CONFIG, sizeof(cfg)), 0);
	CU_ASSERT_EQUAL(xl_saveimg_write(w, cfg, sizeof(cfg)), 0);
	CU_ASSERT_EQUAL(xl_saveimg_write_memory(w, tsi_ram, TSI_PAGES, NULL, NULL), 0);
	CU_ASSERT_EQUAL(xl_saveimg_section(w, XL_SAVEIMG_STATE, sizeof(state)), 0);
	CU_ASSERT_EQUAL(xl_saveimg_write(w, state, sizeof(state)), 0);
	CU_ASSERT_EQUAL_FATAL(xl_saveimg_finish(w), 0);
	f = fopen(tsi_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return (size_t)n;
}

/* Read the whole image back as restore does; 0 only if all of it is good. */
static int tsi_read_all(uint8_t *ram)
{
	struct xl_saveimg_r *r;
	char err[160], buf[512];
	uint32_t type;
	uint64_t len;
	int rc = xl_saveimg_open(tsi_path, &r, err, sizeof(err));

	if (rc < 0)
		return rc;
	rc = xl_saveimg_next(r, &type, &len);
	if (rc == 0 && (type != XL_SAVEIMG_CONFIG || len > sizeof(buf)))
		rc = -EBADMSG;
	if (rc == 0)
		rc = xl_saveimg_read(r, buf, len);
	if (rc == 0)
		rc = xl_saveimg_next(r, &type, &len);
	if (rc == 0 && type != XL_SAVEIMG_MEMORY)
		rc = -EBADMSG;
	if (rc == 0)
		rc = xl_saveimg_read_memory(r, ram, TSI_PAGES, NULL, NULL);
	if (rc == 0)
		rc = xl_saveimg_next(r, &type, &len);
	if (rc == 0 && (type != XL_SAVEIMG_STATE || len > sizeof(buf)))
		rc = -EBADMSG;
	if (rc == 0)
		rc = xl_saveimg_read(r, buf, len);
	if (rc == 0)
		rc = xl_saveimg_next(r, &type, &len);
	if (rc == 0 && type != XL_SAVEIMG_END)
		rc = -EBADMSG;
	if (rc == 0)
		rc = xl_saveimg_check_end(r);
	xl_saveimg_close(r);
	return rc;
}

static void tsi_roundtrip(void)
{
	static uint8_t back[sizeof(tsi_ram)];
	size_t n = tsi_make();

	/* 9 half-filled pages of 64: the zero pages are not in the image */
	CU_ASSERT(n < 9 * XL_SAVEIMG_PAGE);
	memset(back, 0, sizeof(back));
	CU_ASSERT_EQUAL(tsi_read_all(back), 0);
	CU_ASSERT_EQUAL(memcmp(back, tsi_ram, sizeof(back)), 0);
}

static void tsi_every_byte_flipped(void)
{
	static uint8_t back[sizeof(tsi_ram)];
	size_t n = tsi_make();
	uint8_t *orig = malloc(n);
	int fd = open(tsi_path, O_RDWR);

	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(pread(fd, orig, n, 0), (ssize_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = orig[i] ^ 0x5a;

		CU_ASSERT_EQUAL_FATAL(pwrite(fd, &b, 1, (off_t)i), 1);
		if (tsi_read_all(back) == 0)
			CU_FAIL("an image with a corrupt byte was accepted");
		CU_ASSERT_EQUAL_FATAL(pwrite(fd, &orig[i], 1, (off_t)i), 1);
	}
	close(fd);
	CU_ASSERT_EQUAL(tsi_read_all(back), 0); /* restored: good again */
	free(orig);
}

static void tsi_every_truncation(void)
{
	static uint8_t back[sizeof(tsi_ram)];
	size_t n = tsi_make();

	for (size_t len = 0; len < n; len++) {
		CU_ASSERT_EQUAL_FATAL(truncate(tsi_path, (off_t)len), 0);
		if (tsi_read_all(back) == 0)
			CU_FAIL("a truncated image was accepted");
	}
}

UNIT_SUITE(keeld_save_image, tsi_init, tsi_cleanup, UNIT_TEST(tsi_roundtrip),
	   UNIT_TEST(tsi_every_byte_flipped), UNIT_TEST(tsi_every_truncation));
