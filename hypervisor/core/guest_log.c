/*
 * A domU's HYPERVISOR_console_io(CONSOLEIO_write) output, which Xen sends to
 * its own console log (what `xl dmesg` shows), not to the guest's console:
 * each line prefixed "(d<domid>) ", non-printable bytes other than tab
 * dropped, a partial line kept per domain until its newline arrives or
 * the line is full (Xen's DOMAIN_PBUF_SIZE, 200 bytes with the NUL), as
 * Xen's guest_console_write does for a domain that is not the hardware
 * domain.  The guest's console is its xencons ring alone.
 *
 * keeld's log is one small ring (64 KiB) for keeld and every domain, so
 * each domain's lines are rate-limited with a token bucket of Xen's
 * printk_ratelimit shape (a burst, then one line per interval), kept per
 * domain so that one guest's flood silences only itself; what was dropped
 * is counted in one line when the next line gets through, as Xen's
 * "printk: N messages suppressed." does.
 */
#include <string.h>
#include <time.h>

#include "domain.h"

/* Bytes of a line before it is cut (Xen: DOMAIN_PBUF_SIZE less the NUL). */
#define GUEST_LOG_LINE (sizeof(((struct domain *)0)->guest_log.line) - 1)

static uint64_t guest_log_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/*
 * May one more line of @g go to the log now?  Called under d->lock.  The
 * bucket holds up to GUEST_LOG_BURST lines' worth of milliseconds and
 * refills with time; a line costs GUEST_LOG_INTERVAL_MS.
 */
static int guest_log_admit(struct domain_guest_log *g, uint64_t now)
{
	const uint64_t cap = (uint64_t)GUEST_LOG_BURST * GUEST_LOG_INTERVAL_MS;

	if (!g->started) {
		g->tokens = cap;
		g->started = 1;
	} else {
		g->tokens += now - g->last_ms;
		if (g->tokens > cap)
			g->tokens = cap;
	}
	g->last_ms = now;
	if (g->tokens < GUEST_LOG_INTERVAL_MS) {
		g->suppressed++;
		return 0;
	}
	g->tokens -= GUEST_LOG_INTERVAL_MS;
	return 1;
}

/* The line kept so far is complete: to the log (if admitted), then start afresh. */
static void guest_log_emit(struct domain *d, uint64_t now)
{
	struct domain_guest_log *g = &d->guest_log;
	char line[sizeof(g->line)];
	uint64_t suppressed;
	int admitted;

	admitted = guest_log_admit(g, now);
	suppressed = admitted ? g->suppressed : 0;
	if (admitted)
		g->suppressed = 0;
	memcpy(line, g->line, g->len);
	line[g->len] = 0;
	g->len = 0;
	if (!admitted)
		return;
	/* the log's own lock is taken inside; d->lock is held, as for domain_log */
	if (suppressed)
		hvlog("d%d: %llu console_io lines suppressed (rate limit)", d->domid,
		      (unsigned long long)suppressed);
	hvlog("(d%d) %s", d->domid, line);
}

void domain_guest_log_write(struct domain *d, const char *buf, size_t n)
{
	struct domain_guest_log *g = &d->guest_log;
	uint64_t now = guest_log_now_ms();

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			guest_log_emit(d, now);
			continue;
		}
		if ((c < 0x20 || c > 0x7e) && c != '\t')
			continue;
		g->line[g->len++] = (char)c;
		if (g->len == GUEST_LOG_LINE)
			guest_log_emit(d, now);
	}
	pthread_mutex_unlock(&d->lock);
}
