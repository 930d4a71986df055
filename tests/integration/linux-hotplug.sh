#!/usr/bin/env bash
# linux-hotplug: Xen's own hotplug scripts (Debian's unmodified
# /etc/xen/scripts/vif-bridge and block, from xen-utils-common, run from the
# unpacked package) set up a Debian guest's devices on Keel, and xl dump-core
# writes a core of that guest that gdb reads.
#  * xl.conf (KEEL_XL_CONF) gives vif.default.bridge and vif.default.script
#    (vif-bridge); the disk names script=block.  xl runs the scripts as libxl
#    does once the backends are in InitWait; they talk to keel-xenstored
#    through Debian's xenstore-read/-write (xenstore-utils).  vif-bridge puts
#    vifD.0 on the bridge and writes hotplug-status=connected; block binds
#    the disk image to a loop device (node, physical-device).  The guest's
#    netfront pings the host and its blkfront reads the disk.
#  * A vif whose bridge does not exist: vif-bridge fails, xl create fails
#    with the script's own hotplug-error and leaves no domain, TAP or nodes.
#  * xl dump-core of the running guest: an ELF core with Xen's sections
#    (.note.Xen, .xen_prstatus, .xen_pages, .xen_p2m); gdb, given nothing
#    but the core, prints the kernel's linux_banner (its address from the
#    kernel package's System.map) as "Linux version ...".  A paused domain
#    dumps too; a bad domain and an unwritable file fail as xl does.
#  * vif-nat and vif-route through xl network-attach: the addresses and
#    routes they make; the guest pings vif-nat's router address.
#  * xl destroy: the remove/offline scripts run (the loop device is
#    released; the vif is gone from the bridge).
# Needs root, /dev/kvm, /dev/net/tun, gdb, ifconfig, and the Debian packages (fetched).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
command -v gdb >/dev/null || skip "needs gdb (scripts/install-deps installs it)"
command -v losetup >/dev/null || skip "needs losetup"
command -v ifconfig >/dev/null || skip "needs ifconfig (net-tools), which vif-route and vif-nat call"
lg_fetch_kernel
XU=$(fetch_deb xen-utils-common) || skip "cannot download xen-utils-common"
SCRIPTS=$XU/etc/xen/scripts
[ -x "$SCRIPTS/vif-bridge" ] && [ -x "$SCRIPTS/block" ] || fail "no vif-bridge/block in xen-utils-common"
libs=""
for p in libxenstore4 libxentoolcore1; do
	d=$(fetch_deb "$p") || skip "cannot download $p"
	libs="$libs:$d/usr/lib/x86_64-linux-gnu"
done
XSU=$(fetch_deb xenstore-utils) || skip "cannot download xenstore-utils"
# what the scripts need from a Xen dom0: Xen's xenstore clients on the path
# (with Debian's libxenstore, pointed at Keel's store by xl), and the log
# directory the package would have made
export PATH=$XSU/usr/bin:$PATH
export LD_LIBRARY_PATH=${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p /var/log/xen
# linux_banner's address, from the kernel image alone (Debian's System.map
# is a placeholder; the real one is in the -dbg package): the vmlinux ELF in
# the bzImage (xz), the banner string in it and the LOAD segment that holds it
vmlinux=$KEEL_TMP/vmlinux
xzat=$(grep -abo "$(printf '\3757zXZ')" "$LG_VMLINUZ" | head -n 1 | cut -d: -f1)
[ -n "$xzat" ] || fail "no xz payload in $LG_VMLINUZ"
tail -c +$((xzat + 1)) "$LG_VMLINUZ" | xz -dc >"$vmlinux" 2>/dev/null
# (init/version-timestamp.c's, with the build number: "... #1 SMP ..."; the
# other copy, init/version.c's, has none)
at=""
for o in $(grep -abo "Linux version $LG_KVER" "$vmlinux" | cut -d: -f1); do
	dd if="$vmlinux" bs=1 skip="$o" count=400 status=none | head -n 1 | tr -d '\0' |
		grep -aq ') #[0-9][0-9]* ' && { at=$o; break; }
done
[ -n "$at" ] || fail "no linux_banner string in the kernel image"
banner=""
while read -r type off va _ filesz _; do
	[ "$type" = LOAD ] || continue
	if [ $((at >= off && at < off + filesz)) = 1 ]; then
		banner=$(printf '%x' $((va + at - off)))
	fi
done < <(readelf -lW "$vmlinux" | awk '$1 == "LOAD"')
[ -n "$banner" ] || fail "the Linux version string is in no LOAD segment"

sub=$((RANDOM % 250))
net=10.$((200 + RANDOM % 50)).
hostip=${net}$sub.1
guestip=${net}$sub.2
br=klhp$$
# vif-nat: the guest's address and the router address it gives the vif (+127)
natip=${net}$(((sub + 1) % 256)).5
natrouter=${net}$(((sub + 1) % 256)).132
routeip=${net}$(((sub + 2) % 256)).9
mac=00:16:3e:4c:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))
img=$KEEL_TMP/disk.img
mark="KEEL-HOTPLUG-DISK-$$-$RANDOM"
truncate -s 16M "$img"
printf '%s\n' "$mark" | dd of="$img" conv=notrunc status=none

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/net/xen-netfront.ko
lg_add_module "$root" drivers/block/xen-blkfront.ko
lg_init_head KEEL-HP >"$root/init"
cat >>"$root/init" <<INIT
i=0
while { [ ! -e /sys/class/net/eth0 ] || [ ! -b /dev/xvda ]; } && [ \$i -lt 300 ]; do
	i=\$((i + 1)); sleep 0.1
