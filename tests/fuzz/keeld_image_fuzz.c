/*
 * libFuzzer target (make fuzz): kernel images are untrusted input to the
 * domain builder.  Feeds arbitrary bytes to the bzImage extractor and the
 * ELF/Xen-note parser, and copies every segment the parser accepts.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../hypervisor/pv/elf.h"
#include "../../hypervisor/pv/pv_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	void *unpacked = NULL;
	size_t usize = 0;
	const void *p = data;

	if (pv_bzimage_extract(data, size, &unpacked, &usize) == 0) {
		p = unpacked;
		size = usize;
	}
	if (elf_parse(p, size, &img) == 0) {
		for (int i = 0; i < img.nsegs; i++) {
			void *buf;

			if (img.segs[i].memsz > (16u << 20))
				continue;
			buf = malloc(img.segs[i].memsz);
			if (buf) {
				elf_copy_segment(&img, i, buf);
				free(buf);
			}
		}
	}
	free(unpacked);
	return 0;
}
