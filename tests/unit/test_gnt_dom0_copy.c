/*
 * Unit tests of keeld's grant copy for dom0 processes
 * (hypervisor/gnttab/gnttab_dom0.c) on domains with plain memory and no VM:
 * buffer registration (sealed memfd only, size, per-connection limit,
 * released with the connection), copies both ways with the entry's busy
 * bits given back, and Xen's refusals op by op: bad reference, grant to
 * another domain, write into a read-only grant, entry not granted, offset
 * and length past the page or the buffer, unknown domain, frame outside
 * the domain, write into a page table, unknown buffer, batch bounds.
 * And batched dom0 maps (MAP_GRANTS): all or nothing, busy bits held
 * until the batched unmap.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/gnttab/gnttab.h"
#include "../../hypervisor/gnttab/gnttab_dom0.h"
#include "../../hypervisor/pv/pv_mm.h"
#include "abi/grant_table.h"
#include "unit.h"

#define NPAGES	  16
#define CONN	  1000 /* a connection number no real socket has here */
#define BUF_BYTES (4 * 4096)

static struct domain *d;
static uint8_t *buf; /* the registered buffer, as the process sees it */
static uint32_t buf_id;

static struct domain *test_gnt_dom0_find(uint32_t domid)
{
	return d && domid == (uint32_t)d->domid ? d : NULL;
}

/* Version-1 entries: the busy word is the entry's first field. */
static struct grant_entry_v1 *entry(uint32_t ref)
{
	return (struct grant_entry_v1 *)gnttab_busy(d, ref);
}

static void grant(uint32_t ref, uint16_t to, uint32_t frame, uint16_t flags)
{
	entry(ref)->domid = to;
	entry(ref)->frame = frame;
	entry(ref)->flags = flags;
}

static int sealed_memfd(size_t size, int seal)
{
	int fd = memfd_create("test-gcopy", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -1;
	return fd;
}

static int test_gnt_dom0_init(void)
{
	int fd, err;

	d = domain_new(&pv_kind, "unit", NPAGES, 1, DOMAIN_NO_KVM, &err);
	if (!d)
		return -1;
	d->gnttab_frames = 1;
	hvlog_to_stderr = 0;
	fd = sealed_memfd(BUF_BYTES, 1);
	if (fd < 0)
		return -1;
	buf = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED || gnttab_dom0_buf_register(CONN, fd, BUF_BYTES, &buf_id) < 0)
		return -1;
	close(fd);
	return 0;
}

static int test_gnt_dom0_cleanup(void)
{
	gnttab_dom0_conn_closed(CONN);
	munmap(buf, BUF_BYTES);
	domain_free(d);
	return 0;
}

static struct keelctl_gcopy from_grant(uint32_t ref, uint32_t off, uint32_t boff, uint16_t len)
{
	return (struct keelctl_gcopy){.source = {ref, off},
				      .dest = {buf_id, boff},
				      .domid = (uint16_t)d->domid,
				      .len = len,
				      .flags = KEELCTL_GCOPY_SOURCE_GREF};
}

static struct keelctl_gcopy to_grant(uint32_t ref, uint32_t off, uint32_t boff, uint16_t len)
{
	return (struct keelctl_gcopy){.source = {buf_id, boff},
				      .dest = {ref, off},
				      .domid = (uint16_t)d->domid,
				      .len = len,
				      .flags = KEELCTL_GCOPY_DEST_GREF};
}

static void test_gnt_dom0_register(void)
{
	uint32_t ids[KEELCTL_GCOPY_BUFS], id;
	int fd = sealed_memfd(8192, 0);

	/* Not sealed against shrinking: it could be truncated under keeld. */
	CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, fd, 8192, &id), -EPERM);
	close(fd);
	fd = sealed_memfd(8192, 1);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, fd, 8193, &id), -EINVAL);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, fd, 0, &id), -EINVAL);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, fd, KEELCTL_GCOPY_BUF_MAX + 1, &id),
			-EINVAL);
	for (int i = 0; i < KEELCTL_GCOPY_BUFS; i++)
		CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, fd, 8192, &ids[i]), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, fd, 8192, &id), -ENOSPC);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_unregister(CONN + 1, ids[0]), 0);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_unregister(CONN + 1, ids[0]), -ENOENT);
	/* Another connection's buffer is not ours. */
	CU_ASSERT_EQUAL(gnttab_dom0_buf_unregister(CONN + 2, ids[1]), -ENOENT);
	gnttab_dom0_conn_closed(CONN + 1);
	CU_ASSERT_EQUAL(gnttab_dom0_buf_unregister(CONN + 1, ids[1]), -ENOENT);
	close(fd);
	/* Not a memfd at all. */
	CU_ASSERT_EQUAL(gnttab_dom0_buf_register(CONN + 1, 0, 4096, &id) < 0, 1);
}

