#!/usr/bin/env bash
# hvm-os: Keel's small HVM test OS (tests/hvm/hvmos.S, build/guests/
# hvmos.img) on an El Torito ISO (made here with xorriso) in QEMU's IDE
# CD-ROM: disk = [ hda scratch disk, 'os.iso,raw,hdc,cdrom', an empty
# CD-ROM drive hdd ], boot="d".
# hvmloader -> SeaBIOS boot it from the CD (boot drive 0xe0) and it
# reports on COM1 (QEMU's 16550): port ioreqs (COM1's scratch register),
# MMIO ioreqs (QEMU's HPET), a sector written and read back through int
# 13h on the hard disk (checked here in the image after the domain is
# gone), PIT IRQ0 and LAPIC-timer interrupts counted against the PM timer,
# the RTC (keeld's, as Xen's: its time against the host's clock, registers
# B and D, the seconds ticking, register C's update flag, periodic
# interrupts on IRQ8) and CMOS byte 0x3d (QEMU's, the boot order
# "d").  xl trigger nmi, power and sleep reach it (its NMI count, the PM1a
# button bits with the SCI pending), reset/init fail as on Xen; xl
# cd-eject and cd-insert change the CD's medium as hvmos sees it over
# ATAPI (no medium; unit attention; the new medium's capacity) and QEMU's
# query-block shows, and bad ones are refused with Xen's messages.  Every
# disk has libxl's vbd nodes (hda on keel-blkback's vbd, the CD-ROMs on
# QEMU's qdisk: keys, permissions, xl block-list), whose params follow
# cd-eject/cd-insert, and which xl destroy removes.  Then the lifecycle: xl pause stops its tick lines, xl unpause
# resumes them; QEMU killed with -9 crashes that domain only (shown
# ---sc- with on_crash="preserve"), keeld and a PV domain beside it run
# on; xl destroy removes it.
# Its vif (type ioemu and model rtl8139 by default, as libxl) is QEMU's
# emulated NIC, with QEMU's default iPXE ROM (QEMU populates frames past
# the domain's RAM for it; SeaBIOS runs it), on TAP vif<d>.0-emu, which xl
# puts on the test's bridge and brings up; hvmos sends one broadcast
# frame through it, caught on the bridge by a raw socket: the configured
# MAC as its source, hvmos's payload.  The vif's PV nodes are written
# beside it (type vif_ioemu; keel-netback takes them to InitWait with its
# own vif<d>.0 TAP); QEMU's exit takes the -emu TAP away, xl destroy the nodes and vif<d>.0.
# keel-xenlibs-peer populate: populate_physmap from dom0 on it (Xen's
# refusals, frames past RAM mapped, nothing past maxmem), and bad
# inject_msi calls refused (an address outside the 0xfee00000 window,
# SMI/NMI delivery, vector 0), the domain running on.
# QEMU's edu device (device_model_args_hvm = [ "-device", "edu" ]):
# hvmos raises its interrupt by INTx (its PCI link's IRQ pending in the
# PIC's IRR until acknowledged) and by MSI (4 of 4 at vector 0x41's IDT
# gate: QEMU's xendevicemodel_inject_msi, keeld's KVM_SIGNAL_MSI).
# Two vCPUs (xl vcpu-list shows both): hvmos starts the AP (APIC ID 2,
# Xen's numbering) with INIT and two SIPIs into a real-mode trampoline at
# 0x10000, which takes it to flat 32-bit mode; the AP reports the LAPIC
# ID it reads, counts 4 of 4 fixed IPIs (vector 0x42) from the BSP at
# its IDT gate and sends one (0x43) back that the BSP counts, then idles.
# The display: vga="stdvga" (libxl's default 16 MiB of video RAM out of
# memory=; hvm-qemu checks the default cirrus card), VNC by libxl's
# defaults on 127.0.0.1 (QMP's query-vnc in console/vnc-listen and
# vnc-port, the RFB banner read there); xl vncviewer runs a fake viewer
# first on PATH with that address, and fails as libxl's for a domain
# without VNC; hvmos's text at 0xb8000 (vga32.S: a banner and 8 full
# blocks in 8 colours) is checked in QMP's screendump.  Then graphics
# through the linear framebuffer: QEMU's video RAM relocated by keeld to
# the card's BAR (relocate_memory), a key sent over QMP has hvmos switch
# the card to 640x480x8 (Bochs VBE) and draw 4 coloured rectangles there,
# checked pixel by pixel in a screendump; a second key redraws them in
# other colours (a second screendump); keeld's dirty-VRAM log (KVM's, on
# the relocated slot, as QEMU asked for it) names exactly the pages
# hvmos wrote (keel-xenlibs-peer vram).
# keel-test: timeout 300
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_guest hvmos.img xl-idle
command -v xorriso >/dev/null || skip "no xorriso (make deps installs it)"
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
hvm_bridge
hvm_qemu_dom0 --bridge "$br"
mac=00:16:3e:4b:45:01
mkdir "$KEEL_TMP/iso" && cp "$KEEL_GUESTS/hvmos.img" "$KEEL_TMP/iso/" ||
	fail "copying hvmos.img"
