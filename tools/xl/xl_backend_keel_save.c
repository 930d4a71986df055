/*
 * xl save and xl restore for keeld's domains.  Save: ask the guest to
 * suspend as libxl does for a PV guest (control/shutdown = suspend; the
 * guest acknowledges by clearing it, then calls SCHEDOP_shutdown(suspend)),
 * have keeld write its state outside RAM as save records to a memory file
 * (SAVE_STATE), then stream the configuration, the RAM (mapped through
 * MAP_FRAMES, zero pages skipped) and that state into a zlib-compressed,
 * checksummed image (xl_saveimg.c) with a progress bar; then destroy the
 * domain, or resume it in place (the suspend is cancelled: it returns 1)
 * running (-c) or paused (-p), as xl does.  A guest that does not answer
 * times out with libxl's messages and keeps running.  Restore: verify the whole
 * image first, create a domain of the saved size, fill its RAM, hand the
 * state back to keeld (RESTORE_STATE), rebuild the store nodes and
 * unpause it unless asked not to.  Whatever fails after the new domain
 * exists destroys it again: a bad image leaves nothing behind.  An HVM
 * domain (running or paused) is suspended by dom0 instead and its device
 * model's state travels beside keeld's (xl_backend_keel_hvmsave.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "xl_backend_keel.h"
#include "xl_saveimg.h"

#define XLK_SAVE_ZLIB_LEVEL 1	       /* throughput first; zero pages are skipped anyway */
#define XLK_SAVE_MAX_STATE  (64 << 20) /* keeld's state blob: shim region and tables */
#define XLK_SAVE_MAX_CONFIG (1 << 20)

struct xlk_progress {
	const char *what;
	int last;
	int tty;
};

/* A progress bar on a terminal, as libxl's save helper draws one. */
static void xlk_progress(void *arg, uint64_t done, uint64_t total)
{
	struct xlk_progress *p = arg;
	int pct = total ? (int)(done * 100 / total) : 0, bars = pct / 5;

	if (!p->tty || pct == p->last)
		return;
	p->last = pct;
	fprintf(stderr, "\r%s: [%.*s%*s] %3d%%", p->what, bars, "####################", 20 - bars,
		"", pct);
	if (pct == 100)
		fputc('\n', stderr);
	fflush(stderr);
}

/* keeld's state of a paused domain, in a memory file. */
int xlk_fetch_state(struct xlk *k, uint32_t domid, int *fd_out, uint64_t *len)
{
	int fd = memfd_create("keel-save-state", MFD_CLOEXEC), r;
	off_t end;

	if (fd < 0)
		return -errno;
	r = keelctl_save_state(k->ctl, domid, fd);
	end = r == 0 ? lseek(fd, 0, SEEK_END) : -1;
	if (r == 0 && (end <= 0 || lseek(fd, 0, SEEK_SET) < 0))
		r = -EIO;
	if (r < 0) {
		close(fd);
		return r;
	}
	*fd_out = fd;
	*len = (uint64_t)end;
	return 0;
}

int xlk_copy_fd(struct xl_saveimg_w *w, int fd, uint64_t len)
{
	char buf[65536];

	while (len) {
		ssize_t n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		if (xl_saveimg_write(w, buf, (size_t)n) < 0)
			return -EIO;
		len -= (uint64_t)n;
	}
	return 0;
}

/*
 * libxl's domain_suspend_common for a PV guest: the request through the
 * store, then the wait for the domain to shut down with reason suspend.
 */
int xlk_suspend(struct xlk *k, uint32_t domid)
{
	long timeout = xlk_timeout_ms("KEEL_XL_SUSPEND_TIMEOUT_MS");
	int r;

	r = xlk_pvcontrol(k, domid, "suspend", timeout);
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "xl: guest didn't acknowledge suspend, cancelling request\n");
		char path[64];

		snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
		ks_write_str(k->xs, KS_TX_NONE, path, "");
		return r;
	}
	return r < 0 ? r : xlk_suspend_wait(k, domid);
}

