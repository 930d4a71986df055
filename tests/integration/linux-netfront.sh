#!/usr/bin/env bash
# linux-netfront: Debian's own xen-netfront.ko against keel-netback.
# keel-dom0-up brings dom0 up with a private bridge that has an address;
# Debian's 6.1 kernel boots with a vif= (a private TAP name; xl writes the
# vif nodes); /init insmods xen-netfront, brings eth0 up with an address on
# the bridge's subnet and pings the host (busybox ping, -c 3); the host
# pings the guest back, and the guest sees those echo requests in
# /proc/net/snmp.  Frames cross netback's TAP and the host's bridge both
# ways; the host's own IP stack answers.  Then 2 MiB over TCP each way
# (busybox nc; GSO and scatter-gather frames), checked byte for byte; then
# a second vif hot-plugged with xl network-attach becomes eth1 in the
# guest and answers, and goes away on xl network-detach.
# Skipped only when the kernel or busybox-static cannot be fetched, or
# /dev/kvm or /dev/net/tun is missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
lg_fetch_kernel

sub=$((RANDOM % 250))
net=10.$((200 + RANDOM % 50)).
hostip=${net}$sub.1
guestip=${net}$sub.2
# the hot-plugged eth1 gets a subnet of its own (the bridge has an address
# there too), so its frames cannot take eth0's route
host1=${net}$((sub + 1)).1
guest1=${net}$((sub + 1)).2
br=klnf$$
vif=vlnf$$
mac=00:16:3e:4b:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/net/xen-netfront.ko
head -c 262144 /dev/urandom >"$root/seed"
for k in 1 2 3 4 5 6 7 8; do cat "$root/seed"; done >"$KEEL_TMP/bulk.bin"
bulk_md5=$(md5sum <"$KEEL_TMP/bulk.bin" | cut -d' ' -f1)
lg_init_head KEEL-NET >"$root/init"
cat >>"$root/init" <<INIT
i=0
while [ ! -e /sys/class/net/eth0 ]; do
	i=\$((i + 1)); [ \$i -gt 300 ] && break
	sleep 0.1
done
[ -e /sys/class/net/eth0 ] || { say "FAIL no eth0"; dmesg | tail -n 20; poweroff -f; }
say "eth0 mac \$(cat /sys/class/net/eth0/address)"
ip link set lo up
ip addr add $guestip/24 dev eth0
ip link set eth0 up
if ping -c 3 -W 3 $hostip >/tmp/ping.out 2>&1; then
	say "ping host ok: \$(grep -E 'packets|round-trip' /tmp/ping.out | tr '\n' ' ')"
else
	say "FAIL ping host: \$(tail -n 2 /tmp/ping.out | tr '\n' ' ')"
fi
say "ready for the host's pings"
# wait (at most 40 s) for the host's echo requests, counted by our IP stack
i=0
while [ \$i -lt 80 ]; do
	n=\$(awk '/^Icmp:/ { if (!c) { for (k = 1; k <= NF; k++) if (\$k == "InEchos") c = k; next } print \$c; exit }' /proc/net/snmp)
	[ "\${n:-0}" -ge 3 ] && break
	i=\$((i + 1)); sleep 0.5