xorriso -as mkisofs -quiet -o "$KEEL_TMP/os.iso" -b hvmos.img -no-emul-boot \
	-boot-load-size 16 "$KEEL_TMP/iso" 2>"$KEEL_TMP/xorriso.err" ||
	fail "xorriso: $(cat "$KEEL_TMP/xorriso.err")"
truncate -s 1M "$KEEL_TMP/disk.img" || fail "making the scratch disk"
serial=$KEEL_TMP/serial.txt
cat >"$KEEL_TMP/bad.cfg" <<CFG
name = "hvmbadboot"
type = "hvm"
memory = 32
boot = "dx"
CFG
xl create -q "$KEEL_TMP/bad.cfg" 2>"$KEEL_TMP/bad.err" && fail "xl accepted boot=\"dx\""
grep -q "letters a, c, d and n" "$KEEL_TMP/bad.err" ||
	fail "no clear error for boot=\"dx\": $(cat "$KEEL_TMP/bad.err")"
cat >"$KEEL_TMP/idle.cfg" <<CFG
name = "bystander"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 8
CFG
xl create -q "$KEEL_TMP/idle.cfg" || fail "xl create the PV bystander"
cat >"$KEEL_TMP/hvm.cfg" <<CFG
name = "hvmos"
type = "hvm"
memory = 32
vcpus = 2
on_crash = "preserve"
on_reboot = "preserve"
boot = "d"
vga = "stdvga"
disk = [ 'format=raw,vdev=hda,access=rw,target=$KEEL_TMP/disk.img',
         '$KEEL_TMP/os.iso,raw,hdc,cdrom', ',raw,hdd,cdrom' ]
serial = [ "file:$serial" ]
vif = [ 'mac=$mac,bridge=$br' ]
device_model_args_hvm = [ "-device", "edu" ]
CFG
hvm_capture "$br" 88b5 "$KEEL_TMP/frame"
hvm_clock
mkdir "$KEEL_TMP/viewer" && cat >"$KEEL_TMP/viewer/vncviewer" <<SH
#!/bin/sh
printf '%s\n' "\$*" >>"$KEEL_TMP/viewer/argv"
SH
chmod +x "$KEEL_TMP/viewer/vncviewer"
c0=$(date +%s%N)
PATH=$KEEL_TMP/viewer:$PATH xl create -q -V "$KEEL_TMP/hvm.cfg" ||
	{ tail -20 "$run/log/qemu-dm-hvmos.log"; fail "xl create -V type=hvm boot=d"; }
echo "  xl create took $((($(date +%s%N) - c0) / 1000000)) ms (QEMU populating its ROMs and 16 MiB of video RAM included)"
d=$(xl domid hvmos) || fail "no domid for hvmos"
grep "populate_physmap of" "$run/log/keeld.log" | sed 's/^(keeld) /  keeld: /'
grep -q "d$d: populate_physmap of 4096 frames at gfn 0x1000: one range" "$run/log/keeld.log" ||
	fail "keeld did not populate QEMU's 16 MiB of video RAM past the 16 MiB of RAM as one range"
qpid=$(st read /local/domain/$d/image/device-model-pid) || fail "no device-model-pid"
grep -q -- "ide-cd,id=ide-5632" "/proc/$qpid/cmdline" || fail "QEMU was given no CD-ROM as libxl gives it"
show() { xl dmesg | grep "(d$d)" | tail -15; tail -5 "$run/log/qemu-dm-hvmos.log"; cat "$serial"; }
# libxl's vbd nodes for every disk: the hard disk on keel-blkback (vbd,
# type phy: it takes it up to InitWait, the image open read-only), the
# CD-ROMs on QEMU's qdisk, as libxl forces them; block-list lists them
node() { # PATH KEY WANT
	[ "$(st read "$1/$2" 2>/dev/null)" = "$3" ] || fail "$1/$2 is '$(st read "$1/$2" 2>&1)', not '$3'"
}
vbd_check() { # KIND DEVID VDEV TYPE MODE DEVTYPE REMOVABLE PARAMS
	local be=/local/domain/0/backend/$1/$d/$2 fe=/local/domain/$d/device/vbd/$2
	node "$be" params "$8"; node "$be" type "$4"; node "$be" mode "$5"; node "$be" device-type "$6"
	node "$be" removable "$7"; node "$be" dev "$3"; node "$be" online 1; node "$be" frontend "$fe"
	node "$be" frontend-id "$d"; node "$fe" backend "$be"; node "$fe" backend-id 0
	node "$fe" virtual-device "$2"; node "$fe" device-type "$6"; node "$fe" state 1
	node "/libxl/$d/device/vbd/$2" backend "$be"; node "/libxl/$d/device/vbd/$2" params "$8"
	st perms "$be" | tr -s ' \n' ' ' | grep -q "n0 r$d" || fail "$be perms: $(st perms "$be")"
	st perms "$fe" | tr -s ' \n' ' ' | grep -q "n$d r0" || fail "$fe perms: $(st perms "$fe")"
}
vbd_check vbd 768 hda phy w disk 0 "$KEEL_TMP/disk.img"
vbd_check qdisk 5632 hdc qdisk r cdrom 1 "aio:$KEEL_TMP/os.iso"
vbd_check qdisk 5696 hdd qdisk r cdrom 1 "empty:"
wait_for "[ \"\$(st read /local/domain/0/backend/vbd/$d/768/state)\" = 2 ]" 30 ||
	fail "keel-blkback did not take hda up (state $(st read /local/domain/0/backend/vbd/$d/768/state))"
