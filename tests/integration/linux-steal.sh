#!/usr/bin/env bash
# keel-test: plain-only its judgements are timing under 4x overcommit, which a sanitizer's slower exits distort; keeld's runstate code runs under SAN in every linux-* test, pinning in xl-placement
# linux-steal: runstate accounting seen by Debian's kernel, under 4x
# overcommit.  keeld keeps each vCPU's runstate area current (running,
# runnable = the vCPU thread's wait for a host CPU, blocked, offline);
# Linux turns runnable + offline into steal time.  Two Debian guests of 2
# vCPUs each run a pure user-space loop on every vCPU; as each says it is
# ready, xl vcpu-pin puts all its vCPUs on one host CPU (seen in the
# threads' affinity and in xl vcpu-list), so four busy vCPUs share it.
# Over a window of each guest (10 s of spinning between two quiet seconds):
#  * the guest's steal (its /proc/stat) and keeld's runnable time for the
#    guest's vCPUs (xl debug-keys q, sampled when the guest's quiet lines
#    appear) agree within 2 % of the window's vCPU time (0.0-1.1 % apart
#    measured, plain and SAN; this test now runs in the plain pass only);
#  * each loop is charged mostly (> 50 %) to user by the guest itself (the
#    process's utime and stime): the guest's tick reaches it in user mode.
#    64.7-98.6 % measured, plain and SAN (70.1 % once plain; a CI run
#    failed the earlier 70 % user / 1 % steal judgement plain): a vCPU the
#    host stops inside its ~3-exit tick handler takes the overdue tick in
#    kernel mode, so the share drops as exits get slower or the host busier.  Before keeld delivered ticks to user mode a spin was
#    charged mostly to the system, which this still catches;
#  * the guest's clocksource watchdog reports no long readout interval
#    during the window (timer gaps of seconds: a lost timer signal made
#    them.  Boot can still show one on a heavily loaded host: seen once,
#    right after Linux write-protected its read-only data, seconds of
#    page-table hypercalls).
# The guest runs keel-cpustat-agent (tools/xl/guest) on Debian's
# xenstore-write: xl top shows the guest's own busy share as GUEST(%) and
# CORR = keeld's CPU(%) / GUEST(%).  Printed, not judged: the value.  Over
# a few seconds at 4x, Linux's tick accounting (see below) can charge a
# guest a fraction of what it ran: CORR 1.0 for one guest and 14 for the
# other in one run, 1.3-1.4 for both in another.
# Printed, not judged: how much of the window user + system + idle + steal
# cover.  Linux charges a tick's running time only when less than a tick of
# steal came with it, so when the host runs four busy vCPUs in ~3 ms slices
# (shorter than the guest's 4 ms tick) most running time goes uncharged:
# 100.5-102 % in most runs, 82 % for one guest in a CI run whose other
# guest had 99.5 %.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
command -v flock >/dev/null || fail "flock missing (util-linux)"
lg_fetch_kernel

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
# the guest agent behind xl top's GUEST(%) and CORR, on Debian's
# xenstore-write (libxenstore over the guest kernel's /dev/xen/xenbus)
xsu=$(fetch_deb xenstore-utils) || skip "cannot download xenstore-utils"
xsl=
for p in libxenstore4 libxentoolcore1; do
	d=$(fetch_deb "$p") || skip "cannot download $p"
	xsl=$xsl${xsl:+:}$d/usr/lib/x86_64-linux-gnu
