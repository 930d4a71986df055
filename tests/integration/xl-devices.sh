#!/usr/bin/env bash
# xl-devices: PV devices through the real toolstack under KVM.  dom0 comes up
# with keel-dom0-up inside a private network namespace (so the bridge and the
# vif<domid>.<n> TAP devices cannot clash with other tests or the host) with
# a private bridge name; the block and network backends run.  `xl create` of
# xl-idle with a raw image disk and a vif writes libxl's vbd/vif nodes
# (backend, frontend, libxl's copy, owners) before the guest runs;
# keel-blkback moves the vbd to InitWait and publishes the image's size,
# keel-netback creates TAP vif<domid>.0 on the bridge.  Then block-attach /
# -list / -detach and network-attach / -list / -detach on the running
# domain, a second attach of the same disk refused, `xl list -l` following
# the devices, and `xl destroy` removing every device directory and the
# TAP; keel-dom0-down deletes the bridge it created.  xl-idle has no
# frontends: the handshake with a live frontend is exercised by the
# frontend tests that use this same toolstack.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "needs ip (iproute2)"
for f in xl keel-dom0-up keel-dom0-down keelstore keel-blkback keel-netback; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
[ -f "$KEEL_GUESTS/xl-idle" ] || fail "missing $KEEL_GUESTS/xl-idle"

