#!/usr/bin/env bash
# pv-events-interdomain: an event channel between two guest domains under
# keeld daemon.  The server guest allocates ports for the client's domid
# and prints them; this script (the toolstack) passes them on the client's
# command line.  The client checks Xen's refusals, binds, ping-pongs 200
# times with the server, closes one end and shuts down still holding the
# other; after `destroy` of the client the server must see that end
# unbound again.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

srv=$(ctl create evtsrv 64) || fail "create server"
cli=$(ctl create evtcli 64) || fail "create client"
ctl load "$srv" "$KEEL_GUESTS/evt-pingpong" "peer=$cli" || fail "load server"
ctl unpause "$srv" || fail "unpause server"
wait_for "ctl console $srv | grep -q '^evt-ports'" 30 || { ctl console "$srv"; fail "no ports"; }
ports=$(ctl console "$srv" | sed -n 's/^evt-ports //p')
echo "server $srv: $ports"
ctl load "$cli" "$KEEL_GUESTS/evt-pingpong" "peer=$srv $ports" || fail "load client"
ctl unpause "$cli" || fail "unpause client"
wait_for "ctl info $cli | grep -Eq ' (shutdown|crashed) '" 60 || { ctl console "$cli"; ctl console "$srv"; ctl dmesg | tail; fail "client did not finish"; }
echo "== client"; ctl console "$cli"
ctl console "$cli" | grep -q '^Test result: SUCCESS' || fail "client failed"
ctl destroy "$cli" || fail "destroy client"
wait_for "ctl info $srv | grep -Eq ' (shutdown|crashed) '" 60 || fail "server did not finish"
echo "== server"; ctl console "$srv"
ctl console "$srv" | grep -q '^Test result: SUCCESS' || fail "server failed"
ctl destroy "$srv" || fail "destroy server"
exit 0
