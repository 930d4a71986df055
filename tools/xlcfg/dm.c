/*
 * The device model's keys and an HVM domain's platform keys, as xl reads
 * them (parse_config_data) and libxl checks them for qemu-xen, Keel's only
 * device model.  Device model: device_model_override= (the QEMU xl runs),
 * device_model_version= ("qemu-xen"; qemu-xen-traditional refused),
 * device_model_args= and device_model_args_hvm= (string lists xl hands to
 * QEMU).  HVM only, as xl reads them in its HVM branch: usb=, usbdevice=
 * (a list, or one string), usbversion= (libxl's controllers 1..3, used
 * only without usb=/usbdevice=), bios= (seabios; libxl refuses rombios for
 * qemu-xen; ovmf refused here), firmware= (the HVM shorthand for bios= or
 * a firmware path), firmware_override= (hvmloader's replacement, relative
 * to Xen's firmware directory as libxl resolves it), bios_path_override=,
 * and the booleans hpet=, apic=, pae=, nx= and viridian= (or viridian's
 * list of enlightenment groups).  What Keel cannot apply (apic/pae/nx
 * turned off, viridian) is accepted with a warning, not refused: the
 * guest still runs the same, only without the hint or the hidden feature.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xlcfg.h"

#define DM_XENFIRMWAREDIR "/usr/lib/xen-4.17/boot"

#define AT(key) XLCFG_KEY_POS(cfg, key)

/* device_model_args*: a list of strings, as xl's xlu_cfg_get_list_as_string_list. */
static int dm_args(struct xlcfg *cfg, const char *key, char ***v, int *n)
{
	int r = xlcfg_get_string_list(cfg, key, v, n);

	if (r == -ENOENT)
		return 0;
	if (r == -EINVAL)
		xlcfg_error(cfg, AT(key), "xl: Unable to parse %s.", key);
	return r;
}

/* libxl__abs_path: a relative firmware name is in Xen's firmware directory. */
static int dm_firmware_path(const char *s, char **slot)
{
	free(*slot);
	if (*s == '/')
		*slot = strdup(s);
	else if (asprintf(slot, "%s/%s", DM_XENFIRMWAREDIR, s) < 0)
		*slot = NULL;
	return *slot ? 0 : -ENOMEM;
}

/* A bios kind, as libxl_bios_type_from_string knows them (case aside):
 * seabios is what Keel runs; rombios libxl refuses for qemu-xen; ovmf Keel
 * cannot run.  1 for a kind that is not one of the three. */
static int dm_bios_kind(struct xlcfg *cfg, const char *key, const char *s)
{
	if (!strcasecmp(s, "seabios"))
		return 0;
	if (!strcasecmp(s, "rombios")) {
		xlcfg_error(cfg, AT(key), "qemu-xen does not support bios=rombios.");
		return -EINVAL;
	}
	if (!strcasecmp(s, "ovmf")) {
		xlcfg_error(cfg, AT(key),
			    "%s=\"%s\": Keel runs SeaBIOS only: OVMF on Xen needs PV-on-HVM "
			    "(grant frames, the Xen platform device's event channels), which "
			    "keeld does not serve yet",
			    key, s);
		return -EINVAL;
	}
	return 1;
}

/* libxl's names of the viridian enlightenment groups (libxl_types.idl). */
static const char *const dm_viridian_groups[] = {
	"base",
	"freq",
	"time_ref_count",
	"reference_tsc",
	"hcall_remote_tlb_flush",
	"apic_assist",
	"crash_ctl",
	"synic",
	"stimer",
	"hcall_ipi",
	"ex_processor_masks",
	"no_vp_limit",
	"cpu_hotplug",
};

/* viridian=: a boolean, or xl's list of groups ("all", "defaults", NAME, !NAME). */
static int dm_viridian(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	struct xlcfg_setting *st = xlcfg_find(cfg, "viridian");
	struct xlcfg_value *list;

	if (!st)
		return 0;
	if (st->value->type != XLCFG_LIST)
		return xlcfg_take_tristate(cfg, "viridian", &dom->viridian);
	list = st->value;
	for (int i = 0; i < list->n_items; i++) {
		const struct xlcfg_value *it = list->items[i];
		const char *g = it->type == XLCFG_STRING ? it->string : "";
		bool known = !strcmp(g, "all") || !strcmp(g, "defaults");

		g += *g == '!' && !known;
		for (size_t j = 0; !known && j < sizeof(dm_viridian_groups) / sizeof(char *); j++)
			known = !strcasecmp(g, dm_viridian_groups[j]);
		if (!known) {
			xlcfg_error(cfg, it->line, it->col,
				    "xl: unknown viridian enlightenment '%s'", g);
			return -EINVAL;
		}
	}
	dom->viridian = list->n_items ? XLCFG_TRUE : XLCFG_FALSE;
	return 0;
}

