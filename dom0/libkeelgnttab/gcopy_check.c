/*
 * keel-gcopy-check DOMID [2]: the dom0 half of
 * tests/integration/pv-grant-dom0copy.sh, against the gnt-dom0copy guest's
 * grants (8 writable, 9 read-only, 10 to another domain, 11 never granted,
 * 13 a version-2 sub-page, 16.. 64 read-only pages).  Through
 * libkeelgnttab's grant copy (keeld's batched copy): the 64 pages in one
 * call, the read-only page, the sub-page grant (table version 2); keeld's
 * refusals op by op (write into a read-only grant, another domain's grant,
 * an entry never granted, a reference past the table, no such domain,
 * offset + length past the page, a sub-page overrun); through libkeelctl
 * directly: a buffer that is not a sealed memfd, an unknown buffer id,
 * and batched maps (keelctl_map_grants: contents, all or nothing).
 * Last it writes "from dom0 by copy" at offset 2048 of grant 8, which the
 * guest waits for.  Prints each check; exit status 0 when all held.
 *
 * keel-gcopy-check DOMID bench: timings for tests/bench/events instead
 * (best of several runs, ns): the 64 pages through libkeelgnttab's copy
 * (into this process's memory), through keelctl_grant_copy alone (into
 * the registered buffer), the old way (keelctl_map_grant, memcpy,
 * keelctl_unmap_grant per page), the batched way of mapping (one
 * keelctl_map_grants of the 64, memcpy, keelctl_unmap_grants), and a host
 * memcpy of as many bytes.
 * Then the same final write, so the guest finishes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../libkeelctl/keelctl.h"
#include "abi/grant_table.h"
#include "keelgnttab.h"

#define CHECK_PAGES 64

static int check_failed;

static void check(int ok, const char *what, long got)
{
	printf("%s: %s (%ld)\n", ok ? "ok" : "FAILED", what, got);
	if (!ok)
		check_failed = 1;
}

static struct keelgnttab_copy_seg from_grant(uint32_t domid, uint32_t ref, uint16_t off, void *to,
					     uint16_t len)
{
	struct keelgnttab_copy_seg s = {.len = len, .flags = KEELGNTTAB_COPY_SOURCE_GREF};

	s.source.foreign.domid = (uint16_t)domid;
	s.source.foreign.ref = ref;
	s.source.foreign.offset = off;
	s.dest.virt = to;
	return s;
}

static struct keelgnttab_copy_seg to_grant(uint32_t domid, uint32_t ref, uint16_t off,
					   const void *from, uint16_t len)
{
	struct keelgnttab_copy_seg s = {.len = len, .flags = KEELGNTTAB_COPY_DEST_GREF};

	s.dest.foreign.domid = (uint16_t)domid;
	s.dest.foreign.ref = ref;
	s.dest.foreign.offset = off;
	s.source.virt = (void *)from;
	return s;
}

/* Batched maps (keelctl_map_grants): all or nothing; what a batch maps is
 * what was granted; a refused batch leaves no grant held (the guest's
 * revokes show it). */
static void check_map_batch(struct keelctl *h, uint32_t domid)
{
	uint32_t refs[3] = {9, 16, 17}, mixed[2] = {8, 9};
	unsigned bad = 99;
	uint8_t *area = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int r;

	if (area == MAP_FAILED) {
		check(0, "reserve an area", -errno);
		return;
	}
	r = keelctl_map_grants(h, domid, refs, 3, 0, area, &bad);
	check(r == 0 && !memcmp(area, "read only page", 14) && area[4096] == 'a' &&
		      area[2 * 4096 + 4095] == 'b',
	      "three grants mapped read-only in one batch", r);
	if (r == 0)
		check(keelctl_unmap_grants(h, domid, refs, 3) == 0, "and released in one batch", 0);
	/* Writable: grant 9 is read-only, so neither is mapped. */
	r = keelctl_map_grants(h, domid, mixed, 2, 1, area, &bad);
	check(r == -EPERM && bad == 1, "REFUSED: a writable batch holding a read-only grant", r);
	munmap(area, 3 * 4096);
}

