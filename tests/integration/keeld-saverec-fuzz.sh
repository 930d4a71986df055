#!/bin/bash
# Run the libFuzzer target over keeld's restore reader (save records split,
# checksummed and every value checked: tests/fuzz/keeld_saverec_fuzz.c) for
# about 20 seconds.  Any crash, leak or sanitizer report fails the test.
. "$(dirname "$0")/../lib/common.sh"

fuzzer=$KEEL_BUILD/fuzz/keeld_saverec_fuzz
if [ ! -x "$fuzzer" ]; then
	command -v "${FUZZCC:-clang}" > /dev/null || fail "clang is not installed (needed for libFuzzer; make deps installs it)"
	make -C "$KEEL_TOP" --no-print-directory "BUILD=${KEEL_BUILD#"$KEEL_TOP"/}" \
		"${fuzzer#"$KEEL_TOP"/}" > "$KEEL_TMP/build.log" 2>&1 ||
		fail "cannot build the fuzzer: $(tail -3 "$KEEL_TMP/build.log")"
fi
cd "$KEEL_TMP" || fail "no temp dir"
mkdir -p corpus
# seeds: an edit-list input (even first byte: edits to a valid state) and raw bytes
printf '\000\020\000\000\001' > corpus/edit
printf '\002\020\000\000\001' > corpus/edit-hvm
printf '\001KEELDREC\002\000\000\000\000\000\000\000' > corpus/raw
"$fuzzer" -max_total_time=20 -max_len=8192 -rss_limit_mb=1024 -print_final_stats=1 \
	corpus > fuzz.log 2>&1
rc=$?
tail -8 fuzz.log
[ $rc = 0 ] || fail "fuzzer found a problem (exit $rc), see the log above"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log)
echo "PASS: $runs inputs without a crash"
