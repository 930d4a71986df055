#!/usr/bin/env bash
# linux-driver-domain-blk: a disk served from a driver domain by Linux's own
# xen-blkback.  A Debian driver domain (Debian's kernel, a busybox initramfs
# with Keel's xl and the shared libraries it needs, copied from the host by
# ldd, and the xen-blkfront, xen-blkback and loop modules) is created with
# driver_domain=1 and its own xvda from dom0 (an image file, keel-blkback).
# Inside it `xl devd -F` reaches the store through /dev/xen/xenbus and does
# the backend-side work for the vbds the toolstack puts under its backend
# tree (physical-device for Linux's blkback, hotplug-status).  A second
# Debian guest gets disk=['backend=drv,vdev=xvda,target=/dev/xvda']: its
# blkfront meets the driver domain's blkback (and a second disk, xvdb, is an
# image file inside the driver domain, which xl devd attaches to a loop
# device); it makes an ext2 file system
# (busybox mke2fs), mounts it, writes a file, reads it back, unmounts; then
# the host attaches a third disk (xl block-attach with backend=drv, another
# image file of the driver domain), the guest writes and reads it back, the
# host detaches it (xl devd detaches its loop device), and the guest
# goes on with raw direct I/O on a fourth disk, xvdd (not mounted), while
# the host destroys the driver domain: keeld, dom0 and the guest live on,
# its vbds go to Closed, the dead domain's grant maps are released, new I/O
# on the dead disk ends at once with an error (the I/O loop's requests that
# were in flight stay so: blkfront has no timeout); the driver domain's
# successor, booted beforehand and renamed drv, serves a disk the host
# attaches with xl block-attach, which the guest writes and reads back and
# the host finds in the successor's image; then the guest
# powers off.  The host checks the store layout (backend directory owned by
# the driver domain, readable by the guest), that the successor's device went
# away with the guest (xl devd's teardown), and after the domains are down
# the first driver domain's image: e2fsck clean and the guest's file byte for
# byte (debugfs; the guest unmounted it before that domain died).
# Skipped (failed under CI) only when the kernel or busybox-static cannot be
# fetched or /dev/kvm is missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
lg_fetch_kernel
[ -x "$KEEL_BIN/xl" ] || fail "missing $KEEL_BIN/xl (run make)"

# --- the driver domain's initramfs: busybox, xl and its libraries, modules
droot=$KEEL_TMP/drv-root
lg_drv_initramfs "$droot" drivers/block/xen-blkfront.ko drivers/block/xen-blkback/xen-blkback.ko \
	drivers/block/loop.ko
printf '#!/bin/sh\nsync\nexec /bin/busybox poweroff -f\n' >"$droot/sbin/poweroff"
{
	lg_init_head KEEL-DRV
	cat <<'INIT'
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/xvda ] || { say "FAIL no /dev/xvda"; dmesg | tail -n 20; poweroff -f; }
[ -c /dev/xen/xenbus ] || { say "FAIL no /dev/xen/xenbus"; poweroff -f; }
# an image file of the driver domain's own, for xl devd's loop device
dd if=/dev/zero of=/file.img bs=1M count=8 2>/dev/null
dd if=/dev/zero of=/file2.img bs=1M count=4 2>/dev/null
dd if=/dev/zero of=/file3.img bs=1M count=4 2>/dev/null
export ASAN_OPTIONS=detect_leaks=0
xl devd -F >/dev/console 2>&1 &
say "xvda $(cat /sys/block/xvda/size) sectors; xl devd running (pid $!)"
while :; do sleep 10; done
INIT
} >"$droot/init"
chmod +x "$droot/init" "$droot/sbin/poweroff"
lg_pack "$droot" "$KEEL_TMP/drv.gz"

