#!/usr/bin/env bash
# net-guest: netfront in real guests against keel-netback over a real Linux
# bridge (inside a private network namespace, see net-lib.sh).
# 1. net-ping: the guest resolves the bridge's address with ARP and sends
#    ICMP echo requests; the host's own Linux IP stack answers; the guest
#    checks addresses, checksums and payloads (a small and a 1400-byte one);
#    with checksum offload on, UDP probes show NETTXF_csum_blank completed
#    on the way (see net-ping.c); then it closes its vif cleanly (the
#    backend reaches Closed).
# 2. net-pair: two guests on the bridge exchange numbered raw Ethernet
#    frames (A sends to B's MAC, B echoes to A's, A checks every one).
# 3. net-pair again on vifs with mtu=9000: frames up to 9014 bytes, three
#    slots each way (netif scatter-gather in tx and rx).
# 4. a guest booted without a vif: `xl network-attach` gives it one, it
#    connects and pings, `xl network-list` shows it Connected with its
#    channel and rings, `xl network-detach` closes it with the frontend's
#    cooperation and removes the nodes and the TAP.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/net-lib.sh"
for g in net-ping net-pair; do
	[ -f "$KEEL_GUESTS/$g" ] || fail "missing $KEEL_GUESTS/$g"
done
net_up keelbr0 10.99.71.1/24

# --- 1. ping the host's IP stack ---------------------------------------------------
d=$(net_guest ping "$KEEL_GUESTS/net-ping" 00:16:3e:63:47:02 ip=10.99.71.2 host=10.99.71.1 count=5 csum=1)
wait_for "nsx ip link show vif$d.0 >/dev/null 2>&1" 10 || fail "no TAP vif$d.0 in the namespace"
nsx ip -o link show master keelbr0 | grep -q "vif$d.0" || fail "vif$d.0 is not a port of keelbr0"
net_result ping
grep -q 'net-ping: 5 replies' "$KEEL_TMP/ping.con" || fail "not five replies"
# The host kernel learnt the guest from its ARP traffic.
nsx ip neigh show 10.99.71.2 | grep -qi 00:16:3e:63:47:02 || fail "host has no neighbour entry for the guest"
be=/local/domain/0/backend/vif/$d/0
[ "$(st read $be/state)" = 6 ] || fail "backend state $(st read $be/state) after the guest closed"
echo "ok: net-ping"

# --- 2. two guests exchange frames -----------------------------------------------------
b=$(net_guest pairb "$KEEL_GUESTS/net-pair" 00:16:3e:63:47:0b role=echo peer=00:16:3e:63:47:0a count=200)
a=$(net_guest paira "$KEEL_GUESTS/net-pair" 00:16:3e:63:47:0a role=send peer=00:16:3e:63:47:0b count=200)
net_result paira 60
net_result pairb 30
grep -q 'net-pair: 200 frames echoed in order' "$KEEL_TMP/paira.con" || fail "pair: not all frames"
echo "ok: net-pair (domains $a and $b)"

# --- 3. the same with 9000-byte MTU vifs: frames of up to three pages -------------------
VIF_EXTRA=mtu=9000
b=$(net_guest jumbob "$KEEL_GUESTS/net-pair" 00:16:3e:63:47:1b role=echo peer=00:16:3e:63:47:1a count=100 max=9014)
a=$(net_guest jumboa "$KEEL_GUESTS/net-pair" 00:16:3e:63:47:1a role=send peer=00:16:3e:63:47:1b count=100 max=9014)
VIF_EXTRA=
[ "$(nsx cat /sys/class/net/vif$a.0/mtu)" = 9000 ] || fail "vif$a.0 MTU is not 9000"
net_result jumboa 60
net_result jumbob 30
grep -q 'net-pair: 100 frames echoed in order' "$KEEL_TMP/jumboa.con" || fail "jumbo pair: not all frames"
echo "ok: net-pair with 9014-byte frames (scatter-gather both ways)"

# --- 4. xl network-attach / -list / -detach with a live netfront -----------------------
NO_VIF=1
h=$(net_guest hot "$KEEL_GUESTS/net-ping" - ip=10.99.71.30 host=10.99.71.1 count=3 attach=1 detach=1)
NO_VIF=
con() { net_con hot; }
wait_for "con | grep -q 'waiting for a vif'" 20 || fail "hot: $(con | tail -3)"
xl network-attach hot bridge=keelbr0 mac=00:16:3e:63:47:30 >"$KEEL_TMP/attach.out" 2>&1 ||
	fail "network-attach: $(cat "$KEEL_TMP/attach.out")"
wait_for "con | grep -q 'waiting for detach'" 30 || fail "hot did not get to ping: $(con | tail -5)"
xl network-list hot >"$KEEL_TMP/nl" || fail "network-list"
cat "$KEEL_TMP/nl"
grep -qE "^0 +0 +00:16:3e:63:47:30 +0 +4 +[0-9]+ +[0-9]+/[0-9]+ " "$KEEL_TMP/nl" ||
	fail "network-list does not show the connected vif (state 4, channel, ring refs)"
xl network-detach hot 0 >"$KEEL_TMP/detach.out" 2>&1 || fail "network-detach: $(cat "$KEEL_TMP/detach.out")"
net_result hot
st read /local/domain/0/backend/vif/$h/0/state >/dev/null 2>&1 && fail "backend node left after detach"
wait_for "! nsx ip link show vif$h.0 >/dev/null 2>&1" 5 || fail "vif$h.0 left after detach"
echo "ok: network-attach to a running guest, ping, network-detach with the frontend closing"
exit 0
