#!/usr/bin/env bash
# save-crossbuild: a save image outlives the keeld that wrote it.  A second
# keeld is built with different struct layouts (KEEL_TEST_LAYOUT pads
# struct domain and struct vcpu in the middle: keeld logs both sizes);
# a ticking guest that answers Xen's suspend protocol (xl-idle) is saved
# under this build's keeld, restored under the other, saved there and
# restored back here -- counting on each time, never booting again.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
for f in xl keeld keel-dom0-up keel-dom0-down; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
[ -f "$KEEL_GUESTS/xl-idle" ] || fail "missing $KEEL_GUESTS/xl-idle"

# --- the other build: keeld and its shim, struct layouts padded ----------------------------
other=$KEEL_TMP/layout-build
make -C "$KEEL_TOP" --no-print-directory BUILD="$other" SAN="${SAN:-0}" \
	KEEL_EXTRA_CPPFLAGS=-DKEEL_TEST_LAYOUT=40 "$other/bin/keeld" "$other/guests/pv-shim" \
	>"$KEEL_TMP/build.log" 2>&1 || fail "building the other keeld: $(tail -5 "$KEEL_TMP/build.log")"

runs=()
cleanup() {
	local rc=$? r
	for r in "${runs[@]}"; do
		[ $rc = 0 ] || tail -n 12 "$r"/log/keeld.log "$r"/log/xl-*.log 2>/dev/null
		"$KEEL_BIN/keel-dom0-down" --rundir "$r" >/dev/null 2>&1
	done
	return $rc
}
trap cleanup EXIT
xl() { "$KEEL_BIN/xl" "$@"; }
con() { timeout 2 "$KEEL_BIN/xl" console "$1" 2>/dev/null; }
lasttick() { con "$1" | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -1; }

# dom0 on a fresh rundir, with this build's keeld or (with an argument) another
dom0_up() {
	run=$KEEL_TMP/run$((${#runs[@]} + 1))
	runs+=("$run")
	mkdir -p "$run/log"
	if [ -n "${1:-}" ]; then # keel-dom0-up takes a keeld already running there
		setsid "$1" daemon --rundir "$run" </dev/null >>"$run/log/keeld.log" 2>&1 &
		echo $! >"$run/keeld.pid"
		wait_for "[ -S $run/keeld.sock ]" 10 || fail "the other keeld did not start"
	fi
	"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" 2>&1 ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
	export KEEL_RUNDIR=$run
}
dom0_down() { "$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1; }
layout() { sed -n 's/.*listening on .*(\(struct domain [0-9]* bytes, struct vcpu [0-9]*\)).*/\1/p' "$run/log/keeld.log" | head -1; }

# carry on counting from at least $2 after a restore of image $1
restore_check() {
	local img=$1 min=$2 first
	xl restore "$img" 2>"$KEEL_TMP/restore.err" || fail "restore under $(layout): $(cat "$KEEL_TMP/restore.err")"
	wait_for "[ \"\$(lasttick counter)\" -gt $min ] 2>/dev/null" 20 ||
		fail "restored guest does not count on (under $(layout)): $(con counter | tail -3)"
	con counter | grep -q '^Hello from xl-idle' && fail "the guest booted again"
	first=$(con counter | sed -n 's/^tick \([0-9]*\)$/\1/p' | head -1)
	[ "$first" -ge "$min" ] || fail "counter restarted at $first (saved at $min)"
	echo "restored under $(layout): counting on from tick $first"
}

cat >"$KEEL_TMP/idle.cfg" <<CFG
name = "counter"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 32
vcpus = 1
CFG

dom0_up
here=$(layout)
xl create -q "$KEEL_TMP/idle.cfg" || fail "create"
wait_for "[ \"\$(lasttick counter)\" -ge 3 ] 2>/dev/null" 20 || fail "no ticks: $(con counter | tail -3)"
xl save counter "$KEEL_TMP/a.img" 2>"$KEEL_TMP/save.err" || fail "save: $(cat "$KEEL_TMP/save.err")"
dom0_down

dom0_up "$other/bin/keeld"
there=$(layout)
[ -n "$here" ] && [ -n "$there" ] || fail "keeld did not log its struct sizes"
[ "$here" != "$there" ] || fail "both builds have the same layout ($here)"
echo "this build: $here; the other: $there"
restore_check "$KEEL_TMP/a.img" 3
t=$(lasttick counter)
xl save counter "$KEEL_TMP/b.img" 2>"$KEEL_TMP/save.err" || fail "save under the other build: $(cat "$KEEL_TMP/save.err")"
dom0_down

dom0_up
restore_check "$KEEL_TMP/b.img" "$t"
xl destroy counter || fail "destroy"
echo "save-crossbuild: ok"
