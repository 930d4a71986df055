/*
 * libFuzzer target for everything libkeelxlcfg parses from outside: the
 * xl.cfg grammar and the domain builder behind it (disk and vif specs,
 * numbers, actions), the domain's JSON / xl.cfg / libvirt XML writers, and
 * the libvirt XML reader.  The first input byte picks the entry point.
 * Diagnostics go to a null stream so the fuzzer's output stays readable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

static FILE *fuzz_null;

static void fuzz_outputs(struct xlcfg_domain *dom)
{
	xlcfg_domain_to_json(dom, fuzz_null);
	xlcfg_domain_to_cfg(dom, fuzz_null);
	xlcfg_domain_to_libvirt(dom, fuzz_null);
	if (xlcfg_domain_set_defaults(dom, fuzz_null) == 0)
		xlcfg_domain_to_json(dom, fuzz_null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlcfg_domain dom;

	if (!fuzz_null)
		fuzz_null = fopen("/dev/null", "w");
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct xlcfg *cfg = xlcfg_new("fuzz.cfg", fuzz_null);

		if (!cfg)
			return 0;
		if (xlcfg_parse_data(cfg, (const char *)data + 1, size - 1) == 0 &&
		    xlcfg_domain_from_cfg(&dom, cfg) == 0) {
			fuzz_outputs(&dom);
			xlcfg_domain_clear(&dom);
		}
		xlcfg_free(cfg);
	} else if (data[0] & 2) {
		if (xlcfg_domain_from_libvirt(&dom, (const char *)data + 1, size - 1, "fuzz.xml",
					      fuzz_null) == 0) {
			fuzz_outputs(&dom);
			xlcfg_domain_clear(&dom);
		}
	} else {
		/* one disk spec and one vif spec from a NUL-free copy */
		char *s = strndup((const char *)data + 1, size - 1);
		struct xlcfg_disk disk;
		struct xlcfg_vif vif;
		const char *spec = s;

		if (!s)
			return 0;
		if (xlcfg_disk_parse(&disk, 1, &spec, "fuzz", fuzz_null) == 0)
			xlcfg_disk_clear(&disk);
		if (xlcfg_vif_parse(&vif, s, "fuzz", fuzz_null) == 0)
			xlcfg_vif_clear(&vif);
		xlcfg_vdev_number(s, NULL, NULL);
		free(s);
	}
	return 0;
}
