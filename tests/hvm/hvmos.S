/*
 * hvmos: Keel's small HVM test OS (tests/integration/hvm-os.sh).  SeaBIOS
 * boots it from QEMU's IDE disk (sector 0, which loads the rest with int
 * 13h) or from an El Torito CD-ROM (no emulation: SeaBIOS loads the whole
 * image, so the loader finds stage 2 already there).  Each check prints
 * "ok NAME ..." or "FAIL NAME why" on COM1 (QEMU's 16550 at 0x3f8):
 *
 *   16-bit real mode: COM1's scratch register written and read back (port
 *   ioreqs to QEMU); a sector written to the first hard disk with int 13h
 *   (LBA 40) and read back; PIT IRQ0 at 100 Hz (through the in-kernel PIC
 *   and the IOAPIC virtual wire) counted over 0.5 s of the ACPI PM timer;
 *   the RTC's time and registers B/D, its seconds advancing and register
 *   C's update-ended flag, its periodic interrupt on IRQ8 at 64 Hz
 *   counted over 0.5 s (keeld's RTC, as Xen's), CMOS byte
 *   0x3d (QEMU's boot order) matching the drive booted from.
 *   32-bit protected mode (flat, no paging): QEMU's HPET at 0xfed00000
 *   (MMIO ioreqs: its ID, the enable bit written and read back, the
 *   counter running); the LAPIC timer, periodic at 100 Hz on vector 0x60,
 *   counted over 0.5 s; QEMU's rtl8139 (an xl vif), if there is one,
 *   sends one broadcast frame from its own MAC (nic32); QEMU's edu
 *   device, if there is one, raises its interrupt by INTx and then by
 *   MSI, counted at its vector (edu32); a second vCPU, if there is one
 *   (smp32): the AP started with INIT and two SIPIs to APIC ID 2 into a
 *   real-mode trampoline copied to TRAMP, which takes it to the same flat
 *   32-bit mode on its own stack; it reports its LAPIC ID, loads the IDT,
 *   enables its LAPIC and counts SMP_IPIS fixed IPIs from the BSP, then
 *   sends one back to APIC ID 0 and idles (sti; hlt), "smp none" if no AP
 *   answers within 2 s of LAPIC ticks; coloured text on
 *   the VGA card's screen (vga32.S).  Then "hvmos: checks done", and "tick N" every
 *   50 LAPIC ticks for ever (hvm-os pauses and unpauses it), with events
 *   as they come: "nmi N" (an NMI, xl trigger nmi), "power-button" /
 *   "sleep-button sci-irr B" (PM1a's PWRBTN/SLPBTN_STS, enabled here,
 *   with B the SCI, IRQ 9, pending in the masked PIC's IRR; the bit is
 *   then cleared; TMR_EN is enabled too, and a "pm-timer-flip sci-irr B"
 *   would be its TMR_STS -- the 32-bit timer's top bit first flips after
 *   ~600 s, so hvm-os, far shorter, sees none), and at each tick line the CD-ROM's state by ATAPI
 *   (secondary master, PIO, no interrupt) when it changed: "cd-sense K"
 *   or "cd-ready blocks N" (xl cd-eject / cd-insert).
 *
 * The PM timer is read at 0xb008 (hvmloader selects ACPI_IOPORTS_LOCATION
 * 1, the 0xb000 block).  Assembled and linked at 0x7c00 as a flat image of
 * HVMOS_SECTORS sectors (tests/hvm/module.mk).
 */
#define HVMOS_SECTORS 16
#define STAGE2_MAGIC  0x534f4d56 /* "VMOS" */
#define COM1	      0x3f8
#define PM_TMR	      0xb008
#define PM1A_STS      0xb000
#define PM1A_EN	      0xb002
#define PWRBTN	      0x0100
#define ATA2_DATA     0x170 /* the secondary IDE channel: hdc, the CD-ROM */
#define ATA2_ERR      0x171
#define ATA2_BCL      0x174
#define ATA2_BCH      0x175
#define ATA2_DRV      0x176
#define ATA2_CMD      0x177
#define ATA2_CTL      0x376
#define SLPBTN	      0x0200
#define TMR_STS	      0x0001 /* PM1a_STS / PM1a_EN: the PM timer's top bit flipped */
#define PM_HALF_S     1789772 /* 0.5 s at 3.579545 MHz */
#define PM_1200MS     4295454
#define PM_1MS	      3580
#define IDE_LBA	      40
#define BUF	      0x1000 /* the sector buffer (below the image) */
#define IDT	      0x20000 /* the 32-bit IDT (256 gates, above the image) */
#define LAPIC	      0xfee00000
#define HPET	      0xfed00000
#define LAPIC_VEC     0x60
#define MSI_VEC	      0x41 /* edu's MSI (edu32) */
#define MSI_RAISES    4
#define EDU_ID	      0x11e81234 /* QEMU's edu: device 0x11e8, vendor 0x1234 */
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK   0x64
#define NIC_FRAME_LEN 64 /* nic32's one frame */
#define TRAMP	      0x10000 /* the AP's real-mode trampoline (SIPI vector 0x10) */
#define AP_STACK      0x1f000 /* the AP's stack top (below the IDT) */
#define AP_APIC_ID    2 /* vCPU 1: Xen's (and hvmloader's) APIC ID 2 */
#define IPI_VEC	      0x42 /* BSP -> AP */
#define IPI_BACK_VEC  0x43 /* AP -> BSP */
#define SMP_IPIS      4

