#!/usr/bin/env bash
# pv-grant-map: GNTTABOP_map_grant_ref / unmap_grant_ref between two guest
# domains under keeld daemon (the foreign window, hypervisor/gnttab/gnttab_map.c),
# run twice: the granter on grant tables version 1, then version 2
# (set_version, get_status_frames, busy bits in the status frame, a
# sub-page grant the mapper may not map, set_version refused while a
# grant is mapped).  The granter grants pages to the mapper's domid and
# prints the references; this script (the toolstack) passes them on the
# mapper's command line.  The mapper maps, reads and writes, checks Xen's
# refusals and the maptrack limit; the granter sees the writes and its
# revoke refused while mapped.  When the granter has finished, the script
# destroys it while the mapper still maps one of its pages: the mapper
# must still read and write that page and unmap it cleanly.  Both print
# SUCCESS.  Last, a mapper destroyed while it holds maps: the granter must
# see its busy bits and the writable type reference released.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

run_pair() { # VERSION
	local g m refs
	g=$(ctl create "granter$1" 64) || fail "create granter"
	m=$(ctl create "mapper$1" 64) || fail "create mapper"
	ctl load "$g" "$KEEL_GUESTS/gnt-map" "peer=$m$([ "$1" = 2 ] && echo ' v2=1')" ||
		fail "load granter"
	ctl unpause "$g" || fail "unpause granter"
	wait_for "ctl console $g | grep -q '^gnt-refs'" 30 || { ctl console "$g"; fail "no refs"; }
	refs=$(ctl console "$g" | sed -n 's/^gnt-refs //p')
	ctl load "$m" "$KEEL_GUESTS/gnt-map" "peer=$g $refs" || fail "load mapper"
	ctl unpause "$m" || fail "unpause mapper"
	wait_for "ctl info $g | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$g"; ctl console "$m"; fail "granter did not finish (v$1)"; }
	echo "== granter, grant tables v$1"; ctl console "$g"
	ctl console "$g" | grep -q '^Test result: SUCCESS' ||
		{ ctl console "$m"; fail "granter failed (v$1)"; }
	# The mapper still holds the granter's death page: destroy the granter now.
	ctl destroy "$g" || fail "destroy granter"
	wait_for "ctl info $m | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$m"; fail "mapper did not finish (v$1)"; }
	echo "== mapper, granter on v$1"; ctl console "$m"
	ctl console "$m" | grep -q '^Test result: SUCCESS' || fail "mapper failed (v$1)"
	ctl destroy "$m"
}
# The mapper dies holding a writable and a read-only map: destroying it
# must release the granter's busy bits and the writable type reference.
run_leak() {
	local g m refs
	g=$(ctl create leakgranter 64) || fail "create granter"
	m=$(ctl create leakmapper 64) || fail "create mapper"
	ctl load "$g" "$KEEL_GUESTS/gnt-map" "peer=$m leak=1" || fail "load granter"
	ctl unpause "$g" || fail "unpause granter"
	wait_for "ctl console $g | grep -q '^gnt-refs'" 30 || { ctl console "$g"; fail "no refs"; }
	refs=$(ctl console "$g" | sed -n 's/^gnt-refs //p')
	ctl load "$m" "$KEEL_GUESTS/gnt-map" "peer=$g $refs" || fail "load mapper"
	ctl unpause "$m" || fail "unpause mapper"
	wait_for "ctl info $m | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$m"; fail "leaking mapper did not finish"; }
	echo "== mapper that leaves its maps"; ctl console "$m"
	ctl console "$m" | grep -q '^Test result: SUCCESS' || fail "leaking mapper failed"
	wait_for "ctl console $g | grep -q '^gnt-leak-seen'" 60 ||
		{ ctl console "$g"; fail "granter did not see its grants mapped"; }
	ctl destroy "$m" || fail "destroy mapper"
	wait_for "ctl info $g | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$g"; fail "granter did not see its grants released"; }
	echo "== granter of a destroyed mapper"; ctl console "$g"
	ctl console "$g" | grep -q '^Test result: SUCCESS' || fail "granter (leak) failed"
	ctl destroy "$g"
}
run_pair 1
run_pair 2
run_leak
exit 0
