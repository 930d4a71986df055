#!/usr/bin/env bash
# console-real: keel-consoled serving a real guest's console ring through
# Xen's library API (backends/common/bk_xen.c, on Keel's libxen*).  keel-dom0-up starts keeld,
# keel-xenstored and keel-consoled; `xl create` of cons-echo, a guest that
# answers each line typed on its PV console ring with "echo: <line>".  Two
# `xl console` round trips: one fed by a pipe, one on a pseudo-terminal
# (`script`), then "quit"; the guest must see the input (its verdict) and
# the answers must come back through keel-consoled, into its log under the
# run directory too.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
for f in xl keel-dom0-up keel-dom0-down keel-consoled keelctl; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
[ -f "$KEEL_GUESTS/cons-echo" ] || fail "missing $KEEL_GUESTS/cons-echo"
command -v script >/dev/null || skip "no script(1) (bsdutils) for the pty round trip"

run=$KEEL_TMP/run
cleanup() {
	local rc=$?
	[ $rc = 0 ] || tail -n 20 "$run"/log/*.log 2>/dev/null
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
}
trap cleanup EXIT
export KEEL_RUNDIR=$run
xl() { "$KEEL_BIN/xl" "$@"; }

"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" || fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
grep -q "keel-consoled running" "$KEEL_TMP/up.out" || fail "keel-consoled did not start: $(cat "$KEEL_TMP/up.out")"
cat >"$KEEL_TMP/cons.cfg" <<CFG
name = "cons"
kernel = "$KEEL_GUESTS/cons-echo"
memory = 16
vcpus = 1
on_poweroff = "preserve"
CFG
xl create "$KEEL_TMP/cons.cfg" 2>"$KEEL_TMP/create.err" || fail "create: $(cat "$KEEL_TMP/create.err")"
id=$(xl domid cons) || fail "domid"
wait_for "[ -S '$run/console/$id.sock' ]" 10 || fail "keel-consoled serves no socket for domain $id: $(ls "$run/console")"
grep -q "d$id: port [0-9]* bound to a dom0 process" "$run/log/keeld.log" || fail "no event channel bound"

# 1. through a pipe
(sleep 1; printf 'hello keel\r'; sleep 2) | timeout 6 "$KEEL_BIN/xl" console cons >"$KEEL_TMP/pipe.out" 2>&1
cat "$KEEL_TMP/pipe.out"
grep -q 'cons-echo: ready' "$KEEL_TMP/pipe.out" || fail "the guest's ring output did not reach xl console"
grep -q 'echo: hello keel' "$KEEL_TMP/pipe.out" || fail "no answer to the piped line"

# 2. on a pseudo-terminal, as a user types it
(sleep 1; printf 'hello pty\r'; sleep 1; printf 'quit\r'; sleep 2) |
	timeout 8 script -q -e -c "$KEEL_BIN/xl console cons" /dev/null >"$KEEL_TMP/pty.out" 2>&1
tr -d '\r' <"$KEEL_TMP/pty.out" | tail -n 8
grep -q 'echo: hello pty' "$KEEL_TMP/pty.out" || fail "no answer to the line typed on the pty"
grep -q 'cons-echo: bye' "$KEEL_TMP/pty.out" || fail "quit not seen"
wait_for "\"$KEEL_BIN/keelctl\" info $id | grep -q ' shutdown '" 10 || fail "the guest did not finish"
timeout 2 "$KEEL_BIN/xl" console cons >"$KEEL_TMP/final.out" 2>/dev/null
grep -q '^Test result: SUCCESS' "$KEEL_TMP/final.out" || fail "guest verdict: $(grep -E 'FAIL|result' "$KEEL_TMP/final.out")"

# 3. the log keel-consoled keeps
log=$run/console/guest-cons.log
[ -f "$log" ] || fail "no console log ($(ls "$run/console"))"
grep -q 'echo: hello keel' "$log" && grep -q 'echo: hello pty' "$log" || fail "log lacks the answers: $(cat "$log")"
echo "console-real: round trips through keel-consoled (pipe and pty), log $(wc -c <"$log") bytes"
xl destroy cons >/dev/null 2>&1 || true
exit 0