/* Routines both modes share, assembled once as .code16 and once as
 * .code32 (16-bit pushes and counters are right in either):
 * PUTS_BODY, the NUL-terminated string at (e)si to COM1; DEC_BODY, %eax
 * in decimal. */
.macro PUTS_BODY
	push %ax
	push %dx
	mov $COM1, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	pop %dx
	pop %ax
	ret
.endm
.macro DEC_BODY
	pushal
	mov $10, %ecx
	xor %bx, %bx
1:	xor %edx, %edx
	div %ecx
	push %dx
	inc %bx
	test %eax, %eax
	jnz 1b
	mov $COM1, %dx
2:	pop %ax
	add $'0', %al
	out %al, %dx
	dec %bx
	jnz 2b
	popal
	ret
.endm

	.code16
	.text
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7c00, %sp
	ljmp $0, $1f
1:	sti
	cld
	mov %dl, boot_drive
	cmpl $STAGE2_MAGIC, stage2_magic /* a CD: SeaBIOS loaded it all */
	je stage2
	mov $(0x0200 + HVMOS_SECTORS - 1), %ax /* read sectors 2.. to 0x7e00 */
	mov $0x0002, %cx
	xor %dh, %dh
	mov $0x7e00, %bx
	int $0x13
	jc 2f
	cmpl $STAGE2_MAGIC, stage2_magic
	je stage2
2:	mov $msg_loadfail, %si
	call puts16
3:	hlt
	jmp 3b

puts16:
	PUTS_BODY

/* hex8_16: %al as two hex digits. */
hex8_16:
	push %ax
	push %dx
	mov $COM1, %dx
	push %ax
	shr $4, %al
	call 1f
	pop %ax
	call 1f
	pop %dx
	pop %ax
	ret
1:	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '0' - 10), %al
2:	out %al, %dx
	ret

dec16:
	DEC_BODY

msg_loadfail: .asciz "FAIL hvmos-load int 13h could not read stage 2\r\n"
boot_drive: .byte 0

	.org 510
	.byte 0x55, 0xaa

/* ---- stage 2 (sectors 2..) ---- */
stage2_magic: .long STAGE2_MAGIC

/* pm16: the PM timer in %eax. */
pm16:
	push %dx
	mov $PM_TMR, %dx
	in %dx, %eax
	pop %dx
	ret

/* wait16: halt until %ecx PM-timer ticks have passed (interrupts on). */
wait16:
	pushal
	call pm16
	mov %eax, %ebx
1:	hlt
	call pm16
	sub %ebx, %eax
	and $0xffffff, %eax
	cmp %ecx, %eax
	jb 1b
	popal
	ret

/* ok16/fail16: "ok "/"FAIL " then the string at %si. */
ok16:
	push %si
	mov $s_ok, %si
	call puts16
	pop %si
	jmp puts16
fail16:
	push %si
	mov $s_fail, %si
	call puts16
	pop %si
	incw nfail
	jmp puts16

/* cmos16: CMOS register %al into %al. */
cmos16:
	out %al, $0x70
	in $0x71, %al
	ret

/* cmosw16: CMOS register %al = %ah. */
cmosw16:
	out %al, $0x70
	mov %ah, %al
	out %al, $0x71
	ret

rtc_isr:
	incl %cs:rtc_ticks
	push %ax
	mov $0x0c, %al			/* read C: acknowledge */
	out %al, $0x70
	in $0x71, %al
	mov $0x20, %al
	out %al, $0xa0
	out %al, $0x20
	pop %ax
	iret

pit_isr:
	incl %cs:pit_ticks
	push %ax
	mov $0x20, %al
	out %al, $0x20
	pop %ax
	iret

