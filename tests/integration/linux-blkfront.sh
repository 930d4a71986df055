#!/usr/bin/env bash
# linux-blkfront: Debian's own xen-blkfront.ko against keel-blkback.
# Debian's 6.1 kernel boots as a PV guest (2 vCPUs) with a busybox
# initramfs carrying xen-blkfront.ko (2-page rings, 2 queues, persistent
# grants, indirect segments) and three disks from the config's disk=
# (xvda read-write on a raw image, xvdb access=ro; xl writes libxl's vbd
# nodes), served by keel-blkback through keeld's grant maps and event
# channels.  /init insmods the module and on xvda: writes a 1 MiB seed
# with O_DIRECT (large requests: indirect segments), reads it back from the
# disk (O_DIRECT) and compares, reads a region the host pre-filled; on xvdb:
# reads the host's bytes and checks that a write fails; on an ext2 disk
# (xvdc): mounts it, reads and writes files; discards 1 MiB of xvda; then
# the host hot-plugs xvdd (xl block-attach), the guest reads it, the host
# unplugs it (xl block-detach) and the guest sees it go.  The host checks
# the images: the seed where the guest wrote it, zeros where it discarded,
# e2fsck clean with the guest's file.
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
# ext2 through Debian's ext4 driver (and what it needs)
lg_add_module "$root" crypto/crc32c_generic.ko
lg_add_module "$root" fs/ext4/ext4.ko
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
# a third disk with an ext2 file system made on the host
fsimg=$KEEL_TMP/fs.img
mkdir -p "$KEEL_TMP/fstree/keel"
head -c 300000 /dev/urandom >"$KEEL_TMP/fstree/keel/host-file"
md5sum <"$KEEL_TMP/fstree/keel/host-file" | cut -d' ' -f1 >"$root/fs.md5"
mke2fs -q -F -t ext2 -d "$KEEL_TMP/fstree" "$fsimg" 16M >"$KEEL_TMP/mke2fs.out" 2>&1 ||
	fail "mke2fs: $(cat "$KEEL_TMP/mke2fs.out")"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "KEEL-BLK: $*"; }
for m in $(cat /lib/modules/ORDER); do
	# multi-page rings (2 pages a queue; with persistent grants Linux
	# preallocates (segments + 1) pages per ring slot: keep it modest)
	args=
	[ $m = xen-blkfront.ko ] && args="max_ring_page_order=1"
	insmod /lib/modules/$m $args || say "insmod $m failed"
done
i=0
while [ ! -b /dev/xvda ] || [ ! -b /dev/xvdb ]; do
	i=$((i + 1)); [ $i -gt 300 ] && break
	sleep 0.1
done
[ -b /dev/xvda ] || { say "FAIL no /dev/xvda"; dmesg | tail -n 20; poweroff -f; }
say "xvda $(cat /sys/block/xvda/size) sectors, xvdb $(cat /sys/block/xvdb/size 2>/dev/null) sectors ro=$(cat /sys/block/xvdb/ro 2>/dev/null) queues=$(ls /sys/block/xvda/mq 2>/dev/null | wc -l) max_sectors_kb=$(cat /sys/block/xvda/queue/max_sectors_kb)"
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
	say "ro-write refused: $(grep -v records /tmp/ro.err | head -n 1)"
