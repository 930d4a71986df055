/*
 * Creating a domain through keeld, as libxl_domain_create_new does on
 * Xen: check the name is free, have keeld create the VM and build the PV
 * kernel (image, ramdisk and command line from the configuration, handed
 * over as open files), write the domain's xenstore nodes, keep the
 * configuration for `xl list -l` and for restarts (libxl's "xl" userdata,
 * here RUNDIR/xl/userdata-d<domid>.<uuid>.xl as xl.cfg text), then unpause
 * unless asked not to.  Any failure after keeld created the domain destroys
 * it again, so nothing half-built is left behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keelevtchn.h"
#include "xl_backend_keel.h"

static int xlk_userdata_path(struct xlk *k, uint32_t domid, char *buf, size_t len)
{
	uint8_t uuid[16];
	char *vm = NULL, u[37];
	int r = xlk_store_vm_path(k, domid, &vm, uuid);

	if (r < 0)
		return r;
	free(vm);
	xlcfg_uuid_unparse(uuid, u);
	r = snprintf(buf, len, "%s/xl/userdata-d%u.%s.xl", k->rundir, domid, u);
	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

int xlk_config_save(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/xl", k->rundir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	r = xlk_userdata_path(k, domid, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	r = xlcfg_domain_to_cfg(dom, f);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* xl config-update */
int xlk_set_config(void *h, uint32_t domid, const struct xlcfg_domain *dom)
{
	return xlk_config_save(h, domid, dom);
}

void xlk_config_forget(struct xlk *k, uint32_t domid)
{
	char path[PATH_MAX + 64];

	if (xlk_userdata_path(k, domid, path, sizeof(path)) == 0)
		unlink(path);
}

int xlk_get_config(void *h, uint32_t domid, struct xlcfg_domain *out)
{
	struct xlk *k = h;
	char path[PATH_MAX + 64], *name;
	FILE *quiet = fopen("/dev/null", "w");
	struct xlcfg *cfg = NULL;
	int r;

	if (!quiet)
		return -errno;
	r = xlk_userdata_path(k, domid, path, sizeof(path));
	if (r == 0) {
		cfg = xlcfg_new(path, quiet);
		r = cfg ? xlcfg_parse_file(cfg, path) : -ENOMEM;
	}
	if (r == 0)
		r = xlcfg_domain_from_cfg(out, cfg);
	xlcfg_free(cfg);
	fclose(quiet);
	if (r < 0)
		return r;
	/* the current name: the domain may have been renamed since */
	name = xlk_store_read(k, "/local/domain/%u/name", domid);
	if (name) {
		free(out->name);
		out->name = name;
	}
	return 0;
}

/* What keeld can build today; anything else is refused with a reason. */
static int xlk_check_buildable(struct xlk *k, const struct xlcfg_domain *dom)
{
	uint32_t other;

	if (dom->type == XLCFG_TYPE_HVM) {
		int r = xlk_check_hvm(dom);

		if (r == 0 && xlk_find_name(k, dom->name, &other) == 0) {
			fprintf(stderr, "xl: Domain with name \"%s\" already exists.\n", dom->name);
			return -EEXIST;
		}
		return r;
	}
	if (dom->type != XLCFG_TYPE_PV) {
		fprintf(stderr,
			"xl: keeld builds PV and HVM domains; type=\"%s\" is not available\n",
			xlcfg_type_name(dom->type));
		return -EOPNOTSUPP;
	}
	if (!dom->kernel && !dom->bootloader) {
		fprintf(stderr, "xl: neither kernel= nor bootloader= given\n");
		return -EINVAL;
	}
	/* with a bootloader, kernel= and ramdisk= are paths inside the guest's disk */
	if (!dom->bootloader &&
	    (access(dom->kernel, R_OK) < 0 || (dom->ramdisk && access(dom->ramdisk, R_OK) < 0))) {
		int e = errno;

		fprintf(stderr, "xl: cannot read %s: %s\n",
			access(dom->kernel, R_OK) < 0 ? dom->kernel : dom->ramdisk, strerror(e));
		return -e;
	}
	if (xlk_find_name(k, dom->name, &other) == 0) {
		fprintf(stderr, "xl: Domain with name \"%s\" already exists.\n", dom->name);
		return -EEXIST;
	}
	/* disks and vifs Keel's backends cannot serve are refused before anything is built */
	return xlk_devices_check(k, dom);
}