stage2:
	mov $s_start, %si
	call puts16
	mov boot_drive, %al
	call hex8_16
	mov $s_crlf, %si
	call puts16

	/* COM1's scratch register: port ioreqs QEMU answers */
	mov $0x3ff, %dx
	mov $0xa5, %al
	out %al, %dx
	in %dx, %al
	mov %al, %bl
	mov $0x5a, %al
	out %al, %dx
	in %dx, %al
	mov %al, %bh
	cmp $0x5aa5, %bx
	jne 1f
	mov $s_scratch, %si
	call ok16
	jmp 2f
1:	mov $s_scratch, %si
	call fail16
2:	mov $s_crlf, %si
	call puts16

	/* IDE: int 13h extended write of LBA 40 of disk 0x80, read back */
	call pm16
	mov %eax, ide_stamp
	mov $BUF, %di
	mov $ide_text, %si
	mov $512, %cx
	rep movsb			/* the text and the stamp */
	mov ide_stamp, %eax
	mov %eax, BUF + 32
	movb $0x43, dap_op
	call ide_io
	jc 3f
	mov $BUF, %di			/* clear, read back, compare */
	xor %al, %al
	mov $512, %cx
	rep stosb
	movb $0x42, dap_op
	call ide_io
	jc 3f
	mov $BUF, %si
	mov $ide_text, %di
	mov $32, %cx
	repe cmpsb
	jne 4f
	mov ide_stamp, %eax
	cmp %eax, BUF + 32
	jne 4f
	mov $s_ide, %si
	call ok16
	mov $s_stamp, %si
	call puts16
	mov ide_stamp, %eax
	call dec16
	jmp 5f
3:	mov $s_ide, %si
	call fail16
	mov $s_ide_err, %si
	call puts16
	mov %ah, %al
	call hex8_16
	jmp 5f
4:	mov $s_ide, %si
	call fail16
	mov $s_ide_diff, %si
	call puts16
5:	mov $s_crlf, %si
	call puts16

	/* PIT: IRQ0 (vector 8, SeaBIOS's PIC base) at 100 Hz for 0.5 s */
	cli
	movw $pit_isr, 8 * 4
	movw $0, 8 * 4 + 2
	mov $0x34, %al			/* channel 0, lo/hi, mode 2 */
	out %al, $0x43
	mov $(11932 & 0xff), %al	/* 1193182 Hz / 100 */
	out %al, $0x40
	mov $(11932 >> 8), %al
	out %al, $0x40
	in $0x21, %al
	and $0xfe, %al
	out %al, $0x21
	movl $0, pit_ticks
	sti
	mov $PM_HALF_S, %ecx
	call wait16
	mov pit_ticks, %eax
	mov $s_pit, %si
	cmp $25, %eax
	jb 1f
	cmp $100, %eax
	ja 1f
	call ok16
	jmp 2f
1:	call fail16
2:	call dec16
	mov $s_ticks, %si
	call puts16

	/* RTC: registers B and D, the time, the seconds advancing */
1:	mov $0x0a, %al
	call cmos16
	test $0x80, %al			/* update in progress */
	jnz 1b
	mov $0x0b, %al
	call cmos16
	mov %al, rtc_b
	mov $0x0d, %al
	call cmos16
	mov %al, rtc_d
	mov $s_rtc_time, %si
	call puts16
	mov $0x32, %al			/* century: a CMOS byte (QEMU's) */
	call cmos16
	call hex8_16
	mov $9, %al
	call rtc_field
	mov $'-', %al
	mov $8, %ah
	call rtc_sep
	mov $'-', %al
	mov $7, %ah
	call rtc_sep
	mov $' ', %al
	mov $4, %ah
	call rtc_sep
	mov $':', %al
	mov $2, %ah
	call rtc_sep
	mov $':', %al
	mov $0, %ah
	call rtc_sep
	mov $s_crlf, %si
	call puts16
	mov $s_rtc_regs, %si
	cmpb $0x80, rtc_d		/* valid RAM and time */
	jne 1f
	testb $0x02, rtc_b		/* 24-hour mode, as SeaBIOS sets it */
	jz 1f
	call ok16
	jmp 2f
1:	call fail16
2:	mov rtc_b, %al
	call hex8_16
	mov $s_d, %si
	call puts16
	mov rtc_d, %al
	call hex8_16
	mov $s_crlf, %si
	call puts16
	mov $0x0c, %al			/* register C: clear its flags */
	call cmos16
	xor %al, %al
	call cmos16
	mov %al, %bl
	mov $PM_1200MS, %ecx
	call wait16
	mov $0x0c, %al			/* a second ended: UF */
	call cmos16
	mov %al, rtc_c
	xor %al, %al
	call cmos16
	mov $s_rtc_tick, %si
	cmp %al, %bl
	je 1f
	call ok16
	jmp 2f