done
say "disk: \$(head -c ${#mark} /dev/xvda 2>&1)"
say "kallsyms: \$(grep ' linux_banner\$' /proc/kallsyms)"
# up_ping IFACE ADDR/LEN PEER WHAT: the interface up with ADDR, PEER pinged
up_ping() {
	ip addr add \$2 dev \$1
	ip link set \$1 up
	if ping -c 3 -W 3 \$3 >/tmp/ping.out 2>&1; then
		say "\$4 ok"
	else
		say "FAIL \$4: \$(tail -n 2 /tmp/ping.out | tr '\n' ' ')"
	fi
}
ip link set lo up
up_ping eth0 $guestip/24 $hostip "ping host"
say "ready"
# the host attaches a vif through vif-nat: eth1, with the guest address
# vif-nat routes to it, pings the router address vif-nat gave the vif
i=0
while [ ! -e /sys/class/net/eth1 ] && [ \$i -lt 1200 ]; do sleep 0.1; i=\$((i + 1)); done
if [ -e /sys/class/net/eth1 ]; then
	up_ping eth1 $natip/24 $natrouter "nat ping"
else
	say "FAIL no eth1"
fi
while :; do sleep 10; done
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up --bridge "$br" --bridge-addr "$hostip/24"
# a failure before xl destroy leaves block's loop device: release it too
hp_cleanup() {
	local rc=$? l
	(exit $rc)
	lg_cleanup
	for l in $(losetup -j "$img" | cut -d: -f1); do losetup -d "$l"; done
	return $rc
}
trap hp_cleanup EXIT
lg_backend keel-netback
lg_backend keel-blkback
cat >"$KEEL_TMP/xl.conf" <<CONF
vif.default.bridge = "$br"
vif.default.script = "$SCRIPTS/vif-bridge"
CONF
export KEEL_XL_CONF=$KEEL_TMP/xl.conf

# --- a failing script fails the create, with its message, leaving nothing
cat >"$KEEL_TMP/bad.cfg" <<CFG
name = "linux-hp-bad"
kernel = "$LG_VMLINUZ"
memory = 128
vif = [ 'bridge=nosuch$$' ]
CFG
before=$(ip -o link show | wc -l)
if xl create "$KEEL_TMP/bad.cfg" >"$KEEL_TMP/bad.out" 2>&1; then
	fail "create with a vif on a missing bridge succeeded: $(cat "$KEEL_TMP/bad.out")"
fi
sed 's/^/linux-hotplug: bad create: /' "$KEEL_TMP/bad.out"
grep -q "script: Could not find bridge device nosuch$$" "$KEEL_TMP/bad.out" ||
	fail "create did not report vif-bridge's error"
xl domid linux-hp-bad >/dev/null 2>&1 && fail "the failed domain is still there"
[ "$(ip -o link show | wc -l)" = "$before" ] || fail "the failed create left an interface: $(ip -o link show | tail -n 2)"
st ls /local/domain/0/backend/vif 2>/dev/null | grep -q . &&
	fail "the failed create left backend nodes: $(st ls /local/domain/0/backend/vif)"

