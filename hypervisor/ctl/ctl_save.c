/*
 * keeld's half of xl save / xl restore / xl save -c, after Xen's PV suspend
 * protocol: the guest was asked (control/shutdown = suspend), froze its
 * devices and called SCHEDOP_shutdown(SHUTDOWN_suspend); every vCPU
 * finished the hypercall it was in and stopped.  Only then is there
 * anything to save.
 *
 * SAVE_STATE writes the state outside guest RAM as save records
 * (core/saverec.h): the domain's kind writes its own (pv/pv_save.c), then
 * each subsystem its (the grant table).  xl wraps them with the
 * configuration and RAM in its compressed, checksummed image
 * (tools/xl/xl_backend_keel_save.c).
 *
 * RESTORE_STATE takes such records for a domain just created with the same
 * memory and vCPU count: the records are split and every one is checked by
 * its owner first (nothing is touched until all are good); then the kind
 * applies its records, the subsystems theirs, and the domain resumes as a
 * new Xen domain would (the suspend returns 0), paused for xl to unpause.
 *
 * RESUME puts a suspended domain back to work in place (xl save -c / -p):
 * with cancel, the hypercall returns 1 and nothing was lost (Xen's
 * suspend_cancel, what xl uses); without, it resumes as a restored domain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "abi/xen.h"
#include "../core/util.h"
#include "../core/kind.h"
#include "../core/sandbox.h"
#include "../core/saverec.h"
#include "ctl.h"

static char ctl_save_shim[4096];

void ctl_save_shim_path(const char *path)
{
	snprintf(ctl_save_shim, sizeof(ctl_save_shim), "%s", path);
}

static int ctl_save_stopped(struct domain *d)
{
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&d->lock);
	while (d->threads_running > 0 && r == 0)
		r = pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	r = d->threads_running > 0 ? -EBUSY : 0;
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Suspended by the guest itself: a PV domain dom0 shut down with
 * SHUTDOWN_suspend (suspend_vcpu -1) stopped wherever its vCPUs were, with
 * no suspend hypercall to return from, so it is neither saved nor resumed.
 * An HVM domain is suspended that way (libxl's xc_domain_shutdown for a
 * guest without PV drivers): its state is all in KVM and keeld. */
static int ctl_save_suspended(const struct domain *d)
{
	return d->state == DOM_SHUTDOWN && d->shutdown_reason == SHUTDOWN_suspend && d->started &&
	       (d->suspend_vcpu >= 0 || d->kind->hvm);
}

int ctl_save_state(struct domain *d, int fd)
{
	struct srb out = {0};
	int r;

	if (!ctl_save_suspended(d)) {
		domain_log(d, "save refused: the guest has not suspended (state %s%s)",
			   domain_state_name(d->state),
			   d->suspend_vcpu < 0 && !d->kind->hvm ? ", suspended by dom0" : "");
		return -EINVAL;
	}
	r = ctl_save_stopped(d);
	if (r < 0) {
		domain_log(d, "save refused: vCPUs still running after the suspend");
		return r;
	}
	saverec_begin(&out);
	r = d->kind->save(d, &out);
	if (r == 0)
		r = domain_subsys_save(d, &out);
	saverec_end(&out);
	if (r == 0)
		r = out.err;
	if (r == 0)
		r = keeld_write_all(fd, out.p, out.len);
	if (r == 0 && d->kind->hvm)
		hvlog("d%d: state saved: %zu bytes of records (%d vCPUs, hvm)", d->domid, out.len,
		      d->nr_vcpus);
	else if (r == 0)
		hvlog("d%d: state saved: %zu bytes of records (%d vCPUs, guest time %llu ms)",
		      d->domid, out.len, d->nr_vcpus,
		      (unsigned long long)(pv_time_now(d) / 1000000));
	srb_free(&out);
	return r;
}

