#!/usr/bin/env bash
# xl-devices-fixture: the PV device commands through xl-fixture, the
# test-double backend (no hypervisor): block-attach / network-attach write
# the same xenstore layout the keeld backend writes (xl_device_nodes.c) into
# the fixture's flat store, $XL_FIXTURE.store; the whole store, block-list
# and network-list are compared with tests/golden/xl-devices/ (vdev numbers
# of xvd/xvd extended/hd/sd names, cdrom, read-only, backend= another
# domain, vif rate/mtu/vifname/script/ip, owners of each directory).  Then
# the error paths with xl's messages (bad spec, raw-only, duplicate, unknown
# domain or device) and detach / destroy leaving nothing behind.
#   tests/integration/xl-devices-fixture.sh --regen   rewrites the golden files
. "$(dirname "$0")/../lib/common.sh"

X=$KEEL_BIN/xl-fixture
[ -x "$X" ] || fail "$X not built"
gold=$KEEL_TOP/tests/golden/xl-devices
regen=0
[ "${1:-}" = --regen ] && regen=1
export XL_FIXTURE=$KEEL_TMP/fx
xl() { "$X" "$@"; }
cat >"$XL_FIXTURE" <<EOF
dom 3 guest1 131072 131072 1 1 r 0 00000000-0000-0000-0000-000000000003 256 0 0
dom 5 drv 65536 65536 1 1 r 0 00000000-0000-0000-0000-000000000005 256 0 0
EOF
img=$KEEL_TMP/d.img
# compare NAME FILE: FILE (with $KEEL_TMP as @TMP@) equals golden NAME
compare() {
	sed "s|$KEEL_TMP|@TMP@|g" "$2" >"$KEEL_TMP/$1.norm"
	if [ $regen = 1 ]; then
		mkdir -p "$gold" && cp "$KEEL_TMP/$1.norm" "$gold/$1"
	else
		diff -u "$gold/$1" "$KEEL_TMP/$1.norm" || fail "$1 differs from tests/golden/xl-devices/$1"
	fi
}
# refused EXPECTED-MESSAGE CMD...: exits 1 and says so on stderr
refused() {
	local msg=$1
	shift
	"$@" >/dev/null 2>"$KEEL_TMP/err" && fail "'$*' succeeded"
	grep -qF -- "$msg" "$KEEL_TMP/err" || fail "'$*': expected '$msg', got: $(cat "$KEEL_TMP/err")"
}

xl block-attach guest1 "$img,raw,xvdb,rw" || fail "block-attach xvdb"
xl block-attach guest1 format=raw vdev=xvdc access=ro devtype=cdrom "target=$img" || fail "cdrom"
xl block-attach guest1 "backend=drv,vdev=xvdq,no-discard,target=$img" || fail "xvdq on drv"
xl block-attach 3 "$img,raw,hdb,w" || fail "hdb by domid"
xl block-attach guest1 "$img,raw,sdc3,r" || fail "sdc3"
xl network-attach guest1 mac=00:16:3e:00:00:01 || fail "network-attach 0"
xl network-attach guest1 mac=00:16:3e:00:00:02 bridge=br1 vifname=v1 rate=1Mb/s@20ms mtu=9000 \
	script=/bin/true ip=10.0.0.2 || fail "network-attach 1"
xl network-attach guest1 devid=7 mac=00:16:3e:00:00:07 backend=drv || fail "network-attach devid=7"
xl network-attach guest1 || fail "network-attach with defaults"
grep -qE "^/local/domain/3/device/vif/8/mac - 00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}\$" \
	"$XL_FIXTURE.store" || fail "no random 00:16:3e MAC for vif 8 (one past the highest devid)"
xl network-detach guest1 8 || fail "network-detach 8"

compare store "$XL_FIXTURE.store"
xl block-list guest1 drv >"$KEEL_TMP/block-list" || fail "block-list"
compare block-list "$KEEL_TMP/block-list"
xl network-list guest1 >"$KEEL_TMP/network-list" || fail "network-list"
compare network-list "$KEEL_TMP/network-list"

# errors, as xl words them
refused "already exists" xl block-attach guest1 "$img,raw,xvdb,rw"
refused "libxl_device_disk_add failed: File exists" xl block-attach guest1 "$img,raw,xvdb,rw"
refused "Keel has the phy and qdisk backends" xl block-attach guest1 "backendtype=tap,vdev=xvdd,target=$img"
refused "the phy backend serves raw images only" xl block-attach guest1 "backendtype=phy,format=qcow2,vdev=xvdd,target=$img"
refused "not a virtual device name" xl block-attach guest1 "$img,raw,floppy0,rw"
refused "no vdev specified" xl block-attach guest1 "target=$img"
refused "nosuch is an invalid domain identifier" xl block-attach nosuch "$img,raw,xvde"
refused "backend domain \"nodom\" does not exist" xl block-attach guest1 "backend=nodom,vdev=xvde,target=$img"
refused "Error: Device xvdz not connected." xl block-detach guest1 xvdz
refused "Unknown device 00:16:3e:00:00:99." xl network-detach guest1 00:16:3e:00:00:99
refused "Unknown device 3." xl network-detach guest1 3
refused "already exists" xl network-attach guest1 devid=7 mac=00:16:3e:00:00:08
refused "invalid" xl network-attach guest1 mac=zz:16:3e:00:00:01
refused "requires at least 2 arguments" xl block-detach guest1
xl block-list guest1 nosuch >/dev/null 2>"$KEEL_TMP/err" || fail "block-list with an unknown domain failed"
grep -q "nosuch is an invalid domain identifier" "$KEEL_TMP/err" || fail "block-list: unknown domain not reported"

# detach by vdev, by number, by MAC (any case), by index; then destroy
xl block-detach guest1 xvdb || fail "block-detach xvdb"
xl block-detach guest1 832 || fail "block-detach 832 (hdb)"
xl block-detach --force guest1 sdc3 || fail "block-detach --force sdc3"
xl network-detach guest1 00:16:3E:00:00:02 || fail "network-detach by MAC"
xl network-detach guest1 0 || fail "network-detach 0"
grep -qE "/(51728|832|2083)(/|$)|/vif/3/(0|1)(/|$)" "$XL_FIXTURE.store" && fail "detached nodes left: $(cat "$XL_FIXTURE.store")"
xl block-list guest1 | grep -qE "^(51728|832|2083) " && fail "block-list shows detached disks"
xl destroy guest1 || fail "destroy"
grep -qE "/3(/|$)" "$XL_FIXTURE.store" && fail "nodes of destroyed domain 3 left: $(cat "$XL_FIXTURE.store")"
[ $regen = 1 ] && echo "golden files rewritten under $gold: review the diff"
echo "xl-devices-fixture: ok"
