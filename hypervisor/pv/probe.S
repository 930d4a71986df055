/*
 * pv-probe: a tiny long-mode kernel keeld runs to find out which privileged
 * instructions the PV shim needs work under this host's KVM (on nested or
 * software KVM some are emulated, some not at all).  Each step executes one
 * instruction family and reports through `out` to port 0xe0 with
 * rdi = name, rsi = 0 ok / 1 bad, rbx = measured TSC cycles (or 0).  An
 * unexpected exception reports its vector; a triple fault ends the VM and
 * keeld reports the step that was running.  sysretq comes last because it
 * is the one known to triple-fault under some emulators.
 * Identity mapped, ring 0, entered in 64-bit mode by keeld.
 */
#define PROBE_PORT 0xe0
#define KCS 0x08
#define KDS 0x10
#define UCS (0x28 | 3)
#define UDS (0x20 | 3)
#define TSSSEL 0x30
#define LOOPS 200

	.macro REPORT name, status, value
	lea \name(%rip), %rdi
	mov \status, %rsi
	mov \value, %rbx
	lea \name(%rip), %rax
	mov %rax, cur_step(%rip)
	out %al, $PROBE_PORT
	.endm

	.macro STEP name
	lea \name(%rip), %rax
	mov %rax, cur_step(%rip)
	.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	lea stack_top(%rip), %rsp
	/* Build the IDT: 32 exception gates to vec_stubs[i]. */
	lea idt(%rip), %rdi
	lea vec_stubs(%rip), %rsi
	xor %ecx, %ecx
