#!/usr/bin/env bash
# linux-steal: runstate accounting seen by Debian's kernel.  keeld keeps
# each vCPU's runstate area current (running, runnable = the vCPU thread's
# wait for a host CPU, blocked, offline); Linux turns runnable + offline
# into steal time.  A 1-vCPU Debian guest spins in user space while the
# host pins its vCPU with xl vcpu-pin (the thread d<domid>v0's affinity,
# and xl vcpu-list's column) and a busy loop of its own to one host CPU:
# the guest's /proc/stat shows steal (a third to a half of the window);
# keeld's runnable time over the same window (xl debug-keys q)
# agrees with it (within 2 % of the window).  Printed, not judged: how
# much of the window user + system + steal + idle cover (the guest loses
# ticks when its tick handler outlasts the tick period: 100 % in the plain
# build, ~75 % under SAN), and how it splits its user-space spin between
# user and system time (its timer tick costs several exits to keeld here).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
command -v taskset >/dev/null || fail "taskset missing (util-linux)"
lg_fetch_kernel

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
say() { echo "KEEL-ST: $*"; }
# the first line of /proc/stat: user nice system idle iowait irq softirq steal
cpu() { set -- $(head -n 1 /proc/stat); echo "$2 $3 $4 $5 $6 $7 $8 $9"; }
say "ready"
# the host pins us and starts its own loop once it sees "ready"; the
# window starts 2 s later (a margin, not a synchronisation: the window's
# figures are measured, whenever the host's loop starts)
sleep 2
a=$(cpu); t0=$(cut -d' ' -f1 /proc/uptime)
say "window start"
end=$(( $(cut -d. -f1 /proc/uptime) + 8 ))
while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do :; done
b=$(cpu); t1=$(cut -d' ' -f1 /proc/uptime)
say "window end"
say "before $a"
say "after $b"
say "uptime $t0 $t1"
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"
lg_dom0_up --no-bridge
cat >"$KEEL_TMP/st.cfg" <<CFG
name = "linux-steal"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 1
on_poweroff = "preserve"
CFG
lg_create linux-steal "$KEEL_TMP/st.cfg"
kpid=$(cat "$run/keeld.pid")
tid=
for t in /proc/$kpid/task/*; do
	[ "$(cat "$t/comm" 2>/dev/null)" = "d${id}v0" ] && tid=${t##*/}
done
[ -n "$tid" ] || fail "no thread d${id}v0 in keeld"
lg_wait_console linux-steal '^KEEL-ST: ready' 120 || fail "the guest did not start"
# xl vcpu-pin moves the vCPU thread: its affinity, and xl vcpu-list's column
xl vcpu-pin linux-steal 0 0 1 || fail "xl vcpu-pin"
grep -q '^Cpus_allowed_list:[[:space:]]*0$' "/proc/$kpid/task/$tid/status" ||
	fail "vcpu-pin did not pin thread $tid: $(grep Cpus_allowed_list "/proc/$kpid/task/$tid/status")"
xl vcpu-list linux-steal | tee "$KEEL_TMP/vcpus" | sed 's/^/linux-steal: /'
grep -qE ' 0 / 1$' "$KEEL_TMP/vcpus" || fail "vcpu-list does not show hard 0 / soft 1"
xl vcpu-pin linux-steal 1 0 >/dev/null 2>&1 && fail "vcpu-pin of a vCPU the guest does not have"
taskset -c 0 sh -c 'while :; do :; done' &
hog=$!
LG_PIDS="$LG_PIDS $hog"
rq() { xl debug-keys q >/dev/null && xl dmesg | grep "vcpu 0:" | grep -o 'runnable [0-9]*' | tail -n 1 | cut -d' ' -f2; }
# keeld's figure is sampled as soon as each window line appears (20 ms
# polls: lg_wait_console's 0.5 s would shift the two samples apart by up to
# a few % of the window)
wait_line() { wait_for "grep -qa '^KEEL-ST: $1' '$con'" "$2"; }
wait_line 'window start' 30 || fail "no window"
r0=$(rq)
wait_line 'window end' 60 || fail "the window did not end"
r1=$(rq)
kill "$hog"
lg_wait_console linux-steal '^KEEL-ST: uptime' 30 || fail "no figures"
grep -a '^KEEL-ST:' "$con" | tr -d '\r' | sed 's/^/linux-steal: guest: /'
read -r u0 n0 s0 i0 w0 q0 sq0 st0 < <(grep -a '^KEEL-ST: before' "$con" | tr -d '\r' | cut -d' ' -f3-)
read -r u1 n1 s1 i1 w1 q1 sq1 st1 < <(grep -a '^KEEL-ST: after' "$con" | tr -d '\r' | cut -d' ' -f3-)
read -r t0 t1 < <(grep -a '^KEEL-ST: uptime' "$con" | tr -d '\r' | cut -d' ' -f3-)
echo "linux-steal: keeld runnable over the window: $((r1 - r0)) ms"
awk -v u="$((u1 - u0 + n1 - n0))" -v s="$((s1 - s0 + q1 - q0 + sq1 - sq0))" -v i="$((i1 - i0 + w1 - w0))" \
	-v st="$((st1 - st0))" -v t0="$t0" -v t1="$t1" -v rq="$((r1 - r0))" 'BEGIN {
	el = (t1 - t0) * 100;                      # ticks of USER_HZ 100
	printf "linux-steal: window %.0f ticks: user %d system %d idle %d steal %d (%.1f%%); keeld runnable %.1f%%\n",
		el, u, s, i, st, 100 * st / el, rq / 10 / el * 100;
	bad = 0;
	if (st < 0.15 * el) { print "FAIL: steal is " st " ticks of " el; bad = 1 }
	d = st - rq / 10; if (d < 0) d = -d;
	if (d > 0.02 * el) { print "FAIL: guest steal " st " ticks, keeld runnable " rq / 10 " ticks"; bad = 1 }
	# (printed, not judged: the guest loses ticks when its tick handler
	# outlasts the tick period, as it does under the SAN build)
	printf "linux-steal: user+system+idle+steal %d of %d ticks\n", u + s + i + st, el;
	exit bad }' || fail "accounting does not add up"
exit 0
