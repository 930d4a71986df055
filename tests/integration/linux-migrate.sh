#!/usr/bin/env bash
# linux-migrate: xl migrate of a running Debian-kernel guest, live.
# Debian's 6.1 kernel boots with a busybox initramfs and Debian's
# xen-blkfront.ko on a raw image (xvda, keel-blkback).  /init counts on its
# console ("tick N" every 0.5 s) and answers disk commands ("cmd N" in the
# image's first 4 KiB: 1 MiB of fresh random bytes written at N MiB, read
# back, "disk N md5 ...") as linux-saverestore's guest does.  Migration is
# to localhost (one dom0: the target holds the guest as NAME--incoming, the
# source renames its copy NAME--migratedaway, as Xen's xl does for exactly
# this), through `xl migrate -s SCRIPT` where SCRIPT drops the host argument
# and runs the target's xl with the run directory.  Checked: the guest keeps
# counting past its pre-migration tick, the same boot, its disk writes after
# migration are in the image, it migrates back (KEEL_MIG_ROUNDS, default 2,
# migrations in all); then a receiver that dies mid-stream (SSHCMD runs a
# command that reads a little and exits): xl migrate fails and the guest
# runs on, on the source, under its own name, with nothing left on the
# target side.  Waits on console lines and states, never fixed sleeps.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
lg_fetch_kernel
T=linux-migrate

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/block/xen-blkfront.ko
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "KEEL-MIG: $*"; }
boot=$(cat /proc/sys/kernel/random/boot_id)
say "boot $boot"
for m in $(cat /lib/modules/ORDER); do
	insmod /lib/modules/$m || say "insmod $m failed"
