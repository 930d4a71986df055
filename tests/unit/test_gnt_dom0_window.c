/*
 * Unit test of grant copies through a grant of a mapped page
 * (gnttab_frame_owner), on two domains with plain memory and no VM: A
 * grants a page read-only to B; B maps it (GNTTABOP_map_grant_ref, a device
 * map: a page of B's foreign window) and grants that window frame to dom0,
 * as a driver domain's netfront grants the pages its netback mapped from a
 * frontend.  dom0's copy from B's grant reads A's page; a copy into it is
 * refused (B's map is read-only), as is B's own copy into it; once B
 * unmaps, the grant reads nothing and A's entry is idle again.  Before
 * gnttab_frame_owner every such copy failed with GNTST_bad_page.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/gnttab/gnttab.h"
#include "../../hypervisor/gnttab/gnttab_dom0.h"
#include "../../hypervisor/pv/pv_mm.h"
#include "abi/grant_table.h"
#include "unit.h"

#define NPAGES 64
#define CONN   1001 /* a connection number no real socket has here */
#define PT     (PTE_P | PTE_RW | PTE_US | PTE_A)
#define L1RW   (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define OP_VA  0xa000 /* B's frame 10: the hypercall arguments */

static struct domain *a, *b;
static struct vcpu *v; /* B's */
static uint8_t *buf;
static uint32_t buf_id;

static struct domain *test_gnt_window_find(uint32_t domid)
{
	return domid == (uint32_t)a->domid ? a : domid == (uint32_t)b->domid ? b : NULL;
}

static struct grant_entry_v1 *entry(struct domain *d, uint32_t ref)
{
	return (struct grant_entry_v1 *)gnttab_busy(d, ref);
}

static void grant(struct domain *d, uint32_t ref, uint16_t to, uint32_t frame, uint16_t flags)
{
	entry(d, ref)->domid = to;
	entry(d, ref)->frame = frame;
	entry(d, ref)->flags = flags;
}

static struct domain *test_gnt_window_domain(void)
{
	int err;
	struct domain *d = domain_new(&pv_kind, "unit", NPAGES, 1, DOMAIN_NO_KVM, &err);

	if (!d) /* in keeld's domain table: found by domid, as the grant ops find peers */
		return NULL;
	d->gnttab_frames = 1;
	return d;
}

static int test_gnt_window_init(void)
{
	int fd;

	hvlog_to_stderr = 0;
	a = test_gnt_window_domain();
	b = test_gnt_window_domain();
	if (!a || !b)
		return -1;
	/* B's tables: L4 (1) -> L3 (2) -> L2 (3) -> L1 (4); va = pfn * 4096. */
	uint64_t *t = (uint64_t *)b->ram;
	t[1 * 512] = (2 << 12) | PT;
	t[2 * 512] = (3 << 12) | PT;
	t[3 * 512] = (4 << 12) | PT;
	for (int p = 10; p <= 20; p++)
		t[4 * 512 + p] = ((uint64_t)p << 12) | L1RW;
	v = &b->vcpus[0];
	v->dom = b;
	v->pv->kernel_mode = 1;
	v->pv->kernel_cr3 = 1 << 12;
	fd = memfd_create("test-gwin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, 8192) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -1;
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED || gnttab_dom0_buf_register(CONN, fd, 8192, &buf_id) < 0)
		return -1;
	close(fd);
	return 0;
}

static int test_gnt_window_cleanup(void)
{
	gnttab_dom0_conn_closed(CONN);
	munmap(buf, 8192);
	domain_free(b);
	domain_free(a);
	return 0;
}

/* dom0 copies one page between B's grant `ref` and the buffer. */
static int16_t test_gnt_window_dom0_copy(uint32_t ref, int into_grant)
{
	struct keelctl_gcopy op = {.domid = (uint16_t)b->domid, .len = 4096};
	int16_t st = 1;

	op.source = into_grant ? (struct keelctl_gcopy_ptr){buf_id, 4096}
			       : (struct keelctl_gcopy_ptr){ref, 0};
	op.dest = into_grant ? (struct keelctl_gcopy_ptr){ref, 0}
			     : (struct keelctl_gcopy_ptr){buf_id, 0};
	op.flags = into_grant ? KEELCTL_GCOPY_DEST_GREF : KEELCTL_GCOPY_SOURCE_GREF;
	CU_ASSERT_EQUAL(gnttab_dom0_copy(CONN, test_gnt_window_find, &op, 1, &st), 0);
	return st;
}

