#!/usr/bin/env bash
# xl-e2e-tune: keeld's operations for xl, shown through the real `xl`:
# sched-credit weight and cap (a capped spinning guest gets about its cap
# of CPU time; two spinning guests pinned to one CPU share it about as
# their weights say; both with a cpu cgroup and with keeld's own
# throttling), vcpu-list and
# list Time(s) from the vCPU threads' CPU clocks, rename reaching keeld's
# log, the UUID kept by keeld (still listed with the store's /vm link
# gone), mem-max and mem-set as keeld's ceiling, xl info's Xen version
# facts, dmesg -c, and keeld --pidfile.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_bin keeld keelstore
need_guest xl-spin
kpid=
xl_host_also_down='"$KEEL_BIN/keel-dom0-down" --rundir "$KEEL_TMP/run2" >/dev/null 2>&1
[ -z "$kpid" ] || { kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null; }'
# CPU seconds of vCPU 0 of a domain, from xl vcpu-list
vtime() { xl vcpu-list "$1" | awk -v n="$1" '$1 == n && $3 == 0 { print $6 }'; }
# CPU time used over $2 seconds of wall time, as a percentage
share() {
	local a b
	a=$(vtime "$1")
	sleep "$2"
	b=$(vtime "$1")
	awk -v a="$a" -v b="$b" -v t="$2" 'BEGIN { printf "%d\n", (b - a) * 100 / t }'
}

xl_host_up --no-bridge

cat >"$KEEL_TMP/spin.cfg" <<EOF
name = "spin"
kernel = "$KEEL_GUESTS/xl-spin"
memory = 16
maxmem = 24
uuid = "11223344-5566-4778-8899-aabbccddeeff"
EOF

# --- CPU time: a spinning guest's time shows in list and vcpu-list ---------------
xl create -q "$KEEL_TMP/spin.cfg" || fail "create"
id=$(xl domid spin)
wait_for "timeout 2 $KEEL_BIN/xl console spin 2>/dev/null | grep -q '^spin 1'" 20 || fail "xl-spin did not spin"
xl vcpu-list spin | grep -qE "^spin +$id +0 +[0-9]+ +r-- +[0-9]+\.[0-9] " || fail "vcpu-list: $(xl vcpu-list spin)"
sleep 1
t=$(xl list spin | awk 'NR == 2 { print $6 }')
awk -v t="$t" 'BEGIN { exit !(t >= 0.5) }' || fail "list Time(s) of a spinning guest: $t"
# xl top (xentop's batch flags): two frames a second apart; the spinning
# guest's CPU(%) over that second is well above zero, Domain-0 is listed.
top=$(xl top -b -i 2 -d 1) || fail "xl top"
echo "$top"
[ "$(echo "$top" | grep -c '^ *NAME ')" = 2 ] || fail "xl top -i 2: not two frames"
pct=$(echo "$top" | awk '$1 == "spin" { p = $4 } END { print p + 0 }')
awk -v p="$pct" 'BEGIN { exit !(p >= 20) }' || fail "xl top: spinning guest at $pct% CPU"
echo "$top" | grep -q '^ *Domain-0 ' || fail "xl top: no Domain-0"
xl top -i 0 2>/dev/null && fail "xl top -i 0 accepted"

# --- sched-credit: defaults, cap enforced, weights share a CPU ---------------------------
# Run on the dom0 in $KEEL_RUNDIR, whose domain "spin" spins; keeld uses a
# cpu cgroup per domain where it can (mode 1), else its own throttling and
# nice values (mode 2, forced with KEEL_SCHED_NO_CGROUP=1).
sched_checks() {
	local id id2 kp free capped a0 a1 b0 b1 ratio t
	id=$(xl domid spin)
	kp=$(cat "$KEEL_RUNDIR/keeld.pid")
	xl sched-credit -d spin | grep -qE "^spin +$id +256 +0$" || fail "default credit: $(xl sched-credit -d spin)"
	free=$(share spin 2)
	[ "$free" -ge 30 ] || fail "uncapped spinning guest got only $free% of a CPU"
	xl sched-credit -d spin -c 20 || fail "set cap"
	xl sched-credit -d spin | grep -qE "^spin +$id +256 +20$" || fail "cap not kept: $(xl sched-credit -d spin)"
	sleep 1
	capped=$(share spin 4)
	echo "$1: uncapped $free%, capped at 20: $capped%"
	[ "$capped" -ge 5 ] && [ "$capped" -le 40 ] || fail "$1: cap 20 gave $capped% of a CPU (uncapped $free%)"
	xl sched-credit -d spin -w 512 || fail "set weight"
	xl sched-credit -d spin | grep -qE "^spin +$id +512 +20$" || fail "weight: $(xl sched-credit -d spin)"
	if [ -d "/sys/fs/cgroup/cpu/keel-$kp/d$id" ]; then
		[ "$(cat "/sys/fs/cgroup/cpu/keel-$kp/d$id/cpu.shares")" = 2048 ] || fail "cpu.shares"
		[ "$(cat "/sys/fs/cgroup/cpu/keel-$kp/d$id/cpu.cfs_quota_us")" = 20000 ] || fail "cfs quota"
	else
		xl dmesg | grep -q "d$id: no cpu cgroup controller: keeld throttles" || fail "$1: no mode 2 message"
		awk '{ print $19 }' /proc/"$kp"/task/*/stat | grep -qx -- -3 || fail "$1: weight 512 not nice -3"
	fi
	xl sched-credit -d spin -w 70000 2>/dev/null && fail "weight 70000 accepted"
	xl sched-credit -d spin -c 0 || fail "cap off"
	wait_for "[ \$(share spin 2) -ge 30 ]" 10 || fail "$1: cap 0 did not lift the cap"
	# two spinning guests on one host CPU share it about as their weights say
	xl create -q "$KEEL_TMP/spin.cfg" 'name="spin2"' 'uuid="11223344-5566-4778-8899-aabbccddeef0"' ||
		fail "create spin2"
	id2=$(xl domid spin2)
	wait_for "timeout 2 $KEEL_BIN/xl console spin2 2>/dev/null | grep -q '^spin 1'" 20 || fail "spin2 did not spin"
	xl sched-credit -d spin -w 512 -c 0 && xl sched-credit -d spin2 -w 128 || fail "set weights"
	for t in /proc/"$kp"/task/*; do
		taskset -pc 0 "${t##*/}" >/dev/null 2>&1
	done
	sleep 1
	a0=$(vtime spin) b0=$(vtime spin2)
	sleep 4
	a1=$(vtime spin) b1=$(vtime spin2)
	ratio=$(awk -v a="$a0" -v A="$a1" -v b="$b0" -v B="$b1" 'BEGIN { d = B - b; if (d < 0.05) d = 0.05; printf "%.1f\n", (A - a) / d }')
	echo "$1: weights 512:128 on one CPU: CPU time ratio $ratio (ideal 4)"
	awk -v r="$ratio" 'BEGIN { exit !(r >= 2 && r <= 8) }' || fail "$1: weights 512:128 gave a CPU time ratio of $ratio"
	xl destroy spin2 || fail "destroy spin2"
	for t in /proc/"$kp"/task/*; do
		taskset -pc 0-$(($(getconf _NPROCESSORS_ONLN) - 1)) "${t##*/}" >/dev/null 2>&1
	done
}
sched_checks "keeld's choice"
id=$(xl domid spin)

