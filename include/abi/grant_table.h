/*
 * Keel's copy of Xen's grant-table ABI (HYPERVISOR_grant_table_op, 20): the
 * shared grant entries a guest writes to offer its pages (version 1 and
 * version 2 layouts), the GTF flag bits in them, the sub-op numbers and the
 * argument blocks of the sub-ops Keel implements, and the GNTST status codes
 * returned in those blocks.  Guest handles and xen_pfn_t are 64-bit on x86_64
 * and are written as uint64_t here.  Layouts are checked at the end.
 */
#ifndef KEEL_ABI_GRANT_TABLE_H
#define KEEL_ABI_GRANT_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;
typedef uint16_t grant_status_t;

/* Version 1 entry: 8 bytes, 512 per 4 KiB frame. */
struct grant_entry_v1 {
	uint16_t flags; /* GTF_*: type in the low 2 bits, then sub-flags */
	uint16_t domid; /* domain being granted access */
	uint32_t frame; /* guest frame (or transferred MFN) */
};

/* The first 8 entries are reserved for the toolstack (console, store). */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE	   0
#define GNTTAB_RESERVED_XENSTORE   1

/* Entry type (flags & GTF_type_mask). */
#define GTF_invalid	    0x0u
#define GTF_permit_access   0x1u
#define GTF_accept_transfer 0x2u
#define GTF_transitive	    0x3u
#define GTF_type_mask	    0x3u

/* Sub-flags of permit_access / transitive; reading/writing are set by the hypervisor. */
#define _GTF_readonly 2
#define GTF_readonly  (1u << _GTF_readonly)
#define _GTF_reading  3
#define GTF_reading   (1u << _GTF_reading)
#define _GTF_writing  4
#define GTF_writing   (1u << _GTF_writing)
#define _GTF_PWT      5
#define GTF_PWT	      (1u << _GTF_PWT)
#define _GTF_PCD      6
#define GTF_PCD	      (1u << _GTF_PCD)
#define _GTF_PAT      7
#define GTF_PAT	      (1u << _GTF_PAT)
#define _GTF_sub_page 8
#define GTF_sub_page  (1u << _GTF_sub_page)

/* Sub-flags of accept_transfer (same bit positions as reading/writing). */
#define _GTF_transfer_committed 2
#define GTF_transfer_committed	(1u << _GTF_transfer_committed)
#define _GTF_transfer_completed 3
#define GTF_transfer_completed	(1u << _GTF_transfer_completed)

/* Version 2: a 4-byte header shared by every form, 16-byte entries. */
struct grant_entry_header {
	uint16_t flags;
	uint16_t domid;
};

union grant_entry_v2 {
	struct grant_entry_header hdr;
	struct {
		struct grant_entry_header hdr;
		uint32_t pad0;
		uint64_t frame;
	} full_page;
	struct {
		struct grant_entry_header hdr;
		uint16_t page_off; /* access [page_off, page_off + length) */
		uint16_t length;
		uint64_t frame;
	} sub_page;
	struct {
		struct grant_entry_header hdr;
		uint16_t trans_domid; /* use @gref of this domain as if local */
		uint16_t pad0;
		grant_ref_t gref;
	} transitive;
	uint32_t __spacer[4];
};

/* Sub-op numbers. */
#define GNTTABOP_map_grant_ref	   0
#define GNTTABOP_unmap_grant_ref   1
#define GNTTABOP_setup_table	   2
#define GNTTABOP_dump_table	   3
#define GNTTABOP_transfer	   4
#define GNTTABOP_copy		   5
#define GNTTABOP_query_size	   6
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version	   8
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version	   10
#define GNTTABOP_swap_grant_ref	   11
#define GNTTABOP_cache_flush	   12

