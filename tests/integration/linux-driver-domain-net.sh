#!/usr/bin/env bash
# linux-driver-domain-net: a guest's network through a driver domain running
# Linux's own xen-netback.  The Debian driver domain (busybox, Keel's xl and
# its libraries, xen-netfront, xen-netback and the bridge module) has an
# uplink vif from dom0 (keel-netback, a TAP on the host's bridge), puts its
# eth0 in a bridge br0 of its own and runs `xl devd -F`.  The guest gets
# vif=['backend=drv,bridge=br0']: xl devd adds vif<guest>.0 to br0 and writes
# hotplug-status, which netback waits for.  The guest pings the host's
# bridge address: netfront -> the driver domain's netback -> br0 -> its
# netfront -> keel-netback -> the host's bridge, and the answers back.
# Then TCP both ways: the guest fetches a 2 MiB file from a server on the
# host and sends 2 MiB back; the checksums are compared on the host.  Last,
# a second vif is attached to the running guest (xl network-attach with
# backend=drv), pings the host through the driver domain, and is detached.
# Then the driver domain is destroyed while the guest pings through it:
# keeld, dom0 and the guest live on, the guest's vif goes to Closed, the
# dead domain's grant maps are released ('g' debug key), and a vif attached
# through its successor (booted beforehand, renamed drv) reaches the host.
# Skipped (failed under CI) only when the kernel or busybox-static cannot be
# fetched, or python3, /dev/kvm or /dev/net/tun is missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
command -v python3 >/dev/null || skip "no python3 (the host's end of the TCP transfers)"
lg_fetch_kernel

sub=$((RANDOM % 250))
net=10.$((200 + RANDOM % 50)).
hostip=${net}$sub.1
guestip=${net}$sub.2
guestip2=${net}$sub.3
br=kddn$$
mac() { echo "00:16:3e:5d:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))"; }

droot=$KEEL_TMP/drv-root
lg_drv_net_initramfs "$droot"
lg_pack "$droot" "$KEEL_TMP/drv.gz"

# the TCP transfers: a file of $tcpn bytes each way
tcp1=$((20000 + RANDOM % 20000))
tcp2=$((tcp1 + 1))
tcpn=$((2 * 1024 * 1024))
head -c $tcpn /dev/urandom >"$KEEL_TMP/tcp-send"

