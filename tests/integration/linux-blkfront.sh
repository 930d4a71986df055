#!/usr/bin/env bash
# linux-blkfront: Debian's own xen-blkfront.ko against keel-blkback.
# Debian's 6.1 kernel boots as a PV guest (2 vCPUs) with a busybox
# initramfs carrying xen-blkfront.ko; the domain is created paused, the vbd
# nodes are written as libxl writes them (xvda read-write on a raw image,
# xvdb with mode=r), keel-blkback serves them through keeld's grant maps and
# event channels.  /init insmods the module and on xvda: writes a 1 MiB seed
# with O_DIRECT (large requests: indirect segments), reads it back from the
# disk (O_DIRECT) and compares, reads a region the host pre-filled; on xvdb:
# reads the host's bytes and checks that a write fails.  The host then
# checks the image file holds the seed at the offset the guest wrote.
# Skipped only when the kernel or busybox-static cannot be fetched or
# /dev/kvm is missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
lg_fetch_kernel

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/block/xen-blkfront.ko
head -c 1048576 /dev/urandom >"$root/seed"
# the disks: 16 MiB rw with 64 KiB of host data at 8 MiB; 4 MiB ro, all host data
img=$KEEL_TMP/disk.img
roimg=$KEEL_TMP/ro.img
truncate -s 16M "$img"
head -c 65536 /dev/urandom >"$KEEL_TMP/host.bin"
dd if="$KEEL_TMP/host.bin" of="$img" bs=4096 seek=2048 conv=notrunc status=none
head -c 4194304 /dev/urandom >"$roimg"
md5sum <"$KEEL_TMP/host.bin" | cut -d' ' -f1 >"$root/host.md5"
md5sum <"$roimg" | cut -d' ' -f1 >"$root/ro.md5"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "KEEL-BLK: $*"; }
for m in $(cat /lib/modules/ORDER); do
	insmod /lib/modules/$m || say "insmod $m failed"
done
i=0
while [ ! -b /dev/xvda ] || [ ! -b /dev/xvdb ]; do
	i=$((i + 1)); [ $i -gt 300 ] && break
	sleep 0.1
