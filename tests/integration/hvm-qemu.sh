#!/usr/bin/env bash
# hvm-qemu: an HVM domain boots from a disk QEMU emulates.  xl create
# type="hvm" with disk = [ raw image at hda ] and serial = "file:..."
# hands both to Debian's unmodified qemu-system-xen (the device model, as
# libxl does: -drive if=ide, -serial); SeaBIOS, after the floppy, finds
# QEMU's IDE disk (ATA through ioreqs: port I/O, PCI configuration),
# reads its boot sector and runs it, and the boot sector's text, written
# to COM1 (port 0x3f8, QEMU's 16550), lands in the serial file.  A disk
# Keel's device model cannot place (a vdev past hdd) is refused by xl.
# The disk's vbd nodes are keel-blkback's, which holds the image only
# read-only in InitWait, lets it go at xl destroy, and the nodes go too.
# Its vif (model=e1000, vifname=) is QEMU's e1000 on a TAP that xl renames
# NAME-emu (as vif-bridge does), puts on the bridge and brings up; xl
# destroy takes the TAP away.  The domain has 3968 MiB (RAM above 4 GiB):
# QEMU populates the frames of the e1000's iPXE ROM past it, SeaBIOS runs
# the ROM.  A vif on a bridge that does not exist fails
# xl create and leaves no domain and no TAP.  keel-dom0-down with the
# domain running again stops its QEMU too.  The display: vga="stdvga",
# videoram=16, vnc=0 as libxl's arguments (no VNC: xl vncviewer refused);
# bad display keys (too little videoram, vga="ega"/"qxl", a display
# in vnclisten= and vncdisplay=) fail xl create with xl's/libxl's messages;
# without vga=/videoram= (the second domain) libxl's cirrus with 8 MiB.
# The device model and platform keys, as libxl's: device_model_override=
# names a wrapper that records its arguments and runs the real QEMU;
# usb=1 and usbdevice="tablet" are -usb -usbdevice tablet (QMP shows the
# PIIX3 UHCI controller in query-pci and the tablet in query-mice);
# device_model_args= (a usb-kbd) comes before -machine xenfv and
# device_model_args_hvm= (-uuid, which query-uuid returns) right after it;
# hpet=0 is -no-hpet (QEMU is the HPET here: the machine's hpet is off).
# An unknown usbdevice= is QEMU's to refuse, as with libxl: xl create
# fails with QEMU's words and leaves no domain.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
hvm_bridge
hvm_qemu_dom0 --bridge "$br"
mac=00:16:3e:4b:45:02 vifname=khq$$
# A boot sector: ds = 0, then each byte of its message out to port 0x3f8,
# then hlt forever.  1 MiB image, the sector first, 0x55 0xaa at 510.
python3 - "$KEEL_TMP/disk.img" <<'PY' || fail "making the boot sector"
import sys
msg = b"KEEL-HVM-BOOTSECTOR via QEMU IDE\r\n\0"
code = bytes([0xfc, 0x31, 0xc0, 0x8e, 0xd8, 0xbe, 0x16, 0x7c, 0xba, 0xf8, 0x03,
              0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xf4, 0xeb, 0xfd])
assert len(code) == 0x16
sector = (code + msg).ljust(510, b"\0") + b"\x55\xaa"
with open(sys.argv[1], "wb") as f:
    f.write(sector.ljust(1 << 20, b"\0"))