# QEMU (the device model) serves the qdisk CD-ROM with a medium: a xen-cdrom in InitWait
wait_for "[ \"\$(st read /local/domain/0/backend/qdisk/$d/5632/state)\" = 2 ]" 30 ||
	fail "QEMU did not take hdc's qdisk up (state $(st read /local/domain/0/backend/qdisk/$d/5632/state))"
xl block-list hvmos >"$KEEL_TMP/bl" || fail "xl block-list hvmos"
head -1 "$KEEL_TMP/bl" | grep -qE '^Vdev +BE +handle +state +evt-ch +ring-ref +BE-path' || fail "block-list header: $(cat "$KEEL_TMP/bl")"
for n in "768 vbd" "5632 qdisk" "5696 qdisk"; do
	set -- $n
	grep -qE "^$1 +0 +$d +1 +-1 +-1 +/local/domain/0/backend/$2/$d/$1 *\$" "$KEEL_TMP/bl" ||
		fail "block-list $1: $(cat "$KEEL_TMP/bl")"
done
[ "$(wc -l <"$KEEL_TMP/bl")" = 4 ] || fail "block-list: $(cat "$KEEL_TMP/bl")"
echo "  vbd nodes of hda (vbd, keel-blkback in InitWait), hdc (qdisk, QEMU in InitWait) and hdd (qdisk) as libxl writes them; xl block-list lists them"
# the vif: QEMU's rtl8139 on TAP vif<d>.0-emu (libxl's arguments), in the
# bridge and up; its PV nodes beside it, which keel-netback takes up
tap=vif$d.0-emu
tr '\0' ' ' <"/proc/$qpid/cmdline" >"$KEEL_TMP/qemu.cmdline"
grep -q -- "-device rtl8139,id=nic0,netdev=net0,mac=$mac -netdev type=tap,id=net0,ifname=$tap,script=no,downscript=no" \
	"$KEEL_TMP/qemu.cmdline" || fail "QEMU's NIC arguments are not libxl's: $(cat "$KEEL_TMP/qemu.cmdline")"
grep -q -- "-net none" "$KEEL_TMP/qemu.cmdline" && fail "QEMU got -net none beside a NIC"
[ "$(basename "$(readlink /sys/class/net/$tap/master)")" = "$br" ] || fail "$tap is not a port of $br"
[ $(($(cat /sys/class/net/$tap/flags) & 1)) = 1 ] || fail "$tap is not up"
vbe=/local/domain/0/backend/vif/$d/0 vfe=/local/domain/$d/device/vif/0
node "$vbe" type vif_ioemu; node "$vbe" mac "$mac"; node "$vbe" bridge "$br"; node "$vfe" mac "$mac"
node "$vfe" backend "$vbe"; node "/libxl/$d/device/vif/0" backend "$vbe"
wait_for "[ \"\$(st read $vbe/state)\" = 2 ]" 30 || fail "keel-netback did not take vif 0 up (state $(st read $vbe/state))"
[ "$(basename "$(readlink /sys/class/net/vif$d.0/master)")" = "$br" ] || fail "keel-netback's vif$d.0 is not a port of $br"
echo "  vif 0: QEMU's rtl8139 on $tap (libxl's -device/-netdev), a port of $br and up; its PV nodes (vif_ioemu) in InitWait with keel-netback's vif$d.0"
# the display: stdvga with libxl's 16 MiB of video RAM out of memory=32,
# VNC (libxl's defaults) on 127.0.0.1 trying 99 displays, no password
# (the server offers security type 1, none); QMP's query-vnc in the store
# as libxl puts it there
grep -q -- "-device VGA,vgamem_mb=16 " "$KEEL_TMP/qemu.cmdline" ||
	fail "no std VGA as libxl gives it: $(cat "$KEEL_TMP/qemu.cmdline")"
