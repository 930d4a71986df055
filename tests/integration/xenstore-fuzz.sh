#!/usr/bin/env bash
# Runs the libFuzzer target for keel-xenstored's message path for a bounded
# time (XS_FUZZ_SECONDS, default 30).  Skips when clang's libFuzzer runtime
# is not usable here.  Any crash, sanitizer report or invariant violation
# fails the test; the reproducer is kept in the log directory.
. "$KEEL_TOP/tests/lib/common.sh"
secs=${XS_FUZZ_SECONDS:-30}
fz=$KEEL_BUILD/fuzz/xs_wire_fuzz
command -v clang >/dev/null || skip "clang not installed"
if [ ! -x "$fz" ]; then
	make -s -C "$KEEL_TOP" BUILD="$KEEL_BUILD" "$fz" >"$KEEL_TMP/build.log" 2>&1 ||
		{ tail -5 "$KEEL_TMP/build.log"; skip "cannot build the libFuzzer target (clang fuzzer runtime?)"; }
fi
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
mkdir -p "$KEEL_TMP/corpus" "$KEEL_CACHE/xs-fuzz-corpus"
cp -r "$KEEL_CACHE/xs-fuzz-corpus/." "$KEEL_TMP/corpus/" 2>/dev/null
cd "$KEEL_TMP" || fail "no temp dir"
"$fz" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 -dict="$KEEL_TMP/xs.dict" \
	-print_final_stats=1 "$KEEL_TMP/corpus" >"$KEEL_TMP/fuzz.log" 2>&1
rc=$?
tail -15 "$KEEL_TMP/fuzz.log"
# Keep the corpus between runs so coverage grows over time.
cp -r "$KEEL_TMP/corpus/." "$KEEL_CACHE/xs-fuzz-corpus/" 2>/dev/null
if [ $rc -ne 0 ]; then
	for f in crash-* leak-* timeout-* oom-*; do
		[ -e "$f" ] && cp "$f" "$KEEL_BUILD/test-logs/xs-fuzz-$f" && echo "reproducer: $KEEL_BUILD/test-logs/xs-fuzz-$f"
	done
	fail "fuzzer found a problem (exit $rc)"
fi
grep -q "^Done [0-9]* runs" "$KEEL_TMP/fuzz.log" || fail "fuzzer did not run"
echo "fuzzed for ${secs}s without a finding"
