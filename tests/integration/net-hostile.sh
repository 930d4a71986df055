#!/usr/bin/env bash
# net-hostile: a misbehaving netfront (the net-hostile guest, see its header)
# against keel-netback over a real bridge.  Requests with bad or foreign
# grants, too many slots, short or inconsistent frames and bogus rx grants
# get error statuses with the vif still Connected (each frame a bad grant
# lost counted and said in keel-netback's log, with the grant's status); runaway tx/rx producers,
# packets over 20 slots, fragments crossing a page, unknown extra-info and a
# 64 KiB claim in one page make the backend disconnect that vif (Closing),
# after which the guest reconnects; a ring reference never granted and an
# event channel offered to another domain are refused at the handshake.
# keel-netback must stay alive, say why
# it disconnected, let the vif of a guest destroyed mid-stream go, and then
# serve another guest (net-ping) normally.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/net-lib.sh"
for g in net-hostile net-ping; do
	[ -f "$KEEL_GUESTS/$g" ] || fail "missing $KEEL_GUESTS/$g"
done
net_up keelbr0 10.99.72.1/24
nb=$NB_PID

h=$(net_guest hostile "$KEEL_GUESTS/net-hostile" 00:16:3e:63:48:02 ip=10.99.72.2 host=10.99.72.1)
net_result hostile 60
kill -0 "$nb" 2>/dev/null || fail "keel-netback died"
log=$NB_LOG
for why in "runaway tx producer" "runaway rx producer" "malformed tx packet" "tx fragment crosses a page"; do
	grep -q "vif $h: $why; disconnecting" "$log" || fail "netback did not report '$why'"
done
[ "$(grep -c "backend/vif/$h/0: connecting to the frontend failed" "$log")" = 2 ] ||
	fail "netback did not refuse the two bad handshakes"
echo "netback: $(grep -c "vif $h: .*disconnecting" "$log") disconnects of the hostile vif, 2 handshakes refused"
# Frames lost to bad grants are counted per vif and said, with Xen's status
for dir in "tx frame dropped: grant copy from" "rx frame dropped: grant copy to"; do
	grep -E "vif$h\.0: $dir gref [0-9]+ of domain $h failed: GNTST -[0-9]+ \([a-z ]+\); .*\([1-9][0-9]* bad grants\)" "$log" >/dev/null ||
		fail "netback did not count and report a '$dir' failure: $(grep "vif$h\.0" "$log" | tail -n 3)"
done
grep "vif$h\.0: .x frame dropped" "$log" | head -n 2 | sed 's/^/netback: /'

# A guest destroyed in the middle of a stream: the backend lets its vif go.
[ -f "$KEEL_GUESTS/net-blast" ] || fail "missing $KEEL_GUESTS/net-blast"
k=$(net_guest killed "$KEEL_GUESTS/net-blast" 00:16:3e:63:48:04 count=1000000 size=1514)
wait_for "nsx ip link show vif$k.0 >/dev/null 2>&1" 10 || fail "no vif$k.0"
sleep 1
xl destroy killed >/dev/null 2>&1 || fail "destroy mid-stream"
wait_for "! nsx ip link show vif$k.0 >/dev/null 2>&1" 10 || fail "vif$k.0 outlived its domain"
kill -0 "$nb" 2>/dev/null || fail "keel-netback died with a guest destroyed mid-stream"
echo "ok: domain $k destroyed mid-stream, its vif removed"

# The backend still serves a well-behaved guest.
p=$(net_guest ping "$KEEL_GUESTS/net-ping" 00:16:3e:63:48:03 ip=10.99.72.3 host=10.99.72.1 count=3)
net_result ping
kill -0 "$nb" 2>/dev/null || fail "keel-netback died after serving the second guest"
echo "ok: keel-netback (pid $nb) survived the hostile vif of domain $h and served domain $p"
exit 0
