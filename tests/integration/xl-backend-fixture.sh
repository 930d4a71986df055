#!/bin/bash
# xl's commands through the toolstack-backend seam, using build/bin/
# xl-fixture: the real xl command code linked with a test-double backend that
# keeps domains in a text file.  Checks xl's output formats (list columns and
# state letters, list -v UUIDs and reason codes, info FIELD, sched-credit),
# name/id lookup, and that create hands the parsed domain to the backend.
. "$(dirname "$0")/../lib/common.sh"

XL=$KEEL_BIN/xl-fixture
[ -x "$XL" ] || fail "$XL not built"
cd "$KEEL_TMP" || fail "no temp dir"
export XL_FIXTURE=$KEEL_TMP/domains
cat > "$XL_FIXTURE" <<'FX'
info host keel-test
info xen_version 4.17-keel
log first line
log second line
dom 0 Domain-0 1048576 1048576 2 2 r 123456789000 00000000-0000-0000-0000-000000000000 256 0 0
dom 3 web 524288 1048576 2 4 b 1500000000 11111111-2222-3333-4444-555555555555 512 50 0
dom 5 gone 131072 131072 1 1 s3d 2000000 22222222-3333-4444-5555-666666666666 256 0 0
FX

expect() { # expect FILE <<< "exact content"
	diff -u - "$1" || fail "unexpected output in $1"
}
T=$(printf '\t')

"$XL" list > out || fail "xl list failed"
expect out <<EOF2
Name                                        ID   Mem VCPUs${T}State${T}Time(s)
Domain-0                                     0  1024     2     r-----     123.5
web                                          3   512     2     -b----       1.5
gone                                         5   128     1     ---scd       0.0
EOF2
"$XL" list -v web > out || fail "xl list -v web failed"
expect out <<EOF2
Name                                        ID   Mem VCPUs${T}State${T}Time(s)   UUID                            Reason-Code${T}Security Label
web                                          3   512     2     -b----       1.5 11111111-2222-3333-4444-555555555555        -                -
EOF2
"$XL" list -v gone | grep -q '22222222-3333-4444-5555-666666666666        3 ' || fail "list -v reason code"
[ "$("$XL" domid web)" = 3 ] || fail "domid web"
[ "$("$XL" domname 5)" = gone ] || fail "domname 5"
"$XL" domid nosuch 2> err && fail "domid of a missing domain succeeded"
grep -q "Can't get domid of domain name 'nosuch', maybe this domain does not exist." err || fail "missing-domain message: $(cat err)"
[ "$("$XL" info xen_version)" = 4.17-keel ] || fail "info FIELD"
"$XL" info | grep -q '^host                   : keel-test$' || fail "info layout"
# as xl: a field that matches nothing prints nothing and exits 0; a prefix prints each match
[ -z "$("$XL" info nosuch)" ] || fail "info of an unknown field printed something"
[ "$("$XL" info xen_v)" = 4.17-keel ] || fail "info by prefix"
[ "$("$XL" dmesg | wc -l)" = 2 ] || fail "dmesg"

"$XL" sched-credit -d web -w 1000 -c 20 || fail "sched-credit set"
"$XL" sched-credit -d web > out || fail "sched-credit get"
grep -qE '^web +3 +1000 +20$' out || fail "sched-credit output: $(cat out)"

"$XL" pause 3 && "$XL" list web | grep -q -- '-bp---' || fail "pause"
"$XL" unpause web && "$XL" list web | grep -q -- '-b----' || fail "unpause"
"$XL" rename web www || fail "rename"
"$XL" domid www > /dev/null || fail "renamed domain not found"

cat > vm.cfg <<'CFG'
name = "newvm"
memory = 96
vcpus = 2
maxvcpus = 3
cpu_weight = 300
CFG
"$XL" create -q vm.cfg 'cap=25' || fail "create through the backend"
"$XL" list newvm | grep -qE '^newvm +6 +96 +2 ' || fail "created domain: $("$XL" list newvm)"
"$XL" sched-credit -d newvm | grep -qE '^newvm +6 +300 +25$' || fail "create did not pass weight/cap"
# list -l: xl's [{"domid": N, "config": {...}}]; only domains with a stored config
"$XL" list -l > l.json || fail "list -l"
[ "$(grep -c '"domid"' l.json)" = 1 ] || fail "list -l: expected one domain: $(cat l.json)"
for want in '"domid": 6,' '"name": "newvm",' '"max_vcpus": 3,' '"target_memkb": 98304,' \
	'"weight": 300,' '"cap": 25'; do
	grep -qF -- "$want" l.json || fail "list -l: no $want in $(cat l.json)"
done
head -1 l.json | grep -qx '\[' || fail "list -l: not a JSON array"
"$XL" create -q vm.cfg 2> err && fail "creating a duplicate name succeeded"
grep -q "xl: creating the domain: File exists" err || fail "duplicate message: $(cat err)"

# console: xl relays stdin/stdout to the backend's console stream; Ctrl-] detaches
printf 'hello\npoweroff\n' | timeout 10 "$XL" console www > con.out ||
	fail "console relay failed"
grep -q '^\[www console ready\]' con.out || fail "console output: $(cat con.out)"
grep -q '^www got: hello' con.out || fail "console input not delivered: $(cat con.out)"
{ printf 'one\n'; sleep 0.5; printf 'two\035three\n'; sleep 2; } |
	timeout 4 "$XL" console -e '^]' www > con2.out
rc=$?
[ $rc = 0 ] || fail "Ctrl-] did not detach (exit $rc)"
grep -q 'www got: one' con2.out || fail "console before detach: $(cat con2.out)"
grep -q three con2.out && fail "input after the escape character reached the console"
printf 'hi\npoweroff\n' | timeout 10 "$XL" create -q -c vm.cfg 'name="console-vm"' > con3.out ||
	fail "create -c failed"
grep -q 'console-vm got: hi' con3.out || fail "create -c did not attach: $(cat con3.out)"
"$XL" destroy console-vm || fail "destroy console-vm"
"$XL" console -t serial www < /dev/null 2> err && fail "a missing serial console attached"
grep -q "xl: attaching the console: No such device" err || fail "serial console message: $(cat err)"

"$XL" destroy 0 2> err && fail "destroying dom0 without -f succeeded"
grep -q "Not destroying domain 0; use -f to force." err || fail "dom0 destroy message"
"$XL" destroy newvm || fail "destroy"
"$XL" list newvm 2> /dev/null && fail "destroyed domain still listed"
"$XL" save www /tmp/never 2> err && fail "save without backend support succeeded"
grep -q "not supported by the toolstack backend" err || fail "unsupported op message: $(cat err)"

# shutdown / reboot, -w waits until the domains report it
"$XL" reboot -w www 2> err || fail "reboot -w"
grep -q "^Rebooting domain 3$" err || fail "reboot message: $(cat err)"
grep -q "^Domain 3 has been shut down, reason code 1$" err || fail "reboot -w: $(cat err)"
"$XL" list www | grep -q -- '---sr-' || fail "rebooted state: $("$XL" list www)"
"$XL" shutdown -a -w 2> err || fail "shutdown -a -w"
grep -q "^Waiting for 2 domains$" err || fail "shutdown -a -w: $(cat err)"
grep -q "^Shutting down domain 0$" err && fail "shutdown -a included domain 0"
echo "PASS: xl through the backend seam"