int xlk_suspend_wait(struct xlk *k, uint32_t domid)
{
	long timeout = xlk_timeout_ms("KEEL_XL_SUSPEND_TIMEOUT_MS"), ms;
	struct timespec t0, now;
	struct keelctl_dominfo info;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = keelctl_domain_getinfo(k->ctl, domid, &info);
		if (r < 0)
			return r;
		if (info.state == KEELCTL_STATE_SHUTDOWN && info.shutdown_reason == 2)
			return 0;
		if (info.state == KEELCTL_STATE_SHUTDOWN || info.state == KEELCTL_STATE_CRASHED) {
			fprintf(stderr,
				"xl: guest %u we were suspending has shut down with "
				"unexpected reason code %d\n",
				domid, info.shutdown_reason);
			return -EIO;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout) {
			fprintf(stderr, "xl: guest did not suspend, timed out\n");
			return -ETIMEDOUT;
		}
		usleep(5000);
	}
}

int xlk_save(void *h, uint32_t domid, const char *file, bool leave_running, bool leave_paused)
{
	struct xlk *k = h;
	struct keelctl_dominfo info;
	struct xlcfg_domain cfg;
	struct xl_saveimg_w *w = NULL;
	struct xlk_progress prog = {"Saving memory", -1, isatty(2)};
	char *text = NULL;
	size_t text_len = 0;
	FILE *mem;
	void *ram = NULL;
	uint64_t state_len = 0, pages, dm_len = 0;
	int state_fd = -1, dm_fd = -1, r, have_cfg, suspended = 0;
	bool hvm, was_paused;

	if (domid == 0)
		return -EPERM;
	r = keelctl_domain_getinfo(k->ctl, domid, &info);
	if (r < 0)
		return r;
	/* an HVM domain is suspended by dom0, so a paused one can be saved
	 * (and stays paused after -c), as on Xen */
	was_paused = info.state == KEELCTL_STATE_PAUSED;
	if (was_paused && !(info.flags & KEELCTL_DOMINFO_HVM)) {
		fprintf(stderr,
			"xl: domain %u is paused: it cannot answer the suspend request "
			"(unpause it first)\n",
			domid);
		return -EINVAL;
	}
	if (info.state != KEELCTL_STATE_RUNNING && !was_paused) {
		fprintf(stderr, "xl: domain %u is not running: nothing to save\n", domid);
		return -EINVAL;
	}
	have_cfg = xlk_get_config(h, domid, &cfg) == 0;
	if (!have_cfg) {
		fprintf(stderr, "xl: no saved configuration for domain %u\n", domid);
		return -ENOENT;
	}
	mem = open_memstream(&text, &text_len);
	r = mem ? xlcfg_domain_to_cfg(&cfg, mem) : -ENOMEM;
	if (mem && fclose(mem) != 0 && r == 0)
		r = -ENOMEM;
	/* an HVM domain's RAM is memory= (maxmem= is room for what is
	 * populated past it, which keeld's records carry) */
	hvm = cfg.type == XLCFG_TYPE_HVM;
	pages = (hvm ? xlk_hvm_ram_mb(&cfg) : info.mem_mb) << 8;
	xlcfg_domain_clear(&cfg);
	if (r < 0)
		goto out_text;
	fprintf(stderr, "Saving to %s new xl format (info 0x%x/0x0/%zu)\n", file,
		XL_SAVEIMG_VERSION, text_len);
	r = hvm ? xlk_hvm_suspend(k, domid) : xlk_suspend(k, domid);
	suspended = r == 0;
	/* libxl: the device model's state after the domain's suspend */
	if (r == 0 && hvm)
		r = xlk_hvm_dm_save(k, domid, &dm_fd, &dm_len);
	if (r == 0)
		r = xlk_fetch_state(k, domid, &state_fd, &state_len);
	if (r == 0)
		r = xlk_map_ram(k, domid, pages, hvm, &ram);
	if (r == 0)
		r = xl_saveimg_create(file, XLK_SAVE_ZLIB_LEVEL, &w);
	if (r == 0)
		r = xl_saveimg_section(w, XL_SAVEIMG_CONFIG, text_len);
	if (r == 0)
		r = xl_saveimg_write(w, text, text_len);
	if (r == 0)
		r = xl_saveimg_write_memory(w, ram, pages, xlk_progress, &prog);
	if (r == 0)
		r = xl_saveimg_section(w, XL_SAVEIMG_STATE, state_len);
	if (r == 0)
		r = xlk_copy_fd(w, state_fd, state_len);
	if (r == 0 && hvm)
		r = xl_saveimg_section(w, XL_SAVEIMG_EMULATOR, dm_len);
	if (r == 0 && hvm)
		r = xlk_copy_fd(w, dm_fd, dm_len);
	if (r == 0) {
		r = xl_saveimg_finish(w);
		w = NULL;
	}
	if (r < 0)
		fprintf(stderr, "xl: saving domain %u to %s failed: %s\n", domid, file,
			strerror(-r));
	xl_saveimg_abort(w);
	if (ram)
		munmap(ram, pages * 4096);
	if (state_fd >= 0)
		close(state_fd);
	if (dm_fd >= 0)
		close(dm_fd);
	/* As xl: after a good save the domain goes, unless -c or -p keep it;
	 * after a failed one the guest carries on (the suspend is cancelled). */
	if (r == 0 && !leave_running && !leave_paused) {
		if (hvm)
			xlk_dm_stop(k, domid);
		r = keelctl_domain_destroy(k->ctl, domid);
		xlk_config_forget(k, domid);
		xlk_store_forget_domain(k, domid);
	} else if (suspended) {
		int u = keelctl_domain_resume(k->ctl, domid, 1);

		/* QEMU was stopped for its save (if it got that far): it runs on */
		if (u == 0 && hvm && xlk_qmp_cont(k, domid) < 0)
			fprintf(stderr, "xl: domain %u's device model did not continue\n", domid);
		if (u == 0 && !(r == 0 && leave_paused) && !was_paused)
			u = keelctl_domain_unpause(k->ctl, domid);
		if (u < 0)
			fprintf(stderr, "xl: resuming domain %u: %s\n", domid, strerror(-u));
		if (r == 0)
			r = u;
	}
out_text:
	free(text);
	return r;
}