1:	call fail16
2:	mov %bl, %al
	call hex8_16
	mov $s_arrow, %si
	call puts16
	xor %al, %al
	call cmos16
	call hex8_16
	mov $s_crlf, %si
	call puts16

	mov $s_rtc_uf, %si
	testb $0x10, rtc_c
	jz 1f
	call ok16
	jmp 2f
1:	call fail16
2:	mov rtc_c, %al
	call hex8_16
	mov $s_crlf, %si
	call puts16

	/* RTC periodic interrupts: 64 Hz on IRQ8 (vector 0x70, SeaBIOS's
	 * slave PIC base) for 0.5 s, each acknowledged by reading C */
	cli
	movw $rtc_isr, 0x70 * 4
	movw $0, 0x70 * 4 + 2
	mov $0x2a0a, %ax		/* register A: rate 10, 64 Hz */
	call cmosw16
	mov $0x420b, %ax		/* register B: PIE, 24-hour BCD */
	call cmosw16
	mov $0x0c, %al
	call cmos16
	in $0xa1, %al			/* unmask IRQ8 and the cascade */
	and $0xfe, %al
	out %al, $0xa1
	in $0x21, %al
	and $0xfb, %al
	out %al, $0x21
	movl $0, rtc_ticks
	sti
	mov $PM_HALF_S, %ecx
	call wait16
	cli
	mov $0x020b, %ax		/* PIE off */
	call cmosw16
	sti
	mov rtc_ticks, %eax
	mov $s_rtc_irq, %si
	cmp $16, %eax
	jb 1f
	cmp $64, %eax
	ja 1f
	call ok16
	jmp 2f
1:	call fail16
2:	call dec16
	mov $s_rtc_irq_n, %si
	call puts16

	/* CMOS 0x3d: QEMU's boot order, 3 (CD-ROM) or 2 (hard disk) first */
	mov $0x3d, %al
	call cmos16
	mov %al, %bl
	mov $2, %bh
	cmpb $0xe0, boot_drive
	jb 1f
	mov $3, %bh
1:	and $0x0f, %bl
	mov $s_bootorder, %si
	cmp %bh, %bl
	jne 1f
	call ok16
	jmp 2f
1:	call fail16
2:	mov %bl, %al
	call hex8_16
	mov $s_crlf, %si
	call puts16

	/* to 32-bit protected mode: the PIC masked, interrupts by the IDT */
	cli
	mov $0xff, %al
	out %al, $0x21
	out %al, $0xa1
	lgdtl gdt_desc
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $pm32

/* rtc_field: CMOS %al (BCD) as two digits. */
rtc_field:
	call cmos16
	jmp hex8_16
/* rtc_sep: the character %al, then CMOS register %ah. */
rtc_sep:
	push %dx
	mov $COM1, %dx
	out %al, %dx
	pop %dx
	mov %ah, %al
	jmp rtc_field

/* ide_io: the DAP's operation (0x42 read, 0x43 write) on disk 0x80. */
ide_io:
	mov dap_op, %ah
	xor %al, %al
	mov $0x80, %dl
	mov $dap, %si
	int $0x13
	ret

	.p2align 2
dap:	.byte 0x10, 0
	.word 1				/* sectors */
	.word BUF, 0			/* buffer offset, segment */
	.quad IDE_LBA
dap_op:	.byte 0
	.p2align 2
ide_stamp: .long 0
pit_ticks: .long 0
rtc_ticks: .long 0
nfail:	.word 0
rtc_b:	.byte 0
rtc_d:	.byte 0
rtc_c:	.byte 0
ide_text: .ascii "KEEL-HVMOS-SECTOR written by int"	/* 32 bytes, then the stamp */
	.fill 480, 1, 0x6b

	.p2align 3
gdt:	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt
idt_desc:
	.word 256 * 8 - 1
	.long IDT

s_start:	.asciz "hvmos: start, boot drive 0x"
s_crlf:		.asciz "\r\n"
s_ok:		.asciz "ok "
s_fail:		.asciz "FAIL "
s_scratch:	.asciz "port-ioreq COM1 scratch register written and read back"
s_ide:		.asciz "ide-int13 "
s_stamp:	.asciz "LBA 40 written and read back, stamp "
s_ide_err:	.asciz "int 13h error 0x"
s_ide_diff:	.asciz "the sector read back differs"
s_pit:		.asciz "pit-irq0 "
s_ticks:	.asciz " ticks at 100 Hz in 0.5 s\r\n"
s_rtc_time:	.asciz "rtc-time "
s_rtc_regs:	.asciz "rtc-regs B=0x"
s_d:		.asciz " D=0x"
s_rtc_tick:	.asciz "rtc-seconds 0x"
s_arrow:	.asciz " -> 0x"
s_rtc_uf:	.asciz "rtc-update-flag register C after a second 0x"
s_rtc_irq:	.asciz "rtc-irq8 "
s_rtc_irq_n:	.asciz " periodic interrupts at 64 Hz in 0.5 s\r\n"
s_bootorder:	.asciz "cmos-boot-order 0x"

