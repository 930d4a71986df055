/*
 * The runtime's page allocator: the pages of the domain's RAM after the
 * boot stack the domain builder laid out (start_info's pt_base and
 * nr_pt_frames), handed out one at a time, zeroed, at their direct-map
 * address VIRT_BASE + pfn * 4096.  Pages past the builder's initial
 * mapping are mapped on demand (a new L1 table taken from the pool, made
 * read-only, hooked into the L2 with mmu_update).  pfn <-> mfn go through
 * the P2M list start_info names (mfn_list) and Xen's read-only M2P.
 */
#ifndef KEEL_RT_PAGE_H
#define KEEL_RT_PAGE_H

#include <stdint.h>

#define RT_VIRT_BASE  0xffffffff80000000UL
#define RT_PAGE_SIZE  4096UL
#define RT_PAGE_SHIFT 12

/* A zeroed page, or NULL when the domain has none left. */
void *rt_page_alloc(void);
/* n physically and virtually contiguous zeroed pages, or NULL. */
void *rt_pages_alloc(unsigned n);
/* Give a page back (it must have come from rt_page_alloc). */
void rt_page_free(void *page);
/* Free pages left (including pages not yet mapped). */
uint64_t rt_pages_free(void);

uint64_t rt_virt_to_pfn(const void *va);
void *rt_pfn_to_virt(uint64_t pfn);
uint64_t rt_pfn_to_mfn(uint64_t pfn);
uint64_t rt_mfn_to_pfn(uint64_t mfn);
/* The machine frame holding va (for grants and ring references). */
uint64_t rt_virt_to_mfn(const void *va);

#endif
