#!/usr/bin/env bash
# xl-placement: cpus= and cpus_soft= in xl.cfg (one set for every vCPU, or
# a list naming vCPU 0, 1, ...) reach the vCPU threads at create, show in
# xl vcpu-list and survive save/restore; malformed sets, node sets and CPUs
# the host lacks are refused with a clear error and leave no domain.
# xl list's r/b letters come from the vCPUs as Xen derives them (an idle
# guest is "-b----", a spinning one "r-----"); Domain-0 has one vCPU per
# host CPU and its Time(s) is the sum of theirs.  xl top -b prints xentop's
# columns, then READY(%) (keeld's runnable time: a spinner sharing its host
# CPU runs or waits, CPU(%) + READY(%) = 100 within 10), GUEST(%) from a guest agent's
# data/cpustat node, and CORR = CPU(%) / GUEST(%).
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_guest xl-idle xl-smp xl-spin
ncpu=$(getconf _NPROCESSORS_ONLN)
[ "$ncpu" -ge 2 ] || skip "needs two host CPUs"

# vCPU $2 of domain $1 in vcpu-list: "CPU STATE HARD / SOFT"
vrow() { xl vcpu-list "$1" | awk -v n="$1" -v v="$2" '$1 == n && $3 == v { print $4, $5, $7, $8, $9 }'; }
# the state letters of a domain in xl list
flags() { xl list "$1" | awk 'NR == 2 { print $5 }'; }
# how many of keeld's threads may run only on host CPU $1
pinned_to() { grep -h '^Cpus_allowed_list:' /proc/"$(cat "$run/keeld.pid")"/task/*/status | awk -v c="$1" '$2 == c' | wc -l; }

xl_host_up --no-bridge
last=$((ncpu - 1))

# --- cpus= / cpus_soft= as one set: thread affinity, vcpu-list, save/restore ---------------
before=$(pinned_to "$last")
cat >"$KEEL_TMP/idle.cfg" <<EOF
name = "idle"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 16
cpus = "all,^0-$((last - 1))"
cpus_soft = "0"
EOF
xl create -q "$KEEL_TMP/idle.cfg" || fail "create with cpus="
wait_for "con idle | grep -q '^tick 2'" 20 || fail "xl-idle does not tick: $(con idle | tail -3)"
row=$(vrow idle 0)
echo "idle vcpu 0: $row"
[ "$(echo "$row" | awk '{ print $3, $4, $5 }')" = "$last / 0" ] || fail "vcpu-list affinity: $row"
[ "$(echo "$row" | awk '{ print $1 }')" = "$last" ] || fail "vCPU not on CPU $last: $row"
[ "$(pinned_to "$last")" -gt "$before" ] || fail "no keeld thread pinned to CPU $last"
# --- list flags: the idle guest is blocked, not running -----------------------------------
wait_for "[ \"\$(flags idle)\" = -b---- ]" 20 || fail "idle guest listed as $(flags idle): $(xl vcpu-list idle)"
xl save idle "$KEEL_TMP/idle.img" 2>/dev/null || fail "save"
xl restore "$KEEL_TMP/idle.img" 2>/dev/null || fail "restore"
wait_for "con idle | grep -q '^tick'" 20 || fail "restored idle does not tick"
row=$(vrow idle 0)
[ "$(echo "$row" | awk '{ print $3, $4, $5 }')" = "$last / 0" ] || fail "affinity lost across save/restore: $row"
xl destroy idle || fail "destroy idle"

# --- a list: one set per vCPU ---------------------------------------------------------------
cat >"$KEEL_TMP/smp.cfg" <<EOF
name = "smp"
kernel = "$KEEL_GUESTS/xl-smp"
memory = 16
vcpus = 2
cpus = ["$last", "0", "1"]
cpus_soft = ["all"]
EOF
xl create -q "$KEEL_TMP/smp.cfg" || fail "create with a cpus= list"
wait_for "con smp | grep -q '^tick 2 '" 20 || fail "xl-smp: $(con smp | tail -3)"
[ "$(vrow smp 0 | awk '{ print $3, $4, $5 }')" = "$last / all" ] || fail "smp vcpu 0: $(vrow smp 0)"
[ "$(vrow smp 1 | awk '{ print $3, $4, $5 }')" = "0 / all" ] || fail "smp vcpu 1: $(vrow smp 1)"
xl destroy smp || fail "destroy smp"

# --- bad sets: refused, nothing left behind -------------------------------------------------
refuse() { # the cpus value, then what the error must say
	xl create -q "$KEEL_TMP/idle.cfg" "cpus=\"$1\"" >"$KEEL_TMP/bad.out" 2>&1 && fail "cpus=$1 accepted"
	grep -q "$2" "$KEEL_TMP/bad.out" || fail "cpus=$1: unclear error: $(cat "$KEEL_TMP/bad.out")"
	xl list idle >/dev/null 2>&1 && fail "cpus=$1 left a domain: $(xl list)"
	true
}
refuse "nodes:0" "no NUMA node placement"
refuse "0-" "invalid CPU set"
refuse "1,,2" "invalid CPU set"
refuse "$((ncpu + 3))" "illegal"
refuse "^0-$last" "affinity"

# --- two spinning guests on one host CPU: running, and xl top's figures ------------------------
cat >"$KEEL_TMP/spin.cfg" <<EOF
name = "spin"
kernel = "$KEEL_GUESTS/xl-spin"
memory = 16
cpus = "$last"
EOF
xl create -q "$KEEL_TMP/spin.cfg" || fail "create spin"
xl create -q "$KEEL_TMP/spin.cfg" 'name="spin2"' || fail "create spin2"
wait_for "con spin | grep -q '^spin 1'" 20 || fail "xl-spin did not spin"
wait_for "con spin2 | grep -q '^spin 1'" 20 || fail "spin2 did not spin"
wait_for "[ \"\$(flags spin)\" = r----- ]" 20 || fail "spinning guest listed as $(flags spin)"
# xl top -b: xentop's header and columns, then READY(%) GUEST(%) CORR.
# spin's "agent" (written here as a guest agent writes its own
# data/cpustat) reports 25 ticks (of USER_HZ 100) busy per second of wall time.
id=$(xl domid spin)
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
agent() {
	local t0 now busy
	t0=$(date +%s%N)
	while :; do
		now=$(date +%s%N)
		busy=$(((now - t0) / 40000000))
		st write "/local/domain/$id/data/cpustat" "cpu  $busy 0 0 $((busy * 3)) 0 0 0 0 0 0" || return
		sleep 0.1
	done
}
agent &
apid=$!
top=$(xl top -b -i 3 -d 2) || fail "xl top"
kill "$apid"
wait "$apid" 2>/dev/null
echo "$top"
hdr="      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID READY(%) GUEST(%)   CORR"
[ "$(echo "$top" | grep -cxF "$hdr")" = 3 ] || fail "xl top: not three frames with xentop's header: $(echo "$top" | head -1)"
row=$(echo "$top" | awk '$1 == "spin"' | tail -1)
echo "$row" | awk '{ exit !(NF == 22 && $2 == "-----r" && $10 == 0 && $13 == 0 && $14 == "-" && $19 == 0) }' ||
	fail "xl top row: $row"
# last frame: a spinner always wants to run, so its running and waiting
# time fill the interval; sharing its CPU, it waits at least a third of it
# (about half on an idle host, more when host work shares the CPU too)
echo "$row" | awk '{ exit !($4 + $20 >= 90 && $4 + $20 <= 110 && $20 >= 33) }' ||
	fail "spin on a shared CPU: CPU(%) and READY(%) in: $row"
# the guest's own 25 %, and CORR = CPU(%) / GUEST(%)
echo "$row" | awk '{ exit !($21 >= 15 && $21 <= 35 && ($22 - $4 / $21) ^ 2 < 0.01) }' ||
	fail "xl top GUEST(%)/CORR: $row"
echo "$top" | awk '$1 == "spin2" { print $21, $22 }' | tail -1 | grep -qx -- "- -" || fail "spin2 has no agent: $(echo "$top" | grep spin2)"
xl top -b -i 2 -d 1 | awk '$1 == "Domain-0" { s = $2; r = $20 } END { exit !(s == "-----r" && r == "-") }' || fail "xl top: Domain-0"
xl destroy spin2 || fail "destroy spin2"
xl pause spin || fail "pause"
[ "$(flags spin)" = --p--- ] || fail "paused guest listed as $(flags spin)"
xl destroy spin || fail "destroy spin"

# --- Domain-0: one vCPU per host CPU, Time(s) their sum -------------------------------------
nd0=$(xl vcpu-list Domain-0 | awk '$1 == "Domain-0"' | wc -l)
[ "$nd0" = "$ncpu" ] || fail "Domain-0 has $nd0 vCPUs on a $ncpu-CPU host"
t0=$(xl list Domain-0 | awk 'NR == 2 { print $6 }')
sum=$(xl vcpu-list Domain-0 | awk '$1 == "Domain-0" { s += $6 } END { print s }')
t1=$(xl list Domain-0 | awk 'NR == 2 { print $6 }')
echo "Domain-0: list $t0 .. $t1 s, vcpu-list sum $sum s"
# the sum was read between the two list readings; each figure is rounded to 0.1 s
awk -v a="$t0" -v b="$t1" -v s="$sum" -v n="$ncpu" \
	'BEGIN { exit !(s >= a - 0.05 * (n + 1) && s <= b + 0.05 * (n + 1)) }' ||
	fail "Domain-0's Time(s) ($t0..$t1) disagrees with its vCPUs ($sum)"
echo "xl-placement: ok"