grep -q -- "-m 16 " "$KEEL_TMP/qemu.cmdline" || fail "QEMU's -m is not memory= less videoram="
grep -qE -- "-vnc 127\.0\.0\.1:0,to=99( |\$)" "$KEEL_TMP/qemu.cmdline" || fail "no -vnc as libxl's: $(cat "$KEEL_TMP/qemu.cmdline")"
grep -q -- "-nographic" "$KEEL_TMP/qemu.cmdline" && fail "-nographic beside VNC (libxl gives none)"
node /local/domain/$d memory/videoram 16384; node /local/domain/$d memory/target 16384
node /local/domain/$d memory/static-max 32768
vnc_host=$(st read /local/domain/$d/console/vnc-listen) || fail "no console/vnc-listen"
vnc_port=$(st read /local/domain/$d/console/vnc-port) || fail "no console/vnc-port"
[ "$vnc_host" = 127.0.0.1 ] || fail "console/vnc-listen is $vnc_host"
[ "$vnc_port" -ge 5900 ] && [ "$vnc_port" -le 5999 ] || fail "console/vnc-port is $vnc_port"
banner=$(hvm_rfb_banner "$vnc_host" "$vnc_port") || fail "no VNC server at $vnc_host:$vnc_port"
[ "$banner" = "RFB 003.008 security 1" ] ||
	fail "$vnc_host:$vnc_port answered '$banner', not RFB 3.8 with no password"
# xl create -V and xl vncviewer hand the viewer HOST:DISPLAY (a fake
# viewer first on PATH records its arguments, a line per run)
want="$vnc_host:$((vnc_port - 5900))"
wait_for "[ -s '$KEEL_TMP/viewer/argv' ]" 30 || fail "xl create -V ran no viewer"
[ "$(cat "$KEEL_TMP/viewer/argv")" = "$want" ] || fail "xl create -V ran the viewer with '$(cat "$KEEL_TMP/viewer/argv")', not '$want'"
PATH=$KEEL_TMP/viewer:$PATH xl vncviewer hvmos || fail "xl vncviewer hvmos failed"
[ "$(tail -1 "$KEEL_TMP/viewer/argv")" = "$want" ] && [ "$(wc -l <"$KEEL_TMP/viewer/argv")" = 2 ] ||
	fail "xl vncviewer ran the viewer with '$(tail -1 "$KEEL_TMP/viewer/argv")', not '$want'"
vaddr=$(tail -1 "$KEEL_TMP/viewer/argv")
[ "$(hvm_rfb_banner "${vaddr%:*}" $((5900 + ${vaddr##*:})))" = "$banner" ] ||
	fail "the viewer's address $vaddr has no VNC server"
xl vncviewer bystander 2>"$KEEL_TMP/vnc.err" && fail "xl vncviewer of a PV domain succeeded"
grep -q "Cannot get vnc-port" "$KEEL_TMP/vnc.err" || fail "xl vncviewer of a domain without VNC: $(cat "$KEEL_TMP/vnc.err")"
echo "  display: stdvga, 16 MiB video RAM of memory=32 (QEMU -m 16, memory/videoram 16384), VNC $vnc_host:$vnc_port ($banner); xl create -V and xl vncviewer run the viewer for $want"

wait_for "xl dmesg | grep -q '(d$d) Booting from DVD/CD'" 300 || { show; fail "SeaBIOS did not boot the CD"; }
echo "  $(since): SeaBIOS boots from the CD-ROM"
# the NIC's iPXE ROM (QEMU's default, as libxl leaves it): QEMU populates
# frames past the domain's 32 MiB for it, SeaBIOS runs it and it offers
# SeaBIOS its boot entry (the NIC is PCI device 4: the VGA card is 2, Xen's
# platform device 3)
grep -q "failed to populate" "$run/log/qemu-dm-hvmos.log" &&
	fail "QEMU could not populate its ROM: $(grep "failed to populate" "$run/log/qemu-dm-hvmos.log")"
xl dmesg | grep -q "(d$d) Running option rom at c" || { show; fail "SeaBIOS ran no option ROM"; }
xl dmesg | grep -q "(d$d) Searching bootorder for: /pci@i0cf8/\*@4\$" ||
	{ xl dmesg | grep "(d$d) Searching bootorder"; show; fail "the NIC's iPXE ROM gave SeaBIOS no boot entry"; }
echo "  the NIC's iPXE ROM: populated by QEMU past RAM, run by SeaBIOS, a boot entry for the NIC"
# populate_physmap from dom0 as QEMU calls it: Xen's refusals, frames past
# RAM mapped through libxenforeignmemory, nothing past maxmem
KEEL_RUNDIR=$run "$KEEL_BIN/keel-xenlibs-peer" populate "$d" >"$KEEL_TMP/populate.out" 2>&1 ||
	{ cat "$KEEL_TMP/populate.out"; fail "keel-xenlibs-peer populate failed"; }
grep -q "d$d: populate_physmap at gfn 0xe0.*: over-allocation" "$run/log/keeld.log" ||
	fail "keeld did not log the over-allocation"
