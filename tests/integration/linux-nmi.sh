#!/usr/bin/env bash
# linux-nmi: `xl trigger DOM nmi [VCPU]` delivers a PV NMI as Xen does
# (XEN_DOMCTL_SENDTRIGGER_NMI: the vCPU's NMI pending, bounced through the
# guest's trap-table vector 2 on its way back to the guest, masked until
# its iret).  Debian's 6.1 kernel (2 vCPUs, a busybox /init counting the
# NMIs in /proc/interrupts) gets one on vCPU 0 and one on vCPU 1; Linux
# finds no source for them and says so ("Uhhuh. NMI received for unknown
# reason 00 on CPU N.", then "Dazed and confused, but trying to
# continue"), counts each on the CPU it came to, and carries on.  A vCPU
# the domain lacks gets libxl's error (ESRCH), and xl exits 0 as xl does.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
lg_fetch_kernel

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_init_head KEEL-NMI >"$root/init"
cat >>"$root/init" <<'INIT'
nmis() { awk '/^ *NMI:/ { print $2, $3 }' /proc/interrupts; }
say "ready, NMIs per CPU: $(nmis)"
i=0
while [ $i -lt 600 ]; do
	say "tick $i NMIs per CPU: $(nmis)"
	sleep 1
	i=$((i + 1))
done
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up --no-bridge
{
	lg_cfg_head linux-nmi
	echo "memory = 256"
	echo "vcpus = 2"
} >"$KEEL_TMP/linux.cfg"
lg_create linux-nmi "$KEEL_TMP/linux.cfg"
lg_wait_console linux-nmi '^KEEL-NMI: ready' 180 ||
	fail "the guest did not come up (last: $(tail -n 1 "$con" 2>/dev/null))"
grep -a 'KEEL-NMI: ready' "$con" | tr -d '\r'
grep -aq 'Uhhuh' "$con" && fail "an NMI before any trigger"

xl trigger linux-nmi nmi >"$KEEL_TMP/t0.out" 2>&1 || fail "xl trigger exits $?: $(cat "$KEEL_TMP/t0.out")"
[ -s "$KEEL_TMP/t0.out" ] && fail "xl trigger nmi reported: $(cat "$KEEL_TMP/t0.out")"
lg_wait_console linux-nmi 'Uhhuh. NMI received for unknown reason [0-9a-f]+ on CPU 0' 60 ||
	fail "the guest did not see the NMI on CPU 0"
lg_wait_console linux-nmi '^KEEL-NMI: tick [0-9]+ NMIs per CPU: 1 0' 30 ||
	fail "/proc/interrupts does not count the NMI on CPU 0"
xl trigger linux-nmi nmi 1 >"$KEEL_TMP/t1.out" 2>&1 || fail "xl trigger ... 1 exits $?"
lg_wait_console linux-nmi 'Uhhuh. NMI received for unknown reason [0-9a-f]+ on CPU 1' 60 ||
	fail "the guest did not see the NMI on CPU 1"
lg_wait_console linux-nmi '^KEEL-NMI: tick [0-9]+ NMIs per CPU: 1 1' 30 ||
	fail "/proc/interrupts does not count the NMI on CPU 1"
tr -d '\r' <"$con" | grep -a 'Uhhuh\|Dazed' | sed 's/^/linux-nmi: guest: /'
tr -d '\r' <"$con" | grep -aq 'Dazed and confused, but trying to continue' ||
	fail "no 'Dazed and confused' after the NMI"
# it carries on: a later tick, and the domain still running
n=$(tr -d '\r' <"$con" | grep -ac '^KEEL-NMI: tick')
lg_wait_console linux-nmi "^KEEL-NMI: tick $((n + 1)) " 30 || fail "the guest stopped after its NMIs"
"$KEEL_BIN/keelctl" info "$id" | grep -qE ' (shutdown|crashed) ' && fail "the domain ended"
# a vCPU the domain lacks: libxl's message with ESRCH, exit 0 (xl ignores it)
xl trigger linux-nmi nmi 7 >"$KEEL_TMP/t7.out" 2>&1 || fail "xl trigger ... 7 exits $?"
grep -q "libxl_send_trigger: Domain $id:Send trigger 'nmi' failed: No such process" "$KEEL_TMP/t7.out" ||
	fail "xl trigger to vCPU 7: $(cat "$KEEL_TMP/t7.out")"
echo "PASS"
