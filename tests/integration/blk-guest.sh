#!/usr/bin/env bash
# blk-guest: the runtime's blkfront (blk-pattern guest) against the real
# keel-blkback over keeld's grant maps and event channels.  Three disks on
# tmpfs: two read-write images the guest writes a seeded plan onto (single
# sectors to 1 MiB indirect requests, discards, flushes, each extent read
# back), one read-only image the host filled with the pattern (the guest
# reads it and must have its write refused), all given to `xl create` as
# disk= specs (libxl's vbd nodes); the read-only disk is then taken away
# with `xl block-detach` and the guest must close it cleanly.  The host replays the same
# plan with keel-blk-plan and `cmp`s the images.  Then a second guest
# writes while keel-blkback is killed with -9 and restarted: the device
# reconnects, every write is acknowledged, and the image holds them all.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
. "$(dirname "$0")/blk-lib.sh"
[ -f "$KEEL_GUESTS/blk-pattern" ] || fail "missing $KEEL_GUESTS/blk-pattern"

img=/dev/shm/keel-blk-$$
mkdir -p /dev/shm
BLK_FILES="$img.*"
trap blk_cleanup EXIT
seed=$((RANDOM * 30000 + RANDOM + 1)) # < 10^9: the guest reads 9 digits
count=40
for d in a b; do truncate -s 8M "$img.$d"; cp "$img.$d" "$img.$d.want"; done
truncate -s 4M "$img.ro"
"$KEEL_BIN/keel-blk-plan" fill "$img.ro" $seed 2 || fail "keel-blk-plan fill"
cp "$img.ro" "$img.ro.want"
"$KEEL_BIN/keel-blk-plan" apply "$img.a.want" $seed 0 $count discard || fail "plan a"
"$KEEL_BIN/keel-blk-plan" apply "$img.b.want" $seed 1 $count discard || fail "plan b"

blk_up
# --- 1. patterns on two disks, the read-only disk ------------------------------
cat >"$KEEL_TMP/pat.cfg" <<CFG
name = "blkpat"
kernel = "$KEEL_GUESTS/blk-pattern"
memory = 32
vcpus = 1
on_poweroff = "preserve"
extra = "seed=$seed count=$count discard=1 detach=1 rw0=51712 rw0s=16384 rw1=51728 rw1s=16384 ro=51744 ros=8192"
disk = [ '$img.a,raw,xvda,rw', 'format=raw, vdev=xvdb, access=w, target=$img.b',
         'file:$img.ro,xvdc,r' ]
CFG
# xl writes libxl's vbd nodes from disk= before it unpauses the guest
xl create "$KEEL_TMP/pat.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
id=$(xl domid blkpat) || fail "domid"
wait_for "[ \"\$(st read /local/domain/$id/data/blk-phase 2>/dev/null)\" = detach ]" 60 ||
	fail "the guest never asked for the detach: $(tail -n 3 "$(blk_console blkpat)" | tr -d '\r')"
xl block-detach blkpat xvdc >"$KEEL_TMP/detach.out" 2>&1 || fail "xl block-detach: $(cat "$KEEL_TMP/detach.out")"
blk_verdict blkpat 60
grep -qa "^blk-pattern: seed $seed\b" "$(blk_console blkpat)" || fail "the guest did not use seed $seed"
for d in a b ro; do
	cmp "$img.$d" "$img.$d.want" || fail "image $d differs from keel-blk-plan's replay (seed $seed)"
done
echo "blk-guest: images match the host's replay of the plan (seed $seed, $count extents per disk)"
be=/local/domain/0/backend/vbd/$id/51712
[ "$(st read "$be/state")" = 6 ] || fail "backend not Closed after the guest's close: $(st read "$be/state")"
kill -0 "$BLK_BE_PID" || fail "keel-blkback died"
xl destroy blkpat >/dev/null 2>&1

# --- 2. kill -9 of keel-blkback while the guest writes -------------------------------
truncate -s 0 "$img.a"; truncate -s 8M "$img.a"; cp "$img.a" "$img.a.want"
kcount=300
"$KEEL_BIN/keel-blk-plan" apply "$img.a.want" $seed 0 $kcount seq || fail "plan seq"
cat >"$KEEL_TMP/kill.cfg" <<CFG
name = "blkkill"
kernel = "$KEEL_GUESTS/blk-pattern"
memory = 32
vcpus = 1
on_poweroff = "preserve"
extra = "seed=$seed count=$kcount kill=1 rw0=51712 rw0s=16384"
disk = [ '$img.a,raw,xvda,rw' ]
CFG
xl create "$KEEL_TMP/kill.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
id=$(xl domid blkkill) || fail "domid"
wait_for "[ \"\$(st read /local/domain/$id/data/blk-phase 2>/dev/null)\" = kill ]" 30 ||
	fail "the guest never reached the kill phase: $(tail -n 3 "$(blk_console blkkill)")"
old=$BLK_BE_PID
kill -9 "$old"
wait "$old" 2>/dev/null
echo "blk-guest: keel-blkback ($old) killed with -9 mid-run"
sleep 0.5
blk_start_backend
be=/local/domain/0/backend/vbd/$id/51712
wait_for "[ \"\$(st read $be/state 2>/dev/null)\" = 4 ]" 20 ||
	fail "the restarted keel-blkback did not reconnect the device (state $(st read "$be/state"))"
grep -q "unbound (its dom0 process went away)" "$run/log/keeld.log" ||
	grep -q "was still bound to dom0.*rebinding" "$run/log/blkback.log" ||
	fail "the restarted keel-blkback did not take over the event channel"
echo "blk-guest: restarted keel-blkback ($BLK_BE_PID) reconnected the device"
blk_verdict blkkill 60
cmp "$img.a" "$img.a.want" || fail "after the restart the image lacks acknowledged writes"
grep -a 'longest wait' "$(blk_console blkkill)" | tr -d '\r'
echo "blk-guest: every acknowledged write is in the image after kill -9 and restart"
blk_stop_backend
exit 0