groot=$KEEL_TMP/guest-root
lg_initramfs "$groot"
lg_add_module "$groot" drivers/net/xen-netfront.ko
{
	lg_init_head KEEL-GUEST
	cat <<INIT
i=0
while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
[ -e /sys/class/net/eth0 ] || { say "FAIL no eth0"; dmesg | tail -n 20; poweroff -f; }
ip link set lo up
ip addr add $guestip/24 dev eth0
ip link set eth0 up
a=\$(cut -d' ' -f1 /proc/uptime)
i=0
until ping -c 1 -W 1 $hostip >/dev/null 2>&1 || [ \$i -ge 45 ]; do
	i=\$((i + 1))
	[ \$((i % 5)) = 0 ] && say "miss \$i: eth0 rx \$(cat /sys/class/net/eth0/statistics/rx_packets) tx \$(cat /sys/class/net/eth0/statistics/tx_packets); \$(grep -i 'xen-dyn\|eth0' /proc/interrupts | tr -s ' ' | tr '\n' '|')"
done
say "first ping answer after \$(awk -v a=\$a -v b=\$(cut -d' ' -f1 /proc/uptime) 'BEGIN { printf "%.1f", b - a }') s (\$i misses)"
if ping -c 3 -W 5 $hostip >/tmp/ping.out 2>&1; then
	say "ping host ok: \$(grep -E 'packets|round-trip' /tmp/ping.out | tr '\n' ' ')"
else
	say "FAIL ping host: \$(tail -n 2 /tmp/ping.out | tr '\n' ' ')"
fi
# TCP both ways through the driver domain, checked byte for byte: the
# host's server sends a file on port $tcp1 and reads $tcpn bytes on $tcp2
a=\$(cut -d' ' -f1 /proc/uptime)
timeout 120 nc $hostip $tcp1 >/tmp/in
say "tcp from host: \$(wc -c </tmp/in) bytes md5 \$(md5sum </tmp/in | cut -d' ' -f1) in \$(awk -v a=\$a -v b=\$(cut -d' ' -f1 /proc/uptime) 'BEGIN { printf "%.1f", b - a }') s"
dd if=/dev/urandom of=/tmp/out bs=65536 count=$((tcpn / 65536)) 2>/dev/null
say "tcp to host: md5 \$(md5sum </tmp/out | cut -d' ' -f1)"
a=\$(cut -d' ' -f1 /proc/uptime)
timeout 120 nc $hostip $tcp2 </tmp/out
say "tcp to host: sent (nc \$?) in \$(awk -v a=\$a -v b=\$(cut -d' ' -f1 /proc/uptime) 'BEGIN { printf "%.1f", b - a }') s"
s=/sys/class/net/eth0/statistics
say "eth0 rx \$(cat \$s/rx_packets) tx \$(cat \$s/tx_packets) packets"
# eth1: attached while we run (xl network-attach with backend=), detached
# again; ARP answered only on the interface that has the address, so the
# host's answers to eth1's pings come back through eth1
echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
# eth1_ping WHAT: eth1 up with its address, pinging the host through it
eth1_ping() {
	ip addr add $guestip2/24 dev eth1
	ip link set eth1 up
	i=0
	until ping -I eth1 -c 1 -W 1 $hostip >/dev/null 2>&1 || [ \$i -ge 45 ]; do i=\$((i + 1)); done
	s=/sys/class/net/eth1/statistics
	if ping -I eth1 -c 3 -W 5 $hostip >/tmp/ping1.out 2>&1; then
		say "\$1eth1 ping host ok after \$i misses: rx \$(cat \$s/rx_packets) tx \$(cat \$s/tx_packets) packets"
	else
		say "FAIL \$1eth1 ping host: \$(tail -n 2 /tmp/ping1.out | tr '\n' ' ')"
	fi
}
say "waiting for eth1"
if wait_until 60 -e /sys/class/net/eth1; then
	eth1_ping ""
	say "eth1 used"
	wait_until 60 ! -e /sys/class/net/eth1 && say "eth1 gone" || say "FAIL eth1 still there after the detach"
else
	say "FAIL no eth1"
fi
# the driver domain is destroyed while eth0 carries a stream of pings; a
# vif attached through its successor (eth1 again) reaches the host
(while :; do ping -c 1 -W 1 -s 1000 $hostip >/dev/null 2>&1; done) &
pp=\$!
say "streaming through eth0"
if wait_until 120 -e /sys/class/net/eth1; then
	kill \$pp
	eth1_ping "restarted: "
else
	kill \$pp
	say "FAIL no eth1 through the restarted driver domain"
fi
say "done"
poweroff -f
INIT
} >"$groot/init"
chmod +x "$groot/init"
lg_pack "$groot" "$KEEL_TMP/guest.gz"

lg_dom0_up --bridge "$br" --bridge-addr "$hostip/24"
ip link show dev "$br" >/dev/null 2>&1 || fail "keel-dom0-up did not create $br: $(cat "$KEEL_TMP/up.out")"
# A bridge of TAPs only takes their lowest MAC: keel-netback's fe:ff:ff:ff:ff:ff,
# which is also the MAC of every vif netback makes in the driver domain, so
# the driver domain's bridge would take the host's frames for its own and
# drop them.  A host's real bridge has its NIC's MAC; this one gets a fixed one.
ip link set dev "$br" address 02:4b:ee:$(printf '%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256))) ||
	fail "cannot set $br's MAC"
lg_backend keel-netback
lg_drv_create "vif = [ 'mac=$(mac),bridge=$br' ]" '^KEEL-DRV: br0 up'
echo "linux-driver-domain-net: driver domain up after $((SECONDS - t0)) s"

# The host's end of the TCP transfers: send tcp-send to the first client of
# $tcp1, then write $tcpn bytes from the first client of $tcp2 to tcp-recv.
# Both sockets listen before the guest exists (the 'listening' line).
python3 - "$hostip" "$tcp1" "$tcp2" "$tcpn" "$KEEL_TMP" >"$KEEL_TMP/tcp.out" 2>&1 <<'PY' &
import socket, sys
host, p1, p2, n, tmp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ls = []
for p in (p1, p2):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, p))
    s.listen(1)
    s.settimeout(300)
    ls.append(s)
