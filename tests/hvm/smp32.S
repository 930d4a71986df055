/*
 * smp32 (included by hvmos.S): the second vCPU.  ap_tramp, 16-bit code
 * that smp32 copies below 1 MiB for the SIPI; icr32, smp32 on the BSP
 * and ap_pm32 on the AP, in hvmos's flat 32-bit mode; hvm-os.sh and
 * hvm-saverestore.sh judge its lines.
 */
	.code16
/* ap_tramp: the AP's first code, copied to TRAMP (SIPI vector TRAMP >>
 * 12: CS = TRAMP >> 4, IP = 0); only absolute addresses below 64 KiB,
 * so it runs anywhere: the BSP's GDT, then flat 32-bit mode at ap_pm32. */
ap_tramp:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl gdt_desc
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $ap_pm32
ap_tramp_end:

	.code32
/* icr32: an IPI by the ICR: destination APIC ID %eax (physical), the low
 * word %ebx (vector, delivery mode), then the delivery-status bit (12)
 * awaited (bounded: icr_busy counts sends it never cleared for). */
icr32:
	push %eax
	push %ecx
	shl $24, %eax
	mov %eax, LAPIC + 0x310
	mov %ebx, LAPIC + 0x300
	mov $100000, %ecx
1:	testl $0x1000, LAPIC + 0x300
	jz 2f
	loop 1b
	lock incl icr_busy
2:	pop %ecx
	pop %eax
	ret

/* smp32: the AP (vCPU 1, APIC ID 2), if there is one: ap_tramp copied to
 * TRAMP, INIT, 10 ms, SIPI, 200 us, SIPI; within 2 s (200 LAPIC ticks)
 * ap_pm32 says it started and which LAPIC ID it read: "ok smp: AP apic
 * id 0x02 started", else "smp none".  Then SMP_IPIS fixed IPIs at
 * IPI_VEC to it, each awaited (0.5 s) at its IDT gate on the AP: "ok smp:
 * BSP -> AP ipis 4/4"; the AP sends one back at IPI_BACK_VEC, counted
 * here: "ok smp: AP -> BSP ipi 1/1"; IPIs at the wrong LAPIC or ICR
 * sends that stayed busy fail as "FAIL smp: ...". */
smp32:
	pushal
	cld
	mov $ap_tramp, %esi
	mov $TRAMP, %edi
	mov $(ap_tramp_end - ap_tramp), %ecx
	rep movsb
	mov $AP_APIC_ID, %eax
	mov $0x4500, %ebx		/* INIT, level, assert */
	call icr32
	mov $(10 * PM_1MS), %ecx
	call wait32
	mov $(0x4600 | (TRAMP >> 12)), %ebx /* SIPI, the trampoline's page */
	call icr32
	mov $(PM_1MS / 5), %ecx
	call wait32_poll
	call icr32
	mov lapic_ticks, %ebx
1:	cmpl $0, ap_started
	jne 2f
	hlt
	mov lapic_ticks, %eax
	sub %ebx, %eax
	cmp $200, %eax
	jb 1b
	mov $s_smp_none, %esi
	call puts32
	popal
	ret
2:	mov $s_smp_ap, %esi
	cmpl $AP_APIC_ID, ap_apic
	jne 3f
	call ok32
	jmp 4f
3:	call fail32
4:	mov ap_apic, %eax
	call hex8_32
	mov $s_smp_started, %esi
	call puts32
	xor %ecx, %ecx			/* SMP_IPIS IPIs, each awaited */
5:	mov $AP_APIC_ID, %eax
	mov $IPI_VEC, %ebx		/* fixed, edge */
	call icr32
	mov lapic_ticks, %ebx
6:	lea 1(%ecx), %eax
	cmp ap_ipis, %eax
	jbe 7f
	hlt
	mov lapic_ticks, %eax
	sub %ebx, %eax
	cmp $50, %eax
	jb 6b
7:	inc %ecx
	cmp $SMP_IPIS, %ecx
	jb 5b
	mov $s_smp_ipis, %esi
	cmpl $SMP_IPIS, ap_ipis
	jne 1f
	call ok32
	jmp 2f
1:	call fail32
2:	mov ap_ipis, %eax
	call dec32
	mov $s_smp_of4, %esi
	call puts32
	mov lapic_ticks, %ebx		/* the AP's one IPI back */
1:	cmpl $0, bsp_ipis
	jne 2f
	hlt
	mov lapic_ticks, %eax
	sub %ebx, %eax
	cmp $50, %eax
	jb 1b
2:	mov $s_smp_back, %esi
	cmpl $1, bsp_ipis
	jne 1f
	call ok32
	jmp 2f
1:	call fail32
2:	mov bsp_ipis, %eax
	call dec32
	mov $s_smp_of1, %esi
	call puts32
	mov ipi_misrouted, %eax
	or icr_busy, %eax
	jz 9f
	mov $s_smp_bad, %esi
	call fail32
	mov ipi_misrouted, %eax
	call dec32
	mov $s_smp_busy, %esi
	call puts32
	mov icr_busy, %eax
	call dec32
	mov $s_crlf, %esi
	call puts32
9:	popal
	ret

/* ap_pm32: the AP from ap_tramp: its own stack, the IDT, its LAPIC ID
 * read for smp32, its LAPIC enabled (spurious vector 0xff), ap_started;
 * then it halts with interrupts on, and once SMP_IPIS IPIs came sends
 * one IPI back to APIC ID 0 (checked with interrupts off, so that none
 * slips in between the check and sti; hlt). */
ap_pm32:
	FLAT_DATA_SEGS
	mov $AP_STACK, %esp
	lidt idt_desc
	mov LAPIC + 0x20, %eax
	shr $24, %eax
	mov %eax, ap_apic
	orl $0x1ff, LAPIC + 0xf0
	movl $1, ap_started
1:	cli
	cmpl $SMP_IPIS, ap_ipis
	jb 2f
	cmpl $0, ap_sent
	jne 2f
	movl $1, ap_sent
	xor %eax, %eax
	mov $IPI_BACK_VEC, %ebx
	call icr32
2:	sti
	hlt
	jmp 1b

s_smp_none:	.asciz "smp none: no AP answered INIT/SIPI at apic id 0x02 within 2 s\r\n"
s_smp_ap:	.asciz "smp: AP apic id 0x"
s_smp_started:	.asciz " started\r\n"
s_smp_ipis:	.asciz "smp: BSP -> AP ipis "
s_smp_of4:	.asciz "/4\r\n"
s_smp_back:	.asciz "smp: AP -> BSP ipi "
s_smp_of1:	.asciz "/1\r\n"
s_smp_bad:	.asciz "smp: IPIs at the wrong LAPIC "
s_smp_busy:	.asciz ", ICR sends left busy "