echo "  populate_physmap, relocate_memory, track_dirty_vram from dom0: $(grep -c '^ok' "$KEEL_TMP/populate.out") checks, $(grep -c '^refused' "$KEEL_TMP/populate.out") refusals with Xen's errnos"
wait_for "grep -qs 'hvmos: checks done' '$serial'" 300 || { show; fail "hvmos did not finish its checks"; }
echo "  $(since): hvmos ran its checks:"
tr -d '\r' <"$serial" | grep -E '^(ok|FAIL|hvmos|rtc-time|smp)' | sed 's/^/    /'
grep -q 'boot drive 0xe0' "$serial" || fail "hvmos did not start from the CD-ROM (drive 0xe0)"
grep -q '^FAIL' "$serial" && fail "hvmos reported failures"
grep -q 'checks done, failed 0' "$serial" || fail "hvmos counted failures"
for c in port-ioreq mmio-ioreq ide-int13 pit-irq0 rtc-regs rtc-seconds rtc-update-flag rtc-irq8 \
	cmos-boot-order lapic-timer nic-tx edu-intx; do
	grep -q "^ok $c" "$serial" || fail "no 'ok $c' from hvmos"
done
# QEMU's edu device (device_model_args_hvm): its MSIs, each QEMU's
# xendevicemodel_inject_msi -> keeld's KVM_SIGNAL_MSI, counted at the
# vector's IDT gate, all 4 of 4; its INTx (MSI off) through the PCI link
# route to the PIC's IRR and away on the acknowledgement (bits 0b010)
grep -q -- "-device edu" "$KEEL_TMP/qemu.cmdline" || fail "QEMU was not given -device edu"
tr -d '\r' <"$serial" | grep -qE '^ok edu-msi vector 0x41 to apic id 0x00 received 4/4$' ||
	fail "edu's MSIs did not all arrive: $(grep edu-msi "$serial")"
tr -d '\r' <"$serial" | grep -qE "^ok edu-intx irq [0-9]+ in the PIC's IRR .*: 2$" ||
	fail "edu's INTx: $(grep edu-intx "$serial")"
grep -q "^refused with Invalid argument: inject_msi to 0xfed00000" "$KEEL_TMP/populate.out" ||
	fail "keel-xenlibs-peer did not check inject_msi's refusals: $(grep inject_msi "$KEEL_TMP/populate.out")"
echo "  edu: $(tr -d '\r' <"$serial" | grep '^ok edu-msi'); $(tr -d '\r' <"$serial" | grep '^ok edu-intx'); $(grep -c '^refused with .*: inject_msi' "$KEEL_TMP/populate.out") bad inject_msi refused from dom0 before, and the domain ran on"
# the second vCPU: started by INIT/SIPI, its LAPIC ID Xen's 2, IPIs both ways
[ "$(xl vcpu-list hvmos | awk '$1 == "hvmos"' | wc -l)" = 2 ] ||
	{ xl vcpu-list hvmos; fail "xl vcpu-list does not show 2 vCPUs"; }
grep -q "smp none" "$serial" && fail "hvmos found no second vCPU: $(grep "smp none" "$serial")"
for re in '^ok smp: AP apic id 0x02 started$' '^ok smp: BSP -> AP ipis 4/4$' '^ok smp: AP -> BSP ipi 1/1$'; do
	tr -d '\r' <"$serial" | grep -qE "$re" || fail "no line matching '$re': $(grep -a 'smp' "$serial")"
done
echo "  smp: $(tr -d '\r' <"$serial" | grep '^ok smp' | sed 's/^ok smp: //' | paste -sd ';' | sed 's/;/; /g') (xl vcpu-list: 2 vCPUs)"
# the text hvmos wrote at 0xb8000, in QEMU's screendump of the std VGA
grep -q '^vga-text written' "$serial" || fail "hvmos did not say it wrote the screen"
hvm_screendump "$run/qmp/qmp-libxl-$d" "$KEEL_TMP/screen.ppm"
echo "  the VGA text hvmos wrote (a banner, 8 coloured blocks) in QMP's screendump, in the palette's colours"
# graphics through the LFB: QEMU moved its video RAM (gfn 0x1000, 4096
# frames) to the BAR hvmloader gave the card, keeld's relocate_memory
grep -q "relocate_memory.*failed" "$run/log/qemu-dm-hvmos.log" &&
	fail "QEMU: $(grep "relocate_memory.*failed" "$run/log/qemu-dm-hvmos.log")"
lfb=$(sed -n "s/.*d$d: relocate_memory: 4096 frames from gfn 0x1000 to gfn 0x\([0-9a-f]*\) in .*/\1/p" \
	"$run/log/keeld.log" | tail -1)
