#!/usr/bin/env bash
# console-io: a domU's HYPERVISOR_console_io output goes to the hypervisor's
# log with the domain's prefix, as Xen's does (`xl dmesg`: "(dN) ..."), and
# not to the guest's console; what the guest writes on its console ring is
# the console, and is not in the log.  pv-consio writes one line each way
# (and one console_io line in two calls, with control bytes Xen drops);
# checked in the three places a guest's output can be read:
#  1. `keeld run`: the console (the stand-in backend) on stdout, the log on stderr;
#  2. `keeld daemon` with no console backend: `keelctl console` / `keelctl dmesg`;
#  3. keel-dom0-up (keel-consoled serving the ring) and `xl create`: the
#     console log keel-consoled keeps and `xl console`, against `xl dmesg`.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
for f in keeld keelctl xl keel-dom0-up keel-dom0-down keel-consoled; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
guest=$KEEL_GUESTS/pv-consio
[ -f "$guest" ] || fail "missing $guest"
ring='pv-consio: via the ring'
io='pv-consio: via console_io'
joined=$(printf 'pv-consio: one line in two\twrites')

# expect_split WHAT CONSOLE-FILE LOG-FILE DOMID: each line where it belongs, only there
expect_split() {
	local what=$1 con=$2 log=$3 id=$4
	grep -q "^$ring" "$con" || fail "$what: the ring's line is not on the console: $(head -5 "$con")"
	grep -q '^Test result: SUCCESS' "$con" || fail "$what: guest verdict: $(grep -E 'FAIL|result' "$con")"
	grep -qF "$io" "$con" && fail "$what: the console_io line is on the console"
	grep -qF "pv-consio: one" "$con" && fail "$what: a console_io line is on the console"
	grep -qF "($id) $io" "$log" || fail "$what: no '($id) $io' in the log: $(grep -F pv-consio "$log")"
	grep -qxF "($id) $joined" "$log" ||
		fail "$what: the line written in two calls: $(grep -F 'pv-consio: one' "$log" | cat -A)"
	grep -qF "$ring" "$log" && fail "$what: the ring's line is in the log"
	echo "$what: ok"
}

# 1. keeld run
timeout 60 "$KEEL_BIN/keeld" run --kernel "$guest" --memory 32 >"$KEEL_TMP/run.out" 2>"$KEEL_TMP/run.err" ||
	{ cat "$KEEL_TMP/run.out" "$KEEL_TMP/run.err"; fail "keeld run pv-consio"; }
sed -i 's/^(keeld) //' "$KEEL_TMP/run.err"
expect_split "keeld run" "$KEEL_TMP/run.out" "$KEEL_TMP/run.err" d1

# 2. keeld daemon, no console backend: keeld's stand-in drains the ring
start_keeld
d=$(ctl create consio 32) || fail "create"
ctl load "$d" "$guest" || fail "load"
ctl unpause "$d" || fail "unpause"
wait_for "ctl info $d | grep -q ' shutdown '" 30 || { ctl console "$d"; fail "the guest did not finish"; }
ctl console "$d" >"$KEEL_TMP/daemon.con"
ctl dmesg >"$KEEL_TMP/daemon.log"
expect_split "keeld daemon" "$KEEL_TMP/daemon.con" "$KEEL_TMP/daemon.log" "d$d"
ctl destroy "$d" >/dev/null 2>&1
kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null
trap - EXIT

# 3. xl and keel-consoled
run=$KEEL_TMP/dom0
cleanup() {
	local rc=$?
	[ $rc = 0 ] || tail -n 20 "$run"/log/*.log 2>/dev/null
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	return $rc
}
trap cleanup EXIT
export KEEL_RUNDIR=$run
xl() { "$KEEL_BIN/xl" "$@"; }
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" || fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
grep -q "keel-consoled running" "$KEEL_TMP/up.out" || fail "keel-consoled did not start: $(cat "$KEEL_TMP/up.out")"
cat >"$KEEL_TMP/consio.cfg" <<CFG
name = "consio"
kernel = "$guest"
memory = 16
vcpus = 1
on_poweroff = "preserve"
CFG
xl create "$KEEL_TMP/consio.cfg" 2>"$KEEL_TMP/create.err" || fail "create: $(cat "$KEEL_TMP/create.err")"
id=$(xl domid consio) || fail "domid"
wait_for "\"$KEEL_BIN/keelctl\" info $id | grep -q ' shutdown '" 30 || fail "the guest did not finish"
log=$run/console/guest-consio.log
wait_for "grep -q '^Test result' '$log'" 10 || fail "keel-consoled's log: $(cat "$log" 2>/dev/null)"
timeout 2 "$KEEL_BIN/xl" console consio >"$KEEL_TMP/xl.con" 2>/dev/null
xl dmesg >"$KEEL_TMP/xl.log" || fail "xl dmesg"
expect_split "keel-consoled's log" "$log" "$KEEL_TMP/xl.log" "d$id"
expect_split "xl console" "$KEEL_TMP/xl.con" "$KEEL_TMP/xl.log" "d$id"
xl destroy consio >/dev/null 2>&1 || true
echo "console-io: ok"