run=$KEEL_TMP/run
NS=keeldev$$
BR=kdbr$$
BR=${BR:0:15}
cleanup() {
	local rc=$?
	[ $rc = 0 ] || tail -n 15 "$run"/log/*.log 2>/dev/null
	ip netns exec "$NS" "$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	return 0
}
trap cleanup EXIT
ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
export KEEL_RUNDIR=$run
xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
nsip() { ip -n "$NS" "$@"; }
# have PATH VALUE: the store node holds exactly VALUE
have() { [ "$(st read "$1" 2>/dev/null)" = "$2" ] || fail "$1 is '$(st read "$1" 2>&1)', not '$2'"; }
gone() { ! st read "$1" >/dev/null 2>&1 || fail "$1 still exists: $(st ls "$1" 2>&1 | head -5)"; }

ip netns exec "$NS" "$KEEL_BIN/keel-dom0-up" --rundir "$run" --bridge "$BR" --bridge-addr 10.99.0.1/24 \
	>"$KEEL_TMP/up.out" 2>&1 ||
	fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
grep -q "keel-blkback running" "$KEEL_TMP/up.out" || fail "no blkback: $(cat "$KEEL_TMP/up.out")"
grep -q "keel-netback running" "$KEEL_TMP/up.out" || fail "no netback: $(cat "$KEEL_TMP/up.out")"
grep -q "bridge $BR created" "$KEEL_TMP/up.out" || fail "no bridge: $(cat "$KEEL_TMP/up.out")"
[ -d "/sys/class/net/$BR" ] && fail "the bridge was created outside the namespace"
nsip link show dev "$BR" | grep -q "UP" || fail "bridge $BR not up"
nsip -o addr show dev "$BR" | grep -q "10.99.0.1/24" || fail "bridge $BR has no address: $(nsip -o addr show dev "$BR")"
ip netns exec "$NS" "$KEEL_BIN/keel-dom0-up" --rundir "$run" --bridge "$BR" --bridge-addr 10.99.0.1/24 \
	>"$KEEL_TMP/up2.out" 2>&1 ||
	fail "second keel-dom0-up: $(cat "$KEEL_TMP/up2.out")"
grep -q "keel-blkback already running" "$KEEL_TMP/up2.out" || fail "dom0-up not idempotent for blkback"
grep -q "bridge $BR already exists" "$KEEL_TMP/up2.out" || fail "dom0-up not idempotent for the bridge"

img=$KEEL_TMP/disk0.img
img2=$KEEL_TMP/disk1.img
truncate -s 8M "$img"
truncate -s 4M "$img2"
cat >"$KEEL_TMP/dev.cfg" <<EOF
name = "devs"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 16
extra = "ticks=0"
disk = [ '$img,raw,xvda,rw' ]
vif = [ 'mac=00:16:3e:4b:0a:01,bridge=$BR' ]
EOF

# a disk the backend could not serve is refused before anything is built
xl create -e "$KEEL_TMP/dev.cfg" "disk=['$KEEL_TMP/nonexistent.img,raw,xvda,rw']" 2>"$KEEL_TMP/bad.err" &&
	fail "create with a missing image succeeded"
grep -q "nonexistent.img" "$KEEL_TMP/bad.err" || fail "no message naming the image: $(cat "$KEEL_TMP/bad.err")"
xl list | grep -q "^devs " && fail "a half-built domain was left behind"
xl create -e "$KEEL_TMP/dev.cfg" "vif=['devid=0,bridge=$BR','devid=0,bridge=$BR']" 2>"$KEEL_TMP/dup.err" &&
	fail "create with two vifs of devid 0 succeeded"
grep -q "devid given twice" "$KEEL_TMP/dup.err" || fail "no duplicate devid message: $(cat "$KEEL_TMP/dup.err")"
# ... and a vif its backend refuses fails the create, which leaves nothing behind
xl create -e "$KEEL_TMP/dev.cfg" "vif=['bridge=nobr$$']" 2>"$KEEL_TMP/bad2.err" &&
	fail "create with a vif on a missing bridge succeeded"
grep -q "the backend refused it" "$KEEL_TMP/bad2.err" || fail "no refusal: $(cat "$KEEL_TMP/bad2.err")"
xl list | grep -q "^devs " && fail "the refused domain was left behind"
[ -z "$(st ls /local/domain/0/backend/vif 2>/dev/null)" ] || fail "vif backend nodes left: $(st ls /local/domain/0/backend/vif)"
[ -z "$(st ls /local/domain/0/backend/vbd 2>/dev/null)" ] || fail "vbd backend nodes left: $(st ls /local/domain/0/backend/vbd)"

xl create -e "$KEEL_TMP/dev.cfg" 2>"$KEEL_TMP/create.err" || fail "create: $(cat "$KEEL_TMP/create.err")"
id=$(xl domid devs) || fail "domid"
xl list -l devs >"$KEEL_TMP/long" || fail "list -l"
grep -q "00:16:3e:4b:0a:01" "$KEEL_TMP/long" || fail "xl list -l lost the vif: $(cat "$KEEL_TMP/long")"
grep -q "$img" "$KEEL_TMP/long" || fail "xl list -l lost the disk: $(cat "$KEEL_TMP/long")"

# --- vbd 51712 (xvda): libxl's layout, then blkback's InitWait and size ----------------
be=/local/domain/0/backend/vbd/$id/51712
fe=/local/domain/$id/device/vbd/51712
have $be/frontend "$fe"
have $be/frontend-id "$id"
have $be/params "$img"
have $be/type phy
have $be/mode w
have $be/online 1
have $be/dev xvda
have $be/device-type disk
have $be/discard-enable 1
have $fe/backend "$be"
have $fe/backend-id 0
have $fe/virtual-device 51712
have $fe/device-type disk
have /libxl/$id/device/vbd/51712/backend "$be"
st perms "$be" | tr -s ' \n' ' ' | grep -q "n0 r$id" || fail "backend perms: $(st perms "$be")"
st perms "$fe" | tr -s ' \n' ' ' | grep -q "n$id r0" || fail "frontend perms: $(st perms "$fe")"
wait_for "[ \"\$(st read $be/state 2>/dev/null)\" = 2 ]" 10 || fail "blkback did not reach InitWait: state $(st read $be/state)"
have $be/sectors 16384
have $be/sector-size 512

# --- vif 0: layout, then netback's TAP on the bridge ------------------------------------
vbe=/local/domain/0/backend/vif/$id/0
vfe=/local/domain/$id/device/vif/0
have $vbe/mac 00:16:3e:4b:0a:01
have $vbe/bridge "$BR"
have $vbe/handle 0
have $vbe/type vif
have $vfe/mac 00:16:3e:4b:0a:01
have $vfe/handle 0
have $vfe/backend "$vbe"
wait_for "[ \"\$(st read $vbe/state 2>/dev/null)\" = 2 ]" 10 || fail "netback did not reach InitWait: state $(st read $vbe/state)"
have $vbe/hotplug-status connected
nsip link show dev "vif$id.0" | grep -q "master $BR" || fail "vif$id.0 not on $BR: $(nsip link show 2>&1)"
# xl top (where the TAPs are): one vif, one vbd; the vif's traffic is its
# TAP's, seen from the domain (the domain receives what the TAP sends)
ip netns exec "$NS" ping -b -c 20 -i 0.01 -s 1400 -W 1 10.99.0.255 >/dev/null 2>&1
top=$(ip netns exec "$NS" "$KEEL_BIN/xl" top -b -i 1 | awk '$1 == "devs"')
tx=$(ip netns exec "$NS" cat "/sys/class/net/vif$id.0/statistics/tx_bytes")
rx=$(ip netns exec "$NS" cat "/sys/class/net/vif$id.0/statistics/rx_bytes")
echo "xl top: $top (TAP tx $tx rx $rx bytes)"
echo "$top" | awk -v t="$tx" -v r="$rx" '{ exit !($10 == 1 && $11 == int(r / 1024) && $12 == int(t / 1024) && $13 == 1) }' ||
	fail "xl top NETS/NETTX/NETRX/VBDS: $top (TAP tx $tx rx $rx)"

# --- block-attach / -list / -detach ---------------------------------------------------
xl block-attach devs "$img2,raw,xvdb,r" || fail "block-attach"
xl block-attach devs "$img2,raw,xvdb,r" 2>"$KEEL_TMP/dup.err" && fail "second block-attach of xvdb succeeded"
grep -q "already exists" "$KEEL_TMP/dup.err" || fail "duplicate message: $(cat "$KEEL_TMP/dup.err")"
be2=/local/domain/0/backend/vbd/$id/51728
have $be2/mode r
wait_for "[ \"\$(st read $be2/sectors 2>/dev/null)\" = 8192 ]" 10 || fail "blkback did not serve xvdb"
xl block-list devs >"$KEEL_TMP/bl" || fail "block-list"
head -1 "$KEEL_TMP/bl" | grep -qE '^Vdev +BE +handle +state +evt-ch +ring-ref +BE-path' || fail "block-list header: $(head -1 "$KEEL_TMP/bl")"
grep -qE "^51712 +0 +$id +1 +-1 +-1 +$be *\$" "$KEEL_TMP/bl" || fail "block-list xvda: $(cat "$KEEL_TMP/bl")"
grep -qE "^51728 +0 +$id +1 +-1 +-1 +$be2 *\$" "$KEEL_TMP/bl" || fail "block-list xvdb: $(cat "$KEEL_TMP/bl")"
xl list -l devs | grep -q "xvdb" || fail "xl list -l does not show the attached disk"
xl block-detach devs xvdb || fail "block-detach"
gone $be2
gone /local/domain/$id/device/vbd/51728
gone /libxl/$id/device/vbd/51728
xl block-list devs | grep -q "^51728" && fail "block-list still shows xvdb"
xl list -l devs | grep -q "xvdb" && fail "xl list -l still shows the detached disk"
xl block-detach devs xvdb 2>"$KEEL_TMP/nodev.err" && fail "detaching a detached disk succeeded"
grep -q "Error: Device xvdb not connected." "$KEEL_TMP/nodev.err" || fail "detach message: $(cat "$KEEL_TMP/nodev.err")"

# A frontend that takes part in the handshake, played by the test through the store:
# detach must tell the backend to close (online=0, Closing) and wait while the frontend
# is live; the stand-in frontend then closes (6) and keel-blkback follows to Closed.
xl block-attach devs "$img2,raw,xvdb,r" || fail "block-attach xvdb again"
fe2=/local/domain/$id/device/vbd/51728
wait_for "[ \"\$(st read $be2/state 2>/dev/null)\" = 2 ]" 10 || fail "xvdb not in InitWait"
st write $fe2/state 2 >/dev/null
(
	for _ in $(seq 200); do
		if [ "$(st read $be2/state 2>/dev/null)" = 5 ]; then
			echo "online=$(st read $be2/online)" >"$KEEL_TMP/frontend-saw"
			st write $fe2/state 6 >/dev/null
			exit 0
		fi
		sleep 0.05
	done
) &
resp=$!
xl block-detach devs xvdb || fail "block-detach with a live frontend"
wait $resp || fail "the stand-in frontend never saw the backend Closing"
[ "$(cat "$KEEL_TMP/frontend-saw")" = online=0 ] || fail "backend Closing without online=0"
gone $be2
gone $fe2
# --force: the live frontend is not waited for
xl block-attach devs "$img2,raw,xvdb,r" || fail "block-attach xvdb a third time"
wait_for "[ \"\$(st read $be2/state 2>/dev/null)\" = 2 ]" 10 || fail "xvdb not in InitWait"
st write $fe2/state 2 >/dev/null
xl block-detach --force devs 51728 || fail "block-detach --force"
gone $be2
gone $fe2

# --- network-attach / -list / -detach --------------------------------------------------
xl network-attach devs "bridge=$BR" mac=00:16:3e:4b:0a:02 rate=10Mb/s || fail "network-attach"
vbe1=/local/domain/0/backend/vif/$id/1
have $vbe1/mac 00:16:3e:4b:0a:02
have $vbe1/rate 62500,50000
wait_for "ip -n $NS link show dev vif$id.1 2>/dev/null | grep -q 'master $BR'" 10 || fail "no TAP vif$id.1 on $BR"
xl network-list devs >"$KEEL_TMP/nl" || fail "network-list"
head -1 "$KEEL_TMP/nl" | grep -qE '^Idx +BE +Mac Addr\. +handle +state +evt-ch +tx-/rx-ring-ref +BE-path' || fail "network-list header: $(head -1 "$KEEL_TMP/nl")"
grep -qE "^0 +0 +00:16:3e:4b:0a:01 +0 +1 +-1 +-1/-1 +$vbe *\$" "$KEEL_TMP/nl" || fail "network-list vif 0: $(cat "$KEEL_TMP/nl")"
grep -qE "^1 +0 +00:16:3e:4b:0a:02 +1 +1 +-1 +-1/-1 +$vbe1 *\$" "$KEEL_TMP/nl" || fail "network-list vif 1: $(cat "$KEEL_TMP/nl")"
xl network-detach devs 00:16:3E:4B:0A:02 || fail "network-detach by MAC"
gone $vbe1
gone /local/domain/$id/device/vif/1
wait_for "! ip -n $NS link show dev vif$id.1 >/dev/null 2>&1" 5 || fail "TAP vif$id.1 outlived its vif"
# a vif its backend cannot serve (no such bridge) is refused with netback's reason and taken away
xl network-attach devs bridge=nobr$$ mac=00:16:3e:4b:0a:03 2>"$KEEL_TMP/nobr.err" &&
	fail "network-attach to a missing bridge succeeded"
grep -q "the backend refused it: 19 " "$KEEL_TMP/nobr.err" || fail "refusal message: $(cat "$KEEL_TMP/nobr.err")"
gone /local/domain/0/backend/vif/$id/1
gone /local/domain/0/error/local/domain/0/backend/vif/$id/1
xl network-detach devs 7 2>"$KEEL_TMP/novif.err" && fail "detaching vif 7 succeeded"
grep -q "Unknown device 7." "$KEEL_TMP/novif.err" || fail "network-detach message: $(cat "$KEEL_TMP/novif.err")"
xl block-attach nosuch "$img2,raw,xvdc" 2>"$KEEL_TMP/nodom.err" && fail "block-attach to an unknown domain succeeded"
grep -q "nosuch is an invalid domain identifier" "$KEEL_TMP/nodom.err" || fail "unknown domain: $(cat "$KEEL_TMP/nodom.err")"

# --- destroy: every device directory and the TAP go ---------------------------------------
xl destroy devs || fail "destroy"
gone /local/domain/0/backend/vbd/$id
gone /local/domain/0/backend/vif/$id
gone /local/domain/$id
gone /libxl/$id
wait_for "! ip -n $NS link show dev vif$id.0 >/dev/null 2>&1" 5 || fail "TAP vif$id.0 outlived the domain"
pgrep -F "$run/blkback.pid" >/dev/null || fail "keel-blkback died"
pgrep -F "$run/netback.pid" >/dev/null || fail "keel-netback died"

# --- no backends running: create says so and does not wait; destroy does not hang -----
for b in blkback netback; do
	pid=$(cat "$run/$b.pid")
	kill "$pid"
	wait_for "! kill -0 $pid 2>/dev/null" 5 || fail "keel-$b did not stop"
done
xl create -e "$KEEL_TMP/dev.cfg" 2>"$KEEL_TMP/nobe.err" || fail "create without backends: $(cat "$KEEL_TMP/nobe.err")"
grep -q "no keel-blkback running under $run: vbd 51712 waits for one" "$KEEL_TMP/nobe.err" ||
	fail "no note about the missing blkback: $(cat "$KEEL_TMP/nobe.err")"
grep -q "no keel-netback running" "$KEEL_TMP/nobe.err" || fail "no note about the missing netback"
id=$(xl domid devs) || fail "domid"
have /local/domain/0/backend/vbd/$id/51712/state 1
timeout 20 "$KEEL_BIN/xl" destroy devs || fail "destroy without backends failed or hung"
gone /local/domain/0/backend/vbd/$id
gone /local/domain/0/backend/vif/$id
gone /local/domain/$id

ip netns exec "$NS" "$KEEL_BIN/keel-dom0-down" --rundir "$run" >"$KEEL_TMP/down.out" 2>&1
grep -q "bridge $BR deleted" "$KEEL_TMP/down.out" || fail "bridge not deleted: $(cat "$KEEL_TMP/down.out")"
[ -e "$run/blkback.pid" ] && fail "blkback pid file left behind"
echo "xl-devices: ok"