PY
serial=$KEEL_TMP/serial.txt
cat >"$KEEL_TMP/bad.cfg" <<CFG
name = "hvmbad"
type = "hvm"
memory = 32
disk = [ 'format=raw,vdev=hde,access=rw,target=$KEEL_TMP/disk.img' ]
CFG
xl create -q "$KEEL_TMP/bad.cfg" 2>"$KEEL_TMP/bad.err" && fail "xl accepted an HVM disk at hde"
grep -q "hda..hdd" "$KEEL_TMP/bad.err" || fail "no clear error for hde: $(cat "$KEEL_TMP/bad.err")"
cat >"$KEEL_TMP/badbr.cfg" <<CFG
name = "hvmbadbr"
type = "hvm"
memory = 32
vif = [ 'model=e1000,bridge=nosuch$$' ]
CFG
xl create -q "$KEEL_TMP/badbr.cfg" 2>"$KEEL_TMP/badbr.err" && fail "xl created an HVM domain with a vif on a missing bridge"
grep -q "nosuch$$" "$KEEL_TMP/badbr.err" || fail "no error naming the missing bridge: $(cat "$KEEL_TMP/badbr.err")"
xl list hvmbadbr >/dev/null 2>&1 && fail "a refused vif left domain hvmbadbr"
ls /sys/class/net | grep -q -- '-emu$' && fail "a refused vif left a TAP: $(ls /sys/class/net | grep -- -emu)"
echo "  a vif on a missing bridge: xl create fails ($(head -1 "$KEEL_TMP/badbr.err")), nothing left"
# display keys Keel cannot honour, or too little video RAM: clear errors, no domain
bad_display() { # KEYS EXPECTED-MESSAGE
	printf 'name = "hvmbadvga"\ntype = "hvm"\nmemory = 32\n%s\n' "$1" >"$KEEL_TMP/badvga.cfg"
	xl create -q "$KEEL_TMP/badvga.cfg" 2>"$KEEL_TMP/badvga.err" && fail "xl accepted $1"
	grep -q "$2" "$KEEL_TMP/badvga.err" || fail "no clear error for $1: $(cat "$KEEL_TMP/badvga.err")"
	xl list hvmbadvga >/dev/null 2>&1 && fail "$1 left domain hvmbadvga"
	return 0
}
bad_display 'vga = "stdvga"
videoram = 8' "videoram must be at least 16 MB for STDVGA"
bad_display 'videoram = 4' "videoram must be at least 8 MB for CIRRUS"
bad_display 'vga = "ega"' 'Unknown vga "ega" specified'
bad_display 'vga = "qxl"' "no SPICE"
bad_display 'bios = "rombios"' "qemu-xen does not support bios=rombios."
bad_display 'device_model_override = "/nonexistent/qemu"' "device model /nonexistent/qemu is not executable"
bad_display 'vnclisten = "127.0.0.1:3"
vncdisplay = 2' "vncdisplay set, vnclisten contains display"
# vncpasswd=: libxl's -vnc ...,password=on, which Debian's QEMU cannot
# serve (no DES cipher for VNC authentication): QEMU exits, xl says so with
# QEMU's words and leaves no domain
printf 'name = "hvmvncpw"\ntype = "hvm"\nmemory = 32\nvncpasswd = "pw"\n' >"$KEEL_TMP/vncpw.cfg"
if xl create -q "$KEEL_TMP/vncpw.cfg" 2>"$KEEL_TMP/vncpw.err"; then
	d=$(xl domid hvmvncpw) || fail "no domid for hvmvncpw"
	[ "$(hvm_rfb_banner "$(st read /local/domain/$d/console/vnc-listen)" \
		"$(st read /local/domain/$d/console/vnc-port)")" = "RFB 003.008 security 2" ] ||
		fail "vncpasswd=: the VNC server does not ask for a password"
	xl destroy hvmvncpw || fail "xl destroy hvmvncpw"
	echo "  vncpasswd=: QEMU's VNC server asks for VNC authentication"
else
	grep -q "exited" "$KEEL_TMP/vncpw.err" && grep -q "password=on" "$KEEL_TMP/vncpw.err" ||
		fail "vncpasswd= failed without QEMU's reason: $(cat "$KEEL_TMP/vncpw.err")"
	xl list hvmvncpw >/dev/null 2>&1 && fail "a failed vncpasswd= left domain hvmvncpw"
	echo "  vncpasswd=: this QEMU cannot serve it: $(grep -m1 'password=on' "$KEEL_TMP/vncpw.err")"
