#!/usr/bin/env bash
# pv-daemon: keeld's control socket driven through libkeelctl's client:
# several domains at once (one crashes, the others run on), pause/unpause
# of a running domain, get info, list, console, dmesg, destroy; a dom0
# process mapping a guest frame and binding its event channel; and a caller
# that is neither root nor in group keel is turned away (SO_PEERCRED).
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

good=$(ctl create good 64) || fail "create good"
bad=$(ctl create bad 64) || fail "create bad"
spin=$(ctl create spin 64) || fail "create spin"
ctl load "$good" "$KEEL_GUESTS/pv-hypercalls" || fail "load good"
ctl load "$bad" "$KEEL_GUESTS/pv-crash" || fail "load bad"
ctl load "$spin" "$KEEL_GUESTS/pv-spin" || fail "load spin"
ctl info "$good" | grep -q ' paused ' || fail "a loaded domain should wait paused"
ctl unpause "$spin" || fail "unpause spin"
ctl unpause "$bad" || fail "unpause bad"
ctl unpause "$good" || fail "unpause good"
wait_for "ctl info $bad | grep -q ' crashed '" 20 || fail "the crashing guest did not crash"
wait_for "ctl info $good | grep -q ' shutdown '" 20 || fail "the healthy guest did not finish"
ctl console "$good" | grep -q '^Test result: SUCCESS' || fail "healthy guest beside a crash failed"
ctl dmesg | grep -q "d$bad:  rip" || fail "no register dump for the crashed domain"

# Pause a running domain: its console must stop growing, then resume.
wait_for "ctl console $spin | grep -q 'tick 3'" 20 || fail "spin guest not ticking"
ctl pause "$spin" || fail "pause"
ctl info "$spin" | grep -q ' paused ' || fail "not paused"
sleep 0.3
a=$(ctl console "$spin" | wc -l)
sleep 0.6
b=$(ctl console "$spin" | wc -l)
[ "$a" = "$b" ] || fail "paused domain kept running ($a -> $b lines)"
ctl unpause "$spin" || fail "unpause after pause"
wait_for "[ \$(ctl console $spin | wc -l) -gt $b ]" 10 || fail "domain did not resume"
ctl list
ctl destroy "$spin" || fail "destroy running domain"
ctl destroy "$bad" || fail "destroy crashed domain"
ctl info "$bad" 2>/dev/null && fail "destroyed domain still listed"
ctl list | grep -q '^'"$good"' good shutdown' || fail "good domain gone"
ctl create huge 999999 2>/dev/null && fail "absurd memory size accepted"

# A dom0 process on a guest's store page and port (what xenstored needs):
# keelctl maps the frame, binds the port, answers the guest.
ring=$(ctl create ring 64) || fail "create ring"
ctl load "$ring" "$KEEL_GUESTS/pv-ring" || fail "load ring"
ctl echo-store "$ring" 30 >"$KEEL_TMP/echo.out" 2>&1 &
epid=$!
wait_for "grep -q '^bound' '$KEEL_TMP/echo.out'" 10 || fail "echo.out: not bound"
ctl unpause "$ring" || fail "unpause ring"
wait $epid || { cat "$KEEL_TMP/echo.out"; fail "echo-store failed"; }
wait_for "ctl info $ring | grep -q ' shutdown '" 20 || fail "ring guest did not finish"
ctl console "$ring" | grep -q '^Test result: SUCCESS' || { ctl console "$ring"; fail "pv-ring"; }
ctl dmesg | grep -q "d$ring: port .* bound to a dom0 process" || fail "bind not logged"

# The ring mapper's calls: map + bind, unmap + unbind, and again.
rc_dom=$(ctl create ringcheck 64) || fail "create ringcheck"
ctl load "$rc_dom" "$KEEL_GUESTS/pv-hello" || fail "load ringcheck"
ctl ring-check "$rc_dom" || fail "ring map/unmap/map"
ctl destroy "$rc_dom" || fail "destroy ringcheck"

# Grants: the guest grants a page to dom0; keelctl maps it through keeld.
gnt=$(ctl create grant 64) || fail "create grant"
ctl load "$gnt" "$KEEL_GUESTS/pv-grant" || fail "load grant"
ctl grant-echo "$gnt" 8 30 >"$KEEL_TMP/gecho.out" 2>&1 &
gpid=$!
wait_for "grep -q '^bound' '$KEEL_TMP/gecho.out'" 10 || fail "gecho.out: not bound"
ctl unpause "$gnt" || fail "unpause grant"
wait $gpid || { cat "$KEEL_TMP/gecho.out"; fail "grant-echo failed"; }
wait_for "ctl info $gnt | grep -q ' shutdown '" 20 || fail "grant guest did not finish"
ctl console "$gnt" | grep -q '^Test result: SUCCESS' || { ctl console "$gnt"; fail "pv-grant"; }
ctl grant-map "$gnt" 8 2>/dev/null && fail "a revoked grant was mapped"
ctl grant-map "$gnt" 100000 2>/dev/null && fail "a grant ref past the table was mapped"

# State-change events (what xl's on_poweroff and xenstored's @releaseDomain
# need): shut down, destroyed.  An event carries the state keeld's loop
# finds, so this guest's brief "running" may be folded into its shutdown.
ev=$(ctl create events 64) || fail "create events"
ctl load "$ev" "$KEEL_GUESTS/pv-hello" || fail "load events"
ctl watch 3 30 "$ev" >"$KEEL_TMP/watch.out" 2>&1 &
wpid=$!
wait_for "grep -q '^subscribed' '$KEEL_TMP/watch.out'" 10 || fail "watch did not subscribe"
ctl unpause "$ev" || fail "unpause events"
wait_for "ctl info $ev | grep -q ' shutdown '" 20 || fail "events guest did not finish"
ctl destroy "$ev" || fail "destroy events"
wait $wpid || { cat "$KEEL_TMP/watch.out"; fail "watch failed"; }
cat "$KEEL_TMP/watch.out"
grep -q "^event d$ev shutdown reason=0\$" "$KEEL_TMP/watch.out" || fail "no shutdown event"
grep -q "^event d$ev .* destroyed" "$KEEL_TMP/watch.out" || fail "no destroyed event"

# Someone else: the socket is reachable but keeld refuses the peer.
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	chmod 755 "$KEEL_TMP" "$run"; chmod 666 "$run/keeld.sock"
	if setpriv --reuid=65534 --regid=65534 --clear-groups "$KEEL_BIN/keelctl" --rundir "$run" list \
		>/dev/null 2>&1; then
		fail "an unprivileged caller was served"
	fi
	grep -q 'connection refused' "$KEEL_TMP/keeld.log" || fail "refusal not logged"
fi
kill -0 $kpid || fail "keeld died"
echo "pv-daemon: ok"
