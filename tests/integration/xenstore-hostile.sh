#!/usr/bin/env bash
# Bad input harms nothing: oversized lengths, garbage, malformed paths, perms
# and arguments, unknown types, a client that floods without reading, a
# watcher that never reads, too many connections, a half-sent header,
# transaction and watch exhaustion.  The daemon answers with an error or
# drops that one connection, keeps serving others, and its memory stays
# bounded.
. "$(dirname "$0")/xenstore-lib.sh"
H=$KEEL_BIN/xs-hostile
[ -x "$H" ] || fail "$H not built"
xs_start --max-connections 64 --no-journal

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$XS_PID/status"; }
base=$(rss_kb)
echo "daemon RSS at start: ${base} KiB"

for mode in badlen garbage malformed unknown slow txflood; do
	"$H" "$XS_SOCK" $mode || fail "mode $mode"
	xs_alive || fail "daemon died in mode $mode"
done
"$H" "$XS_SOCK" conns 200 || fail "mode conns"
grep -q "too many connections" "$KEEL_TMP/xsd.log" || fail "connection limit not enforced"
"$H" "$XS_SOCK" flood 2 || fail "mode flood"
xs_alive || fail "daemon died under flood"
"$H" "$XS_SOCK" watchflood 3 || fail "mode watchflood"
xs_alive || fail "daemon died under watch flood"
grep -q "watch events dropped" "$KEEL_TMP/xsd.log" || fail "never-reading watcher was not limited"
"$H" "$XS_SOCK" watchmax || fail "mode watchmax"
xs_alive || fail "daemon died"
peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$XS_PID/status")
now=$(rss_kb)
echo "daemon RSS now ${now} KiB, peak ${peak} KiB"
# 65536 watches are ~10 MiB; floods must not add more than a few MiB on top.
[ "$peak" -lt $((base + 48 * 1024)) ] || fail "memory grew to $peak KiB under hostile clients"
echo "hostile-input checks passed"