/* Split, then every record checked by its owner: nothing is touched. */
static int ctl_restore_split_check(const struct domain_kind *kind, const uint8_t *img, size_t len,
				   uint64_t nr_pages, int nr_vcpus, struct saverec *recs,
				   unsigned *n, char *err, size_t errlen)
{
	int r = saverec_split(img, len, recs, SAVEREC_MAX, n, err, errlen);

	for (unsigned i = 0; r == 0 && i < *n; i++)
		if (recs[i].type == SAVEREC_END || recs[i].type >= SAVEREC_NTYPES) {
			snprintf(err, errlen, "record %u: unknown type %u", i, recs[i].type);
			r = -EPROTO;
		}
	if (r == 0)
		r = kind->restore_check(recs, *n, nr_pages, nr_vcpus, err, errlen);
	if (r == 0)
		r = domain_subsys_check(recs, *n, err, errlen);
	return r;
}

int ctl_restore_check_kind(const struct domain_kind *kind, const uint8_t *img, size_t len,
			   uint64_t nr_pages, int nr_vcpus, char *err, size_t errlen)
{
	struct saverec *recs = malloc(SAVEREC_MAX * sizeof(*recs));
	unsigned n;
	int r = recs ? ctl_restore_split_check(kind, img, len, nr_pages, nr_vcpus, recs, &n, err,
					       errlen)
		     : -ENOMEM;

	free(recs);
	return r;
}

int ctl_restore_check(const uint8_t *img, size_t len, uint64_t nr_pages, int nr_vcpus, char *err,
		      size_t errlen)
{
	return ctl_restore_check_kind(&pv_kind, img, len, nr_pages, nr_vcpus, err, errlen);
}

static int ctl_read_all(int fd, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size > SAVEREC_MAX_LEN + (16 << 20))
		return -EBADMSG;
	*buf = malloc((size_t)st.st_size);
	if (!*buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, *buf + got, (size_t)st.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(*buf);
			return n < 0 ? -errno : -EBADMSG;
		}
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

/* The helper's answer: the verdict, and where each record's payload lies
 * in the image (never a pointer: keeld rebuilds those itself). */
struct ctl_restore_msg {
	int32_t status; /* 0, or -errno with err */
	uint32_t n;
	char err[256];
	struct ctl_restore_entry {
		uint32_t type;
		uint16_t version;
		uint16_t pad;
		uint32_t len;
		uint32_t pad2;
		uint64_t off;
	} recs[SAVEREC_MAX];
};

/* The helper, forked for one image: split and check it under the
 * sandbox, send the verdict and the record index.  Never returns. */
static void __attribute__((noreturn))
ctl_restore_child(int fd, const struct domain_kind *kind, const uint8_t *img, size_t len,
		  uint64_t nr_pages, int nr_vcpus)
{
	struct ctl_restore_msg *m = calloc(1, sizeof(*m));
	struct saverec *recs = malloc(SAVEREC_MAX * sizeof(*recs));
	unsigned n = 0;

	if (sandbox_enter(fd) < 0 || !m || !recs)
		_exit(122);
	m->status = ctl_restore_split_check(kind, img, len, nr_pages, nr_vcpus, recs, &n, m->err,
					    sizeof(m->err));
	if (m->status == 0) {
		m->n = n;
		for (unsigned i = 0; i < n; i++)
			m->recs[i] = (struct ctl_restore_entry){recs[i].type,
								recs[i].version,
								0,
								recs[i].len,
								0,
								(uint64_t)(recs[i].data - img)};
	}
	if (keeld_write_all(3, m, sizeof(*m)) < 0)
		_exit(123);
	_exit(0); /* not exit(): no atexit work (a sanitizer's) under the filter */
}

/* keeld's checks on the helper's index: each record's payload inside the
 * image, after the header and its own record header, in order and not
 * overlapping, of a known type. */
static int ctl_restore_index_check(const struct ctl_restore_msg *m, const uint8_t *img, size_t len,
				   struct saverec *recs)
{
	uint64_t next = 16; /* past the image header */

	if (m->n > SAVEREC_MAX)
		return -EBADMSG;
	for (unsigned i = 0; i < m->n; i++) {
		const struct ctl_restore_entry *e = &m->recs[i];

		if (e->type == SAVEREC_END || e->type >= SAVEREC_NTYPES ||
		    e->len > SAVEREC_MAX_LEN || e->off < next + 16 || e->off > len ||
		    e->len > len - e->off)
			return -EBADMSG;
		recs[i] = (struct saverec){e->type, e->version, e->len, img + e->off};
		next = e->off + e->len;
	}
	return 0;
}