static void test_gnt_dom0_copy_both_ways(void)
{
	struct keelctl_gcopy ops[3];
	int16_t st[3];

	memset(d->ram + 3 * 4096, 0x5a, 4096);
	memcpy(d->ram + 3 * 4096 + 100, "from the guest", 14);
	grant(10, 0, 3, GTF_permit_access | GTF_readonly);
	grant(11, 0, 4, GTF_permit_access);
	memset(buf, 0, BUF_BYTES);
	memcpy(buf + 8192, "from dom0", 9);
	ops[0] = from_grant(10, 0, 0, 4096);
	ops[1] = from_grant(10, 100, 4096 + 7, 14);
	ops[2] = to_grant(11, 4000, 8192, 9);
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN, test_gnt_dom0_find, ops, 3, st), 0);
	CU_ASSERT_EQUAL(st[0], GNTST_okay);
	CU_ASSERT_EQUAL(st[1], GNTST_okay);
	CU_ASSERT_EQUAL(st[2], GNTST_okay);
	CU_ASSERT_EQUAL(buf[0], 0x5a);
	CU_ASSERT_EQUAL(buf[4095], 0x5a);
	CU_ASSERT_EQUAL(memcmp(buf + 4096 + 7, "from the guest", 14), 0);
	CU_ASSERT_EQUAL(memcmp(d->ram + 4 * 4096 + 4000, "from dom0", 9), 0);
	/* The busy bits were held for the copy only. */
	CU_ASSERT_EQUAL(entry(10)->flags, GTF_permit_access | GTF_readonly);
	CU_ASSERT_EQUAL(entry(11)->flags, GTF_permit_access);
}

static void test_gnt_dom0_refusals(void)
{
	uint32_t past = gnttab_nr_entries(d);
	struct keelctl_gcopy ops[16];
	int16_t st[16];
	int n = 0;

	grant(20, 0, 5, GTF_permit_access | GTF_readonly);
	grant(21, 4, 5, GTF_permit_access); /* granted to domain 4, not dom0 */
	grant(22, 0, 5, 0);		    /* not granted */
	grant(23, 0, NPAGES + 3, GTF_permit_access);
	grant(24, 0, 6, GTF_permit_access);
	d->pv->pages[6].type = PGT_l1; /* a page table: never written by a copy */
	d->pv->pages[6].type_count = 1;
	memset(d->ram + 5 * 4096, 0x11, 4096);
	ops[n++] = from_grant(past, 0, 0, 8);		/* 0 bad reference */
	ops[n++] = from_grant(21, 0, 0, 8);		/* 1 another domain's grant */
	ops[n++] = to_grant(20, 0, 0, 8);		/* 2 write into a read-only grant */
	ops[n++] = from_grant(22, 0, 0, 8);		/* 3 entry not granted */
	ops[n++] = from_grant(20, 4000, 0, 200);	/* 4 past the page */
	ops[n++] = from_grant(20, 0, BUF_BYTES - 4, 8); /* 5 past the buffer */
	ops[n++] = from_grant(23, 0, 0, 8);		/* 6 frame outside the domain */
	ops[n++] = to_grant(24, 0, 0, 8);		/* 7 write into a page table */
	ops[n] = from_grant(20, 0, 0, 8);		/* 8 unknown domain */
	ops[n++].domid = 5;
	ops[n] = from_grant(20, 0, 0, 8); /* 9 unknown buffer */
	ops[n++].dest.ref = buf_id + 100;
	ops[n] = from_grant(20, 0, 0, 8); /* 10 len past a page */
	ops[n++].len = 4097;
	ops[n] = from_grant(20, 0, 0, 8); /* 11 unknown flag */
	ops[n++].flags |= 0x80;
	ops[n++] = from_grant(20, 0, 0, 8); /* 12 fine, after all that */
	memset(buf, 0, 16);
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN, test_gnt_dom0_find, ops, n, st), 0);
	CU_ASSERT_EQUAL(st[0], GNTST_bad_gntref);
	CU_ASSERT_EQUAL(st[1], GNTST_permission_denied);
	CU_ASSERT_EQUAL(st[2], GNTST_permission_denied);
	CU_ASSERT_EQUAL(st[3], GNTST_permission_denied);
	CU_ASSERT_EQUAL(st[4], GNTST_bad_copy_arg);
	CU_ASSERT_EQUAL(st[5], GNTST_bad_copy_arg);
	CU_ASSERT_EQUAL(st[6], GNTST_bad_page);
	CU_ASSERT_EQUAL(st[7], GNTST_general_error);
	CU_ASSERT_EQUAL(st[8], GNTST_bad_domain);
	CU_ASSERT_EQUAL(st[9], GNTST_bad_copy_arg);
	CU_ASSERT_EQUAL(st[10], GNTST_bad_copy_arg);
	CU_ASSERT_EQUAL(st[11], GNTST_bad_copy_arg);
	CU_ASSERT_EQUAL(st[12], GNTST_okay);
	CU_ASSERT_EQUAL(buf[0], 0x11);
	CU_ASSERT_EQUAL(buf[8], 0);
	/* Nothing refused left a busy bit behind, nothing refused was written. */
	CU_ASSERT_EQUAL(entry(20)->flags, GTF_permit_access | GTF_readonly);
	CU_ASSERT_EQUAL(entry(23)->flags, GTF_permit_access);
	CU_ASSERT_EQUAL(entry(24)->flags, GTF_permit_access);
	CU_ASSERT_EQUAL(d->ram[6 * 4096], 0);
	d->pv->pages[6].type_count = 0;
}

