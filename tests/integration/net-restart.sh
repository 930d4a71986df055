#!/usr/bin/env bash
# net-restart: kill -9 of keel-netback while two guests exchange frames
# (net-pair: each frame resent until its echo comes back), then a new
# keel-netback: it finds both vifs Connected in the store, maps their
# rings again where the responses stopped, rebinds their event channels,
# creates their TAP devices anew on the bridge, and the exchange carries on
# to the last frame, every echo checked by the guest.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/net-lib.sh"
[ -f "$KEEL_GUESTS/net-pair" ] || fail "missing $KEEL_GUESTS/net-pair"
net_up keelbr0 10.99.78.1/24

b=$(net_guest pairb "$KEEL_GUESTS/net-pair" 00:16:3e:63:4a:0b role=echo peer=00:16:3e:63:4a:0a count=30000)
a=$(net_guest paira "$KEEL_GUESTS/net-pair" 00:16:3e:63:4a:0a role=send peer=00:16:3e:63:4a:0b count=30000)
wait_for "nsx ip link show vif$a.0 >/dev/null 2>&1" 10 || fail "no vif$a.0"
sleep 1
net_con paira | grep -q '^Test result' && fail "the exchange ended before the kill (count too small)"
kill -9 "$NB_PID"
echo "killed keel-netback $NB_PID mid-exchange"
wait_for "! nsx ip link show vif$a.0 >/dev/null 2>&1" 5 || fail "vif$a.0 outlived its backend"
# A new backend (its pid file names the dead one, which may linger as a zombie).
rm -f "$run/netback.pid"
nsx "$KEEL_BIN/keel-dom0-up" --rundir "$run" --bridge keelbr0 >"$KEEL_TMP/up2.out" 2>&1 ||
	fail "keel-dom0-up again: $(cat "$KEEL_TMP/up2.out")"
NB_PID=$(cat "$run/netback.pid")
[ -n "$NB_PID" ] && kill -0 "$NB_PID" || fail "no new keel-netback: $(cat "$KEEL_TMP/up2.out")"
wait_for "nsx ip -o link show master keelbr0 | grep -q vif$a.0" 10 || fail "vif$a.0 not back on the bridge"
net_result paira 90
net_result pairb 30
grep -q 'net-pair: 30000 frames echoed in order' "$KEEL_TMP/paira.con" || fail "not every frame"
for d in $a $b; do
	[ "$(st read /local/domain/0/backend/vif/$d/0/state)" = 6 ] || fail "vif of domain $d not closed at the end"
done
# keeld unbinds a dead process's ports (its socket closed); a backend also
# takes over a port still bound to dom0.
grep -q "unbound (its dom0 process went away)" "$run/log/keeld.log" ||
	grep -q "port .* was still bound to dom0 (a previous backend?), rebinding" "$NB_LOG" ||
	fail "the new backend did not take over the event channels"
echo "ok: $(sed -n 's/.*(\([0-9]*\) resends).*/\1/p' "$KEEL_TMP/paira.con") frames resent across the restart"
exit 0
