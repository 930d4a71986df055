#!/usr/bin/env bash
# pv-events-periodic: VCPUOP_set_periodic_timer / stop_periodic_timer with
# VIRQ_TIMER (evt-periodic guest under keeld run): refusals, ticks counted
# over 500 ms against the period, none after stop, a one-shot timer beside
# a periodic one.  The guest's clock is keeld's CLOCK_MONOTONIC; this
# script also checks the run against the host's own clock (the 500 ms
# interval cannot have taken less than 0.5 s of host time).
. "$(dirname "$0")/../lib/common.sh"
need_kvm
out=$KEEL_TMP/periodic.out
t0=$(date +%s%N)
timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/evt-periodic" --memory 64 >"$out" 2>&1
st=$?
t1=$(date +%s%N)
cat "$out"
[ $st = 0 ] && grep -q '^Test result: SUCCESS' "$out" || fail "evt-periodic failed (exit $st)"
host_ns=$((t1 - t0))
echo "host time for the whole run: $host_ns ns"
[ "$host_ns" -ge 500000000 ] || fail "guest's 500 ms interval took less host time ($host_ns ns)"
exit 0
