#!/usr/bin/env bash
# netback with a real TAP device on a real Linux bridge, inside a private
# network namespace: a frontend over the LOOPBACK TEST TRANSPORT (a thread
# of keel-backend-loopback, not a guest) resolves the host's address on the
# bridge with ARP and sends ICMP echo requests; the host kernel's replies
# come back through netback's rx path.  First with the vif connected
# directly, then through the "vif" xenbus driver on a real keel-xenstored
# (the backend creates the TAP and enslaves it to the bridge its node
# names, with rate= and mac= from the node).  Only addresses inside the
# namespace are used; the namespace (and with it the bridge and TAP) and the
# store are removed on exit.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "needs ip (iproute2)"
LB=$KEEL_BIN/keel-backend-loopback
[ -x "$LB" ] || fail "$LB not built"

NS=keelbk$$
XS_PID=
cleanup() {
	[ -n "$XS_PID" ] && kill "$XS_PID" 2>/dev/null && wait "$XS_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	return 0
}
trap cleanup EXIT
ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
ip -n "$NS" link add keelbr0 type bridge || fail "cannot create a bridge"
ip -n "$NS" addr add 10.77.0.1/24 dev keelbr0
ip -n "$NS" link set keelbr0 up

out=$(timeout 60 ip netns exec "$NS" "$LB" net-ping --bridge keelbr0 \
	--host-ip 10.77.0.1 --guest-ip 10.77.0.2 --mac 00:16:3e:4b:00:02 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || fail "net-ping exited $rc"
echo "$out" | grep -q "echo reply seq=3 from the host kernel" || fail "no echo replies"
# The TAP was a port of the bridge while it lived; rx carried the replies.
echo "$out" | grep -q "vif9.0 is a port of keelbr0" || fail "vif9.0 was not on the bridge"
echo "$out" | grep -Eq "rx [1-9][0-9]* frames" || fail "nothing received through rx"
# Gone with its file descriptor: nothing left behind on the bridge.
ip -n "$NS" link show vif9.0 >/dev/null 2>&1 && fail "vif9.0 left behind"
echo "ok: direct vif"

# The same through xenbus: the toolstack's nodes, netback's handshake.
KS=$KEEL_BIN/keelstore
SOCK=$KEEL_TMP/xs.sock
"$KEEL_BIN/keel-xenstored" --socket "$SOCK" --no-journal 2>"$KEEL_TMP/xsd.log" &
XS_PID=$!
wait_for "$KS -s $SOCK ls / >/dev/null 2>&1" 10 || fail "keel-xenstored did not start"
BE=/local/domain/0/backend/vif/11/0
FE=/local/domain/11/device/vif/0
"$KS" -s "$SOCK" txwrite $FE/state 1 $FE/backend $BE $FE/backend-id 0 \
	$FE/mac 00:16:3e:4b:00:0b $BE/frontend $FE $BE/frontend-id 11 $BE/online 1 \
	$BE/state 1 $BE/mac 00:16:3e:4b:00:0b $BE/bridge keelbr0 $BE/handle 0 \
	$BE/rate 12500000,50000 || fail "cannot write the vif"
out=$(timeout 60 ip netns exec "$NS" "$KEEL_BIN/keel-backend-loopback" xenbus-vif \
	--store "$SOCK" --domid 11 --devid 0 --host-ip 10.77.0.1 --guest-ip 10.77.0.11 \
	--mac 00:16:3e:4b:00:0b 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || fail "xenbus-vif exited $rc"
echo "$out" | grep -q "vif11.0 is a port of keelbr0" || fail "vif11.0 was not put on keelbr0"
states=$(echo "$out" | sed -n 's/^xenbus-vif: backend state [0-9]* (\(.*\))$/\1/p' | tr '\n' ' ')
[ "$states" = "Initialising InitWait Connected Closing Closed " ] || fail "backend states: $states"
for k in feature-sg feature-rx-copy feature-split-event-channels feature-gso-tcpv4; do
	[ "$("$KS" -s "$SOCK" read $BE/$k)" = 1 ] || fail "$k not published"
done
[ "$("$KS" -s "$SOCK" read $BE/hotplug-status)" = connected ] || fail "hotplug-status"
echo "PASS: ICMP echo through netback, TAP and bridge keelbr0, direct and through xenbus"