static void test_gnt_dom0_batch_bounds(void)
{
	static struct keelctl_gcopy ops[KEELCTL_GCOPY_MAX + 1];
	static int16_t st[KEELCTL_GCOPY_MAX + 1];

	grant(30, 0, 7, GTF_permit_access);
	for (int i = 0; i <= KEELCTL_GCOPY_MAX; i++)
		ops[i] = from_grant(30, 0, i * 8, 8);
	st[0] = 99;
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN, test_gnt_dom0_find, ops, KEELCTL_GCOPY_MAX + 1, st),
			-EINVAL);
	CU_ASSERT_EQUAL(st[0], 99); /* nothing done */
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN, test_gnt_dom0_find, ops, 0, st), -EINVAL);
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN, test_gnt_dom0_find, ops, KEELCTL_GCOPY_MAX, st), 0);
	CU_ASSERT_EQUAL(st[KEELCTL_GCOPY_MAX - 1], GNTST_okay);
	/* A buffer registered by another connection cannot be named. */
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN + 5, test_gnt_dom0_find, ops, 1, st), 0);
	CU_ASSERT_EQUAL(st[0], GNTST_bad_copy_arg);
}

static void test_gnt_dom0_map_batch(void)
{
	uint32_t good[3] = {40, 41, 42}, mixed[3] = {40, 41, 43}, bad = 99;
	uint64_t frames[3] = {0};

	grant(40, 0, 8, GTF_permit_access);
	grant(41, 0, 9, GTF_permit_access);
	grant(42, 0, 10, GTF_permit_access);
	grant(43, 0, 11, GTF_permit_access | GTF_readonly);
	/* A writable batch with a read-only grant in third place: none mapped. */
	CU_ASSERT_EQUAL(gnttab_dom0_map_batch(d, mixed, 3, 1, frames, &bad), -EPERM);
	CU_ASSERT_EQUAL(bad, 2);
	CU_ASSERT_EQUAL(entry(40)->flags, GTF_permit_access);
	CU_ASSERT_EQUAL(entry(41)->flags, GTF_permit_access);
	CU_ASSERT_EQUAL(gnttab_dom0_map_batch(d, good, 3, 1, frames, &bad), 0);
	CU_ASSERT(frames[0] == 8 && frames[1] == 9 && frames[2] == 10);
	CU_ASSERT_EQUAL(entry(42)->flags, GTF_permit_access | GTF_reading | GTF_writing);
	CU_ASSERT_EQUAL(gnttab_dom0_unmap_batch(d, good, 3), 0);
	CU_ASSERT_EQUAL(entry(40)->flags, GTF_permit_access);
	CU_ASSERT_EQUAL(entry(42)->flags, GTF_permit_access);
	CU_ASSERT_EQUAL(gnttab_dom0_map_batch(d, good, 0, 1, frames, &bad), -EINVAL);
	CU_ASSERT_EQUAL(gnttab_dom0_map_batch(d, good, KEELCTL_GMAP_MAX + 1, 1, frames, &bad),
			-EINVAL);
}

UNIT_SUITE(gnt_dom0_copy, test_gnt_dom0_init, test_gnt_dom0_cleanup,
	   UNIT_TEST(test_gnt_dom0_register), UNIT_TEST(test_gnt_dom0_copy_both_ways),
	   UNIT_TEST(test_gnt_dom0_refusals), UNIT_TEST(test_gnt_dom0_batch_bounds),
	   UNIT_TEST(test_gnt_dom0_map_batch))