.macro FLAT_DATA_SEGS	/* every data segment register: the flat 32-bit data descriptor */
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
.endm

	.code32
pm32:
	FLAT_DATA_SEGS
	mov $0x7c00, %esp
	mov $IDT, %edi			/* every gate: unexpected, but 0x60 */
	xor %ecx, %ecx
1:	mov $isr_unexpected, %eax
	cmp $LAPIC_VEC, %ecx
	jne 2f
	mov $isr_lapic, %eax
2:	cmp $2, %ecx			/* NMI: counted (xl trigger nmi) */
	jne 4f
	mov $isr_nmi, %eax
4:	cmp $0xff, %ecx
	jne 5f
	mov $isr_spurious, %eax
5:	cmp $MSI_VEC, %ecx
	jne 6f
	mov $isr_msi, %eax
6:	cmp $IPI_VEC, %ecx
	jne 7f
	mov $isr_ipi, %eax
7:	cmp $IPI_BACK_VEC, %ecx
	jne 3f
	mov $isr_ipi_back, %eax
3:	mov %eax, %edx
	and $0xffff, %eax
	or $(0x08 << 16), %eax
	and $0xffff0000, %edx
	or $0x8e00, %edx
	mov %eax, (%edi)
	mov %edx, 4(%edi)
	add $8, %edi
	inc %ecx
	cmp $256, %ecx
	jne 1b
	lidt idt_desc

	/* QEMU's HPET: MMIO ioreqs */
	mov HPET, %eax			/* vendor in bits 31:16 */
	shr $16, %eax
	cmp $0x8086, %eax
	jne 8f
	movl $1, HPET + 0x10		/* ENABLE_CNF */
	mov HPET + 0x10, %eax
	test $1, %eax
	jz 8f
	mov HPET + 0xf0, %ebx
	mov $PM_1MS, %ecx
	call wait32_poll
	mov HPET + 0xf0, %eax
	movl $0, HPET + 0x10
	cmp %ebx, %eax
	je 8f
	mov $s_hpet, %esi
	call ok32
	mov $s_hpet_ok, %esi
	call puts32
	jmp 9f
8:	mov $s_hpet, %esi
	call fail32
	mov $s_hpet_bad, %esi
	call puts32
	mov %eax, %eax
	call dec32
9:	mov $s_crlf, %esi
	call puts32

	/* the LAPIC timer: periodic, 100 Hz (1 GHz bus / 16 / 625000) */
	orl $0x1ff, LAPIC + 0xf0	/* enabled, spurious vector 0xff */
	movl $3, LAPIC + 0x3e0		/* divide by 16 */
	movl $(0x20000 | LAPIC_VEC), LAPIC + 0x320
	movl $0, lapic_ticks
	movl $625000, LAPIC + 0x380
	sti
	mov $PM_HALF_S, %ecx
	call wait32
	mov lapic_ticks, %eax
	mov $s_lapic, %esi
	cmp $25, %eax
	jb 1f
	cmp $100, %eax
	ja 1f
	call ok32
	jmp 2f
1:	call fail32
2:	call dec32
	mov $s_ticks, %esi
	call puts32

	call nic32
	call edu32
	call smp32
	call vga32

	mov $s_done, %esi
	call puts32
	movzwl nfail, %eax
	call dec32
	mov $s_failed, %esi
	call puts32

	/* the ACPI buttons' status bits enabled (xl trigger power|sleep),
	 * and the PM timer's (keeld then watches for its flip); the PIC
	 * stays masked, so the SCI only shows in its IRR */
	mov $PM1A_EN, %dx
	mov $(PWRBTN | SLPBTN | TMR_STS), %ax
	out %ax, %dx

	/* tick N every 50 LAPIC ticks, for ever; events as they come */
	xor %ebx, %ebx
	mov lapic_ticks, %edi
1:	hlt
	call events32
	mov lapic_ticks, %eax
	sub %edi, %eax
	cmp $50, %eax
	jb 1b
	add $50, %edi
	inc %ebx
	call cd32
	call vgakey32
	mov $s_tick, %esi
	call puts32
	mov %ebx, %eax
	call dec32
	mov $s_crlf, %esi
	call puts32
	jmp 1b

