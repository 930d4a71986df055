#!/usr/bin/env bash
# xl-golden: the output of xl's commands, byte for byte, against
# tests/golden/xl-cmds/ -- through xl-fixture (the real command code with a
# test-double backend, no hypervisor), so Xen 4.17's format strings are
# checked everywhere: info (every field in xl's order, virt_caps' own
# layout, the prefix filter), list -v/-Z/-c/-n, vm-list, vcpu-list's rows
# (online, offline), uptime and uptime -s, sched-credit / sched-credit2 with
# the pool line, claims, cpupool-list, the FLASK commands (XSM disabled),
# trigger and button-press (refused as Xen refuses them for a
# PV guest: libxl's message, exit 0), config-update, help for the new
# commands, and an unknown command.  Each golden file holds the command,
# its stdout, its stderr and its exit status; the wall clock, uptime
# seconds and the host's CPUs are masked.
#   tests/integration/xl-golden.sh --regen   rewrites the golden files
. "$(dirname "$0")/../lib/common.sh"

X=$KEEL_BIN/xl-fixture
[ -x "$X" ] || fail "$X not built"
gold=$KEEL_TOP/tests/golden/xl-cmds
regen=0
[ "${1:-}" = --regen ] && regen=1
cd "$KEEL_TMP" || fail "no temp dir"
export XL_FIXTURE=$KEEL_TMP/fx
now=$(date +%s)
up1=$((now - 90061))                  # 1 day, 1:01:01 ago
up2=$((now - 3 * 86400 - 7200 - 180)) # 3 days, 2:03:00 ago
{
	cat "$KEEL_TOP/tests/golden/xl-cmds-fixture"
	echo "dom 0 Domain-0 1048576 1048576 2 2 r 123456789000 00000000-0000-0000-0000-000000000000 256 0 $now"
	echo "dom 3 web 524288 1048576 2 4 b 1500000000 11111111-2222-3333-4444-555555555555 512 50 $up1"
	echo "dom 7 db 262144 262144 1 1 rp 98700000000 33333333-4444-5555-6666-777777777777 256 0 $up2"
} > "$XL_FIXTURE"
printf 'name = "web"\nmemory = 768\nvcpus = 2\ncpu_weight = 1024\n' > new.cfg

n=0
# case_ NAME ARGS...: run xl-fixture ARGS, compare with golden NAME
case_() {
	local name=$1 rc
	shift
	n=$((n + 1))
	"$X" "$@" > out 2> err
	rc=$?
	{
		echo "\$ xl $*"
		cat out
		echo "--- stderr"
		cat err
		echo "--- exit $rc"
	} | sed -E -e 's/^ [0-9]{2}:[0-9]{2}:[0-9]{2} up / @CLOCK@ up /' \
		-e 's/^(Domain-0 +0 ) ?[0-9 ][0-9]:[0-9]{2}:[0-9]{2}$/\1@UP@/' \
		-e 's/^( @CLOCK@ up ).*(, Domain-0 \(0\))$/\1@UP@\2/' \
		-e 's/(1 day,  1:01:)[0-9]{2}$/\1@S@/' -e 's/(3 days,  2:03:)[0-9]{2}$/\1@S@/' \
		-e 's/^(Pool-0 {13}) *[0-9]+( +credit )/\1@NCPUS@\2/' -e 's/^(Pool-0 {13})0(,[0-9]+)*$/\1@CPUS@/' \
		> "$name.got"
	if [ $regen = 1 ]; then
		mkdir -p "$gold" && cp "$name.got" "$gold/$name"
	else
		diff -u "$gold/$name" "$name.got" || fail "xl $* differs from tests/golden/xl-cmds/$name"
	fi
}
case_ info info
case_ info-field info xen_version
case_ info-prefix info xen_v
case_ info-virt-caps info virt_caps
case_ info-none info nosuch
case_ list list
case_ list-v list -v
case_ list-Z list -Z
case_ list-c list -c
case_ list-n list -n
case_ list-missing list nosuch
case_ vm-list vm-list
case_ vcpu-list vcpu-list
case_ vcpu-list-one vcpu-list web
case_ vcpu-list-two vcpu-list db web
case_ vcpu-list-missing vcpu-list web nosuch
case_ uptime uptime
case_ uptime-s uptime -s
case_ uptime-one uptime web
case_ uptime-missing uptime nosuch
case_ sched-credit sched-credit
case_ sched-credit-d sched-credit -d web
case_ sched-credit-s sched-credit -s
case_ sched-credit-t sched-credit -t 10
case_ sched-credit-pool sched-credit -p Pool-0
case_ sched-credit-badpool sched-credit -p other
case_ sched-credit2 sched-credit2
case_ sched-credit2-d sched-credit2 -d web
case_ sched-credit2-w sched-credit2 -d db -w 300
case_ sched-credit2-after sched-credit2 -d db
case_ sched-credit2-s sched-credit2 -s
case_ sched-credit2-nodom sched-credit2 -w 300
case_ trigger-power trigger web power
case_ trigger-nmi trigger web nmi 1
case_ trigger-nmi-novcpu trigger web nmi 9
case_ trigger-bad trigger web poke
case_ trigger-badvcpu trigger web reset x
case_ trigger-nodom trigger nosuch nmi
case_ trigger-usage trigger web
case_ button-press button-press web power
case_ button-press-bad button-press web lid
case_ config-update-noargs config-update
case_ config-update config-update web new.cfg 'vcpus=1'
case_ config-update-list list -l web
case_ config-update-nofile config-update web
case_ config-update-dryrun -N config-update web new.cfg
case_ help-trigger help trigger
case_ help-sched-credit2 help sched-credit2
case_ help-config-update help config-update
case_ domid-missing domid nosuch
case_ domname-bad domname x
case_ domname-missing domname 42
case_ destroy-dom0 destroy 0
case_ sysrq-bad sysrq web ab
case_ claims claims
case_ cpupool-list cpupool-list
case_ cpupool-list-c cpupool-list -c Pool-0
case_ cpupool-list-other cpupool-list other
case_ getenforce getenforce
case_ setenforce setenforce 1
case_ setenforce-bad setenforce maybe
case_ loadpolicy-missing loadpolicy /nonexistent/policy
case_ unknown frobnicate
case_ refused pci-attach web 0000:00:01.0
echo "PASS: $n xl outputs match tests/golden/xl-cmds/"
