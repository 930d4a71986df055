#!/usr/bin/env bash
# pv-events-timearea: VCPUOP_register_vcpu_time_memory_area (evt-timearea
# guest under keeld run): refusals, the area a copy of vcpu_info's time
# info with the TSC-stable flag, time from it monotonic and equal to
# vcpu_info's, kept up to date when keeld rewrites vcpu_info's time; run
# twice: once replacing the area by a second one, once unregistering it
# (address 0) - either way the old area must be left alone.  keeld's log
# must name the registration.  Then evt-timeline: with the TSC-stable flag,
# two vCPUs' records give the same time for the same TSC.
. "$(dirname "$0")/../lib/common.sh"
need_kvm
for mode in replace unregister; do
	out=$KEEL_TMP/timearea-$mode.out
	arg=
	[ $mode = unregister ] && arg="unregister=1"
	timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/evt-timearea" --memory 64 \
		--cmdline "$arg" >"$out" 2>&1
	st=$?
	echo "--- $mode"
	cat "$out"
	[ $st = 0 ] && grep -q '^Test result: SUCCESS' "$out" ||
		fail "evt-timearea ($mode) failed (exit $st)"
	grep -q 'time info area registered' "$out" || fail "keeld did not log the registration"
done
# With the TSC-stable flag, every vCPU's record is a point of one line.
out=$KEEL_TMP/timeline.out
timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/evt-timeline" --memory 64 --vcpus 2 >"$out" 2>&1
st=$?
echo "--- timeline"
cat "$out"
[ $st = 0 ] && grep -q '^Test result: SUCCESS' "$out" || fail "evt-timeline failed (exit $st)"
exit 0
