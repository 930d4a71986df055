#!/usr/bin/env bash
# linux-qdisk: Debian's unmodified QEMU for Xen (qemu-system-xen) as the
# qdisk backend of a Debian-kernel guest, running on Keel's builds of
# Xen's dom0 libraries (build/lib/xen, through keel-xen-run).
# xl create (of libvirt XML with <driver name='qemu' type='qcow2'/>)
# starts QEMU for the guest as libxl does (format=qcow2 and
# backendtype=qdisk disks), and waits for its "running".  In the guest
# (xen-blkfront.ko): xvda is a qcow2 overlay on a qcow2 base (qemu-img
# create -b): it reads the base's bytes through the overlay, writes a seed
# and reads it back (O_DIRECT), flushes; xvdb is a raw disk through
# keel-blkback.  The host then checks the overlay with qemu-img check,
# finds the seed in it and the base untouched.  Then QEMU is killed
# (SIGKILL) while the guest reads xvda in a loop: the domain carries on,
# keel-blkback's disk still serves (the guest waits for a marker the host
# writes to xvdb after the kill and answers on it), the domain monitor
# reports the lost device model; xl block-attach of another qcow2 starts a
# new QEMU, whose disk the guest reads; xl destroy stops it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
qemu_xen=${KEEL_QEMU_XEN:-/usr/libexec/xen-qemu-system-i386}
[ -x "$qemu_xen" ] || skip "no $qemu_xen (Debian's qemu-system-xen; make deps installs it)"
command -v qemu-img >/dev/null || skip "no qemu-img (qemu-utils; make deps installs it)"
[ -x "$KEEL_BIN/keel-xen-run" ] || fail "missing $KEEL_BIN/keel-xen-run"
for l in libxenctrl.so.4.17 libxendevicemodel.so.1 libxenevtchn.so.1 libxengnttab.so.1 \
	libxenforeignmemory.so.1 libxentoolcore.so.1; do
	[ -f "$KEEL_BUILD/lib/xen/$l" ] || fail "missing $KEEL_BUILD/lib/xen/$l"
done
lg_fetch_kernel

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/block/xen-blkfront.ko
# the base image: 1 MiB of host data at 2 MiB; the overlay on it
head -c 1048576 /dev/urandom >"$KEEL_TMP/base.bin"
head -c 1048576 /dev/urandom >"$root/seed"
truncate -s 32M "$KEEL_TMP/base.raw"
dd if="$KEEL_TMP/base.bin" of="$KEEL_TMP/base.raw" bs=1M seek=2 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$KEEL_TMP/base.raw" "$KEEL_TMP/base.qcow2" || fail "qemu-img convert"
qemu-img create -q -f qcow2 -b "$KEEL_TMP/base.qcow2" -F qcow2 "$KEEL_TMP/overlay.qcow2" ||
	fail "qemu-img create -b"
