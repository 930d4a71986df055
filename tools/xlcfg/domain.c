/*
 * Building Keel's typed domain description from parsed xl.cfg settings.
 * This follows xl's parse_config_data for the keys Keel implements: the same
 * defaults (type pv, one vCPU, maxmem = memory, maxvcpus = vcpus, on_poweroff
 * destroy, on_reboot restart, on_watchdog destroy, on_crash destroy,
 * on_soft_reset soft-reset, a fresh random UUID), the same checks and
 * messages (name required, maxvcpus >= vcpus, known shutdown actions,
 * cmdline overriding root/extra), disks through the disk-spec parser and
 * vifs through the vif-spec parser.  Unlike xl, a malformed number in a key
 * Keel uses fails the configuration instead of being ignored with a warning.
 * Keys Keel does not implement are reported once; keys nobody knows warn.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "xlcfg.h"
#include "xlcfg_keys.h"

static const char *const action_names[] = {
	[XLCFG_ACTION_DESTROY] = "destroy",
	[XLCFG_ACTION_RESTART] = "restart",
	[XLCFG_ACTION_RESTART_RENAME] = "rename-restart",
	[XLCFG_ACTION_PRESERVE] = "preserve",
	[XLCFG_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[XLCFG_ACTION_COREDUMP_RESTART] = "coredump-restart",
	[XLCFG_ACTION_SOFT_RESET] = "soft-reset",
};

const char *xlcfg_action_cfg_name(enum xlcfg_action a)
{
	if (a < XLCFG_ACTION_DESTROY || a > XLCFG_ACTION_SOFT_RESET)
		return NULL;
	return action_names[a];
}

int xlcfg_action_parse(const char *s, enum xlcfg_action *out)
{
	for (int a = XLCFG_ACTION_DESTROY; a <= XLCFG_ACTION_SOFT_RESET; a++) {
		if (!strcmp(s, action_names[a])) {
			*out = a;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xlcfg_type_name(enum xlcfg_domain_type t)
{
	return t == XLCFG_TYPE_HVM ? "hvm" : t == XLCFG_TYPE_PVH ? "pvh" : "pv";
}

void xlcfg_uuid_unparse(const uint8_t uuid[16], char out[37])
{
	uuid_unparse_lower(uuid, out);
}

int xlcfg_uuid_parse(const char *s, uint8_t uuid[16])
{
	return uuid_parse(s, uuid) ? -EINVAL : 0;
}

void xlcfg_mac_unparse(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void xlcfg_domain_clear(struct xlcfg_domain *dom)
{
	free(dom->name);
	free(dom->kernel);
	free(dom->ramdisk);
	free(dom->cmdline);
	free(dom->device_tree);
	free(dom->bootloader);
	free_strv(dom->bootloader_args, dom->n_bootloader_args);
	free_strv(dom->serial, dom->n_serial);
	free(dom->hvm_boot);
	free(dom->vnclisten);
	free(dom->vncpasswd);
	free(dom->dm_override);
	free_strv(dom->dm_args, dom->n_dm_args);
	free_strv(dom->dm_args_hvm, dom->n_dm_args_hvm);
	free_strv(dom->usbdevice, dom->n_usbdevice);
	free(dom->hvm_firmware);
	free(dom->bios_path);
	free_strv(dom->cpus, dom->n_cpus);
	free_strv(dom->cpus_soft, dom->n_cpus_soft);
	for (int i = 0; i < dom->n_disks; i++)
		xlcfg_disk_clear(&dom->disks[i]);
	free(dom->disks);
	for (int i = 0; i < dom->n_vifs; i++)
		xlcfg_vif_clear(&dom->vifs[i]);
	free(dom->vifs);
	free_strv(dom->unsupported, dom->n_unsupported);
	memset(dom, 0, sizeof(*dom));
}

/* Defaults before any key is read. */
static void domain_init(struct xlcfg_domain *dom)
{
	memset(dom, 0, sizeof(*dom));
	dom->type = XLCFG_TYPE_PV;
	dom->cpu_weight = dom->cap = -1;
	dom->max_grant_frames = dom->max_maptrack_frames = dom->max_event_channels = -1;
	dom->localtime = dom->nomigrate = dom->driver_domain = dom->acpi = XLCFG_DEFAULT;
	dom->on_poweroff = XLCFG_ACTION_DESTROY;
	dom->on_reboot = XLCFG_ACTION_RESTART;
	dom->on_watchdog = XLCFG_ACTION_DESTROY;
	dom->on_crash = XLCFG_ACTION_DESTROY;
	dom->on_soft_reset = XLCFG_ACTION_SOFT_RESET;
	dom->video_memkb = -1;
	dom->vnc = dom->vncunused = dom->nographic = XLCFG_DEFAULT;
	dom->usb = dom->hpet = dom->apic = dom->pae = dom->nx = dom->viridian = XLCFG_DEFAULT;
}

#define KEY_POS XLCFG_KEY_POS

/*
 * The getters only warn (as xl's do); for a key Keel uses a bad value is an
 * error, reported once here with the key's line.
 */
static int bad_key(struct xlcfg *cfg, const char *key, int r)
{
	if (r != -EINVAL)
		return r;
	xlcfg_error(cfg, KEY_POS(cfg, key), "invalid value for `%s'", key);
	return r;
}

int xlcfg_take_string(struct xlcfg *cfg, const char *key, char **slot)
{
	const char *s;
	int r = xlcfg_get_string(cfg, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r)
		return bad_key(cfg, key, r);
	free(*slot);
	*slot = strdup(s);
	return *slot ? 0 : -ENOMEM;
}

/* A number key; absent leaves *out alone.  Malformed is an error here. */
static int take_long(struct xlcfg *cfg, const char *key, long min, long max, long *out)
{
	int r = xlcfg_get_long(cfg, key, min, max, out);

	return r == -ENOENT ? 1 : bad_key(cfg, key, r);
}

int xlcfg_take_tristate(struct xlcfg *cfg, const char *key, enum xlcfg_tristate *out)
{
	bool b;
	int r = xlcfg_get_bool(cfg, key, &b);

	if (r == 0)
		*out = b ? XLCFG_TRUE : XLCFG_FALSE;
	return r == -ENOENT ? 0 : bad_key(cfg, key, r);
}

/* xl matches type/builder values as prefixes: "h" is hvm, "p" is pv. */
static bool prefix_of(const char *s, const char *word)
{
	return !strncmp(s, word, strlen(s));
}

/*
 * firmware= of a PV domain, xl's shorthand for PV-GRUB: a prefix of
 * "pvgrub32" or "pvgrub64" names XENFIRMWAREDIR/<name>.bin as the kernel,
 * and with kernel= it is an error, as xl says.  Debian ships no
 * pvgrub64.bin there but the same GRUB as grub-xen-host's
 * grub-x86_64-xen.bin (grub-i386-xen.bin for pvgrub32), so when Xen's file
 * is missing the full names fall back to Debian's ($KEEL_GRUB_XEN_DIR, else
 * /usr/lib/grub-xen).  For HVM, firmware= is kept for the HVM builder.
 */
#define XLCFG_XENFIRMWAREDIR "/usr/lib/xen-4.17/boot"
#define XLCFG_GRUB_XEN_DIR   "/usr/lib/grub-xen"

