/*
 * libkeelxlcfg: Xen's xl.cfg domain configuration language for Keel.
 *
 * Three layers, each usable alone:
 *  1. the generic grammar (cfg_parse.c): KEY=VALUE / KEY+=VALUE settings,
 *     quoted strings, bare numbers, nested lists, comments, ';' and newline
 *     terminators -- the same language xl's libxlutil accepts -- into a list
 *     of settings with their source positions, plus typed getters that warn
 *     the way xl does;
 *  2. the device spec languages: disk specs (xl-disk-configuration), vif
 *     specs (xl-network-configuration) and virtual disk names (vdev) with
 *     their Xen VBD numbers (xen-vbd-interface);
 *  3. the typed domain description (struct xlcfg_domain) built from the
 *     settings, printable as libxl-shaped JSON and convertible to and from
 *     libvirt domain XML.
 *
 * Functions return 0 or a negative errno.  Human-readable diagnostics go to
 * the FILE the caller gives (xl passes stderr), prefixed with the source name
 * and line (and column where known), as "vm.cfg:12:7: ...".
 */
#ifndef KEEL_XLCFG_H
#define KEEL_XLCFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- layer 1: the grammar ------------------------------------------------ */

/* Bounds that keep hostile input from growing without limit. */
#define XLCFG_MAX_INPUT (4u << 20) /* bytes of configuration text */
#define XLCFG_MAX_DEPTH 32	   /* list nesting */

enum xlcfg_type { XLCFG_STRING, XLCFG_LIST };

struct xlcfg_value {
	enum xlcfg_type type;
	int line, col;
	char *string;		    /* XLCFG_STRING: dequoted text or number token */
	bool quoted;		    /* XLCFG_STRING: came from '...' or "..." */
	struct xlcfg_value **items; /* XLCFG_LIST */
	int n_items, cap_items;
};

enum xlcfg_op { XLCFG_ASSIGN, XLCFG_APPEND };

struct xlcfg_setting {
	char *name;
	struct xlcfg_value *value; /* after += this is the concatenated value */
	enum xlcfg_op op;
	int line, col; /* of the key */
	bool used;     /* read by the domain builder (for unknown-key warnings) */
};

struct xlcfg {
	char *source; /* name used in messages */
	FILE *report; /* where diagnostics go; never NULL */
	struct xlcfg_setting *settings;
	int n_settings, cap_settings;
	int n_errors;
	bool likely_python;
};

struct xlcfg *xlcfg_new(const char *source, FILE *report);
void xlcfg_free(struct xlcfg *cfg);
/* Parse text (appending its settings); -EINVAL after syntax errors (all reported). */
int xlcfg_parse_data(struct xlcfg *cfg, const char *data, size_t len);
int xlcfg_parse_file(struct xlcfg *cfg, const char *path);

/* The last setting of @name, or NULL.  Marks it used. */
struct xlcfg_setting *xlcfg_find(struct xlcfg *cfg, const char *name);
/* Where @name's (last) value starts, for messages: line, column (0 if absent). */
int xlcfg_key_line(struct xlcfg *cfg, const char *name);
int xlcfg_key_col(struct xlcfg *cfg, const char *name);
#define XLCFG_KEY_POS(cfg, name) xlcfg_key_line(cfg, name), xlcfg_key_col(cfg, name)

/* Typed getters: 0, -ENOENT when absent, -EINVAL (warned) when malformed. */
int xlcfg_get_string(struct xlcfg *cfg, const char *name, const char **out);
int xlcfg_get_long(struct xlcfg *cfg, const char *name, long min, long max, long *out);
int xlcfg_get_bool(struct xlcfg *cfg, const char *name, bool *out);
int xlcfg_get_list(struct xlcfg *cfg, const char *name, struct xlcfg_value **out);
/* A list of plain strings as a NULL-terminated array (caller frees array and strings). */
int xlcfg_get_string_list(struct xlcfg *cfg, const char *name, char ***out, int *n);

