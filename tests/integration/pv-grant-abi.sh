#!/usr/bin/env bash
# pv-grant-abi: corners of Xen 4.17's grant-table ABI (gnt-abi guest under
# keeld run, granting pages to itself and mapping them): a misaligned PTE
# address with GNTMAP_contains_pte refused with nothing overwritten; unmap
# by the device address a map returned (GNTST_bad_dev_addr for a wrong one,
# not checked for a host-only map); GNTTABOP_unmap_and_replace and its
# refusals; set_version(1) refused (-EBUSY) while a version-2 status frame
# is mapped.  keeld run makes one domain, d1: the guest is told its domid
# (and checks it with a map of its own grant).
. "$(dirname "$0")/../lib/common.sh"
need_kvm
out=$KEEL_TMP/grant-abi.out
timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/gnt-abi" --memory 64 \
	--cmdline "self=1" >"$out" 2>&1
st=$?
cat "$out"
[ $st = 0 ] && grep -q '^Test result: SUCCESS' "$out" || fail "gnt-abi failed (exit $st)"
grep -q 'set_version(1) refused: a status frame is still mapped' "$out" ||
	fail "keeld did not log the refused set_version"
exit 0