/* The keys of the device model itself: read for every domain type, as xl. */
static int dm_device_model(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *s;
	int r;

	if ((r = xlcfg_take_string(cfg, "device_model_override", &dom->dm_override)))
		return r;
	if (dom->dm_override && !*dom->dm_override) {
		free(dom->dm_override);
		dom->dm_override = NULL;
	}
	r = xlcfg_get_string(cfg, "device_model_version", &s);
	if (r == 0) {
		if (!strcmp(s, "qemu-xen-traditional")) {
			xlcfg_error(cfg, AT("device_model_version"),
				    "device_model_version=\"qemu-xen-traditional\": Keel's device "
				    "model is upstream QEMU (\"qemu-xen\") only");
			return -EINVAL;
		}
		if (strcmp(s, "qemu-xen")) {
			xlcfg_error(cfg, AT("device_model_version"),
				    "Unknown device_model_version \"%s\" specified", s);
			return -EINVAL;
		}
	} else if (r != -ENOENT) {
		xlcfg_error(cfg, AT("device_model_version"),
			    "invalid value for `device_model_version'");
		return r;
	} else if (dom->dm_override) {
		fprintf(cfg->report,
			"WARNING: device model override given without specific DM version\n");
	}
	if ((r = dm_args(cfg, "device_model_args", &dom->dm_args, &dom->n_dm_args)) ||
	    (r = dm_args(cfg, "device_model_args_hvm", &dom->dm_args_hvm, &dom->n_dm_args_hvm)))
		return r;
	/* Keel's PV domains start QEMU for qdisk disks only, as Keel's default */
	if (dom->type != XLCFG_TYPE_HVM && (dom->dm_override || dom->n_dm_args))
		xlcfg_warn(cfg,
			   xlcfg_key_line(cfg, dom->dm_override ? "device_model_override"
								: "device_model_args"),
			   "device_model_override= and device_model_args= are read for HVM "
			   "domains only: a PV domain's qdisk QEMU is Keel's default; ignored");
	return 0;
}

/* usb=, usbdevice=, usbversion=, as xl reads them and libxl checks them. */
static int dm_usb(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	struct xlcfg_setting *st;
	long l;
	int r;

	if ((r = xlcfg_take_tristate(cfg, "usb", &dom->usb)))
		return r;
	st = xlcfg_find(cfg, "usbdevice");
	if (st && st->value->type == XLCFG_LIST)
		r = xlcfg_get_string_list(cfg, "usbdevice", &dom->usbdevice, &dom->n_usbdevice);
	else if (st && !(dom->usbdevice = calloc(2, sizeof(char *))))
		r = -ENOMEM;
	else if (st && !(dom->usbdevice[0] = strdup(st->value->string)))
		r = -ENOMEM;
	else if (st)
		dom->n_usbdevice = 1;
	if (r == -EINVAL)
		xlcfg_error(cfg, AT("usbdevice"), "xl: Unable to parse usbdevice.");
	if (r)
		return r;
	for (int i = 0; i < dom->n_usbdevice; i++) {
		if (!*dom->usbdevice[i]) {
			xlcfg_error(cfg, AT("usbdevice"), "usbdevice: an empty device name");
			return -EINVAL;
		}
	}
	r = xlcfg_get_long(cfg, "usbversion", -2147483647L, 2147483647L, &l);
	if (r == 0)
		dom->usbversion = (int)l;
	else if (r != -ENOENT) {
		xlcfg_error(cfg, AT("usbversion"), "invalid value for `usbversion'");
		return r;
	}
	/* libxl: usbversion= counts only without usb=/usbdevice= */
	if (dom->usb != XLCFG_TRUE && !dom->n_usbdevice && dom->usbversion &&
	    (dom->usbversion < 1 || dom->usbversion > 3)) {
		xlcfg_error(cfg, AT("usbversion"),
			    "usbversion parameter is invalid, must be between 1 and 3");
		return -EINVAL;
	}
	return 0;
}