[ -n "$lfb" ] || fail "keeld did not relocate QEMU's video RAM: $(grep relocate_memory "$run/log/keeld.log")"
echo "  keeld relocated QEMU's 16 MiB of video RAM from gfn 0x1000 to the BAR at 0x${lfb}000 ($(grep -o "d$d: relocate_memory: 4096 frames from gfn 0x1000 .* in [0-9]* us" "$run/log/keeld.log" | tail -1 | grep -o "[0-9]* us\$"))"
t_lfb=$(date +%s%N)
hvm_lfb_key a "vga-lfb drawn at 0x${lfb}000"
hvm_lfb_check a "ff0000 00ff00 0000ff ffffff"
echo "  $((($(date +%s%N) - t_lfb) / 1000000)) ms: hvmos drew 4 rectangles (red, green, blue, white) at 640x480x8 through the LFB at 0x${lfb}000; the screendump shows them"
# keeld's dirty-VRAM log (KVM's, on the relocated slot, the range QEMU
# asked for): read once, then hvmos redraws; the LFB pages it wrote
# (rows 200-279 of 640 bytes: pages 31-43) are dirty, no others, then none
KEEL_RUNDIR=$run "$KEEL_BIN/keel-xenlibs-peer" vram "$d" "0x$lfb" >"$KEEL_TMP/vram.out" 2>&1 ||
	{ cat "$KEEL_TMP/vram.out"; fail "keel-xenlibs-peer vram: no dirty-VRAM log of the LFB"; }
t_lfb=$(date +%s%N)
hvm_lfb_key b "vga-lfb redrawn at 0x${lfb}000"
KEEL_RUNDIR=$run "$KEEL_BIN/keel-xenlibs-peer" vram "$d" "0x$lfb" 31 43 >"$KEEL_TMP/vram.out" 2>&1 ||
	{ cat "$KEEL_TMP/vram.out"; fail "keel-xenlibs-peer vram: the dirty-VRAM log is not what hvmos wrote"; }
hvm_lfb_check b "ffff00 ff00ff 00ffff ff0000"
echo "  $((($(date +%s%N) - t_lfb) / 1000000)) ms: redrawn in yellow, magenta, cyan, red: the screendump shows the new colours"
echo "  track_dirty_vram of the LFB: $(grep '^vram:' "$KEEL_TMP/vram.out" | sed 's/^vram: //'), then none"
grep -q "d$d: track_dirty_vram: gfn 0x$lfb+4096 logged" "$run/log/keeld.log" ||
	fail "QEMU did not have keeld log the LFB's writes: $(grep track_dirty_vram "$run/log/keeld.log")"
# the frame hvmos sent, as the bridge received it from the TAP
wait_for "[ -s '$KEEL_TMP/frame' ]" 30 || fail "no frame with EtherType 0x88b5 reached $br"
python3 - "$KEEL_TMP/frame" "$mac" <<'PY' || fail "the frame on $br is not hvmos's"
import sys
f = bytes.fromhex(open(sys.argv[1]).read())
mac = bytes.fromhex(sys.argv[2].replace(":", ""))
assert f[0:6] == b"\xff" * 6, f[0:6].hex()
assert f[6:12] == mac, "source %s, configured %s" % (f[6:12].hex(":"), sys.argv[2])
assert f[12:14] == b"\x88\xb5", f[12:14].hex()
assert f[14:].startswith(b"KEEL-HVMOS-NIC one broadcast frame from rtl8139"), f[14:62]
PY
echo "  $(since): hvmos's broadcast frame reached $br from $tap: source $mac (the vif's), its payload"
# The RTC's time against the host's (UTC; loosely: this host is loaded).
rtc=$(tr -d '\r' <"$serial" | sed -n 's/^rtc-time //p')
rtc_s=$(date -u -d "$rtc" +%s) || fail "hvmos's RTC time '$rtc' is not a date"
host_s=$(date -u +%s)
[ $((host_s - rtc_s)) -ge -2 ] && [ $((host_s - rtc_s)) -le 60 ] ||
	fail "the RTC read $rtc, the host's clock $(date -u '+%F %T')"
echo "  the RTC read $rtc UTC, $((host_s - rtc_s)) s before the host's clock now"

# xl trigger: hvmos counts the NMI and sees the buttons' PM1a status bits
# with the SCI (IRQ 9) pending in its masked PIC; reset and init fail as
# on Xen (its x86 domctl: ENOSYS)
t_cd=$(date +%s%N)
xl trigger hvmos nmi || fail "xl trigger nmi"
wait_for "grep -q '^nmi 1' '$serial'" 60 || { show; fail "hvmos saw no NMI"; }
for b in power sleep; do
	xl trigger hvmos $b || fail "xl trigger $b"
	wait_for "grep -q '^$b-button sci-irr [01]' '$serial'" 60 || { show; fail "hvmos saw no $b button"; }
	grep -q "^$b-button sci-irr 1" "$serial" || fail "no SCI with the $b button: $(grep "^$b-button" "$serial")"