/* The ISRs return without iret: this host's KVM (PVM, ring 0 emulated)
 * cannot emulate iret outside real mode (KVM's emulator does real mode's
 * only; its log: internal error 17 at the iret).  Same privilege, so iret
 * is pop eip, cs, eflags: the frame becomes eflags, eip and popf + ret
 * do it (an interrupt after popf nests on the stack safely). */
isr_lapic:
	incl lapic_ticks
	movl $0, LAPIC + 0xb0		/* EOI */
isr_spurious:
	push %eax			/* eax, eip, cs, eflags */
	mov 4(%esp), %eax
	mov %eax, 8(%esp)		/* eax, eip, eip, eflags */
	mov 12(%esp), %eax
	mov %eax, 4(%esp)		/* eax, eflags, eip, eflags */
	pop %eax
	popfl
	ret $4
isr_nmi:
	incl nmi_count
	jmp isr_spurious
isr_msi:
	incl msi_count
	movl $0, LAPIC + 0xb0		/* EOI */
	jmp isr_spurious
isr_ipi:				/* on the AP: counted, unless */
	push %eax			/* it came to another LAPIC */
	mov LAPIC + 0x20, %eax
	shr $24, %eax
	cmp $AP_APIC_ID, %eax
	je 1f
	lock incl ipi_misrouted
	jmp 2f
1:	lock incl ap_ipis
2:	movl $0, LAPIC + 0xb0		/* EOI */
	pop %eax
	jmp isr_spurious
isr_ipi_back:				/* on the BSP */
	push %eax
	mov LAPIC + 0x20, %eax
	shr $24, %eax
	test %eax, %eax
	je 1f
	lock incl ipi_misrouted
	jmp 2f
1:	lock incl bsp_ipis
2:	movl $0, LAPIC + 0xb0		/* EOI */
	pop %eax
	jmp isr_spurious
isr_unexpected:
	mov $s_unexpected, %esi
	call puts32
1:	cli
	hlt
	jmp 1b

puts32:
	PUTS_BODY

dec32:
	DEC_BODY

ok32:
	push %esi
	mov $s_ok, %esi
	call puts32
	pop %esi
	jmp puts32
fail32:
	push %esi
	mov $s_fail, %esi
	call puts32
	pop %esi
	incw nfail
	jmp puts32

pm32_read:
	push %edx
	mov $PM_TMR, %dx
	in %dx, %eax
	pop %edx
	ret

/* wait32: halt until %ecx PM-timer ticks have passed; wait32_poll: the
 * same without halting (interrupts off). */
wait32:
	pushal
	call pm32_read
	mov %eax, %ebx
1:	hlt
	call pm32_read
	sub %ebx, %eax
	and $0xffffff, %eax
	cmp %ecx, %eax
	jb 1b
	popal
	ret
wait32_poll:
	pushal
	call pm32_read
	mov %eax, %ebx
1:	call pm32_read
	sub %ebx, %eax
	and $0xffffff, %eax
	cmp %ecx, %eax
	jb 1b
	popal
	ret

/* events32: "nmi N" when an NMI came since the last look; for a button
 * whose PM1a status bit is set, "power-button sci-irr B" or "sleep-button
 * sci-irr B" (and "pm-timer-flip sci-irr B" for TMR_STS) (B: IRQ 9, the SCI, in the slave PIC's IRR), then the bit
 * cleared (write 1), which lowers the SCI again. */
events32:
	pushal
	mov nmi_count, %eax
	cmp nmi_seen, %eax
	je 1f
	mov %eax, nmi_seen
	mov $s_nmi, %esi
	call puts32
	call dec32
	mov $s_crlf, %esi
	call puts32
1:	mov $PM1A_STS, %dx
	in %dx, %ax
	mov %ax, %bx
	mov $PWRBTN, %cx
	mov $s_power, %esi
	call button32
	mov $SLPBTN, %cx
	mov $s_sleep, %esi
	call button32
	mov $TMR_STS, %cx
	mov $s_tmr, %esi
	call button32
	popal
	ret
/* button32: %bx PM1a status, %cx the button's bit, %esi its name */
button32:
	test %cx, %bx
	jz 1f
	call puts32
	mov $0x0a, %al			/* OCW3: read the IRR */
	out %al, $0xa0
	in $0xa0, %al
	shr $1, %al
	and $1, %eax
	call dec32
	mov $s_crlf, %esi
	call puts32
	mov $PM1A_STS, %dx
	mov %cx, %ax
	out %ax, %dx
1:	ret

/* pci32_cfg: the address of bus 0 device %ebx's configuration register
 * %eax (function 0) to 0xcf8; %dx is left at 0xcfc for its data. */
pci32_cfg:
	push %ebx
	shl $11, %ebx
	or %ebx, %eax
	or $0x80000000, %eax
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	pop %ebx
	ret

