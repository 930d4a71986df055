# hvmos: Keel's small HVM test OS (tests/hvm/hvmos.S), a flat image linked at
# 0x7c00 that SeaBIOS boots from a disk or an El Torito CD (hvm-os.sh).
HVMOS_OBJ := $(OBJ)/guest/tests/hvm/hvmos.o
GUEST_IMAGES += $(GUESTS)/hvmos.img
$(HVMOS_OBJ): tests/hvm/hvmos.S tests/hvm/vga32.S tests/hvm/edu32.S tests/hvm/smp32.S
	@mkdir -p $(@D)
	$(CC) -m32 -c -o $@ $<
$(GUESTS)/hvmos.img: $(HVMOS_OBJ)
	@mkdir -p $(@D)
	$(LD) -m elf_i386 -Ttext=0x7c00 --oformat=binary -o $@ $<
	@test $$(stat -c %s $@) -eq 8192 || { echo "$@: not 16 sectors" >&2; rm -f $@; exit 1; }

# hvmbench: the boot sector tests/bench/hvm boots (tests/hvm/hvmbench.S),
# one sector linked at 0x7c00; built by make all, run only by make bench.
HVMBENCH_OBJ := $(OBJ)/guest/tests/hvm/hvmbench.o
GUEST_IMAGES += $(GUESTS)/hvmbench.img
$(HVMBENCH_OBJ): tests/hvm/hvmbench.S
	@mkdir -p $(@D)
	$(CC) -m32 -c -o $@ $<
$(GUESTS)/hvmbench.img: $(HVMBENCH_OBJ)
	@mkdir -p $(@D)
	$(LD) -m elf_i386 -Ttext=0x7c00 --oformat=binary -o $@ $<
	@test $$(stat -c %s $@) -eq 512 || { echo "$@: not one sector" >&2; rm -f $@; exit 1; }