done
lg_add_prog "$root" "$xsu/usr/bin/xenstore-write" "$xsl"
cp "$KEEL_TOP/tools/xl/guest/keel-cpustat-agent" "$root/bin/" || fail "no keel-cpustat-agent"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
say() { echo "KEEL-ST: $*"; }
# /proc/stat's first line (user nice system idle iowait irq softirq steal)
# and the uptime, read by the shell itself: no fork between the two
sample() {
	read -r _ u n s i w q sq st _ </proc/stat
	read -r up _ </proc/uptime
	say "$1 $u $n $s $i $w $q $sq $st $up"
}
spin() { while :; do :; done; }
keel-cpustat-agent 1 &
say "ready"
# the host pins our vCPUs once it sees "ready" (a margin, not a
# synchronisation: the window's figures are measured whatever happened)
sleep 4
# The window's ends are quiet (every vCPU idle for a second either side):
# neither our steal nor keeld's runnable time moves there, so the host's
# samples, taken when it sees the lines, meet ours.
lr0=$(dmesg | grep -c 'Long readout interval')
sample "quiet start"
sleep 1
spin & s0=$!
spin & s1=$!
say "spinning"
sleep 10
for p in $s0 $s1; do set -- $(cat /proc/$p/stat); say "spin $p utime ${14} stime ${15}"; done
kill $s0 $s1
sleep 1
sample "quiet end"
say "long readouts $(($(dmesg | grep -c 'Long readout interval') - lr0))"
sleep 1
# keep the host CPU as busy for the other guest's window
spin & spin & sleep 14
poweroff -f
INIT
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"
lg_dom0_up --no-bridge
kpid=$(cat "$run/keeld.pid")
hostcpu=$(taskset -pc "$kpid" | sed 's/.*: *//; s/[,-].*//')
ids=
for g in st-a st-b; do
	cat >"$KEEL_TMP/$g.cfg" <<CFG
name = "$g"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 2
on_poweroff = "preserve"
CFG
	lg_create "$g" "$KEEL_TMP/$g.cfg"
	ids="$ids $id"
done

# sample NAME DOMID: pin at ready, then keeld's figure at each quiet line
sample() {
	local g=$1 d=$2 c
	c=$(lg_console "$g")
	wait_for "grep -qa '^KEEL-ST: ready' '$c'" 240 || { echo "no ready" >"$KEEL_TMP/$g.rq"; return; }
	xl vcpu-pin "$g" all "$hostcpu" >"$KEEL_TMP/$g.pin" 2>&1 || { echo "pin failed" >"$KEEL_TMP/$g.rq"; return; }
	wait_for "grep -qa '^KEEL-ST: quiet start' '$c'" 60 || { echo "no window" >"$KEEL_TMP/$g.rq"; return; }
	r0=$(keeld_runnable_ms "$d")
	# xl top over 6 s of the window: keeld's CPU(%), the agent's GUEST(%)
	# (from 2 s into the spinning, so that the agent's first report in it
	# is not one from the quiet second before; 6 s, not 4: at 4x under
	# SAN the agent's once-a-second xenstore-write, a fork and exec
	# among spinning loops, once wrote nothing new in 4 s)
	wait_for "grep -qa '^KEEL-ST: spinning' '$c'" 30 && sleep 2 && xl top -b -i 2 -d 6 >"$KEEL_TMP/$g.top" 2>&1
	wait_for "grep -qa '^KEEL-ST: quiet end' '$c'" 90 || { echo "no window end" >"$KEEL_TMP/$g.rq"; return; }
	echo "$r0 $(keeld_runnable_ms "$d")" >"$KEEL_TMP/$g.rq"
}
set -- $ids
sample st-a "$1" &
pa=$!
sample st-b "$2" &
pb=$!
LG_PIDS="$LG_PIDS $pa $pb"
wait "$pa" "$pb"

