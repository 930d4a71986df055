/*
 * Unit tests of the domain builder's image parsing: ELF64 program headers
 * and Xen ELF notes (hypervisor/pv/elf.c) and bzImage payload extraction
 * (hypervisor/pv/pv_bzimage.c), including malformed and truncated input;
 * the sandboxed helper that does both for keeld (hypervisor/pv/pv_unpack.c)
 * and keeld's checks on its answer.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "../../hypervisor/core/sandbox.h"
#include "../../hypervisor/pv/elf.h"
#include "../../hypervisor/pv/pv_build.h"
#include "abi/elfnote.h"
#include "unit.h"

static uint8_t img[8192];

static size_t test_keeld_note(uint8_t *p, uint32_t type, const void *desc, uint32_t len)
{
	uint32_t h[3] = {4, len, type};

	memcpy(p, h, 12);
	memcpy(p + 12, "Xen", 4);
	memcpy(p + 16, desc, len);
	return 16 + ((len + 3) & ~3u);
}

/* An ELF64 with one PT_LOAD (vaddr 0xffffffff80001000, 0x2000 bytes) and a
 * PT_NOTE holding Xen notes. */
static size_t test_keeld_make_elf(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	uint64_t entry = 0xffffffff80001010ULL, hp = 0xffffffff80002000ULL,
		 vb = 0xffffffff80000000ULL, p2m = 0x8000000000ULL;
	size_t off = 1024, n = 0;

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	eh->e_entry = 0x1234;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 4096,
			     .p_vaddr = 0xffffffff80001000ULL,
			     .p_paddr = 0x1000,
			     .p_filesz = 0x1000,
			     .p_memsz = 0x2000};
	n += test_keeld_note(img + off + n, XEN_ELFNOTE_ENTRY, &entry, 8);
	n += test_keeld_note(img + off + n, XEN_ELFNOTE_HYPERCALL_PAGE, &hp, 8);
	n += test_keeld_note(img + off + n, XEN_ELFNOTE_VIRT_BASE, &vb, 8);
	n += test_keeld_note(img + off + n, XEN_ELFNOTE_INIT_P2M, &p2m, 8);
	n += test_keeld_note(img + off + n, XEN_ELFNOTE_FEATURES, "!writable_page_tables", 22);
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = off, .p_filesz = n};
	return sizeof(img);
}

static void test_keeld_elf_notes(void)
{
	struct elf_image e;
	size_t sz = test_keeld_make_elf();

	CU_ASSERT_EQUAL_FATAL(elf_parse(img, sz, &e), 0);
	CU_ASSERT_EQUAL(e.nsegs, 1);
	CU_ASSERT_EQUAL(e.vstart, 0xffffffff80001000ULL);
	CU_ASSERT_EQUAL(e.vend, 0xffffffff80003000ULL);
	CU_ASSERT(e.xen.present);
	CU_ASSERT_EQUAL(e.xen.entry, 0xffffffff80001010ULL);
	CU_ASSERT(e.xen.has_hypercall_page);
	CU_ASSERT_EQUAL(e.xen.hypercall_page, 0xffffffff80002000ULL);
	CU_ASSERT_EQUAL(e.xen.virt_base, 0xffffffff80000000ULL);
	CU_ASSERT(e.xen.has_init_p2m);
	CU_ASSERT_EQUAL(e.xen.init_p2m, 0x8000000000ULL);
	CU_ASSERT_STRING_EQUAL(e.xen.features, "!writable_page_tables");
}

static void test_keeld_elf_rejects_bad(void)
{
	struct elf_image e;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	size_t sz = test_keeld_make_elf();

	CU_ASSERT_EQUAL(elf_parse(img, 20, &e), -ENOEXEC); /* truncated header */
	CU_ASSERT_EQUAL(elf_parse("garbage garbage garbage garbage garbage garbage garbage "
				  "garbage garbage",
				  70, &e),
			-ENOEXEC);
	eh->e_machine = EM_386;
	CU_ASSERT_EQUAL(elf_parse(img, sz, &e), -ENOEXEC);
	test_keeld_make_elf();
	eh->e_phoff = sz - 10; /* program headers past the end */
	CU_ASSERT_EQUAL(elf_parse(img, sz, &e), -ENOEXEC);
	test_keeld_make_elf();
	ph[0].p_filesz = 0x100000; /* segment past the end of the file */
	CU_ASSERT_EQUAL(elf_parse(img, sz, &e), -ENOEXEC);
	test_keeld_make_elf();
	ph[0].p_filesz = 0x3000; /* filesz > memsz */
	CU_ASSERT_EQUAL(elf_parse(img, sz, &e), -ENOEXEC);
	test_keeld_make_elf();
	/* a note whose sizes overrun its segment is ignored, not trusted */
	((uint32_t *)(img + 1024))[1] = 0xfffffff0;
	CU_ASSERT_EQUAL(elf_parse(img, sz, &e), 0);
	CU_ASSERT_EQUAL(e.xen.entry, 0);
}

