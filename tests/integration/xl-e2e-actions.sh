#!/usr/bin/env bash
# xl-e2e-actions: what happens when a domain stops, through the real xl and
# the domain monitor `xl create` leaves behind: on_poweroff=preserve keeps
# the stopped domain (state ---s--), =destroy removes it and its store
# nodes; on_crash=preserve shows ---sc-; on_reboot=restart brings the
# domain back under a new domid with the same name and UUID;
# rename-restart keeps the old one as NAME-<time> under a new UUID.  Then
# graceful shutdown as libxl does it for PV: the request is always written;
# a guest that never acknowledges it gets xl's "guest didn't acknowledge
# control request" and rc=-9 after the timeout (KEEL_XL_PVCONTROL_TIMEOUT_MS
# shortens libxl's 60 s), for shutdown and reboot -F alike; a guest that
# acknowledges (the test plays its xenbus side: it watches control/shutdown
# and clears it) gets "poweroff" written and xl returns once it is
# acknowledged.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_bin keelstore
need_guest xl-idle
xl_host_up --no-bridge

cfg=$KEEL_TMP/g.cfg
cat >"$cfg" <<EOF
kernel = "$KEEL_GUESTS/xl-idle"
memory = 8
EOF
# state NAME: the six state letters of xl list
state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
monitor_gone() { ! grep -qs . "$run"/xl/monitor.* ; }

# --- on_poweroff: preserve vs destroy --------------------------------------------------
xl create -q "$cfg" 'name="keep"' 'extra="ticks=1"' 'on_poweroff="preserve"' || fail "create keep"
xl create -q "$cfg" 'name="drop"' 'extra="ticks=1"' 'on_poweroff="destroy"' || fail "create drop"
did=$(xl domid drop)
wait_for '[ "$(state keep)" = ---s-- ]' 20 || fail "preserve: state $(state keep)"
wait_for "! $KEEL_BIN/xl list drop >/dev/null 2>&1" 20 || fail "on_poweroff=destroy left: $(xl list)"
st read /local/domain/$did/name 2>/dev/null && fail "destroyed domain's store nodes remain"
# keep's monitor polls keeld (every 200 ms): wait for its verdict, as for drop's above
wait_for "grep -q 'Action for shutdown reason code 0 is preserve' $run/log/xl-keep.log" 10 ||
	fail "keep log: $(cat "$run/log/xl-keep.log")"
grep -q "Domain $did needs to be cleaned up: destroying the domain" "$run/log/xl-drop.log" || fail "drop log"
xl list -v keep | grep -qE ' 0 +- *$' || fail "list -v reason code: $(xl list -v keep)"
wait_for monitor_gone 5 || fail "monitors still running: $(ls "$run"/xl)"
xl destroy keep || fail "destroy the preserved domain"

# --- create -e: no monitor, so nothing acts when the domain stops --------------------------
xl create -e -q "$cfg" 'name="lone"' 'extra="ticks=1"' 'on_poweroff="destroy"' || fail "create -e"
ls "$run"/xl/monitor.* >/dev/null 2>&1 && fail "create -e left a monitor"
wait_for '[ "$(state lone)" = ---s-- ]' 20 || fail "create -e: state $(state lone)"
sleep 0.5
[ "$(state lone)" = ---s-- ] || fail "a stopped domain without a monitor was acted upon"
xl destroy lone || fail "destroy lone"

# --- create -F: xl itself waits and acts, then returns ---------------------------------------
timeout 30 "$KEEL_BIN/xl" create -F -q "$cfg" 'name="fg"' 'extra="ticks=1"' 'on_poweroff="destroy"' \
	2>"$KEEL_TMP/fg.err" || fail "create -F: $(cat "$KEEL_TMP/fg.err")"
grep -q "needs to be cleaned up: destroying the domain" "$KEEL_TMP/fg.err" || fail "create -F log: $(cat "$KEEL_TMP/fg.err")"
xl list fg >/dev/null 2>&1 && fail "create -F returned with the domain still there"

# --- on_crash=preserve: shut down, reason crash -------------------------------------------
xl create -q "$cfg" 'name="crashy"' 'extra="ticks=1 then=crash"' 'on_crash="preserve"' || fail "create crashy"
wait_for '[ "$(state crashy)" = ---sc- ]' 20 || fail "crash: state $(state crashy)"
xl destroy crashy || fail "destroy crashy"

# --- on_reboot=restart: same name and UUID, new domid ----------------------------------------
xl create -q "$cfg" 'name="phoenix"' 'extra="ticks=2 then=reboot"' 'on_reboot="restart"' \
	'uuid="11111111-2222-4333-8444-555555555555"' || fail "create phoenix"
first=$(xl domid phoenix)
wait_for "id=\$($KEEL_BIN/xl domid phoenix 2>/dev/null) && [ \"\$id\" != $first ]" 20 ||
	fail "not restarted: $(xl list)"