static void test_gnt_window_copies(void)
{
	struct gnttab_map_grant_ref m = {
		0, GNTMAP_device_map | GNTMAP_readonly, 8, (uint16_t)a->domid, 0, 0, 0};
	struct gnttab_unmap_grant_ref u;
	struct gnttab_copy c;

	memset(a->ram + 3 * 4096, 0x3c, 4096);
	memcpy(a->ram + 3 * 4096 + 200, "A's page", 8);
	grant(a, 8, (uint16_t)b->domid, 3, GTF_permit_access | GTF_readonly);
	memcpy(b->ram + 10 * 4096, &m, sizeof(m));
	CU_ASSERT_EQUAL_FATAL(gnttab_do_op(v, GNTTABOP_map_grant_ref, OP_VA, 1), 0);
	memcpy(&m, b->ram + 10 * 4096, sizeof(m));
	CU_ASSERT_EQUAL_FATAL(m.status, GNTST_okay);
	CU_ASSERT(m.dev_bus_addr >= GNTTAB_WINDOW_GPA);

	/* B passes the mapped page on to dom0 by its window frame. */
	grant(b, 5, 0, (uint32_t)(m.dev_bus_addr >> 12), GTF_permit_access);
	memset(buf, 0, 8192);
	CU_ASSERT_EQUAL(test_gnt_window_dom0_copy(5, 0), GNTST_okay);
	CU_ASSERT_EQUAL(buf[0], 0x3c);
	CU_ASSERT_EQUAL(memcmp(buf + 200, "A's page", 8), 0);
	CU_ASSERT_EQUAL(entry(b, 5)->flags, GTF_permit_access); /* busy bits given back */
	/* Writing it needs a writable map: refused, A's page untouched. */
	memset(buf + 4096, 0x77, 4096);
	CU_ASSERT_EQUAL(test_gnt_window_dom0_copy(5, 1), GNTST_bad_page);
	CU_ASSERT_EQUAL(a->ram[3 * 4096], 0x3c);
	/* B's own copy into a grant of the page to itself: refused too. */
	grant(b, 6, (uint16_t)b->domid, (uint32_t)(m.dev_bus_addr >> 12), GTF_permit_access);
	c = (struct gnttab_copy){
		{{.gmfn = 11}, DOMID_SELF, 0}, {{6}, DOMID_SELF, 0}, 8, GNTCOPY_dest_gref, 0};
	memcpy(b->ram + 10 * 4096, &c, sizeof(c));
	CU_ASSERT_EQUAL(gnttab_do_op(v, GNTTABOP_copy, OP_VA, 1), 0);
	memcpy(&c, b->ram + 10 * 4096, sizeof(c));
	CU_ASSERT_EQUAL(c.status, GNTST_bad_page);
	CU_ASSERT_EQUAL(a->ram[3 * 4096], 0x3c);

	/* Unmapped: the grant of the window frame reads nothing. */
	u = (struct gnttab_unmap_grant_ref){0, m.dev_bus_addr, m.handle, 0};
	memcpy(b->ram + 10 * 4096, &u, sizeof(u));
	CU_ASSERT_EQUAL(gnttab_do_op(v, GNTTABOP_unmap_grant_ref, OP_VA, 1), 0);
	memcpy(&u, b->ram + 10 * 4096, sizeof(u));
	CU_ASSERT_EQUAL(u.status, GNTST_okay);
	CU_ASSERT_EQUAL(entry(a, 8)->flags, GTF_permit_access | GTF_readonly);
	memset(buf, 0, 8192);
	CU_ASSERT_EQUAL(test_gnt_window_dom0_copy(5, 0), GNTST_bad_page);
	CU_ASSERT_EQUAL(buf[0], 0);
}

UNIT_SUITE(gnt_dom0_window, test_gnt_window_init, test_gnt_window_cleanup,
	   UNIT_TEST(test_gnt_window_copies))
