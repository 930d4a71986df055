#!/usr/bin/env bash
# linux-xenlibs-netback: the keel-netback binary dom0 runs (built against
# Xen's library API, linked to Keel's libraries in build/lib/xen) runs
# inside a Debian PV driver domain on Debian's REAL libxenevtchn/libxengnttab
# (loaded by LD_LIBRARY_PATH), over that guest kernel's /dev/xen/evtchn and
# /dev/xen/gntdev (grant copies through gntdev's GRANT_COPY ioctl, which the
# driver domain's kernel turns into GNTTABOP_copy), and serves the vifs of
# guests whose traffic stays inside the driver domain: keel-netback's TAP
# devices on the driver domain's own bridge br0, which has an address.
#
# Set up as a Xen user sets up a network driver domain, with no stand-ins:
# the driver domain (driver_domain = 1; Debian's kernel with xen-evtchn,
# xen-gntdev, tun and bridge loaded, xen-netback not) runs keel-netback next
# to `xl devd -F`, both reaching the store through /dev/xen/xenbus.  The
# guests' xl.cfg name vif = ['backend=drv,bridge=br0,mac=...']: xl writes
# libxl's layout under /local/domain/<drv>/backend/vif/<fe>/<devid> with its
# default `script` node, so keel-netback leaves the hotplug work to the
# script's stand-in, as it does for a script in dom0 (TAP vif<fe>.<devid>,
# down, on no bridge), and xl devd adds it to br0, brings it up and writes
# hotplug-status.
#
#  1. net-ping (the runtime's netfront, checksum offload on) resolves br0's
#     address by ARP and pings it (payloads checked, a 1400-byte one too);
#     UDP probes with NETTXF_csum_blank are answered by the driver domain's
#     IP stack; the guest closes its vif (the backend reaches Closed).
#  2. net-pair: two guests on br0 exchange numbered raw frames up to 9014
#     bytes (mtu=9000: three slots each way), each echoed and checked.
# The driver domain reports its TAPs (bridge port of br0, packet counters)
# while the guests run and again after they are destroyed (TAPs gone, the
# backend directories removed by xl devd, keel-netback alive).  The
# libraries keel-netback has mapped must be Debian's files (md5).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
for f in keel-netback keelstore xl; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
for g in net-ping net-pair; do
	[ -f "$KEEL_GUESTS/$g" ] || fail "missing $KEEL_GUESTS/$g"
done
lg_fetch_kernel

# The addresses live on the driver domain's own bridge, which nothing
# outside it reaches: fixed ones do.
brip=10.99.72.1
feip=10.99.72.2

# --- the driver domain's initramfs ------------------------------------------------
root=$KEEL_TMP/root
lg_drv_xenlibs_initramfs "$root" keel-netback drivers/net/tun.ko net/bridge/bridge.ko
{
	lg_init_head drv
	# br0 gets a fixed MAC: a bridge of TAPs alone would take keel-netback's
	# fe:ff:ff:ff:ff:ff (every TAP's host side)
	cat <<INIT
ip link set lo up
brctl addbr br0 && ip link set br0 address 02:4b:ee:00:72:01 &&
	ip addr add $brip/24 dev br0 && ip link set br0 up || say "FAIL br0"
INIT
	lg_drv_xenlibs_init keel-netback
	cat <<'INIT'
[ -c /dev/net/tun ] || say "no /dev/net/tun"
[ -e /sys/bus/xen-backend/drivers/vif ] && say "FAIL Linux's xen-netback is loaded"
INIT
	lg_drv_check_watch
	cat <<'INIT'
say ready
# The host asks for a report by writing N to data/check: the TAPs, their
# bridge and counters, br0's, whether keel-netback lives.
n=0
while read -r _ <&3; do
	[ "$(keelstore read data/check 2>/dev/null)" = $((n + 1)) ] || continue
	n=$((n + 1))
	for i in /sys/class/net/vif*; do
		[ -e $i ] || continue
		m=$(readlink $i/master)
		say "report $n: ${i##*/} in ${m##*/} rx $(cat $i/statistics/rx_packets) tx $(cat $i/statistics/tx_packets)"
	done
	s=/sys/class/net/br0/statistics
	say "report $n: br0 rx $(cat $s/rx_packets) tx $(cat $s/tx_packets)"
	kill -0 $bpid && say "report $n: keel-netback alive"
	say "report $n: done"
done
INIT
} >"$root/init"
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up --no-bridge
{
	lg_cfg_head drv
	echo 'memory = 256'
	echo 'vcpus = 1'
	echo 'driver_domain = 1'
} >"$KEEL_TMP/drv.cfg"
lg_create drv "$KEEL_TMP/drv.cfg"
start=$t0
drv=$id
drvcon=$con
lg_wait_console drv '^drv: (ready|FAIL)' 120 || fail "the driver domain did not start keel-netback"
grep -qa '^drv: \(FAIL\|no \)' "$con" && fail "$(grep -a '^drv: \(FAIL\|no \)' "$con" | tr -d '\r')"
grep -qa "^drv: domid $drv" "$con" || fail "the driver domain does not read its domid through /dev/xen/xenbus"
lg_drv_xenlibs_check drv keel-netback
echo "linux-xenlibs-netback: keel-netback in domain $drv runs on Debian's libraries:" \
	$(grep -a '^drv: maps ' "$con" | tr -d '\r' | sed 's|.*/||')