/* map_grant_ref flags. */
#define _GNTMAP_device_map	0
#define GNTMAP_device_map	(1u << _GNTMAP_device_map)
#define _GNTMAP_host_map	1
#define GNTMAP_host_map		(1u << _GNTMAP_host_map)
#define _GNTMAP_readonly	2
#define GNTMAP_readonly		(1u << _GNTMAP_readonly)
#define _GNTMAP_application_map 3
#define GNTMAP_application_map	(1u << _GNTMAP_application_map)
#define _GNTMAP_contains_pte	4
#define GNTMAP_contains_pte	(1u << _GNTMAP_contains_pte)
#define _GNTMAP_guest_avail0	16
#define GNTMAP_guest_avail_mask (0xffffffffu << _GNTMAP_guest_avail0)

struct gnttab_map_grant_ref {
	uint64_t host_addr;    /* IN */
	uint32_t flags;	       /* IN: GNTMAP_* */
	grant_ref_t ref;       /* IN */
	uint16_t dom;	       /* IN: granting domain */
	int16_t status;	       /* OUT: GNTST_* */
	grant_handle_t handle; /* OUT */
	uint64_t dev_bus_addr; /* OUT */
};

struct gnttab_unmap_grant_ref {
	uint64_t host_addr;    /* IN */
	uint64_t dev_bus_addr; /* IN */
	grant_handle_t handle; /* IN */
	int16_t status;	       /* OUT */
};

struct gnttab_setup_table {
	uint16_t dom;	     /* IN */
	uint32_t nr_frames;  /* IN */
	int16_t status;	     /* OUT */
	uint64_t frame_list; /* IN: guest handle to xen_pfn_t[nr_frames] (OUT) */
};

struct gnttab_dump_table {
	uint16_t dom;	/* IN */
	int16_t status; /* OUT */
};

struct gnttab_transfer {
	uint64_t mfn;	 /* IN: frame to give away */
	uint16_t domid;	 /* IN */
	grant_ref_t ref; /* IN */
	int16_t status;	 /* OUT */
};

#define _GNTCOPY_source_gref 0
#define GNTCOPY_source_gref  (1u << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref   1
#define GNTCOPY_dest_gref    (1u << _GNTCOPY_dest_gref)

struct gnttab_copy_ptr {
	union {
		grant_ref_t ref; /* when GNTCOPY_*_gref is set */
		uint64_t gmfn;	 /* otherwise a frame of @domid */
	} u;
	uint16_t domid;
	uint16_t offset;
};

struct gnttab_copy {
	struct gnttab_copy_ptr source; /* IN */
	struct gnttab_copy_ptr dest;   /* IN */
	uint16_t len;		       /* IN: must not cross a page in either */
	uint16_t flags;		       /* IN: GNTCOPY_* */
	int16_t status;		       /* OUT */
};

struct gnttab_query_size {
	uint16_t dom;		/* IN */
	uint32_t nr_frames;	/* OUT */
	uint32_t max_nr_frames; /* OUT */
	int16_t status;		/* OUT */
};

struct gnttab_unmap_and_replace {
	uint64_t host_addr;    /* IN */
	uint64_t new_addr;     /* IN */
	grant_handle_t handle; /* IN */
	int16_t status;	       /* OUT */
};

struct gnttab_set_version {
	uint32_t version; /* IN: 1 or 2; OUT: the version now in force */
};

struct gnttab_get_status_frames {
	uint32_t nr_frames;  /* IN */
	uint16_t dom;	     /* IN */
	int16_t status;	     /* OUT */
	uint64_t frame_list; /* IN: guest handle to uint64_t[nr_frames] */
};

struct gnttab_get_version {
	uint16_t dom; /* IN */
	uint16_t pad;
	uint32_t version; /* OUT */
};

struct gnttab_swap_grant_ref {
	grant_ref_t ref_a; /* IN */
	grant_ref_t ref_b; /* IN */
	int16_t status;	   /* OUT */
};

/* Status codes, returned in the status field of each block. */
#define GNTST_okay		0
#define GNTST_general_error	(-1)
#define GNTST_bad_domain	(-2)
#define GNTST_bad_gntref	(-3)
#define GNTST_bad_handle	(-4)
#define GNTST_bad_virt_addr	(-5)
#define GNTST_bad_dev_addr	(-6)
#define GNTST_no_device_space	(-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page		(-9)
#define GNTST_bad_copy_arg	(-10)
#define GNTST_address_too_big	(-11)
#define GNTST_eagain		(-12)
#define GNTST_no_space		(-13)