/* A fake bzImage: setup header "HdrS", payload = gzip of `data`. */
static size_t test_keeld_make_bzimage(uint8_t *out, size_t cap, const void *data, size_t len)
{
	z_stream z = {0};
	uint32_t off = 16, plen;
	uint8_t *payload = out + 5 * 512 + off;

	memset(out, 0, cap);
	out[0x1f1] = 4;
	memcpy(out + 0x202, "HdrS", 4);
	deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (uint8_t *)data;
	z.avail_in = len;
	z.next_out = payload;
	z.avail_out = cap - (payload - out);
	deflate(&z, Z_FINISH);
	plen = z.total_out;
	deflateEnd(&z);
	memcpy(out + 0x248, &off, 4);
	memcpy(out + 0x24c, &plen, 4);
	return (payload - out) + plen;
}

static void test_keeld_bzimage(void)
{
	static uint8_t bz[16384];
	size_t sz = test_keeld_make_elf(), bsz, osz;
	void *out = NULL;

	bsz = test_keeld_make_bzimage(bz, sizeof(bz), img, sz);
	CU_ASSERT_EQUAL_FATAL(pv_bzimage_extract(bz, bsz, &out, &osz), 0);
	CU_ASSERT_EQUAL(osz, sz);
	CU_ASSERT(out && memcmp(out, img, sz) == 0);
	free(out);
	CU_ASSERT_EQUAL(pv_bzimage_extract(img, sz, &out, &osz), -ENOEXEC); /* plain ELF */
	bz[0x24c] ^= 0xff; /* payload length past the end */
	bz[0x24d] ^= 0xff;
	CU_ASSERT_EQUAL(pv_bzimage_extract(bz, bsz, &out, &osz), -ENOEXEC);
	bsz = test_keeld_make_bzimage(bz, sizeof(bz), img, sz);
	bz[5 * 512 + 16 + 20] ^= 0x55; /* corrupt the deflate stream */
	CU_ASSERT_NOT_EQUAL(pv_bzimage_extract(bz, bsz, &out, &osz), 0);
}

/* A bzImage whose payload is XZ (as Debian's kernels are). */
static size_t test_keeld_make_bzimage_xz(uint8_t *out, size_t cap, const void *data, size_t len)
{
	uint32_t off = 16, plen;
	size_t pos = 0;
	uint8_t *payload = out + 5 * 512 + off;

	memset(out, 0, cap);
	out[0x1f1] = 4;
	memcpy(out + 0x202, "HdrS", 4);
	if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, data, len, payload, &pos,
				    cap - (size_t)(payload - out)) != LZMA_OK)
		return 0;
	plen = (uint32_t)pos;
	memcpy(out + 0x248, &off, 4);
	memcpy(out + 0x24c, &plen, 4);
	return (size_t)(payload - out) + plen;
}

