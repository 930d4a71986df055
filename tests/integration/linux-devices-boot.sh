#!/usr/bin/env bash
# linux-devices-boot: Debian's kernel connects every device, boot after boot.
# Debian's 6.1 kernel (2 vCPUs) boots KEEL_BOOTS times in a row (default 2;
# `make stress` runs 30) with three disks served by keel-blkback (two
# queues each: xen-blkfront takes one per vCPU) and a vif served by
# keel-netback on a private bridge.  Each boot, /init loads Debian's
# xen-blkfront.ko and xen-netfront.ko, waits for xvda, xvdb, xvdc and eth0,
# reports how many queues each disk has, reads a sector of each disk and
# powers off.  The host then checks, for every boot, that each front end and
# back end reached Connected (4) in the store while the guest ran, that the
# guest saw all three disks with two queues and the NIC, and that the
# domain went away.  A stuck device (a front end left in Initialising
# while its back end waits, as a lost store request or event leaves it)
# fails the test with the store's states and the daemons' logs.  Events are
# lines on the console and states in the store, never fixed sleeps.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
lg_fetch_kernel
T=linux-devices-boot
boots=${KEEL_BOOTS:-2}

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/block/xen-blkfront.ko
lg_add_module "$root" drivers/net/xen-netfront.ko
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "KEEL-DEV: $*"; }
for m in $(cat /lib/modules/ORDER); do
	args=
	[ $m = xen-blkfront.ko ] && args="max_ring_page_order=1"
	insmod /lib/modules/$m $args || say "insmod $m failed"
done
i=0
while { [ ! -b /dev/xvda ] || [ ! -b /dev/xvdb ] || [ ! -b /dev/xvdc ] ||
	[ ! -e /sys/class/net/eth0 ]; } && [ $i -lt 300 ]; do
	i=$((i + 1)); sleep 0.1
done
q=
for d in xvda xvdb xvdc; do
	if [ -b /dev/$d ]; then
		s=$(dd if=/dev/$d bs=4096 count=1 iflag=direct 2>/dev/null | wc -c)
		q="$q $d:$(ls /sys/block/$d/mq 2>/dev/null | wc -l)q:${s}b"
	else
		q="$q $d:missing"
	fi
done
[ -e /sys/class/net/eth0 ] && q="$q eth0:up" || q="$q eth0:missing"
say "ready$q"
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

br=kldb$$
lg_dom0_up --bridge "$br" --bridge-addr "10.$((200 + RANDOM % 50)).$((RANDOM % 250)).1/24"
lg_backend keel-blkback
lg_backend keel-netback
for d in a b c; do truncate -s 8M "$KEEL_TMP/disk$d.img"; done

# states DOMID: every front end and back end state of the domain's devices
states() {
	local out= d
	for d in 51712 51728 51744; do
		out="$out vbd$d $(st read "/local/domain/$1/device/vbd/$d/state" 2>/dev/null || echo -)/$(st read "/local/domain/0/backend/vbd/$1/$d/state" 2>/dev/null || echo -)"
	done
	echo "$out vif $(st read "/local/domain/$1/device/vif/0/state" 2>/dev/null || echo -)/$(st read "/local/domain/0/backend/vif/$1/0/state" 2>/dev/null || echo -)"
}

for i in $(seq 1 "$boots"); do
	name=devboot$i
	lg_cfg_head "$name" >"$KEEL_TMP/$name.cfg"
	cat >>"$KEEL_TMP/$name.cfg" <<CFG
memory = 256
vcpus = 2
on_poweroff = "destroy"
disk = [ 'format=raw, vdev=xvda, access=rw, target=$KEEL_TMP/diska.img',
         'format=raw, vdev=xvdb, access=rw, target=$KEEL_TMP/diskb.img',
         'format=raw, vdev=xvdc, access=ro, target=$KEEL_TMP/diskc.img' ]
vif = [ 'bridge=$br,vifname=vldb$i$$' ]
CFG
	lg_create "$name" "$KEEL_TMP/$name.cfg"
	# every device connects while the guest waits for them (all 4/4)
	wait_for "[ \"\$(states $id)\" = ' vbd51712 4/4 vbd51728 4/4 vbd51744 4/4 vif 4/4' ]" 90 ||
		fail "boot $i (domain $id): devices stuck: $(states "$id")"
	lg_wait_console "$name" '^KEEL-DEV: ready' 60 ||
		fail "boot $i: the guest did not report (last: $(tail -n 1 "$con" 2>/dev/null))"
	line=$(grep -a '^KEEL-DEV: ready' "$con" | tr -d '\r' | tail -n 1)
	[ "$line" = "KEEL-DEV: ready xvda:2q:4096b xvdb:2q:4096b xvdc:2q:4096b eth0:up" ] ||
		fail "boot $i: the guest saw: $line"
	wait_for "! xl domid $name >/dev/null 2>&1" 60 || fail "boot $i: $name did not power off"
	echo "$T: boot $i (domain $id): 3 disks x 2 queues and a vif connected, read, powered off in $((SECONDS - t0)) s"
done
echo "$T: $boots boots of Debian's kernel, no device stuck"
exit 0