fi
printf 'name = "hvmbadusb"\ntype = "hvm"\nmemory = 32\nvnc = 0\nusbdevice = "nosuchdev"\n' >"$KEEL_TMP/badusb.cfg"
xl create -q "$KEEL_TMP/badusb.cfg" 2>"$KEEL_TMP/badusb.err" && fail "xl created a domain with usbdevice=nosuchdev"
grep -q "exited" "$KEEL_TMP/badusb.err" && grep -q "nosuchdev" "$KEEL_TMP/badusb.err" ||
	fail "usbdevice=nosuchdev failed without QEMU's reason: $(cat "$KEEL_TMP/badusb.err")"
xl list hvmbadusb >/dev/null 2>&1 && fail "a refused usbdevice= left domain hvmbadusb"
echo "  usbdevice=\"nosuchdev\": QEMU refuses it: $(grep -m1 nosuchdev "$KEEL_TMP/badusb.err")"
echo "  refused with xl's/libxl's errors: too little videoram for stdvga and cirrus, vga=\"ega\", qxl, a display in both vnclisten= and vncdisplay=, bios=\"rombios\", a device_model_override= that is not executable"
# device_model_override=: a wrapper that says it ran, then execs the real QEMU
qemu_real=${KEEL_QEMU_XEN:-/usr/libexec/xen-qemu-system-i386}
printf '#!/bin/sh\necho "$$ $*" >%s\nexec %s "$@"\n' "$KEEL_TMP/qemu-wrap.ran" "$qemu_real" >"$KEEL_TMP/qemu-wrap"
chmod +x "$KEEL_TMP/qemu-wrap"
uuid=6b65656c-0000-4000-8000-000000000014
cat >"$KEEL_TMP/hvm.cfg" <<CFG
name = "hvmdisk"
type = "hvm"
memory = 3968
vga = "stdvga"
videoram = 16
vnc = 0
vcpus = 1
on_crash = "preserve"
disk = [ 'format=raw,vdev=hda,access=rw,target=$KEEL_TMP/disk.img' ]
serial = [ "file:$serial" ]
vif = [ 'mac=$mac,model=e1000,type=ioemu,bridge=$br,vifname=$vifname' ]
usb = 1
usbdevice = "tablet"
hpet = 0
device_model_override = "$KEEL_TMP/qemu-wrap"
device_model_version = "qemu-xen"
device_model_args = [ "-device", "usb-kbd,id=keelkbd" ]
device_model_args_hvm = [ "-uuid", "$uuid" ]
CFG
hvm_clock
xl create -q "$KEEL_TMP/hvm.cfg" || fail "xl create type=hvm with a disk"
d=$(xl domid hvmdisk) || fail "no domid for hvmdisk"
step() { # PATTERN TIMEOUT WHAT
	wait_for "xl dmesg | grep -q '(d$d) $1'" "$2" ||
		{ xl dmesg | grep "(d$d)" | tail -25; tail -20 "$run/log/qemu-dm-hvmdisk.log"; fail "$3"; }
	echo "  $(since): $3"
}
step 'Found [1-9][0-9]* PCI devices' 600 "SeaBIOS found QEMU's PCI devices"
step 'ata0-0: QEMU HARDDISK' 600 "SeaBIOS found QEMU's IDE disk"
step 'Booting from Hard Disk' 900 "SeaBIOS boots from the disk"
wait_for "grep -q KEEL-HVM-BOOTSECTOR '$serial'" 300 ||
	{ xl dmesg | grep "(d$d)" | tail -20; fail "the boot sector's text is not on the serial port"; }
