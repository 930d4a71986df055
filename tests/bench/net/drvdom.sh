# tests/bench/net/run's last part (-drvdom), sourced in a subshell: the same
# guest ICMP echo workload (net-ping, 200 pings of 56 bytes to the host's
# bridge address) once through dom0's keel-netback and once through a
# Debian driver domain running Linux's xen-netback, in the same run, the
# driver domain's round trip against dom0's.  The driver domain is set up as
# linux-driver-domain-net sets it up (tests/lib/linux-guest.sh's
# lg_drv_net_initramfs): its uplink a vif from dom0's keel-netback on the
# host's bridge, its eth0 in a bridge br0 of its own, `xl devd -F`; the
# guest's vif is `backend=drv,bridge=br0`, so each frame crosses the guest's
# netfront -> the driver domain's netback -> br0 -> its netfront ->
# keel-netback -> the host's bridge, and back.  One vCPU; it stays up, idle,
# for the dom0 run too.
. "$top/tests/lib/linux-guest.sh"
skip() {
	echo "driver-domain figures skipped: $*"
	exit 0
}
lg_fetch_kernel
lg_drv_net_initramfs "$KEEL_TMP/drv-root"
lg_pack "$KEEL_TMP/drv-root" "$KEEL_TMP/drv.gz"
# a bridge of TAPs only takes keel-netback's fe:ff:ff:ff:ff:ff, the MAC of
# every vif netback makes in the driver domain too (see linux-driver-domain-net)
nsx ip link set dev "$BRIDGE" address 02:4b:ee:63:49:01 || fail "cannot set $BRIDGE's MAC"
lg_drv_create "vif = [ 'mac=00:16:3e:63:49:20,bridge=$BRIDGE' ]" '^KEEL-DRV: br0 up'
# ping_rtt NAME MAC IP [VIF_EXTRA]: net-ping's avg and min round trip in us
ping_rtt() {
	VIF_EXTRA=${4:-} net_guest "$1" "$KEEL_GUESTS/net-ping" "$2" ip="$3" host=10.99.73.1 \
		count=200 size=56 >/dev/null
	net_result "$1" 120 >"$KEEL_TMP/$1.out" || { cat "$KEEL_TMP/$1.out"; exit 1; }
	xl destroy "$1" >/dev/null 2>&1
}
ping_rtt rttdom0 00:16:3e:63:49:11 10.99.73.3
BRIDGE=br0 ping_rtt rttdrv 00:16:3e:63:49:12 10.99.73.4 backend=drv
echo "guest: net-ping -> Linux's netback in a Debian driver domain -> its br0 -> its netfront" \
	"-> keel-netback -> host bridge ($(grep 'rtt min' "$KEEL_TMP/rttdrv.con"));" \
	"baseline: the same guest through dom0's keel-netback, same run ($(grep 'rtt min' "$KEEL_TMP/rttdom0.con"))"
for m in avg min; do
	bench_report "net_ping_rtt_${m}_drvdom" "$(us "$(val ${m}_ns "$KEEL_TMP/rttdrv.con")")" us \
		dom0_netback "$(us "$(val ${m}_ns "$KEEL_TMP/rttdom0.con")")" lower
done
xl destroy drv >/dev/null 2>&1
exit 0