# --- the guest's initramfs: blkfront and ext4 (for ext2)
groot=$KEEL_TMP/guest-root
lg_initramfs "$groot"
lg_add_module "$groot" drivers/block/xen-blkfront.ko
lg_add_module "$groot" crypto/crc32c_generic.ko
lg_add_module "$groot" fs/ext4/ext4.ko
{
	lg_init_head KEEL-GUEST
	cat <<'INIT'
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/xvda ] || { say "FAIL no /dev/xvda"; dmesg | tail -n 20; poweroff -f; }
say "xvda $(cat /sys/block/xvda/size) sectors"
# readback DEV N: write `seq 1 N` to /dev/DEV, read it back past the cache
readback() {
	seq 1 $2 >/pattern
	if dd if=/pattern of=/dev/$1 bs=4096 conv=sync,fsync 2>/dev/null; then
		n=$(wc -c </pattern)
		echo 3 >/proc/sys/vm/drop_caches
		[ "$(head -c $n /dev/$1 | md5sum)" = "$(md5sum </pattern)" ] && say "$1 readback ok" ||
			say "FAIL $1 readback"
	else
		say "FAIL $1 write"
	fi
}
# xvdb: the driver domain's image file through its loop device
i=0
while [ ! -b /dev/xvdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
readback xvdb 2000
mkdir -p /mnt
if mke2fs /dev/xvda >/tmp/mkfs.out 2>&1 && mount -t ext4 /dev/xvda /mnt 2>/tmp/mount.err; then
	seq 1 30000 >/mnt/guest-file
	sync
	echo 3 >/proc/sys/vm/drop_caches
	say "file md5 $(md5sum </mnt/guest-file | cut -d' ' -f1)"
	umount /mnt && sync && say "unmounted"
else
	say "FAIL mkfs/mount: $(tail -n 2 /tmp/mkfs.out) $(cat /tmp/mount.err 2>/dev/null)"
fi
# xvdc: attached while we run (xl block-attach with backend=), detached again
say "waiting for xvdc"
if wait_until 60 -b /dev/xvdc; then
	readback xvdc 3000
	wait_until 60 ! -b /dev/xvdc && say "xvdc gone" || say "FAIL xvdc still there after the detach"
else
	say "FAIL no xvdc"
fi
# xvdd: direct I/O, not mounted, until the host destroys the driver domain
# under it; then new I/O on the dead disk; then xvde through its successor
if wait_until 30 -b /dev/xvdd; then
	(
		n=0
		while dd if=/dev/zero of=/dev/xvdd bs=65536 count=32 oflag=direct 2>/tmp/io.err &&
			dd if=/dev/xvdd of=/dev/null bs=65536 count=32 iflag=direct 2>/tmp/io.err; do
			n=$((n + 1))
			[ $n = 2 ] && say "xvdd I/O running"
		done
		say "xvdd I/O loop: dd failed after $n passes: $(head -n 1 /tmp/io.err)"
		touch /tmp/io.done
	) &
	# blkfront_closing sets the dead disk's size to 0
	i=0
	while [ "$(cat /sys/block/xvdd/size)" != 0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	f=$(tr -s ' ' </sys/block/xvdd/inflight)
	say "xvdd closed: size $(cat /sys/block/xvdd/size), requests in flight (read, write):$f"
	# requests in flight now have no one to complete them; with none, the
	# loop's next dd fails
	[ "$f" = " 0 0" ] && wait_until 10 -e /tmp/io.done
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = dd ] && say "xvdd I/O loop's dd ${p#/proc/}: state $(cut -d' ' -f3 $p/stat), in $(cat $p/wchan 2>/dev/null)"
	done
	dd if=/dev/zero of=/dev/xvdd bs=4096 count=1 oflag=direct 2>/tmp/w.err
	w=$?
	dd if=/dev/xvdd of=/tmp/r bs=4096 count=1 iflag=direct 2>/tmp/r.err
	r=$?
	say "xvdd new I/O: write rc $w ($(head -n 1 /tmp/w.err)), read rc $r, $(wc -c </tmp/r) bytes ($(head -n 1 /tmp/r.err))"
else
	say "FAIL no xvdd"
fi
say "waiting for xvde"
if wait_until 120 -b /dev/xvde; then
	readback xvde 5000
else
	say "FAIL no xvde"
fi
dmesg | grep -iE 'blkfront|xvd|blkif' | tail -n 4
say "done"
poweroff -f
INIT
} >"$groot/init"
chmod +x "$groot/init"
lg_pack "$groot" "$KEEL_TMP/guest.gz"

img=$KEEL_TMP/drv-disk.img
truncate -s 24M "$img"
img2=$KEEL_TMP/drv-next-disk.img
truncate -s 8M "$img2"
lg_dom0_up
lg_backend keel-blkback