echo "linux-xenlibs-netback: driver domain up after $((SECONDS - start)) s"

# report N: ask the driver domain for report N, wait for it, print it
report() {
	st write "/local/domain/$drv/data/check" "$1" || fail "cannot ask the driver domain for a report"
	lg_wait_console drv "^drv: report $1: done" 30 || { drv_diag; fail "the driver domain did not report"; }
	grep -a "^drv: report $1: " "$drvcon" | tr -d '\r' | sed 's/^drv: /linux-xenlibs-netback: drv: /'
}
# on failure: the driver domain's view (its console, keel-netback's and xl
# devd's messages there) and the backend directories it serves
drv_diag() {
	local p f
	echo "--- the driver domain's console (last 60 lines)"
	tail -n 60 "$drvcon" | tr -d '\r'
	for f in $(st ls "/local/domain/$drv/backend/vif" 2>/dev/null); do
		for p in $(st ls "/local/domain/$drv/backend/vif/$f" 2>/dev/null); do
			p=/local/domain/$drv/backend/vif/$f/$p
			echo "--- $p ($(st perms "$p" 2>&1 | tr '\n' ' '))"
			lg_store_dump "$p"
		done
	done
}
# guest NAME KERNEL MAC ARGS...: a runtime guest with one vif on br0, served
# by the driver domain; sets id
guest() {
	local name=$1 kernel=$2 mac=$3
	shift 3
	cat >"$KEEL_TMP/$name.cfg" <<CFG
name = "$name"
kernel = "$kernel"
memory = 16
on_poweroff = "preserve"
extra = "$*"
vif = [ 'backend=drv,bridge=br0,mac=$mac${VIF_EXTRA:+,$VIF_EXTRA}' ]
CFG
	lg_create "$name" "$KEEL_TMP/$name.cfg"
}
# verdict NAME: the runtime guest's "Test result" line, SUCCESS or fail
verdict() {
	lg_wait_console "$1" '^Test result' 60 || { drv_diag; fail "$1 did not finish (last: $(tail -n 1 "$(lg_console "$1")" | tr -d '\r'))"; }
	grep -qa '^Test result: SUCCESS' "$(lg_console "$1")" ||
		{ drv_diag; fail "$1: $(grep -aE 'FAIL|result' "$(lg_console "$1")" | tr -d '\r' | head -5)"; }
}

