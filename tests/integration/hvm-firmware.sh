#!/usr/bin/env bash
# hvm-firmware: Debian's GRUB for BIOS, unmodified, in an HVM domain:
# grub-pc-bin's boot.img and a core.img grub-mkimage (grub-common) makes of
# its i386-pc modules, on a raw disk made here without loop devices or
# mounts: boot.img in sector 0 under an MBR partition table (the bytes
# grub-setup keeps from the disk, 0x1b8-0x1fd), core.img from sector 1
# (boot.img's kernel sector, 1 as shipped; diskboot's block list, which
# grub-mkimage fills, reads the rest), its grub.cfg in a memdisk inside
# core.img and an early config that puts GRUB's terminal on COM1.
# hvmloader -> SeaBIOS boot the disk from QEMU's IDE (boot="c"); GRUB
# draws its menu on QEMU's 16550 (the entry titles, found in the serial
# file), runs the default entry when its timeout ends: the entry echoes
# a marker and halts: a poweroff through QEMU's ACPI PM1a control,
# that QEMU turns into the device model's remote shutdown (poweroff); xl's
# monitor destroys the domain (on_poweroff's default).
# Not here: PXE.  QEMU's e1000 iPXE ROM triple-faults on this development
# host's KVM when its first interrupt arrives in its protected mode
# (after "sti; hlt" in its idle loop), under plain qemu-system-x86_64
# -enable-kvm as under Keel, before it sends a frame; under TCG it sends
# its DHCP requests.
# Then README.md's worked xl.cfg for installing Windows (the block after
# <!-- xlcfg:windows-install -->), as it stands but for its paths and
# bridge, with Keel's HVM test OS on the ISO in Windows's place: xl
# creates it (4096 MiB, e1000, stdvga, VNC, the USB tablet) and SeaBIOS
# boots the CD-ROM.
# keel-test: timeout 300
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
gpc=$(fetch_deb grub-pc-bin) || skip "cannot fetch grub-pc-bin"
gcommon=$(fetch_deb grub-common) || skip "cannot fetch grub-common"
mods=$gpc/usr/lib/grub/i386-pc
[ -f "$mods/boot.img" ] && [ -f "$mods/kernel.img" ] || fail "no i386-pc boot.img/kernel.img in grub-pc-bin ($mods)"
[ -x "$gcommon/usr/bin/grub-mkimage" ] || fail "no grub-mkimage in grub-common"
need_guest hvmos.img
command -v xorriso >/dev/null || skip "no xorriso (make deps installs it)"
hvm_bridge
hvm_qemu_dom0 --bridge "$br"

# GRUB's disk: its grub.cfg (two entries; the first, the default, echoes
# a marker and halts) in a memdisk, the serial terminal in the early config
mkdir -p "$KEEL_TMP/memdisk/boot/grub"
cat >"$KEEL_TMP/memdisk/boot/grub/grub.cfg" <<'CFG'
set default=0
set timeout=1
menuentry "Keel HVM: echo and halt" {
	echo KEEL-GRUB-DEFAULT-ENTRY
	halt
}
menuentry "Keel HVM: second entry" {
	echo KEEL-GRUB-SECOND-ENTRY
}
CFG
cat >"$KEEL_TMP/early.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
CFG
tar -C "$KEEL_TMP/memdisk" -cf "$KEEL_TMP/memdisk.tar" boot || fail "tar of the memdisk"
"$gcommon/usr/bin/grub-mkimage" -O i386-pc -d "$mods" -o "$KEEL_TMP/core.img" \
	-c "$KEEL_TMP/early.cfg" -m "$KEEL_TMP/memdisk.tar" -p '(memdisk)/boot/grub' \
	biosdisk part_msdos memdisk tar serial terminal echo halt normal 2>"$KEEL_TMP/mkimage.err" ||
	fail "grub-mkimage: $(cat "$KEEL_TMP/mkimage.err")"
# The disk: 4 MiB, one Linux partition from sector 2048 (as a partitioner
# leaves it), boot.img's code around it, core.img in the gap before it.
python3 - "$mods/boot.img" "$KEEL_TMP/core.img" "$KEEL_TMP/grub.img" <<'PY' || fail "making GRUB's disk"
import struct, sys
boot = bytearray(open(sys.argv[1], "rb").read())
core = open(sys.argv[2], "rb").read()
size = 4 << 20
assert len(boot) == 512 and boot[510:] == b"\x55\xaa", "boot.img is not a boot sector"
# boot.img's kernel sector (0x5c, 64 bits): where core.img's first sector is
assert struct.unpack_from("<Q", boot, 0x5c)[0] == 1, "boot.img's kernel sector is not 1"
# diskboot's block list (the last 12 bytes of core.img's first sector):
# start 2, the rest of core.img's sectors, loaded at segment 0x820
start, count, seg = struct.unpack_from("<QHH", core, 500)
assert (start, seg) == (2, 0x820) and count == (len(core) + 511) // 512 - 1, \
    "diskboot's block list: %d+%d at %#x for %d bytes" % (start, count, seg, len(core))