print("listening", flush=True)
c, _ = ls[0].accept()
with open(tmp + "/tcp-send", "rb") as f:
    c.sendall(f.read())
c.close()
print("sent", flush=True)
c, _ = ls[1].accept()
c.settimeout(120)
got = bytearray()
while len(got) < n:
    b = c.recv(65536)
    if not b:
        break
    got += b
c.close()
with open(tmp + "/tcp-recv", "wb") as f:
    f.write(got)
print("received", len(got), flush=True)
PY
LG_PIDS="$LG_PIDS $!"
wait_for "grep -qs '^listening' '$KEEL_TMP/tcp.out'" 30 || fail "the host's TCP server did not listen: $(cat "$KEEL_TMP/tcp.out")"

lg_fe_create "vif = [ 'backend=drv,bridge=br0,mac=$(mac)' ]"
# the driver domain's successor, booted while the guest works (for the
# test's time) and renamed drv once drv is gone
lg_drv_next "vif = [ 'mac=$(mac),bridge=$br' ]"
(
	last=
	while :; do
		now="fe $(st read /local/domain/$fe/device/vif/0/state 2>/dev/null) be $(st read /local/domain/$drv/backend/vif/$fe/0/state 2>/dev/null)"
		[ "$now" = "$last" ] || echo "linux-driver-domain-net: $((SECONDS - t0)) s: $now"
		last=$now
		sleep 0.5
	done
) &
LG_PIDS="$LG_PIDS $!"
be=/local/domain/$drv/backend/vif/$fe/0
[ "$(st read "/local/domain/$fe/device/vif/0/backend-id" 2>/dev/null)" = "$drv" ] ||
	fail "the guest's vif does not name the driver domain"
[ "$(st perms "$be")" = "n$drv r$fe" ] || fail "backend dir perms: $(st perms "$be")"
# a second vif attached to the running guest through the driver domain,
# used, and detached
lg_fe_wait '^KEEL-GUEST: (waiting for eth1|FAIL no)' 330 "the guest did not get to eth1"
xl network-attach fe backend=drv bridge=br0 "mac=$(mac)" >"$KEEL_TMP/attach.out" 2>&1 ||
	fail "xl network-attach with backend=drv: $(cat "$KEEL_TMP/attach.out")"
be1=/local/domain/$drv/backend/vif/$fe/1
lg_drv_attached "$be1" "/local/domain/$fe/device/vif/1" "the attached vif"
lg_fe_wait '^KEEL-GUEST: (eth1 used|FAIL no)' 90 "the guest did not use eth1"
xl network-detach fe 1 >"$KEEL_TMP/detach.out" 2>&1 || fail "xl network-detach: $(cat "$KEEL_TMP/detach.out")"
lg_fe_wait '^KEEL-GUEST: (eth1 gone|FAIL no)' 60 "eth1 did not go from the guest"
wait_for "! st ls $be1 >/dev/null 2>&1" 20 || fail "the detached vif's backend directory stayed"

# The driver domain destroyed in the middle of the guest's I/O.  The guest,
# keeld and dom0 live on; the dead domain's maps of the guest's grants are
# released (Xen's 'g' debug key: the guest's grant entries in use); the
# guest's vif goes to Closed and stays, as Xen's toolstack leaves it; drv's
# successor serves a vif attached with backend=drv.
lg_fe_wait '^KEEL-GUEST: (streaming through eth0|FAIL no)' 60 "the guest did not start its stream"
[ "$(st read "$be/hotplug-status" 2>/dev/null)" = connected ] || fail "no hotplug-status connected"
# the stream is on the wire: drv's uplink (vif<drv>.0 on the host's bridge) moves
up=/sys/class/net/vif$drv.0/statistics/rx_packets
c0=$(cat "$up") || fail "no vif$drv.0 on the host"
wait_for "[ \$(cat $up) -gt $((c0 + 2)) ]" 10 || fail "no traffic through the driver domain before the destroy"
t1=$SECONDS
lg_drv_destroy vif 0 linux-driver-domain-net
# the successor takes drv's name and serves a vif attached with backend=drv
lg_wait_console drv-next '^KEEL-DRV: (br0 up|FAIL)' 120 || fail "drv-next did not come up: $(tail -n 1 "$(lg_console drv-next)")"
xl rename drv-next drv || fail "xl rename drv-next drv"
xl network-attach fe backend=drv bridge=br0 "mac=$(mac)" >"$KEEL_TMP/attach2.out" 2>&1 ||
	fail "xl network-attach to the restarted driver domain: $(cat "$KEEL_TMP/attach2.out")"
