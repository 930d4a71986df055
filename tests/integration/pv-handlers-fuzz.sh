#!/bin/bash
# The in-process fuzz targets of keeld's guest-facing handlers
# (tests/fuzz/README.md): the PV MMU, grant tables between two domains and
# event channels, each from its checked-in corpus for about 15 seconds
# (KEEL_FUZZ_SECONDS), every invariant checked after each operation.  Any
# broken invariant, crash, leak or sanitizer report fails the test; a
# target that ran fewer than 1000 inputs fails too (it did not really run).
. "$(dirname "$0")/../lib/common.sh"

secs=${KEEL_FUZZ_SECONDS:-15}
targets="pv_mm_fuzz pv_gnttab_fuzz pv_evtchn_fuzz"
command -v "${FUZZCC:-clang}" > /dev/null || fail "clang is not installed (needed for libFuzzer; make deps installs it)"
for t in $targets; do
	make -C "$KEEL_TOP" --no-print-directory "BUILD=${KEEL_BUILD#"$KEEL_TOP"/}" \
		"${KEEL_BUILD#"$KEEL_TOP"/}/fuzz/$t" > "$KEEL_TMP/build.log" 2>&1 ||
		fail "cannot build $t: $(tail -3 "$KEEL_TMP/build.log")"
done
cd "$KEEL_TMP" || fail "no temp dir"
for t in $targets; do
	mkdir -p "corpus-$t"
	cp "$KEEL_TOP/tests/fuzz/corpus/$t/"* "corpus-$t/" 2>/dev/null ||
		fail "no seed corpus in tests/fuzz/corpus/$t"
	"$KEEL_BUILD/fuzz/$t" -max_total_time="$secs" -max_len=512 -rss_limit_mb=2048 \
		-print_final_stats=1 "corpus-$t" > "$t.log" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		grep -E 'pv_invariants|pv_fuzz:|ERROR|SUMMARY|runtime error' "$t.log" | head -5
		fail "$t found a problem (exit $rc); the input is in its log: $(grep -m1 '^Base64' "$t.log")"
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$t.log")
	[ "${runs:-0}" -ge 1000 ] || fail "$t ran only ${runs:-0} inputs in ${secs}s"
	echo "$t: $runs inputs, $((runs / secs)) a second, every invariant held"
done
echo "PASS: the PV MMU, grant and event-channel fuzz targets found nothing"
