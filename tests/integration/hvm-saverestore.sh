#!/usr/bin/env bash
# hvm-saverestore: xl save / xl restore of an HVM domain, as libxl does it
# for a guest without PV drivers.  Keel's HVM test OS (build/guests/
# hvmos.img on QEMU's IDE disk hda, COM1 to a file, an rtl8139 whose iPXE
# ROM QEMU populates past the domain's RAM) runs its checks, then
# prints "tick N" every 50 LAPIC-timer interrupts (0.5 s), with an ATAPI
# look at the secondary IDE channel each time.  While it ticks, xl save:
# dom0 suspends it, QEMU writes its device state through QMP
# (xen-save-devices-state) and keeld its records; the domain and its
# QEMU are gone.  A truncated and a damaged copy of the image are refused
# with a clear message and leave no domain and no QEMU; so is a good image
# around damaged keeld records (keeld says which value it refused).  xl restore: a
# new QEMU loads the device state (-incoming), the domain runs on where
# it was (2 vCPUs: the second started by hvmos, INIT/SIPI and IPIs both
# ways, and halted with interrupts on): the first tick after the restore continues the count (the
# counter lives in its RAM, the loop in its registers -- it did not boot
# again), ticks keep coming (KVM's LAPIC timer), and they reach the file
# through the new QEMU's 16550 (port ioreqs to QEMU); the new QEMU found
# its ROM's frames where keeld restored them (it does not populate them
# again when restoring) and reports no error.  A paused domain is saved
# too (as on Xen: nothing is asked of the guest) and restored paused with
# the same RAM, byte for byte (xl dump-core before and after), and ticks
# on once unpaused.  xl save -c (checkpoint) leaves it running.  Times of
# save and restore are printed.
# keel-test: timeout 600
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_guest hvmos.img
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
hvm_bridge
hvm_qemu_dom0 --bridge "$br"
truncate -s 1M "$KEEL_TMP/disk.img" &&
	dd if="$KEEL_GUESTS/hvmos.img" of="$KEEL_TMP/disk.img" conv=notrunc status=none ||
	fail "making the disk"