echo "  $(since): the boot sector wrote to COM1: $(tr -d '\r' <"$serial")"
xl dmesg | grep "(d$d)" | grep -E 'ata|Booting|PCI devices|drive' | sed 's/^/  xl dmesg: /'
kill -0 "$kpid" 2>/dev/null || fail "keeld died"
qpid=$(st read /local/domain/$d/image/device-model-pid) || fail "no device-model-pid"
grep -q -- "-xen-domid" "/proc/$qpid/cmdline" || fail "device-model-pid $qpid is not QEMU"
# the disk's vbd (libxl's nodes) is keel-blkback's, in InitWait with the
# image open read-only: no PV frontend connects, QEMU alone writes it
be=/local/domain/0/backend/vbd/$d/768
[ "$(st read $be/params)" = "$KEEL_TMP/disk.img" ] && [ "$(st read $be/type)" = phy ] &&
	[ "$(st read $be/mode)" = w ] || fail "hda's vbd: $(st ls $be 2>&1 | head -20)"
wait_for "[ \"\$(st read $be/state)\" = 2 ]" 30 || fail "hda's vbd state $(st read $be/state), not InitWait"
bpid=$(cat "$run/blkback.pid") || fail "no blkback.pid"
nfd=0
for f in /proc/$bpid/fd/*; do
	[ "$(readlink "$f")" = "$KEEL_TMP/disk.img" ] || continue
	nfd=$((nfd + 1))
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$bpid/fdinfo/${f##*/}")
	[ $((0$flags & 3)) = 0 ] || fail "keel-blkback holds disk.img with flags $flags (not read-only)"
done
[ "$nfd" -gt 0 ] || fail "keel-blkback does not hold disk.img"
xl block-list hvmdisk | grep -qE "^768 +0 +$d +1 +-1 +-1 +$be *\$" || fail "block-list: $(xl block-list hvmdisk)"
echo "  hda's vbd: keel-blkback in InitWait with the image read-only ($nfd fds); xl block-list lists it"
# the vif: QEMU's e1000, its TAP renamed for vifname=, in the bridge, up
tap=$vifname-emu
tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- "-device e1000,id=nic0,netdev=net0,mac=$mac -netdev type=tap,id=net0,ifname=vif$d.0-emu,script=no,downscript=no" ||
	fail "QEMU's e1000 arguments: $(tr '\0' ' ' <"/proc/$qpid/cmdline")"
[ "$(basename "$(readlink /sys/class/net/$tap/master)")" = "$br" ] || fail "$tap is not a port of $br"
[ $(($(cat /sys/class/net/$tap/flags) & 1)) = 1 ] || fail "$tap is not up"
# the device model and platform keys: the wrapper ran QEMU with libxl's arguments
[ -s "$KEEL_TMP/qemu-wrap.ran" ] || fail "device_model_override=: the wrapper did not run"
tr '\0' ' ' <"/proc/$qpid/cmdline" >"$KEEL_TMP/qemu-keys.cmdline"
for a in "-usb -usbdevice tablet -" "-no-hpet" "-device usb-kbd,id=keelkbd -machine xenfv -uuid $uuid"; do
	grep -q -- "$a" "$KEEL_TMP/qemu-keys.cmdline" || fail "QEMU has no '$a': $(cat "$KEEL_TMP/qemu-keys.cmdline")"
	grep -q -- "$a" "$KEEL_TMP/qemu-wrap.ran" || fail "the wrapper was not given '$a': $(cat "$KEEL_TMP/qemu-wrap.ran")"
done
qmp=$run/qmp/qmp-libxl-$d
hvm_qmp "$qmp" query-pci | python3 -c '
import json, sys
devs = [x for b in json.load(sys.stdin) for x in b["devices"]]
usb = [x for x in devs if x["class_info"]["class"] == 0x0c03]
if not usb: sys.exit("query-pci: no USB controller: %s" % [x["qdev_id"] or x["class_info"] for x in devs])
print("  QMP query-pci: USB controller %04x:%04x at 00:%02x.%d" % (usb[0]["id"]["vendor"], usb[0]["id"]["device"], usb[0]["slot"], usb[0]["function"]))' ||
	fail "usb=1: no USB controller"
