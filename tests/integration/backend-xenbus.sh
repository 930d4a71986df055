#!/usr/bin/env bash
# The vbd backend's xenbus handshake through a real keel-xenstored (private
# socket, private data dir).  This script plays the toolstack: it writes the
# backend and frontend directories as libxl does (one transaction) for a good
# disk and for one whose image is missing.  keel-backend-loopback runs
# blkback's xenbus driver on that store with a frontend thread over the
# LOOPBACK TEST TRANSPORT (not a guest) that answers the handshake, does I/O
# and closes.  Checked: the backend's states move InitWait -> Connected ->
# Closing -> Closed as Xen's do, the keys blkback publishes, the pattern on
# the image file itself, and the missing image ending in an error node.
. "$(dirname "$0")/../lib/common.sh"
LB=$KEEL_BIN/keel-backend-loopback
KS=$KEEL_BIN/keelstore
XSD=$KEEL_BIN/keel-xenstored
for b in "$LB" "$KS" "$XSD"; do [ -x "$b" ] || fail "$b not built"; done

SOCK=$KEEL_TMP/xs.sock
XS_PID=
LOOPDEV=
cleanup() {
	[ -n "$XS_PID" ] && kill "$XS_PID" 2>/dev/null && wait "$XS_PID" 2>/dev/null
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
	return 0
}
trap cleanup EXIT
"$XSD" --socket "$SOCK" --data "$KEEL_TMP/xsdata" 2>"$KEEL_TMP/xsd.log" &
XS_PID=$!
wait_for "$KS -s $SOCK read / >/dev/null 2>&1 || $KS -s $SOCK ls / >/dev/null 2>&1" 10 ||
	fail "keel-xenstored did not start"
ks() { "$KS" -s "$SOCK" "$@"; }

IMG=$KEEL_TMP/disk.img
truncate -s 16M "$IMG"
BE=/local/domain/0/backend/vbd/3/51712
FE=/local/domain/3/device/vbd/51712
# The toolstack's part, in one transaction as libxl writes it.
ks txwrite $FE/state 1 $FE/backend $BE $FE/backend-id 0 $FE/virtual-device 51712 \
	$BE/frontend $FE $BE/frontend-id 3 $BE/online 1 $BE/state 1 $BE/params "$IMG" \
	$BE/mode w $BE/type phy $BE/dev xvda || fail "cannot write the device"
BAD=/local/domain/0/backend/vbd/3/51728
ks txwrite /local/domain/3/device/vbd/51728/state 1 $BAD/frontend \
	/local/domain/3/device/vbd/51728 $BAD/frontend-id 3 $BAD/online 1 \
	$BAD/params "$KEEL_TMP/missing.img" $BAD/mode w || fail "cannot write the bad device"

out=$(timeout 60 "$LB" xenbus-vbd --store "$SOCK" --domid 3 --devid 51712 --sector 4096 \
	--pattern-out "$KEEL_TMP/pattern" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || fail "xenbus-vbd exited $rc"
states=$(echo "$out" | sed -n 's/^xenbus-vbd: backend state [0-9]* (\(.*\))$/\1/p' | tr '\n' ' ')
[ "$states" = "Initialising InitWait Connected Closing Closed " ] ||
	fail "backend states: '$states', want Initialising (the toolstack's) InitWait Connected Closing Closed"
# What blkback published for the frontend.
[ "$(ks read $BE/sectors)" = 32768 ] || fail "sectors: $(ks read $BE/sectors)"
[ "$(ks read $BE/sector-size)" = 512 ] || fail "sector-size"
[ "$(ks read $BE/feature-flush-cache)" = 1 ] || fail "feature-flush-cache"
[ "$(ks read $BE/feature-persistent)" = 1 ] || fail "feature-persistent"
[ "$(ks read $BE/feature-max-indirect-segments)" = 256 ] || fail "feature-max-indirect-segments"
[ "$(ks read $BE/max-ring-page-order)" = 4 ] || fail "max-ring-page-order"
[ "$(ks read $BE/info)" = 0 ] || fail "info"
[ "$(ks read $BE/state)" = 6 ] || fail "final state $(ks read $BE/state)"
echo "$out" | grep -q "discarded .* read back zeros" || fail "no discard on the image file"
# The data is on the image itself, at sector 4096.
dd if="$IMG" bs=512 skip=4096 count=64 status=none | cmp -s - "$KEEL_TMP/pattern" ||
	fail "the image does not hold the pattern written through blkback"
# The disk whose image is missing: an error node, never Connected.
ks read /local/domain/0/error$BAD/error >/dev/null 2>&1 || fail "no error node for the bad disk"
[ "$(ks read $BAD/state 2>/dev/null)" != 4 ] || fail "the bad disk connected"
echo "ok: raw image file"

# A block device (a loop device over a second image, 4 KiB logical sectors):
# sizes come from the device, I/O goes through O_DIRECT on it.
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	IMG2=$KEEL_TMP/disk2.img
	truncate -s 8M "$IMG2"
	LOOPDEV=$(losetup -f --show --sector-size 4096 "$IMG2" 2>/dev/null) ||
		LOOPDEV=$(losetup -f --show "$IMG2" 2>/dev/null) || LOOPDEV=
fi
if [ -n "$LOOPDEV" ]; then
	BE2=/local/domain/0/backend/vbd/5/51712
	FE2=/local/domain/5/device/vbd/51712
	ks txwrite $FE2/state 1 $FE2/backend $BE2 $BE2/frontend $FE2 $BE2/frontend-id 5 \
		$BE2/online 1 $BE2/state 1 $BE2/params "$LOOPDEV" $BE2/mode w ||
		fail "cannot write the block-device disk"
	out=$(timeout 60 "$LB" xenbus-vbd --store "$SOCK" --domid 5 --devid 51712 --sector 8 2>&1)
	echo "$out"
	[ $? = 0 ] && echo "$out" | grep -q "xenbus-vbd: done" || fail "I/O on $LOOPDEV failed"
	echo "$out" | grep -q "discarded .* read back zeros" || fail "no BLKDISCARD on $LOOPDEV"
	[ "$(ks read $BE2/sectors)" = 16384 ] || fail "sectors of $LOOPDEV: $(ks read $BE2/sectors)"
	ssz=$(blockdev --getss "$LOOPDEV")
	[ "$(ks read $BE2/sector-size)" = "$ssz" ] ||
		fail "sector-size $(ks read $BE2/sector-size), device says $ssz"
	[ "$(ks read $BE2/physical-sector-size)" = "$(blockdev --getpbsz "$LOOPDEV")" ] ||
		fail "physical-sector-size"
	echo "ok: block device $LOOPDEV (sector size $ssz)"
else
	echo "note: no loop device (not root or no losetup): block-device case not run"
fi
echo "PASS: vbd handshake InitWait -> Connected -> Closing -> Closed with I/O through the store"
