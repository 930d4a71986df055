/*
 * xl dump-core <Domain> <filename>: an ELF core file of a domain's memory
 * in the layout of Xen's xc_domain_dumpcore (format version 0.1): a
 * .note.Xen section with the "none", header (magic 0xF00FEBED, vCPUs,
 * pages, page size), Xen version and format version notes; .xen_prstatus
 * (one vcpu_guest_context per vCPU); .xen_pages (every frame, page
 * aligned); .xen_p2m ({pfn, gmfn} per page; Keel's P2M is the identity);
 * .shstrtab.  Tools that read Xen cores find these by name.
 *
 * Xen's own cores have no program headers; Keel adds two PT_LOADs over
 * the same bytes of .xen_pages so that a debugger without Xen support
 * (gdb) reads memory at a guest kernel virtual address: x86_64 Linux's
 * kernel image map (__START_KERNEL_map, 0xffffffff80000000, which is
 * also the VIRT_BASE its ELF notes give the domain builder, so pfn =
 * (va - base) >> 12, at most its 1 GiB) and its direct map of all RAM
 * (0xffff888000000000; a PV guest gets no KASLR of either).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"
#include "xl_dumpcore.h"

#define DC_PAGE		   4096ULL
#define DC_NOTE_NONE	   0x2000000
#define DC_NOTE_HEADER	   0x2000001
#define DC_NOTE_XEN_VER	   0x2000002
#define DC_NOTE_FORMAT	   0x2000003
#define DC_MAGIC_PV	   0xF00FEBEDULL
#define DC_FORMAT_0_1	   1ULL
#define DC_VGC_SIZE	   5168 /* struct vcpu_guest_context, include/abi/arch-x86_64.h */
#define DC_LINUX_KMAP	   0xffffffff80000000ULL
#define DC_LINUX_KMAP_SIZE (1ULL << 30)
#define DC_LINUX_DIRECT	   0xffff888000000000ULL
#define DC_HV_VIRT_START   0xffff800000000000ULL

enum { DC_SH_NULL, DC_SH_STRTAB, DC_SH_NOTE, DC_SH_PRSTATUS, DC_SH_PAGES, DC_SH_P2M, DC_NR_SH };
enum { DC_NR_PH = 2 };

static const char dc_strtab[] = "\0.shstrtab\0.note.Xen\0.xen_prstatus\0.xen_pages\0.xen_p2m";
static const unsigned dc_name[DC_NR_SH] = {0, 1, 11, 21, 35, 46};

/* Xen's struct elfnote: the 16-byte header of each note, name "Xen". */
struct dc_note {
	uint32_t namesz, descsz, type;
	char name[4];
};

/* xen_dumpcore_elfnote_xen_version_desc, 1280 bytes */
struct dc_xen_version {
	uint64_t major, minor;
	char extra[16];
	char compile_info[64 + 16 + 32 + 32];
	char caps[1024];
	char changeset[64];
	uint64_t virt_start;
	uint64_t pagesize;
};
_Static_assert(sizeof(struct dc_xen_version) == 1280, "xen_version desc");

struct dc_notes {
	struct dc_note none;
	struct dc_note header;
	uint64_t magic, nr_vcpus, nr_pages, page_size;
	struct dc_note version;
	struct dc_xen_version ver;
	struct dc_note format;
	uint64_t format_version;
};

/* Everything before .xen_prstatus, written at once. */
struct dc_head {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[DC_NR_PH];
	Elf64_Shdr sh[DC_NR_SH];
	struct dc_notes notes;
};

static void dc_note_init(struct dc_note *n, uint32_t type, uint32_t descsz)
{
	n->namesz = 4;
	n->descsz = descsz;
	n->type = type;
	memcpy(n->name, "Xen", 4);
}

static int dc_write_all(int fd, const void *buf, uint64_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len > (1u << 24) ? (1u << 24) : len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		len -= w;
	}
	return 0;
}

static void dc_section(Elf64_Shdr *s, int idx, uint32_t type, uint64_t off, uint64_t size,
		       uint64_t align, uint64_t entsize)
{
	s->sh_name = dc_name[idx];
	s->sh_type = type;
	s->sh_offset = off;
	s->sh_size = size;
	s->sh_addralign = align;
	s->sh_entsize = entsize;
}

static void dc_load(Elf64_Phdr *p, uint64_t vaddr, uint64_t off, uint64_t size)
{
	p->p_type = PT_LOAD;
	p->p_flags = PF_R | PF_W | PF_X;
	p->p_offset = off;
	p->p_vaddr = vaddr;
	p->p_paddr = 0;
	p->p_filesz = size;
	p->p_memsz = size;
	p->p_align = DC_PAGE;
}

