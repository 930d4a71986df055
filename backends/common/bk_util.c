/*
 * What every backend process shares besides the seam itself: a rate-limited
 * log, so a hostile frontend cannot flood dom0's logs.
 */
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
	fputs("keel-backend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
