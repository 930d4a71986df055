# Helpers for the network tests with real guests (sourced, not a test):
# everything runs inside a private network namespace, so the bridge, its
# address and every TAP device keel-netback creates stay out of the host's
# own network and go away with the namespace.  keel-dom0-up, run inside the
# namespace under a private run directory, starts keeld, keel-xenstored,
# keel-consoled and keel-netback and creates the bridge with its address;
# `xl create` writes each vif's nodes (libxl's layout).
#
#   net_up BRIDGE CIDR      namespace, then keel-dom0-up --bridge BRIDGE --bridge-addr CIDR
#   net_guest NAME KERNEL MAC ARGS...   xl create with vif=[mac=,bridge=(,$VIF_EXTRA)]
#                           (none if $NO_VIF is set); prints the domid
#   net_con NAME            the guest's console so far (keel-consoled's log of its ring)
#   net_result NAME         wait for the guest's verdict; its console in $KEEL_TMP/NAME.con
# Sets NS, run, NB_PID, NB_LOG; defines xl, st, nsx.

NS=keelnet$$
run=$KEEL_TMP/run
NB_PID=
NB_LOG=
BRIDGE=
export KEEL_RUNDIR=$run

xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
nsx() { ip netns exec "$NS" "$@"; }

net_cleanup() {
	local rc=$?
	if [ $rc != 0 ]; then
		tail -n 30 "$run"/log/*.log 2>/dev/null
	fi
	for d in $("$KEEL_BIN/xl" list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $2 }'); do
		"$KEEL_BIN/xl" destroy "$d" >/dev/null 2>&1
	done
	# inside the namespace: the bridge it deletes is the namespace's
	if ! ip netns exec "$NS" "$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1; then
		rm -f "$run/bridge.created" # never a host bridge of the same name
		"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	fi
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
	# no IPv6 chatter (router and neighbour solicitations) on the test bridge
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	nsx "$KEEL_BIN/keel-dom0-up" --rundir "$run" --bridge "$BRIDGE" --bridge-addr "$2" \
		>"$KEEL_TMP/up.out" 2>&1 || fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
	grep -q "keel-netback running" "$KEEL_TMP/up.out" ||
		fail "keel-dom0-up did not start keel-netback: $(cat "$KEEL_TMP/up.out")"
	nsx ip -o addr show dev "$BRIDGE" | grep -q "${2%/*}" || fail "bridge $BRIDGE has no address $2"
	NB_PID=$(cat "$run/netback.pid")
	NB_LOG=$run/log/netback.log
}

# net_guest NAME KERNEL MAC ARGS...: xl create with one vif on $BRIDGE; prints the domid.
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
CFG
	[ -n "${NO_VIF:-}" ] ||
		echo "vif = [ \"mac=$mac,bridge=$BRIDGE${VIF_EXTRA:+,$VIF_EXTRA}\" ]" >>"$KEEL_TMP/$name.cfg"
	xl create "$KEEL_TMP/$name.cfg" >"$KEEL_TMP/$name.create" 2>&1 ||
		fail "create $name: $(cat "$KEEL_TMP/$name.create")"
	d=$(xl domid "$name") || fail "domid $name"
	echo "$d"
}

# net_con NAME: the guest's console so far, as keel-consoled logs it (its ring).
net_con() { cat "$run/console/guest-$1.log" 2>/dev/null; }

# net_result NAME [SECONDS]: the guest's verdict (console kept in $KEEL_TMP/NAME.con).
net_result() {
	local end=$((SECONDS + ${2:-40})) d
	d=$(xl domid "$1") || fail "no domain $1"
	until "$KEEL_BIN/keelctl" info "$d" 2>/dev/null | grep -Eq ' (shutdown|crashed) '; do
		[ $SECONDS -lt $end ] || break
		sleep 0.3
	done
	# the last lines reach the log once keel-consoled has drained the ring
	wait_for "net_con $1 | grep -q '^Test result'" 5
	net_con "$1" >"$KEEL_TMP/$1.con"
	echo "== $1 (domain $d)"
	cat "$KEEL_TMP/$1.con"
	grep -q '^Test result: SUCCESS' "$KEEL_TMP/$1.con" ||
		fail "$1: $(grep -E 'FAIL|result' "$KEEL_TMP/$1.con" | head -5)"
}