# (it reboots every two seconds: allow for the moment between two of its lives)
wait_for "$KEEL_BIN/xl list -v phoenix 2>/dev/null | grep -q 11111111-2222-4333-8444-555555555555" 5 ||
	fail "restart changed the UUID"
grep -q "Done. Rebooting now" "$run/log/xl-phoenix.log" || fail "phoenix log"
# destroy it for good: the monitor sees it gone and ends (retry across a restart)
wait_for "$KEEL_BIN/xl destroy phoenix 2>/dev/null && ! $KEEL_BIN/xl domid phoenix >/dev/null 2>&1" 20 ||
	fail "destroy phoenix"
wait_for "grep -q 'has been destroyed' $run/log/xl-phoenix.log" 5 || fail "monitor did not notice the destroy"

# --- on_reboot=rename-restart ---------------------------------------------------------
xl create -q "$cfg" 'name="moth"' 'extra="ticks=1 then=reboot"' 'on_reboot="rename-restart"' \
	'uuid="66666666-7777-4888-9999-aaaaaaaaaaaa"' || fail "create moth"
wait_for "xl list | grep -q '^moth-[0-9]*T[0-9]*Z '" 20 || fail "no preserved copy: $(xl list)"
xl list -v | grep "^moth-" | grep -q 66666666-7777 && fail "preserved copy kept the UUID"
wait_for "$KEEL_BIN/xl domid moth >/dev/null 2>&1" 10 || fail "no new moth"
wait_for "$KEEL_BIN/xl list -v moth 2>/dev/null | grep -q 66666666-7777-4888-9999-aaaaaaaaaaaa" 5 ||
	fail "new moth lost the UUID"
"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null # moth reboots forever: stop it all
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >/dev/null || fail "keel-dom0-up again"
xl list | grep -q moth && fail "stale domains after a fresh keeld: $(xl list)"

# --- graceful shutdown of a guest that does not answer -----------------------------------------
# libxl takes every PV guest to have the PV control interface: the request
# is written whatever control/feature-* says, and a guest that never
# acknowledges it costs xl its 60 s (shortened here) and ERROR_TIMEDOUT.
xl create -q "$cfg" 'name="plain"' 'extra="ticks=0"' || fail "create plain"
pid=$(xl domid plain)
[ -z "$(st read /local/domain/$pid/control/feature-poweroff 2>/dev/null)" ] || fail "xl-idle advertises poweroff"
KEEL_XL_PVCONTROL_TIMEOUT_MS=1500 xl shutdown plain 2>"$KEEL_TMP/sd.err" && fail "unacknowledged shutdown succeeded"
grep -q "^Shutting down domain $pid$" "$KEEL_TMP/sd.err" &&
	grep -q "guest didn't acknowledge control request: -9$" "$KEEL_TMP/sd.err" &&
	grep -q '^shutdown failed (rc=-9)$' "$KEEL_TMP/sd.err" || fail "shutdown messages: $(cat "$KEEL_TMP/sd.err")"
[ "$(st read /local/domain/$pid/control/shutdown)" = poweroff ] || fail "control/shutdown not written"
KEEL_XL_PVCONTROL_TIMEOUT_MS=1500 xl reboot -F plain 2>"$KEEL_TMP/rb.err" && fail "unacknowledged reboot succeeded"
grep -q "reboot failed (rc=-9)" "$KEEL_TMP/rb.err" || fail "reboot -F messages: $(cat "$KEEL_TMP/rb.err")"
[ "$(st read /local/domain/$pid/control/shutdown)" = reboot ] || fail "control/shutdown not rewritten"
[ "$(state plain)" = "r-----" ] || [ "$(state plain)" = "-b----" ] || fail "plain stopped: $(state plain)"
st write /local/domain/$pid/control/shutdown "" || fail "clearing control/shutdown"

# --- graceful shutdown with one: the test acts as the guest's xenbus ------------------------
# (xl introduced the domain to the store; the guest acknowledges by clearing
# the node, as drivers/xen/manage.c does -- no control/feature-* needed)
(
	for _ in $(seq 200); do
		v=$(st read /local/domain/$pid/control/shutdown 2>/dev/null)
		if [ -n "$v" ]; then
			echo "$v" >"$KEEL_TMP/seen"
			st write /local/domain/$pid/control/shutdown ""
			exit 0
		fi
		sleep 0.05
	done
) &
guest=$!
timeout 20 "$KEEL_BIN/xl" shutdown plain 2>"$KEEL_TMP/sd2.err" || fail "acknowledged shutdown: $(cat "$KEEL_TMP/sd2.err")"
wait $guest
[ "$(cat "$KEEL_TMP/seen")" = poweroff ] || fail "control/shutdown was '$(cat "$KEEL_TMP/seen")'"
grep -q "^Shutting down domain $pid$" "$KEEL_TMP/sd2.err" || fail "message: $(cat "$KEEL_TMP/sd2.err")"
xl destroy plain || fail "destroy plain"
echo "xl-e2e-actions: ok"