# --- 1. net-ping: the guest pings br0's address -----------------------------------
guest ping "$KEEL_GUESTS/net-ping" 00:16:3e:63:48:02 ip=$feip host=$brip count=20 csum=1
fe=$id
be=/local/domain/$drv/backend/vif/$fe/0
fr=/local/domain/$fe/device/vif/0
# libxl's layout, as xl wrote it
[ "$(st perms "$be" 2>/dev/null)" = "n$drv r$fe" ] || fail "backend dir $be perms: $(st perms "$be" 2>&1)"
[ "$(st perms "$fr" 2>/dev/null)" = "n$fe r$drv" ] || fail "frontend dir $fr perms: $(st perms "$fr" 2>&1)"
[ "$(st read "$fr/backend" 2>/dev/null)" = "$be" ] || fail "$fr/backend: $(st read "$fr/backend" 2>&1)"
[ "$(st read "$fr/backend-id" 2>/dev/null)" = "$drv" ] || fail "$fr/backend-id: $(st read "$fr/backend-id" 2>&1)"
st ls "/local/domain/0/backend/vif/$fe" >/dev/null 2>&1 && fail "dom0 got a backend directory for the guest's vif"
verdict ping
grep -a '^net-ping: ' "$(lg_console ping)" | tr -d '\r' | sed 's/^/linux-xenlibs-netback: /'
grep -qa '^net-ping: 20 replies' "$(lg_console ping)" || fail "not 20 replies"
[ "$(st read "$be/hotplug-status" 2>/dev/null)" = connected ] || fail "$be/hotplug-status: $(st read "$be/hotplug-status" 2>&1)"
grep -qa "$be: vif$fe.0 up in bridge br0" "$drvcon" || { drv_diag; fail "xl devd did not put vif$fe.0 in br0"; }
[ "$(st read "$be/state" 2>/dev/null)" = 6 ] || fail "backend state $(st read "$be/state" 2>&1) after the guest closed"
report 1
grep -qaE "^drv: report 1: vif$fe.0 in br0 rx [1-9][0-9]+ tx [1-9]" "$drvcon" ||
	fail "the guest's frames did not cross vif$fe.0 on br0 in the driver domain"

# --- 2. net-pair: two guests exchange frames through br0 -----------------------------
# (pairb's TAP has a vifname=: xl devd renames vif<pairb>.0 as vif-bridge does)
VIF_EXTRA=mtu=9000,vifname=vifpairb
guest pairb "$KEEL_GUESTS/net-pair" 00:16:3e:63:48:0b role=echo peer=00:16:3e:63:48:0a count=200 max=9014
b=$id
VIF_EXTRA=mtu=9000
guest paira "$KEEL_GUESTS/net-pair" 00:16:3e:63:48:0a role=send peer=00:16:3e:63:48:0b count=200 max=9014
a=$id
verdict paira
verdict pairb
grep -a '^net-pair' "$(lg_console paira)" | tr -d '\r' | tail -n 2 | sed 's/^/linux-xenlibs-netback: /'
report 2
grep -qa "/backend/vif/$b/0: vifpairb up in bridge br0" "$drvcon" || { drv_diag; fail "xl devd did not rename vif$b.0 to its vifname vifpairb"; }
for t in vif$a.0 vifpairb; do
	grep -qaE "^drv: report 2: $t in br0 rx [1-9][0-9][0-9]+ tx [1-9][0-9][0-9]+" "$drvcon" ||
		fail "net-pair's 200 frames did not cross $t on br0 in the driver domain"
done

# --- the guests go: xl devd removes the directories, the TAPs go -------------------
for d in $fe $a $b; do
	xl destroy "$d" >"$KEEL_TMP/destroy.out" 2>&1 || fail "xl destroy $d: $(cat "$KEEL_TMP/destroy.out")"
done
for d in $fe $a $b; do
	wait_for "! st ls /local/domain/$drv/backend/vif/$d >/dev/null 2>&1" 20 ||
		{ drv_diag; fail "the driver domain's backend directory for domain $d stayed after xl destroy"; }
done
report 3
grep -qa '^drv: report 3: vif' "$drvcon" && fail "TAPs stayed in the driver domain after their guests went"
grep -qa '^drv: report 3: keel-netback alive' "$drvcon" || fail "keel-netback died in the driver domain"
# a SAN build's keel-netback and xl report on the driver domain's console
grep -qaE 'AddressSanitizer|runtime error:|LeakSanitizer' "$drvcon" &&
	fail "keel-netback in the driver domain: $(grep -aE 'Sanitizer|runtime error:' "$drvcon" | head -3)"
grep -a 'xl devd:\|keel-backend:' "$drvcon" | tr -d '\r' | sed 's/^/linux-xenlibs-netback: drv: /'
echo "linux-xenlibs-netback: three guests' vifs served by keel-netback in domain $drv; total $((SECONDS - start)) s"
xl destroy drv >/dev/null 2>&1
exit 0
