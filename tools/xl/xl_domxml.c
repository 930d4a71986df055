/*
 * libvirt domain XML conversions, named after virsh's commands (xl has none):
 *   xl domxml-from-native xen-xl vm.cfg   xl.cfg -> libvirt XML on stdout
 *   xl domxml-to-native xen-xl vm.xml     libvirt XML -> xl.cfg on stdout
 * Neither needs the hypervisor.  ("xen-xl" is virsh's name for the format.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

static int check_format(const char *format, const char *cmd)
{
	if (strcmp(format, "xen-xl")) {
		fprintf(stderr, "xl %s: unsupported format `%s' (only xen-xl)\n", cmd, format);
		return -EINVAL;
	}
	return 0;
}

int main_domxml_from_native(int argc, char **argv)
{
	struct xlcfg_domain dom;
	int opt, rc;

	XL_FOREACH_OPT(opt, "", NULL, "domxml-from-native", 2)
	{
	}
	if (check_format(argv[optind], "domxml-from-native"))
		return 2;
	rc = xl_load_config(argv[optind + 1], NULL, &dom, true);
	if (rc)
		return rc;
	rc = xlcfg_domain_to_libvirt(&dom, stdout) < 0 ? 1 : 0;
	xlcfg_domain_clear(&dom);
	return rc;
}

int main_domxml_to_native(int argc, char **argv)
{
	struct xlcfg_domain dom;
	char *data = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int opt, rc;

	XL_FOREACH_OPT(opt, "", NULL, "domxml-to-native", 2)
	{
	}
	if (check_format(argv[optind], "domxml-to-native"))
		return 2;
	f = fopen(argv[optind + 1], "r");
	if (!f) {
		fprintf(stderr, "Failed to read file: %s: %s\n", argv[optind + 1], strerror(errno));
		return 3;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *n;

			if (cap > XLCFG_MAX_INPUT) {
				fprintf(stderr, "%s: file too large\n", argv[optind + 1]);
				fclose(f);
				free(data);
				return 1;
			}
			cap = cap ? cap * 2 : 16384;
			n = realloc(data, cap);
			if (!n) {
				fclose(f);
				free(data);
				return 1;
			}
			data = n;
		}
		got = fread(data + len, 1, cap - len, f);
		if (!got)
			break;
		len += got;
	}
	fclose(f);
	rc = xlcfg_domain_from_libvirt(&dom, data ? data : "", len, argv[optind + 1], stderr);
	free(data);
	if (rc < 0)
		return 1;
	rc = xlcfg_domain_to_cfg(&dom, stdout);
	if (rc < 0)
		fprintf(stderr, "%s: cannot express this domain as xl.cfg\n", argv[optind + 1]);
	xlcfg_domain_clear(&dom);
	return rc < 0 ? 1 : 0;
}
