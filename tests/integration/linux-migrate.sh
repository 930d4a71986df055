#!/usr/bin/env bash
# linux-migrate: xl migrate of a running Debian-kernel guest, live, between
# two "hosts" on one machine.  Each host is a dom0 of its own: a network
# namespace (keelmA/keelmB) with its own bridge (the same name in both, the
# same address: the guest's view of "the host" moves with it) and, under
# its own run directory, its own keeld, keel-xenstored, keel-consoled,
# keel-blkback and keel-netback (keel-dom0-up run inside the namespace).
# Domain ids collide between the two keelds; each netback's TAP devices
# (vif<domid>.<n>) live in its host's namespace.  The disk image is shared
# storage: the same path on both.
# Debian's 6.1 kernel boots with a busybox initramfs, xen-blkfront.ko on a
# raw image (xvda) and xen-netfront.ko on a vif (eth0, a static address on
# the bridge's subnet).  /init counts on its console ("tick N" every 0.5 s),
# pings the host address in a loop ("pong K" for the K-th ping answered)
# and answers disk commands ("cmd N" in the image's first 4 KiB: 1 MiB of
# fresh random bytes written at N MiB, read back, "disk N md5 ...").
# `xl migrate -e -s SCRIPT guest hostB` runs on host A; SCRIPT drops the
# host argument and runs xl migrate-receive in B's namespace with B's run
# directory (what ssh to another machine would do).  After each migration:
# the guest counts on past its pre-migration tick, the same boot; its disk
# writes are in the image; the new host pings it over its own bridge (the
# old host's TAP is gone, its keeld has no such domain) and the guest's own
# pings of the host are answered again (netfront reconnected through the
# xenbus handshake on the new host).  KEEL_MIG_ROUNDS migrations (default
# 6: three round trips).  Then the failures, each leaving the guest running
# on A under its own name, nothing on B, and a message saying what went
# wrong: a receiver that dies mid-stream; a corrupt stream (bytes flipped in
# the pipe after the banner); the source xl killed mid-stream (the target
# destroys its NAME--incoming domain and says so); a configuration the
# target cannot satisfy (xl migrate -C with a disk path missing there: the
# target refuses before it builds anything).  Waits on console lines,
# states and pings, never fixed sleeps.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
command -v ip >/dev/null || skip "needs ip (iproute2)"
lg_fetch_kernel
bb=$LG_BB/bin/busybox
T=linux-migrate

sub=$((RANDOM % 250))
net=10.$((200 + RANDOM % 50)).$sub
hostip=$net.1
gip=$net.2
br=klmg$$
mac=00:16:3e:6d:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))

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
say() { echo "KEEL-MIG: $*"; }
boot=$(cat /proc/sys/kernel/random/boot_id)
say "boot $boot"
ip=$(sed -n 's/.*keel_ip=\([0-9.]*\).*/\1/p' /proc/cmdline)
host=$(sed -n 's/.*keel_host=\([0-9.]*\).*/\1/p' /proc/cmdline)
for m in $(cat /lib/modules/ORDER); do
	insmod /lib/modules/$m || say "insmod $m failed"
done
i=0
while { [ ! -b /dev/xvda ] || [ ! -e /sys/class/net/eth0 ]; } && [ $i -lt 300 ]; do
	i=$((i + 1)); sleep 0.1
done
[ -b /dev/xvda ] || say "FAIL no /dev/xvda"
[ -e /sys/class/net/eth0 ] || say "FAIL no eth0"
ip link set lo up
ip addr add $ip/24 dev eth0
ip link set eth0 up
( n=0; while :; do echo "tick $n"; n=$((n + 1)); sleep 0.5; done ) &
( k=0; while :; do k=$((k + 1)); ping -c 1 -W 1 $host >/dev/null 2>&1 && echo "pong $k"; sleep 0.5; done ) &
say "ready ip $ip"
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

for f in xl keel-dom0-up keel-dom0-down keelstore keelctl keel-netback keel-blkback; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done