/* hex8_32: %al as two hex digits on COM1. */
hex8_32:
	push %eax
	push %edx
	mov %al, %ah
	shr $4, %al
	call 1f
	mov %ah, %al
	call 1f
	pop %edx
	pop %eax
	ret
1:	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	mov $COM1, %dx
	out %al, %dx
	ret

/* nic32: QEMU's emulated rtl8139 (xl's vif, model rtl8139) sends one
 * broadcast frame: found on bus 0 by its PCI ID, I/O and bus mastering
 * on, reset, the transmitter enabled; the frame (its source the MAC in
 * IDR0-5, EtherType 0x88b5, a known payload) handed to transmit
 * descriptor 0 by address (TSAD0) and length (TSD0, OWN clear), which
 * QEMU reads from guest RAM and puts on its TAP; TSD0's TOK says it
 * went.  "ok nic-tx ... mac M", or "nic-tx none" without an rtl8139. */
nic32:
	pushal
	xor %ebx, %ebx
1:	xor %eax, %eax
	call pci32_cfg
	in %dx, %eax
	cmp $0x813910ec, %eax		/* Realtek 8139 */
	je 2f
	inc %ebx
	cmp $32, %ebx
	jb 1b
	mov $s_nic_none, %esi
	call puts32
	popal
	ret
2:	mov $0x04, %eax			/* command: I/O space, bus master */
	call pci32_cfg
	in %dx, %ax
	or $0x05, %ax
	out %ax, %dx
	mov $0x10, %eax			/* BAR0: the I/O base */
	call pci32_cfg
	in %dx, %eax
	and $0xfffc, %eax
	mov %eax, %ebp
	mov $s_nic_reset, %edi
	lea 0x37(%ebp), %edx		/* CR: reset, then transmitter on */
	mov $0x10, %al
	out %al, %dx
	mov $100000, %ecx
3:	in %dx, %al
	test $0x10, %al
	jz 4f
	loop 3b
	jmp 8f
4:	mov $0x04, %al
	out %al, %dx
	mov $nic_frame + 6, %edi	/* the source address: IDR0-5 */
	mov %ebp, %edx
	mov $6, %ecx
5:	in %dx, %al
	stosb
	inc %edx
	loop 5b
	lea 0x20(%ebp), %edx		/* TSAD0, then TSD0: go */
	mov $nic_frame, %eax
	out %eax, %dx
	lea 0x10(%ebp), %edx
	mov $NIC_FRAME_LEN, %eax
	out %eax, %dx
	mov $s_nic_tok, %edi
	mov $100000, %ecx
6:	in %dx, %eax
	test $0x8000, %eax		/* TOK */
	jnz 7f
	loop 6b
	jmp 8f
7:	mov $s_nic, %esi
	call ok32
	mov $s_nic_io, %esi
	call puts32
	mov %ebp, %eax
	xchg %al, %ah
	call hex8_32
	xchg %al, %ah
	call hex8_32
	mov $s_nic_mac, %esi
	call puts32
	mov $nic_frame + 6, %esi
	mov $6, %ecx
1:	lodsb
	call hex8_32
	cmp $1, %ecx
	je 2f
	mov $':', %al
	mov $COM1, %dx
	out %al, %dx
2:	loop 1b
	jmp 9f
8:	mov $s_nic, %esi
	call fail32
	mov %edi, %esi
	call puts32
9:	mov $s_crlf, %esi
	call puts32
	popal
	ret

/* cd32: the CD-ROM's state by ATAPI TEST UNIT READY, printed when it
 * changes: "cd-sense K" (the sense key: 2 not ready -- no medium, or
 * QEMU's first answer after a change --, 6 unit attention: the medium
 * changed) or, once ready, "cd-ready blocks N" from READ CAPACITY. */
cd32:
	pushal
	mov $atapi_tur, %esi
	call atapi32
	test %eax, %eax			/* a check condition: REQUEST SENSE */
	jz 2f				/* ends it (QEMU keeps a unit */
	mov %eax, %ebx			/* attention until then) */
	mov $atapi_sense, %esi
	mov $cd_capacity, %edi
	call atapi32
	mov %ebx, %eax
2:	cmp cd_state, %eax
	je 9f
	mov %eax, cd_state
	test %eax, %eax
	jz 1f
	mov $s_cd_sense, %esi
	call puts32
	call dec32
	jmp 8f
1:	mov $atapi_capacity, %esi
	mov $cd_capacity, %edi
	call atapi32
	mov $s_cd_ready, %esi
	call puts32
	mov cd_capacity, %eax		/* the last block, big-endian */
	bswap %eax
	inc %eax
	call dec32
8:	mov $s_crlf, %esi
	call puts32
