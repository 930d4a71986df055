#!/usr/bin/env bash
# hvm-hvmloader: Debian's unmodified hvmloader (xen-utils-4.17) as the
# first code of an HVM domain keeld built: its banner and the Xen version
# it detected (CPUID leaves, the hypercall page, xen_version) appear on
# port 0xe9 in the domain's console and as "(dN)" lines in keeld's log;
# it gets as far as its xenstore client (HVM params, special pages).  A
# tiny 32-bit payload (tests/hvm/badcalls.S) makes hypercalls with wild
# guest-physical pointers, an unknown number, bad parameters and bad
# populate_physmap arguments: each gets Xen's answer and keeld serves on.
# Through xl, hvmloader reads the hvmloader/bios key xl wrote (SeaBIOS's
# own run is hvm-seabios).  Both domains are destroyed; keeld's
# threads and descriptors are back where they were.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
command -v as >/dev/null && command -v ld >/dev/null || skip "binutils (as, ld) missing"
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
as --32 "$KEEL_TOP/tests/hvm/badcalls.S" -o "$KEEL_TMP/badcalls.o" &&
	ld -m elf_i386 -Ttext 0x100000 -e _start "$KEEL_TMP/badcalls.o" -o "$KEEL_TMP/badcalls" ||
	fail "cannot build the badcalls payload"
as --32 "$KEEL_TOP/tests/hvm/triplefault.S" -o "$KEEL_TMP/triplefault.o" &&
	ld -m elf_i386 -Ttext 0x100000 -e _start "$KEEL_TMP/triplefault.o" -o "$KEEL_TMP/triplefault" ||
	fail "cannot build the triplefault payload"
start_keeld

nthreads() { ls "/proc/$kpid/task" | wc -l; }
nfds() { ls "/proc/$kpid/fd" | wc -l; }
threads0=$(nthreads)
fds0=$(nfds)

h=$(ctl create-hvm hvmloader 32) || fail "create an HVM domain"
ctl load "$h" "$hvmloader" || fail "load hvmloader"
ctl info "$h" | grep -q ' paused ' || fail "a loaded HVM domain should wait paused"
ctl unpause "$h" || fail "unpause"
wait_for "ctl console $h | grep -q '^HVM Loader'" 30 ||
	{ ctl dmesg | tail -20; fail "no 'HVM Loader' banner on port 0xe9"; }
wait_for "ctl console $h | grep -q '^Detected Xen v4\.17'" 30 ||
	{ ctl console "$h"; fail "hvmloader did not detect Xen 4.17"; }
wait_for "ctl console $h | grep -q '^Xenbus rings @0xfeffc000'" 30 ||
	{ ctl console "$h"; fail "hvmloader did not find the store page at Xen's special pfn"; }
ctl console "$h" | sed 's/^/  console: /'
ctl dmesg | grep -q "(d$h) HVM Loader" || fail "hvmloader's banner is not in keeld's log"
ctl info "$h" | grep -q ' running ' || fail "hvmloader should still run (waiting for the store)"
ctl destroy "$h" || fail "destroy the hvmloader domain"

b=$(ctl create-hvm badcalls 16) || fail "create the badcalls domain"
ctl load "$b" "$KEEL_TMP/badcalls" || fail "load the badcalls payload"
ctl unpause "$b" || fail "unpause badcalls"
wait_for "ctl info $b | grep -q ' shutdown '" 30 ||
	{ ctl console "$b"; ctl info "$b"; fail "the badcalls payload did not power off"; }
ctl console "$b" | grep -q '^hvm-badcalls: all refused' ||
	{ ctl console "$b"; fail "keeld accepted a bad hypercall"; }
ctl destroy "$b" || fail "destroy badcalls"

