#!/usr/bin/env bash
# pv-events-fifo: the FIFO event-channel ABI (evt-fifo guest: control
# block, event words, queues per priority, set_priority, unmask, poll and
# VIRQ_TIMER in FIFO mode -- raised again and again, the case that once
# linked a port to itself -- and the refusals), pv-events (2-level, with
# FIFO's refusal for a bad vCPU) and evt-timer (one-shot timer accuracy,
# loose bounds) under keeld run; FIFO is offered by default.  With
# KEEL_EVTCHN_FIFO=0 init_control answers -ENOSYS: evt-fifo must then see
# that refusal.
. "$(dirname "$0")/../lib/common.sh"
need_kvm
rc=0
for t in evt-fifo pv-events evt-timer; do
	out=$KEEL_TMP/$t.out
	timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/$t" --memory 64 >"$out" 2>&1
	st=$?
	echo "== $t (exit $st)"; cat "$out"
	if [ $st != 0 ] || ! grep -q '^Test result: SUCCESS' "$out"; then
		echo "FAILED: $t"; rc=1
	fi
done
KEEL_EVTCHN_FIFO=0 timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/evt-fifo" --memory 64 \
	>"$KEEL_TMP/nofifo.out" 2>&1
grep -q 'FAIL: init_control: link_bits 17 (got 0)' "$KEEL_TMP/nofifo.out" ||
	{ cat "$KEEL_TMP/nofifo.out"; echo "FAILED: FIFO offered with KEEL_EVTCHN_FIFO=0"; rc=1; }
exit $rc
