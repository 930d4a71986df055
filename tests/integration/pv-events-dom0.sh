#!/usr/bin/env bash
# pv-events-dom0: a guest <-> dom0-process exchange through libkeelevtchn
# and libkeelgnttab.  The pv-grant guest grants a page (gref 8) to dom0
# and kicks its store port; keel-evtgnt-echo (built only on the two
# libraries) binds the port, waits on the handle's fd, reads the string by
# grant copy, answers it in the page mapped with map_grant_refs, notifies,
# and checks the libraries' refusals.  The guest checks the answer and
# that the grant is no longer in use, and prints SUCCESS.  Then a 200-round
# ping-pong between evt-dom0pp and keel-evtchn-pong (libkeelevtchn only).
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

d=$(ctl create evtgnt 64) || fail "create"
ctl load "$d" "$KEEL_GUESTS/pv-grant" || fail "load"
"$KEEL_BIN/keel-evtgnt-echo" "$d" 8 30 >"$KEEL_TMP/echo.out" 2>&1 &
epid=$!
sleep 0.3
ctl unpause "$d" || fail "unpause"
wait $epid || { cat "$KEEL_TMP/echo.out"; ctl console "$d"; fail "keel-evtgnt-echo failed"; }
cat "$KEEL_TMP/echo.out"
grep -q 'echoed through libkeelevtchn/libkeelgnttab: granted hello' "$KEEL_TMP/echo.out" ||
	fail "dom0 did not read the guest's string"
wait_for "ctl info $d | grep -Eq ' (shutdown|crashed) '" 30 || fail "guest did not finish"
ctl console "$d"
ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "pv-grant guest failed"

# 200-round event ping-pong with a dom0 process on libkeelevtchn alone.
p=$(ctl create evtpp 64) || fail "create evtpp"
ctl load "$p" "$KEEL_GUESTS/evt-dom0pp" || fail "load evtpp"
"$KEEL_BIN/keel-evtchn-pong" "$p" 200 30 >"$KEEL_TMP/pong.out" 2>&1 &
ppid=$!
sleep 0.3
ctl unpause "$p" || fail "unpause evtpp"
wait_for "ctl info $p | grep -Eq ' (shutdown|crashed) '" 60 || fail "evtpp did not finish"
ctl console "$p"
ctl console "$p" | grep -q '^Test result: SUCCESS' || fail "evt-dom0pp failed"
wait $ppid || { cat "$KEEL_TMP/pong.out"; fail "keel-evtchn-pong failed"; }
exit 0
