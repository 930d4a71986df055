#!/usr/bin/env bash
# pv-probe: which privileged instructions does this host's KVM execute for a
# long-mode guest?  The PV shim relies on the ones checked here; the others
# (sysretq, syscall reaching ring 0, int $n from ring 3, ring-3 reads in
# hole slot 256 where Xen puts the M2P) are recorded only.
. "$(dirname "$0")/../lib/common.sh"
need_kvm
out=$KEEL_TMP/probe.out
timeout 60 "$KEEL_BIN/keeld" probe "$KEEL_GUESTS/pv-probe" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc = 0 ] || fail "keeld probe exited $rc"
for step in 'lgdt+lretq' lidt ltr mov-cr3 invlpg 'wrmsr/rdmsr' swapgs 'iretq-to-ring3' \
	'ud2-from-ring3+iretq' 'syscall+ud2-at-LSTAR' 'out-exit' 'hlt' \
	'out-from-ring3-via-iobitmap' 'ring3-read-hole-slot-258'; do
	grep -F "probe: $step" "$out" | grep -q ': ok' || fail "required step $step did not work"
done
echo "recorded: $(grep -E 'sysretq|syscall-from-ring3|int0x82|slot-256' "$out" | tr '\n' ';')"
exit 0
