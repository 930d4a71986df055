#!/usr/bin/env bash
# blk-hostile: a hostile blkfront (blk-hostile guest) against the real
# keel-blkback.  Bad, foreign and read-only grant references, too many
# segments, bad indirect pages, out-of-range sectors, unknown operations
# must each get an error response with the device still connected; a
# runaway req_prod must get the device disconnected (Closing); a ring-ref
# never granted must be refused at connect with an error node.  Meanwhile
# the guest's second, well-behaved disk on the same backend keeps working
# (the host checks its image against keel-blk-plan's replay), and
# keel-blkback is still alive at the end.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
. "$(dirname "$0")/blk-lib.sh"
[ -f "$KEEL_GUESTS/blk-hostile" ] || fail "missing $KEEL_GUESTS/blk-hostile"

img=/dev/shm/keel-blkh-$$
mkdir -p /dev/shm
BLK_FILES="$img.*"
trap blk_cleanup EXIT
for d in h g c; do truncate -s 8M "$img.$d"; done
seed=$((RANDOM * 30000 + RANDOM + 1)) # < 10^9: the guest reads 9 digits
blk_up
cat >"$KEEL_TMP/h.cfg" <<CFG
name = "blkhostile"
kernel = "$KEEL_GUESTS/blk-hostile"
memory = 32
vcpus = 1
on_poweroff = "preserve"
extra = "seed=$seed hostile=51712 good=51728 badring=51744 reconnects=70"
disk = [ '$img.h,raw,xvda,rw', '$img.g,raw,xvdb,rw', '$img.c,raw,xvdc,rw' ]
CFG
xl create "$KEEL_TMP/h.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
id=$(xl domid blkhostile) || fail "domid"
blk_verdict blkhostile 60
grep -qa "^blk-hostile: seed $seed\b" "$(blk_console blkhostile)" || fail "the guest did not use seed $seed"
kill -0 "$BLK_BE_PID" 2>/dev/null || fail "keel-blkback died"
grep -q "runaway request producer" "$run/log/blkback.log" ||
	fail "keel-blkback did not log the runaway producer: $(tail -n 5 "$run/log/blkback.log")"
# xenbus_dev_fatal's place: error/<backend path>/error under dom0's home
enode=/local/domain/0/error/local/domain/0/backend/vbd/$id/51744/error
err=$(st read "$enode" 2>/dev/null) || fail "no error node $enode for the ungranted ring-ref"
echo "blk-hostile: error node for the bad ring: $err"
# the good disk: exactly the plan's extents the guest reports it wrote
n=$(grep -a -m1 'good disk extents' "$(blk_console blkhostile)" | tr -dc '0-9')
[ -n "$n" ] || fail "the guest did not report its good-disk extents"
truncate -s 8M "$img.g.want"
"$KEEL_BIN/keel-blk-plan" apply "$img.g.want" $seed 1 "$n" || fail "keel-blk-plan"
cmp "$img.g" "$img.g.want" || fail "the good disk's image differs from the plan ($n extents)"
echo "blk-hostile: keel-blkback alive; good disk holds its $n extents; backend log:"
grep -E "runaway|refused|failed|error" "$run/log/blkback.log" | sort | uniq -c | sort -rn | head -n 8

# --- a guest destroyed in the middle of its I/O -------------------------------------
# keel-blkback must let go of the domain's rings and grants and stay up for the next.
truncate -s 64M "$img.d"
cat >"$KEEL_TMP/d.cfg" <<CFG
name = "blkdoomed"
kernel = "$KEEL_GUESTS/blk-bench"
memory = 64
vcpus = 1
on_poweroff = "preserve"
extra = "dev=51712 qd=16 secs=30"
disk = [ '$img.d,raw,xvda,rw' ]
CFG
xl create "$KEEL_TMP/d.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
did=$(xl domid blkdoomed) || fail "domid"
wait_for "[ \"\$(st read /local/domain/$did/data/bench 2>/dev/null)\" = rand ]" 30 ||
	fail "the doomed guest did not start its I/O"
sleep 1 # in the middle of the random reads
t0=$SECONDS
xl destroy blkdoomed || fail "xl destroy"
echo "blk-hostile: xl destroy took $((SECONDS - t0)) s"
sleep 0.5
kill -0 "$BLK_BE_PID" 2>/dev/null || fail "keel-blkback died when a guest was destroyed mid-I/O"
# and it still serves a new guest
sed -i 's/^name = .*/name = "blkafter"/; s/secs=30/secs=1/' "$KEEL_TMP/d.cfg"
xl create "$KEEL_TMP/d.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
blk_verdict blkafter 30
echo "blk-hostile: a guest destroyed mid-I/O left keel-blkback serving the next one"
blk_stop_backend
exit 0
