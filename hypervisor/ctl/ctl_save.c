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

/* Suspended by the guest itself: a domain dom0 shut down with
 * SHUTDOWN_suspend (suspend_vcpu -1) stopped wherever its vCPUs were, with
 * no suspend hypercall to return from, so it is neither saved nor resumed. */
static int ctl_save_suspended(const struct domain *d)
{
	return d->state == DOM_SHUTDOWN && d->shutdown_reason == SHUTDOWN_suspend && d->started &&
	       d->suspend_vcpu >= 0;
}

int ctl_save_state(struct domain *d, int fd)
{
	struct srb out = {0};
	int r;

	if (!ctl_save_suspended(d)) {
		domain_log(d, "save refused: the guest has not suspended (state %s%s)",
			   domain_state_name(d->state),
			   d->suspend_vcpu < 0 ? ", suspended by dom0" : "");
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
	if (r == 0)
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

int ctl_restore_check(const uint8_t *img, size_t len, uint64_t nr_pages, int nr_vcpus, char *err,
		      size_t errlen)
{
	struct saverec *recs = malloc(SAVEREC_MAX * sizeof(*recs));
	unsigned n;
	int r = recs ? ctl_restore_split_check(&pv_kind, img, len, nr_pages, nr_vcpus, recs, &n,
					       err, errlen)
		     : -ENOMEM;

	free(recs);
	return r;
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
	r = recs ? ctl_restore_split_check(d->kind, img, len, d->nr_pages, d->nr_vcpus, recs, &n,
					   err, sizeof(err))
		 : -ENOMEM;
	if (r < 0) {
		domain_log(d, "restore refused: %s", err[0] ? err : strerror(-r));
		goto out;
	}
	r = keeld_read_file(ctl_save_shim, 1 << 20, &shim, &shim_size);
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