1:	mov %rsi, %rax
	mov %ax, (%rdi)
	movw $KCS, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	add $16, %rdi
	add $16, %rsi
	inc %ecx
	cmp $32, %ecx
	jb 1b
	lea idt+0x82*16(%rip), %rdi
	lea int80_entry(%rip), %rsi
	call set_gate3
	lea idt+6*16(%rip), %rdi	/* #UD: the way back from ring 3 */
	lea ud_entry(%rip), %rsi
	call set_gate3
	lea idt+14*16(%rip), %rdi	/* #PF: counted and skipped (hole probes) */
	lea pf_entry(%rip), %rsi
	call set_gate3
	/* TSS descriptor: base = tss, limit 0x67, type 9 (available). */
	lea tss(%rip), %rax
	lea gdt+TSSSEL(%rip), %rdi
	movw $(104 + 8192), (%rdi)	/* TSS limit covers the I/O bitmap */
	mov %ax, 2(%rdi)
	shr $16, %rax
	mov %al, 4(%rdi)
	movb $0x89, 5(%rdi)
	movb $0, 6(%rdi)
	mov %ah, 7(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	lea exc_stack_top(%rip), %rax
	mov %rax, tss+4(%rip)		/* rsp0: apart from the main stack */
	/* I/O bitmap: every port closed to ring 3 except 0xe2. */
	movw $104, tss+102(%rip)
	lea tss+104(%rip), %rdi
	mov $8193, %ecx
	mov $0xff, %al
	rep stosb
	andb $~(1 << (0xe2 % 8)), tss+104+(0xe2 / 8)(%rip)

	STEP s_lgdt
	lgdt gdtr(%rip)
	mov $KDS, %ax
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %ds		/* null data segments: iretq to ring 3 */
	mov %ax, %es		/* may refuse DPL-0 ones */
	pushq $KCS
	lea 2f(%rip), %rax
	push %rax
	lretq
2:	REPORT s_lgdt, $0, $0

	STEP s_lidt
	lidt idtr(%rip)
	REPORT s_lidt, $0, $0

	STEP s_ltr
	mov $TSSSEL, %ax
	ltr %ax
	REPORT s_ltr, $0, $0

	STEP s_cr3
	mov %cr3, %rax
	mov %rax, %cr3
	REPORT s_cr3, $0, $0

	STEP s_invlpg
	invlpg (%rsp)
	REPORT s_invlpg, $0, $0

	/* wrmsr + rdmsr read-back of each MSR the shim programs. */
	STEP s_wrmsr
	xor %r12, %r12
	mov $0xc0000081, %ecx		/* STAR: syscall CS/SS, sysret base */
	mov $0, %eax
	mov $((0x18 << 16) | KCS), %edx
	call wrmsr_check
	mov $0xc0000082, %ecx		/* LSTAR */
	lea syscall_entry(%rip), %rax
	mov %rax, %rdx
	shr $32, %rdx
	call wrmsr_check
	mov $0xc0000084, %ecx		/* FMASK: clear IF, TF, DF, AC */
	mov $0x47700, %eax
	xor %edx, %edx
	call wrmsr_check
	mov $0xc0000101, %ecx		/* GS_BASE */
	mov $0x1000, %eax
	xor %edx, %edx
	call wrmsr_check
	mov $0xc0000102, %ecx		/* KERNEL_GS_BASE */
	mov $0x2000, %eax
	xor %edx, %edx
	call wrmsr_check
	REPORT s_wrmsr, %r12, $0

	STEP s_swapgs
	swapgs
	mov $0xc0000101, %ecx
	rdmsr
	xor %r12, %r12
	cmp $0x2000, %eax
	setne %r12b
	swapgs
	REPORT s_swapgs, %r12, $0

	/* Cost of emulated ring-0 code: LOOPS x 10 register instructions. */
	STEP s_ring0
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %ecx
3:	add $1, %rax
	add $1, %rax
	add $1, %rax
	add $1, %rax
	add $1, %rax
	add $1, %rax
	add $1, %rax
	add $1, %rax
	dec %ecx
	jnz 3b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	REPORT s_ring0, $0, %rdx

	/* Cost of one exit to keeld (an `out`), averaged. */
	STEP s_out
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %r14d
4:	out %al, $0xe2
	dec %r14d
	jnz 4b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	REPORT s_out, $0, %rdx

	/* iretq to ring 3; ring 3 does `int $0x82` LOOPS times (the handler
	 * returns with iretq), then `int $0x83` comes back to ring 0. */
	STEP s_iretq
	movq $0, sys_count(%rip)
	lea ring3_ud, %rax
	call enter_ring3
	REPORT s_iretq, $0, $0
	mov sys_count(%rip), %rax
	xor %r12, %r12
	cmp $LOOPS, %rax
	setne %r12b
	REPORT s_ud, %r12, r3_cycles(%rip)

	/* syscall from ring 3 to an LSTAR stub that executes ud2: the
	 * hypercall path if syscall itself does not reach ring 0. */
	STEP s_sysud
	movq $0, sys_count(%rip)
	lea ring3_sysud, %rax
	call enter_ring3
	mov sys_count(%rip), %rax
	xor %r12, %r12
	cmp $LOOPS, %rax
	setne %r12b
	REPORT s_sysud, %r12, r3_cycles(%rip)

	/* syscall from ring 3: where does it land, and in which ring? */
	STEP s_syscall
	lea ring3_syscall, %rax
	call enter_ring3
	xor %r12, %r12
	cmpq $0x08, sys_cs(%rip)
	setne %r12b
	REPORT s_syscall, %r12, sys_cs(%rip)

	/* hlt: expect an exit to keeld (no interrupts pending). */
	/* A ring-3 `out` the TSS I/O bitmap allows: one exit to keeld. */
	STEP s_out3
	lea ring3_out, %rax
	call enter_ring3
	REPORT s_out3, $0, r3_cycles(%rip)

	/* A ring-3 store to guest-physical memory with no memory slot (the
	 * page at 8 MiB maps 1 GiB): an MMIO exit to keeld. */
	STEP s_mmio3
	lea ring3_mmio, %rax
	call enter_ring3
	REPORT s_mmio3, $0, r3_cycles(%rip)

	/* Ring-3 reads in the hypervisor hole: slot 258 (where keeld maps
	 * the M2P) and slot 256 (Xen's M2P address); keeld maps both to the
	 * same frame, user-readable. */
	STEP s_slot258
	movq $0, pf_count(%rip)
	lea ring3_slot258, %rax
	call enter_ring3
	xor %r12, %r12
	cmpq $0, pf_count(%rip)
	setne %r12b
	REPORT s_slot258, %r12, $0
	STEP s_slot256
	movq $0, pf_count(%rip)
	lea ring3_slot256, %rax
	call enter_ring3
	xor %r12, %r12
	cmpq $0, pf_count(%rip)
	setne %r12b
	REPORT s_slot256, %r12, $0

	STEP s_int80
	movq $0, sys_count(%rip)
	lea ring3_int, %rax
	call enter_ring3
	mov sys_count(%rip), %rax
	xor %r12, %r12
	cmp $LOOPS, %rax
	setne %r12b
	REPORT s_int80, %r12, r3_cycles(%rip)

	STEP s_hlt
	hlt
	REPORT s_hlt, $0, $0

	/* sysretq last: ring 0 -> ring 3 via sysret; ring 3 does int $0x83. */
	STEP s_sysretq
	mov %rsp, saved_rsp(%rip)
	lea ring3_done(%rip), %rcx
	mov $0x2, %r11
	lea user_stack_top(%rip), %rsp
	sysretq
	lea s_done(%rip), %rdi
	mov $2, %rsi
	xor %rbx, %rbx
	out %al, $PROBE_PORT
5:	hlt
	jmp 5b

/* wrmsr ecx <- edx:eax, read back; r12 |= mismatch. */
wrmsr_check:
	mov %eax, %r8d
	mov %edx, %r9d
	wrmsr
	rdmsr
	cmp %eax, %r8d
	jne 6f
	cmp %edx, %r9d
	jne 6f
	ret
6:	or $1, %r12
	ret

/* Enter ring 3 at %rax with iretq; returns when ring 3 does int $0x83. */
enter_ring3:
	mov %rsp, saved_rsp(%rip)
	pushq $UDS
	lea user_stack_top(%rip), %rcx
	push %rcx
	pushq $0x2
	pushq $UCS
	push %rax
	iretq
back_in_ring0:
	mov saved_rsp(%rip), %rsp
	ret

set_gate3:
	mov %rsi, %rax
	mov %ax, (%rdi)
	movw $KCS, 2(%rdi)
	movw $0xee00, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	ret

ring3_int:
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %r14d
7:	int $0x82
	dec %r14d
	jnz 7b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	mov %rdx, r3_cycles(%rip)
ring3_done:
	ud2
8:	jmp 8b

ring3_ud:
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %r14d
ud_loop:
	ud2
	dec %r14d
	jnz ud_loop
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	mov %rdx, r3_cycles(%rip)
	jmp ring3_done

ring3_sysud:
	movq $1, sys_mode(%rip)
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %r14d
1:	syscall
	dec %r14d
	jnz 1b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	mov %rdx, r3_cycles(%rip)
	movq $0, sys_mode(%rip)
	jmp ring3_done

/* #UD from ring 3: at ud_loop count and skip it; at the LSTAR stub
 * (sys_mode 1) count and return to the syscall's rcx; else go back. */
ud_entry:
	lea ud_loop(%rip), %rax
	cmp %rax, (%rsp)
	je 2f
	lea syscall_ud(%rip), %rax
	cmp %rax, (%rsp)
	je 3f
	jmp back_in_ring0
2:	incq sys_count(%rip)
	addq $2, (%rsp)
	iretq
3:	incq sys_count(%rip)
	mov %rcx, (%rsp)
	iretq

ring3_out:
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %r14d
1:	out %al, $0xe2
	dec %r14d
	jnz 1b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	mov %rdx, r3_cycles(%rip)
	jmp ring3_done

ring3_mmio:
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $LOOPS, %r14d
1:	movb %al, 0x800000
	dec %r14d
	jnz 1b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	mov %rdx, r3_cycles(%rip)
	jmp ring3_done

ring3_slot258:
	movabs 0xffff810000000000, %rax
	jmp ring3_done
ring3_slot256:
	movabs 0xffff800000000000, %rax
	jmp ring3_done

/* #PF from a hole probe: count it, skip the 10-byte movabs. */
pf_entry:
	incq pf_count(%rip)
	add $8, %rsp
	addq $10, (%rsp)
	iretq

ring3_syscall:
	syscall
	ud2

int80_entry:
	incq sys_count(%rip)
	iretq


/* syscall entry: record the CS it runs with, go back with int $0x83. */
syscall_entry:
	cmpq $1, sys_mode(%rip)
	je syscall_ud
	mov %cs, %rax
	mov %rax, sys_cs(%rip)
syscall_ud:
	ud2

/* Exception stubs: report vector (rsi = 0x100 | vector) and stop. */
	.align 16
vec_stubs:
	.set v, 0
	.rept 32
	.align 16
	mov $(0x100 + v), %esi
	jmp vec_common
	.set v, v + 1
	.endr
vec_common:
	mov cur_step(%rip), %rdi
	mov (%rsp), %rbx		/* error code or rip */
	mov 8(%rsp), %rcx
	mov 16(%rsp), %rdx
	out %al, $PROBE_PORT
10:	hlt
	jmp 10b

	.section .rodata
	.align 16
s_lgdt: .asciz "lgdt+lretq"
s_lidt: .asciz "lidt"
s_ltr: .asciz "ltr"
s_cr3: .asciz "mov-cr3"
s_invlpg: .asciz "invlpg"
s_wrmsr: .asciz "wrmsr/rdmsr STAR LSTAR FMASK GS_BASE KERNEL_GS_BASE"
s_swapgs: .asciz "swapgs"
s_ring0: .asciz "ring0-insn-x1600"
s_out: .asciz "out-exit-x200"
s_iretq: .asciz "iretq-to-ring3"
s_syscall: .asciz "syscall-from-ring3-enters-ring0 (value = CS at LSTAR)"
s_out3: .asciz "out-from-ring3-via-iobitmap-x200"
s_mmio3: .asciz "mmio-store-from-ring3-x200"
s_slot258: .asciz "ring3-read-hole-slot-258"
s_slot256: .asciz "ring3-read-hole-slot-256 (Xen's M2P address)"
s_int80: .asciz "int0x82-from-ring3+iretq-roundtrip-x200"
s_ud: .asciz "ud2-from-ring3+iretq-roundtrip-x200"
s_sysud: .asciz "syscall+ud2-at-LSTAR+iretq-roundtrip-x200"
s_hlt: .asciz "hlt"
s_sysretq: .asciz "sysretq"
s_done: .asciz "done"
s_syscr3: .asciz "cr3-in-syscall-entry"
s_syscs: .asciz "cs-in-syscall-entry"
s_sysss: .asciz "ss-in-syscall-entry"

	.section .data
	.align 16
gdt:	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 kernel code 64 */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cffa000000ffff	/* 0x18 user code 32 (sysret base) */
	.quad 0x00cff2000000ffff	/* 0x20 user data */
	.quad 0x00affa000000ffff	/* 0x28 user code 64 */
	.quad 0, 0			/* 0x30 TSS */
gdt_end:
gdtr:	.word gdt_end - gdt - 1
	.quad gdt
	.align 16
idtr:	.word 256 * 16 - 1
	.quad idt
cur_step: .quad 0
saved_rsp: .quad 0
sys_count: .quad 0
pf_count: .quad 0
sys_mode: .quad 0
r3_cycles: .quad 0
sys_cs: .quad 0
sys_cr3: .quad 0
sys_ss: .quad 0

	.section .bss
	.align 4096
idt:	.space 256 * 16
	.align 16
tss:	.space 104 + 8192 + 1
	.align 4096
	.space 8192
stack_top:
	.space 8192
user_stack_top:
	.space 8192
exc_stack_top:
