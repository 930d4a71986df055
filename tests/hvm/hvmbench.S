/*
 * hvmbench: the boot sector tests/bench/hvm boots from QEMU's IDE disk.
 * In real mode, interrupts off, it times HB_N iterations of one port
 * access per kind with the ACPI PM timer (keeld's, at 0xb008 once
 * hvmloader has moved it there; 3.579545 MHz), HB_ROUNDS rounds of all
 * kinds interleaved, and prints each loop's PM-timer ticks as a line
 * "hb K XXXXXXXX" (K the kind's letter, the ticks in hex) on Xen's debug
 * port 0xe9, which keeld puts in xl dmesg.  The kinds:
 *   e  an empty loop (the loop's own instructions: its overhead)
 *   k  in 0x21, the PIC's mask: answered by KVM's in-kernel PIC, no exit
 *      to user space
 *   n  in 0xe9: an exit to keeld that does nothing (reads back 0xe9)
 *   p  in 0xb008, the PM timer: answered by keeld (hvm_platform.c)
 *   r  in 0x71, RTC register A: answered by keeld (hvm_rtc.c)
 *   i  in 0x3ff, COM1's scratch register: an ioreq to QEMU and back
 *   o  out 0x3ff: the same, a write
 *   v  a word written to 0xb8000, the VGA text memory QEMU claims: a
 *      buffered ioreq (Xen's stdvga write), the vCPU not waiting; it
 *      follows the o loop, whose synchronous ioreqs had QEMU empty the
 *      ring, and its 500 writes fit the ring's 511 slots
 *   w  a word read from 0xb8000: the same MMIO exit, as a synchronous
 *      ioreq (reads never go buffered), so v against w is the gain
 * Then "hb done", and it halts.  One sector, linked at 0x7c00
 * (tests/hvm/module.mk).  The PM timer's port is the word at offset 508:
 * the bench patches in 0x608 (QEMU's PIIX4 under SeaBIOS) to run the same
 * sector under plain QEMU/KVM.
 */
#define HB_N	  500
#define HB_ROUNDS 5
	.equ PM_TMR, 0xb008 /* .equ: the TIMED macro's quoted arguments use them */
	.equ DEBUG, 0xe9

	.code16
	.text
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7c00, %sp
	ljmp $0, $1f
1:	cld
	mov $s_start, %si
	call puts
	mov $0x0a, %al /* the RTC's index: register A, for the r loops */
	out %al, $0x70
	movb $HB_ROUNDS, rounds

/* TIMED K, SETUP, INSN: SETUP once, then HB_N x INSN between two reads
 * of the PM timer; prints "hb K ticks". */
.macro TIMED k, setup, insn
	call pm_read
	mov %eax, %edi
	\setup
	mov $HB_N, %cx
1:	\insn
	loop 1b
	call pm_read
	sub %edi, %eax
	mov $\k, %bl
	call report
.endm
round:
	TIMED 'e', nop, nop
	TIMED 'k', nop, "in $0x21, %al"
	TIMED 'n', nop, "in $DEBUG, %al"
	TIMED 'p', "mov pm_port, %dx", "in %dx, %eax"
	TIMED 'r', nop, "in $0x71, %al"
	TIMED 'i', "mov $0x3ff, %dx", "in %dx, %al"
	TIMED 'o', "mov $0x3ff, %dx", "out %al, %dx"
	TIMED 'v', "mov $0xb800, %ax; mov %ax, %es; xor %di, %di; mov $0x0720, %ax", "mov %ax, %es:(%di)"
	TIMED 'w', "mov $0xb800, %ax; mov %ax, %es; xor %di, %di", "mov %es:(%di), %ax"
	decb rounds
	jnz round
	mov $s_done, %si
	call puts
2:	hlt
	jmp 2b

/* %eax = the PM timer */
pm_read:
	mov pm_port, %dx
	in %dx, %eax
	ret

/* "hb K XXXXXXXX\n": K from %bl, %eax in hex */
report:
	mov %eax, %edx
	mov $s_hb, %si
	call puts
	mov %bl, %al
	out %al, $DEBUG
	mov $' ', %al
	out %al, $DEBUG
	mov $8, %cx
1:	rol $4, %edx
	mov %dl, %al
	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	out %al, $DEBUG
	loop 1b
	mov $'\n', %al
	out %al, $DEBUG
	ret

/* the NUL-terminated string at %si to port 0xe9 */
puts:
	lodsb
	test %al, %al
	jz 1f
	out %al, $DEBUG
	jmp puts
1:	ret

s_start: .asciz "hb start\n"
s_done:	 .asciz "hb done\n"
s_hb:	 .asciz "hb "
rounds:	 .byte 0

	. = _start + 508
pm_port: .word PM_TMR /* at offset 508: the bench patches 0x608 in for QEMU's PIIX4 */
	.byte 0x55, 0xaa
