/*
 * Start of day for Keel's PV guest runtime: the Xen ELF notes a PV domain
 * builder reads, and the entry point (rsi = start_info, rsp = boot stack,
 * as Xen's x86_64 PV protocol sets them).
 */
#define ELFNOTE(type, desc_type, desc)                                                   \
	.pushsection .note.Xen, "a", @note;                                             \
	.align 4;                                                                        \
	.long 2f - 1f;                                                                   \
	.long 4f - 3f;                                                                   \
	.long type;                                                                      \
1:	.asciz "Xen";                                                                    \
2:	.align 4;                                                                        \
3:	desc_type desc;                                                                  \
4:	.align 4;                                                                        \
	.popsection

	ELFNOTE(6, .asciz, "Keel-runtime")		/* GUEST_OS */
	ELFNOTE(5, .asciz, "xen-3.0")			/* XEN_VERSION */
	ELFNOTE(3, .quad, 0xffffffff80000000)		/* VIRT_BASE */
	ELFNOTE(4, .quad, 0xffffffff80000000)		/* PADDR_OFFSET: paddr == vaddr */
	ELFNOTE(1, .quad, _start)			/* ENTRY */
	ELFNOTE(2, .quad, hypercall_page)		/* HYPERCALL_PAGE */
	ELFNOTE(10, .asciz, "!writable_page_tables")	/* FEATURES */
	ELFNOTE(8, .asciz, "generic")			/* LOADER */
	ELFNOTE(14, .long, 1)				/* SUSPEND_CANCEL (suspend.c) */

	.section .text.head, "ax"
	.globl _start
_start:
	cld
	mov %rsi, %rdi
	call rt_main
1:	jmp 1b

	.section .text.hcpage, "ax"
	.align 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xcc