assert 1 + count < 2048, "core.img does not fit before the partition"
part = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", 2048, size // 512 - 2048)
boot[0x1b8:0x1fe] = struct.pack("<IH", 0x4b45454c, 0) + part + bytes(48)
with open(sys.argv[3], "wb") as f:
    f.write(boot + core)
    f.truncate(size)
PY

serial=$KEEL_TMP/grub-serial.txt
cat >"$KEEL_TMP/grub.cfg" <<CFG
name = "hvmgrub"
type = "hvm"
memory = 32
vcpus = 1
boot = "c"
vnc = 0
disk = [ '$KEEL_TMP/grub.img,raw,hda' ]
serial = [ "file:$serial" ]
CFG
hvm_clock
xl create -q "$KEEL_TMP/grub.cfg" || fail "xl create hvmgrub"
dg=$(xl domid hvmgrub) || fail "no domid for hvmgrub"
show() {
	xl dmesg | grep "(d$dg)" | tail -15
	tail -5 "$run/log/qemu-dm-hvmgrub.log"
	cat -v "$serial" | tail -c 2000
}
wait_for "xl dmesg | grep -q '(d$dg) Booting from Hard Disk'" 120 || { show; fail "SeaBIOS did not boot the disk"; }
echo "  $(since): SeaBIOS boots from the disk"

# GRUB's menu on COM1 (drawn with terminfo's escapes around the titles),
# then its default entry: the marker, then the poweroff
wait_for "grep -aq 'Keel HVM: second entry' '$serial'" 120 || { show; fail "GRUB's menu is not on COM1"; }
echo "  $(since): GRUB's menu on COM1"
grep -aq 'Keel HVM: echo and halt' "$serial" || fail "GRUB's menu lacks its first entry"
wait_for "grep -aq 'will be executed automatically in 1s' '$serial'" 30 || { show; fail "GRUB's menu shows no timeout"; }
wait_for "grep -aq KEEL-GRUB-DEFAULT-ENTRY '$serial'" 60 || { show; fail "GRUB did not run its default entry"; }
echo "  $(since): GRUB ran its default entry: $(tr -d '\r' <"$serial" | grep -ao "Booting \`Keel HVM: echo and halt'")"
wait_for "! xl list hvmgrub >/dev/null 2>&1" 60 || { show; xl list; fail "GRUB's halt did not power the domain off"; }
echo "  $(since): GRUB's halt powered hvmgrub off; xl's monitor destroyed it"
xl dmesg | grep -q "^d$dg: shutdown, reason 0" || fail "hvmgrub's shutdown was not a poweroff: $(xl dmesg | grep "^d$dg: shutdown")"
grep -q "Domain $dg has shut down, reason code 0 " "$run/log/xl-hvmgrub.log" ||
	fail "xl's monitor saw no poweroff: $(cat "$run/log/xl-hvmgrub.log")"
! grep -aq KEEL-GRUB-SECOND-ENTRY "$serial" || fail "GRUB ran its second entry too"

# README's Windows config, booting an ISO of hvmos from its CD-ROM
mkdir "$KEEL_TMP/iso" && cp "$KEEL_GUESTS/hvmos.img" "$KEEL_TMP/iso/" || fail "copying hvmos.img"
xorriso -as mkisofs -quiet -o "$KEEL_TMP/os.iso" -b hvmos.img -no-emul-boot -boot-load-size 4 \
	"$KEEL_TMP/iso" 2>"$KEEL_TMP/xorriso.err" || fail "xorriso: $(cat "$KEEL_TMP/xorriso.err")"
truncate -s 64M "$KEEL_TMP/win.img" || fail "making win.img"
readme_block xlcfg:windows-install |
	sed -e "s|/srv/keel/win.img|$KEEL_TMP/win.img|; s|/srv/iso/windows.iso|$KEEL_TMP/os.iso|; s|xenbr0|$br|" \
		>"$KEEL_TMP/win.cfg"
grep -q "^usbdevice = \"tablet\"" "$KEEL_TMP/win.cfg" || fail "no windows-install config in README"
hvm_clock
xl create "$KEEL_TMP/win.cfg" >"$KEEL_TMP/win.out" 2>&1 || fail "README's Windows config: $(cat "$KEEL_TMP/win.out")"
dw=$(xl domid win) || fail "no domain win"
wait_for "xl dmesg | grep -q '^(d$dw) Booting from DVD/CD'" 120 ||
	{ xl dmesg | grep "d$dw" | tail -20; fail "README's Windows config: SeaBIOS did not boot the CD-ROM"; }
xl list win | awk 'NR == 2 && $3 == 4096 { ok = 1 } END { exit !ok }' || fail "win: $(xl list win)"
echo "  $(since): README's Windows config: created (4096 MiB) and SeaBIOS booted its CD-ROM"
xl destroy win || fail "destroying win"

hvm_keeld_san_clean
cleanup_xl
echo "hvm-firmware: ok"
