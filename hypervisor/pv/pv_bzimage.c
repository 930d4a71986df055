/*
 * Linux bzImage support for the builder: find the protected-mode payload
 * through the setup header and decompress it (XZ via liblzma, gzip via
 * zlib).  What comes out is the vmlinux ELF with its Xen notes.
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pv_build.h"

#define BZ_MAX_OUT (512u << 20)

static int bz_xz(const uint8_t *in, size_t len, void **out, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 64 << 20;
	uint8_t *buf = malloc(cap);
	lzma_ret ret;

	if (!buf)
		return -ENOMEM;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		free(buf);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = len;
	s.next_out = buf;
	s.avail_out = cap;
	for (;;) {
		ret = lzma_code(&s, LZMA_FINISH);
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK && ret != LZMA_BUF_ERROR)
			goto bad;
		if (s.avail_out == 0) {
			size_t used = cap;
			uint8_t *nb;

			if (cap >= BZ_MAX_OUT)
				goto bad;
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto bad;
			buf = nb;
			s.next_out = buf + used;
			s.avail_out = cap - used;
		} else if (ret == LZMA_BUF_ERROR || s.avail_in == 0) {
			/* The input ended before the stream did: truncated (the
			 * size Linux appends comes after the stream's end, which
			 * stops the decoder first).  What came out so far used to
			 * be taken as the kernel (keeld-malformed-kernel). */
			goto bad;
		}
	}
	*out_len = cap - s.avail_out;
	*out = buf;
	lzma_end(&s);
	return *out_len ? 0 : -ENOEXEC;
bad:
	lzma_end(&s);
	free(buf);
	return -ENOEXEC;
}

static int bz_gzip(const uint8_t *in, size_t len, void **out, size_t *out_len)
{
	z_stream z;
	size_t cap = 64 << 20;
	uint8_t *buf = malloc(cap);
	int ret;

	if (!buf)
		return -ENOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = buf;
	z.avail_out = cap;
	for (;;) {
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END)
			break;
		if (ret != Z_OK && ret != Z_BUF_ERROR)
			goto bad;
		if (z.avail_out == 0) {
			size_t used = cap;
			uint8_t *nb;

			if (cap >= BZ_MAX_OUT)
				goto bad;
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto bad;
			buf = nb;
			z.next_out = buf + used;
			z.avail_out = cap - used;
		} else if (z.avail_in == 0) {
			goto bad;
		}
	}
	*out_len = cap - z.avail_out;
	*out = buf;
	inflateEnd(&z);
	return 0;
bad:
	inflateEnd(&z);
	free(buf);
	return -ENOEXEC;
}

int pv_bzimage_extract(const void *img, size_t size, void **elf, size_t *elf_size)
{
	const uint8_t *p = img;
	uint32_t off, len, setup;

	if (size < 0x250 || memcmp(p + 0x202, "HdrS", 4))
		return -ENOEXEC;
	setup = p[0x1f1] ? p[0x1f1] : 4;
	memcpy(&off, p + 0x248, 4);
	memcpy(&len, p + 0x24c, 4);
	if ((uint64_t)(setup + 1) * 512 + off + len > size || len < 6)
		return -ENOEXEC;
	p += (setup + 1) * 512 + off;
	if (!memcmp(p,
		    "\xfd"
		    "7zXZ",
		    6))
		return bz_xz(p, len, elf, elf_size);
	if (p[0] == 0x1f && p[1] == 0x8b)
		return bz_gzip(p, len, elf, elf_size);
	return -ENOTSUP;
}