/*
 * An image's first section, which must be its configuration, parsed
 * (below); a domain of a type keeld does not build is -EINVAL.  *have_dom
 * says whether @dom was filled (and must be cleared).
 */
int xlk_restore_first_config(struct xl_saveimg_r *img, const struct xlcfg_domain *override,
			     struct xlcfg_domain *dom, int *have_dom, bool allow_hvm)
{
	uint32_t type;
	uint64_t len;
	int r = xl_saveimg_next(img, &type, &len);

	*have_dom = 0;
	if (r == 0 && type != XL_SAVEIMG_CONFIG)
		r = -EBADMSG;
	if (r == 0) {
		r = xlk_restore_config(img, len, override, dom);
		*have_dom = r == 0;
	}
	if (r == 0 && dom->type != XLCFG_TYPE_PV && !(allow_hvm && dom->type == XLCFG_TYPE_HVM))
		r = -EINVAL;
	return r;
}

/*
 * The configuration section, parsed; a configuration given on the command
 * line (xl restore CONFIG FILE) replaces it, as in xl.
 */
int xlk_restore_config(struct xl_saveimg_r *img, uint64_t len, const struct xlcfg_domain *override,
		       struct xlcfg_domain *dom)
{
	char *text, *otext = NULL;
	size_t olen = 0;
	struct xlcfg *cfg = NULL;
	int r;