drv1=$drv
drv=$drv2
lg_drv_attached "/local/domain/$drv/backend/vif/$fe/1" "/local/domain/$fe/device/vif/1" "the vif re-attached"
lg_fe_wait '^KEEL-GUEST: (restarted: eth1 ping host ok|FAIL)' 90 "the guest's vif through the restarted driver domain did not work"
echo "linux-driver-domain-net: restart: $(grep -a '^KEEL-GUEST: restarted' "$con" | tr -d '\r'), $((SECONDS - t1)) s after the destroy"
drv=$drv1
lg_wait_console fe '^KEEL-GUEST: (done|FAIL no)' 60 || {
	grep -a '^xl devd' "$drvcon" | tr -d '\r'
	fail "the guest did not finish (last: $(tail -n 1 "$con" 2>/dev/null))"
}
grep -a 'KEEL-GUEST' "$con" | tr -d '\r' | sed 's/^/linux-driver-domain-net: guest: /'
grep -a 'KEEL-DRV: counters' "$drvcon" | tail -n 1 | tr -d '\r' | sed 's/^/linux-driver-domain-net: drv: /'
for f in /sys/class/net/$br/brif/*; do
	echo "linux-driver-domain-net: host: ${f##*/} rx $(cat /sys/class/net/${f##*/}/statistics/rx_packets) tx $(cat /sys/class/net/${f##*/}/statistics/tx_packets)"
done
grep -a '^xl devd:' "$drvcon" | tr -d '\r' | sed 's/^/linux-driver-domain-net: drv: /'
# (devd's own words, not anchored to its "xl devd: " prefix: the kernel's
# console messages -- "vif2.1: Guest Rx ready" -- can land between the two)
grep -qa "$be: vif$fe.0 up in bridge br0" "$drvcon" || fail "xl devd did not bridge vif$fe.0"
grep -qa "$be1: vif$fe.1 up in bridge br0" "$drvcon" || fail "xl devd did not bridge vif$fe.1"
grep -qa '^KEEL-GUEST: eth1 ping host ok' "$con" || fail "the guest's ping through eth1 did not report"
grep -a '^KEEL-GUEST: eth1 ping host ok' "$con" | grep -q 'rx 0 ' && fail "eth1 received nothing: the answers took another path"
if grep -qa '^KEEL-GUEST: FAIL' "$con"; then
	lg_store_dump "$be"
	lg_store_dump "/local/domain/$drv/error"
	grep -a 'vif\|netback' "$drvcon" | tr -d '\r' | tail -n 20
	fail "guest: $(grep -a '^KEEL-GUEST: FAIL' "$con" | tr -d '\r')"
fi
grep -qa '^KEEL-GUEST: ping host ok' "$con" || fail "the guest's ping of the host did not report"
# TCP, byte for byte: what the guest received is what the host sent, and
# what the host received is what the guest sent
md5() { md5sum <"$1" | cut -d' ' -f1; }
echo "linux-driver-domain-net: host's server: $(tr '\n' ' ' <"$KEEL_TMP/tcp.out")"
grep -qa "^KEEL-GUEST: tcp from host: $tcpn bytes md5 $(md5 "$KEEL_TMP/tcp-send") " "$con" ||
	fail "TCP host -> guest: the guest did not receive the $tcpn bytes sent"
[ -f "$KEEL_TMP/tcp-recv" ] && [ "$(stat -c %s "$KEEL_TMP/tcp-recv")" = "$tcpn" ] ||
	fail "TCP guest -> host: the host received $(stat -c %s "$KEEL_TMP/tcp-recv" 2>/dev/null || echo no) bytes of $tcpn"
grep -qa "^KEEL-GUEST: tcp to host: md5 $(md5 "$KEEL_TMP/tcp-recv")" "$con" ||
	fail "TCP guest -> host: the bytes the host received differ from those the guest sent"
echo "linux-driver-domain-net: the guest's pings, $tcpn bytes of TCP each way, and an attached vif's pings crossed the driver domain; total $((SECONDS - t0)) s"
exit 0