uint64_t xlk_space_mb(const struct xlcfg_domain *dom)
{
	uint64_t mem_kb = dom->max_memkb > dom->target_memkb ? dom->max_memkb : dom->target_memkb;

	return (mem_kb + 1023) / 1024;
}

int xlk_create(void *h, const struct xlcfg_domain *dom, bool paused, uint32_t *domid)
{
	struct xlk *k = h;
	uint64_t mem_mb = (dom->target_memkb + 1023) / 1024;
	uint64_t ram_mb = xlk_hvm_ram_mb(dom);
	struct xlk_boot boot = {0};
	const char *kernel = dom->kernel, *ramdisk = dom->ramdisk, *cmdline = dom->cmdline;
	int r;

	r = xlk_check_buildable(k, dom);
	if (r < 0)
		return r;
	/* libxl runs the bootloader before it builds the domain; its kernel,
	 * ramdisk and args replace the configuration's */
	if (dom->type == XLCFG_TYPE_HVM) {
		kernel = xlk_hvmloader(dom); /* hvmloader, as libxl's HVM builder loads */
		ramdisk = xlk_hvm_bios(dom); /* its "firmware" module */
		cmdline = NULL;
	} else if (dom->bootloader) {
		r = xlk_boot_run(k, dom, &boot);
		if (r < 0)
			return r;
		kernel = boot.kernel;
		ramdisk = boot.ramdisk;
		cmdline = boot.args;
	}
	/* keeld makes maxvcpus vCPUs; the store's cpu/N/availability says which
	 * are online.  A PV guest gets maxmem= of space with memory= populated
	 * (its E820 and maximum_reservation say maxmem=; the balloon fills it). */
	if (dom->type == XLCFG_TYPE_HVM)
		r = keelctl_domain_create_kind(
			k->ctl, dom->name, ram_mb,
			dom->max_vcpus > dom->vcpus ? dom->max_vcpus : dom->vcpus, 1, domid);
	else
		r = keelctl_domain_create_max(
			k->ctl, dom->name, mem_mb, xlk_space_mb(dom),
			dom->max_vcpus > dom->vcpus ? dom->max_vcpus : dom->vcpus, domid);
	if (r < 0) {
		xlk_boot_cleanup(&boot);
		return r;
	}
	/* libxl__domain_make: the handle, then xc_domain_setmaxmem */
	r = keelctl_domain_set_handle(k->ctl, *domid, dom->uuid);
	if (r == 0)
		r = keelctl_domain_set_maxmem(
			k->ctl, *domid,
			(dom->max_memkb > dom->target_memkb ? dom->max_memkb : mem_mb * 1024) +
				xlk_hvm_extra_memkb(dom));
	/* libxl__build_pre: xc_domain_set_max_evtchn(max_event_channels) */
	if (r == 0 && dom->max_event_channels >= 0) {
		r = keelevtchn_set_max_port(k->rundir, *domid, (uint32_t)dom->max_event_channels);
		if (r < 0)
			fprintf(stderr,
				"xl: keeld refused max_event_channels=%d (Keel's ports are "
				"1..4095): %s\n",
				dom->max_event_channels, strerror(-r));
	}
	if (r == 0)
		r = keelctl_domain_load(k->ctl, *domid, kernel, ramdisk, cmdline ? cmdline : "");
	if (r < 0)
		fprintf(stderr, "xl: keeld could not build domain %u from %s: %s\n", *domid, kernel,
			strerror(-r));
	xlk_boot_cleanup(&boot); /* keeld has read the copies (or failed) */
	if (r == 0)
		r = xlk_sched_from_config(k, *domid, dom);
	if (r == 0) {
		r = xlk_store_make_domain(k, *domid, dom);
		if (r < 0)
			fprintf(stderr, "xl: writing the store nodes of domain %u: %s\n", *domid,
				strerror(-r));
	}
	/* libxl__spawn_local_dm: an HVM domain's QEMU, before it first runs */
	if (r == 0 && dom->type == XLCFG_TYPE_HVM)
		r = xlk_dm_start_hvm(k, *domid, dom);
	if (r == 0) {
		r = xlk_config_save(k, *domid, dom);
		if (r < 0)
			fprintf(stderr, "xl: saving the configuration of domain %u: %s\n", *domid,
				strerror(-r));
	}
	if (r == 0 && !paused)
		r = keelctl_domain_unpause(k->ctl, *domid);
	if (r < 0) {
		xlk_config_forget(k, *domid);
		xlk_store_forget_domain(k, *domid);
		keelctl_domain_destroy(k->ctl, *domid);
	}
	return r;
}
