# Helpers for the network tests with real guests (sourced, not a test):
# everything runs inside a private network namespace, so the bridge, its
# address and every TAP device keel-netback creates stay out of the host's
# own network and go away with the namespace.  dom0's services (keeld,
# keel-xenstored, keel-consoled) run from keel-dom0-up under a private run
# directory, started inside the namespace; keel-netback is started there
# too unless keel-dom0-up already did.
#
#   net_up BRIDGE CIDR      namespace, bridge with CIDR, dom0 up, keel-netback
#   net_guest NAME KERNEL MAC ARGS...   xl create with vif=[mac=,bridge=]; prints domid
#   net_result NAME         wait for the guest's verdict; its console in $KEEL_TMP/NAME.con
# Sets NS, run, NB_PID; defines xl, st, nsx.

NS=keelnet$$
run=$KEEL_TMP/run
NB_PID=
BRIDGE=
export KEEL_RUNDIR=$run

xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
nsx() { ip netns exec "$NS" "$@"; }

net_cleanup() {
	local rc=$?
	if [ $rc != 0 ]; then
		tail -n 30 "$run"/log/*.log 2>/dev/null
		[ -f "$KEEL_TMP/netback.log" ] && tail -n 30 "$KEEL_TMP/netback.log"
	fi
	for d in $("$KEEL_BIN/xl" list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $2 }'); do
		"$KEEL_BIN/xl" destroy "$d" >/dev/null 2>&1
	done
	if [ -n "$NB_PID" ]; then
		kill "$NB_PID" 2>/dev/null
		wait "$NB_PID" 2>/dev/null
	fi
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	return 0
}

net_up() {
	BRIDGE=$1
	need_root
	need_kvm
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	command -v ip >/dev/null || skip "needs ip (iproute2)"
	for f in xl keel-dom0-up keel-dom0-down keel-netback keelstore; do
		[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
	done
	trap net_cleanup EXIT
	ip netns add "$NS" || skip "cannot create a network namespace"
	nsx ip link set lo up
	nsx ip link add "$BRIDGE" type bridge || fail "cannot create bridge $BRIDGE"
	nsx ip addr add "$2" dev "$BRIDGE"
	nsx ip link set "$BRIDGE" up
	nsx "$KEEL_BIN/keel-dom0-up" --rundir "$run" >"$KEEL_TMP/up.out" 2>&1 ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
	if ! grep -q "keel-netback running" "$KEEL_TMP/up.out"; then
		nsx setsid "$KEEL_BIN/keel-netback" --store "$run/xenstored/socket" \
			</dev/null >"$KEEL_TMP/netback.log" 2>&1 &
		NB_PID=$!
		sleep 0.3
		kill -0 "$NB_PID" 2>/dev/null || fail "keel-netback died: $(cat "$KEEL_TMP/netback.log")"
	fi
}

# The pid of the keel-netback serving this run (ours, or keel-dom0-up's).
net_netback_pid() {
	if [ -n "$NB_PID" ]; then echo "$NB_PID"; else cat "$run/netback.pid"; fi
}

# net_guest NAME KERNEL MAC ARGS...: the guest, paused until its vif exists.
net_guest() {
	local name=$1 kernel=$2 mac=$3 d
	shift 3
	cat >"$KEEL_TMP/$name.cfg" <<CFG
name = "$name"
kernel = "$kernel"
memory = 16
vcpus = 1
on_poweroff = "preserve"
on_crash = "preserve"
extra = "$*"
vif = [ "mac=$mac,bridge=$BRIDGE" ]
CFG
	xl create -p "$KEEL_TMP/$name.cfg" >"$KEEL_TMP/$name.create" 2>&1 ||
		fail "create $name: $(cat "$KEEL_TMP/$name.create")"
	d=$(xl domid "$name") || fail "domid $name"
	if ! st read "/local/domain/$d/device/vif/0/backend" >/dev/null 2>&1; then
		# xl does not write vif nodes yet: the same layout libxl writes
		local be=/local/domain/0/backend/vif/$d/0 fe=/local/domain/$d/device/vif/0
		# the directories first, with their owners: new nodes inherit the parent's perms
		st mkdir $fe >/dev/null && st chmod $fe "n$d" r0 >/dev/null &&
			st mkdir $be >/dev/null && st chmod $be n0 "r$d" >/dev/null ||
			fail "cannot create the vif directories of $name"
		st txwrite $fe/backend $be $fe/backend-id 0 $fe/handle 0 $fe/mac "$mac" \
			$fe/state 1 $be/frontend $fe $be/frontend-id "$d" $be/online 1 \
			$be/state 1 $be/mac "$mac" $be/bridge "$BRIDGE" $be/handle 0 \
			$be/script vif-bridge $be/type vif $be/mtu 1500 >/dev/null ||
			fail "cannot write the vif nodes of $name"
	fi
	xl unpause "$name" >/dev/null 2>&1 || fail "unpause $name"
	echo "$d"
}

# net_result NAME [SECONDS]: the guest's verdict (console kept in $KEEL_TMP/NAME.con).
net_result() {
	local end=$((SECONDS + ${2:-40})) d
	d=$(xl domid "$1") || fail "no domain $1"
	until "$KEEL_BIN/keelctl" info "$d" 2>/dev/null | grep -Eq ' (shutdown|crashed) '; do
		[ $SECONDS -lt $end ] || break
		sleep 0.3
	done
	"$KEEL_BIN/keelctl" console "$d" >"$KEEL_TMP/$1.con" 2>/dev/null ||
		timeout 2 "$KEEL_BIN/xl" console "$1" >"$KEEL_TMP/$1.con" 2>/dev/null
	echo "== $1 (domain $d)"
	cat "$KEEL_TMP/$1.con"
	grep -q '^Test result: SUCCESS' "$KEEL_TMP/$1.con" ||
		fail "$1: $(grep -E 'FAIL|result' "$KEEL_TMP/$1.con" | head -5)"
}