done
for t in reset init; do
	xl trigger hvmos $t 2>"$KEEL_TMP/trig.err" || fail "xl trigger $t exited non-zero (xl ignores libxl's answer)"
	grep -q "Send trigger '$t' failed: Function not implemented" "$KEEL_TMP/trig.err" ||
		fail "xl trigger $t: $(cat "$KEEL_TMP/trig.err")"
done
# s3resume is QMP system_wakeup, which QEMU refuses for a running guest
xl trigger hvmos s3resume 2>"$KEEL_TMP/trig.err" || fail "xl trigger s3resume exited non-zero"
grep -q "Domain $d:Unable to wake up: guest is not in suspended state" "$KEEL_TMP/trig.err" &&
	grep -q "Send trigger 's3resume' failed, rc=-28" "$KEEL_TMP/trig.err" ||
	fail "xl trigger s3resume: $(cat "$KEEL_TMP/trig.err")"
# hvmos enabled TMR_EN with the buttons: keeld watches for the PM timer's
# top-bit flip, which comes only after ~600 s (32 bits at 3.579545 MHz, as
# Xen's); a TMR_STS this early is spurious (unit test keeld_hvm_pm covers
# the flip itself)
! grep -a "^pm-timer-flip" "$serial" || fail "TMR_STS set long before the PM timer's top bit flips"
echo "  $(since): xl trigger nmi/power/sleep seen by hvmos (SCI raised), reset/init refused as Xen, s3resume reached QEMU; no TMR_STS with TMR_EN set"

# xl cd-eject / cd-insert: hvmos polls the drive with ATAPI TEST UNIT
# READY (and READ CAPACITY once ready) every tick line; QEMU's own view
# through QMP query-block
qmp_medium() { # [DRIVE]: QEMU's id for it, ide-VBDNUM (hdc: 5632)
	python3 - "$run/qmp/qmp-libxl-$d" "${1:-ide-5632}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "query-block"):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            break
for b in r["return"]:
    if b.get("qdev") == sys.argv[2] or b.get("device") == sys.argv[2]:
        ins = b.get("inserted")
        print(ins["image"]["virtual-size"] if ins else "empty")
PY
}
cp "$KEEL_TMP/os.iso" "$KEEL_TMP/other.iso" && truncate -s 3M "$KEEL_TMP/other.iso" || fail "making other.iso"
blocks=$(($(stat -c %s "$KEEL_TMP/os.iso") / 2048))
wait_for "grep -q '^cd-ready blocks $blocks' '$serial'" 60 || { show; fail "hvmos did not see the CD ($blocks blocks)"; }
[ "$(qmp_medium)" = "$(stat -c %s "$KEEL_TMP/os.iso")" ] || fail "query-block before: $(qmp_medium)"
xl cd-eject hvmos hdc || fail "xl cd-eject"
[ "$(qmp_medium)" = empty ] || fail "after xl cd-eject QEMU has $(qmp_medium)"
node /local/domain/0/backend/qdisk/$d/5632 params "empty:"
node /libxl/$d/device/vbd/5632 params "empty:"
wait_for "grep -q '^cd-sense 2' '$serial'" 60 || { show; fail "hvmos saw no medium go (sense 2)"; }
xl cd-insert hvmos hdc "$KEEL_TMP/other.iso" || fail "xl cd-insert"
[ "$(qmp_medium)" = 3145728 ] || fail "after xl cd-insert QEMU has $(qmp_medium)"
node /local/domain/0/backend/qdisk/$d/5632 params "aio:$KEEL_TMP/other.iso"
node /libxl/$d/device/vbd/5632 params "aio:$KEEL_TMP/other.iso"
node /local/domain/0/backend/qdisk/$d/5632 type qdisk
wait_for "grep -q '^cd-ready blocks 1536' '$serial'" 60 || { show; fail "hvmos did not see the new 3 MiB medium"; }
grep -q '^cd-sense 6' "$serial" || fail "hvmos got no unit attention (medium changed) before the new medium"
xl list -l hvmos | grep -q "other.iso" || fail "xl list -l does not name the new medium"
# the empty drive hdd (secondary slave, ide-5696) takes a medium and gives it back
[ "$(qmp_medium ide-5696)" = empty ] || fail "hdd was created with $(qmp_medium ide-5696)"
xl cd-insert hvmos hdd "$KEEL_TMP/os.iso" 2>"$KEEL_TMP/cd.err" ||
	fail "xl cd-insert into the empty hdd: $(cat "$KEEL_TMP/cd.err")"
