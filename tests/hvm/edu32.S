/*
 * edu32 (included by hvmos.S, run in its flat 32-bit mode): interrupts
 * from QEMU's edu test device, by INTx and by MSI (keeld's
 * xendevicemodel_inject_msi); hvm-os.sh judges its lines.
 */
/* edu32: QEMU's edu device (hvm-os gives QEMU -device edu), if there is
 * one, raises its interrupt by INTx, then by MSI.  Found on bus 0 by its
 * PCI ID, memory decoding and bus mastering on (its MSI is a memory write
 * by the device), BAR0 as hvmloader placed it.  INTx (MSI off): its line
 * (config 0x3c, hvmloader's PCI link route, level-triggered in the ELCR)
 * pending in the masked PIC's IRR only while raised (a write to 0x60)
 * and not acknowledged (0x64): "ok edu-intx irq N ...".  MSI: the
 * capability programmed with 0xfee00000 | the BSP's APIC ID << 12 and
 * data MSI_VEC (fixed, edge), enabled; each of MSI_RAISES raises must
 * reach the IDT's MSI_VEC gate (isr_msi counts) within 0.5 s of LAPIC
 * ticks, and is then acknowledged: "ok edu-msi vector 0x41 ...
 * received N/4".  "edu none" without the device. */
edu32:
	pushal
	xor %ebx, %ebx
1:	xor %eax, %eax
	call pci32_cfg
	in %dx, %eax
	cmp $EDU_ID, %eax
	je 2f
	inc %ebx
	cmp $32, %ebx
	jb 1b
	mov $s_edu_none, %esi
	call puts32
	popal
	ret
2:	mov $0x04, %eax			/* command: memory space, bus master */
	call pci32_cfg
	in %dx, %ax
	or $0x06, %ax
	out %ax, %dx
	mov $0x10, %eax			/* BAR0: 1 MiB of MMIO */
	call pci32_cfg
	in %dx, %eax
	and $0xfffffff0, %eax
	mov %eax, %ebp
	mov $0x3c, %eax			/* the interrupt line hvmloader set */
	call pci32_cfg
	in %dx, %eax
	movzbl %al, %ecx
	mov %ecx, edu_irq
	/* INTx: the line's IRR bit before, raised, acknowledged: 0, 1, 0 */
	call edu_irr32
	mov %eax, %edi
	movl $1, EDU_IRQ_RAISE(%ebp)
	call edu_irr32
	shl $1, %edi
	or %eax, %edi
	movl $1, EDU_IRQ_ACK(%ebp)
	call edu_irr32
	shl $1, %edi
	or %eax, %edi
	mov $s_edu_intx, %esi
	cmp $2, %edi			/* 0b010 */
	jne 3f
	call ok32
	jmp 4f
3:	call fail32
4:	mov edu_irq, %eax
	call dec32
	mov $s_edu_irr, %esi
	call puts32
	mov %edi, %eax
	call dec32
	mov $s_crlf, %esi
	call puts32

	/* MSI: the capability (ID 5) in the list from 0x34 */
	mov $0x34, %eax
	call pci32_cfg
	in %dx, %eax
	movzbl %al, %edi
5:	test %edi, %edi
	jz 8f
	mov %edi, %eax
	and $0xfc, %eax
	call pci32_cfg
	in %dx, %eax
	cmp $0x05, %al
	je 6f
	movzbl %ah, %edi
	jmp 5b
6:	and $0xfc, %edi			/* %edi: the capability */
	mov %eax, %esi			/* its control word in bits 31:16 */
	lea 4(%edi), %eax		/* address: the BSP's APIC ID */
	call pci32_cfg
	mov LAPIC + 0x20, %eax
	shr $24, %eax
	mov %eax, edu_apic
	shl $12, %eax
	or $LAPIC, %eax
	out %eax, %dx
	lea 8(%edi), %eax		/* data at 0x8, or 0xc after a */
	test $0x800000, %esi		/* 64-bit address (upper half 0) */
	jz 7f
	call pci32_cfg
	xor %eax, %eax
	out %eax, %dx
	lea 0xc(%edi), %eax
7:	call pci32_cfg
	mov $MSI_VEC, %eax		/* fixed, edge */
	out %eax, %dx
	mov %edi, %eax			/* enable, one vector */
	call pci32_cfg
	mov %esi, %eax
	and $0xff8fffff, %eax
	or $0x10000, %eax
	out %eax, %dx
	/* MSI_RAISES raises, each awaited at the IDT */
	movl $0, msi_count
	xor %ecx, %ecx
1:	movl $1, EDU_IRQ_RAISE(%ebp)
	mov lapic_ticks, %ebx
2:	lea 1(%ecx), %eax
	cmp msi_count, %eax
	jbe 3f
	hlt
	mov lapic_ticks, %eax
	sub %ebx, %eax
	cmp $50, %eax
	jb 2b
3:	movl $1, EDU_IRQ_ACK(%ebp)
	inc %ecx
	cmp $MSI_RAISES, %ecx
	jb 1b
	mov $s_edu_msi, %esi
	cmpl $MSI_RAISES, msi_count
	jne 4f
	call ok32
	jmp 9f
4:	call fail32
	jmp 9f
8:	mov $s_edu_msi, %esi
	call fail32
	mov $s_edu_nocap, %esi
	call puts32
	jmp 10f
9:	mov $s_edu_vec, %esi
	call puts32
	mov edu_apic, %eax
	call hex8_32
	mov $s_edu_got, %esi
	call puts32
	mov msi_count, %eax
	call dec32
	mov $s_edu_of, %esi
	call puts32
10:	mov $s_crlf, %esi
	call puts32
	popal
	ret

/* edu_irr32: edu_irq's bit in the PIC's IRR (OCW3 read IRR), in %eax. */
edu_irr32:
	push %ecx
	push %edx
	mov edu_irq, %ecx
	mov $0x20, %dx
	cmp $8, %ecx
	jb 1f
	mov $0xa0, %dx
	sub $8, %ecx
1:	mov $0x0a, %al
	out %al, %dx
	in %dx, %al
	movzbl %al, %eax
	shr %cl, %eax
	and $1, %eax
	pop %edx
	pop %ecx
	ret

s_edu_none:	.asciz "edu none: no edu device on PCI bus 0\r\n"
s_edu_intx:	.asciz "edu-intx irq "
s_edu_irr:	.asciz " in the PIC's IRR (before, raised, acknowledged as bits 2-0): "
s_edu_msi:	.asciz "edu-msi "
s_edu_nocap:	.asciz "no MSI capability"
s_edu_vec:	.asciz "vector 0x41 to apic id 0x"
s_edu_got:	.asciz " received "
s_edu_of:	.asciz "/4"
