#!/usr/bin/env bash
# pv-grant-dom0release: keeld releases what a dom0 process held when it
# dies, as Linux's gntdev and evtchn drivers do when their files close.
# The gnt-dom0release guest grants dom0 pages and leaves its store port
# unbound for dom0; keel-grant-holder (libkeelgnttab + libkeelevtchn) maps
# them (one alone writable, one read-only, 8 in one MAP_GRANTS batch),
# binds the port, writes into the writable page and is killed with -9
# without unmapping or unbinding.  Before the kill the guest sees every
# grant busy and a second process cannot bind the port; after it keeld's
# log shows the release, the guest revokes every grant (end of foreign
# access succeeds) and exchanges events over the same port with
# keel-evtchn-pong, a new dom0 process.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

d=$(ctl create dom0rel 64) || fail "create"
ctl load "$d" "$KEEL_GUESTS/gnt-dom0release" || fail "load"
ctl unpause "$d" || fail "unpause"
wait_for "ctl console $d | grep -q '^gnt-refs'" 30 || { ctl console "$d"; fail "no refs"; }
ctl console "$d" | grep '^gnt-refs'
"$KEEL_BIN/keel-grant-holder" "$d" 8 9 16 8 >"$KEEL_TMP/holder.out" 2>&1 &
hpid=$!
ppid=
trap 'kill -9 $hpid $ppid 2>/dev/null; kill -9 $kpid 2>/dev/null; wait 2>/dev/null' EXIT
wait_for "grep -q '^holding' $KEEL_TMP/holder.out || ! kill -0 $hpid" 30 ||
	fail "keel-grant-holder did not map"
cat "$KEEL_TMP/holder.out"
kill -0 $hpid 2>/dev/null || { ctl console "$d"; fail "keel-grant-holder failed"; }
wait_for "ctl console $d | grep -q '^rel-held'" 30 ||
	{ ctl console "$d"; fail "the guest did not see its grants held"; }

# While the holder lives, its binding stands: another process is refused.
if "$KEEL_BIN/keel-evtchn-pong" "$d" 1 2 >"$KEEL_TMP/pong0.out" 2>&1; then
	fail "a second process bound the port while the first held it"
fi
cat "$KEEL_TMP/pong0.out"

kill -9 $hpid
wait $hpid 2>/dev/null
# Two connections went: libkeelgnttab's handle and libkeelevtchn's.
wait_for "grep -q 'released 10 grant maps, 0 event channels' $KEEL_TMP/keeld.log &&
	grep -q 'released 0 grant maps, 1 event channels' $KEEL_TMP/keeld.log" 10 ||
	{ cat "$KEEL_TMP/keeld.log"; fail "keeld did not release the dead process's maps and port"; }
grep -E 'released|went away' "$KEEL_TMP/keeld.log"
wait_for "ctl console $d | grep -q '^rel-revoked'" 30 ||
	{ ctl console "$d"; fail "the guest could not revoke its grants"; }

"$KEEL_BIN/keel-evtchn-pong" "$d" 20 30 >"$KEEL_TMP/pong.out" 2>&1 &
ppid=$!
wait_for "ctl info $d | grep -Eq ' (shutdown|crashed) '" 60 || { ctl console "$d"; fail "guest did not finish"; }
wait $ppid || { cat "$KEEL_TMP/pong.out"; fail "keel-evtchn-pong failed"; }
cat "$KEEL_TMP/pong.out"
echo "== guest"
ctl console "$d"
ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "gnt-dom0release failed"
ctl destroy "$d"
ctl list >/dev/null || fail "keeld stopped answering"
exit 0
