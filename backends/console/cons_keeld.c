/*
 * keeld's record of a guest's console output as a second source for
 * keel-consoled.  A guest's console is its xencons ring (Linux's hvc0, the
 * test runtime's printf); until keel-consoled binds the ring's port, keeld's
 * stand-in backend drains it and keeps what it took.  (What a guest writes
 * with HYPERVISOR_console_io is not its console: keeld logs it, as Xen
 * does.)  Merging the record into the log and the clients keeps `xl
 * console` showing everything the guest printed, from its first byte.
 * keeld's record is a sliding window (it drops its older half when full), so
 * each look finds where the new record overlaps what was already taken and
 * passes on only the rest.  Looks are at most one per domain per 50 ms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../dom0/libkeelctl/keelctl.h"
#include "cons.h"

#define CONS_KEELD_PERIOD_NS 50000000LL
#define CONS_KEELD_ANCHOR    64

struct cons_keeld_dom {
	uint16_t domid;
	bool used;
	int64_t next_ns, next_state_ns;
	bool stopped;
	char *seen;
	size_t seen_len;
};

struct cons_keeld {
	struct keelctl *h;
	struct cons_keeld_dom doms[CONS_MAX_DOMAINS];
	char buf[KEELCTL_RSP_MAX + 1];
};

static int64_t cons_keeld_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* How much of @now (the record) was already taken as @seen: its new part starts there. */
static size_t cons_keeld_overlap(const char *seen, size_t seen_len, const char *now, size_t len)
{
	size_t anchor = len < CONS_KEELD_ANCHOR ? len : CONS_KEELD_ANCHOR;
	const char *p = seen, *end = seen + seen_len;

	if (!seen_len)
		return 0;
	if (len >= seen_len && !memcmp(now, seen, seen_len))
		return seen_len; /* the record only grew */
	/* the record was cut at its front: find where it begins inside what we saw */
	while (anchor && p < end && (p = memmem(p, (size_t)(end - p), now, anchor))) {
		size_t tail = (size_t)(end - p);

		if (tail <= len && !memcmp(p, now, tail))
			return tail;
		p++;
	}
	return 0;
}

static struct cons_keeld_dom *cons_keeld_slot(struct cons_keeld *k, uint16_t domid)
{
	struct cons_keeld_dom *free_slot = NULL;

	for (unsigned i = 0; i < CONS_MAX_DOMAINS; i++) {
		if (k->doms[i].used && k->doms[i].domid == domid)
			return &k->doms[i];
		if (!k->doms[i].used && !free_slot)
			free_slot = &k->doms[i];
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->used = true;
		free_slot->domid = domid;
	}
	return free_slot;
}

int cons_keeld_read(void *opaque, uint16_t domid, char *buf, size_t len)
{
	struct cons_keeld *k = opaque;
	struct cons_keeld_dom *s = cons_keeld_slot(k, domid);
	int64_t now = cons_keeld_now();
	size_t from, out;
	char *keep;
	int n;

	if (!s || now < s->next_ns)
		return 0;
	s->next_ns = now + CONS_KEELD_PERIOD_NS;
	n = keelctl_console_read(k->h, domid, k->buf, sizeof(k->buf) - 1);
	if (n == -ESRCH) {
		/* the domain is gone: a new one with this domid starts afresh */
		free(s->seen);
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if (n <= 0)
		return 0;
	from = cons_keeld_overlap(s->seen, s->seen_len, k->buf, (size_t)n);
	out = (size_t)n - from;
	if (out > len) {
		/* more than the caller takes: pass the newest part */
		from = (size_t)n - len;
		out = len;
	}
	memcpy(buf, k->buf + from, out);
	keep = realloc(s->seen, (size_t)n);
	if (!keep)
		return (int)out;
	memcpy(keep, k->buf, (size_t)n);
	s->seen = keep;
	s->seen_len = (size_t)n;
	return (int)out;
}

bool cons_keeld_stopped(void *opaque, uint16_t domid)
{
	struct cons_keeld *k = opaque;
	struct cons_keeld_dom *s = cons_keeld_slot(k, domid);
	struct keelctl_dominfo info;
	int64_t now = cons_keeld_now();
	bool was;
	int r;

	if (!s || now < s->next_state_ns)
		return s && s->stopped;
	s->next_state_ns = now + CONS_KEELD_PERIOD_NS;
	was = s->stopped;
	r = keelctl_domain_getinfo(k->h, domid, &info);
	s->stopped = r == -ESRCH || (r == 0 && (info.state == KEELCTL_STATE_SHUTDOWN ||
						info.state == KEELCTL_STATE_CRASHED));
	if (s->stopped && !was)
		s->next_ns = 0; /* what it printed last is in the record now: take it at once */
	return s->stopped;
}

int cons_keeld_open(const char *rundir, struct cons_keeld **out)
{
	struct cons_keeld *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	err = keelctl_open(rundir, &k->h);
	if (err) {
		free(k);
		return err;
	}
	*out = k;
	return 0;
}

void cons_keeld_close(struct cons_keeld *k)
{
	if (!k)
		return;
	for (unsigned i = 0; i < CONS_MAX_DOMAINS; i++)
		free(k->doms[i].seen);
	keelctl_close(k->h);
	free(k);
}
