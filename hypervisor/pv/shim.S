/*
 * The PV shim's code, placed by keeld at SHIM_VIRT (Xen's hypervisor hole).
 * Page 0 is the only page a guest may execute (it runs at ring 3): the
 * LSTAR target.  The rest is ring 0: one stub per exception vector and the
 * loop that applies page-table writes keeld validated.  Each path ends in a
 * single `out` to keeld; see pv_layout.h for why so little runs here.
 */
#define PV_PORT_HYPERCALL 0xe1
#define PV_PORT_EXCEPTION 0xe3
#define PV_PORT_APPLIED 0xe4

	.section .text.user, "ax"
	.globl shim_syscall_entry
shim_syscall_entry:
	/* A guest `syscall` lands here still in ring 3 (see pv-probe):
	 * rcx = return rip, r11 = rflags, eax = hypercall number. */
	out %al, $PV_PORT_HYPERCALL
	ud2

	/* SHIM_VIRT + 0x10: the bare ring 3 -> ring 0 -> ring 3 trip that
	 * tests/bench/pv measures as its floor: the #UD here is answered in
	 * ring 0 by skipping it (no exit to keeld), then `ret`. */
	.org 0x10
	.globl shim_null_trip
shim_null_trip:
	ud2
	ret

	.section .text, "ax"
	/* Exception stubs, 16 bytes apart: vector v at shim_vectors + 16*v.
	 * Vectors with a hardware error code skip the dummy push. */
	.align 16
	.globl shim_vectors
shim_vectors:
	.set v, 0
	.rept 32
	.align 16
	.if v == 6
	jmp shim_ud
	.elseif (v == 8) || (v >= 10 && v <= 14) || (v == 17) || (v == 21) || (v == 29) || (v == 30)
	pushq $v
	.else
	pushq $0
	pushq $v
	.endif
	out %al, $PV_PORT_EXCEPTION
	ud2
	.set v, v + 1
	.endr

	/* rdi = list of {virtual address, value}, rsi = count. */
	.align 16
	.globl shim_apply
shim_apply:
	test %rsi, %rsi
	jz 2f
1:	mov (%rdi), %rax
	mov 8(%rdi), %rcx
	mov %rcx, (%rax)
	add $16, %rdi
	dec %rsi
	jnz 1b
2:	mov %cr3, %rax
	mov %rax, %cr3
	out %al, $PV_PORT_APPLIED
	ud2

	/* The same, returning straight to the guest: keeld left its rdi, rsi,
	 * rax, rcx and an iret frame on this stack (one KVM_RUN instead of
	 * two for an MMU hypercall). */
	.globl shim_apply_iret
shim_apply_iret:
	test %rsi, %rsi
	jz 2f
1:	mov (%rdi), %rax
	mov 8(%rdi), %rcx
	mov %rcx, (%rax)
	add $16, %rdi
	dec %rsi
	jnz 1b
2:	mov %cr3, %rax
	mov %rax, %cr3
	pop %rdi
	pop %rsi
	pop %rax
	pop %rcx
	iretq

	/* #UD: the null trip is handled here; anything else goes to keeld. */
shim_ud:
	push %rax
	lea shim_null_trip(%rip), %rax
	cmp %rax, 8(%rsp)
	pop %rax
	jne 1f
	addq $2, (%rsp)
	iretq
1:	pushq $0
	pushq $6
	out %al, $PV_PORT_EXCEPTION
	ud2