static int parse_pv_firmware(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *s, *grub_dir = getenv("KEEL_GRUB_XEN_DIR");
	char *xen = NULL, *deb = NULL;
	int r = xlcfg_get_string(cfg, "firmware", &s);

	if (r == -ENOENT || dom->type == XLCFG_TYPE_HVM)
		return 0;
	if (r)
		return r;
	if (dom->kernel) {
		xlcfg_error(cfg, KEY_POS(cfg, "firmware"),
			    "ERROR: both kernel and firmware specified");
		return -EINVAL;
	}
	if (!prefix_of(s, "pvgrub32") && !prefix_of(s, "pvgrub64")) {
		xlcfg_error(cfg, KEY_POS(cfg, "firmware"),
			    "ERROR: only pvgrub{32|64} supported as firmware options");
		return -EINVAL;
	}
	if (asprintf(&xen, "%s/%s.bin", XLCFG_XENFIRMWAREDIR, s) < 0)
		return -ENOMEM;
	if (access(xen, R_OK) < 0 && (!strcmp(s, "pvgrub64") || !strcmp(s, "pvgrub32"))) {
		if (asprintf(&deb, "%s/grub-%s-xen.bin",
			     grub_dir && *grub_dir ? grub_dir : XLCFG_GRUB_XEN_DIR,
			     strcmp(s, "pvgrub64") ? "i386" : "x86_64") < 0) {
			free(xen);
			return -ENOMEM;
		}
		free(xen);
		xen = deb;
	}
	dom->kernel = xen;
	return 0;
}

static int parse_type(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *s;
	int r = xlcfg_get_string(cfg, "type", &s);
	bool type_set = false;

	if (r == 0) {
		if (prefix_of(s, "hvm"))
			dom->type = XLCFG_TYPE_HVM;
		else if (prefix_of(s, "pv"))
			dom->type = XLCFG_TYPE_PV;
		else if (prefix_of(s, "pvh"))
			dom->type = XLCFG_TYPE_PVH;
		else {
			xlcfg_error(cfg, KEY_POS(cfg, "type"), "Invalid domain type %s.", s);
			return -EINVAL;
		}
		type_set = true;
	} else if (r != -ENOENT) {
		return r;
	}
	r = xlcfg_get_string(cfg, "builder", &s);
	if (r == 0) {
		enum xlcfg_domain_type bt;

		if (prefix_of(s, "hvm"))
			bt = XLCFG_TYPE_HVM;
		else if (prefix_of(s, "generic"))
			bt = XLCFG_TYPE_PV;
		else {
			xlcfg_error(cfg, KEY_POS(cfg, "builder"), "Invalid domain type %s.", s);
			return -EINVAL;
		}
		if (type_set && dom->type != bt) {
			xlcfg_error(cfg, KEY_POS(cfg, "builder"),
				    "Contradicting \"builder\" and \"type\" options specified.");
			return -EINVAL;
		}
		dom->type = bt;
	} else if (r != -ENOENT) {
		return r;
	}
	return 0;
}

static int parse_memory_vcpus(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	/* MiB in the file; bounded so the KiB value fits comfortably. */
	const long max_mib = 1l << 32;
	long l;
	int r;

	if ((r = take_long(cfg, "memory", 0, max_mib, &l)) < 0)
		return r;
	if (r == 0)
		dom->target_memkb = (uint64_t)l * 1024;
	if ((r = take_long(cfg, "maxmem", 0, max_mib, &l)) < 0)
		return r;
	if (r == 0)
		dom->max_memkb = (uint64_t)l * 1024;
	if (!dom->max_memkb)
		dom->max_memkb = dom->target_memkb;
	if (dom->target_memkb > dom->max_memkb) {
		xlcfg_error(cfg, KEY_POS(cfg, "maxmem"),
			    "maxmem (%llu MiB) is less than memory (%llu MiB)",
			    (unsigned long long)dom->max_memkb / 1024,
			    (unsigned long long)dom->target_memkb / 1024);
		return -EINVAL;
	}
	dom->vcpus = 1;
	if ((r = take_long(cfg, "vcpus", LONG_MIN, 4096, &l)) < 0)
		return r;
	if (r == 0 && l >= 1)
		dom->vcpus = (int)l;
	if ((r = take_long(cfg, "maxvcpus", 0, 4096, &l)) < 0)
		return r;
	dom->max_vcpus = (r == 0 && l) ? (int)l : dom->vcpus;
	if (dom->max_vcpus < dom->vcpus) {
		xlcfg_error(cfg, KEY_POS(cfg, "maxvcpus"), "xl: maxvcpus < vcpus");
		return -EINVAL;
	}
	return 0;
}