lg_drv_create "disk = [ '$img,raw,xvda,rw' ]" '^KEEL-DRV: xvda .* xl devd running'
# libxl's driver-domain directories, the domain's own
for d in libxl device-model; do
	[ "$(st perms "/local/domain/$drv/$d" 2>/dev/null)" = "n$drv" ] ||
		fail "driver domain's $d/ not its own: $(st perms "/local/domain/$drv/$d" 2>&1)"
done
echo "linux-driver-domain-blk: driver domain up after $((SECONDS - t0)) s: $(grep -a '^KEEL-DRV: xvda' "$drvcon" | tr -d '\r')"

# a backend domain that does not exist is refused before anything is built
sed -e 's/^name = .*/name = "nodrv"/' >"$KEEL_TMP/nodrv.cfg" <<CFG
name = "x"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/guest.gz"
memory = 128
disk = [ 'backend=no-such-domain,vdev=xvda,target=/dev/xvda' ]
CFG
xl create "$KEEL_TMP/nodrv.cfg" >"$KEEL_TMP/nodrv.out" 2>&1 && fail "a disk with a missing backend domain was accepted"
grep -q 'no-such-domain' "$KEEL_TMP/nodrv.out" || fail "missing backend domain not named: $(cat "$KEEL_TMP/nodrv.out")"
echo "linux-driver-domain-blk: refused: $(grep -v "^Parsing config" "$KEEL_TMP/nodrv.out" | head -n 1)"

lg_fe_create "disk = [ 'backend=drv,vdev=xvda,target=/dev/xvda', 'backend=$drv,vdev=xvdb,target=/file.img',
	'backend=drv,vdev=xvdd,target=/file3.img' ]"
# the driver domain's successor (its own xvda from dom0), booted while the
# guest works and renamed drv once drv is gone
lg_drv_next "disk = [ '$img2,raw,xvda,rw' ]"
be=/local/domain/$drv/backend/vbd/$fe/51712
fep=/local/domain/$fe/device/vbd/51712
[ "$(st read "$fep/backend" 2>/dev/null)" = "$be" ] || fail "frontend's backend: $(st read "$fep/backend" 2>&1)"
[ "$(st read "$fep/backend-id" 2>/dev/null)" = "$drv" ] || fail "frontend's backend-id: $(st read "$fep/backend-id" 2>&1)"
[ "$(st perms "$be")" = "n$drv r$fe" ] || fail "backend dir perms: $(st perms "$be")"
[ "$(st perms "$fep")" = "n$fe r$drv" ] || fail "frontend dir perms: $(st perms "$fep")"
st ls "/local/domain/0/backend/vbd/$fe" >/dev/null 2>&1 && fail "dom0 got a backend directory for the guest's disk"
# a third disk attached to the running guest through the driver domain
# (an image file inside it), written and read back, then detached
lg_fe_wait '^KEEL-GUEST: (waiting for xvdc|FAIL)' 150 "the guest did not get to xvdc"
grep -qa '^KEEL-GUEST: FAIL' "$con" && fail "guest: $(grep -a '^KEEL-GUEST: FAIL' "$con" | tr -d '\r')"
xl block-attach fe 'backend=drv,vdev=xvdc,target=/file2.img' >"$KEEL_TMP/attach.out" 2>&1 ||
	fail "xl block-attach with backend=drv: $(cat "$KEEL_TMP/attach.out")"
be3=/local/domain/$drv/backend/vbd/$fe/51744
lg_drv_attached "$be3" "/local/domain/$fe/device/vbd/51744" "the attached disk"
lg_fe_wait '^KEEL-GUEST: (xvdc readback ok|FAIL)' 60 "the guest did not use xvdc"
# (a kernel message may share the console line)
loop=$(grep -a "xl devd: $be3: /file2.img -> physical-device 7:" "$drvcon" | tr -d '\r' | sed -n 's/.*physical-device 7:\([0-9a-f]*\).*/\1/p' | head -n 1)
[ -n "$loop" ] || fail "xl devd did not report the attached disk's loop device"
xl block-detach fe xvdc >"$KEEL_TMP/detach.out" 2>&1 || fail "xl block-detach: $(cat "$KEEL_TMP/detach.out")"
lg_fe_wait '^KEEL-GUEST: (xvdc gone|FAIL)' 60 "xvdc did not go from the guest"
wait_for "! st ls $be3 >/dev/null 2>&1" 20 || fail "the detached disk's backend directory stayed"
lg_wait_console drv "xl devd: /dev/loop$((16#$loop)): detached" 20 ||
	fail "xl devd did not detach /dev/loop$((16#$loop))"