/* The helper unpacks and parses; keeld gets the image and its segments. */
static void test_keeld_unpack_helper(void)
{
	static uint8_t bz[16384];
	size_t sz = test_keeld_make_elf(), bsz, osz = 0;
	struct elf_image e;
	void *out = NULL;
	char err[160] = "";

	CU_ASSERT_EQUAL_FATAL(pv_unpack_kernel(img, sz, &out, &osz, &e, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(out); /* a plain ELF is used where it is */
	CU_ASSERT(e.data == img && osz == sz && e.nsegs == 1);
	CU_ASSERT_EQUAL(e.xen.entry, 0xffffffff80001010ULL);
	CU_ASSERT_STRING_EQUAL(e.xen.features, "!writable_page_tables");
	bsz = test_keeld_make_bzimage_xz(bz, sizeof(bz), img, sz);
	CU_ASSERT_FATAL(bsz > 0);
	CU_ASSERT_EQUAL_FATAL(pv_unpack_kernel(bz, bsz, &out, &osz, &e, err, sizeof(err)), 0);
	CU_ASSERT(out && osz == sz && memcmp(out, img, sz) == 0 && e.data == out);
	CU_ASSERT_EQUAL(e.vstart, 0xffffffff80001000ULL);
	free(out);
	bsz = test_keeld_make_bzimage(bz, sizeof(bz), img, sz); /* gzip */
	CU_ASSERT_EQUAL(pv_unpack_kernel(bz, bsz, &out, &osz, &e, err, sizeof(err)), 0);
	free(out);
}

/* Malformed kernels are refused with a reason, and keeld (this process)
 * goes on: a truncated XZ payload, absurd sizes, overlapping segments. */
static void test_keeld_unpack_malformed(void)
{
	static uint8_t bz[16384];
	size_t sz = test_keeld_make_elf(), bsz, osz;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr));
	struct elf_image e;
	void *out = NULL;
	char err[160];
	uint32_t plen;

	bsz = test_keeld_make_bzimage_xz(bz, sizeof(bz), img, sz);
	memcpy(&plen, bz + 0x24c, 4);
	plen /= 2; /* the XZ stream cut in half */
	memcpy(bz + 0x24c, &plen, 4);
	CU_ASSERT_EQUAL(pv_bzimage_extract(bz, bsz, &out, &osz), -ENOEXEC);
	CU_ASSERT_EQUAL(pv_unpack_kernel(bz, bsz, &out, &osz, &e, err, sizeof(err)), -ENOEXEC);
	CU_ASSERT_PTR_NULL(out);
	plen = 0xfffffff0; /* a payload far past the image */
	memcpy(bz + 0x24c, &plen, 4);
	CU_ASSERT_EQUAL(pv_unpack_kernel(bz, bsz, &out, &osz, &e, err, sizeof(err)), -ENOEXEC);
	sz = test_keeld_make_elf();
	ph[0].p_memsz = 1ULL << 40; /* an absurd segment */
	CU_ASSERT_EQUAL(pv_unpack_kernel(img, sz, &out, &osz, &e, err, sizeof(err)), -ENOEXEC);
	sz = test_keeld_make_elf();
	ph[1] = ph[0]; /* a second PT_LOAD over the first (the notes go) */
	ph[1].p_vaddr += 0x1000;
	CU_ASSERT_EQUAL(elf_parse(img, sz, &e), 0); /* the parser takes it ... */
	CU_ASSERT_EQUAL(pv_unpack_kernel(img, sz, &out, &osz, &e, err, sizeof(err)), -ENOEXEC);
	CU_ASSERT(strstr(err, "overlapping") != NULL); /* ... keeld's check does not */
	CU_ASSERT_EQUAL(pv_unpack_kernel("garbage", 7, &out, &osz, &e, err, sizeof(err)), -ENOEXEC);
}

/* The helper's sandbox: writing to its pipe works, anything else (here
 * openat) kills it with SIGSYS; the descriptors it did not keep are gone. */
static void test_keeld_unpack_sandbox(void)
{
	int fds[2], status;
	char c = 0;
	pid_t pid;

	CU_ASSERT_FATAL(pipe(fds) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		if (sandbox_enter(fds[1]) < 0 || write(3, "k", 1) != 1)
			_exit(1);
		if (write(fds[0] > 3 ? fds[0] : 4, "x", 1) >= 0) /* closed: -EBADF */
			_exit(2);
		syscall(SYS_openat, AT_FDCWD, "/dev/null", 0);
		_exit(3); /* not reached: the filter kills */
	}
	close(fds[1]);
	CU_ASSERT_EQUAL(read(fds[0], &c, 1), 1);
	CU_ASSERT_EQUAL(c, 'k');
	close(fds[0]);
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

UNIT_SUITE(keeld_elf, NULL, NULL, UNIT_TEST(test_keeld_elf_notes),
	   UNIT_TEST(test_keeld_elf_rejects_bad), UNIT_TEST(test_keeld_bzimage),
	   UNIT_TEST(test_keeld_unpack_helper), UNIT_TEST(test_keeld_unpack_malformed),
	   UNIT_TEST(test_keeld_unpack_sandbox))
