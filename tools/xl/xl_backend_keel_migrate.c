/*
 * xl migrate / migrate-receive for keeld's domains: the stream, not the
 * handshake (xl_migrate.c).  The stream is Keel's own, not Xen's libxc
 * stream: the save image's format (xl_saveimg.c, header flagged
 * XL_SAVEIMG_F_STREAM) with its CONFIG, STATE and END sections and
 * PAGES sections, one per pre-copy round.  Sender: log-dirty on (every
 * frame dirty), round 1 sends every non-zero page while the guest runs,
 * then rounds of the frames dirtied meanwhile (KVM's log ORed with keeld's
 * record of what it and dom0 wrote) until few are left or the round limit;
 * then Xen's suspend as for xl save, the last dirty frames and keeld's
 * state records.  Receiver: a domain NAME--incoming of the configuration's
 * size, each round into its RAM, the state to keeld; left paused.
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

#define XLK_MIG_MAX_ROUNDS 8  /* live rounds, the first one included */
#define XLK_MIG_DIRTY_FEW  50 /* dirty frames few enough to stop for */
#define XLK_MIG_ZLIB_LEVEL 1

static double xlk_mig_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t xlk_mig_count(const uint64_t *bm, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(bm[i]);
	return n;
}

/* One round: the PAGES section, flushed, and its progress line. */
static int xlk_mig_round(struct xl_saveimg_w *w, const uint8_t *ram, uint64_t pages,
			 const uint64_t *dirty, int round, const char *what)
{
	double t0 = xlk_mig_now(), dt;
	uint64_t sent = 0, n = xlk_mig_count(dirty, (pages + 63) / 64);
	int r = xl_saveimg_write_pages(w, ram, pages, dirty, round == 1, &sent);

	if (r == 0)
		r = xl_saveimg_flush(w);
	dt = xlk_mig_now() - t0;
	if (r == 0)
		fprintf(stderr,
			"migration sender: round %d (%s): %llu dirty, %llu pages sent "
			"(%.1f MiB) in %.0f ms, %.1f MiB/s\n",
			round, what, (unsigned long long)n, (unsigned long long)sent,
			(double)sent / 256.0, dt * 1000, dt > 0 ? (double)sent / 256.0 / dt : 0.0);
	return r;
}

/* The configuration to send, under the name the domain has now (keeld's:
 * the saved one may still be a NAME--incoming of an earlier migration). */
static int xlk_mig_config_text(struct xlk *k, uint32_t domid, const char *name,
			       const struct xlcfg_domain *override, char **text, size_t *len)
{
	struct xlcfg_domain cfg, send;
	FILE *mem;
	int r;

	if (!override) {
		if (xlk_get_config(k, domid, &cfg) < 0) {
			fprintf(stderr, "xl: no saved configuration for domain %u\n", domid);
			return -ENOENT;
		}
	}
	send = override ? *override : cfg;
	send.name = (char *)name;
	mem = open_memstream(text, len);
	r = mem ? xlcfg_domain_to_cfg(&send, mem) : -ENOMEM;
	if (mem && fclose(mem) != 0 && r == 0)
		r = -ENOMEM;
	if (!override)
		xlcfg_domain_clear(&cfg);
	return r < 0 ? r : 0;
}