# A triple fault shuts the domain down as Xen does: reboot (reason 1), the
# default HVM_PARAM_TRIPLE_FAULT_REASON -- how SeaBIOS resets the machine.
t=$(ctl create-hvm triplefault 16) || fail "create triplefault"
ctl load "$t" "$KEEL_TMP/triplefault" || fail "load the triplefault payload"
ctl unpause "$t" || fail "unpause triplefault"
wait_for "ctl info $t | grep -q ' shutdown .*reason=1'" 30 ||
	{ ctl info "$t"; ctl dmesg | tail -5; fail "a triple fault did not reboot the domain"; }
ctl dmesg | grep -q "d$t: vcpu0 triple fault - invoking HVM shutdown action 1" ||
	fail "keeld did not log the triple fault"
ctl destroy "$t" || fail "destroy triplefault"

# A firmware that is no ELF is refused at load, and nothing is left.
x=$(ctl create-hvm notelf 16) || fail "create notelf"
head -c 4096 /dev/urandom >"$KEEL_TMP/notelf"
ctl load "$x" "$KEEL_TMP/notelf" 2>/dev/null && fail "a non-ELF firmware was accepted"
ctl destroy "$x" || fail "destroy notelf"

# A BIOS module that does not fit below the MMIO hole of a 16 MiB domain
# is refused at load; the firmware with Debian's SeaBIOS loads.
y=$(ctl create-hvm bigbios 16) || fail "create bigbios"
head -c $((20 << 20)) /dev/zero >"$KEEL_TMP/bigbios"
ctl load "$y" "$hvmloader" "" "$KEEL_TMP/bigbios" 2>/dev/null && fail "a 20 MiB BIOS was accepted"
ctl destroy "$y" || fail "destroy bigbios"
y=$(ctl create-hvm withbios 16) || fail "create withbios"
ctl load "$y" "$hvmloader" "" "$KEEL_SEABIOS" || fail "load hvmloader with SeaBIOS as its module"
ctl dmesg | grep -q "d$y: hvm: .*BIOS module $(stat -c %s "$KEEL_SEABIOS") bytes" ||
	fail "keeld did not take SeaBIOS as the firmware module"
ctl destroy "$y" || fail "destroy withbios"

kill -0 "$kpid" 2>/dev/null || fail "keeld died"
ctl list >/dev/null || fail "keeld stopped answering"
wait_for "[ \$(nthreads) -le $threads0 ]" 10 || fail "keeld threads leaked: $threads0 -> $(nthreads)"
[ "$(nfds)" -le "$fds0" ] || { ls -l "/proc/$kpid/fd"; fail "keeld descriptors leaked: $fds0 -> $(nfds)"; }
hvm_keeld_san_clean "$KEEL_TMP/keeld.log"

# --- through xl: type="hvm" with dom0 up (keel-xenstored answers the store) ---
run=$KEEL_TMP/xlrun
cleanup_xl() { "$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1; }
trap 'kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null; cleanup_xl' EXIT
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" ||
	fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
xl() { KEEL_RUNDIR=$run "$KEEL_BIN/xl" "$@"; }
cat >"$KEEL_TMP/hvm.cfg" <<CFG
name = "hvm1"
type = "hvm"
memory = 32
vcpus = 1
on_crash = "preserve"
CFG
xl create -q "$KEEL_TMP/hvm.cfg" || fail "xl create type=hvm"
wait_for "xl dmesg | grep -q '(d[0-9]*) Xenbus rings'" 30 || { xl dmesg | tail; fail "xl: hvmloader did not reach xenbus"; }
# hvmloader's first xenstore read (hvmloader/bios, written by xl) is answered
wait_for "xl dmesg | grep -q '(d[0-9]*) System requested SeaBIOS'" 30 ||
	{ xl dmesg | tail; fail "xl: hvmloader did not read hvmloader/bios = seabios"; }
xl dmesg | grep '(d[0-9]*) ' | sed 's/^/  xl dmesg: /'
xl destroy hvm1 || fail "xl destroy hvm1"
cleanup_xl
echo "hvm-hvmloader: ok"