# --- the guest: vif through vif-bridge (xl.conf's defaults), disk through block
cat >"$KEEL_TMP/linux.cfg" <<CFG
name = "linux-hp"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 1
vif = [ 'mac=$mac' ]
disk = [ 'format=raw, vdev=xvda, access=rw, script=block, target=$img' ]
CFG
# a bare script name is Xen's script directory's: point it at the package
sed -i "s|script=block|script=$SCRIPTS/block|" "$KEEL_TMP/linux.cfg"
lg_create linux-hp "$KEEL_TMP/linux.cfg"
vbe=/local/domain/0/backend/vif/$id/0
bbe=/local/domain/0/backend/vbd/$id/51712
[ "$(st read "$vbe/script")" = "$SCRIPTS/vif-bridge" ] || fail "vif script node: $(st read "$vbe/script")"
[ "$(st read "$vbe/hotplug-status")" = connected ] || fail "vif hotplug-status: $(st read "$vbe/hotplug-status" 2>&1)"
[ "$(cat "/sys/class/net/vif$id.0/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$br/ifindex")" ] ||
	fail "vif$id.0 is not on $br"
echo "linux-hotplug: vif-bridge put vif$id.0 on $br ($(ip -o link show dev "vif$id.0" | awk '{print $9 " " $10 " " $11}'))"
loopdev=$(st read "$bbe/node") || fail "block wrote no node"
physdev=$(st read "$bbe/physical-device") || fail "block wrote no physical-device"
[ "$(st read "$bbe/hotplug-status")" = connected ] || fail "vbd hotplug-status"
losetup "$loopdev" | grep -q "$img" || fail "$loopdev is not bound to $img: $(losetup "$loopdev" 2>&1)"
[ "$(printf '%x:%x' "$(stat -L -c '0x%t' "$loopdev")" "$(stat -L -c '0x%T' "$loopdev")")" = "$physdev" ] ||
	fail "physical-device $physdev is not $loopdev's"
echo "linux-hotplug: block bound $img to $loopdev (physical-device $physdev)"
lg_wait_console linux-hp '^KEEL-HP: (ready|FAIL)' 120 ||
	fail "the guest did not get to its ping (last: $(tail -n 1 "$con" 2>/dev/null))"
grep -a 'KEEL-HP' "$con" | tr -d '\r' | sed 's/^/linux-hotplug: guest: /'
grep -qa "^KEEL-HP: disk: $mark" "$con" || fail "the guest did not read the disk's mark"
grep -qa "^KEEL-HP: kallsyms: $banner [A-Za-z] linux_banner" "$con" ||
	fail "the guest's linux_banner is not at $banner"
grep -qa '^KEEL-HP: ping host ok' "$con" || fail "the guest's ping through vif-bridge's port failed"
"$LG_BB/bin/busybox" ping -c 2 -W 3 "$guestip" >/dev/null 2>&1 || fail "the host cannot ping the guest"

# --- dump-core
t=$SECONDS
xl dump-core linux-hp "$KEEL_TMP/core" >"$KEEL_TMP/dump.out" 2>&1 || fail "dump-core: $(cat "$KEEL_TMP/dump.out")"
echo "linux-hotplug: dump-core of 256 MiB in $((SECONDS - t)) s, $(stat -c %s "$KEEL_TMP/core") bytes"
secs=$(readelf -S -W "$KEEL_TMP/core" | sed -n 's/^ *\[ *[0-9]*\] \(\.[^ ]*\).*/\1/p' | tr '\n' ' ')
[ "$secs" = ".shstrtab .note.Xen .xen_prstatus .xen_pages .xen_p2m " ] || fail "core sections: $secs"
# the dumpcore header note: name "Xen", type 0x2000001, magic 0xF00FEBED
readelf -x .note.Xen "$KEEL_TMP/core" | awk '$1 ~ /^0x/ { printf "%s%s%s%s", $2, $3, $4, $5 }' | grep -q '04000000200000000100000258656e00edeb0ff0' ||
	fail "no Xen dumpcore header note: $(readelf -x .note.Xen "$KEEL_TMP/core" | head -n 6)"
gdb -q -batch -nx -c "$KEEL_TMP/core" -ex "x/s 0x$banner" >"$KEEL_TMP/gdb.out" 2>&1
sed 's/^/linux-hotplug: gdb: /' "$KEEL_TMP/gdb.out" | grep -a linux_banner\\\|Linux\\\|0x | head -n 3
grep -q "^0x$banner:[[:space:]]*\"Linux version $LG_KVER" "$KEEL_TMP/gdb.out" ||
	fail "gdb did not read linux_banner from the core: $(cat "$KEEL_TMP/gdb.out")"