done
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
[ -b /dev/xvda ] || say "FAIL no /dev/xvda"
( n=0; while :; do echo "tick $n"; n=$((n + 1)); sleep 0.5; done ) &
say "ready"
last=
while :; do
	c=$(dd if=/dev/xvda bs=4096 count=1 iflag=direct 2>/dev/null | tr -d '\000' | head -n 1)
	n=
	case $c in "cmd "[0-9]*) n=${c#cmd } ;; esac
	if [ -n "$n" ] && [ "$n" != "$last" ]; then
		last=$n
		dd if=/dev/urandom of=/tmp/p bs=65536 count=16 2>/dev/null
		m=$(md5sum </tmp/p | cut -d' ' -f1)
		if dd if=/tmp/p of=/dev/xvda bs=65536 seek=$((16 * n)) oflag=direct conv=fsync 2>/tmp/err; then
			b=$(dd if=/dev/xvda bs=65536 skip=$((16 * n)) count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
			say "disk $n md5 $m readback $b boot $boot"
		else
			say "disk $n FAIL write: $(tr '\n' ' ' </tmp/err)"
		fi
	fi
	sleep 0.3
done
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up --no-bridge
lg_backend keel-blkback

# the "ssh" to the target: drop the host, run the target's xl (this build's)
sshcmd=$KEEL_TMP/to-target
cat >"$sshcmd" <<SH
#!/bin/sh
# \$1 is the host, \$2 "xl": the rest is xl's arguments
shift 2
KEEL_RUNDIR=$run exec "$KEEL_BIN/xl" "\$@" 2>>"$KEEL_TMP/target.log"
SH
chmod +x "$sshcmd"
# a target that dies mid-stream: the banner, then it reads 1 MiB and exits
dying=$KEEL_TMP/dying-target
cat >"$dying" <<'SH'
#!/bin/sh
printf 'xl migration receiver ready, send binary domain data.\n'
head -c 1048576 >/dev/null
exit 1
SH
chmod +x "$dying"

name=linux-mig
img=$KEEL_TMP/disk.img
truncate -s 16M "$img"
cat >"$KEEL_TMP/$name.cfg" <<CFG
name = "$name"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 1
on_poweroff = "preserve"
disk = [ 'format=raw, vdev=xvda, access=rw, target=$img' ]
CFG
lg_create "$name" "$KEEL_TMP/$name.cfg"
lg_wait_console "$name" '^KEEL-MIG: (ready|FAIL)' 120 ||
	fail "the guest did not get ready (last: $(tail -n 1 "$con" 2>/dev/null))"
grep -qa '^KEEL-MIG: FAIL' "$con" && fail "guest: $(grep -a '^KEEL-MIG: FAIL' "$con" | head -n 1)"
boot_id=$(grep -a '^KEEL-MIG: boot ' "$con" | tr -d '\r' | awk '{print $3}')
echo "$T: $name ready after $((SECONDS - t0)) s, boot $boot_id"

# every console log of the guest, whatever name it had (NAME--incoming)
allcon() { cat "$run"/console/guest-"$name"*.log 2>/dev/null | tr -d '\r'; }
last_tick() { allcon | grep -aoE 'tick [0-9]+' | awk '{print $2}' | sort -n | tail -n 1; }
wait_tick_above() {
	local end=$((SECONDS + $2)) t
	while [ $SECONDS -lt $end ]; do
		t=$(last_tick)
		[ -n "$t" ] && [ "$t" -gt "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
cmdn=0
# check WHEN: counting on past $tick, the same boot, the disk writes land
check() {
	local when=$1 t line md5 rb boot img_md5 end
	wait_tick_above "$tick" 30 || fail "$when: the counter did not go on past tick $tick ($(xl list 2>&1 | tr '\n' ' '))"
	t=$(last_tick)
	cmdn=$((cmdn + 1))
	printf 'cmd %d\n' "$cmdn" | dd of="$img" bs=4096 count=1 conv=sync,notrunc,fsync status=none
	end=$((SECONDS + 60))
	until allcon | grep -qa "KEEL-MIG: disk $cmdn "; do
		[ $SECONDS -lt $end ] || fail "$when: no answer to disk command $cmdn"
		sleep 0.3
	done
	line=$(allcon | grep -a "KEEL-MIG: disk $cmdn " | tail -n 1)
	set -- $line
	[ "$4" = md5 ] || fail "$when: disk command $cmdn failed: $line"
	md5=$5 rb=$7 boot=$9
	[ "$rb" = "$md5" ] || fail "$when: read back $rb, wrote $md5"
	[ "$boot" = "$boot_id" ] || fail "$when: a different boot ($boot)"
	img_md5=$(dd if="$img" bs=65536 skip=$((16 * cmdn)) count=16 status=none | md5sum | cut -d' ' -f1)
	[ "$img_md5" = "$md5" ] || fail "$when: the image holds $img_md5 at $cmdn MiB, the guest wrote $md5"
	echo "$T: $when: ticks $tick -> $t, disk MiB $cmdn in the image, same boot"
	tick=$(last_tick)
}
tick=-1
check "after boot"

for round in $(seq 1 "${KEEL_MIG_ROUNDS:-2}"); do
	old=$(xl domid "$name")
	a=$(date +%s.%N)
	xl migrate -e -s "$sshcmd" "$name" localhost >"$KEEL_TMP/migrate.out" 2>&1 ||
		fail "migrate $round: $(tail -n 5 "$KEEL_TMP/migrate.out"; tail -n 5 "$KEEL_TMP/target.log")"
	b=$(date +%s.%N)
	grep -a '^migration sender: round' "$KEEL_TMP/migrate.out" | sed "s/^/$T: /"
	grep -a 'stream sent' "$KEEL_TMP/migrate.out" | sed "s/^/$T: /"
	grep -q 'Migration successful.' "$KEEL_TMP/migrate.out" || fail "migrate $round: no success message"
	new=$(xl domid "$name") || fail "migrate $round: no domain $name: $(xl list)"
	[ "$new" != "$old" ] || fail "migrate $round: still domain $old"
	xl list "$name--migratedaway" >/dev/null 2>&1 && fail "migrate $round: the source copy is still there"
	xl list "$name--incoming" >/dev/null 2>&1 && fail "migrate $round: the target still has NAME--incoming"
	LG_DIAG_DOMS="$LG_DIAG_DOMS $new"
	echo "$T: migration $round: domain $old -> $new in $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }') s"
	check "migration $round"
done

# the receiver dies mid-stream: the guest stays where it is, running
old=$(xl domid "$name")
if xl migrate -s "$dying" "$name" localhost >"$KEEL_TMP/migrate-bad.out" 2>&1; then
	fail "migration to a dying receiver succeeded: $(cat "$KEEL_TMP/migrate-bad.out")"
fi
sed "s/^/$T: dying receiver: /" "$KEEL_TMP/migrate-bad.out" | grep -av 'round' | head -n 4
[ "$(xl domid "$name")" = "$old" ] || fail "after the failed migration: $name is not domain $old: $(xl list)"
xl list | grep -q -- '--incoming\|--migratedaway' && fail "a half-migrated domain is left: $(xl list)"
check "failed migration"
echo "$T: $name migrated ${KEEL_MIG_ROUNDS:-2} times (to localhost) and back, kept counting with its disk; a receiver dying mid-stream left it running on the source"
exit 0