int xl_dumpcore_write(int fd, const struct xl_dumpcore_image *img)
{
	struct dc_head *head;
	uint64_t prstatus_off, prstatus_len, pages_off, pages_len, p2m_off, p2m_len, kmap;
	uint64_t(*p2m)[2] = NULL;
	char pad[DC_PAGE] = {0};
	int r;

	head = calloc(1, sizeof(*head));
	if (!head)
		return -ENOMEM;
	prstatus_off = sizeof(*head);
	prstatus_len = (uint64_t)img->nr_vcpus * DC_VGC_SIZE;
	pages_off = (prstatus_off + prstatus_len + DC_PAGE - 1) & ~(DC_PAGE - 1);
	pages_len = img->nr_pages * DC_PAGE;
	p2m_off = pages_off + pages_len;
	p2m_len = img->nr_pages * 16;

	memcpy(head->eh.e_ident, ELFMAG, SELFMAG);
	head->eh.e_ident[EI_CLASS] = ELFCLASS64;
	head->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	head->eh.e_ident[EI_VERSION] = EV_CURRENT;
	head->eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
	head->eh.e_ident[EI_ABIVERSION] = EV_CURRENT;
	head->eh.e_type = ET_CORE;
	head->eh.e_machine = EM_X86_64;
	head->eh.e_version = EV_CURRENT;
	head->eh.e_phoff = offsetof(struct dc_head, ph);
	head->eh.e_shoff = offsetof(struct dc_head, sh);
	head->eh.e_ehsize = sizeof(Elf64_Ehdr);
	head->eh.e_phentsize = sizeof(Elf64_Phdr);
	head->eh.e_phnum = DC_NR_PH;
	head->eh.e_shentsize = sizeof(Elf64_Shdr);
	head->eh.e_shnum = DC_NR_SH;
	head->eh.e_shstrndx = DC_SH_STRTAB;

	kmap = pages_len < DC_LINUX_KMAP_SIZE ? pages_len : DC_LINUX_KMAP_SIZE;
	dc_load(&head->ph[0], DC_LINUX_KMAP, pages_off, kmap);
	dc_load(&head->ph[1], DC_LINUX_DIRECT, pages_off, pages_len);

	dc_section(&head->sh[DC_SH_STRTAB], DC_SH_STRTAB, SHT_STRTAB, p2m_off + p2m_len,
		   sizeof(dc_strtab), 0, 0);
	dc_section(&head->sh[DC_SH_NOTE], DC_SH_NOTE, SHT_NOTE, offsetof(struct dc_head, notes),
		   sizeof(head->notes), 0, 0);
	dc_section(&head->sh[DC_SH_PRSTATUS], DC_SH_PRSTATUS, SHT_PROGBITS, prstatus_off,
		   prstatus_len, 8, DC_VGC_SIZE);
	dc_section(&head->sh[DC_SH_PAGES], DC_SH_PAGES, SHT_PROGBITS, pages_off, pages_len, DC_PAGE,
		   DC_PAGE);
	dc_section(&head->sh[DC_SH_P2M], DC_SH_P2M, SHT_PROGBITS, p2m_off, p2m_len, 8, 16);

	dc_note_init(&head->notes.none, DC_NOTE_NONE, 0);
	dc_note_init(&head->notes.header, DC_NOTE_HEADER, 32);
	head->notes.magic = DC_MAGIC_PV;
	head->notes.nr_vcpus = img->nr_vcpus;
	head->notes.nr_pages = img->nr_pages;
	head->notes.page_size = DC_PAGE;
	dc_note_init(&head->notes.version, DC_NOTE_XEN_VER, sizeof(struct dc_xen_version));
	head->notes.ver.major = img->xen_major;
	head->notes.ver.minor = img->xen_minor;
	snprintf(head->notes.ver.extra, sizeof(head->notes.ver.extra), "%s", img->xen_extra);
	snprintf(head->notes.ver.caps, sizeof(head->notes.ver.caps), "%s", img->xen_caps);
	head->notes.ver.virt_start = DC_HV_VIRT_START;
	head->notes.ver.pagesize = DC_PAGE;
	dc_note_init(&head->notes.format, DC_NOTE_FORMAT, 8);
	head->notes.format_version = DC_FORMAT_0_1;

	p2m = calloc(img->nr_pages ? img->nr_pages : 1, sizeof(*p2m));
	r = p2m ? 0 : -ENOMEM;
	for (uint64_t i = 0; p2m && i < img->nr_pages; i++)
		p2m[i][0] = p2m[i][1] = i;
	if (r == 0)
		r = dc_write_all(fd, head, sizeof(*head));
	if (r == 0)
		r = dc_write_all(fd, img->vcpu_ctx, prstatus_len);
	if (r == 0)
		r = dc_write_all(fd, pad, pages_off - prstatus_off - prstatus_len);
	if (r == 0)
		r = dc_write_all(fd, img->ram, pages_len);
	if (r == 0)
		r = dc_write_all(fd, p2m, p2m_len);
	if (r == 0)
		r = dc_write_all(fd, dc_strtab, sizeof(dc_strtab));
	free(p2m);
	free(head);
	return r;
}

/* main_dump_core: libxl_domain_core_dump's messages, "core dump failed (rc=-3)". */
int main_dump_core(int argc, char **argv)
{
	struct xl_backend *be;
	uint32_t domid;
	int opt, r;

	XL_FOREACH_OPT(opt, "", NULL, "dump-core", 2)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = xl_find_domain(be, argv[optind], &domid);
	if (r < 0) {
		xl_backend_disconnect(be);
		return 1;
	}
	r = be->ops->dump_core ? be->ops->dump_core(be->handle, domid, argv[optind + 1]) : -ENOSYS;
	xl_backend_disconnect(be);
	if (r == -ENOSYS)
		return xl_backend_fail("dumping the domain's core", r);
	if (r < 0) {
		fprintf(stderr,
			"libxl: error: libxl_domain.c:libxl_domain_core_dump: Domain %u:Core "
			"dumping domain to %s: %s\n",
			domid, argv[optind + 1], strerror(-r));
		fprintf(stderr, "core dump failed (rc=%d)\n", -3);
		return 1;
	}
	return 0;
}