	if (len == 0 || len > XLK_SAVE_MAX_CONFIG)
		return -EBADMSG;
	text = malloc(len);
	if (!text)
		return -ENOMEM;
	r = xl_saveimg_read(img, text, len);
	if (r == 0 && override) {
		FILE *f = open_memstream(&otext, &olen);

		r = f ? xlcfg_domain_to_cfg(override, f) : -ENOMEM;
		if (f && fclose(f) != 0 && r == 0)
			r = -ENOMEM;
	}
	if (r == 0) {
		cfg = xlcfg_new(override ? "<configuration>" : "<saved configuration>", stderr);
		if (!cfg)
			r = -ENOMEM;
	}
	if (r == 0)
		r = override ? xlcfg_parse_data(cfg, otext, olen)
			     : xlcfg_parse_data(cfg, text, len);
	if (r == 0) {
		memset(dom, 0, sizeof(*dom));
		r = xlcfg_domain_from_cfg(dom, cfg);
	}
	if (r == 0)
		r = xlcfg_domain_set_defaults(dom, stderr);
	xlcfg_free(cfg);
	free(text);
	free(otext);
	return r < 0 ? r : 0;
}

/* A STATE section of len bytes into a memory file (*fd, at offset 0). */
int xlk_read_state(struct xl_saveimg_r *img, uint64_t len, int *fd_out)
{
	char *state = NULL;
	int r, fd = -1;

	if (len == 0 || len > XLK_SAVE_MAX_STATE)
		return -EBADMSG;
	state = malloc(len);
	fd = memfd_create("keel-restore-state", MFD_CLOEXEC);
	r = state && fd >= 0 ? xl_saveimg_read(img, state, len) : -ENOMEM;
	if (r == 0 && write(fd, state, len) != (ssize_t)len)
		r = -EIO;
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	free(state);
	if (r < 0 && fd >= 0)
		close(fd);
	if (r == 0)
		*fd_out = fd;
	return r;
}

/* END, and nothing after it: then the state may go to keeld. */
int xlk_apply_state(struct xlk *k, struct xl_saveimg_r *img, uint32_t domid, int fd)
{
	uint32_t type;
	uint64_t len;
	int r = xl_saveimg_next(img, &type, &len);

	if (r == 0 && (type != XL_SAVEIMG_END || len != 0))
		r = -EBADMSG;
	if (r == 0)
		r = xl_saveimg_check_end(img);
	/* only a complete, consistent image reaches keeld */
	if (r == 0) {
		r = keelctl_restore_state(k->ctl, domid, fd);
		if (r == -EPROTO)
			fprintf(stderr, "xl: the image holds keeld state this keeld cannot read "
					"(see xl dmesg)\n");
		else if (r == -EINVAL)
			fprintf(stderr, "xl: keeld refused the image's state (see xl dmesg)\n");
	}
	return r;
}

/* The rest of the image into a domain just created for it; an HVM
 * domain's device model state into dm_path for QEMU. */
static int xlk_restore_body(struct xlk *k, struct xl_saveimg_r *img, uint32_t domid, uint64_t pages,
			    bool hvm, char *dm_path, size_t dm_size)
{
	struct xlk_progress prog = {"Loading memory", -1, isatty(2)};
	uint32_t type;
	uint64_t len;
	void *ram = NULL;
	int r, fd = -1;

	r = xl_saveimg_next(img, &type, &len);
	if (r == 0 && (type != XL_SAVEIMG_MEMORY || len != pages))
		r = -EINVAL;
	if (r == 0)
		r = xlk_map_ram(k, domid, pages, hvm, &ram);
	if (r == 0)
		r = xl_saveimg_read_memory(img, ram, pages, xlk_progress, &prog);
	if (ram)
		munmap(ram, pages * 4096);
	if (r == 0)
		r = xl_saveimg_next(img, &type, &len);
	if (r == 0 && type != XL_SAVEIMG_STATE)
		r = -EBADMSG;
	if (r == 0)
		r = xlk_read_state(img, len, &fd);
	if (r == 0 && hvm)
		r = xlk_hvm_dm_read(k, img, domid, dm_path, dm_size);
	if (r == 0)
		r = xlk_apply_state(k, img, domid, fd);
	if (fd >= 0)
		close(fd);
	return r;
}

