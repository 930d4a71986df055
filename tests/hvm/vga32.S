/*
 * vga32 (included by hvmos.S, run in its flat 32-bit mode): text on the
 * emulated card's screen (xl's vga=, QEMU's cirrus or stdvga), for
 * hvm-os.sh to find in QMP's screendump.  SeaBIOS leaves the card in
 * text mode 3 (80x25); the text buffer at 0xb8000 is in the legacy VGA
 * window, which QEMU serves as MMIO ioreqs.  Row 0 gets VGA_BANNER in
 * white on blue (attribute 0x1f); row 2, columns 0-7, one full block
 * (0xdb) each, in the colours of vga_attrs.  Then "vga-text written" on
 * COM1, which is what hvm-os waits for before it takes the screendump.
 *
 * vgakey32 (at each tick line): graphics through the linear framebuffer
 * of QEMU's std VGA (PCI 1234:1111; Bochs VBE at ports 0x1ce/0x1cf),
 * driven by keys hvm-os sends over QMP (PS/2, polled at 0x64/0x60: the
 * PIC is masked).  'a' (scancode 0x1e, or set 2's 0x1c): 640x480x8 with
 * the LFB on, VGA_RECTS rectangles in vga_set1's colours written at BAR 0
 * (as hvmloader programmed it), "vga-lfb drawn at 0xADDR" on COM1; 'b'
 * (0x30 / 0x32): the same rectangles in vga_set2's, "vga-lfb redrawn".
 * The LFB is QEMU's video RAM that keeld relocated to the BAR; plain RAM
 * writes, which QEMU only redraws when keeld's dirty log names them: at
 * 8 bits per pixel (a palette) QEMU draws the screen from the video RAM
 * page by page (at 32 it would show the video RAM itself).
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

#define VBE_INDEX 0x1ce
#define VBE_DATA  0x1cf
#define VGA_W	  640
#define VGA_H	  480
#define VGA_RECTS 4 /* 120x80 each, at x = 40 + 150 * i, y = 200 */

vgakey32:
	pushal
	in $0x64, %al
	test $1, %al
	jz 9f
	in $0x60, %al
	mov $vga_set1, %esi
	cmp $0x1e, %al
	je 1f
	cmp $0x1c, %al
	je 1f
	mov $vga_set2, %esi
	cmp $0x30, %al
	je 1f
	cmp $0x32, %al
	jne 9f
1:	xor %ebx, %ebx			/* the std VGA's BAR 0 */
2:	xor %eax, %eax
	call pci32_cfg
	in %dx, %eax
	cmp $0x11111234, %eax
	je 3f
	inc %ebx
	cmp $32, %ebx
	jb 2b
	mov $s_vga_none, %esi
	call puts32
	jmp 9f
3:	mov $0x10, %eax
	call pci32_cfg
	in %dx, %eax
	and $0xfffffff0, %eax
	mov %eax, %ebp
	/* 'b': the mode as 'a' left it (setting it again would clear and
	 * redraw all of the screen), only the rectangles written */
	cmp $vga_set1, %esi
	jne 4f
	/* VBE: disabled, 640x480x8, enabled with the LFB (0x41) */
	mov $vga_vbe, %edi
	mov $5, %ecx
2:	mov (%edi), %ax
	mov $VBE_INDEX, %dx
	out %ax, %dx
	mov 2(%edi), %ax
	mov $VBE_DATA, %dx
	out %ax, %dx
	add $4, %edi
	loop 2b
	/* the palette: DAC entries 1-7 (6-bit red, green, blue) */
	mov $0x3c8, %dx
	mov $1, %al
	out %al, %dx
	inc %dx
	mov $vga_dac, %edi
	mov $21, %ecx
3:	mov (%edi), %al
	out %al, %dx
	inc %edi
	loop 3b
4:
	/* the rectangles: 80 rows of 120 pixels each, colour from (%esi) */
	xor %ecx, %ecx
5:	movzbl (%esi,%ecx), %eax
	imul $150, %ecx, %edi
	lea 200 * VGA_W + 40(%ebp,%edi), %edi
	mov $80, %edx
6:	push %ecx
	push %edi
	mov $120, %ecx
	rep stosb
	pop %edi
	pop %ecx
	add $VGA_W, %edi
	dec %edx
	jnz 6b
	inc %ecx
	cmp $VGA_RECTS, %ecx
	jb 5b
	cmp $vga_set1, %esi
	mov $s_vga_drawn, %esi
	je 7f
	mov $s_vga_redrawn, %esi
7:	call puts32
	mov %ebp, %eax
	shr $24, %eax
	call hex8_32
	mov %ebp, %eax
	shr $16, %eax
	call hex8_32
	mov %ebp, %eax
	shr $8, %eax
	call hex8_32
	mov %ebp, %eax
	call hex8_32
	mov $s_crlf, %esi
	call puts32
9:	popal
	ret

/* foreground colours: light red, light green, light blue, yellow, white,
 * blue, red, brown (hvm-os.sh's table of their palette entries) */
vga_attrs:	.byte 0x0c, 0x0a, 0x09, 0x0e, 0x0f, 0x01, 0x04, 0x06
vga_banner:	.asciz "KEEL HVMOS VGA TEXT"
s_vga:		.asciz "vga-text written\r\n"
/* VBE index, value: ENABLE 0, XRES, YRES, BPP, ENABLE (on, LFB) */
vga_vbe:	.short 4, 0, 1, VGA_W, 2, VGA_H, 3, 8, 4, 0x41
/* DAC entries 1-7: red, green, blue, white, yellow, magenta, cyan */
vga_dac:	.byte 63, 0, 0, 0, 63, 0, 0, 0, 63, 63, 63, 63, 63, 63, 0, 63, 0, 63, 0, 63, 63
/* the rectangles' palette entries: red, green, blue, white; then
 * yellow, magenta, cyan, red */
vga_set1:	.byte 1, 2, 3, 4
vga_set2:	.byte 5, 6, 7, 1
s_vga_none:	.asciz "FAIL vga-lfb no std VGA (1234:1111) on bus 0\r\n"
s_vga_drawn:	.asciz "vga-lfb drawn at 0x"
s_vga_redrawn:	.asciz "vga-lfb redrawn at 0x"
