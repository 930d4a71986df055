/*
 * ELF64 parsing for the domain builder.  Reads the program headers (PT_LOAD
 * for the image, PT_NOTE for Xen's notes; section headers are a fallback
 * for notes since some kernels carry them only there) and checks every
 * offset and size against the file before it is used.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "abi/elfnote.h"
#include "elf.h"

static int elf_range_ok(const struct elf_image *img, uint64_t off, uint64_t len)
{
	return off <= img->size && len <= img->size - off;
}

static uint64_t elf_note_value(const uint8_t *desc, uint32_t len)
{
	uint64_t v = 0;

	if (len >= 8)
		memcpy(&v, desc, 8);
	else if (len >= 4) {
		uint32_t w;

		memcpy(&w, desc, 4);
		v = w;
	}
	return v;
}

static void elf_note_string(char *dst, size_t dsz, const uint8_t *desc, uint32_t len)
{
	size_t n = len < dsz - 1 ? len : dsz - 1;

	memcpy(dst, desc, n);
	dst[n] = 0;
}

static void elf_xen_note(struct elf_xen_notes *x, uint32_t type, const uint8_t *desc, uint32_t len)
{
	uint64_t v = elf_note_value(desc, len);

	x->present = 1;
	switch (type) {
	case XEN_ELFNOTE_ENTRY:
		x->entry = v;
		break;
	case XEN_ELFNOTE_HYPERCALL_PAGE:
		x->hypercall_page = v;
		x->has_hypercall_page = 1;
		break;
	case XEN_ELFNOTE_VIRT_BASE:
		x->virt_base = v;
		break;
	case XEN_ELFNOTE_PADDR_OFFSET:
		x->paddr_offset = v;
		x->has_paddr_offset = 1;
		break;
	case XEN_ELFNOTE_INIT_P2M:
		x->init_p2m = v;
		x->has_init_p2m = 1;
		break;
	case XEN_ELFNOTE_MOD_START_PFN:
		x->mod_start_pfn = v != 0;
		break;
	case XEN_ELFNOTE_FEATURES:
		elf_note_string(x->features, sizeof(x->features), desc, len);
		break;
	case XEN_ELFNOTE_GUEST_OS:
		elf_note_string(x->guest_os, sizeof(x->guest_os), desc, len);
		break;
	case XEN_ELFNOTE_LOADER:
		elf_note_string(x->loader, sizeof(x->loader), desc, len);
		break;
	case XEN_ELFNOTE_SUSPEND_CANCEL:
		x->suspend_cancel = v != 0;
		break;
	default:
		break;
	}
}

static void elf_scan_notes(struct elf_image *img, uint64_t off, uint64_t size)
{
	const uint8_t *p = img->data + off, *end = p + size;

	while (end - p >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t nlen, dlen;

		memcpy(&namesz, p, 4);
		memcpy(&descsz, p + 4, 4);
		memcpy(&type, p + 8, 4);
		nlen = ((uint64_t)namesz + 3) & ~3ULL;
		dlen = ((uint64_t)descsz + 3) & ~3ULL;
		if (nlen > (uint64_t)(end - p - 12) || dlen > (uint64_t)(end - p - 12 - nlen))
			return;
		if (namesz == 4 && !memcmp(p + 12, "Xen", 4))
			elf_xen_note(&img->xen, type, p + 12 + nlen, descsz);
		p += 12 + nlen + dlen;
	}
}

int elf_parse(const void *data, size_t size, struct elf_image *img)
{
	const Elf64_Ehdr *eh = data;
	int i;

	memset(img, 0, sizeof(*img));
	img->data = data;
	img->size = size;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    !elf_range_ok(img, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return -ENOEXEC;
	img->entry = eh->e_entry;
	img->vstart = UINT64_MAX;
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, (const uint8_t *)data + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			if (elf_range_ok(img, ph.p_offset, ph.p_filesz))
				elf_scan_notes(img, ph.p_offset, ph.p_filesz);
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (img->nsegs == ELF_MAX_SEGS || ph.p_filesz > ph.p_memsz ||
		    !elf_range_ok(img, ph.p_offset, ph.p_filesz) ||
		    ph.p_vaddr + ph.p_memsz < ph.p_vaddr || ph.p_memsz > (1ULL << 32))
			return -ENOEXEC;
		img->segs[img->nsegs++] = (struct elf_seg){ph.p_vaddr, ph.p_paddr,  ph.p_filesz,
							   ph.p_memsz, ph.p_offset, ph.p_flags};
		if (ph.p_vaddr < img->vstart)
			img->vstart = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > img->vend)
			img->vend = ph.p_vaddr + ph.p_memsz;
	}
	if (!img->nsegs)
		return -ENOEXEC;
	/* Notes only in sections (no PT_NOTE): scan SHT_NOTE sections. */
	if (!img->xen.present && eh->e_shentsize == sizeof(Elf64_Shdr) &&
	    elf_range_ok(img, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))) {
		for (i = 0; i < eh->e_shnum; i++) {
			Elf64_Shdr sh;

			memcpy(&sh, (const uint8_t *)data + eh->e_shoff + i * sizeof(sh),
			       sizeof(sh));
			if (sh.sh_type == SHT_NOTE && elf_range_ok(img, sh.sh_offset, sh.sh_size))
				elf_scan_notes(img, sh.sh_offset, sh.sh_size);
		}
	}
	/* Xen's loader places segments by physical address when the kernel
	 * gives PADDR_OFFSET (Linux's per-cpu segment has virtual address 0):
	 * va = paddr - PADDR_OFFSET + VIRT_BASE. */
	if (img->xen.has_paddr_offset && img->xen.virt_base) {
		img->vstart = UINT64_MAX;
		img->vend = 0;
		for (i = 0; i < img->nsegs; i++) {
			struct elf_seg *sg = &img->segs[i];

			sg->vaddr = sg->paddr - img->xen.paddr_offset + img->xen.virt_base;
			if (sg->vaddr < img->vstart)
				img->vstart = sg->vaddr;
			if (sg->vaddr + sg->memsz > img->vend)
				img->vend = sg->vaddr + sg->memsz;
		}
	}
	if (img->vend - img->vstart > (1ULL << 32))
		return -ENOEXEC;
	return 0;
}

void elf_copy_segment(const struct elf_image *img, int s, void *dst)
{
	const struct elf_seg *seg = &img->segs[s];

	memcpy(dst, img->data + seg->offset, seg->filesz);
	memset((uint8_t *)dst + seg->filesz, 0, seg->memsz - seg->filesz);
}

uint64_t elf_find_symbol(const struct elf_image *img, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->data;
	size_t nlen = strlen(name);

	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !elf_range_ok(img, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return 0;
	for (int i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh, str;

		memcpy(&sh, img->data + eh->e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf64_Sym) ||
		    sh.sh_link >= eh->e_shnum || !elf_range_ok(img, sh.sh_offset, sh.sh_size))
			continue;
		memcpy(&str, img->data + eh->e_shoff + sh.sh_link * sizeof(str), sizeof(str));
		if (!elf_range_ok(img, str.sh_offset, str.sh_size))
			continue;
		for (uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); k++) {
			Elf64_Sym sym;

			memcpy(&sym, img->data + sh.sh_offset + k * sizeof(sym), sizeof(sym));
			if (sym.st_name >= str.sh_size || str.sh_size - sym.st_name <= nlen)
				continue;
			if (!memcmp(img->data + str.sh_offset + sym.st_name, name, nlen + 1))
				return sym.st_value;
		}
	}
	return 0;
}
