/*
 * vga32 (included by hvmos.S, run in its flat 32-bit mode): text on the
 * emulated card's screen (xl's vga=, QEMU's cirrus or stdvga), for
 * hvm-os.sh to find in QMP's screendump.  SeaBIOS leaves the card in
 * text mode 3 (80x25); the text buffer at 0xb8000 is in the legacy VGA
 * window, which QEMU serves as MMIO ioreqs.  Row 0 gets VGA_BANNER in
 * white on blue (attribute 0x1f); row 2, columns 0-7, one full block
 * (0xdb) each, in the colours of vga_attrs.  Then "vga-text written" on
 * COM1, which is what hvm-os waits for before it takes the screendump.
 */
#define VGA_TEXT 0xb8000
#define VGA_ROW	 160 /* bytes per text row */

vga32:
	push %eax
	push %ecx
	push %esi
	push %edi
	mov $VGA_TEXT, %edi
	mov $vga_banner, %esi
1:	lodsb
	test %al, %al
	jz 2f
	mov $0x1f, %ah
	mov %ax, (%edi)
	add $2, %edi
	jmp 1b
2:	mov $VGA_TEXT + 2 * VGA_ROW, %edi
	mov $vga_attrs, %esi
	mov $8, %ecx
3:	lodsb
	mov %al, %ah
	mov $0xdb, %al
	mov %ax, (%edi)
	add $2, %edi
	loop 3b
	mov $s_vga, %esi
	call puts32
	pop %edi
	pop %esi
	pop %ecx
	pop %eax
	ret

/* foreground colours: light red, light green, light blue, yellow, white,
 * blue, red, brown (hvm-os.sh's table of their palette entries) */
vga_attrs:	.byte 0x0c, 0x0a, 0x09, 0x0e, 0x0f, 0x01, 0x04, 0x06
vga_banner:	.asciz "KEEL HVMOS VGA TEXT"
s_vga:		.asciz "vga-text written\r\n"
