#!/usr/bin/env bash
# Xen's own test suite for a store daemon (test-xenstore from Debian's
# xen-utils-4.17, unmodified) must pass every one of its tests, plain and
# repeated, and leave nothing behind.
. "$(dirname "$0")/xenstore-lib.sh"
xs_fetch_clients
d=$(fetch_deb xen-utils-4.17) || skip "cannot download Debian package xen-utils-4.17"
tx=$d/usr/lib/xen-4.17/bin/test-xenstore
[ -x "$tx" ] || fail "no test-xenstore in xen-utils-4.17"
xs_start

run_tx() {
	LD_LIBRARY_PATH=$XS_LIBS XENSTORED_PATH=$XS_SOCK "$tx" "$@"
}
ntests=$(run_tx --list-tests | wc -l)
[ "$ntests" -ge 12 ] || fail "test-xenstore lists only $ntests tests"
run_tx | tee "$KEEL_TMP/tx.out" || fail "test-xenstore failed"
[ "$(grep -c ' ns' "$KEEL_TMP/tx.out")" = "$ntests" ] || fail "not every test reported a time"
! grep -q failed "$KEEL_TMP/tx.out" || fail "a test failed"
run_tx -i 20 >"$KEEL_TMP/tx20.out" || { cat "$KEEL_TMP/tx20.out"; fail "test-xenstore -i 20 failed"; }
cat "$KEEL_TMP/tx20.out"
# Random mix for a few seconds.
run_tx -r 3 >/dev/null || fail "test-xenstore -r 3 failed"
# Its cleanup removes its test directory.
! xs exists /local/domain/0/xenstore-test || fail "test-xenstore left its nodes"
xs_alive || fail "daemon died"
echo "test-xenstore: all $ntests tests passed"