echo "linux-driver-domain-blk: xvdc attached through the driver domain (loop$((16#$loop))), used and detached after $((SECONDS - t0)) s"
echo "linux-driver-domain-blk: driver domain wrote physical-device $(st read "$be/physical-device" 2>/dev/null), hotplug-status $(st read "$be/hotplug-status" 2>/dev/null)"

# The driver domain destroyed in the middle of the guest's direct I/O on
# xvdd (a raw disk, not mounted): only it goes (lg_drv_destroy), each of the
# guest's disks through it goes to Closed; new I/O on the dead disk ends
# at once; a disk attached through its successor, renamed drv, is written
# and read back, and the host finds the guest's bytes in the image dom0
# serves the successor.
lg_fe_wait '^KEEL-GUEST: (xvdd I/O running|FAIL)' 60 "the guest's I/O on xvdd did not start"
lg_drv_destroy vbd 51760 linux-driver-domain-blk
for d in 51712 51728; do
	grep -q "its backend ${be%/*}/$d closed" "$KEEL_TMP/destroy.out" || fail "xl destroy did not close the backend of vbd $d"
	wait_for "[ \"\$(st read /local/domain/$fe/device/vbd/$d/state 2>/dev/null)\" = 6 ]" 10 ||
		fail "the guest's vbd $d did not go to Closed: $(st read "/local/domain/$fe/device/vbd/$d/state" 2>&1)"
done
lg_fe_wait '^KEEL-GUEST: (xvdd new I/O|FAIL)' 60 "the guest's new I/O on the dead xvdd did not end"
grep -a '^KEEL-GUEST: xvdd' "$con" | tr -d '\r' | sed 's/^/linux-driver-domain-blk: guest: /'
line=$(grep -a '^KEEL-GUEST: xvdd new I/O' "$con" | tr -d '\r')
echo "$line" | grep -q 'write rc 0 ' && fail "a write to the dead disk succeeded: $line"
# the loop's I/O at the destroy: requests in flight stay so (its dd waits
# in the kernel); with none, its next dd failed
if grep -qa '^KEEL-GUEST: xvdd closed: .*in flight (read, write): 0 0' "$con"; then
	grep -qa '^KEEL-GUEST: xvdd I/O loop: dd failed' "$con" || fail "no request was in flight on xvdd, yet its I/O loop did not fail"
else
	grep -qa "^KEEL-GUEST: xvdd I/O loop's dd [0-9]*: state D" "$con" ||
		fail "requests were in flight on xvdd, yet no dd waits for them"
fi
echo "$line" | grep -qE 'read rc [1-9]|read rc 0, 0 bytes' || fail "a read of the dead disk returned data: $line"
lg_wait_console drv-next '^KEEL-DRV: (xvda .* xl devd running|FAIL)' 120 ||
	fail "drv-next did not come up: $(tail -n 1 "$(lg_console drv-next)")"
xl rename drv-next drv || fail "xl rename drv-next drv"
xl block-attach fe 'backend=drv,vdev=xvde,target=/dev/xvda' >"$KEEL_TMP/attach2.out" 2>&1 ||
	fail "xl block-attach to the restarted driver domain: $(cat "$KEEL_TMP/attach2.out")"
drv1=$drv
drvcon1=$drvcon
drv=$drv2
drvcon=$(lg_console drv-next)
lg_drv_attached "/local/domain/$drv/backend/vbd/$fe/51776" "/local/domain/$fe/device/vbd/51776" "the disk attached through the restarted driver domain"
lg_fe_wait '^KEEL-GUEST: (xvde readback ok|FAIL)' 90 "the guest's xvde through the restarted driver domain did not work"
n=$(seq 1 5000 | wc -c)
[ "$(head -c "$n" "$img2" | md5sum)" = "$(seq 1 5000 | md5sum)" ] ||
	fail "the successor's image does not hold what the guest wrote to xvde"
