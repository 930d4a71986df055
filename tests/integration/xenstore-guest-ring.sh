#!/usr/bin/env bash
# xenstore-guest-ring: keel-xenstored serving a real guest's store ring.
# keel-dom0-up (keeld + keel-xenstored --keeld-rundir), then `xl create` of
# xs-ring, a guest that speaks xs_wire on its own ring: relative and
# absolute paths under /local/domain/<id>, directory, a watch and its
# events, and EACCES on dom0's nodes.  The store must hold what the guest
# wrote, owned by the guest; @releaseDomain must fire when the domain is
# destroyed (keeld's event stream, no RELEASE from anyone); and after a
# kill -9 of keel-xenstored a restarted one must map the ring of a domain
# introduced before (paused meanwhile) and serve it the whole test.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
for f in xl keel-dom0-up keel-dom0-down keelstore keel-xenstored; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
[ -f "$KEEL_GUESTS/xs-ring" ] || fail "missing $KEEL_GUESTS/xs-ring"

run=$KEEL_TMP/run
watcher=
cleanup() {
	local rc=$?
	[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
	[ $rc = 0 ] || tail -n 25 "$run"/log/*.log 2>/dev/null
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
}
trap cleanup EXIT
export KEEL_RUNDIR=$run
xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }

"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" || fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"

cat >"$KEEL_TMP/xs.cfg" <<CFG
name = "xsring"
kernel = "$KEEL_GUESTS/xs-ring"
memory = 16
vcpus = 1
on_poweroff = "preserve"
CFG

# wait_result NAME: the guest's verdict on its console
wait_result() {
	local end=$((SECONDS + 30))
	# each look can take 2 s (xl console stays attached): bound the wait in seconds
	until timeout 2 "$KEEL_BIN/xl" console "$1" 2>/dev/null | grep -q '^Test result:'; do
		[ $SECONDS -lt $end ] || break
		sleep 0.5
	done
	timeout 2 "$KEEL_BIN/xl" console "$1" 2>/dev/null | grep -q '^Test result:' ||
		fail "$1 gave no verdict: $(timeout 2 "$KEEL_BIN/xl" console "$1" 2>&1 | tail -5)"
	timeout 2 "$KEEL_BIN/xl" console "$1" >"$KEEL_TMP/$1.con" 2>/dev/null
	grep -q '^Test result: SUCCESS' "$KEEL_TMP/$1.con" ||
		fail "$1: $(grep -E 'FAIL|result' "$KEEL_TMP/$1.con")"
}

# --- one guest on its ring --------------------------------------------------------
xl create "$KEEL_TMP/xs.cfg" 2>"$KEEL_TMP/create.err" || fail "create: $(cat "$KEEL_TMP/create.err")"
id=$(xl domid xsring) || fail "domid"
wait_result xsring
cat "$KEEL_TMP/xsring.con"
grep -q "^xs-ring: domid $id\$" "$KEEL_TMP/xsring.con" || fail "guest saw another domid"
grep -q "^xs-ring: home /local/domain/$id\$" "$KEEL_TMP/xsring.con" || fail "home path"
[ "$(st read /local/domain/$id/data/xs-ring)" = "hello ring" ] || fail "guest's node not in the store"
[ "$(st perms /local/domain/$id/data/xs-ring)" = "n$id" ] || fail "guest's node not owned by it: $(st perms /local/domain/$id/data/xs-ring)"
[ "$(st read /local/domain/$id/data/watched/leaf)" = x ] || fail "data/watched/leaf"
st read /local/domain/0/intruder >/dev/null 2>&1 && fail "refused write happened anyway"
grep -q "domid $id: store ring mapped" "$run/log/xenstored.log" || fail "no ring mapping logged"

# --- the domain's death without RELEASE fires @releaseDomain -------------------------
timeout 20 "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" watch @releaseDomain 2 >"$KEEL_TMP/rel" 2>&1 &
watcher=$!
sleep 0.5
"$KEEL_BIN/keelctl" destroy "$id" >/dev/null 2>&1 || xl destroy xsring || fail "destroy"
wait "$watcher" || fail "@releaseDomain did not fire on destroy: $(cat "$KEEL_TMP/rel")"
watcher=
wait_for "grep -q 'domid $id: store ring unmapped' '$run/log/xenstored.log'" 5 || fail "ring not unmapped on death"
echo "release: $(tr '\n' ' ' <"$KEEL_TMP/rel")"

# --- kill -9 of the store, restart, the introduced ring is mapped again -----------
xl create -p "$KEEL_TMP/xs.cfg" 2>"$KEEL_TMP/create2.err" || fail "create -p: $(cat "$KEEL_TMP/create2.err")"
id2=$(xl domid xsring) || fail "domid 2"
kill -9 "$(cat "$run/xenstored.pid")"
wait_for "! kill -0 $(cat "$run/xenstored.pid") 2>/dev/null" 5 || fail "store did not die"
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up2.out" || fail "restart: $(cat "$KEEL_TMP/up2.out")"
grep -q "keeld already running" "$KEEL_TMP/up2.out" || fail "keeld was restarted"
wait_for "grep -q 'domid $id2: store ring mapped' '$run/log/xenstored.log'" 5 || fail "ring not re-mapped after restart"
xl unpause "$id2" || fail "unpause"
wait_result xsring
xl destroy "$id2" || fail "destroy 2"
echo "xenstore-guest-ring: guest ring served, death followed, re-mapped after kill -9"