int xlk_migrate_send(void *h, uint32_t domid, int fd, const struct xlcfg_domain *override,
		     bool debug)
{
	struct xlk *k = h;
	struct keelctl_dominfo info;
	struct xl_saveimg_w *w = NULL;
	uint64_t pages, words, *dirty = NULL, n = 0, state_len = 0;
	void *ram = NULL;
	char *text = NULL;
	size_t text_len = 0;
	int r, round = 1, logdirty = 0, suspended = 0, state_fd = -1;
	double t0 = xlk_mig_now(), tdown = 0;

	if (domid == 0)
		return -EPERM;
	r = keelctl_domain_getinfo(k->ctl, domid, &info);
	if (r < 0)
		return r;
	if (info.state != KEELCTL_STATE_RUNNING) {
		fprintf(stderr,
			"xl: domain %u is not running: it cannot answer the suspend "
			"request\n",
			domid);
		return -EINVAL;
	}
	r = xlk_mig_config_text(k, domid, info.name, override, &text, &text_len);
	if (r < 0)
		return r;
	pages = info.mem_mb << 8;
	words = (pages + 63) / 64;
	dirty = calloc(words, sizeof(*dirty));
	if (!dirty)
		r = -ENOMEM;
	if (r == 0)
		r = keelctl_map_frames(k->ctl, domid, 0, pages, &ram);
	if (r == 0)
		r = xl_saveimg_stream_create(fd, XLK_MIG_ZLIB_LEVEL, &w);
	if (r == 0)
		r = xl_saveimg_section(w, XL_SAVEIMG_CONFIG, text_len);
	if (r == 0)
		r = xl_saveimg_write(w, text, text_len);
	if (r == 0) {
		r = keelctl_log_dirty_enable(k->ctl, domid);
		logdirty = r == 0;
		if (r < 0)
			fprintf(stderr, "xl: keeld cannot track domain %u's dirty pages: %s\n",
				domid, strerror(-r));
	}
	/* live rounds: the guest runs while its memory goes */
	while (r == 0) {
		r = keelctl_log_dirty_fetch_all(k->ctl, domid, pages, dirty);
		if (r < 0)
			break;
		n = xlk_mig_count(dirty, words);
		if (round > 1 && (n < XLK_MIG_DIRTY_FEW || round > XLK_MIG_MAX_ROUNDS))
			break; /* these go with the last round */
		r = xlk_mig_round(w, ram, pages, dirty, round, "live");
		round++;
	}
	if (r == 0) {
		if (debug)
			fprintf(stderr,
				"migration sender: %llu dirty after %d live rounds: "
				"suspending\n",
				(unsigned long long)n, round - 1);
		tdown = xlk_mig_now();
		r = xlk_suspend(k, domid);
		suspended = r == 0;
	}
	if (r == 0) {
		/* what the last live fetch found, and what changed since */
		uint64_t *more = calloc(words, sizeof(*more));

		r = more ? keelctl_log_dirty_fetch_all(k->ctl, domid, pages, more) : -ENOMEM;
		for (uint64_t i = 0; r == 0 && i < words; i++)
			dirty[i] |= more[i];
		free(more);
	}
	if (r == 0)
		r = xlk_mig_round(w, ram, pages, dirty, round, "suspended");
	if (r == 0)
		r = xlk_fetch_state(k, domid, &state_fd, &state_len);
	if (r == 0)
		r = xl_saveimg_section(w, XL_SAVEIMG_STATE, state_len);
	if (r == 0)
		r = xlk_copy_fd(w, state_fd, state_len);
	if (r == 0) {
		r = xl_saveimg_finish(w);
		w = NULL;
	}
	if (r == 0)
		fprintf(stderr,
			"migration sender: stream sent: %d rounds, %.0f ms in all, "
			"%.0f ms since the guest was suspended\n",
			round, (xlk_mig_now() - t0) * 1000, (xlk_mig_now() - tdown) * 1000);
	if (r < 0)
		fprintf(stderr, "xl: migrating domain %u: %s\n", domid, strerror(-r));
	xl_saveimg_abort(w);
	if (logdirty)
		keelctl_log_dirty_disable(k->ctl, domid);
	if (state_fd >= 0)
		close(state_fd);
	if (ram)
		munmap(ram, pages * 4096);
	free(dirty);
	free(text);
	/* a failure leaves the guest running here */
	if (r < 0 && suspended)
		xlk_migrate_finish(h, domid, false);
	return r;
}

int xlk_migrate_finish(void *h, uint32_t domid, bool destroy)
{
	struct xlk *k = h;
	int r;

	if (destroy) {
		r = keelctl_domain_destroy(k->ctl, domid);
		xlk_config_forget(k, domid);
		xlk_store_forget_domain(k, domid);
		return r;
	}
	/* the suspend is cancelled: the guest carries on as after xl save -c */
	r = keelctl_domain_resume(k->ctl, domid, 1);
	if (r == 0)
		r = keelctl_domain_unpause(k->ctl, domid);
	if (r < 0)
		fprintf(stderr, "xl: resuming domain %u: %s\n", domid, strerror(-r));
	return r;
}