[ "$(qmp_medium ide-5696)" = "$(stat -c %s "$KEEL_TMP/os.iso")" ] || fail "hdd after cd-insert: $(qmp_medium ide-5696)"
node /local/domain/0/backend/qdisk/$d/5696 params "aio:$KEEL_TMP/os.iso"
xl cd-eject hvmos hdd || fail "xl cd-eject hdd"
[ "$(qmp_medium ide-5696)" = empty ] || fail "hdd after cd-eject: $(qmp_medium ide-5696)"
node /local/domain/0/backend/qdisk/$d/5696 params "empty:"
cd_err() { # the command's exit status and message
	xl "$@" 2>"$KEEL_TMP/cd.err" && fail "xl $* succeeded"
	grep -q "$CD_WANT" "$KEEL_TMP/cd.err" || fail "xl $*: $(cat "$KEEL_TMP/cd.err")"
}
CD_WANT="cdrom-insert requires an HVM domain" cd_err cd-insert bystander hdc "$KEEL_TMP/os.iso"
CD_WANT="Virtual device not found" cd_err cd-insert hvmos hdb "$KEEL_TMP/os.iso"
CD_WANT="Virtual device not found" cd_err cd-eject hvmos hda
CD_WANT="Cannot stat file: $KEEL_TMP/nosuch.iso" cd_err cd-insert hvmos hdc "$KEEL_TMP/nosuch.iso"
[ "$(qmp_medium)" = 3145728 ] || fail "a refused cd-insert changed the medium: $(qmp_medium)"
node /local/domain/0/backend/qdisk/$d/5632 params "aio:$KEEL_TMP/other.iso"
echo "  $(since): hvmos saw xl cd-eject (no medium) and cd-insert (medium changed, then 1536 blocks); so did query-block and the vbds' params; the empty hdd took a medium and gave it back; bad requests refused as Xen"
echo "  triggers and CD took $(( ($(date +%s%N) - t_cd) / 1000000 )) ms"

# pause / unpause: the tick lines (every 50 LAPIC ticks) stop and resume
wait_for "grep -q '^tick 1' '$serial'" 60 || { show; fail "no tick line"; }
xl pause hvmos || fail "xl pause"
state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
[ "$(state hvmos)" = "--p---" ] || fail "paused: state $(state hvmos)"
n1=$(stat -c %s "$serial")
sleep 2 # an interval with nothing printed: what pause means
n2=$(stat -c %s "$serial")
[ "$n1" = "$n2" ] || fail "a paused HVM domain printed $((n2 - n1)) bytes"
ticks=$(grep -c '^tick' "$serial")
xl unpause hvmos || fail "xl unpause"
wait_for "[ \$(grep -c '^tick' '$serial') -gt $ticks ]" 60 || fail "no tick after unpause"
echo "  $(since): xl pause stopped the ticks at $ticks lines for 2 s, xl unpause resumed them"

# the device model killed mid-run: that domain crashes, nothing else
kill -9 "$qpid" || fail "kill QEMU"
wait_for '[ "$(state hvmos)" = ---sc- ]' 60 || fail "after QEMU was killed: state $(state hvmos)"
echo "  $(since): QEMU killed with -9: hvmos is $(state hvmos) (crashed, preserved)"
wait_for "[ ! -e /sys/class/net/$tap ]" 10 || fail "$tap outlived QEMU"
kill -0 "$kpid" 2>/dev/null || fail "keeld died with the device model"
case $(state bystander) in r-----|-b----) ;; *) fail "bystander: state $(state bystander)" ;; esac
xl dmesg | grep -q "d$d.*device model" && xl dmesg | grep "d$d.*device model" | tail -2 | sed 's/^/  keeld: /'
t_d=$(date +%s%N)
xl destroy hvmos || fail "xl destroy hvmos"
echo "  xl destroy hvmos took $(( ($(date +%s%N) - t_d) / 1000000 )) ms"
xl list hvmos >/dev/null 2>&1 && fail "hvmos is still listed after xl destroy"
wait_for "[ ! -e /sys/class/net/vif$d.0 ]" 10 || fail "keel-netback's vif$d.0 is left after xl destroy"
for p in /local/domain/0/backend/vbd/$d /local/domain/0/backend/qdisk/$d /local/domain/0/backend/vif/$d \
	/libxl/$d /local/domain/$d; do
	! st read "$p" >/dev/null 2>&1 || fail "$p is left after xl destroy: $(st ls "$p" 2>&1 | head -5)"
done
xl destroy bystander || fail "xl destroy bystander"
# the sector hvmos wrote, in the image file now the domain is gone
stamp=$(tr -d '\r' <"$serial" | sed -n 's/^ok ide-int13 .*stamp \([0-9]*\)$/\1/p')
[ -n "$stamp" ] || fail "no stamp in the ide-int13 line"
python3 - "$KEEL_TMP/disk.img" "$stamp" <<'PY' || fail "the disk image does not hold hvmos's sector"
import struct, sys
data = open(sys.argv[1], "rb").read()[40 * 512:41 * 512]
assert data[:32] == b"KEEL-HVMOS-SECTOR written by int", data[:40]
assert struct.unpack("<I", data[32:36])[0] == int(sys.argv[2]), data[32:36]
PY
echo "  the image holds LBA 40 as hvmos wrote it (stamp $stamp)"
hvm_keeld_san_clean
cleanup_xl
echo "hvm-os: ok ($(since))"