hvm_qmp "$qmp" query-mice | grep -q '"name": "QEMU HID Tablet"[^}]*"absolute": true' ||
	fail "usbdevice=tablet: query-mice: $(hvm_qmp "$qmp" query-mice)"
hvm_qmp "$qmp" qom-list '{"path": "/machine/peripheral"}' | grep -q '"name": "keelkbd"' ||
	fail "device_model_args=: no keelkbd: $(hvm_qmp "$qmp" qom-list '{"path": "/machine/peripheral"}')"
[ "$(hvm_qmp "$qmp" query-uuid)" = "{\"UUID\": \"$uuid\"}" ] ||
	fail "device_model_args_hvm=: query-uuid: $(hvm_qmp "$qmp" query-uuid)"
[ "$(hvm_qmp "$qmp" qom-get '{"path": "/machine", "property": "hpet"}')" = false ] ||
	fail "hpet=0: the machine's hpet: $(hvm_qmp "$qmp" qom-get '{"path": "/machine", "property": "hpet"}')"
echo "  device_model_override= ran (the wrapper, then QEMU); usb=1, usbdevice=\"tablet\": -usb -usbdevice tablet, query-mice has QEMU HID Tablet (absolute); device_model_args= usb-kbd before -machine xenfv, device_model_args_hvm= -uuid after it (query-uuid); hpet=0: -no-hpet, the machine's hpet off"
echo "  vif 0: QEMU's e1000 on $tap (QEMU's vif$d.0-emu renamed for vifname=), a port of $br and up"
# its iPXE ROM: 3968 MiB puts 128 MiB of RAM above 4 GiB, so QEMU populates
# the ROM's frames past that; SeaBIOS runs it
grep -q "failed to populate" "$run/log/qemu-dm-hvmdisk.log" &&
	fail "QEMU could not populate its ROM: $(grep "failed to populate" "$run/log/qemu-dm-hvmdisk.log")"
xl dmesg | grep -q "(d$d) Running option rom at c" || fail "SeaBIOS ran no option ROM"
echo "  the e1000's iPXE ROM, in frames QEMU populated past RAM above 4 GiB, run by SeaBIOS"
# vga="stdvga", videoram=16, vnc=0: libxl's -device VGA, its video RAM out
# of memory= (populated by QEMU past RAM above 4 GiB), no VNC server
tr '\0' ' ' <"/proc/$qpid/cmdline" >"$KEEL_TMP/qemu.cmdline"
for a in "-device VGA,vgamem_mb=16 " "-m 3952 " "-vnc none " "-nographic"; do
	grep -q -- "$a" "$KEEL_TMP/qemu.cmdline" || fail "QEMU has no '$a': $(cat "$KEEL_TMP/qemu.cmdline")"
done
grep "populate_physmap of" "$run/log/keeld.log" | sed 's/^(keeld) /  keeld: /'
# the video RAM, populated past RAM above 4 GiB, relocated by keeld to the
# card's BAR below 4 GiB when SeaBIOS/hvmloader mapped it (QEMU logs a failure)
grep -q "relocate_memory.*failed" "$run/log/qemu-dm-hvmdisk.log" &&
	fail "QEMU: $(grep "relocate_memory.*failed" "$run/log/qemu-dm-hvmdisk.log")"
grep "d$d: relocate_memory: 4096 frames from gfn 0x1" "$run/log/keeld.log" | sed 's/^(keeld) /  keeld: /' | grep . ||
	fail "keeld did not relocate stdvga's video RAM: $(grep relocate_memory "$run/log/keeld.log")"