base_md5=$(md5sum <"$KEEL_TMP/base.qcow2" | cut -d' ' -f1)
md5sum <"$KEEL_TMP/base.bin" | cut -d' ' -f1 >"$root/base.md5"
truncate -s 8M "$KEEL_TMP/raw.img"
# the disk attached after the kill
head -c 2097152 /dev/urandom >"$KEEL_TMP/hot.bin"
qemu-img convert -f raw -O qcow2 "$KEEL_TMP/hot.bin" "$KEEL_TMP/hot.qcow2" || fail "qemu-img convert hot"
md5sum <"$KEEL_TMP/hot.bin" | cut -d' ' -f1 >"$root/hot.md5"

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "KEEL-QD: $*"; }
for m in $(cat /lib/modules/ORDER); do insmod /lib/modules/$m || say "insmod $m failed"; done
i=0
while { [ ! -b /dev/xvda ] || [ ! -b /dev/xvdb ]; } && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/xvda ] || { say "FAIL no /dev/xvda"; poweroff -f; }
say "xvda $(cat /sys/block/xvda/size) sectors, xvdb $(cat /sys/block/xvdb/size 2>/dev/null) sectors"
b=$(dd if=/dev/xvda bs=1M skip=2 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$b" = "$(cat /base.md5)" ] && say "backing read ok" || say "FAIL backing read $b"
if dd if=/seed of=/dev/xvda bs=1M seek=5 count=1 oflag=direct conv=fsync 2>/tmp/dd.err; then
	s=$(dd if=/dev/xvda bs=1M skip=5 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$s" = "$(md5sum </seed | cut -d' ' -f1)" ] && say "write-readback ok" || say "FAIL write-readback $s"
else
	say "FAIL write: $(cat /tmp/dd.err)"
fi
# small buffered writes and a flush (BLKIF_OP_FLUSH_DISKCACHE)
dd if=/seed of=/dev/xvda bs=4096 count=4 seek=3072 conv=fsync 2>/dev/null && sync && say "flush done"
say "phase1 done"
# the host kills QEMU while xvda is being read
( while :; do dd if=/dev/xvda of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null; done ) &
say "reading xvda in a loop"
i=0
while [ $i -lt 1200 ]; do
	m=$(dd if=/dev/xvdb bs=512 count=1 iflag=direct 2>/dev/null | head -c 6)
	[ "$m" = KILLED ] && break
	sleep 0.1; i=$((i + 1))
done
if [ "$m" = KILLED ]; then
	echo ALIVE | dd of=/dev/xvdb bs=512 seek=1 conv=sync oflag=direct 2>/dev/null &&
		say "blkback served after the kill"
else
	say "FAIL no marker on xvdb"
fi
i=0
while [ ! -b /dev/xvdd ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/xvdd ]; then
	h=$(dd if=/dev/xvdd bs=1M count=2 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$h" = "$(cat /hot.md5)" ] && say "new qemu disk ok" || say "FAIL new qemu disk $h"
else
	say "FAIL no xvdd"
fi
say "done"
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up
lg_backend keel-blkback
cat >"$KEEL_TMP/linux.cfg" <<CFG
name = "linux-qdisk"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
on_poweroff = "preserve"
disk = [ 'format=qcow2, vdev=xvda, access=rw, target=$KEEL_TMP/overlay.qcow2',
         'format=raw, vdev=xvdb, access=rw, target=$KEEL_TMP/raw.img' ]
CFG
# created from libvirt XML: the qcow2 disk as libvirt's libxl driver writes a
# qdisk disk, <driver name='qemu' type='qcow2'/>
xl domxml-from-native xen-xl "$KEEL_TMP/linux.cfg" |
	sed 's|<driver type="qcow2"/>|<driver name="qemu" type="qcow2"/>|' >"$KEEL_TMP/linux.xml" ||
	fail "domxml-from-native"
grep -q '<driver name="qemu" type="qcow2"/>' "$KEEL_TMP/linux.xml" ||
	fail "no qcow2 disk in the XML: $(grep -A3 '<disk' "$KEEL_TMP/linux.xml")"
lg_create linux-qdisk "$KEEL_TMP/linux.xml"
qlog=$run/log/qemu-dm-linux-qdisk.log
qpid=$(st read "/local/domain/$id/image/device-model-pid") || fail "no device-model-pid in the store"
[ "$(st read "/local/domain/0/device-model/$id/state")" = running ] || fail "QEMU's state is not running"
[ "$(st read "/local/domain/0/backend/qdisk/$id/51712/params")" = "qcow2:$KEEL_TMP/overlay.qcow2" ] ||
	fail "qdisk params: $(st read "/local/domain/0/backend/qdisk/$id/51712/params" 2>&1)"
# QEMU runs on Keel's libraries, not on a host's Xen
for l in libxenctrl.so.4.17 libxendevicemodel.so.1 libxenevtchn.so.1 libxengnttab.so.1 \
	libxenforeignmemory.so.1 libxentoolcore.so.1; do
	grep -q "$KEEL_BUILD/lib/xen/$l" "/proc/$qpid/maps" || fail "QEMU did not load Keel's $l"
done
echo "linux-qdisk: QEMU pid $qpid runs on $(grep -o "$KEEL_BUILD/lib/xen/[^ ]*" "/proc/$qpid/maps" | sort -u | wc -l) of Keel's Xen libraries"
lg_wait_console linux-qdisk '^KEEL-QD: (reading xvda in a loop|FAIL no)' 120 ||
	fail "the guest did not finish its qcow2 checks (last: $(tail -n 1 "$con" 2>/dev/null))"
for m in 'backing read ok' 'write-readback ok' 'flush done'; do
	grep -qa "^KEEL-QD: $m" "$con" || fail "guest did not report '$m': $(grep -a KEEL-QD "$con" | tr -d '\r')"
done
# the host's view while QEMU still holds the image (shared, read-only)
qemu-img check -U "$KEEL_TMP/overlay.qcow2" >"$KEEL_TMP/check.out" 2>&1 ||
	fail "qemu-img check: $(cat "$KEEL_TMP/check.out")"
qemu-img convert -U -f qcow2 -O raw "$KEEL_TMP/overlay.qcow2" "$KEEL_TMP/overlay.raw" || fail "convert"
cmp -s <(dd if="$KEEL_TMP/overlay.raw" bs=1M skip=5 count=1 status=none) "$root/seed" ||
	fail "the overlay does not hold the guest's seed at 5 MiB"
cmp -s <(dd if="$KEEL_TMP/overlay.raw" bs=1M skip=2 count=1 status=none) "$KEEL_TMP/base.bin" ||
	fail "the overlay does not show the base's data"
[ "$(md5sum <"$KEEL_TMP/base.qcow2" | cut -d' ' -f1)" = "$base_md5" ] || fail "the base image changed"
echo "linux-qdisk: $(grep -o 'No errors.*' "$KEEL_TMP/check.out" || head -n 1 "$KEEL_TMP/check.out")"

# QEMU dies mid-I/O: the guest and keel-blkback carry on
kill -9 "$qpid"
wait_for "! kill -0 $qpid 2>/dev/null || grep -q '^State:.*Z' /proc/$qpid/status 2>/dev/null" 10 ||
	fail "QEMU survived SIGKILL"
printf 'KILLED' | dd of="$KEEL_TMP/raw.img" bs=512 conv=notrunc status=none
lg_wait_console linux-qdisk '^KEEL-QD: (blkback served after the kill|FAIL no marker)' 150 ||
	fail "no word from the guest after the kill (last: $(tail -n 1 "$con" 2>/dev/null))"
grep -qa '^KEEL-QD: blkback served after the kill' "$con" || fail "the guest did not see the marker"
[ "$(dd if="$KEEL_TMP/raw.img" bs=512 skip=1 count=1 status=none | head -c 5)" = ALIVE ] ||
	fail "the guest's answer is not on the raw disk"
"$KEEL_BIN/keelctl" info "$id" | grep -qE ' (running|blocked) ' ||
	fail "domain $id is not running after the kill: $("$KEEL_BIN/keelctl" info "$id" 2>&1 | tail -n 1)"
wait_for "grep -q 'device model of domain $id (pid $qpid) has exited' '$run/log/xl-linux-qdisk.log'" 10 ||
	fail "the domain monitor did not report QEMU's exit: $(tail -n 3 "$run/log/xl-linux-qdisk.log")"

# a qcow2 attached now starts a new QEMU
xl block-attach linux-qdisk "format=qcow2, vdev=xvdd, access=rw, target=$KEEL_TMP/hot.qcow2" \
	>"$KEEL_TMP/attach.out" 2>&1 || fail "xl block-attach: $(cat "$KEEL_TMP/attach.out")"
qpid2=$(st read "/local/domain/$id/image/device-model-pid") || fail "no new device-model-pid"
[ "$qpid2" != "$qpid" ] && kill -0 "$qpid2" || fail "no new QEMU after block-attach"
lg_wait_console linux-qdisk '^KEEL-QD: done' 120 ||
	fail "the guest did not finish (last: $(tail -n 1 "$con" 2>/dev/null))"
grep -qa '^KEEL-QD: new qemu disk ok' "$con" || fail "the attached qcow2: $(grep -a 'KEEL-QD' "$con" | tail -n 2 | tr -d '\r')"
grep -qa '^KEEL-QD: FAIL' "$con" && fail "$(grep -a '^KEEL-QD: FAIL' "$con" | tr -d '\r')"
xl destroy linux-qdisk || fail "xl destroy"
wait_for "! kill -0 $qpid2 2>/dev/null || grep -q '^State:.*Z' /proc/$qpid2/status 2>/dev/null" 10 ||
	fail "QEMU $qpid2 outlived its domain"
st read "/local/domain/0/device-model/$id/state" >/dev/null 2>&1 && fail "device-model nodes left behind"
grep -a 'KEEL-QD' "$con" | tr -d '\r' | sed 's/^/linux-qdisk: guest: /'
exit 0
