/*
 * Unit tests of a domU's console_io lines on their way to keeld's log
 * (hypervisor/core/guest_log.c), on a domain that is only a struct: the
 * "(dN) " prefix, a line kept across writes until its newline, bytes Xen
 * drops, a line cut at Xen's buffer size, and the per-domain rate limit
 * with its count of what it dropped.
 */
#include <string.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/ctl/ctl.h"
#include "unit.h"

static struct domain *tgl_d;
static char tgl_buf[64 * 1024 + 1];

static int tgl_init(void)
{
	int err;

	tgl_d = domain_new(&pv_kind, "unit", 4096, 1, DOMAIN_NO_KVM, &err);
	hvlog_to_stderr = 0;
	return tgl_d ? 0 : -1;
}

static int tgl_cleanup(void)
{
	hvlog_to_stderr = 1;
	domain_free(tgl_d);
	return 0;
}

/* keeld's log since the last hvlog_clear, as a string. */
static const char *tgl_log(void)
{
	size_t n = hvlog_read(tgl_buf, sizeof(tgl_buf) - 1);

	tgl_buf[n] = 0;
	return tgl_buf;
}

static unsigned tgl_count(const char *log, const char *what)
{
	unsigned n = 0;

	for (const char *p = log; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void tgl_write(const char *s)
{
	domain_guest_log_write(tgl_d, s, strlen(s));
}

static void tgl_lines(void)
{
	char want[64];

	hvlog_clear();
	memset(&tgl_d->guest_log, 0, sizeof(tgl_d->guest_log));
	tgl_write("partial ");
	CU_ASSERT_EQUAL(strlen(tgl_log()), 0); /* nothing until the newline */
	tgl_write("line\a\x1b\r\tend\nsecond\n");
	snprintf(want, sizeof(want), "(d%d) partial line\tend\n(d%d) second\n", tgl_d->domid,
		 tgl_d->domid);
	CU_ASSERT_STRING_EQUAL(tgl_log(), want);
}

static void tgl_long_line(void)
{
	char line[450], want[16];
	const char *log;

	hvlog_clear();
	memset(&tgl_d->guest_log, 0, sizeof(tgl_d->guest_log));
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	tgl_write(line);
	tgl_write("\n");
	log = tgl_log();
	/* 449 bytes: two full lines of 199, then the rest (51) at the newline */
	snprintf(want, sizeof(want), "(d%d) ", tgl_d->domid);
	CU_ASSERT_EQUAL(tgl_count(log, want), 3);
	CU_ASSERT_EQUAL(strlen(log), 3 * strlen(want) + 449 + 3);
}

static void tgl_rate_limit(void)
{
	char want[64];
	const char *log;
	unsigned passed;

	hvlog_clear();
	memset(&tgl_d->guest_log, 0, sizeof(tgl_d->guest_log));
	for (int i = 0; i < GUEST_LOG_BURST + 50; i++)
		tgl_write("flood\n");
	log = tgl_log();
	/* the burst, and a line or two more only if the loop took whole intervals */
	passed = tgl_count(log, ") flood\n");
	CU_ASSERT(passed >= GUEST_LOG_BURST && passed <= GUEST_LOG_BURST + 2);
	CU_ASSERT_PTR_NULL(strstr(log, "suppressed"));
	/* one interval later: the next line gets through, after the count */
	tgl_d->guest_log.tokens = GUEST_LOG_INTERVAL_MS;
	tgl_write("after\n");
	log = tgl_log();
	snprintf(want, sizeof(want), "d%d: %u console_io lines suppressed", tgl_d->domid,
		 GUEST_LOG_BURST + 50 - passed);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
	snprintf(want, sizeof(want), "suppressed (rate limit)\n(d%d) after\n", tgl_d->domid);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
}

UNIT_SUITE(keeld_guest_log, tgl_init, tgl_cleanup, UNIT_TEST(tgl_lines), UNIT_TEST(tgl_long_line),
	   UNIT_TEST(tgl_rate_limit));
