/*
 * What every backend process shares besides the seam itself: a rate-limited
 * log, so a hostile frontend cannot flood dom0's logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "bk_transport.h"

static bool bk_log_silent;
static time_t bk_log_window;
static unsigned bk_log_count, bk_log_dropped;

#define BK_LOG_PER_SECOND 20

void bk_log_quiet(bool quiet)
{
	bk_log_silent = quiet;
}

void bk_log(const char *fmt, ...)
{
	time_t now = time(NULL);
	char msg[1024];
	va_list ap;

	if (bk_log_silent)
		return;
	/* Unsynchronised counters: at worst a message more or less per second. */
	if (now != bk_log_window) {
		if (bk_log_dropped)
			fprintf(stderr, "keel-backend: %u messages suppressed\n", bk_log_dropped);
		bk_log_window = now;
		bk_log_count = bk_log_dropped = 0;
	}
	if (++bk_log_count > BK_LOG_PER_SECOND) {
		bk_log_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one write per line (stderr is unbuffered): in a driver domain the
	 * console is shared with the kernel and xl devd */
	fprintf(stderr, "keel-backend: %s\n", msg);
}

/* A copy's GNTST_* and the -errno the seam gives for it, both ways (the
 * first row of a status is the errno it becomes). */
static const struct {
	int16_t gntst;
	int err;
} bk_gnt_status_errno[] = {
	{GNTST_okay, 0},
	{GNTST_bad_gntref, -ENOENT},
	{GNTST_permission_denied, -EPERM},
	{GNTST_permission_denied, -EACCES},
	{GNTST_bad_domain, -ESRCH},
	{GNTST_bad_page, -EFAULT},
};

int bk_gnt_copy_errno(int16_t gntst)
{
	for (size_t i = 0; i < sizeof(bk_gnt_status_errno) / sizeof(bk_gnt_status_errno[0]); i++)
		if (bk_gnt_status_errno[i].gntst == gntst)
			return bk_gnt_status_errno[i].err;
	return -EINVAL;
}

int16_t bk_gnt_copy_gntst(int status)
{
	for (size_t i = 0; i < sizeof(bk_gnt_status_errno) / sizeof(bk_gnt_status_errno[0]); i++)
		if (bk_gnt_status_errno[i].err == status)
			return bk_gnt_status_errno[i].gntst;
	return GNTST_general_error;
}