echo "linux-driver-domain-blk: restart: xvde through the successor written and read back, its image holds the guest's bytes, $((SECONDS - t0)) s"
lg_wait_console fe '^KEEL-GUEST: (done|FAIL)' 150 || {
	grep -a '^xl devd' "$drvcon" | tr -d '\r'
	fail "the guest did not finish (last: $(tail -n 1 "$con" 2>/dev/null))"
}
echo "linux-driver-domain-blk: guest finished after $((SECONDS - t0)) s"
grep -a 'KEEL-GUEST' "$con" | tr -d '\r' | sed 's/^/linux-driver-domain-blk: guest: /'
grep -qa '^KEEL-GUEST: FAIL' "$con" && fail "guest: $(grep -a '^KEEL-GUEST: FAIL' "$con" | tr -d '\r')"
grep -qa '^KEEL-GUEST: unmounted' "$con" || fail "the guest did not unmount its file system"
grep -qa '^KEEL-GUEST: xvdb readback ok' "$con" || fail "the guest did not read back its xvdb"
grep -qa "xl devd: $be: /dev/xvda -> physical-device ca:0" "$drvcon1" || fail "xl devd did not report xvda"
grep -qa "xl devd: ${be%/*}/51728: /file.img -> physical-device 7:0" "$drvcon1" || fail "xl devd did not report the loop device"
want=$(seq 1 30000 | md5sum | cut -d' ' -f1)
grep -qa "^KEEL-GUEST: file md5 $want" "$con" || fail "the guest read back another file than it wrote"

# the guest goes: its device goes from the driver domain's tree
wait_for "\"$KEEL_BIN/keelctl\" info $fe | grep -q ' shutdown '" 30 || fail "the guest did not power off"
# a backend domain that is not running (the preserved guest) is refused too
sed -e "s/^name = .*/name = \"nodrv2\"/; s/backend=no-such-domain/backend=$fe/" "$KEEL_TMP/nodrv.cfg" >"$KEEL_TMP/nodrv2.cfg"
xl create "$KEEL_TMP/nodrv2.cfg" >"$KEEL_TMP/nodrv2.out" 2>&1 && fail "a disk with a shut-down backend domain was accepted"
grep -q "backend domain \"$fe\" ($fe) is not running" "$KEEL_TMP/nodrv2.out" || fail "not-running backend domain: $(cat "$KEEL_TMP/nodrv2.out")"
grep -q 'Unable to set disk defaults for disk 0' "$KEEL_TMP/nodrv2.out" || fail "no libxl message: $(cat "$KEEL_TMP/nodrv2.out")"
xl destroy fe >"$KEEL_TMP/destroy.out" 2>&1 || fail "xl destroy fe: $(cat "$KEEL_TMP/destroy.out")"
wait_for "! st ls /local/domain/$drv/backend/vbd/$fe >/dev/null 2>&1" 20 ||
	fail "the driver domain's backend directory stayed: $(st ls "/local/domain/$drv/backend/vbd/$fe" 2>&1 | tr '\n' ' ')"
grep -a '^xl devd:' "$drvcon1" | tr -d '\r' | sed 's/^/linux-driver-domain-blk: drv: /'
grep -a '^xl devd:' "$drvcon" | tr -d '\r' | sed 's/^/linux-driver-domain-blk: drv-next: /'

# the successor powers off; the first driver domain's disk holds the
# guest's file system (unmounted and flushed before that domain died)
xl shutdown drv >"$KEEL_TMP/shutdown.out" 2>&1 || fail "xl shutdown drv: $(cat "$KEEL_TMP/shutdown.out")"
wait_for "\"$KEEL_BIN/keelctl\" info $drv | grep -q ' shutdown '" 60 || fail "the driver domain did not power off"
xl destroy drv >/dev/null 2>&1
e2fsck -fn "$img" >"$KEEL_TMP/fsck.out" 2>&1 || fail "e2fsck of the image: $(tail -n 5 "$KEEL_TMP/fsck.out")"
[ "$(debugfs -R 'cat /guest-file' "$img" 2>/dev/null | md5sum | cut -d' ' -f1)" = "$want" ] ||
	fail "the image does not hold the guest's file"
echo "linux-driver-domain-blk: the image is a clean ext2 with the guest's file (md5 $want); total $((SECONDS - t0)) s"
exit 0
