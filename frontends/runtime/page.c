/*
 * The runtime's page allocator (page.h).  The domain builder leaves the
 * pages after the boot stack free; the first of them are mapped by the
 * initial page tables (up to a 4 MiB boundary), the rest of the domain's
 * RAM is not mapped at all.  Pages are handed out from a bump pointer (and
 * a free list of pages given back); a page past the mapped part gets its
 * 2 MiB region mapped first: a fresh L1 table filled while it is still an
 * ordinary writable page, then remapped read-only and hooked into the L2
 * with mmu_update, which is when the hypervisor validates it.
 */
#include "keel_guest.h"
#include "page.h"

#define PTE_P	 0x001ULL
#define PTE_RW	 0x002ULL
#define PTE_US	 0x004ULL
#define PTE_A	 0x020ULL
#define PTE_D	 0x040ULL
#define PTE_ADDR 0x000ffffffffff000ULL

struct rt_mmu_update {
	uint64_t ptr, val;
};

static uint64_t page_next_pfn, page_end_pfn, page_nfree;
static void *page_free_list;
static int page_ready;
static const uint64_t *page_m2p;
static uint64_t page_m2p_max;

uint64_t rt_pfn_to_mfn(uint64_t pfn)
{
	const uint64_t *p2m = (const uint64_t *)rt_start_info->mfn_list;

	return pfn < rt_start_info->nr_pages ? p2m[pfn] : ~0ULL;
}

uint64_t rt_mfn_to_pfn(uint64_t mfn)
{
	/* Xen's read-only M2P, where XENMEM_machphys_mapping says it is. */
	if (!page_m2p) {
		struct xen_machphys_mapping m = {0, 0, 0};

		if (HYPERCALL(__HYPERVISOR_memory_op, XENMEM_machphys_mapping, &m, 0) || !m.v_start)
			return ~0ULL;
		page_m2p = (const uint64_t *)m.v_start;
		page_m2p_max = (m.v_end - m.v_start) / 8;
	}
	return mfn < page_m2p_max ? page_m2p[mfn] : ~0ULL;
}

uint64_t rt_virt_to_pfn(const void *va)
{
	return ((uint64_t)va - RT_VIRT_BASE) >> RT_PAGE_SHIFT;
}

void *rt_pfn_to_virt(uint64_t pfn)
{
	return (void *)(RT_VIRT_BASE + (pfn << RT_PAGE_SHIFT));
}

uint64_t rt_virt_to_mfn(const void *va)
{
	return rt_pfn_to_mfn(rt_virt_to_pfn(va));
}

/* The page-table page behind entry e, through the direct map. */
static const uint64_t *page_table_of(uint64_t e)
{
	return rt_pfn_to_virt(rt_mfn_to_pfn((e & PTE_ADDR) >> RT_PAGE_SHIFT));
}

/* The L2 entry's machine address for va, or 0 if no L2 covers it. */
static uint64_t page_l2_slot(uint64_t va, uint64_t *entry)
{
	const uint64_t *l4 = (const uint64_t *)rt_start_info->pt_base, *l3;
	uint64_t e4 = l4[(va >> 39) & 511], e3;

	if (!(e4 & PTE_P))
		return 0;
	l3 = page_table_of(e4);
	e3 = l3[(va >> 30) & 511];
	if (!(e3 & PTE_P))
		return 0;
	*entry = page_table_of(e3)[(va >> 21) & 511];
	return (e3 & PTE_ADDR) + ((va >> 21) & 511) * 8;
}

static void page_init(void)
{
	uint64_t pt_pfn = rt_virt_to_pfn((void *)rt_start_info->pt_base);
	uint64_t va, e;

	page_next_pfn = pt_pfn + rt_start_info->nr_pt_frames + 1; /* + boot stack */
	page_nfree = rt_start_info->nr_pages > page_next_pfn
			     ? rt_start_info->nr_pages - page_next_pfn
			     : 0;
	/* The mapped part ends at the first 2 MiB region without an L1. */
	for (page_end_pfn = page_next_pfn & ~511ULL; page_end_pfn < rt_start_info->nr_pages;
	     page_end_pfn += 512) {
		va = (uint64_t)rt_pfn_to_virt(page_end_pfn);
		if (!page_l2_slot(va, &e) || !(e & PTE_P))
			break;
	}
	page_ready = 1;
}

/*
 * Map the 2 MiB region starting at page_end_pfn with an L1 taken from the
 * mapped pool.  The L1 page itself is mapped read-only wherever it appears.
 */
static int page_map_region(void)
{
	uint64_t base = page_end_pfn, slot, e, l1_pfn, l1_mfn;
	uint64_t *l1;
	struct rt_mmu_update u;
	unsigned done = 0;
	long r;

	if (page_next_pfn >= page_end_pfn)
		return -XEN_ENOMEM; /* no mapped page left to build the table in */
	slot = page_l2_slot((uint64_t)rt_pfn_to_virt(base), &e);
	if (!slot)
		return -XEN_ENOMEM; /* past the L2 the builder made (1 GiB) */
	l1_pfn = page_next_pfn++;
	page_nfree--;
	l1_mfn = rt_pfn_to_mfn(l1_pfn);
	l1 = rt_pfn_to_virt(l1_pfn);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t pfn = base + i;

		l1[i] = pfn < rt_start_info->nr_pages
				? (rt_pfn_to_mfn(pfn) << RT_PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US |
					  PTE_A | PTE_D
				: 0;
	}
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, l1,
		      (l1_mfn << RT_PAGE_SHIFT) | PTE_P | PTE_US | PTE_A | PTE_D, UVMF_INVLPG);
	if (r)
		return (int)r;
	u.ptr = slot | MMU_NORMAL_PT_UPDATE;
	u.val = (l1_mfn << RT_PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US | PTE_A;
	r = hypercall5(__HYPERVISOR_mmu_update, (uint64_t)&u, 1, (uint64_t)&done, DOMID_SELF, 0);
	if (r)
		return (int)r;
	page_end_pfn += 512;
	return 0;
}

void *rt_pages_alloc(unsigned n)
{
	void *p;

	if (!page_ready)
		page_init();
	if (!n || n > page_nfree)
		return NULL;
	/* Keep one mapped page in hand: the next region's L1 is built in it. */
	while (page_next_pfn + n + 1 > page_end_pfn && page_end_pfn < rt_start_info->nr_pages) {
		int r = page_map_region();

		if (r < 0) {
			rt_printf("rt_pages_alloc: cannot map pfn %lu on (%d)\n",
				  (unsigned long)page_end_pfn, r);
			break;
		}
	}
	if (page_next_pfn + n > page_end_pfn)
		return NULL;
	if (n > page_nfree)
		return NULL;
	p = rt_pfn_to_virt(page_next_pfn);
	page_next_pfn += n;
	page_nfree -= n;
	rt_memset(p, 0, n * RT_PAGE_SIZE);
	return p;
}

void *rt_page_alloc(void)
{
	void *p = page_free_list;

	if (!p)
		return rt_pages_alloc(1);
	page_free_list = *(void **)p;
	page_nfree--;
	rt_memset(p, 0, RT_PAGE_SIZE);
	return p;
}

void rt_page_free(void *page)
{
	if (!page)
		return;
	*(void **)page = page_free_list;
	page_free_list = page;
	page_nfree++;
}

uint64_t rt_pages_free(void)
{
	if (!page_ready)
		page_init();
	return page_nfree;
}