serial=$KEEL_TMP/serial.txt
cat >"$KEEL_TMP/hvm.cfg" <<CFG
name = "hvmsr"
type = "hvm"
memory = 32
vcpus = 2
on_crash = "preserve"
boot = "c"
disk = [ 'format=raw,vdev=hda,access=rw,target=$KEEL_TMP/disk.img' ]
serial = [ "file:$serial" ]
vif = [ 'mac=00:16:3e:4b:45:03,bridge=$br' ]
CFG
show() { xl dmesg | tail -25; tail -20 "$run/log/qemu-dm-hvmsr.log"; tail -5 "$serial"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
last_tick() { tr -d '\r' <"$1" | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -1; }
no_domain() { # WHY: no hvmsr in xl list, keeld alive
	! xl list | grep -q '^hvmsr ' || fail "$1: a domain hvmsr is left: $(xl list)"
	kill -0 "$kpid" 2>/dev/null || fail "$1: keeld died"
}
hvm_clock
xl create -q "$KEEL_TMP/hvm.cfg" || fail "xl create"
d=$(xl domid hvmsr) || fail "no domid"
wait_for "grep -qs 'hvmos: checks done' '$serial'" 300 || { show; fail "hvmos did not finish its checks"; }
grep -q 'checks done, failed 0' "$serial" || { show; fail "hvmos counted failures"; }
# its second vCPU started (INIT/SIPI) and idles halted through the save
tr -d '\r' <"$serial" | grep -qE '^ok smp: AP -> BSP ipi 1/1$' ||
	{ show; fail "hvmos did not run its AP: $(grep -a smp "$serial")"; }
wait_for "grep -q '^tick 2' '$serial'" 60 || { show; fail "no tick lines"; }
echo "  $(since): hvmos ticks"
qpid=$(st read /local/domain/$d/image/device-model-pid) || fail "no device-model-pid"

# xl save while it runs: the domain and its QEMU go
img=$KEEL_TMP/hvmsr.save
t=$(date +%s%N)
xl save hvmsr "$img" >"$KEEL_TMP/save.out" 2>&1 || { show; fail "xl save: $(cat "$KEEL_TMP/save.out")"; }
save_ms=$(ms "$t")
no_domain "after xl save"
wait_for "! kill -0 $qpid 2>/dev/null" 10 || fail "QEMU $qpid still runs after xl save"
n=$(last_tick "$serial")
[ -n "$n" ] || fail "no tick before the save"
echo "  xl save: $save_ms ms, $(stat -c %s "$img") bytes (hvmos was at tick $n)"
xl dmesg | grep -q "d$d: state saved" || fail "keeld logged no save of d$d"

# damaged images are refused; nothing is left behind
head -c $(( $(stat -c %s "$img") / 2 )) "$img" >"$KEEL_TMP/short.save"
xl restore "$KEEL_TMP/short.save" >"$KEEL_TMP/short.out" 2>&1 && fail "xl restored a truncated image"
grep -qi "truncated" "$KEEL_TMP/short.out" || fail "no clear error for a truncated image: $(cat "$KEEL_TMP/short.out")"
no_domain "after a truncated image"
cp "$img" "$KEEL_TMP/bad.save"
printf '\x5a' | dd of="$KEEL_TMP/bad.save" bs=1 seek=$(( $(stat -c %s "$img") / 3 )) conv=notrunc status=none
xl restore "$KEEL_TMP/bad.save" >"$KEEL_TMP/bad.out" 2>&1 && fail "xl restored a damaged image"
grep -qi "checksum\|corrupt" "$KEEL_TMP/bad.out" || fail "no clear error for a damaged image: $(cat "$KEEL_TMP/bad.out")"
no_domain "after a damaged image"
# a good container around damaged keeld records (the hvm-domain record's
# console port made the store's, its CRC made good again): keeld refuses
# the state before touching anything, xl removes the half-built domain
python3 - "$img" "$KEEL_TMP/rec.save" <<'PY' || fail "rewriting the image"
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
raw = bytearray(zlib.decompress(b[64:]))
off = 0
while True: # sections {u64 type, u64 len}; MEMORY's length counts pages
    t, n = struct.unpack_from("<QQ", raw, off)
    off += 16
    if t == 3: # keeld's state: header, then {type, version, flags, len, crc}
        r = off + 16
        assert struct.unpack_from("<I", raw, r)[0] == 10 # hvm-domain
        ln = struct.unpack_from("<I", raw, r + 8)[0]
        pay = r + 16
        sport = struct.unpack_from("<I", raw, pay + 52)[0]
        struct.pack_into("<I", raw, pay + 56, sport) # console port = store port
        struct.pack_into("<I", raw, r + 12, zlib.crc32(bytes(raw[pay:pay + ln])))
        break
    if t == 2:
        off += 8
        while True:
            pfn, cnt = struct.unpack_from("<QQ", raw, off)
            off += 16
            if pfn == (1 << 64) - 1:
                break
            off += cnt * 4096
        continue
    off += n
comp = zlib.compress(bytes(raw), 1)
h = bytearray(b[:64])
struct.pack_into("<QQI", h, 16, len(comp), len(raw), zlib.crc32(comp))
struct.pack_into("<I", h, 40, 0)
struct.pack_into("<I", h, 40, zlib.crc32(bytes(h)))
open(sys.argv[2], "wb").write(bytes(h) + comp)
PY
xl restore "$KEEL_TMP/rec.save" >"$KEEL_TMP/rec.out" 2>&1 && fail "xl restored damaged keeld records"
grep -q "keeld refused the image's state" "$KEEL_TMP/rec.out" || fail "no clear error for damaged records: $(cat "$KEEL_TMP/rec.out")"
xl dmesg | grep -q "restore refused: hvm-domain record: ports" || fail "keeld did not say why: $(xl dmesg | tail -3)"
no_domain "after damaged keeld records"
[ -z "$(pgrep -f 'qemu-system-i386.*-name hvmsr')" ] || fail "a QEMU for hvmsr is left"
echo "  a truncated and a damaged image, damaged keeld records: refused, nothing left"
echo "    $(head -1 "$KEEL_TMP/short.out" | sed "s|$KEEL_TMP/||")"
echo "    $(head -1 "$KEEL_TMP/bad.out" | sed "s|$KEEL_TMP/||")"
echo "    keeld: $(xl dmesg | grep -o 'restore refused: .*' | tail -1)"

# xl restore: it goes on from tick n
cp "$serial" "$KEEL_TMP/serial.before"
t=$(date +%s%N)
xl restore "$img" >"$KEEL_TMP/restore.out" 2>&1 || { show; fail "xl restore: $(cat "$KEEL_TMP/restore.out")"; }
restore_ms=$(ms "$t")
d2=$(xl domid hvmsr) || fail "no domain hvmsr after xl restore"
[ "$d2" != "$d" ] || fail "restored under the old domid $d"
# both vCPUs came back (the second one as hvmloader left it: its LAPIC and
# KVM's mp_state are in keeld's records)
[ "$(xl vcpu-list hvmsr | awk '$1 == "hvmsr"' | wc -l)" = 2 ] ||
	{ xl vcpu-list hvmsr; fail "the restored domain does not have its 2 vCPUs"; }
grep -q -- "-incoming" "/proc/$(st read /local/domain/$d2/image/device-model-pid)/cmdline" ||
	fail "QEMU was not started with -incoming"
wait_for "[ \"\$(last_tick '$serial')\" -ge $((n + 3)) ] 2>/dev/null" 60 ||
	{ show; fail "no ticks after the restore (before: tick $n)"; }
first=$(tr -d '\r' <"$serial" | sed -n 's/^tick \([0-9]*\)$/\1/p' | head -1)
[ "$first" -gt "$n" ] && [ "$first" -le $((n + 2)) ] ||
	fail "the first tick after the restore is $first (tick $n before the save)"
grep -aq 'hvmos: checks\|^FAIL' "$serial" && fail "hvmos started again or failed: $(head -5 "$serial")"
grep -q "when runstate is INMIGRATE" "$run/log/qemu-dm-hvmsr.log" ||
	fail "QEMU did not restore (no INMIGRATE): $(tail -5 "$run/log/qemu-dm-hvmsr.log")"
# QEMU's own complaints (error_report's prefix, a failed map or load);
# its exit at the save's SIGHUP is not one
qemu_err() {
	grep -E '^xen-qemu-system-i386: |[Ff]ailed to |load of migration failed|error while loading' \
		"$run/log/qemu-dm-hvmsr.log" | grep -v 'terminating on signal'
}
[ -z "$(qemu_err)" ] || fail "QEMU's log after the restore: $(qemu_err)"
xl dmesg | grep -q "d$d2: hvm: restored from d$d's saved state" || fail "keeld logged no restore of d$d2"
# libxl's default cirrus card: QEMU moved its video RAM to the card's
# framebuffer BAR (relocate_memory); keeld's records move it there again,
# where the loading QEMU maps it (its INMIGRATE path asserts it can)
reloc=$(xl dmesg | grep -o "d$d: relocate_memory: [0-9]* frames from gfn 0x[0-9a-f]* to gfn 0x[0-9a-f]*" | tail -1)
[ -n "$reloc" ] || fail "QEMU did not move its video RAM to the framebuffer (no relocate_memory for d$d)"
xl dmesg | grep -q "d$d2: relocate_memory: ${reloc#*: relocate_memory: }" ||
	fail "the restored d$d2's video RAM is not where d$d's was ($reloc)"
echo "  video RAM at the framebuffer again: ${reloc#*: relocate_memory: }"
echo "  xl restore: $restore_ms ms; ticks go on: $n before, $first first after, $(last_tick "$serial") now (as d$d2)"

# a paused domain saved and restored paused: its RAM is the same, byte
# for byte (xl dump-core's .xen_pages before the save and after the restore)
pages() { # CORE: the .xen_pages section's SHA-256
	python3 - "$1" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
shoff, = struct.unpack_from("<Q", b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)
sec = [struct.unpack_from("<IIQQQQ", b, shoff + i * shentsize) for i in range(shnum)]
strtab = sec[shstrndx]
for name, _, _, _, off, size in sec:
    n = b[strtab[4] + name:].split(b"\0", 1)[0]
    if n == b".xen_pages":
        print(size, hashlib.sha256(b[off:off + size]).hexdigest())
PY
}
xl pause hvmsr || fail "xl pause"
xl dump-core hvmsr "$KEEL_TMP/a.core" >/dev/null || fail "xl dump-core before the save"
a=$(pages "$KEEL_TMP/a.core")
[ -n "$a" ] || fail "no .xen_pages in the core"
xl save hvmsr "$KEEL_TMP/p.save" >"$KEEL_TMP/p.out" 2>&1 || fail "xl save of a paused domain: $(cat "$KEEL_TMP/p.out")"
no_domain "after saving the paused domain"
xl restore -p "$KEEL_TMP/p.save" >"$KEEL_TMP/p.out" 2>&1 || fail "xl restore -p: $(cat "$KEEL_TMP/p.out")"
d2=$(xl domid hvmsr) || fail "no domain hvmsr after xl restore -p"
xl list | grep -E "^hvmsr +$d2 .* --p--- " >/dev/null || fail "restored -p: $(xl list)"
xl dump-core hvmsr "$KEEL_TMP/b.core" >/dev/null || fail "xl dump-core after the restore"
[ "$(pages "$KEEL_TMP/b.core")" = "$a" ] || fail "RAM differs after save and restore: $a / $(pages "$KEEL_TMP/b.core")"
m=$(last_tick "$serial")
xl unpause hvmsr || fail "xl unpause"
wait_for "[ \"\$(last_tick '$serial')\" -gt ${m:-0} ] 2>/dev/null" 60 || { show; fail "no ticks after restore -p and unpause"; }
echo "  paused: saved, restored -p, the same RAM (${a%% *} bytes, sha256 ${a#* }), ticks on after unpause"

# xl save -c: a checkpoint, the domain runs on
m=$(last_tick "$serial")
xl save -c hvmsr "$KEEL_TMP/c.save" >"$KEEL_TMP/c.out" 2>&1 || { show; fail "xl save -c: $(cat "$KEEL_TMP/c.out")"; }
[ "$(xl domid hvmsr)" = "$d2" ] || fail "xl save -c: the domain went"
wait_for "[ \"\$(last_tick '$serial')\" -ge $((m + 3)) ] 2>/dev/null" 60 ||
	{ show; fail "no ticks after xl save -c"; }
echo "  xl save -c: hvmsr runs on (tick $m, then $(last_tick "$serial"))"
xl destroy hvmsr || fail "xl destroy"
no_domain "after xl destroy"
echo "  $(since): done"