static int parse_actions(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"on_poweroff", offsetof(struct xlcfg_domain, on_poweroff)},
		{"on_reboot", offsetof(struct xlcfg_domain, on_reboot)},
		{"on_watchdog", offsetof(struct xlcfg_domain, on_watchdog)},
		{"on_crash", offsetof(struct xlcfg_domain, on_crash)},
		{"on_soft_reset", offsetof(struct xlcfg_domain, on_soft_reset)},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		enum xlcfg_action *slot = (enum xlcfg_action *)((char *)dom + keys[i].off);
		const char *s;
		int r = xlcfg_get_string(cfg, keys[i].key, &s);

		if (r == -ENOENT)
			continue;
		if (r)
			return r;
		if (xlcfg_action_parse(s, slot) < 0) {
			xlcfg_error(cfg, KEY_POS(cfg, keys[i].key),
				    "Unknown %s action \"%s\" specified", keys[i].key, s);
			return -EINVAL;
		}
	}
	return 0;
}

/* cmdline wins over root= and extra=, which combine as "root=ROOT EXTRA". */
static int parse_cmdline(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *cmdline = NULL, *root = NULL, *extra = NULL;
	int r;

	if ((r = xlcfg_get_string(cfg, "cmdline", &cmdline)) && r != -ENOENT)
		return r;
	if ((r = xlcfg_get_string(cfg, "root", &root)) && r != -ENOENT)
		return r;
	if ((r = xlcfg_get_string(cfg, "extra", &extra)) && r != -ENOENT)
		return r;
	if (cmdline) {
		if (root || extra)
			fprintf(cfg->report,
				"Warning: ignoring root= and extra= in favour of cmdline=\n");
		dom->cmdline = strdup(cmdline);
	} else if (root && extra) {
		if (asprintf(&dom->cmdline, "root=%s %s", root, extra) < 0)
			dom->cmdline = NULL;
	} else if (root) {
		if (asprintf(&dom->cmdline, "root=%s", root) < 0)
			dom->cmdline = NULL;
	} else if (extra) {
		dom->cmdline = strdup(extra);
	} else {
		return 0;
	}
	return dom->cmdline ? 0 : -ENOMEM;
}

/*
 * A key xl takes as a list of strings or as one string (serial, cpus):
 * the strings in *v; *is_list says which form (NULL: not wanted).
 */
static int take_string_or_list(struct xlcfg *cfg, const char *key, char ***v, int *n, bool *is_list)
{
	const struct xlcfg_setting *set = xlcfg_find(cfg, key);
	const char *s;
	int r;

	if (!set)
		return -ENOENT;
	if (is_list)
		*is_list = set->value->type == XLCFG_LIST;
	if (set->value->type == XLCFG_LIST)
		return xlcfg_get_string_list(cfg, key, v, n);
	if ((r = xlcfg_get_string(cfg, key, &s)))
		return r;
	*v = calloc(2, sizeof(char *));
	if (!*v || !((*v)[0] = strdup(s)))
		return -ENOMEM;
	*n = 1;
	return 0;
}

/* A list item must be a string; its position names it in messages. */
static const char *item_string(struct xlcfg *cfg, const char *key, const struct xlcfg_value *v,
			       int i)
{
	if (v->type != XLCFG_STRING) {
		xlcfg_error(cfg, v->line, v->col, "item %d of `%s' must be a string, not a list", i,
			    key);
		return NULL;
	}
	return v->string;
}