# the same with keeld's own throttling, on a second dom0
run2=$KEEL_TMP/run2
xl pause spin || fail "pause spin while the second dom0 measures"
KEEL_SCHED_NO_CGROUP=1 "$KEEL_BIN/keel-dom0-up" --rundir "$run2" --no-bridge >/dev/null || fail "second keel-dom0-up"
KEEL_RUNDIR=$run2
xl create -q "$KEEL_TMP/spin.cfg" || fail "create in run2"
wait_for "timeout 2 $KEEL_BIN/xl console spin 2>/dev/null | grep -q '^spin 1'" 20 || fail "run2: xl-spin did not spin"
sched_checks "keeld throttling"
xl destroy spin || fail "destroy in run2"
"$KEEL_BIN/keel-dom0-down" --rundir "$run2" >/dev/null || fail "second keel-dom0-down"
KEEL_RUNDIR=$run
xl unpause spin || fail "unpause spin"
kp=$(cat "$run/keeld.pid")

# --- rename reaches keeld (its log names both) -----------------------------------------
xl rename spin whirl || fail "rename"
xl dmesg | grep -q "d$id: renamed 'spin' -> 'whirl'" || fail "keeld not told of rename: $(xl dmesg | tail -3)"
xl rename whirl "$(printf 'n%.0s' $(seq 70))" 2>"$KEEL_TMP/long.err" && fail "70-byte name accepted"
grep -q "too long" "$KEEL_TMP/long.err" || fail "long name: $(cat "$KEEL_TMP/long.err")"
xl list whirl >/dev/null || fail "failed rename changed the name"

# --- the UUID lives in keeld too ------------------------------------------------------------
st rm /local/domain/$id/vm || fail "store rm vm"
xl list -v whirl | grep -q 11223344-5566-4778-8899-aabbccddeeff || fail "UUID lost with the store link: $(xl list -v whirl)"

# --- memory ceiling ------------------------------------------------------------------------
xl dmesg | grep -q "d$id: max memory 24576 KiB" || fail "maxmem= not given to keeld"
xl mem-max whirl 20m || fail "mem-max"
xl dmesg | grep -q "d$id: max memory 20480 KiB" || fail "mem-max not in keeld"
[ "$(st read /local/domain/$id/memory/static-max)" = 20480 ] || fail "static-max"
xl mem-set whirl 12m || fail "mem-set"
xl dmesg | grep -q "d$id: max memory 12288 KiB" || fail "mem-set not enforced as the ceiling"
xl mem-max whirl 8m 2>&1 | grep -q "memory_static_max must be greater" || fail "mem-max below target accepted"

# --- xl info, dmesg -c -----------------------------------------------------------------------
[ "$(xl info xen_major)" = 4 ] && [ "$(xl info xen_minor)" = 17 ] || fail "xen version: $(xl info | grep xen_)"
[ "$(xl info xen_caps)" = xen-3.0-x86_64 ] || fail "xen_caps"
xl info total_memory | grep -qE '^[1-9][0-9]*$' || fail "total_memory"
xl dmesg -c | grep -q "renamed 'spin'" || fail "dmesg -c did not print first"
xl dmesg | grep -q "renamed 'spin'" && fail "dmesg -c did not clear"
xl destroy whirl || fail "destroy"
[ -d /sys/fs/cgroup/cpu/keel-$kp/d$id ] && fail "cpu group left after destroy"

# --- keeld --pidfile ------------------------------------------------------------------------
"$KEEL_BIN/keeld" daemon --rundir "$KEEL_TMP/k2" --pidfile "$KEEL_TMP/k2.pid" 2>/dev/null &
kpid=$!
wait_for "[ -s $KEEL_TMP/k2.pid ]" 10 || fail "no pid file"
[ "$(cat "$KEEL_TMP/k2.pid")" = "$kpid" ] || fail "pid file holds $(cat "$KEEL_TMP/k2.pid"), not $kpid"
kill "$kpid"
wait "$kpid"
kpid=
[ -e "$KEEL_TMP/k2.pid" ] && fail "pid file left after exit"
echo "xl-e2e-tune: ok"