# --- the two hosts ---------------------------------------------------------------------
NS_A=keelmA$$ NS_B=keelmB$$
RUN_A=$KEEL_TMP/runA RUN_B=$KEEL_TMP/runB
# on HOST (A or B) CMD...: CMD in that host's namespace with its run directory
on() {
	local ns=NS_$1 rd=RUN_$1
	shift
	KEEL_RUNDIR=${!rd} ip netns exec "${!ns}" "$@"
}
xla() { on A "$KEEL_BIN/xl" "$@"; }
xlb() { on B "$KEEL_BIN/xl" "$@"; }

mig_cleanup() {
	local rc=$? h d
	if [ $rc != 0 ]; then
		for h in A B; do
			run=$(eval echo "\$RUN_$h")
			echo "=== host $h ($run)"
			KEEL_RUNDIR=$run lg_diag
			tail -n 20 "$KEEL_TMP"/target*.log 2>/dev/null
		done
	fi
	for h in A B; do
		for d in $(on $h "$KEEL_BIN/xl" list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $2 }'); do
			on $h "$KEEL_BIN/xl" destroy "$d" >/dev/null 2>&1
		done
		on $h "$KEEL_BIN/keel-dom0-down" --rundir "$(eval echo "\$RUN_$h")" >/dev/null 2>&1
		ip netns del "$(eval echo "\$NS_$h")" 2>/dev/null
	done
	return $rc
}
trap mig_cleanup EXIT
for h in A B; do
	ns=NS_$h rd=RUN_$h
	ip netns add "${!ns}" || skip "cannot create a network namespace"
	on $h ip link set lo up
	on $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	on $h "$KEEL_BIN/keel-dom0-up" --rundir "${!rd}" --bridge "$br" --bridge-addr "$hostip/24" \
		>"$KEEL_TMP/up$h.out" 2>&1 || fail "host $h: keel-dom0-up: $(cat "$KEEL_TMP/up$h.out")"
	grep -q 'keel-netback running' "$KEEL_TMP/up$h.out" || fail "host $h: no keel-netback: $(cat "$KEEL_TMP/up$h.out")"
	grep -q 'keel-blkback running' "$KEEL_TMP/up$h.out" || fail "host $h: no keel-blkback: $(cat "$KEEL_TMP/up$h.out")"
done
echo "$T: host A: keeld $(cat "$RUN_A/keeld.pid") in $NS_A, host B: keeld $(cat "$RUN_B/keeld.pid") in $NS_B, bridge $br ($hostip) in each"

# the "ssh" to each host: drop the host name, run that host's xl there.
# The target's stderr is the sender's, as through ssh.
for h in A B; do
	cat >"$KEEL_TMP/to-$h" <<SH
#!/bin/sh
# \$1 is the host, \$2 "xl": the rest is xl's arguments
shift 2
KEEL_RUNDIR=$(eval echo "\$RUN_$h") exec ip netns exec $(eval echo "\$NS_$h") "$KEEL_BIN/xl" "\$@"
SH
	chmod +x "$KEEL_TMP/to-$h"
done

name=linux-mig
img=$KEEL_TMP/disk.img
truncate -s 16M "$img"
cat >"$KEEL_TMP/$name.cfg" <<CFG
name = "$name"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init keel_ip=$gip keel_host=$hostip"
memory = 256
vcpus = 1
on_poweroff = "preserve"
disk = [ 'format=raw, vdev=xvda, access=rw, target=$img' ]
vif = [ 'mac=$mac,bridge=$br' ]
CFG
t0=$SECONDS
xla create "$KEEL_TMP/$name.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
here=A there=B
id=$(xla domid "$name") || fail "no domain $name on A"
LG_DIAG_DOMS=$id