/* A short description of a GNTST_* code, for logs. */
static inline const char *gnttab_status_name(int16_t status)
{
	static const char *const names[] = {
		"okay",
		"general error",
		"bad domain",
		"bad grant ref",
		"bad handle",
		"bad virtual address",
		"bad device address",
		"no device space",
		"permission denied",
		"bad page",
		"copy crosses a page",
		"address too big",
		"try again",
		"no space",
	};

	if (status > 0 || -status >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown grant status";
	return names[-status];
}

#if defined(__x86_64__)
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(offsetof(struct grant_entry_v1, domid) == 2, "v1.domid");
_Static_assert(offsetof(struct grant_entry_v1, frame) == 4, "v1.frame");
_Static_assert(sizeof(struct grant_entry_header) == 4, "grant_entry_header");
_Static_assert(sizeof(union grant_entry_v2) == 16, "grant_entry_v2");
_Static_assert(offsetof(union grant_entry_v2, full_page.frame) == 8, "v2.full_page.frame");
_Static_assert(offsetof(union grant_entry_v2, sub_page.page_off) == 4, "v2.sub_page.off");
_Static_assert(offsetof(union grant_entry_v2, sub_page.length) == 6, "v2.sub_page.length");
_Static_assert(offsetof(union grant_entry_v2, transitive.gref) == 8, "v2.transitive.gref");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, flags) == 8, "map.flags");
_Static_assert(offsetof(struct gnttab_map_grant_ref, ref) == 12, "map.ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dom) == 16, "map.dom");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "map.status");
_Static_assert(offsetof(struct gnttab_map_grant_ref, handle) == 20, "map.handle");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24, "map.dev_bus_addr");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, handle) == 16, "unmap.handle");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, status) == 20, "unmap.status");
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table");
_Static_assert(offsetof(struct gnttab_setup_table, nr_frames) == 4, "setup.nr_frames");
_Static_assert(offsetof(struct gnttab_setup_table, status) == 8, "setup.status");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "setup.frame_list");
_Static_assert(sizeof(struct gnttab_dump_table) == 4, "gnttab_dump_table");
_Static_assert(sizeof(struct gnttab_transfer) == 24, "gnttab_transfer");
_Static_assert(offsetof(struct gnttab_transfer, ref) == 12, "transfer.ref");
_Static_assert(offsetof(struct gnttab_transfer, status) == 16, "transfer.status");
_Static_assert(sizeof(struct gnttab_copy_ptr) == 16, "gnttab_copy_ptr");
_Static_assert(offsetof(struct gnttab_copy_ptr, domid) == 8, "copy_ptr.domid");
_Static_assert(offsetof(struct gnttab_copy_ptr, offset) == 10, "copy_ptr.offset");
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy");
_Static_assert(offsetof(struct gnttab_copy, dest) == 16, "copy.dest");
_Static_assert(offsetof(struct gnttab_copy, len) == 32, "copy.len");
_Static_assert(offsetof(struct gnttab_copy, flags) == 34, "copy.flags");
_Static_assert(offsetof(struct gnttab_copy, status) == 36, "copy.status");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size");
_Static_assert(offsetof(struct gnttab_query_size, nr_frames) == 4, "query.nr_frames");
_Static_assert(offsetof(struct gnttab_query_size, status) == 12, "query.status");
_Static_assert(sizeof(struct gnttab_unmap_and_replace) == 24, "unmap_and_replace");
_Static_assert(sizeof(struct gnttab_set_version) == 4, "gnttab_set_version");
_Static_assert(sizeof(struct gnttab_get_status_frames) == 16, "get_status_frames");
_Static_assert(offsetof(struct gnttab_get_status_frames, frame_list) == 8, "gsf.frame_list");
_Static_assert(sizeof(struct gnttab_get_version) == 8, "gnttab_get_version");
_Static_assert(offsetof(struct gnttab_get_version, version) == 4, "get_version.version");
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "gnttab_swap_grant_ref");
#endif

#endif