done
say "echo requests received: \$n"
# bulk TCP (GSO/scatter-gather frames through netback): 2 MiB host -> guest,
# then 2 MiB guest -> host, each the seed file 8 times
# (nc ends its side when its stdin ends: give it one that stays open)
sleep 100 | nc -l -p 5002 >/tmp/rx.bin &
sleep 0.5
say "listening"
i=0
while [ \$i -lt 60 ] && [ "\$(stat -c %s /tmp/rx.bin)" -lt 2097152 ]; do i=\$((i + 1)); sleep 0.5; done
sleep 0.5
say "rx \$(stat -c %s /tmp/rx.bin) bytes md5 \$(md5sum </tmp/rx.bin | cut -d' ' -f1)"
rm -f /tmp/rx.bin
a=\$(cut -d' ' -f1 /proc/uptime)
for k in 1 2 3 4 5 6 7 8; do cat /seed; done | nc -w 5 $hostip 5001
b=\$(cut -d' ' -f1 /proc/uptime)
say "tx done in \$(awk -v a=\$a -v b=\$b 'BEGIN { printf "%.2f", b - a }') s"
ip -s link show eth0 | tr -s ' ' | tr '\n' ' ' | sed 's/^/KEEL-NET: stats: /'; echo
# hotplug: the host runs xl network-attach, then network-detach
say "waiting for eth1"
i=0
while [ ! -e /sys/class/net/eth1 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
if [ -e /sys/class/net/eth1 ]; then
	ip addr add $guest1/24 dev eth1
	ip link set eth1 up
	ping -c 2 -W 3 $host1 >/tmp/ping1.out 2>&1 && r=ok || r=FAIL
	s=/sys/class/net/eth1/statistics
	say "eth1 \$(cat /sys/class/net/eth1/address) ping \$r (rx \$(cat \$s/rx_packets) tx \$(cat \$s/tx_packets) packets)"
	i=0
	while [ -e /sys/class/net/eth1 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
	[ -e /sys/class/net/eth1 ] && say "FAIL eth1 still there" || say "eth1 removed"
else
	say "FAIL no eth1 after network-attach"
fi
say "done"
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

# on failure, last in the diagnostics: where netback's rings, the host's TCP
# sockets and the guest's script stand
lg_diag_extra() {
	local pid
	pid=$(cat "$run/netback.pid" 2>/dev/null)
	echo "--- linux-netfront: where it stands"
	ip -s link show dev "$vif" 2>&1 | tr -s ' ' | tr '\n' ' ' | sed 's/^/host TAP: /'; echo
	ss -tni 2>/dev/null | grep -A1 -E ':500[12] ' | tr -s ' ' | head -n 8
	# (keel-dom0-up's netback logs to netback.log, lg_backend's to keel-netback.log)
	if [ -n "$pid" ] && kill -USR1 "$pid" 2>/dev/null; then
		wait_for "cat '$run'/log/*netback.log 2>/dev/null | grep -q req_prod" 3
		cat "$run"/log/*netback.log 2>/dev/null | grep -a 'req_prod' | tail -n 3
	fi
	grep -a 'KEEL-NET' "$con" 2>/dev/null | tr -d '\r' | tail -n 8 | sed 's/^/guest: /'
}
lg_dom0_up --bridge "$br" --bridge-addr "$hostip/24"
ip addr add "$host1/24" dev "$br" || fail "cannot give $br a second address"
ip link show dev "$br" >/dev/null 2>&1 || fail "keel-dom0-up did not create $br: $(cat "$KEEL_TMP/up.out")"
lg_backend keel-netback
cat >"$KEEL_TMP/linux.cfg" <<CFG
name = "linux-net"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 2
on_poweroff = "preserve"
vif = [ 'mac=$mac,bridge=$br,vifname=$vif' ]
CFG
lg_create linux-net "$KEEL_TMP/linux.cfg"
lg_wait_console linux-net '^KEEL-NET: (ready|FAIL no)' 90 ||
	fail "the guest did not get to its ping (last: $(tail -n 1 "$con" 2>/dev/null))"
echo "linux-netfront: guest pinged after $((SECONDS - t0)) s"
ip link show dev "$vif" | head -n 1 | sed 's/^/linux-netfront: host TAP: /'
[ "$(cat "/sys/class/net/$vif/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$br/ifindex")" ] ||
	fail "$vif is not on $br"
# the host side pings with the fetched busybox (iputils-ping is not in Debian base)
"$LG_BB/bin/busybox" ping -c 3 -W 3 "$guestip" >"$KEEL_TMP/ping.out" 2>&1
prc=$?
sed 's/^/linux-netfront: host: /' "$KEEL_TMP/ping.out" | tail -n 3
# bulk TCP: host -> guest (guest's rx), then guest -> host (guest's tx)
lg_wait_console linux-net '^KEEL-NET: listening' 60 || fail "the guest did not get to its TCP part"
# nc ends its side of the connection when its stdin ends: a fifo kept open
mkfifo "$KEEL_TMP/hold"
"$LG_BB/bin/busybox" nc -l -p 5001 <"$KEEL_TMP/hold" >"$KEEL_TMP/tx.bin" 2>"$KEEL_TMP/nc-l.err" &
ncpid=$!
LG_PIDS="$LG_PIDS $ncpid"
exec 8>"$KEEL_TMP/hold"
sleep 0.3
a=$(date +%s.%N)
# (bounded: a stalled stream would leave nc writing for TCP's 15 minutes)
timeout 60 "$LG_BB/bin/busybox" nc -w 5 "$guestip" 5002 <"$KEEL_TMP/bulk.bin" 2>"$KEEL_TMP/nc.err"
ncrc=$?
[ $ncrc = 124 ] && fail "host -> guest TCP stalled: 2 MiB not sent in 60 s"
[ $ncrc = 0 ] || echo "linux-netfront: host nc to the guest (exit $ncrc): $(cat "$KEEL_TMP/nc.err")"
b=$(date +%s.%N)
lg_wait_console linux-net '^KEEL-NET: tx done' 60 || fail "the guest did not finish sending"
wait_for "! kill -0 $ncpid 2>/dev/null" 10 || fail "the host's nc -l did not see the guest close"
lg_wait_console linux-net '^KEEL-NET: waiting for eth1' 60 || fail "the guest did not get to hotplug"
mac1=00:16:3e:4b:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))
xl network-attach linux-net "mac=$mac1" "bridge=$br" "vifname=${vif}b" >"$KEEL_TMP/attach.out" 2>&1 ||
	fail "xl network-attach: $(cat "$KEEL_TMP/attach.out")"
lg_wait_console linux-net '^KEEL-NET: (eth1 |FAIL no eth1)' 40 || fail "no word on eth1 from the guest"
xl network-list linux-net | sed 's/^/linux-netfront: network-list: /'
xl network-detach linux-net 1 >"$KEEL_TMP/detach.out" 2>&1 ||
	fail "xl network-detach: $(cat "$KEEL_TMP/detach.out")"
lg_wait_console linux-net '^KEEL-NET: done' 60 || fail "the guest did not finish"
grep -a 'KEEL-NET' "$con" | tr -d '\r' | sed 's/^/linux-netfront: guest: /'
be=/local/domain/0/backend/vif/$id/0
fe=/local/domain/$id/device/vif/0
echo "linux-netfront: backend state $(st read "$be/state" 2>/dev/null), frontend state $(st read "$fe/state" 2>/dev/null)"
echo "linux-netfront: Linux wrote: $(for k in tx-ring-ref rx-ring-ref event-channel event-channel-tx request-rx-copy feature-sg feature-rx-notify multi-queue-num-queues; do v=$(st read "$fe/$k" 2>/dev/null) && printf '%s=%s ' "$k" "$v"; done)"
grep -qa "^KEEL-NET: eth0 mac $mac" "$con" || fail "eth0 does not have the configured MAC $mac"
grep -qa '^KEEL-NET: ping host ok' "$con" || fail "the guest's ping of the host failed"
[ $prc = 0 ] || fail "the host's ping of the guest failed"
grep -qaE '^KEEL-NET: echo requests received: ([3-9]|[1-9][0-9])' "$con" ||
	fail "the guest did not count the host's echo requests"
grep -qa "^KEEL-NET: rx 2097152 bytes md5 $bulk_md5" "$con" ||
	fail "the guest did not receive the host's 2 MiB intact: $(grep -a 'KEEL-NET: rx' "$con")"
cmp -s "$KEEL_TMP/tx.bin" "$KEEL_TMP/bulk.bin" ||
	fail "the host did not receive the guest's 2 MiB intact ($(stat -c %s "$KEEL_TMP/tx.bin") bytes)"
txs=$(grep -a '^KEEL-NET: tx done in' "$con" | tr -d '\r' | awk '{print $5}')
echo "linux-netfront: 2 MiB TCP host -> guest in $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f s (%.1f MiB/s)", b - a, 2 / (b - a) }'), guest -> host in $txs s ($(awk -v t="$txs" 'BEGIN { if (t < 0.01) t = 0.01; printf "%.1f", 2 / t }') MiB/s), both intact"
grep -qaE "^KEEL-NET: eth1 $mac1 ping ok \(rx [1-9][0-9]* tx [1-9][0-9]* packets\)" "$con" || fail "the hot-plugged eth1 did not work: $(grep -a 'KEEL-NET: eth1' "$con")"
grep -qa '^KEEL-NET: eth1 removed' "$con" || fail "eth1 did not go away after network-detach"
ip link show dev "${vif}b" >/dev/null 2>&1 && fail "${vif}b still exists after network-detach"
echo "linux-netfront: eth1 hot-plugged (xl network-attach) answered pings, went away on network-detach"
echo "linux-netfront: ICMP echo both ways between Debian's netfront and the host over $vif on $br"
exit 0
