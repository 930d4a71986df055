#!/usr/bin/env bash
# xl-e2e-lifecycle: dom0 brought up by keel-dom0-up in a private run
# directory, then everything through the real `xl` against keeld and
# keel-xenstored: create (with key=value overrides, -p, -c), list (xl's
# header, state letters r / p, -v UUIDs), console output, pause/unpause,
# rename, domid/domname/uptime/vcpu-list/info/dmesg/debug-keys (and the
# store's connection report), destroy, the store
# layout libxl writes (checked with the store client), a duplicate name
# refused, a second dom0 side by side, and keel-dom0-down leaving nothing
# running.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_bin keelstore
need_guest xl-idle
run2=$KEEL_TMP/run2
xl_host_diag() { tail -n 15 "$run2"/log/*.log 2>/dev/null; }
xl_host_also_down='"$KEEL_BIN/keel-dom0-down" --rundir "$run2" >/dev/null 2>&1'
xl_host_up --no-bridge
"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge | grep -q "keeld already running" || fail "dom0-up not idempotent"
[ "$(st read /local/domain/0/name)" = Domain-0 ] || fail "dom0 name not in the store"
[ "$(st read /local/domain/0/domid)" = 0 ] || fail "dom0 domid not in the store"

cat >"$KEEL_TMP/idle.cfg" <<EOF
# an xl.cfg as a Xen user writes it
name = "idle"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 16
vcpus = 1
uuid = "5a2f7e9c-1b3d-4c8e-9f60-7a1b2c3d4e5f"
extra = "ticks=0"; on_poweroff = "destroy"
EOF

# --- create, list ------------------------------------------------------------
xl create "$KEEL_TMP/idle.cfg" 'memory=12' 2>"$KEEL_TMP/create.err" || fail "create: $(cat "$KEEL_TMP/create.err")"
grep -q "^Parsing config from $KEEL_TMP/idle.cfg" "$KEEL_TMP/create.err" || fail "no 'Parsing config' line"
id=$(xl domid idle) || fail "domid"
[ "$(xl domname "$id")" = idle ] || fail "domname"
xl list >"$KEEL_TMP/list"
head -1 "$KEEL_TMP/list" | grep -qE '^Name +ID +Mem VCPUs	State	Time\(s\)$' || fail "list header: $(head -1 "$KEEL_TMP/list")"
sed -n 2p "$KEEL_TMP/list" | grep -qE '^Domain-0 +0 +[0-9]+ +[0-9]+ +r----- ' || fail "dom0 line: $(cat "$KEEL_TMP/list")"
grep -qE "^idle +$id +12 +1 +(r-----|-b----) +[0-9.]+$" "$KEEL_TMP/list" || fail "memory= override or running state: $(cat "$KEEL_TMP/list")"
xl list -v idle | grep -q "5a2f7e9c-1b3d-4c8e-9f60-7a1b2c3d4e5f" || fail "list -v UUID: $(xl list -v idle)"

# --- the store layout (libxl__domain_make / build_post / console_add) --------------
dp=/local/domain/$id
[ "$(st read $dp/name)" = idle ] || fail "$dp/name"
[ "$(st read $dp/domid)" = "$id" ] || fail "$dp/domid"
[ "$(st read $dp/vm)" = /vm/5a2f7e9c-1b3d-4c8e-9f60-7a1b2c3d4e5f ] || fail "$dp/vm"
vm=$(st read $dp/vm)
[ "$(st read "$vm/uuid")" = 5a2f7e9c-1b3d-4c8e-9f60-7a1b2c3d4e5f ] || fail "$vm/uuid"
[ "$(st read "$vm/name")" = idle ] || fail "$vm/name"
st read "$vm/start_time" | grep -qE '^[0-9]+\.[0-9]{2}$' || fail "$vm/start_time"
[ "$(st read "$vm/image/ostype")" = linux ] || fail "$vm/image/ostype"
[ "$(st read "$vm/image/kernel")" = "$KEEL_GUESTS/xl-idle" ] || fail "$vm/image/kernel"
[ "$(st read $dp/memory/target)" = 12288 ] || fail "memory/target"
[ "$(st read $dp/memory/static-max)" = 12288 ] || fail "memory/static-max"
[ "$(st read $dp/cpu/0/availability)" = online ] || fail "cpu/0/availability"
[ "$(st read $dp/control/platform-feature-xs_reset_watches)" = 1 ] || fail "platform-feature"
[ "$(st perms $dp)" = "n0 r$id" ] || fail "perms $dp: $(st perms $dp)"
[ "$(st perms $dp/control/shutdown)" = "n$id" ] || fail "perms control/shutdown: $(st perms $dp/control/shutdown)"
[ "$(st perms $dp/data)" = "n$id" ] || fail "perms data"
[ "$(st perms $dp/device)" = "n0 r$id" ] || fail "perms device"
[ "$(st perms /libxl/$id)" = "n0" ] || fail "perms /libxl/$id"
[ "$(st read /libxl/$id/type)" = pv ] || fail "/libxl/$id/type"
[ "$(st read $dp/console/type)" = xenconsoled ] || fail "console/type"
[ "$(st read $dp/console/backend)" = /local/domain/0/backend/console/$id/0 ] || fail "console/backend"
[ "$(st read /local/domain/0/backend/console/$id/0/frontend)" = $dp/console ] || fail "console backend frontend"
[ "$(st perms $dp/console)" = "n0 r$id" ] || fail "perms console"
# the frames and event channels keeld's builder gave the guest
st read $dp/store/port | grep -qE '^[1-9][0-9]*$' || fail "store/port: $(st read $dp/store/port)"
st read $dp/store/ring-ref | grep -qE '^[1-9][0-9]*$' || fail "store/ring-ref"
st read $dp/console/port | grep -qE '^[1-9][0-9]*$' || fail "console/port"
st read $dp/console/ring-ref | grep -qE '^[1-9][0-9]*$' || fail "console/ring-ref"

# --- console output (the guest's console ring, through keel-consoled) ------------------
wait_for "timeout 2 $KEEL_BIN/xl console idle 2>/dev/null | grep -q '^tick 1'" 15 || fail "no ticks on the console"
timeout 2 "$KEEL_BIN/xl" console idle >"$KEEL_TMP/con" 2>/dev/null
grep -q '^Hello from xl-idle' "$KEEL_TMP/con" || fail "console: $(head -3 "$KEEL_TMP/con")"
grep -q '^command line: "ticks=0"$' "$KEEL_TMP/con" || fail "extra= did not reach the guest"

# --- pause / unpause --------------------------------------------------------------
xl pause idle || fail "pause"
xl list idle | grep -qE "^idle +$id +12 +1 +--p--- " || fail "paused state: $(xl list idle)"
a=$(timeout 2 "$KEEL_BIN/xl" console idle 2>/dev/null | grep -c '^tick')
sleep 1.5
b=$(timeout 2 "$KEEL_BIN/xl" console idle 2>/dev/null | grep -c '^tick')
[ "$a" = "$b" ] || fail "paused domain kept ticking ($a -> $b)"
xl unpause idle || fail "unpause"
xl list idle | grep -qE " (r-----|-b----) " || fail "unpaused state: $(xl list idle)"
wait_for "[ \$(timeout 2 $KEEL_BIN/xl console idle 2>/dev/null | grep -c '^tick') -gt $b ]" 10 || fail "did not resume"

# --- the other read-only commands ---------------------------------------------------
xl vcpu-list idle | grep -qE "^idle +$id +0 +[0-9]+ +(r-|-b)- " || fail "vcpu-list: $(xl vcpu-list idle)"
xl uptime | grep -qE "^idle +$id +0:00:[0-9]{2}$" || fail "uptime: $(xl uptime)"
[ "$(xl info nr_cpus)" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "info nr_cpus"
xl dmesg | grep -q "d$id: created 'idle'" || fail "dmesg"
# debug keys, as Xen's: 'e' reports each domain's event channels in the log
# (the store port: bound to dom0's xenstored), 'h' the keys; the store
# daemon's `control conns` shows the guest's ring and its indices
xl debug-keys eh || fail "debug-keys"
xl dmesg | grep -q "^d$id event channels (2-level):" || fail "debug-keys e: $(xl dmesg | tail -n 5)"
xl dmesg | grep -A8 "^d$id event channels" | grep -qE "^  port $(st read $dp/store/port): interdomain vcpu 0 remote d0" ||
	fail "debug-keys e: no store port: $(xl dmesg | grep -A8 "^d$id event channels")"
xl dmesg | grep -q "key 'e' .* dump evtchn info" || fail "debug-keys h: $(xl dmesg | tail -n 3)"
xl debug-keys q || fail "debug-keys q"
xl dmesg | grep -A2 "^d$id 'idle': state" | grep -qE "^  vcpu 0: online 1 .* event callback 0x.* [1-9][0-9]* updates in [0-9]+ us" ||
	fail "debug-keys q: $(xl dmesg | tail -n 4)"
# the guest's clock against the host's: the same figures, apart by less than a millisecond
xl dmesg | grep "^d$id 'idle': state" | grep -qE "clock (on the TSC line|monotonic): guest [0-9]+ ns, host [0-9]+ ns, guest - host -?[0-9]{1,6} ns" ||
	fail "debug-keys q: no clock figures: $(xl dmesg | grep "^d$id 'idle'")"
xl debug-keys 2>/dev/null && fail "debug-keys without keys accepted"
st control conns "$id" | grep -qE "^domid $id ring: .* req [0-9]+/[0-9]+ rsp [0-9]+/[0-9]+ error 0 " ||
	fail "control conns: $(st control conns "$id" 2>&1)"

# --- rename (the store, where libxl keeps names) --------------------------------------
xl rename idle calm || fail "rename"
xl list calm | grep -qE "^calm +$id " || fail "renamed list"
[ "$(st read $dp/name)" = calm ] && [ "$(st read "$vm/name")" = calm ] || fail "rename in the store"
xl domid idle 2>/dev/null && fail "old name still resolves"
xl create -q "$KEEL_TMP/idle.cfg" 'name="calm"' 2>"$KEEL_TMP/dup.err" && fail "duplicate name accepted"
grep -q 'Domain with name "calm" already exists' "$KEEL_TMP/dup.err" || fail "duplicate: $(cat "$KEEL_TMP/dup.err")"
xl rename calm Domain-0 2>/dev/null && fail "renamed onto Domain-0"

# --- create -p, destroy --------------------------------------------------------------
xl create -p -q "$KEEL_TMP/idle.cfg" 'name="held"' 'uuid="0f0e0d0c-0b0a-4908-8706-050403020100"' ||
	fail "create -p"
hid=$(xl domid held)
xl list held | grep -qE "^held +$hid +16 +1 +--p--- " || fail "create -p state: $(xl list held)"
xl destroy held || fail "destroy held"
# vcpu-set and mem-set for a PV guest are store operations in libxl
xl create -p -q "$KEEL_TMP/idle.cfg" 'name="smp"' 'vcpus=1' 'maxvcpus=3' || fail "create maxvcpus"
sid=$(xl domid smp)
[ "$(st read /local/domain/$sid/cpu/1/availability)" = offline ] || fail "cpu/1 should start offline"
xl vcpu-set smp 2 || fail "vcpu-set"
[ "$(st read /local/domain/$sid/cpu/1/availability)" = online ] &&
	[ "$(st read /local/domain/$sid/cpu/2/availability)" = offline ] || fail "vcpu-set in the store"
xl vcpu-set smp 4 2>&1 | grep -q "Requested 4 VCPUs, however maxcpus is 3!" || fail "vcpu-set above maxvcpus"
xl mem-set smp 8m || fail "mem-set"
[ "$(st read /local/domain/$sid/memory/target)" = 8192 ] || fail "mem-set target"
xl mem-set smp 64m 2>/dev/null && fail "mem-set above static-max accepted"
xl destroy smp || fail "destroy smp"
xl list held 2>/dev/null && fail "destroyed domain still listed"
st read /local/domain/$hid/name 2>/dev/null && fail "destroyed domain's store nodes remain"
st read /vm/0f0e0d0c-0b0a-4908-8706-050403020100/uuid 2>/dev/null && fail "destroyed domain's /vm remains"
xl destroy 0 2>&1 | grep -q "Not destroying domain 0; use -f to force." || fail "destroy 0"
xl destroy calm || fail "destroy"
[ "$(xl list | wc -l)" = 2 ] || fail "list after destroy: $(xl list)"

# --- libvirt domain XML in, the running domain's configuration out ----------------------
xl domxml-from-native xen-xl "$KEEL_TMP/idle.cfg" >"$KEEL_TMP/idle.xml" || fail "domxml-from-native"
sed -i 's|<name>idle</name>|<name>fromxml</name>|; s|<uuid>[^<]*</uuid>|<uuid>9e8d7c6b-5a49-4382-a716-151413121110</uuid>|' \
	"$KEEL_TMP/idle.xml"
xl create -p -q "$KEEL_TMP/idle.xml" || fail "create from libvirt XML"
xl list -v fromxml | grep -q 9e8d7c6b-5a49-4382-a716-151413121110 || fail "XML domain: $(xl list -v fromxml)"
xl list -l fromxml >"$KEEL_TMP/l.json" || fail "list -l"
grep -q '"uuid": "9e8d7c6b-5a49-4382-a716-151413121110"' "$KEEL_TMP/l.json" &&
	grep -q '"name": "fromxml"' "$KEEL_TMP/l.json" || fail "list -l: $(cat "$KEEL_TMP/l.json")"
xl destroy fromxml || fail "destroy fromxml"

# --- create -c of a guest that ends by itself (the console ends with it) ----------------
timeout 30 "$KEEL_BIN/xl" create -c -q "$KEEL_TMP/idle.cfg" 'name="brief"' 'extra="ticks=1"' \
	>"$KEEL_TMP/c.out" 2>"$KEEL_TMP/c.err" || fail "create -c: $(cat "$KEEL_TMP/c.err")"
grep -q '^Hello from xl-idle' "$KEEL_TMP/c.out" && grep -q '^tick 1$' "$KEEL_TMP/c.out" &&
	grep -q 'done after 1 ticks' "$KEEL_TMP/c.out" || fail "create -c output: $(cat "$KEEL_TMP/c.out")"
wait_for "! $KEEL_BIN/xl list brief >/dev/null 2>&1" 10 || fail "on_poweroff=destroy did not destroy"

# --- a second dom0 side by side: each sees its own domains ------------------------------
"$KEEL_BIN/keel-dom0-up" --rundir "$run2" --no-bridge >/dev/null || fail "second keel-dom0-up"
KEEL_RUNDIR=$run2 "$KEEL_BIN/xl" create -p -q "$KEEL_TMP/idle.cfg" 'name="other"' || fail "create in run2"
xl list other >/dev/null 2>&1 && fail "the first dom0 sees the second's domain"
KEEL_RUNDIR=$run2 "$KEEL_BIN/xl" list other | grep -q '^other ' || fail "run2 list"
"$KEEL_BIN/keel-dom0-down" --rundir "$run2" >/dev/null || fail "second keel-dom0-down"

# --- down: nothing of ours left running -----------------------------------------------------
xl create -q "$KEEL_TMP/idle.cfg" 'name="left"' || fail "create before down"
pids="$(cat "$run/keeld.pid" "$run/xenstored.pid") $(cat "$run"/xl/monitor.* 2>/dev/null)"
[ "$(echo $pids | wc -w)" -ge 3 ] || fail "expected keeld, the store and a monitor: $pids"
"$KEEL_BIN/keel-dom0-down" --rundir "$run" >"$KEEL_TMP/down.out" || fail "keel-dom0-down"
for p in $pids; do
	[ -d /proc/$p ] && fail "pid $p ($(cat /proc/$p/comm 2>/dev/null)) still running after down"
done
[ -e "$run/keeld.sock" ] && fail "keeld socket left behind"
"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null || fail "down not idempotent"
xl list 2>&1 | grep -q "cannot reach keeld" || fail "xl without keeld should say so"
echo "xl-e2e-lifecycle: ok"