/* The stream after CONFIG, into the new domain's RAM and keeld. */
static int xlk_migrate_receive_body(struct xlk *k, struct xl_saveimg_r *img, uint32_t domid,
				    uint64_t pages)
{
	void *ram = NULL;
	uint32_t type;
	uint64_t len, got, total = 0;
	int r, fd = -1, rounds = 0;

	r = keelctl_map_frames(k->ctl, domid, 0, pages, &ram);
	while (r == 0) {
		r = xl_saveimg_next(img, &type, &len);
		if (r < 0 || type != XL_SAVEIMG_PAGES)
			break;
		if (len != pages) {
			r = -EBADMSG;
			break;
		}
		r = xl_saveimg_read_pages(img, ram, pages, &got);
		total += got;
		rounds++;
	}
	if (ram)
		munmap(ram, pages * 4096);
	if (r == 0 && (type != XL_SAVEIMG_STATE || rounds == 0))
		r = -EBADMSG;
	if (r == 0)
		r = xlk_read_state(img, len, &fd);
	if (r == 0)
		r = xlk_apply_state(k, img, domid, fd);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		fprintf(stderr, "migration target: %d rounds, %llu pages received\n", rounds,
			(unsigned long long)total);
	return r;
}

int xlk_migrate_receive(void *h, int fd, const char *suffix, uint32_t *domid, char *name,
			size_t namelen)
{
	struct xlk *k = h;
	struct xl_saveimg_r *img = NULL;
	struct xlcfg_domain dom;
	char err[160], *incoming = NULL;
	uint32_t other;
	int r, have_dom = 0, created = 0;

	r = xl_saveimg_stream_open(fd, &img, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "xl: migration stream: %s\n", err);
		return r;
	}
	r = xlk_restore_first_config(img, NULL, &dom, &have_dom, false);
	if (r == 0) {
		snprintf(name, namelen, "%s", dom.name);
		if (asprintf(&incoming, "%s%s", dom.name, suffix) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && xlk_find_name(k, incoming, &other) == 0) {
		fprintf(stderr, "xl: Domain with name \"%s\" already exists.\n", incoming);
		r = -EEXIST;
	}
	/* a disk or bridge this host lacks: refuse before building anything */
	if (r == 0) {
		r = xlk_devices_check(k, &dom);
		if (r < 0)
			fprintf(stderr,
				"migration target: this host cannot provide domain %s's devices: "
				"refusing it\n",
				dom.name);
	}
	if (r == 0) {
		free(dom.name);
		dom.name = incoming;
		incoming = NULL;
		r = xlk_restore_domain_new(k, &dom, domid);
		created = r == 0;
	}
	if (r == 0)
		r = xlk_migrate_receive_body(k, img, *domid, xlk_space_mb(&dom) << 8);
	if (r == 0)
		r = xlk_restore_domain_finish(k, *domid, &dom);
	if (r < 0) {
		if (xl_saveimg_cut_short(img))
			fprintf(stderr, "xl: migration stream: truncated: the sender went away "
					"mid-stream\n");
		else if (r == -EBADMSG)
			fprintf(stderr, "xl: migration stream: corrupt\n");
		else
			fprintf(stderr, "xl: receiving the domain: %s\n", strerror(-r));
		if (created) {
			fprintf(stderr,
				"migration target: destroying the incoming domain %s (domain "
				"%u)\n",
				dom.name, *domid);
			xlk_config_forget(k, *domid);
			xlk_store_forget_domain(k, *domid);
			keelctl_domain_destroy(k->ctl, *domid);
		}
	}
	free(incoming);
	if (have_dom)
		xlcfg_domain_clear(&dom);
	xl_saveimg_close(img);
	return r;
}