bad=0
set -- $ids
for g in st-a st-b; do
	d=$1
	shift
	read -r r0 r1 <"$KEEL_TMP/$g.rq"
	case $r0 in '' | *[!0-9]*) fail "$g: $r0 $r1" ;; esac
	# the pin moved each vCPU thread
	for t in /proc/$kpid/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		"d${d}v"*) grep -q "^Cpus_allowed_list:[[:space:]]*$hostcpu\$" "$t/status" ||
			fail "$g: thread ${t##*/} not pinned: $(grep Cpus_allowed_list "$t/status")" ;;
		esac
	done
	xl vcpu-list "$g" | tee "$KEEL_TMP/vcpus" | sed "s/^/$g: /"
	[ "$(grep -cE " $hostcpu / all\$" "$KEEL_TMP/vcpus")" = 2 ] || fail "$g: vcpu-list does not show both vCPUs pinned"
	c=$(lg_console "$g")
	grep -a '^KEEL-ST:' "$c" | tr -d '\r' | sed "s/^/$g: guest: /"
	read -r u0 n0 s0 i0 w0 q0 sq0 st0 t0 < <(grep -a '^KEEL-ST: quiet start' "$c" | tr -d '\r' | cut -d' ' -f4-)
	read -r u1 n1 s1 i1 w1 q1 sq1 st1 t1 < <(grep -a '^KEEL-ST: quiet end' "$c" | tr -d '\r' | cut -d' ' -f4-)
	lg_wait_console "$g" '^KEEL-ST: long readouts' 60 || fail "$g: no dmesg figure"
	lr=$(grep -a '^KEEL-ST: long readouts' "$c" | tr -d '\r' | cut -d' ' -f4)
	[ "$lr" = 0 ] || { echo "FAIL: $g: the guest's clocksource watchdog saw ${lr:-?} long timer gaps"; bad=1; }
	# the agent's view beside keeld's: the guest's own busy share (its
	# /proc/stat through data/cpustat) and CORR = CPU(%) / GUEST(%)
	row=$(awk -v g="$g" '$1 == g' "$KEEL_TMP/$g.top" | tail -1)
	echo "$g: xl top: $row"
	echo "$row" | awk '{ exit !(NF == 22 && $21 > 0 && ($22 - $4 / $21) ^ 2 < 0.01 * ($4 / $21) ^ 2 + 0.01) }' ||
		{ echo "FAIL: $g: xl top's GUEST(%) and CORR do not show the agent's figures beside keeld's"; bad=1; }
	spins=$(grep -a '^KEEL-ST: spin ' "$c" | tr -d '\r' | awk '{ printf "%s %s ", $5, $7 }')
	echo "$g: keeld runnable over the window: $((r1 - r0)) ms (2 vCPUs)"
	# thresholds: see the header (the figures vary with the host's load)
	umin=0.50 stol=0.02
	awk -v umin="$umin" -v stol="$stol" \
		-v g="$g" -v u="$((u1 - u0 + n1 - n0))" -v s="$((s1 - s0 + q1 - q0 + sq1 - sq0))" \
		-v i="$((i1 - i0 + w1 - w0))" -v st="$((st1 - st0))" -v t0="$t0" -v t1="$t1" \
		-v rq="$((r1 - r0))" -v spins="$spins" 'BEGIN {
		el = (t1 - t0) * 100 * 2;                  # ticks of USER_HZ 100, 2 vCPUs
		printf "%s: window %.0f vCPU ticks: user %d system %d idle %d steal %d (%.1f%%); keeld runnable %.1f%%\n",
			g, el, u, s, i, st, 100 * st / el, rq / 10 / el * 100;
		bad = 0;
		if (st < 0.15 * el) { print "FAIL: " g ": steal is " st " ticks of " el; bad = 1 }
		d = st - rq / 10; if (d < 0) d = -d;
		if (d > stol * el) { print "FAIL: " g ": guest steal " st " ticks, keeld runnable " rq / 10 " ticks"; bad = 1 }
		n = split(spins, f, " ");
		for (k = 1; k < n; k += 2) {
			printf "%s: loop charged %d user, %d system ticks (%.1f%% user)\n", g, f[k], f[k + 1],
				100 * f[k] / (f[k] + f[k + 1]);
			if (f[k] < umin * (f[k] + f[k + 1])) { print "FAIL: " g ": the loop is not charged to user"; bad = 1 }
		}
		if (n < 4) { print "FAIL: " g ": no loop figures"; bad = 1 }
		printf "%s: user+system+idle+steal %d of %d ticks (%.1f%%)\n", g, u + s + i + st, el,
			100 * (u + s + i + st) / el;
		# (printed, not judged: see the header)
		exit bad }' || bad=1
done
[ $bad = 0 ] || fail "accounting does not add up"
exit 0
