#!/usr/bin/env bash
# hvm-seabios: xl create type="hvm" runs Debian's unmodified hvmloader,
# which is given what libxl gives it (hvmloader/bios = "seabios" and the
# platform/* keys in the store, Debian's bios-256k.bin as the start info's
# "firmware" module, the hvm_info table) and hands over to Debian's
# unmodified SeaBIOS: hvmloader populates its ACPI tables in the MMIO hole
# (XENMEM_populate_physmap), probes PCI (no device model: no devices),
# reads the CPU speed from shared_info; SeaBIOS prints its banner on Xen's
# debug port 0xe9 and reaches its boot stage, where with no disk it finds
# no bootable device.  Each step is waited for as a line in keeld's log
# (xl dmesg), with timeouts for this slow host; the times are printed.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
run=$KEEL_TMP/xlrun
cleanup_xl() { "$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1; }
trap cleanup_xl EXIT
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" ||
	fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
xl() { KEEL_RUNDIR=$run "$KEEL_BIN/xl" "$@"; }
kpid=$(cat "$run/keeld.pid") || fail "keel-dom0-up left no keeld.pid"
cat >"$KEEL_TMP/hvm.cfg" <<CFG
name = "seabios1"
type = "hvm"
memory = 32
vcpus = 1
on_crash = "preserve"
CFG
t0=$(date +%s.%N)
since() { printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
xl create -q "$KEEL_TMP/hvm.cfg" || fail "xl create type=hvm"
d=$(xl domid seabios1) || fail "no domid for seabios1"
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
[ "$(st read /local/domain/$d/hvmloader/bios)" = seabios ] || fail "hvmloader/bios is not seabios"
[ "$(st read /local/domain/$d/platform/device-model)" = qemu_xen ] ||
	fail "platform/device-model is not libxl's qemu_xen"
# step(): wait for a line of domain d's debug output in keeld's log
step() { # PATTERN TIMEOUT WHAT
	wait_for "xl dmesg | grep -q '(d$d) $1'" "$2" ||
		{ xl dmesg | grep "(d$d)" | tail -25; xl list; fail "$3"; }
	echo "  $(since): $3"
}
step 'System requested SeaBIOS' 120 "hvmloader read hvmloader/bios = seabios"
step 'CPU speed is [1-9]' 120 "hvmloader read the TSC scale from shared_info"
step 'Loading SeaBIOS' 600 "hvmloader loads SeaBIOS from the firmware module"
step 'Invoking SeaBIOS' 600 "hvmloader built its tables and hands over"
step 'SeaBIOS (version' 600 "SeaBIOS printed its banner on port 0xe9"
step 'Found 0 PCI devices' 600 "SeaBIOS probed PCI: the CF8 latch reads back, no device answers"
step 'Using pmtimer, ioport 0xb008' 600 "SeaBIOS times itself with keeld's PM timer at hvmloader's 0xb000 block"
step 'No bootable device' 900 "SeaBIOS reached its boot stage (no disk: no bootable device)"
xl dmesg | grep "(d$d)" | grep -E 'Loading ACPI|Relocating|pci dev|SeaBIOS|xen: |Booting|bootable|Passed|Failed|Skip|PM|CPU speed|PCI devices|wire' |
	sed 's/^/  xl dmesg: /'
# hvmloader's E820 for SeaBIOS: its own low 640 KiB and BIOS area beside
# the toolstack's map (RAM from 1 MiB, as libxl's), nothing overlapping
xl dmesg | grep "(d$d) " | sed -n '/E820 table:/,/Invoking SeaBIOS/p' | sed 's/^/  /'
xl dmesg | grep -q "(d$d)  OVERLAP" && fail "hvmloader's E820 table has overlapping entries"
xl list seabios1 | grep -q seabios1 || fail "the domain is gone"
kill -0 "$kpid" 2>/dev/null || fail "keeld died"
xl destroy seabios1 || fail "xl destroy seabios1"
if grep -qE "Sanitizer|runtime error" "$run/log/keeld.log"; then
	grep -E -A12 "Sanitizer|runtime error" "$run/log/keeld.log" | head -40
	fail "keeld reported a sanitizer error"
fi
cleanup_xl
echo "hvm-seabios: ok"