static int parse_disks(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	struct xlcfg_value *list;
	int r = xlcfg_get_list(cfg, "disk", &list);

	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	dom->disks = calloc((size_t)list->n_items + 1, sizeof(*dom->disks));
	if (!dom->disks)
		return -ENOMEM;
	for (int i = 0; i < list->n_items; i++) {
		const char *spec = item_string(cfg, "disk", list->items[i], i);
		char where[512];

		if (!spec)
			return -EINVAL;
		snprintf(where, sizeof(where), "%s:%d:%d", cfg->source, list->items[i]->line,
			 list->items[i]->col);
		r = xlcfg_disk_parse(&dom->disks[i], 1, &spec, where, cfg->report);
		if (r < 0) {
			cfg->n_errors++;
			return r;
		}
		dom->n_disks++;
		for (int j = 0; j < i; j++) {
			if (!strcmp(dom->disks[j].vdev, dom->disks[i].vdev)) {
				xlcfg_error(cfg, list->items[i]->line, list->items[i]->col,
					    "disk vdev `%s' is used twice", dom->disks[i].vdev);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int parse_vifs(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	struct xlcfg_value *list;
	int r = xlcfg_get_list(cfg, "vif", &list);

	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	dom->vifs = calloc((size_t)list->n_items + 1, sizeof(*dom->vifs));
	if (!dom->vifs)
		return -ENOMEM;
	for (int i = 0; i < list->n_items; i++) {
		const char *spec = item_string(cfg, "vif", list->items[i], i);
		char where[512];

		if (!spec)
			return -EINVAL;
		snprintf(where, sizeof(where), "%s:%d:%d", cfg->source, list->items[i]->line,
			 list->items[i]->col);
		r = xlcfg_vif_parse(&dom->vifs[i], spec, where, cfg->report);
		if (r < 0) {
			cfg->n_errors++;
			return r;
		}
		/* devids are assigned in order unless given, as libxl does */
		if (dom->vifs[i].devid < 0)
			dom->vifs[i].devid = i;
		dom->n_vifs++;
	}
	return 0;
}

static int parse_misc(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *s;
	long l;
	int r;

	if ((r = take_long(cfg, "cpu_weight", 1, 65535, &l)) < 0)
		return r;
	if (r == 0)
		dom->cpu_weight = (int)l;
	if ((r = take_long(cfg, "cap", 0, INT_MAX, &l)) < 0)
		return r;
	if (r == 0)
		dom->cap = (int)l;
	if ((r = take_long(cfg, "max_grant_frames", 0, INT_MAX, &l)) < 0)
		return r;
	if (r == 0)
		dom->max_grant_frames = (int)l;
	if ((r = take_long(cfg, "max_maptrack_frames", 0, INT_MAX, &l)) < 0)
		return r;
	if (r == 0)
		dom->max_maptrack_frames = (int)l;
	if ((r = take_long(cfg, "max_event_channels", 0, INT_MAX, &l)) < 0)
		return r;
	if (r == 0)
		dom->max_event_channels = (int)l;
	if ((r = xlcfg_take_tristate(cfg, "localtime", &dom->localtime)) ||
	    (r = xlcfg_take_tristate(cfg, "nomigrate", &dom->nomigrate)) ||
	    (r = xlcfg_take_tristate(cfg, "driver_domain", &dom->driver_domain)) ||
	    (r = xlcfg_take_tristate(cfg, "acpi", &dom->acpi)))
		return r;
	if ((r = xlcfg_take_string(cfg, "kernel", &dom->kernel)) ||
	    (r = xlcfg_take_string(cfg, "ramdisk", &dom->ramdisk)) ||
	    (r = xlcfg_take_string(cfg, "device_tree", &dom->device_tree)) ||
	    (r = xlcfg_take_string(cfg, "bootloader", &dom->bootloader)))
		return r;
	if ((r = parse_pv_firmware(cfg, dom)))
		return r;
	/* bootloader_args: a list, or (deprecated) a string split on blanks. */
	r = xlcfg_get_string_list(cfg, "bootloader_args", &dom->bootloader_args,
				  &dom->n_bootloader_args);
	if (r == -EINVAL && xlcfg_get_string(cfg, "bootloader_args", &s) == 0) {
		char *copy = strdup(s), *save = NULL, *w;

		fprintf(cfg->report, "WARNING: Specifying \"bootloader_args\" as a string is "
				     "deprecated. Please use a list of arguments.\n");
		if (!copy)
			return -ENOMEM;
		dom->bootloader_args = calloc(strlen(s) / 2 + 2, sizeof(char *));
		for (w = strtok_r(copy, " \t\n", &save); w && dom->bootloader_args;
		     w = strtok_r(NULL, " \t\n", &save))
			dom->bootloader_args[dom->n_bootloader_args++] = strdup(w);
		free(copy);
		if (!dom->bootloader_args)
			return -ENOMEM;
		r = 0;
	}
	if (r && r != -ENOENT)
		return r;
	/* boot: an HVM domain's boot devices, xl's letters, handed to QEMU */
	if ((r = xlcfg_take_string(cfg, "boot", &dom->hvm_boot)))
		return r;
	if (dom->hvm_boot &&
	    (!*dom->hvm_boot || strspn(dom->hvm_boot, "acdn") != strlen(dom->hvm_boot))) {
		xlcfg_error(cfg, KEY_POS(cfg, "boot"),
			    "boot=\"%s\": a string of the letters a, c, d and n", dom->hvm_boot);
		return -EINVAL;
	}
	/* serial: HVM's emulated UARTs, a list or one string. */
	r = take_string_or_list(cfg, "serial", &dom->serial, &dom->n_serial, NULL);
	return r == -ENOENT ? 0 : r;
}

/*
 * One xl CPU set: comma-separated "all", "N" or "N-M", each optionally
 * "^"-negated.  Whether the CPUs exist is xl's check at create (it knows the
 * host); node sets are refused as xl vcpu-pin refuses them.
 */
static int check_cpu_set(struct xlcfg *cfg, const char *key, const char *set)
{
	const char *p = set;

	if (!*p)
		goto bad;
	while (*p) {
		char *end;
		long first, last;

		p += *p == '^';
		if (!strncmp(p, "node", 4)) {
			xlcfg_error(cfg, KEY_POS(cfg, key),
				    "%s: `%s': Keel has no NUMA node placement", key, set);
			return -EINVAL;
		}
		if (!strncmp(p, "all", 3)) {
			end = (char *)p + 3;
		} else {
			if (*p < '0' || *p > '9')
				goto bad;
			first = last = strtol(p, &end, 10);
			if (*end == '-') {
				if (end[1] < '0' || end[1] > '9')
					goto bad;
				last = strtol(end + 1, &end, 10);
			}
			if (last < first || last >= 4096)
				goto bad;
		}
		if (*end != ',' && *end)
			goto bad;
		p = end + (*end == ',');
		if (*end == ',' && !*p)
			goto bad;
	}
	return 0;
bad:
	xlcfg_error(cfg, KEY_POS(cfg, key), "%s: invalid CPU set `%s'", key, set);
	return -EINVAL;
}

/* cpus= and cpus_soft=: one set for all vCPUs, or a list of one per vCPU. */
static int parse_affinity(struct xlcfg *cfg, const char *key, char ***sets, int *n, bool *per_vcpu)
{
	int r = take_string_or_list(cfg, key, sets, n, per_vcpu);

	if (r == -ENOENT)
		return 0;
	if (r)
		return bad_key(cfg, key, r);
	for (int i = 0; i < *n; i++)
		if ((r = check_cpu_set(cfg, key, (*sets)[i])))
			return r;
	return 0;
}

/* Does a key's value ask for something (pci=[], nestedhvm=0, vnc=0 do not)? */
static bool value_asks(const struct xlcfg_value *v)
{
	char *end;
	long n;

	if (!v)
		return false;
	if (v->type == XLCFG_LIST)
		return v->n_items > 0;
	if (!v->string || !*v->string)
		return false;
	n = strtol(v->string, &end, 0);
	return *end || n != 0;
}

/*
 * Report what the key table (keys.c) says about the keys the builder does
 * not honour, once each, when their (last) value asks for something:
 * ignored keys warn, refused keys fail the configuration; keys nobody
 * knows warn.
 */
static int report_keys(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	int refused = 0;

	for (int i = 0; i < cfg->n_settings; i++) {
		struct xlcfg_setting *s = &cfg->settings[i], *last;
		const struct xlcfg_key *k = xlcfg_key_lookup(s->name);
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= !strcmp(cfg->settings[j].name, s->name);
		if (seen || (k && (k->status == XLCFG_KEY_WORKS || k->status == XLCFG_KEY_PARTLY)))
			continue;
		if (!k) {
			xlcfg_warn(cfg, s->line, "unknown key `%s' ignored", s->name);
			continue;
		}
		/* a key set to nothing (0, "", []) asks for nothing: no word about it */
		last = xlcfg_find(cfg, s->name);
		if (!value_asks(last->value))
			continue;
		if (k->status == XLCFG_KEY_REFUSED) {
			xlcfg_error(cfg, last->line, last->col,
				    "`%s' cannot be honoured by Keel (%s); "
				    "not creating the domain without it",
				    s->name, k->why);
			refused++;
			continue;
		}
		xlcfg_warn(cfg, s->line, "`%s' is not supported by Keel (%s); ignored", s->name,
			   k->why);
		char **n = realloc(dom->unsupported,
				   sizeof(char *) * (size_t)(dom->n_unsupported + 1));
		if (!n)
			return -ENOMEM;
		dom->unsupported = n;
		if (!(n[dom->n_unsupported] = strdup(s->name)))
			return -ENOMEM;
		dom->n_unsupported++;
	}
	return refused ? -EINVAL : 0;
}

int xlcfg_domain_from_cfg(struct xlcfg_domain *dom, struct xlcfg *cfg)
{
	const char *s;
	int r, errors = cfg->n_errors;

	domain_init(dom);
	if ((r = parse_type(cfg, dom)))
		goto fail;
	r = xlcfg_get_string(cfg, "name", &s);
	if (r == -ENOENT) {
		xlcfg_error(cfg, 0, 0, "Domain name must be specified.");
		r = -EINVAL;
	}
	if (r)
		goto fail;
	if (!*s || strlen(s) > 255 || strchr(s, '/')) {
		xlcfg_error(cfg, KEY_POS(cfg, "name"), "invalid domain name `%s'", s);
		r = -EINVAL;
		goto fail;
	}
	if (!(dom->name = strdup(s))) {
		r = -ENOMEM;
		goto fail;
	}
	r = xlcfg_get_string(cfg, "uuid", &s);
	if (r == 0) {
		if (xlcfg_uuid_parse(s, dom->uuid) < 0) {
			xlcfg_error(cfg, KEY_POS(cfg, "uuid"), "Failed to parse UUID: %s", s);
			r = -EINVAL;
			goto fail;
		}
		dom->uuid_given = true;
	} else if (r == -ENOENT) {
		uuid_generate(dom->uuid);
	} else {
		goto fail;
	}
	if ((r = parse_memory_vcpus(cfg, dom)) || (r = parse_actions(cfg, dom)) ||
	    (r = parse_cmdline(cfg, dom)) || (r = parse_misc(cfg, dom)) ||
	    (r = parse_disks(cfg, dom)) || (r = parse_vifs(cfg, dom)) ||
	    (r = xlcfg_parse_display(cfg, dom)) || (r = xlcfg_parse_dm(cfg, dom)) ||
	    (r = parse_affinity(cfg, "cpus", &dom->cpus, &dom->n_cpus, &dom->cpus_per_vcpu)) ||
	    (r = parse_affinity(cfg, "cpus_soft", &dom->cpus_soft, &dom->n_cpus_soft,
				&dom->cpus_soft_per_vcpu)) ||
	    (r = report_keys(cfg, dom)))
		goto fail;
	return 0;
fail:
	/* every failure names its key; this covers a getter's warning alone */
	if (r == -EINVAL && cfg->n_errors == errors)
		xlcfg_error(cfg, 0, 0, "invalid configuration (see the warnings above)");
	xlcfg_domain_clear(dom);
	return r;
}