9:	popal
	ret

/* ata2_wait32: the secondary channel's status once BSY is clear (bounded), in %al. */
ata2_wait32:
	push %ecx
	push %edx
	mov $ATA2_CMD, %dx
	mov $100000, %ecx
1:	in %dx, %al
	test $0x80, %al
	jz 2f
	loop 1b
2:	pop %edx
	pop %ecx
	ret

/* atapi32: the 12-byte packet at %esi to the secondary master by PIO with
 * its interrupt off (nIEN), the data it answers read into %edi (at most
 * 32 words).  %eax: 0 done, the sense key (error register 7:4) on a check
 * condition, 0xff if the drive never asked for the packet. */
atapi32:
	push %ecx
	push %edx
	push %esi
	push %edi
	cld
	mov $ATA2_CTL, %dx
	mov $0x02, %al
	out %al, %dx
	mov $ATA2_DRV, %dx
	mov $0xa0, %al
	out %al, %dx
	call ata2_wait32
	mov $ATA2_ERR, %dx		/* features: PIO */
	xor %al, %al
	out %al, %dx
	mov $ATA2_BCL, %dx		/* byte count 0x800 */
	out %al, %dx
	mov $ATA2_BCH, %dx
	mov $0x08, %al
	out %al, %dx
	mov $ATA2_CMD, %dx
	mov $0xa0, %al			/* PACKET */
	out %al, %dx
	call ata2_wait32
	test $0x01, %al
	jnz 3f
	test $0x08, %al
	jz 4f
	mov $ATA2_DATA, %dx
	mov $6, %ecx
	rep outsw
	mov $32, %ecx
1:	call ata2_wait32
	test $0x08, %al			/* DRQ: a word to read */
	jz 2f
	mov $ATA2_DATA, %dx
	in %dx, %ax
	stosw
	loop 1b
2:	test $0x01, %al			/* ERR: a check condition */
	jz 5f
3:	mov $ATA2_ERR, %dx
	in %dx, %al
	shr $4, %al
	movzbl %al, %eax
	jmp 6f
4:	mov $0xff, %eax
	jmp 6f
5:	xor %eax, %eax
6:	pop %edi
	pop %esi
	pop %edx
	pop %ecx
	ret

/* the frame nic32 sends: broadcast, its source filled in, EtherType
 * 0x88b5 (local experimental), then the payload hvm-os looks for */
	.p2align 2
nic_frame:
	.byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x88, 0xb5
	.ascii "KEEL-HVMOS-NIC one broadcast frame from rtl8139"
	.fill 64 - (. - nic_frame), 1, 0
atapi_tur:	.byte 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
atapi_capacity:	.byte 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
atapi_sense:	.byte 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0

	.p2align 2
cd_state: .long 0xffffffff
cd_capacity: .long 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
nmi_count: .long 0
msi_count: .long 0
edu_irq: .long 0
edu_apic: .long 0
nmi_seen: .long 0
lapic_ticks: .long 0
ap_started: .long 0
ap_apic: .long 0
ap_ipis: .long 0
ap_sent: .long 0
bsp_ipis: .long 0
ipi_misrouted: .long 0
icr_busy: .long 0
s_hpet:		.asciz "mmio-ioreq "
s_hpet_ok:	.asciz "QEMU's HPET: ID 0x8086, enabled and read back, counter runs"
s_hpet_bad:	.asciz "QEMU's HPET at 0xfed00000 did not answer as one: "
s_lapic:	.asciz "lapic-timer "
s_done:		.asciz "hvmos: checks done, failed "
s_failed:	.asciz "\r\n"
s_tick:		.asciz "tick "
s_nmi:		.asciz "nmi "
s_cd_sense:	.asciz "cd-sense "
s_cd_ready:	.asciz "cd-ready blocks "
s_power:	.asciz "power-button sci-irr "
s_sleep:	.asciz "sleep-button sci-irr "
s_tmr:		.asciz "pm-timer-flip sci-irr "
s_nic:		.asciz "nic-tx "
s_nic_none:	.asciz "nic-tx none: no rtl8139 on PCI bus 0\r\n"
s_nic_reset:	.asciz "the reset did not complete"
s_nic_tok:	.asciz "TSD0 shows no TOK: the frame did not go"
s_nic_io:	.asciz "rtl8139 at I/O port 0x"
s_nic_mac:	.asciz ", one 64-byte broadcast frame sent, source mac "
s_unexpected:	.asciz "FAIL hvmos an unexpected interrupt or exception in 32-bit mode\r\n"

#include "vga32.S"
#include "edu32.S"
#include "smp32.S"

	.org HVMOS_SECTORS * 512 - 1
	.byte 0