xl pause linux-hp
xl dump-core linux-hp "$KEEL_TMP/core2" >"$KEEL_TMP/dump2.out" 2>&1 || fail "dump-core of a paused domain: $(cat "$KEEL_TMP/dump2.out")"
xl unpause linux-hp
cmp -s <(gdb -q -batch -nx -c "$KEEL_TMP/core2" -ex "x/s 0x$banner" 2>&1) "$KEEL_TMP/gdb.out" ||
	fail "the paused domain's core reads differently"
rm -f "$KEEL_TMP/core" "$KEEL_TMP/core2"
xl dump-core nosuch$$ "$KEEL_TMP/core3" >"$KEEL_TMP/bad1.out" 2>&1 && fail "dump-core of a bad domain succeeded"
grep -q "^nosuch$$ is an invalid domain identifier (rc=-6)" "$KEEL_TMP/bad1.out" || fail "bad domain: $(cat "$KEEL_TMP/bad1.out")"
xl dump-core linux-hp /nonexistent$$/core >"$KEEL_TMP/bad2.out" 2>&1 && fail "dump-core to an unwritable file succeeded"
grep -q "^core dump failed (rc=-3)" "$KEEL_TMP/bad2.out" || fail "unwritable file: $(cat "$KEEL_TMP/bad2.out")"
sed 's/^/linux-hotplug: unwritable: /' "$KEEL_TMP/bad2.out"

# --- vif-nat and vif-route, hot-plugged (xl network-attach runs them too)
xl network-attach linux-hp "script=$SCRIPTS/vif-nat" "ip=$natip" >"$KEEL_TMP/nat.out" 2>&1 ||
	fail "network-attach through vif-nat: $(cat "$KEEL_TMP/nat.out")"
[ "$(st read "/local/domain/0/backend/vif/$id/1/hotplug-status")" = connected ] || fail "vif-nat: no hotplug-status"
ip -4 -o addr show dev "vif$id.1" | grep -q " $natrouter/" || fail "vif-nat did not give vif$id.1 $natrouter"
ip route show "$natip" | grep -q "dev vif$id.1" || fail "vif-nat did not route $natip to vif$id.1"
lg_wait_console linux-hp '^KEEL-HP: (nat ping|FAIL (nat ping|no eth1))' 60 || fail "no word on eth1 from the guest"
grep -qa '^KEEL-HP: nat ping ok' "$con" || fail "the guest's ping through vif-nat's vif failed: $(grep -a 'KEEL-HP: .*nat\|eth1' "$con")"
echo "linux-hotplug: vif-nat: vif$id.1 is $natrouter, $natip routed to it, the guest's eth1 pinged it"
xl network-attach linux-hp "script=$SCRIPTS/vif-route" "ip=$routeip" "gatewaydev=$br" >"$KEEL_TMP/route.out" 2>&1 ||
	fail "network-attach through vif-route: $(cat "$KEEL_TMP/route.out")"
[ "$(st read "/local/domain/0/backend/vif/$id/2/hotplug-status")" = connected ] || fail "vif-route: no hotplug-status"
ip route show "$routeip" | grep -q "dev vif$id.2 .*src $hostip" || fail "vif-route did not route $routeip to vif$id.2: $(ip route show "$routeip")"
[ "$(cat "/proc/sys/net/ipv4/conf/vif$id.2/proxy_arp")" = 1 ] || fail "vif-route did not turn proxy_arp on"
echo "linux-hotplug: vif-route: $routeip routed to vif$id.2 from $hostip (gatewaydev $br), proxy ARP on"
xl network-detach linux-hp 2 || fail "network-detach 2"
ip route show "$routeip" | grep -q . && fail "vif-route's route outlived the vif"
xl network-detach linux-hp 1 || fail "network-detach 1"

# --- destroy: the remove/offline scripts
xl destroy linux-hp || fail "destroy"
[ -e "/sys/class/net/vif$id.0" ] && fail "vif$id.0 still exists"
[ -e "/sys/class/net/$br/brif/vif$id.0" ] && fail "vif$id.0 still on $br"
losetup "$loopdev" 2>/dev/null | grep -q "$img" && fail "block remove did not release $loopdev"
losetup -j "$img" | grep -q . && fail "$img is still on a loop device: $(losetup -j "$img")"
echo "linux-hotplug: after destroy: vif$id.0 gone, $loopdev released"
echo "linux-hotplug: Debian's vif-bridge and block scripts ran for the guest; dump-core read by gdb"
exit 0