int ctl_restore_sandboxed(const struct domain_kind *kind, const uint8_t *img, size_t len,
			  uint64_t nr_pages, int nr_vcpus, struct saverec *recs, unsigned *n,
			  char *err, size_t errlen)
{
	struct ctl_restore_msg *m = malloc(sizeof(*m));
	int fd, r = -EBADMSG;
	pid_t pid;

	if (!m)
		return -ENOMEM;
	pid = sandbox_fork(&fd);
	if (pid < 0) {
		free(m);
		return pid;
	}
	if (pid == 0)
		ctl_restore_child(fd, kind, img, len, nr_pages, nr_vcpus);
	if (keeld_read_all(fd, m, sizeof(*m)) < 0) {
		snprintf(err, errlen, "the save-image helper sent no answer");
	} else if (m->status < 0) {
		m->err[sizeof(m->err) - 1] = 0;
		snprintf(err, errlen, "%s", m->err);
		/* only the errors the checks give, whatever the helper says */
		r = m->status == -EPROTO || m->status == -EINVAL || m->status == -ENOMEM ? m->status
											 : -EBADMSG;
	} else if (ctl_restore_index_check(m, img, len, recs) < 0) {
		snprintf(err, errlen, "the save-image helper's record index is inconsistent");
	} else {
		*n = m->n;
		r = 0;
	}
	close(fd);
	free(m);
	return sandbox_reap(pid, r, "save-image", err, errlen);
}

int ctl_restore_state(struct domain *d, int fd)
{
	struct saverec *recs = NULL;
	uint8_t *img = NULL;
	void *shim = NULL;
	size_t len = 0, shim_size = 0;
	unsigned n = 0;
	char err[256] = "";
	int r;

	if (d->state != DOM_CREATED || d->started)
		return -EBUSY; /* restore only into a domain just created for it */
	r = ctl_read_all(fd, &img, &len);
	if (r < 0)
		return r;
	recs = malloc(SAVEREC_MAX * sizeof(*recs));
	r = recs ? ctl_restore_sandboxed(d->kind, img, len, d->nr_pages, d->nr_vcpus, recs, &n, err,
					 sizeof(err))
		 : -ENOMEM;
	/* The owners' value checks once more in keeld, on the records the
	 * helper indexed (fixed layouts, bounded cursors): a helper that
	 * lied cannot get an unchecked value applied. */
	if (r == 0)
		r = d->kind->restore_check(recs, n, d->nr_pages, d->nr_vcpus, err, sizeof(err));
	if (r == 0)
		r = domain_subsys_check(recs, n, err, sizeof(err));
	if (r < 0) {
		domain_log(d, "restore refused: %s", err[0] ? err : strerror(-r));
		goto out;
	}
	/* the kind's in-guest code, if it has any (PV: the shim) */
	r = d->kind->hvm ? 0 : keeld_read_file(ctl_save_shim, 1 << 20, &shim, &shim_size);
	if (r < 0) {
		domain_log(d, "restore: cannot read the shim %s", ctl_save_shim);
		goto out;
	}
	r = d->kind->restore(d, recs, n, shim, shim_size);
	if (r == 0)
		domain_subsys_restore(d, recs, n);
	if (r == 0)
		r = d->kind->resume(d, 0);
	if (r == 0)
		r = domain_restart_threads(d);
	if (r < 0)
		domain_log(d, "restore failed applying the state (%d)", r);
out:
	free(shim);
	free(recs);
	free(img);
	return r;
}

int ctl_resume(struct domain *d, int cancel)
{
	int r;

	if (!ctl_save_suspended(d))
		return -EINVAL;
	r = ctl_save_stopped(d);
	if (r == 0)
		r = d->kind->resume(d, cancel);
	if (r < 0)
		return r;
	if (domain_state_hook)
		domain_state_hook(d);
	hvlog("d%d: resumed after suspend (%s)", d->domid, cancel ? "cancelled" : "new life");
	return domain_restart_threads(d);
}
