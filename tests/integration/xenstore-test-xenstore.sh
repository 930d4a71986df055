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

# xenstore-control (same package) speaks CONTROL; it also needs libxenctrl & co.
ctl_libs=$XS_LIBS
for p in libxenmisc4.17 libxentoollog1 libxencall1 libxenevtchn1 libxengnttab1 \
	libxenforeignmemory1 libxendevicemodel1; do
	pd=$(fetch_deb "$p") || { echo "NOTE: $p unavailable: xenstore-control not run"; exit 0; }
	ctl_libs="$ctl_libs:$pd/usr/lib/x86_64-linux-gnu"
done
ctl() { LD_LIBRARY_PATH=$ctl_libs XENSTORED_PATH=$XS_SOCK "$d/usr/lib/xen-4.17/bin/xenstore-control" "$@"; }
expect_eq "xenstore-control check" "$(ctl check)" OK
ctl help | grep -q '^quota' || fail "xenstore-control help"
ctl quota | grep -q '^nodes *1000$' || fail "xenstore-control quota"
expect_eq "xenstore-control print" "$(ctl print hello-from-xenstore-control)" OK
grep -q "hello-from-xenstore-control" "$KEEL_TMP/xsd.log" || fail "print did not reach the log"
ctl memreport | grep -q '^nodes ' || fail "xenstore-control memreport"
! ctl no-such-command >/dev/null 2>&1 || fail "unknown control command accepted"
xs_alive || fail "daemon died"
