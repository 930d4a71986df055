/*
 * libFuzzer target for xl's save-image reader (tools/xl/xl_saveimg.c):
 * any bytes as an image file, read the way xl restore reads one (header
 * and CRC checks, then sections, RAM runs into a small buffer).  To get
 * past the CRCs, half the inputs have a fresh header put in front of
 * them, so the inflate and section parsing see fuzzed payloads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "xl_saveimg.h"

#define XSF_PAGES 16

static void xsf_read(const char *path)
{
	static uint8_t ram[XSF_PAGES * XL_SAVEIMG_PAGE];
	struct xl_saveimg_r *r;
	char err[160], buf[4096];
	uint32_t type;
	uint64_t len;

	if (xl_saveimg_open(path, &r, err, sizeof(err)) < 0)
		return;
	while (xl_saveimg_next(r, &type, &len) == 0) {
		if (type == XL_SAVEIMG_END) {
			xl_saveimg_check_end(r);
			break;
		}
		if (type == XL_SAVEIMG_MEMORY) {
			if (xl_saveimg_read_memory(r, ram, len < XSF_PAGES ? len : XSF_PAGES, NULL,
						   NULL) < 0)
				break;
			continue;
		}
		if (len > sizeof(buf) || xl_saveimg_read(r, buf, len) < 0)
			break;
	}
	xl_saveimg_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("xsf", 0);
	char path[64];

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (size && (data[0] & 1)) {
		/* a valid header and CRC around a zlib stream of the input */
		struct xl_saveimg_hdr h;
		uLongf clen = compressBound(size);
		uint8_t *c = malloc(clen);

		if (c && compress2(c, &clen, data + 1, size - 1, 1) == Z_OK) {
			memset(&h, 0, sizeof(h));
			memcpy(h.magic, XL_SAVEIMG_MAGIC, 8);
			h.version = XL_SAVEIMG_VERSION;
			h.hdr_size = sizeof(h);
			h.comp_size = clen;
			h.raw_size = size - 1;
			h.comp_crc = (uint32_t)crc32(0, c, (uInt)clen);
			h.hdr_crc = (uint32_t)crc32(0, (const Bytef *)&h, sizeof(h));
			if (write(fd, &h, sizeof(h)) == sizeof(h) &&
			    write(fd, c, clen) == (ssize_t)clen)
				xsf_read(path);
		}
		free(c);
	} else if (write(fd, data, size) == (ssize_t)size) {
		xsf_read(path);
	}
	close(fd);
	return 0;
}
