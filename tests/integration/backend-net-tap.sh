#!/usr/bin/env bash
# netback with a real TAP device on a real Linux bridge, inside a private
# network namespace: a frontend over the LOOPBACK TEST TRANSPORT (a thread
# of keel-backend-loopback, not a guest) resolves the host's address on the
# bridge with ARP and sends ICMP echo requests; the host kernel's replies
# come back through netback's rx path.  Only addresses inside the namespace
# are used; the namespace (and with it the bridge and TAP) is removed on exit.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "needs ip (iproute2)"
LB=$KEEL_BIN/keel-backend-loopback
[ -x "$LB" ] || fail "$LB not built"

NS=keelbk$$
cleanup() { ip netns del "$NS" 2>/dev/null; return 0; }
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
echo "PASS: ICMP echo through netback, TAP vif9.0 and bridge keelbr0"
