# Helpers for the blk-*.sh tests (sourced, not run): a private dom0
# (keel-dom0-up on $KEEL_TMP/run) with keel-blkback, vbd nodes written as
# libxl writes them, and the guest's verdict from keel-consoled's log.

run=$KEEL_TMP/run
export KEEL_RUNDIR=$run
BLK_PIDS=
BLK_FILES= # glob of scratch files (images on /dev/shm) removed at exit
xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }

blk_cleanup() {
	local rc=$? p
	if [ $rc != 0 ]; then
		for p in "$run"/console/guest-*.log "$run"/log/*blkback*.log "$run"/log/keeld.log; do
			[ -f "$p" ] && { echo "--- $p"; tail -n 25 "$p" | tr -d '\r'; }
		done
	fi
	for p in $BLK_PIDS; do kill "$p" 2>/dev/null; done
	for p in $BLK_PIDS; do wait "$p" 2>/dev/null; done
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	[ -z "$BLK_FILES" ] || rm -f $BLK_FILES
	return $rc
}

# blk_up: keeld, the store, the console backend; keel-blkback unless
# keel-dom0-up already runs one for this rundir.
blk_up() {
	local f
	trap blk_cleanup EXIT
	for f in xl keel-dom0-up keel-dom0-down keelstore keelctl keel-blkback keel-blk-plan; do
		[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
	done
	"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" 2>&1 ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
	BLK_BE_PID=$(blk_backend_pid)
	[ -n "$BLK_BE_PID" ] || blk_start_backend
}

# The pid of the keel-blkback serving this rundir's store, if any
# (keel-dom0-up starts one and names it in blkback.pid).
blk_backend_pid() {
	local p
	p=$(cat "$run/blkback.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"
}

blk_start_backend() {
	"$KEEL_BIN/keel-blkback" --store "$run/xenstored/socket" </dev/null \
		>>"$run/log/blkback.log" 2>&1 &
	BLK_BE_PID=$!
	BLK_PIDS="$BLK_PIDS $BLK_BE_PID"
	echo "$BLK_BE_PID" >"$run/blkback.pid"
	sleep 0.2
	kill -0 "$BLK_BE_PID" 2>/dev/null ||
		fail "keel-blkback did not start: $(tail -n 3 "$run/log/keel-blkback.log")"
}

# blk_vbd DOMID DEVID PARAMS MODE: libxl's backend and frontend nodes.  The
# directories are made first with their permissions (dom0's backend dir
# readable by the guest, the guest's frontend dir readable by dom0): a
# node inherits its parent's permissions when it is created.
blk_vbd() {
	local d=$1 id=$2 params=$3 mode=$4
	local be=/local/domain/0/backend/vbd/$d/$id fe=/local/domain/$d/device/vbd/$id
	st mkdir "$be" >/dev/null && st chmod "$be" n0 "r$d" >/dev/null || fail "mkdir $be"
	st mkdir "$fe" >/dev/null && st chmod "$fe" "n$d" r0 >/dev/null || fail "mkdir $fe"
	st txwrite "$be/frontend" "$fe" "$be/frontend-id" "$d" "$be/params" "$params" \
		"$be/mode" "$mode" "$be/online" 1 "$be/state" 1 "$be/type" phy \
		"$be/device-type" disk "$be/removable" 0 "$be/bootable" 1 >/dev/null ||
		fail "cannot write $be"
	st txwrite "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 \
		"$fe/virtual-device" "$id" "$fe/device-type" disk >/dev/null ||
		fail "cannot write $fe"
}

blk_console() { echo "$run/console/guest-$1.log"; }

# blk_verdict NAME SECONDS: wait for "Test result:" on the guest's console;
# fail unless SUCCESS.
blk_verdict() {
	local log end
	log=$(blk_console "$1")
	end=$((SECONDS + $2))
	until grep -qa '^Test result:' "$log" 2>/dev/null; do
		[ $SECONDS -lt $end ] || fail "$1 gave no verdict in $2 s: $(tail -n 5 "$log" 2>/dev/null | tr -d '\r')"
		sleep 0.3
	done
	grep -a -E '^(ok  |FAIL|blk-)' "$log" | tr -d '\r' | sed "s/^/$1: /"
	grep -qa '^Test result: SUCCESS' "$log" || fail "$1: $(grep -a -E '^FAIL' "$log" | head -5)"
}

# blk_stop_backend: SIGTERM keel-blkback, wait for it to exit, and fail if it
# reported a sanitizer error or a leak (SAN=1 builds) in its log.
blk_stop_backend() {
	kill -TERM "$BLK_BE_PID" 2>/dev/null || fail "keel-blkback is not running"
	wait_for "! kill -0 $BLK_BE_PID 2>/dev/null" 10 || fail "keel-blkback did not exit on SIGTERM"
	if grep -qE "Sanitizer|runtime error" "$run/log/blkback.log"; then
		grep -E -A12 "Sanitizer|runtime error" "$run/log/blkback.log" | head -n 40
		fail "keel-blkback reported a sanitizer error"
	fi
}