/* libkeelctl directly: registration and buffer-id refusals. */
static void check_raw(uint32_t domid)
{
	struct keelctl *h;
	struct keelctl_gcopy op = {.source = {9, 0},
				   .dest = {0xdead, 0},
				   .domid = (uint16_t)domid,
				   .len = 8,
				   .flags = KEELCTL_GCOPY_SOURCE_GREF};
	uint32_t id;
	int16_t st = 0;
	int fd, r;

	r = keelctl_open(NULL, &h);
	check(r == 0, "second control connection", r);
	if (r)
		return;
	fd = memfd_create("not-sealed", MFD_CLOEXEC);
	r = fd >= 0 && ftruncate(fd, 4096) == 0 ? keelctl_grant_copy_register(h, fd, 4096, &id)
						: -errno;
	check(r == -EPERM, "REFUSED: a buffer not sealed against shrinking", r);
	if (fd >= 0)
		close(fd);
	r = keelctl_grant_copy(h, &op, 1, &st);
	check(r == 0 && st == GNTST_bad_copy_arg, "REFUSED: unknown buffer id", st);
	check_map_batch(h, domid);
	keelctl_close(h);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t best(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The bench mode; 0 when every copy succeeded. */
static int bench(struct keelgnttab *h, uint32_t domid, uint8_t (*pages)[4096],
		 struct keelgnttab_copy_seg *s)
{
	static uint8_t src[CHECK_PAGES][4096];
	static struct keelctl_gcopy ops[CHECK_PAGES];
	static int16_t st[CHECK_PAGES];
	uint64_t copy = ~0ull, raw = ~0ull, map = ~0ull, mapb = ~0ull, mc = ~0ull, t;
	uint32_t refs[CHECK_PAGES];
	uint8_t *area;
	struct keelctl *ctl;
	uint8_t *buf;
	uint32_t id;
	int bad = 0;

	if (keelctl_open(NULL, &ctl) ||
	    keelctl_grant_copy_buffer(ctl, sizeof(src), &id, (void **)&buf))
		return 1;
	for (int i = 0; i < CHECK_PAGES; i++)
		ops[i] = (struct keelctl_gcopy){.source = {16 + i, 0},
						.dest = {id, i * 4096},
						.domid = (uint16_t)domid,
						.len = 4096,
						.flags = KEELCTL_GCOPY_SOURCE_GREF};
	for (int run = 0; run < 17; run++) {
		for (int i = 0; i < CHECK_PAGES; i++)
			s[i] = from_grant(domid, 16 + i, 0, pages[i], 4096);
		t = now_ns();
		bad |= keelgnttab_copy(h, CHECK_PAGES, s) != 0 || s[CHECK_PAGES - 1].status;
		if (run)
			copy = best(copy, now_ns() - t);
		t = now_ns();
		bad |= keelctl_grant_copy(ctl, ops, CHECK_PAGES, st) != 0 || st[CHECK_PAGES - 1];
		if (run)
			raw = best(raw, now_ns() - t);
		t = now_ns();
		memcpy(pages, src, sizeof(src));
		mc = best(mc, now_ns() - t);
		memset(src, run, sizeof(src));
	}
	for (int run = 0; run < 5; run++) {
		t = now_ns();
		for (int i = 0; i < CHECK_PAGES; i++) {
			void *page;

			if (keelctl_map_grant(ctl, domid, 16 + i, 0, &page)) {
				bad = 1;
				break;
			}
			memcpy(pages[i], page, 4096);
			keelctl_unmap_grant(ctl, domid, 16 + i, page);
		}
		if (run)
			map = best(map, now_ns() - t);
	}
	for (int i = 0; i < CHECK_PAGES; i++)
		refs[i] = 16 + i;
	area = mmap(NULL, sizeof(src), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int run = 0; area != MAP_FAILED && run < 9; run++) {
		t = now_ns();
		if (keelctl_map_grants(ctl, domid, refs, CHECK_PAGES, 0, area, NULL)) {
			bad = 1;
			break;
		}
		memcpy(pages, area, sizeof(src));
		/* Back to a reservation, then release the grants in keeld. */
		mmap(area, sizeof(src), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		bad |= keelctl_unmap_grants(ctl, domid, refs, CHECK_PAGES) != 0;
		if (run)
			mapb = best(mapb, now_ns() - t);
		bad |= pages[CHECK_PAGES - 1][0] != 'a' + (CHECK_PAGES - 1) % 26;
	}
	if (area != MAP_FAILED)
		munmap(area, sizeof(src));
	printf("gcopy-bench pages=%d copy_ns=%llu raw_ns=%llu map_ns=%llu map_batch_ns=%llu "
	       "memcpy_ns=%llu\n",
	       CHECK_PAGES, (unsigned long long)copy, (unsigned long long)raw,
	       (unsigned long long)map, (unsigned long long)mapb, (unsigned long long)mc);
	munmap(buf, sizeof(src));
	keelctl_close(ctl);
	return bad;
}

int main(int argc, char **argv)
{
	static uint8_t pages[CHECK_PAGES][4096];
	struct keelgnttab_copy_seg s[CHECK_PAGES];
	struct keelgnttab *h;
	uint32_t domid;
	char small[64];
	int version, r, ok;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: keel-gcopy-check DOMID [VERSION]\n");
		return 2;
	}
	domid = (uint32_t)strtoul(argv[1], NULL, 0);
	version = argc == 3 ? atoi(argv[2]) : 1;
	r = keelgnttab_open(NULL, &h);
	if (r) {
		fprintf(stderr, "keel-gcopy-check: keelgnttab_open: %s\n", strerror(-r));
		return 1;
	}
	if (argc == 3 && !strcmp(argv[2], "bench")) {
		check(bench(h, domid, pages, s) == 0, "bench copies", 0);
		goto last;
	}

	for (int i = 0; i < CHECK_PAGES; i++)
		s[i] = from_grant(domid, 16 + i, 0, pages[i], 4096);
	r = keelgnttab_copy(h, CHECK_PAGES, s);
	ok = r == 0;
	for (int i = 0; i < CHECK_PAGES; i++) {
		ok &= s[i].status == GNTST_okay;
		for (int k = 0; k < 4096; k++)
			ok &= pages[i][k] == 'a' + i % 26;
	}
	check(ok, "64 granted pages copied in one call, contents as granted", r);

	memset(small, 0, sizeof(small));
	s[0] = from_grant(domid, 9, 0, small, 14);
	s[1] = from_grant(domid, 9, 4090, small + 20, 6);
	r = keelgnttab_copy(h, 2, s);
	check(r == 0 && s[0].status == 0 && s[1].status == 0 &&
		      !memcmp(small, "read only page", 14) && !memcmp(small + 20, "rrrrrr", 6),
	      "read-only grant read (start and end of the page)", s[0].status);

	s[0] = to_grant(domid, 9, 0, "overwritten", 11);
	s[1] = from_grant(domid, 10, 0, small, 8);
	s[2] = from_grant(domid, 11, 0, small, 8);
	s[3] = from_grant(domid, 1u << 20, 0, small, 8);
	s[4] = from_grant(32000, 9, 0, small, 8);
	s[5] = from_grant(domid, 9, 4000, small, 200);
	s[6] = to_grant(domid, 8, 4095, "xy", 2);
	r = keelgnttab_copy(h, 7, s);
	check(r == 0, "refusal batch answered (status per op)", r);
	check(s[0].status == GNTST_permission_denied, "REFUSED: write into a read-only grant",
	      s[0].status);
	check(s[1].status == GNTST_permission_denied, "REFUSED: a grant to another domain",
	      s[1].status);
	check(s[2].status == GNTST_permission_denied, "REFUSED: an entry never granted",
	      s[2].status);
	check(s[3].status == GNTST_bad_gntref, "REFUSED: a reference past the table", s[3].status);
	check(s[4].status == GNTST_bad_domain, "REFUSED: no such domain", s[4].status);
	check(s[5].status == GNTST_bad_copy_arg, "REFUSED: offset + length past the page",
	      s[5].status);
	check(s[6].status == GNTST_bad_copy_arg, "REFUSED: a write past the writable page",
	      s[6].status);

	if (version == 2) {
		memset(small, 0, sizeof(small));
		s[0] = from_grant(domid, 13, 5, small, 4);
		s[1] = from_grant(domid, 13, 4, small + 8, 4);
		s[2] = from_grant(domid, 13, 6, small + 8, 4);
		r = keelgnttab_copy(h, 3, s);
		check(r == 0 && s[0].status == 0 && !memcmp(small, "only", 4),
		      "sub-page grant: its 4 bytes", s[0].status);
		check(s[1].status == GNTST_general_error, "REFUSED: starting before the sub-page",
		      s[1].status);
		check(s[2].status == GNTST_general_error, "REFUSED: running past the sub-page",
		      s[2].status);
	}

	check_raw(domid);

last:
	/* Last: what the guest waits for. */
	s[0] = to_grant(domid, 8, 2048, "from dom0 by copy", 17);
	r = keelgnttab_copy(h, 1, s);
	check(r == 0 && s[0].status == GNTST_okay, "wrote into the writable grant", s[0].status);
	keelgnttab_close(h);
	printf("keel-gcopy-check: %s\n", check_failed ? "FAILED" : "SUCCESS");
	return check_failed;
}
