#!/usr/bin/env bash
# xl-e2e-cmds: the commands issue 20 added or reformatted, on a real keeld
# with a small running guest (xl-idle): xl info with every Xen 4.17 field in
# xl's order and real host values (virt_caps, cpu_mhz, hw_caps), the prefix
# filter; list -Z/-c/-n; vm-list; vcpu-list's online and offline rows;
# uptime -s; cpupool-list and claims; sched-credit2 reading and setting the weight sched-credit
# shows; trigger and button-press refused as Xen refuses them for a PV
# guest; config-update replacing what list -l shows; max_event_channels
# reaching keeld (the evt-limit guest is refused exactly past it); a
# refused key (vtpm=) failing create with nothing left behind.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
for f in xl keeld keel-dom0-up keel-dom0-down; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
for g in xl-idle evt-limit; do
	[ -f "$KEEL_GUESTS/$g" ] || fail "missing $KEEL_GUESTS/$g"
done

run=$KEEL_TMP/run
cleanup() {
	local rc=$?
	[ $rc = 0 ] || tail -n 15 "$run"/log/*.log 2>/dev/null
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	return $rc
}
trap cleanup EXIT
export KEEL_RUNDIR=$run
cd "$KEEL_TMP" || fail "no temp dir"
xl() { "$KEEL_BIN/xl" "$@"; }
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge > "$KEEL_TMP/up.out" ||
	fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"

cat > "$KEEL_TMP/idle.cfg" << EOF
name = "idle"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 16
vcpus = 1
maxvcpus = 2
uuid = "0badc0de-1234-4567-89ab-cdef01234567"
EOF
xl create -q "$KEEL_TMP/idle.cfg" || fail "create idle"
id=$(xl domid idle) || fail "domid"

# --- xl info: Xen 4.17's fields, in its order, then Keel's keel_rundir ----------
xl info > info.out || fail "xl info"
want="host release version machine nr_cpus max_cpu_id nr_nodes cores_per_socket
threads_per_core cpu_mhz hw_caps virt_caps total_memory free_memory sharing_freed_memory
sharing_used_memory outstanding_claims free_cpus xen_major xen_minor xen_extra xen_version
xen_caps xen_scheduler xen_pagesize platform_params xen_changeset xen_commandline cc_compiler
cc_compile_by cc_compile_domain cc_compile_date build_id xend_config_format keel_rundir"
got=$(sed -E 's/ *:.*//' info.out | tr '\n' ' ')
[ "$(echo $want)" = "$(echo $got)" ] || fail "xl info fields: $got"
grep -qE '^virt_caps              : pv hvm (hap|shadow) gnttab-v1 gnttab-v2$' info.out ||
	fail "virt_caps: $(grep virt_caps info.out)"
[ "$(xl info nr_cpus)" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "nr_cpus"
xl info cpu_mhz | grep -qE '^[0-9]+\.[0-9]{3}$' || fail "cpu_mhz: $(xl info cpu_mhz)"
xl info hw_caps | grep -qE '^([0-9a-f]{8}:){7}[0-9a-f]{8}$' || fail "hw_caps: $(xl info hw_caps)"
[ "$(xl info xen_scheduler)" = credit ] || fail "xen_scheduler"
[ "$(xl info xen_v)" = "$(xl info xen_version)" ] || fail "prefix filter"
xl info xen_commandline | grep -q 'keeld' || fail "xen_commandline: $(xl info xen_commandline)"
[ -z "$(xl info nosuch)" ] || fail "an unknown field printed something"
xl info -n > infon.out || fail "xl info -n"
[ "$(sed -n '/^cpu:    core/,/^device topology/p' infon.out | grep -cE '^ *[0-9]+: +[0-9]+ +[0-9]+ +[0-9]+$')" = \
	"$(getconf _NPROCESSORS_CONF)" ] ||
	fail "info -n cpu_topology: $(cat infon.out)"
grep -qE '^   0: +[0-9]+ +[0-9]+ +[0-9,]+$' infon.out || fail "info -n numa_info: $(cat infon.out)"
grep -A1 '^free_cpus' infon.out | grep -q '^cpu_topology           :$' || fail "info -n: sections not after free_cpus"

# --- list columns, vm-list, vcpu-list, uptime -s ------------------------------------
xl list -c idle | grep -qE "^idle +$id +16 +1 .* +Pool-0$" || fail "list -c: $(xl list -c idle)"
xl list -Z idle | grep -qE "^idle +$id .* +-$" || fail "list -Z: $(xl list -Z idle)"
xl list -n idle | grep -qE "^idle +$id .* all$" || fail "list -n: $(xl list -n idle)"
xl vm-list > vm.out || fail "vm-list"
head -1 vm.out | grep -qx 'UUID                                  ID    name' || fail "vm-list header"
grep -qE "^0badc0de-1234-4567-89ab-cdef01234567  $id    idle +$" vm.out || fail "vm-list: $(cat vm.out)"
grep -q Domain-0 vm.out && fail "vm-list lists dom0"
xl vcpu-list idle > vcpu.out || fail "vcpu-list"
grep -qE "^idle {28} +$id +0 +[0-9]+   [r-][b-]- +[0-9]+\.[0-9]  all / all$" vcpu.out ||
	fail "vcpu-list online row: $(cat vcpu.out)"
grep -qE "^idle {28} +$id +1 +-   --p +[0-9]+\.[0-9]  all / all$" vcpu.out ||
	fail "vcpu-list offline row: $(cat vcpu.out)"
xl vcpu-list nosuch 2> err && fail "vcpu-list of a missing domain succeeded"
xl uptime -s idle | grep -qE "^ [0-9]{2}:[0-9]{2}:[0-9]{2} up  0:0[0-9], idle \($id\)$" ||
	fail "uptime -s: $(xl uptime -s idle)"

# --- sched-credit2: the same weight and cap as sched-credit -----------------------
xl sched-credit2 -d idle -w 512 -c 30 || fail "sched-credit2 set"
xl sched-credit -d idle | grep -qE "^idle +$id +512 +30$" || fail "credit after credit2: $(xl sched-credit -d idle)"
xl sched-credit2 -d idle | grep -qE "^idle +$id +512 +30$" || fail "credit2: $(xl sched-credit2 -d idle)"
xl sched-credit2 > sc.out 2> /dev/null || fail "sched-credit2 list"
xl cpupool-list > pool.out || fail "cpupool-list"
grep -qE "^Pool-0 +$(getconf _NPROCESSORS_ONLN) +credit +y +2$" pool.out || fail "cpupool-list: $(cat pool.out)"
xl claims 2> /dev/null | grep -qE "^idle +$id .* +0$" || fail "claims: $(xl claims 2>&1)"
head -1 sc.out | grep -qx 'Cpupool Pool-0: \[sched params unavailable\]' || fail "pool line: $(head -1 sc.out)"

# --- trigger / button-press: what Xen answers for a PV guest, exit 0 ---------------
xl trigger idle nmi 2> err || fail "trigger exit status"
[ -s err ] && fail "trigger nmi: $(cat err)"
xl trigger idle nmi 9 2> err || fail "trigger exit status"
grep -q "Domain $id:Send trigger 'nmi' failed: No such process" err || fail "trigger nmi 9: $(cat err)"
xl button-press idle power 2> err || fail "button-press exit status"
grep -q "Send trigger 'power' failed: Invalid argument" err || fail "button-press: $(cat err)"
xl list idle | grep -qE "^idle +$id " || fail "the guest did not survive the triggers"

# --- config-update: list -l shows the new configuration, same UUID ---------------
xl config-update idle "$KEEL_TMP/idle.cfg" 'memory=24' 'cpu_weight=700' 2> err || fail "config-update: $(cat err)"
grep -q "setting dom$id configuration" err || fail "config-update message"
xl list -l idle > l.json || fail "list -l"
grep -q '"target_memkb": 24576' l.json || fail "config-update memory: $(cat l.json)"
grep -q '"weight": 700' l.json || fail "config-update weight"
grep -q '"uuid": "0badc0de-1234-4567-89ab-cdef01234567"' l.json || fail "config-update uuid"
xl destroy idle || fail "destroy"

# --- max_event_channels reaches keeld ---------------------------------------------
cat > "$KEEL_TMP/evl.cfg" << EOF
name = "evl"
kernel = "$KEEL_GUESTS/evt-limit"
memory = 16
cmdline = "limit=8"
max_event_channels = 8
on_poweroff = "preserve"
on_crash = "preserve"
EOF
xl create -q "$KEEL_TMP/evl.cfg" || fail "create evl"
wait_for "xl list evl | grep -qE ' -*s'" 60 || fail "evt-limit did not finish: $(xl list evl)"
timeout 5 "$KEEL_BIN/xl" console evl < /dev/null > evl.out 2>&1
grep -q '^Test result: SUCCESS' evl.out || fail "evt-limit with max_event_channels=8: $(cat evl.out)"
xl destroy evl
xl create -q "$KEEL_TMP/evl.cfg" 'max_event_channels=100000' 2> err && fail "max_event_channels=100000 accepted"
grep -q "keeld refused max_event_channels=100000" err || fail "max_event_channels message: $(cat err)"
xl list evl 2> /dev/null && fail "a refused create left a domain"

# --- a refused key fails create and leaves nothing -----------------------------------
xl create -q "$KEEL_TMP/idle.cfg" 'vtpm=["backend=0"]' 2> err && fail "vtpm= accepted"
grep -q "\`vtpm' cannot be honoured by Keel (no vTPM backend)" err || fail "vtpm message: $(cat err)"
xl list idle 2> /dev/null && fail "a refused create left a domain"
echo "PASS: xl's issue-20 commands on keeld"