/* A domain for a saved or migrated configuration: keeld's part. */
int xlk_restore_domain_new(struct xlk *k, const struct xlcfg_domain *dom, uint32_t *domid)
{
	uint64_t mem_mb = (dom->target_memkb + 1023) / 1024;
	int vcpus = dom->max_vcpus > dom->vcpus ? dom->max_vcpus : dom->vcpus;
	int r = dom->type == XLCFG_TYPE_HVM
			? keelctl_domain_create_kind(k->ctl, dom->name, xlk_hvm_ram_mb(dom), vcpus,
						     1, domid)
			: keelctl_domain_create_max(k->ctl, dom->name, mem_mb, xlk_space_mb(dom),
						    vcpus, domid);

	if (r < 0)
		return r;
	r = keelctl_domain_set_handle(k->ctl, *domid, dom->uuid);
	if (r == 0)
		r = keelctl_domain_set_maxmem(
			k->ctl, *domid,
			(dom->max_memkb > dom->target_memkb ? dom->max_memkb : mem_mb * 1024) +
				xlk_hvm_extra_memkb(dom));
	if (r < 0)
		keelctl_domain_destroy(k->ctl, *domid);
	return r;
}

/* ... and the toolstack's: scheduler, store nodes and devices, saved config. */
int xlk_restore_domain_finish(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	int r = xlk_sched_from_config(k, domid, dom);

	if (r == 0)
		r = xlk_store_make_domain(k, domid, dom);
	if (r == 0)
		r = xlk_config_save(k, domid, dom);
	return r;
}

int xlk_restore(void *h, const char *file, const struct xlcfg_domain *override, bool paused,
		uint32_t *domid)
{
	struct xlk *k = h;
	struct xl_saveimg_r *img = NULL;
	struct xlcfg_domain dom;
	char err[160], dm_path[PATH_MAX + 32] = "";
	uint32_t other;
	uint64_t mem_mb;
	int r, have_dom = 0, created = 0;
	bool hvm;

	r = xl_saveimg_open(file, &img, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "xl: %s: %s\n", file, err);
		return r;
	}
	fprintf(stderr, "Loading new save file %s (new xl fmt info 0x%x/0x0/%llu)\n", file,
		xl_saveimg_header(img)->version,
		(unsigned long long)xl_saveimg_header(img)->raw_size);
	r = xlk_restore_first_config(img, override, &dom, &have_dom, true);
	if (r == 0 && xlk_find_name(k, dom.name, &other) == 0) {
		fprintf(stderr, "xl: Domain with name \"%s\" already exists.\n", dom.name);
		r = -EEXIST;
	}
	hvm = have_dom && dom.type == XLCFG_TYPE_HVM;
	if (r == 0 && hvm)
		r = xlk_check_hvm(&dom);
	/* the frames the image holds: an HVM domain's RAM (memory= less video RAM) */
	mem_mb = !have_dom ? 0 : hvm ? xlk_hvm_ram_mb(&dom) : xlk_space_mb(&dom);
	if (r == 0) {
		r = xlk_restore_domain_new(k, &dom, domid);
		created = r == 0;
	}
	if (r == 0)
		r = xlk_restore_body(k, img, *domid, mem_mb << 8, hvm, dm_path, sizeof(dm_path));
	if (r == 0)
		r = xlk_restore_domain_finish(k, *domid, &dom);
	/* libxl: QEMU for the restored domain loads its state, then the domain runs */
	if (r == 0 && hvm)
		r = xlk_dm_start_hvm_incoming(k, *domid, &dom, dm_path);
	if (dm_path[0])
		unlink(dm_path);
	if (r == 0 && !paused)
		r = keelctl_domain_unpause(k->ctl, *domid);
	if (r < 0) {
		if (r == -EBADMSG || r == -EINVAL)
			fprintf(stderr, "xl: %s: image corrupt or not for this toolstack (%s)\n",
				file, strerror(-r));
		if (created) {
			if (hvm)
				xlk_dm_stop(k, *domid);
			xlk_config_forget(k, *domid);
			xlk_store_forget_domain(k, *domid);
			keelctl_domain_destroy(k->ctl, *domid);
		}
	}
	if (have_dom)
		xlcfg_domain_clear(&dom);
	xl_saveimg_close(img);
	return r;
}
