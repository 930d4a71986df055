/*
 * ELF64 kernel images for the domain builder: the loadable segments and the
 * Xen ELF notes (name "Xen") a PV kernel carries.  Parsing is bounds-checked
 * throughout: the image is untrusted input.
 */
#ifndef KEEL_HV_ELF_H
#define KEEL_HV_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGS 16

struct elf_seg {
	uint64_t vaddr, paddr, filesz, memsz, offset;
	uint32_t flags;
};

struct elf_xen_notes {
	int present; /* at least one Xen note was found */
	uint64_t entry;
	uint64_t hypercall_page;
	int has_hypercall_page;
	uint64_t virt_base;
	uint64_t paddr_offset;
	int has_paddr_offset;
	uint64_t init_p2m;
	int has_init_p2m;
	int mod_start_pfn;
	int suspend_cancel; /* SCHEDOP_shutdown(suspend) may return 1 (resumed in place) */
	char features[256];
	char guest_os[32];
	char loader[32];
};

struct elf_image {
	const uint8_t *data;
	size_t size;
	uint64_t entry;	       /* e_entry */
	uint64_t vstart, vend; /* lowest and highest virtual address loaded */
	int nsegs;
	struct elf_seg segs[ELF_MAX_SEGS];
	struct elf_xen_notes xen;
};

int elf_parse(const void *data, size_t size, struct elf_image *img);
/* The value of symbol name in img's symbol table, or 0 if absent. */
uint64_t elf_find_symbol(const struct elf_image *img, const char *name);
/* Copy segment s of img to dst (memsz bytes: file bytes then zeroes). */
void elf_copy_segment(const struct elf_image *img, int s, void *dst);

#endif
