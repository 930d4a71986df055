/*
 * A tiny 32-bit HVM payload (tests/integration/hvm-hvmloader.sh builds it
 * as hvmloader is built: an ELF at 1 MiB, flat protected mode, paging
 * off): it asks for the hypercall page and makes hypercalls keeld must
 * refuse -- wild guest-physical pointers, an unknown number, a bad HVM
 * parameter -- then prints its verdict on port 0xe9 and powers off.
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
reason:
	.long 0
ok:	.asciz "hvm-badcalls: all refused\n"
bad:	.asciz "hvm-badcalls: FAIL\n"