done
[ -b /dev/xvda ] || { say "FAIL no /dev/xvda"; dmesg | tail -n 20; poweroff -f; }
say "xvda $(cat /sys/block/xvda/size) sectors, xvdb $(cat /sys/block/xvdb/size 2>/dev/null) sectors ro=$(cat /sys/block/xvdb/ro 2>/dev/null) queues=$(ls /sys/block/xvda/mq 2>/dev/null | wc -l)"
seed=$(md5sum </seed | cut -d' ' -f1)
# 1 MiB at 1 MiB, O_DIRECT so it reaches the backend as large requests
if dd if=/seed of=/dev/xvda bs=1M seek=1 count=1 oflag=direct conv=fsync 2>/tmp/dd.err; then
	sync
	echo 3 >/proc/sys/vm/drop_caches
	back=$(dd if=/dev/xvda bs=1M skip=1 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$back" = "$seed" ] && say "write-readback ok $back" || say "FAIL write-readback $back != $seed"
else
	say "FAIL write: $(cat /tmp/dd.err)"
fi
# small buffered writes too: 8 x 4 KiB at 4 MiB, through the page cache, then sync
dd if=/seed of=/dev/xvda bs=4096 count=8 seek=1024 conv=fsync 2>/dev/null && sync &&
	say "buffered write done"
host=$(dd if=/dev/xvda bs=4096 skip=2048 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$host" = "$(cat /host.md5)" ] && say "host-region ok $host" || say "FAIL host-region $host"
ro=$(dd if=/dev/xvdb bs=64k iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$ro" = "$(cat /ro.md5)" ] && say "ro-read ok $ro" || {
	say "FAIL ro-read $ro"
	for k in 0 1 2 3; do say "ro MiB $k: $(dd if=/dev/xvdb bs=1M skip=$k count=1 iflag=direct 2>/dev/null | md5sum | cut -c1-8) buffered $(dd if=/dev/xvdb bs=1M skip=$k count=1 2>/dev/null | md5sum | cut -c1-8)"; done
	say "ro first 64k by 4k: $(dd if=/dev/xvdb bs=4k count=16 iflag=direct 2>/dev/null | md5sum | cut -c1-8)"
	say "ro first 64k: $(dd if=/dev/xvdb bs=64k count=1 iflag=direct 2>/dev/null | md5sum | cut -c1-8)"
	say "ro first 16 bytes: $(dd if=/dev/xvdb bs=4k count=1 iflag=direct 2>/dev/null | hexdump -C | head -n 2 | tr '\n' ' ')"
}
if dd if=/seed of=/dev/xvdb bs=4096 count=1 oflag=direct 2>/tmp/ro.err; then
	say "FAIL ro-write accepted"
else
	say "ro-write refused: $(tail -n 1 /tmp/ro.err)"
fi
say "done"
dmesg | grep -iE 'blkfront|xvd|blkif' | tail -n 8
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up
lg_backend keel-blkback
cat >"$KEEL_TMP/linux.cfg" <<CFG
name = "linux-blk"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 2
on_poweroff = "preserve"
CFG
t0=$SECONDS
xl create -p "$KEEL_TMP/linux.cfg" >"$KEEL_TMP/create.out" 2>&1 ||
	fail "create: $(cat "$KEEL_TMP/create.out")"
id=$(xl domid linux-blk) || fail "domid"
# the vbd nodes as libxl writes them (the config has no disk=)
lg_vbd "$id" 51712 xvda "$img" w
lg_vbd "$id" 51728 xvdb "$roimg" r
xl unpause linux-blk || fail "unpause"
con=$(lg_console linux-blk)
lg_wait_console linux-blk '^KEEL-BLK: (done|FAIL no)' 120 ||
	fail "the guest did not finish its disk checks (last: $(tail -n 1 "$con" 2>/dev/null))"
echo "linux-blkfront: guest finished after $((SECONDS - t0)) s"
grep -a 'KEEL-BLK' "$con" | tr -d '\r' | sed 's/^/linux-blkfront: guest: /'
be=/local/domain/0/backend/vbd/$id/51712
fe=/local/domain/$id/device/vbd/51712
echo "linux-blkfront: backend state $(st read "$be/state" 2>/dev/null), frontend state $(st read "$fe/state" 2>/dev/null)"
echo "linux-blkfront: Linux wrote: $(for k in protocol feature-persistent multi-queue-num-queues ring-page-order ring-ref event-channel; do v=$(st read "$fe/$k" 2>/dev/null) && printf '%s=%s ' "$k" "$v"; done)"
grep -qa '^KEEL-BLK: FAIL ro-read' "$con" &&
	echo "linux-blkfront: host's ro image: MiB 0-3 $(for k in 0 1 2 3; do dd if="$roimg" bs=1M skip=$k count=1 status=none | md5sum | cut -c1-8; done | tr '\n' ' ')first 64k $(head -c 65536 "$roimg" | md5sum | cut -c1-8), first bytes $(head -c 16 "$roimg" | od -An -tx1)"
for m in 'write-readback ok' 'host-region ok' 'ro-read ok' 'ro-write refused' 'buffered write done'; do
	grep -qa "^KEEL-BLK: $m" "$con" || fail "guest did not report '$m'"
done
# the host's view of the image: the seed at 1 MiB and 8 x 4 KiB at 4 MiB
cmp -s <(dd if="$img" bs=1M skip=1 count=1 status=none) "$root/seed" ||
	fail "the image does not hold the seed the guest wrote at 1 MiB"
cmp -s <(dd if="$img" bs=4096 skip=1024 count=8 status=none) <(head -c 32768 "$root/seed") ||
	fail "the image does not hold the buffered write at 4 MiB"
cmp -s <(dd if="$img" bs=4096 skip=2048 count=16 status=none) "$KEEL_TMP/host.bin" ||
	fail "the host region changed"
[ "$(md5sum <"$roimg" | cut -d' ' -f1)" = "$(cat "$root/ro.md5")" ] || fail "the ro image changed"
echo "linux-blkfront: the image holds what Linux wrote; the ro disk is unchanged"
exit 0
