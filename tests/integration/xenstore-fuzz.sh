#!/usr/bin/env bash
# Runs keel-xenstored's libFuzzer targets for a bounded time: the message
# path (xs_wire_fuzz, 2/3 of XS_FUZZ_SECONDS, default 30) and journal replay
# (xs_journal_fuzz, the rest).  Skips when clang's libFuzzer runtime is not
# usable here.  Any crash, sanitizer report or invariant violation fails the
# test; the reproducer is kept in the log directory.
: "${KEEL_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KEEL_TOP/tests/lib/common.sh"
secs=${XS_FUZZ_SECONDS:-30}
command -v clang >/dev/null || skip "clang not installed"
for t in xs_wire_fuzz xs_journal_fuzz; do
	[ -x "$KEEL_BUILD/fuzz/$t" ] && continue
	make -s -C "$KEEL_TOP" BUILD="$KEEL_BUILD" "$KEEL_BUILD/fuzz/$t" >"$KEEL_TMP/build.log" 2>&1 ||
		{ tail -5 "$KEEL_TMP/build.log"; skip "cannot build the libFuzzer targets (clang fuzzer runtime?)"; }
done
# A dictionary of the protocol's tokens helps the fuzzer reach the handlers.
cat >"$KEEL_TMP/xs.dict" <<'DICT'
"/local/domain/5"
"/local/domain/0/"
"@introduceDomain"
"@releaseDomain"
"T\x00"
"F\x00"
"r0\x00"
"w5\x00"
"b5\x00"
"n0\x00"
"\x00\x10\x00\x00"
"\x0b\x00\x00\x00"
"\x06\x00\x00\x00"
"\x07\x00\x00\x00"
"\x04\x00\x00\x00"
"\x0e\x00\x00\x00"
"\x16\x00\x00\x00"
DICT

# run_fuzzer TARGET SECONDS: corpus kept in the cache between runs.
run_fuzzer() {
	local t=$1 s=$2 corpus=$KEEL_CACHE/fuzz-corpus/$1 rc
	mkdir -p "$corpus" "$KEEL_TMP/$t"
	(cd "$KEEL_TMP/$t" && "$KEEL_BUILD/fuzz/$t" -max_total_time="$s" -rss_limit_mb=1024 \
		-timeout=10 -dict="$KEEL_TMP/xs.dict" "$corpus" >fuzz.log 2>&1)
	rc=$?
	tail -3 "$KEEL_TMP/$t/fuzz.log"
	if [ $rc -ne 0 ]; then
		for f in "$KEEL_TMP/$t"/crash-* "$KEEL_TMP/$t"/leak-* "$KEEL_TMP/$t"/timeout-* "$KEEL_TMP/$t"/oom-*; do
			[ -e "$f" ] || continue
			cp "$f" "$KEEL_BUILD/test-logs/$t-$(basename "$f")"
			echo "reproducer: $KEEL_BUILD/test-logs/$t-$(basename "$f")"
		done
		fail "$t found a problem (exit $rc)"
	fi
	grep -q "^Done [0-9]* runs" "$KEEL_TMP/$t/fuzz.log" || fail "$t did not run"
}
run_fuzzer xs_wire_fuzz $((secs * 2 / 3))
run_fuzzer xs_journal_fuzz $((secs - secs * 2 / 3))
echo "fuzzed for ${secs}s without a finding"
