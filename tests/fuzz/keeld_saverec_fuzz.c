/*
 * libFuzzer target for keeld's restore reader (ctl_restore_check in
 * hypervisor/ctl/ctl_save.c over hypervisor/core/saverec.c): a state is
 * split into records, each record's length and checksum checked, then
 * every value checked against the domain it would go into -- all before
 * anything is touched.  Inputs whose first byte is odd are taken as they
 * are; the others are edits (offset, value pairs) to a valid hand-written
 * state (tests/unit/saverec_sample.c) with each record's checksum made
 * good again, so the value checks behind the CRCs are reached.  Bit 1 of
 * the first byte picks an HVM domain and the HVM kind's sample state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/ctl/ctl.h"
#include "../unit/saverec_sample.h"

/* Recompute each record's CRC after the edits (header: type, version,
 * flags, len, crc; payload padded to 8). */
static void ksf_fix_crcs(uint8_t *p, size_t len)
{
	size_t off = 16;

	while (off + 16 <= len) {
		uint32_t rlen, crc;

		memcpy(&rlen, p + off + 8, 4);
		if (rlen > len - off - 16)
			return;
		crc = (uint32_t)crc32(0L, p + off + 16, rlen);
		memcpy(p + off + 12, &crc, 4);
		off += 16 + rlen + (8 - rlen % 8) % 8;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srb pv, hvm;
	const struct domain_kind *kind;
	const struct srb *good;
	char err[256];

	if (!pv.p) {
		tsr_image(&pv, &tsr_good);
		tsr_hvm_image(&hvm, TSR_HVM_GOOD);
		if (pv.err || hvm.err)
			abort();
	}
	/* bit 1 of the first byte: an HVM domain and its records, else PV */
	kind = size && (data[0] & 2) ? &hvm_kind : &pv_kind;
	good = kind == &hvm_kind ? &hvm : &pv;
	if (size && (data[0] & 1)) {
		ctl_restore_check_kind(kind, data + 1, size - 1, TSR_PAGES, 1 + data[0] % 3, err,
				       sizeof(err));
		return 0;
	}
	{
		uint8_t *img = malloc(good->len);

		if (!img)
			return 0;
		memcpy(img, good->p, good->len);
		for (size_t i = 1; i + 4 <= size; i += 4) {
			uint32_t off = ((uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
					(uint32_t)data[i + 2] << 16) %
				       (uint32_t)good->len;

			img[off] = data[i + 3];
		}
		ksf_fix_crcs(img, good->len);
		ctl_restore_check_kind(kind, img, good->len, TSR_PAGES, 1, err, sizeof(err));
		free(img);
	}
	return 0;
}