fi
# a file system: read the host's file, write one of ours, unmount
i=0
while [ ! -b /dev/xvdc ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /mnt
if mount -t ext4 /dev/xvdc /mnt 2>/tmp/mount.err; then
	f=$(md5sum </mnt/keel/host-file | cut -d' ' -f1)
	[ "$f" = "$(cat /fs.md5)" ] && say "fs-read ok" || say "FAIL fs-read $f"
	cp /seed /mnt/keel/guest-file && mkdir /mnt/keel/guest-dir && sync && umount /mnt &&
		say "fs-write done"
else
	say "FAIL mount: $(cat /tmp/mount.err)"
fi
# throughput (shown, not judged): 16 MiB O_DIRECT reads in 1 MiB requests
rate() { # MiB COMMAND...: MiB/s from /proc/uptime (10 ms ticks)
	local mib=$1 a b
	shift
	a=$(cut -d' ' -f1 /proc/uptime)
	"$@" 2>/dev/null
	b=$(cut -d' ' -f1 /proc/uptime)
	awk -v m="$mib" -v a="$a" -v b="$b" 'BEGIN { t = b - a; if (t < 0.01) t = 0.01; printf "%.1f MiB/s (%d MiB in %.2f s)", m / t, m, t }'
}
say "seq-read $(rate 16 dd if=/dev/xvda of=/dev/null bs=1M count=16 iflag=direct)"
say "seq-write $(rate 4 dd if=/dev/zero of=/dev/xvda bs=1M count=4 seek=10 oflag=direct)"
# discard (blkdiscard -> BLKIF_OP_DISCARD): 1 MiB at 12 MiB, which we fill first
dd if=/seed of=/dev/xvda bs=1M seek=12 count=1 oflag=direct 2>/dev/null
if blkdiscard -o 12582912 -l 1048576 /dev/xvda 2>/tmp/discard.err; then
	say "discard done (granularity $(cat /sys/block/xvda/queue/discard_granularity))"
else
	say "FAIL discard: $(cat /tmp/discard.err)"
fi
# the disks' own counters (/sys/block/X/stat), for the host's xl top
sync
for d in xvda xvdb xvdc; do say "stat $d $(cat /sys/block/$d/stat)"; done
# hotplug: the host runs xl block-attach, then block-detach
say "waiting for xvdd"
i=0
while [ ! -b /dev/xvdd ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/xvdd ]; then
	say "xvdd arrived: $(cat /sys/block/xvdd/size) sectors, md5 $(dd if=/dev/xvdd bs=64k iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
	i=0
	while [ -b /dev/xvdd ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	[ -b /dev/xvdd ] && say "FAIL xvdd still there" || say "xvdd removed"
else
	say "FAIL no xvdd after block-attach"
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
disk = [ 'format=raw, vdev=xvda, access=rw, target=$img',
         '$roimg,raw,xvdb,ro', '$fsimg,raw,xvdc,rw' ]
CFG
lg_create linux-blk "$KEEL_TMP/linux.cfg"
hotimg=$KEEL_TMP/hot.img
head -c 2097152 /dev/urandom >"$hotimg"
hot_md5=$(md5sum <"$hotimg" | cut -d' ' -f1)
lg_wait_console linux-blk '^KEEL-BLK: (waiting for xvdd|FAIL no)' 120 ||
	fail "the guest did not finish its disk checks (last: $(tail -n 1 "$con" 2>/dev/null))"
# xentop's VBD counters (keel-blkback's RUNDIR/stats/vbd-D-N, summed over
# the three disks) against the guest's: the same sectors read and written
# (/sys/block/X/stat fields 3 and 7), and at least one request each way
read -r g_rsect g_wsect < <(tr -d '\r' <"$con" |
	awk '/^KEEL-BLK: stat xvd/ { r += $6; w += $10 } END { print r + 0, w + 0 }')
top=$(xl top -b -i 1 | awk '$1 == "linux-blk"')
echo "linux-blkfront: xl top: $top"
echo "linux-blkfront: guest's /sys/block stat: $g_rsect sectors read, $g_wsect written"
echo "$top" | awk -v r="$g_rsect" -v w="$g_wsect" \
	'{ exit !($13 == 3 && $14 == 0 && $15 > 0 && $16 > 0 && $17 == r && $18 == w && r > 0 && w > 0) }' ||
	fail "xl top's VBDS/VBD_* ($top) do not match the guest's $g_rsect sectors read, $g_wsect written"
xl block-attach linux-blk "$hotimg,raw,xvdd,r" >"$KEEL_TMP/attach.out" 2>&1 ||
	fail "xl block-attach: $(cat "$KEEL_TMP/attach.out")"
lg_wait_console linux-blk '^KEEL-BLK: (xvdd arrived|FAIL no xvdd)' 40 || fail "no word on xvdd from the guest"
xl block-list linux-blk | sed 's/^/linux-blkfront: block-list: /'
xl block-detach linux-blk xvdd >"$KEEL_TMP/detach.out" 2>&1 ||
	fail "xl block-detach: $(cat "$KEEL_TMP/detach.out")"
lg_wait_console linux-blk '^KEEL-BLK: (done|FAIL no)' 120 ||
	fail "the guest did not finish its disk checks (last: $(tail -n 1 "$con" 2>/dev/null))"
echo "linux-blkfront: guest finished after $((SECONDS - t0)) s"
grep -a 'KEEL-BLK' "$con" | tr -d '\r' | sed 's/^/linux-blkfront: guest: /'
be=/local/domain/0/backend/vbd/$id/51712
fe=/local/domain/$id/device/vbd/51712
echo "linux-blkfront: backend state $(st read "$be/state" 2>/dev/null), frontend state $(st read "$fe/state" 2>/dev/null)"
echo "linux-blkfront: Linux wrote: $(for k in protocol feature-persistent multi-queue-num-queues ring-page-order queue-0/ring-ref0 queue-0/ring-ref1 queue-1/ring-ref1 queue-0/event-channel; do v=$(st read "$fe/$k" 2>/dev/null) && printf '%s=%s ' "$k" "$v"; done)"
[ "$(st read "$fe/ring-page-order" 2>/dev/null)" = 1 ] || fail "Linux did not use 2-page rings (ring-page-order $(st read "$fe/ring-page-order" 2>&1))"
grep -qa '^KEEL-BLK: FAIL ro-read' "$con" &&
	echo "linux-blkfront: host's ro image: MiB 0-3 $(for k in 0 1 2 3; do dd if="$roimg" bs=1M skip=$k count=1 status=none | md5sum | cut -c1-8; done | tr '\n' ' ')first 64k $(head -c 65536 "$roimg" | md5sum | cut -c1-8), first bytes $(head -c 16 "$roimg" | od -An -tx1)"
for m in 'write-readback ok' 'host-region ok' 'ro-read ok' 'ro-write refused' 'buffered write done' \
	'fs-read ok' 'fs-write done' 'discard done' "xvdd arrived: 4096 sectors, md5 $hot_md5" 'xvdd removed'; do
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
# the discarded MiB reads back as zeros on the host
cmp -s <(dd if="$img" bs=1M skip=12 count=1 status=none) <(head -c 1048576 /dev/zero) ||
	fail "the discarded MiB at 12 MiB is not zeros in the image"
# the file system Linux wrote: clean, and our file in it
e2fsck -fn "$fsimg" >"$KEEL_TMP/fsck.out" 2>&1 || fail "e2fsck after the guest's writes: $(tail -n 5 "$KEEL_TMP/fsck.out")"
debugfs -R "cat /keel/guest-file" "$fsimg" 2>/dev/null | cmp -s - "$root/seed" ||
	fail "the guest's file is not in the ext2 image"
debugfs -R "ls -l /keel" "$fsimg" 2>/dev/null | grep -q guest-dir || fail "the guest's directory is not in the image"
echo "linux-blkfront: the image holds what Linux wrote; the ro disk is unchanged; the ext2 disk is clean (e2fsck) with the guest's file and directory"
# the host reading the same image file, for scale (page cache: an upper bound)
host=$(dd if="$img" of=/dev/null bs=1M count=16 2>&1 | tail -n 1)
echo "linux-blkfront: 16 MiB sequential read, guest O_DIRECT 1 MiB requests: $(grep -a 'KEEL-BLK: seq-read' "$con" | tr -d '\r' | sed 's/.*seq-read //'); host dd of the image (page cache): $host"
exit 0