/* bios=, firmware= (HVM), firmware_override=, bios_path_override=. */
static int dm_firmware(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *s;
	int r;

	r = xlcfg_get_string(cfg, "firmware_override", &s);
	if (r == 0 && *s)
		r = dm_firmware_path(s, &dom->hvm_firmware);
	else if (r == -EINVAL)
		xlcfg_error(cfg, AT("firmware_override"), "invalid value for `firmware_override'");
	if (r && r != -ENOENT)
		return r;
	if ((r = xlcfg_take_string(cfg, "bios_path_override", &dom->bios_path)))
		return r;
	r = xlcfg_get_string(cfg, "bios", &s);
	if (r == 0) {
		r = dm_bios_kind(cfg, "bios", s);
		if (r == 1) {
			xlcfg_error(cfg, AT("bios"), "ERROR: invalid value \"%s\" for \"bios\"", s);
			return -EINVAL;
		}
		if (r)
			return r;
	} else if (r != -ENOENT) {
		xlcfg_error(cfg, AT("bios"), "invalid value for `bios'");
		return r;
	} else if (dom->bios_path) {
		fprintf(cfg->report,
			"WARNING: bios_path_override given without specific bios name\n");
	}
	/* firmware=: a bios kind, "uefi" (OVMF), a prefix of "bios" (the
	 * default), else a path that replaces hvmloader */
	r = xlcfg_get_string(cfg, "firmware", &s);
	if (r == 0) {
		size_t n = strlen(s);

		if (!n)
			return 0; /* asks for nothing */
		r = dm_bios_kind(cfg, "firmware", s);
		if (r <= 0)
			return r;
		if (!strncmp(s, "uefi", n)) {
			xlcfg_error(cfg, AT("firmware"),
				    "firmware=\"%s\" (OVMF): Keel runs SeaBIOS only: OVMF on Xen "
				    "needs PV-on-HVM, which keeld does not serve yet",
				    s);
			return -EINVAL;
		}
		if (strncmp(s, "bios", n))
			return dm_firmware_path(s, &dom->hvm_firmware);
	} else if (r != -ENOENT) {
		xlcfg_error(cfg, AT("firmware"), "invalid value for `firmware'");
		return r;
	}
	return 0;
}

int xlcfg_parse_dm(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	int r;

	if ((r = dm_device_model(cfg, dom)))
		return r;
	if (dom->type != XLCFG_TYPE_HVM)
		return 0;
	if ((r = dm_usb(cfg, dom)) || (r = dm_firmware(cfg, dom)) ||
	    (r = xlcfg_take_tristate(cfg, "hpet", &dom->hpet)) ||
	    (r = xlcfg_take_tristate(cfg, "apic", &dom->apic)) ||
	    (r = xlcfg_take_tristate(cfg, "pae", &dom->pae)) ||
	    (r = xlcfg_take_tristate(cfg, "nx", &dom->nx)) || (r = dm_viridian(cfg, dom)))
		return r;
	/* what Keel's HVM domain cannot leave out: the guest runs as it would
	 * with the default, so xl says so and goes on (as libxl warns) */
	if (dom->apic == XLCFG_FALSE)
		xlcfg_warn(cfg, xlcfg_key_line(cfg, "apic"),
			   "apic=0 is not applied by Keel: hvmloader's tables always describe "
			   "the APIC (hvm_info's apic_mode is 1)");
	if (dom->pae == XLCFG_FALSE)
		xlcfg_warn(cfg, xlcfg_key_line(cfg, "pae"),
			   "pae=0 is not applied by Keel (no CPUID policy): the guest sees PAE");
	if (dom->nx == XLCFG_FALSE)
		xlcfg_warn(cfg, xlcfg_key_line(cfg, "nx"),
			   "nx=0 is not applied by Keel (no CPUID policy): the guest sees NX");
	if (dom->viridian == XLCFG_TRUE)
		xlcfg_warn(cfg, xlcfg_key_line(cfg, "viridian"),
			   "viridian: Keel has no Hyper-V enlightenments; the guest runs without "
			   "them");
	return 0;
}