# every console log of the guest on both hosts, whatever name it had
allcon() { cat "$RUN_A"/console/guest-"$name"*.log "$RUN_B"/console/guest-"$name"*.log 2>/dev/null | tr -d '\r'; }
last_num() { allcon | grep -aoE "^$1 [0-9]+" | awk '{print $2}' | sort -n | tail -n 1; }
# wait_above WORD N SECONDS: the guest printed "WORD M" with M > N
wait_above() {
	local end=$((SECONDS + $3)) t
	while [ $SECONDS -lt $end ]; do
		t=$(last_num "$1")
		[ -n "$t" ] && [ "$t" -gt "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
end=$((SECONDS + 120))
until allcon | grep -qaE '^KEEL-MIG: (ready|FAIL)'; do
	[ $SECONDS -lt $end ] || fail "the guest did not get ready (last: $(allcon | tail -n 1))"
	sleep 0.5
done
allcon | grep -qa '^KEEL-MIG: FAIL' && fail "guest: $(allcon | grep -a '^KEEL-MIG: FAIL' | head -n 1)"
boot_id=$(allcon | grep -a '^KEEL-MIG: boot ' | awk '{print $3}')
echo "$T: $name ready on A after $((SECONDS - t0)) s, boot $boot_id"

cmdn=0 tick=-1
# check WHEN: on host $here: counting on past $tick, the same boot, the disk
# writes land, the host pings the guest and the guest's pings are answered
check() {
	local when=$1 t line md5 rb boot img_md5 end pong p0
	wait_above tick "$tick" 30 || fail "$when: the counter did not go on past tick $tick ($(on $here "$KEEL_BIN/xl" list 2>&1 | tr '\n' ' '))"
	t=$(last_num tick)
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
	# the network: host $here's bridge reaches the guest, and the guest the host
	pong=$(last_num pong)
	wait_for "on $here '$bb' ping -c 1 -W 1 $gip >/dev/null 2>&1" 30 ||
		fail "$when: host $here cannot ping the guest ($(on $here ip -o link show 2>&1 | grep -o 'vif[^:@]*' | tr '\n' ' '))"
	on $here "$bb" ping -c 3 -i 0.2 -W 2 "$gip" >"$KEEL_TMP/ping.out" 2>&1 ||
		fail "$when: pings lost: $(tail -n 2 "$KEEL_TMP/ping.out" | tr '\n' ' ')"
	p0=$(grep -a 'round-trip' "$KEEL_TMP/ping.out" | sed 's/.*= //')
	wait_above pong "${pong:-0}" 30 || fail "$when: the guest's pings of the host are not answered (last pong ${pong:-none})"
	echo "$T: $when: on $here: ticks $tick -> $t, disk MiB $cmdn in the image, host $here pings it ($p0), its pings answered (pong $(last_num pong)), same boot"
	tick=$(last_num tick)
}
check "after boot"

# nothing of the guest on HOST: no domain but Domain-0, no TAP
nothing_on() {
	local l
	l=$(on "$1" "$KEEL_BIN/xl" list 2>&1 | awk 'NR > 1 && $2 != 0')
	[ -z "$l" ] || fail "$2: host $1 still has: $l"
	l=$(on "$1" ip -o link show 2>/dev/null | grep -o 'vif[0-9][^:@]*')
	[ -z "$l" ] || fail "$2: host $1 still has TAP devices: $l"
}
# the guest runs on HOST under its own name, as domain ID (if given)
runs_on() {
	local d
	d=$(on "$1" "$KEEL_BIN/xl" domid "$name" 2>/dev/null) || fail "$2: no $name on host $1: $(on "$1" "$KEEL_BIN/xl" list 2>&1)"
	[ -z "${3:-}" ] || [ "$d" = "$3" ] || fail "$2: $name is domain $d on host $1, not $3"
	on "$1" "$KEEL_BIN/xl" list 2>/dev/null | grep -q -- '--incoming\|--migratedaway' &&
		fail "$2: a half-migrated domain is left on $1: $(on "$1" "$KEEL_BIN/xl" list)"
	id=$d
}

rounds=${KEEL_MIG_ROUNDS:-6}
for round in $(seq 1 "$rounds"); do
	old=$(on $here "$KEEL_BIN/xl" domid "$name")
	a=$(date +%s.%N)
	on $here "$KEEL_BIN/xl" migrate -e -s "$KEEL_TMP/to-$there" "$name" "host$there" >"$KEEL_TMP/migrate.out" 2>&1 ||
		fail "migrate $round ($here -> $there): $(tail -n 8 "$KEEL_TMP/migrate.out")"
	b=$(date +%s.%N)
	grep -a '^migration sender: round' "$KEEL_TMP/migrate.out" | sed "s/^/$T: /"
	grep -a 'stream sent' "$KEEL_TMP/migrate.out" | sed "s/^/$T: /"
	grep -q 'Migration successful.' "$KEEL_TMP/migrate.out" || fail "migrate $round: no success message"
	nothing_on $here "migrate $round"
	runs_on $there "migrate $round"
	LG_DIAG_DOMS="$LG_DIAG_DOMS $id"
	echo "$T: migration $round: $here domain $old -> $there domain $id in $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }') s"
	h=$here here=$there there=$h
	check "migration $round"
done
# the failures start from A
if [ "$here" != A ]; then
	on $here "$KEEL_BIN/xl" migrate -e -s "$KEEL_TMP/to-A" "$name" hostA >"$KEEL_TMP/migrate.out" 2>&1 ||
		fail "migrate back to A: $(tail -n 8 "$KEEL_TMP/migrate.out")"
	here=A there=B
	runs_on A "back to A"
fi

# fails WHAT SCRIPT [XL-MIGRATE-OPTIONS]: xl migrate through SCRIPT fails;
# the guest runs on A as before, nothing is left on B; the output in $KEEL_TMP/WHAT.out
fails() {
	local what=$1 script=$2 old
	shift 2
	old=$(xla domid "$name")
	if xla migrate -e "$@" -s "$script" "$name" hostB >"$KEEL_TMP/$what.out" 2>&1; then
		fail "$what: the migration succeeded: $(cat "$KEEL_TMP/$what.out")"
	fi
	grep -av '^migration sender: round' "$KEEL_TMP/$what.out" | sed "s/^/$T: $what: /" | head -n 8
	runs_on A "$what" "$old"
	nothing_on B "$what"
	check "$what"
}

# the receiver dies mid-stream: the banner, then it reads 1 MiB and exits
cat >"$KEEL_TMP/dying-target" <<'SH'
#!/bin/sh
printf 'xl migration receiver ready, send binary domain data.\n'
head -c 1048576 >/dev/null
exit 1
SH
chmod +x "$KEEL_TMP/dying-target"
fails "dying receiver" "$KEEL_TMP/dying-target"

# a corrupt stream: 64 bytes 1 MiB into it changed on the way to B
cat >"$KEEL_TMP/corrupt-to-B" <<SH
#!/bin/sh
shift 2
{ head -c 1048576; head -c 64 | LC_ALL=C tr '\\000-\\377' '\\377\\000-\\376'; cat; } |
	KEEL_RUNDIR=$RUN_B ip netns exec $NS_B "$KEEL_BIN/xl" "\$@"
SH
chmod +x "$KEEL_TMP/corrupt-to-B"
fails "corrupt stream" "$KEEL_TMP/corrupt-to-B"
grep -qa 'corrupt' "$KEEL_TMP/corrupt stream.out" || fail "corrupt stream: the target did not say so"

# the source dies mid-stream: the sender xl killed after 1 MiB has gone
cat >"$KEEL_TMP/kill-source" <<SH
#!/bin/sh
shift 2
# this script is what the sending xl runs (sh -c exec): its parent is that xl
src=\$PPID
{ head -c 1048576; kill -KILL \$src; cat; } |
	KEEL_RUNDIR=$RUN_B ip netns exec $NS_B "$KEEL_BIN/xl" "\$@"
SH
chmod +x "$KEEL_TMP/kill-source"
fails "source killed" "$KEEL_TMP/kill-source"
grep -qa 'destroying the incoming domain' "$KEEL_TMP/source killed.out" ||
	fail "source killed: the target did not say it destroyed its incoming domain"

# a configuration the target cannot satisfy: a disk missing there
sed "s|target=$img|target=$KEEL_TMP/not-on-B.img|" "$KEEL_TMP/$name.cfg" >"$KEEL_TMP/bad.cfg"
fails "disk missing on the target" "$KEEL_TMP/to-B" -C "$KEEL_TMP/bad.cfg"
grep -qa "not-on-B.img" "$KEEL_TMP/disk missing on the target.out" ||
	fail "disk missing on the target: the target did not name the disk"

echo "$T: $name migrated $rounds times between two dom0s (own keeld, store, backends, netns and bridge each), kept counting with its disk and its vif; a dying receiver, a corrupt stream, a killed sender and a config the target cannot satisfy each left it running on A"
exit 0
