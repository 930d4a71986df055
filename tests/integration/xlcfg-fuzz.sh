#!/bin/bash
# Run the libFuzzer target for the xl.cfg / disk / vif / libvirt XML parsers
# for about 20 seconds, seeded with the golden configs.  Any crash, leak or
# sanitizer report fails the test.
. "$(dirname "$0")/../lib/common.sh"

fuzzer=$KEEL_BUILD/fuzz/xlcfg_fuzz
if [ ! -x "$fuzzer" ]; then
	command -v "${FUZZCC:-clang}" > /dev/null || skip "clang is not installed (needed for libFuzzer)"
	# the Makefile names the target relative to the top directory
	make -C "$KEEL_TOP" --no-print-directory "BUILD=${KEEL_BUILD#"$KEEL_TOP"/}" \
		"${fuzzer#"$KEEL_TOP"/}" > "$KEEL_TMP/build.log" 2>&1 ||
		skip "cannot build the fuzzer (libFuzzer runtime missing?): $(tail -3 "$KEEL_TMP/build.log")"
fi
corpus=$KEEL_TMP/corpus
mkdir -p "$corpus"
# seeds: byte 1 selects the xl.cfg entry point, 2 libvirt XML, 0 disk/vif specs
i=0
for f in "$KEEL_TOP"/tests/golden/xlcfg/*.cfg; do
	{ printf '\001'; cat "$f"; } > "$corpus/cfg$i"
	i=$((i + 1))
done
printf '\000/dev/vg/a,raw,xvda,rw' > "$corpus/disk"
printf '\000mac=00:16:3e:00:00:01,bridge=xenbr0,rate=10MB/s@20ms' > "$corpus/vif"
printf '\002<domain type="xen"><name>a</name><devices><disk type="file"><source file="/x"/><target dev="xvda"/></disk></devices></domain>' > "$corpus/xml"

cd "$KEEL_TMP" || fail "no temp dir"
"$fuzzer" -max_total_time=20 -max_len=4096 -rss_limit_mb=1024 -print_final_stats=1 \
	"$corpus" > fuzz.log 2>&1
rc=$?
tail -15 fuzz.log
[ $rc = 0 ] || fail "fuzzer found a problem (exit $rc), see the log above"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log)
echo "PASS: $runs inputs without a crash"
