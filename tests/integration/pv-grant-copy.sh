#!/usr/bin/env bash
# pv-grant-copy: GNTTABOP_copy between two guest domains under keeld
# daemon, run twice: the granter on grant tables version 1, then version 2
# (with a sub-page grant: only its bytes may be copied).  The granter
# grants pages to the copier's domid and prints the references; this
# script (the toolstack) passes them on the copier's command line.  Both guests check their side (copies, Xen's refusals,
# in-use bits released, a revoked grant refused) and print SUCCESS.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

run_pair() { # VERSION
	local g c refs
	g=$(ctl create "granter$1" 64) || fail "create granter"
	c=$(ctl create "copier$1" 64) || fail "create copier"
	ctl load "$g" "$KEEL_GUESTS/gnt-copy" "peer=$c$([ "$1" = 2 ] && echo ' v2=1')" ||
		fail "load granter"
	ctl unpause "$g" || fail "unpause granter"
	wait_for "ctl console $g | grep -q '^gnt-refs'" 30 || { ctl console "$g"; fail "no refs"; }
	refs=$(ctl console "$g" | sed -n 's/^gnt-refs //p')
	ctl load "$c" "$KEEL_GUESTS/gnt-copy" "peer=$g $refs" || fail "load copier"
	ctl unpause "$c" || fail "unpause copier"
	wait_for "ctl info $c | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$c"; ctl console "$g"; fail "copier did not finish (v$1)"; }
	wait_for "ctl info $g | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$g"; fail "granter did not finish (v$1)"; }
	echo "== copier, granter on grant tables v$1"; ctl console "$c"
	echo "== granter"; ctl console "$g"
	ctl console "$c" | grep -q '^Test result: SUCCESS' || fail "copier failed (v$1)"
	ctl console "$g" | grep -q '^Test result: SUCCESS' || fail "granter failed (v$1)"
	ctl destroy "$c"; ctl destroy "$g"
}
run_pair 1
run_pair 2
exit 0
