#!/usr/bin/env bash
# pv-grant-dom0copy: keeld's batched grant copy for dom0 processes
# (hypervisor/gnttab/gnttab_dom0.c, keelctl_grant_copy, libkeelgnttab's copy),
# with a real guest, on grant tables version 1 and then version 2.  The
# gnt-dom0copy guest grants dom0 pages with known contents and prints
# their references; keel-gcopy-check copies 64 pages in one call and
# checks every byte, reads the read-only page (and in version 2 a sub-page
# grant), checks keeld's refusals (write into a read-only grant, another
# domain's grant, an entry never granted, a reference past the table, no
# such domain, offset + length past the page or the sub-page, an unsealed
# buffer, an unknown buffer id), maps three grants in one MAP_GRANTS
# batch (contents checked; a writable batch holding a read-only grant is
# refused whole) and last writes into the writable page.
# The guest checks the write, that the read-only page is unchanged and
# that every grant can be revoked (no busy bit left by a copy).
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

run_version() { # VERSION
	local d
	d=$(ctl create "gcopy$1" 64) || fail "create (v$1)"
	ctl load "$d" "$KEEL_GUESTS/gnt-dom0copy" "$([ "$1" = 2 ] && echo v2=1)" ||
		fail "load (v$1)"
	ctl unpause "$d" || fail "unpause (v$1)"
	wait_for "ctl console $d | grep -q '^gnt-refs'" 30 || { ctl console "$d"; fail "no refs (v$1)"; }
	ctl console "$d" | grep '^gnt-refs'
	"$KEEL_BIN/keel-gcopy-check" "$d" "$1" >"$KEEL_TMP/check$1.out" 2>&1
	rc=$?
	echo "== keel-gcopy-check, grant tables v$1"
	cat "$KEEL_TMP/check$1.out"
	[ $rc = 0 ] || { ctl console "$d"; fail "keel-gcopy-check failed (v$1)"; }
	grep -q '^keel-gcopy-check: SUCCESS' "$KEEL_TMP/check$1.out" || fail "no SUCCESS (v$1)"
	wait_for "ctl info $d | grep -Eq ' (shutdown|crashed) '" 60 ||
		{ ctl console "$d"; fail "guest did not finish (v$1)"; }
	echo "== guest, grant tables v$1"
	ctl console "$d"
	ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "gnt-dom0copy failed (v$1)"
	ctl destroy "$d"
}

run_version 1
run_version 2
# keeld lived through it all and still answers.
ctl list >/dev/null || fail "keeld stopped answering"
exit 0
