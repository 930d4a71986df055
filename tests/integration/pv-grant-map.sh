#!/usr/bin/env bash
# pv-grant-map: GNTTABOP_map_grant_ref / unmap_grant_ref between two guest
# domains under keeld daemon (the foreign window, hypervisor/gnttab_map.c).
# The granter grants pages to the mapper's domid and prints the references;
# this script (the toolstack) passes them on the mapper's command line.  The
# mapper maps, reads and writes, checks Xen's refusals and the maptrack
# limit; the granter sees the writes and its revoke refused while mapped.
# When the granter has finished, the script destroys it while the mapper
# still maps one of its pages: the mapper must still read and write that
# page and unmap it cleanly.  Both print SUCCESS.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

g=$(ctl create granter 64) || fail "create granter"
m=$(ctl create mapper 64) || fail "create mapper"
ctl load "$g" "$KEEL_GUESTS/gnt-map" "peer=$m" || fail "load granter"
ctl unpause "$g" || fail "unpause granter"
wait_for "ctl console $g | grep -q '^gnt-refs'" 30 || { ctl console "$g"; fail "no refs"; }
refs=$(ctl console "$g" | sed -n 's/^gnt-refs //p')
ctl load "$m" "$KEEL_GUESTS/gnt-map" "peer=$g $refs" || fail "load mapper"
ctl unpause "$m" || fail "unpause mapper"
wait_for "ctl info $g | grep -Eq ' (shutdown|crashed) '" 60 ||
	{ ctl console "$g"; ctl console "$m"; fail "granter did not finish"; }
echo "== granter"; ctl console "$g"
ctl console "$g" | grep -q '^Test result: SUCCESS' || { ctl console "$m"; fail "granter failed"; }
# The mapper still holds the granter's death page: destroy the granter now.
ctl destroy "$g" || fail "destroy granter"
wait_for "ctl info $m | grep -Eq ' (shutdown|crashed) '" 60 ||
	{ ctl console "$m"; fail "mapper did not finish"; }
echo "== mapper"; ctl console "$m"
ctl console "$m" | grep -q '^Test result: SUCCESS' || fail "mapper failed"
ctl destroy "$m"
exit 0
