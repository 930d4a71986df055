/*
 * A tiny 32-bit HVM payload (tests/integration/hvm-hvmloader.sh builds it
 * as hvmloader is built: an ELF at 1 MiB, flat protected mode, paging
 * off): it asks for the hypercall page and makes hypercalls keeld must
 * refuse -- wild guest-physical pointers, an unknown number, a bad HVM
 * parameter, populate_physmap with wild, oversized or foreign arguments
 * or past max_pages (Xen's answers: 0 extents, or -EPERM), parameters a
 * guest may not set, and with paging on an unmapped virtual address and
 * one straddling into it (-EFAULT; a mapped one works) -- then prints its verdict on port 0xe9 and powers
 * off.
 */
	.code32
	.text
	.globl _start
_start:
	mov $0x90000, %esp
	mov $0x40000000, %ecx		/* Xen's hypercall MSR (CPUID 0x40000002) */
	mov $0x80000, %eax
	xor %edx, %edx
	wrmsr
	mov $1, %ebx			/* xen_version(extraversion, wild) */
	mov $0xdead0000, %ecx
	call 0x80000 + 17 * 32
	cmp $-14, %eax			/* -EFAULT */
	jne fail
	call 0x80000 + 60 * 32		/* no such hypercall */
	cmp $-38, %eax			/* -ENOSYS */
	jne fail
	mov $1, %ebx			/* hvm_op(get_param, wild) */
	mov $0xfffff000, %ecx
	call 0x80000 + 34 * 32
	cmp $-14, %eax
	jne fail
	mov $1, %ebx			/* hvm_op(get_param, index 1000) */
	mov $param_bad, %ecx
	call 0x80000 + 34 * 32
	cmp $-22, %eax			/* -EINVAL */
	jne fail
	mov $1, %ebx			/* hvm_op(get_param, STORE_PFN): works */
	mov $param_store, %ecx
	call 0x80000 + 34 * 32
	test %eax, %eax
	jne fail
	cmpl $0xfeffc, param_store + 8
	jne fail
	mov $9, %ebx			/* memory_op(memory_map, buffer wild) */
	mov $memmap_bad, %ecx
	call 0x80000 + 12 * 32
	cmp $-14, %eax
	jne fail
	mov $6, %ebx			/* memory_op(populate_physmap, wild): */
	mov $0xdead0000, %ecx		/* Xen answers 0 extents, not -EFAULT */
	call 0x80000 + 12 * 32
	test %eax, %eax
	jne fail
	mov $6, %ebx			/* populate_physmap, extent list wild */
	mov $resv_wild_list, %ecx
	call 0x80000 + 12 * 32
	test %eax, %eax
	jne fail
	mov $6, %ebx			/* populate_physmap, extent order 10 */
	mov $resv_order, %ecx
	call 0x80000 + 12 * 32
	test %eax, %eax
	jne fail
	mov $6, %ebx			/* populate_physmap, 2^31 extents */
	mov $resv_huge, %ecx
	call 0x80000 + 12 * 32
	test %eax, %eax
	jne fail
	mov $6, %ebx			/* populate_physmap for domain 5 */
	mov $resv_other, %ecx
	call 0x80000 + 12 * 32
	cmp $-1, %eax			/* -EPERM */
	jne fail
	mov $6, %ebx			/* a hole frame, but no room past max_pages */
	mov $resv_hole, %ecx
	call 0x80000 + 12 * 32
	test %eax, %eax
	jne fail
	mov $0, %ebx			/* hvm_op(set_param, STORE_PFN): the toolstack's */
	mov $param_store, %ecx
	call 0x80000 + 34 * 32
	cmp $-1, %eax			/* -EPERM */
	jne fail
	mov $0, %ebx			/* set_param(PAE_ENABLED): deprecated */
	mov $param_pae, %ecx
	call 0x80000 + 34 * 32
	cmp $-22, %eax			/* -EINVAL */
	jne fail
	mov $0, %ebx			/* set_param(ACPI_IOPORTS_LOCATION, 5) */
	mov $param_ioports, %ecx
	call 0x80000 + 34 * 32
	cmp $-22, %eax
	jne fail
	/* paging on: long mode's compatibility mode (this host's KVM takes
	 * no paging outside long mode), 0-4 MiB identity in two 2 MiB pages;
	 * pointers are now guest virtual addresses, translated under the
	 * guest's own page tables, and the hypercall ABI stays 32-bit */
	movl $pdpt + 3, pml4		/* PML4E 0 -> PDPT, present, writable */
	movl $pgdir + 3, pdpt		/* PDPTE 0 -> directory */
	movl $0x83, pgdir		/* PDE 0: 0-2 MiB, present, writable, 2M */
	movl $0x200083, pgdir + 8	/* PDE 1: 2-4 MiB */
	mov %cr4, %eax
	or $0x20, %eax			/* CR4.PAE */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax		/* CR0.PG: long mode, still 32-bit code */
	mov %eax, %cr0
	jmp 2f
2:	mov $1, %ebx			/* xen_version(extraversion, unmapped VA) */
	mov $0x00800000, %ecx
	call 0x80000 + 17 * 32
	cmp $-14, %eax			/* -EFAULT */
	jne fail
	mov $1, %ebx			/* a buffer straddling into unmapped VA */
	mov $0x003ffff8, %ecx
	call 0x80000 + 17 * 32
	cmp $-14, %eax
	jne fail
	mov $1, %ebx			/* mapped: works */
	mov $extra, %ecx
	call 0x80000 + 17 * 32
	test %eax, %eax
	jne fail
	cmpb $'.', extra		/* ".0-keel" */
	jne fail
	mov $ok, %esi
	call print
	mov $2, %ebx			/* sched_op(shutdown, poweroff) */
	mov $reason, %ecx
	call 0x80000 + 29 * 32
1:	hlt
	jmp 1b
fail:
	mov $bad, %esi
	call print
	jmp 1b
print:
	lodsb
	test %al, %al
	jz 2f
	out %al, $0xe9
	jmp print
2:	ret

	.data
	.align 8
param_bad:
	.word 0x7ff0, 0
	.long 1000
	.quad 0
param_store:
	.word 0x7ff0, 0
	.long 1
	.quad 0
memmap_bad:
	.long 8, 0xfff00000
param_pae:
	.word 0x7ff0, 0
	.long 4
	.quad 1
param_ioports:
	.word 0x7ff0, 0
	.long 19
	.quad 5
	/* 32-bit xen_memory_reservation: list, nr, order, flags, domid */
resv_wild_list:
	.long 0xdead0000, 1, 0, 0
	.word 0x7ff0, 0
resv_order:
	.long gfn_hole, 1, 10, 0
	.word 0x7ff0, 0
resv_huge:
	.long gfn_hole, 0x80000000, 0, 0
	.word 0x7ff0, 0
resv_other:
	.long gfn_hole, 1, 0, 0
	.word 5, 0
resv_hole:
	.long gfn_hole, 1, 0, 0
	.word 0x7ff0, 0
gfn_hole:
	.long 0xfc000
reason:
	.long 0
extra:
	.skip 16
	.align 4096
pgdir:
	.skip 4096
pdpt:
	.skip 4096
pml4:
	.skip 4096
ok:	.asciz "hvm-badcalls: all refused\n"
bad:	.asciz "hvm-badcalls: FAIL\n"
