#!/usr/bin/env bash
# pv-hostile: hostile guests beside a victim, under one keeld daemon.  The
# victim (tests/guests/pv-victim.c) fills pages with a pattern, grants one
# page read-only to each attacker and one to dom0, leaves a port unbound
# for each attacker and one for dom0, and checks all of it (and its own
# page tables) over and over.  One attacker per seed (tests/guests/pv-fuzz.c)
# then drives the MMU, descriptor, callback, vcpu, multicall, grant,
# event-channel and memory hypercalls at its own sacrificial tables, its
# live ones, frames past its RAM, the victim's frame numbers, window
# frames, the shim and the hole, and the victim's id, references and
# ports.  For every seed: keeld survives, the attacker finishes or ends
# crashed with a register dump in keeld's log; after the last one the
# victim must make fresh passes and report no change.
# PV_HOSTILE_SEEDS / PV_HOSTILE_OPS override the seeds (at most 16) and calls
# per seed; PV_HOSTILE_TAMPER=1 has the victim change its own pattern, which
# must fail the test (the check can fail).
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm

# The inputs that broke keeld before, each a check in pv-hostile-regress.
timeout 60 "$KEEL_BIN/keeld" run --kernel "$KEEL_GUESTS/pv-hostile-regress" --memory 32 \
	>"$KEEL_TMP/regress.out" 2>&1
st=$?
echo "== pv-hostile-regress (exit $st)"; grep -v '^(keeld)' "$KEEL_TMP/regress.out"
[ $st = 0 ] && grep -q '^Test result: SUCCESS' "$KEEL_TMP/regress.out" ||
	fail "pv-hostile-regress (a bug pv-fuzz found is back; exit 124: the guest hung)"

start_keeld

seeds=${PV_HOSTILE_SEEDS:-$(seq 1 16)}
ops=${PV_HOSTILE_OPS:-20000}
set -- $seeds
n=$#
att=()
for s in $seeds; do
	d=$(ctl create "hostile$s" 32) || fail "create attacker (seed $s)"
	att+=("$d")
done
# The victim grants to consecutive domain ids; keeld hands them out in order.
for i in $(seq 1 $((n - 1))); do
	[ "${att[$i]}" = $((att[0] + i)) ] || fail "attacker ids not consecutive: ${att[*]}"
done
v=$(ctl create victim 64) || fail "create victim"
ctl load "$v" "$KEEL_GUESTS/pv-victim" "peer=${att[0]} n=$n tamper=${PV_HOSTILE_TAMPER:-0}" ||
	fail "load victim"
ctl unpause "$v" || fail "unpause victim"
wait_for "ctl console $v | grep -q '^victim-ready'" 30 || { ctl console "$v"; fail "victim not ready"; }
ready=$(ctl console "$v" | sed -n 's/^victim-ready //p')
vport0=$(echo "$ready" | sed -n 's/.*vport=\([0-9]*\).*/\1/p')
rest=$(echo "$ready" | sed 's/vref=[0-9]* vport=[0-9]* //')
echo "== victim d$v: $ready"

victim_pass() { ctl console "$v" | sed -n 's/^victim-pass \([0-9]*\).*/\1/p' | tail -n 1; }
i=0
for s in $seeds; do
	d=${att[$i]}
	ctl load "$d" "$KEEL_GUESTS/pv-fuzz" \
		"seed=$s ops=$ops victim=$v vref=$((8 + i)) vport=$((vport0 + i)) $rest" ||
		fail "load attacker (seed $s)"
	ctl unpause "$d" || fail "unpause attacker (seed $s)"
	wait_for "ctl info $d | grep -Eq ' (shutdown|crashed) '" 240 ||
		{ ctl console "$d"; fail "attacker seed $s did not finish"; }
	kill -0 "$kpid" 2>/dev/null || { tail -n 30 "$KEEL_TMP/keeld.log"; fail "keeld died under seed $s"; }
	st=$(ctl info "$d")
	echo "== attacker seed $s (d$d): $st"; ctl console "$d" | tail -n 3
	if echo "$st" | grep -q ' crashed '; then
		grep -q "d$d: crashed:" "$KEEL_TMP/keeld.log" ||
			fail "seed $s: crashed without a reason in the log"
		# The dump comes just before the crash line (registers, stack,
		# then the vCPU's last exits: at most 32 of them and a header).
		grep -B60 "d$d: crashed:" "$KEEL_TMP/keeld.log" | grep -q "d$d:  rip " ||
			{ grep -B60 "d$d: crashed:" "$KEEL_TMP/keeld.log" | tail -n 20; fail "seed $s: no register dump"; }
		grep -B60 "d$d: crashed:" "$KEEL_TMP/keeld.log" |
			grep -Eq "d$d: vcpu[0-9]+: its last [0-9]+ exits but console output" ||
			fail "seed $s: the register dump has no flight recorder"
		grep "d$d: crashed:" "$KEEL_TMP/keeld.log"
	else
		ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "seed $s: attacker failed"
	fi
	ctl destroy "$d" || fail "destroy attacker (seed $s)"
	i=$((i + 1))
done
# Passes that started after the last attacker was gone.
p=$(victim_pass); p=${p:-0}
wait_for "[ \"\$(victim_pass)\" -ge $((p + 40)) ] 2>/dev/null" 60 ||
	{ ctl console "$v" | tail; fail "victim stopped checking"; }
echo "== victim: $(ctl console "$v" | grep '^victim-pass' | tail -n 1)"
if ctl console "$v" | grep -q '^victim-changed\|FAIL'; then
	ctl console "$v" | grep 'victim-changed\|FAIL' | head -n 20
	fail "the victim changed"
fi
ctl console "$v" | grep -q 'changes 0$' || fail "victim reports changes"
ctl destroy "$v" || fail "destroy victim"
ctl list >/dev/null || fail "keeld not answering at the end"
exit 0