/* Diagnostics with the configuration's source name. */
void xlcfg_warn(struct xlcfg *cfg, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void xlcfg_error(struct xlcfg *cfg, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- layer 2: device specs ----------------------------------------------- */

enum xlcfg_disk_format {
	XLCFG_FORMAT_UNKNOWN,
	XLCFG_FORMAT_QCOW,
	XLCFG_FORMAT_QCOW2,
	XLCFG_FORMAT_VHD,
	XLCFG_FORMAT_RAW,
	XLCFG_FORMAT_EMPTY,
	XLCFG_FORMAT_QED,
};

enum xlcfg_disk_backend {
	XLCFG_BACKEND_UNKNOWN,
	XLCFG_BACKEND_PHY,
	XLCFG_BACKEND_TAP,
	XLCFG_BACKEND_QDISK,
	XLCFG_BACKEND_STANDALONE,
};

enum xlcfg_tristate { XLCFG_DEFAULT = -1, XLCFG_FALSE = 0, XLCFG_TRUE = 1 };

struct xlcfg_disk {
	char *target; /* pdev_path; NULL when absent, "" when empty */
	char *vdev;
	char *backend_domname;
	char *script;
	enum xlcfg_disk_format format;
	enum xlcfg_disk_backend backendtype;
	int specification; /* 0 unset, 1 xen, 2 virtio */
	bool readwrite;
	bool is_cdrom;
	bool removable;
	bool direct_io_safe;
	enum xlcfg_tristate discard;
	enum xlcfg_tristate trusted;
	enum xlcfg_tristate colo;
	enum xlcfg_tristate grant_usage;
	int vdev_number; /* Xen VBD number of vdev, -1 if not computable */
};

/*
 * Parse one disk spec made of @n strings (the config's list item, or the
 * words of `xl block-attach`).  @where prefixes messages ("vm.cfg:9").
 */
int xlcfg_disk_parse(struct xlcfg_disk *disk, int n, const char *const *specs, const char *where,
		     FILE *report);
void xlcfg_disk_clear(struct xlcfg_disk *disk);
const char *xlcfg_disk_format_name(enum xlcfg_disk_format f);
const char *xlcfg_disk_backend_name(enum xlcfg_disk_backend b);

/* Xen VBD number of a vdev name (xvda, xvdb3, sdc, hda1, d1p2, or a number); -EINVAL. */
int xlcfg_vdev_number(const char *vdev, int *disk, int *partition);
/* The xvd name of a disk index (0 -> "xvda", 26 -> "xvdaa") into buf. */
int xlcfg_vdev_name(unsigned int disk, char *buf, size_t len);

struct xlcfg_vif {
	int devid; /* -1: assign in order */
	bool mac_set;
	uint8_t mac[6];
	char *bridge, *ip, *script, *vifname, *model, *backend_domname, *gatewaydev, *vlan;
	int nictype; /* 0 unset, 1 ioemu, 2 vif */
	int mtu;     /* 0: default (1500) */
	uint64_t rate_bytes_per_interval;
	uint32_t rate_interval_usecs;
	enum xlcfg_tristate trusted;
};

/* Parse a comma-separated vif spec.  Unknown keys warn (as xl); bad values fail. */
int xlcfg_vif_parse(struct xlcfg_vif *vif, const char *spec, const char *where, FILE *report);
/* "RATE[@INTERVAL]" as in xl-network-configuration. */
int xlcfg_vif_parse_rate(struct xlcfg_vif *vif, const char *rate, const char *where, FILE *report);
void xlcfg_vif_clear(struct xlcfg_vif *vif);

/* ---- layer 3: the domain description ------------------------------------ */

enum xlcfg_domain_type { XLCFG_TYPE_PV = 0, XLCFG_TYPE_PVH, XLCFG_TYPE_HVM };

/* An HVM domain's emulated graphics card (vga=, stdvga=). */
enum xlcfg_vga { XLCFG_VGA_DEFAULT = 0, XLCFG_VGA_NONE, XLCFG_VGA_STD, XLCFG_VGA_CIRRUS };

/* libxl's action_on_shutdown values. */
enum xlcfg_action {
	XLCFG_ACTION_DESTROY = 1,
	XLCFG_ACTION_RESTART,
	XLCFG_ACTION_RESTART_RENAME,
	XLCFG_ACTION_PRESERVE,
	XLCFG_ACTION_COREDUMP_DESTROY,
	XLCFG_ACTION_COREDUMP_RESTART,
	XLCFG_ACTION_SOFT_RESET,
};

struct xlcfg_domain {
	char *name;
	enum xlcfg_domain_type type;
	uint8_t uuid[16];
	bool uuid_given; /* from the config; else generated */
	uint64_t target_memkb, max_memkb;
	int vcpus, max_vcpus;
	char *kernel, *ramdisk, *cmdline, *device_tree;
	char *bootloader;
	char **bootloader_args;
	int n_bootloader_args;
	int cpu_weight; /* -1 unset */
	/* cpus= / cpus_soft=: xl CPU sets as written ("0-3", "all", "^1", ...);
	 * one string for every vCPU, or (a list) one per vCPU in order, vCPUs
	 * past the list's end keeping every CPU, as xl reads them. */
	char **cpus, **cpus_soft;
	int n_cpus, n_cpus_soft;
	bool cpus_per_vcpu, cpus_soft_per_vcpu;
	int cap;       /* -1 unset */
	char **serial; /* HVM serial list (or the single string) */
	int n_serial;
	enum xlcfg_action on_poweroff, on_reboot, on_watchdog, on_crash, on_soft_reset;
	struct xlcfg_disk *disks;
	int n_disks;
	struct xlcfg_vif *vifs;
	int n_vifs;
	int max_grant_frames, max_maptrack_frames, max_event_channels; /* -1 unset */
	enum xlcfg_tristate localtime, nomigrate, driver_domain, acpi;
	/* Keys Keel parses but does not implement, as "key" strings for reports. */
	char **unsupported;
	int n_unsupported;
	/* boot=: an HVM domain's boot order, xl's letters (c disk, d CD-ROM,
	 * n network; a floppy); NULL unset ("cd", libxl's default). */
	char *hvm_boot;
	/* An HVM domain's display (display.c): the card and its video RAM
	 * (-1 until defaults: the card's), QEMU's VNC server (vncdisplay 0
	 * unless set), nographic=. */
	enum xlcfg_vga vga;
	int64_t video_memkb;
	enum xlcfg_tristate vnc, vncunused, nographic;
	char *vnclisten, *vncpasswd;
	int vncdisplay;
	/* The device model and the HVM platform (dm.c): device_model_override=
	 * (NULL: $KEEL_QEMU_XEN or Debian's), device_model_args= and
	 * device_model_args_hvm= (appended as libxl appends them), QEMU's USB
	 * (usb=, usbdevice= as a list, usbversion= 0..3), the firmware
	 * (firmware_override= or firmware="PATH": hvmloader's replacement;
	 * bios_path_override=: SeaBIOS's; NULL: the defaults), and the
	 * platform booleans (default until set). */
	char *dm_override;
	char **dm_args, **dm_args_hvm;
	int n_dm_args, n_dm_args_hvm;
	enum xlcfg_tristate usb;
	char **usbdevice;
	int n_usbdevice;
	int usbversion;
	char *hvm_firmware, *bios_path;
	enum xlcfg_tristate hpet, apic, pae, nx, viridian;
};

/*
 * Build a domain from parsed settings, as xl's parse_config_data does:
 * defaults, validation (name required, maxvcpus >= vcpus, ...), disks and
 * vifs, and a warning for every unknown key.  -EINVAL on invalid config.
 */
int xlcfg_domain_from_cfg(struct xlcfg_domain *dom, struct xlcfg *cfg);
void xlcfg_domain_clear(struct xlcfg_domain *dom);

const char *xlcfg_type_name(enum xlcfg_domain_type t);
/* xl.cfg spelling ("rename-restart") <-> enum; NULL / -EINVAL when unknown. */
const char *xlcfg_action_cfg_name(enum xlcfg_action a);
int xlcfg_action_parse(const char *s, enum xlcfg_action *out);
void xlcfg_uuid_unparse(const uint8_t uuid[16], char out[37]);
int xlcfg_uuid_parse(const char *s, uint8_t uuid[16]);
void xlcfg_mac_unparse(const uint8_t mac[6], char out[18]);

/*
 * The defaults libxl applies at creation (defaults.c): 32 MiB, weight 256,
 * cap 0, and per vif a random 00:16:3e MAC, xenbr0, vif-bridge, MTU 1500,
 * rtl8139, trusted, nic type by domain type.  -EINVAL for an emulated nic on
 * a PV/PVH guest (reported to @report).
 */
int xlcfg_domain_set_defaults(struct xlcfg_domain *dom, FILE *report);
int xlcfg_vif_set_defaults(struct xlcfg_vif *vif, enum xlcfg_domain_type type);
/* Taking one key into @dom's field (domain.c), for display.c and dm.c too:
 * absent leaves it alone (0); malformed is reported ("invalid value for
 * `KEY'") and -EINVAL.  A string is copied (-ENOMEM). */
int xlcfg_take_string(struct xlcfg *cfg, const char *key, char **slot);
int xlcfg_take_tristate(struct xlcfg *cfg, const char *key, enum xlcfg_tristate *out);
/* An HVM domain's display keys into @dom (display.c; part of
 * xlcfg_domain_from_cfg); nothing for PV/PVH, which xl reads them not for. */
int xlcfg_parse_display(struct xlcfg *cfg, struct xlcfg_domain *dom);
/* libxl's display defaults for qemu-xen (part of xlcfg_domain_set_defaults):
 * cirrus, its video RAM (and the minimum per card), VNC on 127.0.0.1 with
 * vncunused; -EINVAL (reported) for too little video RAM. */
int xlcfg_display_set_defaults(struct xlcfg_domain *dom, FILE *report);
/* The device model's and the HVM platform's keys into @dom (dm.c; part of
 * xlcfg_domain_from_cfg): what xl reads and libxl checks, with their
 * messages; the device model keys for every type, the rest for HVM. */
int xlcfg_parse_dm(struct xlcfg *cfg, struct xlcfg_domain *dom);
/* "std", "cirrus", "none" (libxl's vga kind names); NULL for the default. */
const char *xlcfg_vga_name(enum xlcfg_vga v);

/* libxl-shaped JSON of the domain configuration (what `xl create -n` prints). */
int xlcfg_domain_to_json(const struct xlcfg_domain *dom, FILE *out);
/* `xl list -l`: [ {"domid": N, "config": {...}}, ... ]. */
int xlcfg_domains_to_json(int n, const uint32_t *domids, const struct xlcfg_domain *doms,
			  FILE *out);
/* Back to xl.cfg text (used for libvirt XML -> native). */
int xlcfg_domain_to_cfg(const struct xlcfg_domain *dom, FILE *out);

/* libvirt domain XML (type='xen'), through libxml2. */
int xlcfg_domain_to_libvirt(const struct xlcfg_domain *dom, FILE *out);
/* Parse libvirt XML text; errors name @source and the line. */
int xlcfg_domain_from_libvirt(struct xlcfg_domain *dom, const char *data, size_t len,
			      const char *source, FILE *report);

#endif