[ "$(st read /local/domain/$d/memory/videoram)" = 16384 ] || fail "memory/videoram: $(st read /local/domain/$d/memory/videoram)"
st read /local/domain/$d/console/vnc-port >/dev/null 2>&1 && fail "console/vnc-port with vnc=0"
xl vncviewer hvmdisk 2>"$KEEL_TMP/vnc.err" && fail "xl vncviewer succeeded with vnc=0"
grep -q "Cannot get vnc-port" "$KEEL_TMP/vnc.err" || fail "xl vncviewer with vnc=0: $(cat "$KEEL_TMP/vnc.err")"
# xl mem-set as libxl's: the video RAM is in the figure, not in memory/target
[ "$(st read /local/domain/$d/memory/target)" = $((3952 * 1024)) ] || fail "memory/target: $(st read /local/domain/$d/memory/target)"
xl mem-set hvmdisk 3968m || fail "xl mem-set hvmdisk 3968m"
[ "$(st read /local/domain/$d/memory/target)" = $((3952 * 1024)) ] || fail "memory/target after mem-set: $(st read /local/domain/$d/memory/target)"
echo "  stdvga with 16 MiB out of memory=3968 (QEMU -m 3952, memory/videoram 16384), vnc=0: -vnc none, no vnc-port, xl vncviewer refused as libxl"
xl destroy hvmdisk || fail "xl destroy hvmdisk"
[ -e /sys/class/net/$tap ] && fail "$tap is left after xl destroy"
wait_for "! kill -0 $qpid 2>/dev/null" 30 || fail "QEMU (pid $qpid) outlived its domain"
! st read $be >/dev/null 2>&1 || fail "$be is left after xl destroy"
! st read /libxl/$d >/dev/null 2>&1 || fail "/libxl/$d is left after xl destroy"
for f in /proc/$bpid/fd/*; do
	[ "$(readlink "$f")" = "$KEEL_TMP/disk.img" ] && fail "keel-blkback still holds disk.img after xl destroy"
done
hvm_keeld_san_clean
# a domain still running when the dom0 goes down: keel-dom0-down stops its
# QEMU too (found by libxl's device-model-pid), and the TAP goes with it
# (this one with libxl's default display: no vga=/videoram= keys, a
# cirrus card with 8 MiB of video RAM out of memory=)
grep -v '^vga\|^videoram' "$KEEL_TMP/hvm.cfg" >"$KEEL_TMP/cirrus.cfg"
xl create -q "$KEEL_TMP/cirrus.cfg" || fail "xl create hvmdisk again"
d=$(xl domid hvmdisk) || fail "no domid for the second hvmdisk"
qpid=$(st read /local/domain/$d/image/device-model-pid) || fail "no device-model-pid (second hvmdisk)"
grep -q -- "-xen-domid" "/proc/$qpid/cmdline" || fail "device-model-pid $qpid is not QEMU"
tr '\0' ' ' <"/proc/$qpid/cmdline" >"$KEEL_TMP/qemu2.cmdline"
for a in "-device cirrus-vga,vgamem_mb=8 " "-m 3960 "; do
	grep -q -- "$a" "$KEEL_TMP/qemu2.cmdline" || fail "QEMU has no '$a' (libxl's default display): $(cat "$KEEL_TMP/qemu2.cmdline")"
done
[ "$(st read /local/domain/$d/memory/videoram)" = 8192 ] || fail "memory/videoram (cirrus): $(st read /local/domain/$d/memory/videoram)"
echo "  libxl's default display: cirrus with 8 MiB of video RAM (QEMU -m 3960, memory/videoram 8192)"
"$KEEL_BIN/keel-dom0-down" --rundir "$run" >"$KEEL_TMP/down.out" 2>&1 || fail "keel-dom0-down: $(cat "$KEEL_TMP/down.out")"
grep -q "device model of domain $d stopped (pid $qpid)" "$KEEL_TMP/down.out" ||
	fail "keel-dom0-down did not stop QEMU: $(cat "$KEEL_TMP/down.out")"
! kill -0 "$qpid" 2>/dev/null || fail "QEMU (pid $qpid) outlived keel-dom0-down"
[ -e /sys/class/net/$tap ] && fail "$tap is left after keel-dom0-down"
echo "  keel-dom0-down with hvmdisk running: its QEMU stopped, $tap gone"
cleanup_xl
echo "hvm-qemu: ok"
