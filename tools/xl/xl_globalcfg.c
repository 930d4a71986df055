/*
 * xl's global configuration, /etc/xen/xl.conf (or $KEEL_XL_CONF), in
 * xl.cfg syntax, read once when a command starts, as xl's parse_global_config
 * does.  What Keel acts on:
 *
 *   vif.default.bridge (old name defaultbridge)   bridge of a vif that names none
 *   vif.default.script (old name vifscript)       script of a vif that names none
 *   vif.default.gatewaydev                        gatewaydev of a vif that names none
 *
 * as xl applies them: to each vif of xl create and xl network-attach before
 * its own settings, so a vif's bridge= or script= wins.  What Keel reads and
 * has nothing to do with: autoballoon ("on" is reported: keeld never
 * balloons dom0, whose memory is the host's), lockfile (Keel's toolstack
 * takes no global lock), output_format ("sxp" is reported: xl list -l prints
 * JSON only), blkdev_start (Keel attaches no disk in dom0), run_hotplug_scripts
 * (0 is reported: xl runs named scripts itself, xl_hotplug.c).  A missing file is no error;
 * a file that does not parse is, as in xl.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

#define XL_GLOBAL_CONFIG "/etc/xen/xl.conf"

static struct {
	bool loaded;
	char *bridge, *script, *gatewaydev;
} xl_global;

static char *xl_global_dup(struct xlcfg *cfg, const char *key, const char *old)
{
	const char *s;

	if (xlcfg_get_string(cfg, key, &s) == 0 || (old && xlcfg_get_string(cfg, old, &s) == 0))
		return strdup(s);
	return NULL;
}

int xl_global_config_load(void)
{
	const char *path = getenv("KEEL_XL_CONF");
	struct xlcfg *cfg;
	const char *s;
	char *data;
	size_t len = 0;
	int rc = 0;

	if (xl_global.loaded)
		return 0;
	xl_global.loaded = true;
	if (!path || !*path)
		path = XL_GLOBAL_CONFIG;
	data = xl_read_file(path, &len);
	if (!data && errno == ENOENT)
		return 0; /* no xl.conf: libxl's defaults */
	cfg = data ? xlcfg_new(path, stderr) : NULL;
	if (!cfg || xlcfg_parse_data(cfg, data, len) < 0) {
		fprintf(stderr, "Failed to parse config file: %s\n", path);
		rc = -EINVAL;
		goto out;
	}
	xl_global.bridge = xl_global_dup(cfg, "vif.default.bridge", "defaultbridge");
	xl_global.script = xl_global_dup(cfg, "vif.default.script", "vifscript");
	xl_global.gatewaydev = xl_global_dup(cfg, "vif.default.gatewaydev", NULL);
	if (xlcfg_get_string(cfg, "autoballoon", &s) == 0 && !strcmp(s, "on"))
		fprintf(stderr,
			"%s: autoballoon=\"on\" has no effect on Keel (dom0's memory is "
			"the host's)\n",
			path);
	if (xlcfg_get_string(cfg, "output_format", &s) == 0 && strcmp(s, "json"))
		fprintf(stderr, "%s: output_format=\"%s\": Keel's xl prints JSON only\n", path, s);
	{
		long v;

		if (xlcfg_get_long(cfg, "run_hotplug_scripts", 0, 1, &v) == 0 && v == 0)
			fprintf(stderr,
				"%s: run_hotplug_scripts=0: Keel's xl runs the hotplug "
				"scripts itself in any case\n",
				path);
	}
out:
	xlcfg_free(cfg);
	free(data);
	return rc;
}

int xl_global_vif_defaults(struct xlcfg_vif *vif)
{
	struct {
		char **slot;
		const char *v;
	} d[] = {{&vif->bridge, xl_global.bridge},
		 {&vif->script, xl_global.script},
		 {&vif->gatewaydev, xl_global.gatewaydev}};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (!*d[i].slot && d[i].v && !(*d[i].slot = strdup(d[i].v)))
			return -ENOMEM;
	return 0;
}
