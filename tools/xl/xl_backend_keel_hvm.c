/*
 * The HVM parts of creating a domain through keeld, as libxl does them for
 * type="hvm": the firmware (Debian's hvmloader, the image keeld loads) and
 * the BIOS it hands over (libxl__domain_firmware: SeaBIOS from the path
 * Debian's libxl uses, passed as the start info's "firmware" module --
 * here the second file of keeld's LOAD), and the store keys hvmloader
 * reads: the platform keys (libxl__domain_build), hvmloader/bios and
 * hvmloader/allow-memory-relocate (written by libxl where it starts the
 * device model), and the /vm image keys of an HVM guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl_backend_keel.h"

#define XLK_HVMLOADER "/usr/lib/xen-4.17/boot/hvmloader"
#define XLK_SEABIOS   "/usr/share/seabios/bios-256k.bin" /* Debian's libxl */

/* The config's firmware_override= (or firmware="PATH") and
 * bios_path_override= win; else $KEEL_HVMLOADER / $KEEL_SEABIOS (tests),
 * else Debian's.  SeaBIOS, libxl's default for qemu-xen, is the only BIOS
 * kind (xlcfg's dm.c refuses the others). */
static const char *xlk_env_or(const char *var, const char *dflt)
{
	const char *s = getenv(var);

	return s && *s ? s : dflt;
}

const char *xlk_hvmloader(const struct xlcfg_domain *dom)
{
	return dom->hvm_firmware ? dom->hvm_firmware : xlk_env_or("KEEL_HVMLOADER", XLK_HVMLOADER);
}

const char *xlk_hvm_bios(const struct xlcfg_domain *dom)
{
	return dom->bios_path ? dom->bios_path : xlk_env_or("KEEL_SEABIOS", XLK_SEABIOS);
}

/* The IDE index QEMU gives an HVM disk (libxl: hdX, sdX and xvdX by
 * their letter; Keel emulates the four IDE places only), or -1. */
int xlk_hvm_ide_index(const struct xlcfg_disk *disk)
{
	const char *v = disk->vdev;
	size_t n = v ? strlen(v) : 0;

	if (n < 3 || n > 4 || (strncmp(v, "hd", 2) && strncmp(v, "sd", 2) && strncmp(v, "xvd", 3)))
		return -1;
	if (v[n - 1] < 'a' || v[n - 1] > 'd' || (v[0] == 'x' && n != 4) || (v[0] != 'x' && n != 3))
		return -1;
	return v[n - 1] - 'a';
}

/* An HVM domain: its disks are QEMU's emulated IDE disks and CD-ROMs (a
 * raw or qcow2 file or device at hda..hdd; a CD-ROM may be empty), its
 * vifs of type ioemu QEMU's emulated NICs (at most eight, each TAP's name
 * within IFNAMSIZ); both firmware files must be readable. */
int xlk_check_hvm(const struct xlcfg_domain *dom)
{
	const char *files[] = {xlk_hvmloader(dom), xlk_hvm_bios(dom)};
	int nics = 0;

	for (int i = 0; i < dom->n_vifs; i++) {
		const struct xlcfg_vif *v = &dom->vifs[i];

		if (v->nictype != 1)
			continue; /* PV only (type=vif): its nodes, no emulated NIC */
		if (++nics > 8) {
			fprintf(stderr, "xl: Keel's device model takes at most 8 emulated NICs\n");
			return -EOPNOTSUPP;
		}
		/* QEMU's TAP: vifname + "-emu", or vif<domid>.<devid>-emu */
		if ((v->vifname && strlen(v->vifname) > 11) || v->devid > 99) {
			fprintf(stderr,
				"xl: vif %d: the emulated NIC's TAP name would be longer "
				"than 15 characters\n",
				v->devid);
			return -ENAMETOOLONG;
		}
	}
	for (int i = 0; i < dom->n_disks; i++) {
		const struct xlcfg_disk *dk = &dom->disks[i];

		bool empty_cd = dk->is_cdrom && (!dk->target || !*dk->target);

		if (xlk_hvm_ide_index(dk) < 0 || (!empty_cd && (!dk->target || !*dk->target)) ||
		    (!empty_cd && dk->format != XLCFG_FORMAT_RAW &&
		     dk->format != XLCFG_FORMAT_QCOW2)) {
			fprintf(stderr,
				"xl: HVM disk %s: Keel's device model emulates raw or qcow2 "
				"IDE disks and CD-ROMs (devtype=cdrom, empty allowed) at hda..hdd "
				"(xvda..xvdd, sda..sdd) only\n",
				dk->vdev ? dk->vdev : "?");
			return -EOPNOTSUPP;
		}
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK) < 0) {
			int e = errno;

			fprintf(stderr, "xl: cannot read the HVM %s %s: %s\n",
				i ? "BIOS" : "firmware", files[i], strerror(e));
			return -e;
		}
	}
	return 0;
}

static int xlk_hvm_put(struct xlk *k, ks_tx_t tx, const char *dir, const char *key, const char *val)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return ks_write_str(k->xs, tx, path, val);
}

/* The keys libxl writes for an HVM domain, in the creation transaction. */
int xlk_hvm_store_keys(struct xlk *k, ks_tx_t tx, const char *dom_path, const char *vm_path,
		       const struct xlcfg_domain *dom)
{
	const char *acpi = dom->acpi == XLCFG_FALSE ? "0" : "1";
	const struct {
		const char *dir, *key, *val;
	} keys[] = {
		{vm_path, "image/ostype", "hvm"},
		{vm_path, "rtc/timeoffset", ""},
		{dom_path, "platform/acpi", acpi},
		{dom_path, "platform/acpi_s3", "1"},
		{dom_path, "platform/acpi_s4", "1"},
		{dom_path, "platform/acpi_laptop_slate", "0"},
		{dom_path, "platform/device-model", "qemu_xen"},
		{dom_path, "hvmloader/bios", "seabios"},
		/* libxl: relocation only for qemu-traditional without vNUMA */
		{dom_path, "hvmloader/allow-memory-relocate", "0"},
	};
	int r;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((r = xlk_hvm_put(k, tx, keys[i].dir, keys[i].key, keys[i].val)) < 0)
			return r;
	return 0;
}

/* libxl's maxmem is memory + LIBXL_MAXMEM_CONSTANT (1 MiB on x86,
 * libxl__arch_extra_memory): the room hvmloader populates its ACPI tables
 * and allocations in, in the MMIO hole.  Given to HVM domains here; PV
 * domains keep maxmem = memory, as Keel's PV guests always had. */
uint64_t xlk_hvm_extra_memkb(const struct xlcfg_domain *dom)
{
	return dom->type == XLCFG_TYPE_HVM ? 1024 : 0;
}

/* The video RAM counted in an HVM domain's memory= (libxl's video_memkb). */
uint64_t xlk_video_memkb(const struct xlcfg_domain *dom)
{
	return dom->type == XLCFG_TYPE_HVM && dom->video_memkb > 0 ? (uint64_t)dom->video_memkb : 0;
}

/* libxl__build_hvm: an HVM domain's RAM is memory= less its video RAM, which
 * QEMU populates past the RAM, within the same maxmem.  What create builds,
 * save writes and restore reads. */
uint64_t xlk_hvm_ram_mb(const struct xlcfg_domain *dom)
{
	return (dom->target_memkb - xlk_video_memkb(dom) + 1023) / 1024;
}
