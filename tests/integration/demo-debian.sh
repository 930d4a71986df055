#!/usr/bin/env bash
# demo-debian: the Debian part of make demo (scripts/demo-debian) does what
# the README says: Debian's kernel boots to a shell on its console, xl list
# shows it, a command typed through xl console runs there (uname, the CPU
# count, free), and xl shutdown -w ends it through the guest's poweroff.
# keel-test: plain-only the SAN pass would boot the same kernel once more; the linux-* tests run keeld's code under SAN
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
out=$KEEL_TMP/demo.out
KEEL_BUILD=$KEEL_BUILD timeout 600 "$KEEL_TOP/scripts/demo-debian" >"$out" 2>&1
st=$?
cat "$out"
[ $st = 0 ] || fail "scripts/demo-debian exits $st"
grep -q 'a shell follows on hvc0' "$out" || fail "no shell on the guest's console"
grep -q '^debian  *[0-9]' "$out" || fail "xl list did not show the guest"
grep -q '^Linux keel-demo 6\.1\.' "$out" || fail "the typed uname did not run in the guest"
grep -qE 'Domain [0-9]* has been (destroyed|shut down)' "$out" || fail "xl shutdown -w did not see it end"
[ "$(tail -n 2 "$out" | grep -c '^Domain-0')" = 1 ] && ! tail -n 1 "$out" | grep -q '^debian' ||
	fail "the guest is still listed"
echo "PASS"
