# Shared helpers for integration tests (source this file).
# Conventions: exit 0 = pass, 77 = skip (after printing "SKIP: reason"; under
# CI=true a skip fails instead), anything else = fail.  The driver sets KEEL_TOP, KEEL_BIN, KEEL_GUESTS,
# KEEL_CACHE and a private KEEL_TMP.
set -u
: "${KEEL_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KEEL_BUILD:=$KEEL_TOP/build}"
: "${KEEL_BIN:=$KEEL_BUILD/bin}"
: "${KEEL_GUESTS:=$KEEL_BUILD/guests}"
: "${KEEL_CACHE:=$KEEL_TOP/.cache}"
: "${KEEL_TMP:=$(mktemp -d /tmp/keel-test.XXXXXX)}"

# Under CI (CI=true, as .ci/run sets it) a test that cannot run is a failure:
# a download or a tool that is missing there must not pass as a skip.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: cannot run under CI: $*" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}
# (the reason is kept: diagnostics that run on exit repeat it last, where a
# runner showing a log's tail sees it)
fail() { KEEL_FAIL_REASON="$*"; echo "FAIL: $*" >&2; exit 1; }
# The runner's timeout sends SIGTERM: bash would run the EXIT trap with
# status 0 (and skip a test's diagnostics); make it a failure that says so.
trap 'fail "killed by SIGTERM (the test runner'"'"'s timeout?)"' TERM
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "needs /dev/kvm (read-write)"; }

# readme_block MARK: the fenced block (without its fences) after the line
# <!-- MARK --> in README.md -- the walkthrough's scripts, the worked xl.cfg
# files -- so tests run what the README shows.
readme_block() {
	awk -v mark="<!-- $1 -->" '
		$0 == mark { found = 1; next }
		found && !inside && /^```/ { inside = 1; next }
		inside && /^```$/ { exit }
		inside { print }' "$KEEL_TOP/README.md"
}

# fetch_deb PACKAGE: download a Debian package (never installed) and unpack it
# under $KEEL_CACHE/debs/PACKAGE; prints that directory.  Nothing from it is
# committed.  Packages may be a glob-free name such as xenstore-utils.
fetch_deb() {
	local pkg=$1 dir=$KEEL_CACHE/debs/$1 dl=$KEEL_CACHE/debs/.download
	if [ ! -f "$dir/.unpacked" ]; then
		mkdir -p "$dl" "$dir"
		(cd "$dl" && rm -f "${pkg}"_*.deb &&
			{ apt-get download "$pkg" >/dev/null 2>&1 ||
			  { apt-get update -qq >/dev/null 2>&1 && apt-get download "$pkg" >/dev/null 2>&1; }; }) ||
			return 1
		dpkg-deb -x "$dl/${pkg}"_*.deb "$dir" || return 1
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

# wait_for COND-COMMAND [TIMEOUT_S]: poll until the command succeeds.
wait_for() {
	local i=0 limit=$(( ${2:-10} * 20 ))
	until eval "$1"; do
		i=$((i + 1)); [ $i -ge $limit ] && return 1
		sleep 0.05
	done
}

# start_keeld: run a private `keeld daemon` under $KEEL_TMP/run for this test
# (stopped at exit), wait for its socket, export KEEL_RUNDIR and define
# `ctl` (keelctl on that rundir).  Sets $run and $kpid.
start_keeld() {
	run=$KEEL_TMP/run
	"$KEEL_BIN/keeld" daemon --rundir "$run" 2>"$KEEL_TMP/keeld.log" &
	kpid=$!
	trap 'kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null' EXIT
	wait_for "[ -S $run/keeld.sock ]" 10 || fail "keeld did not create its socket"
	export KEEL_RUNDIR=$run
}
ctl() { "$KEEL_BIN/keelctl" --rundir "$KEEL_RUNDIR" "$@"; }

# need_bin PROGRAM...: fail unless each program is built; need_guest GUEST...:
# the same for Keel's test guests.
need_bin() {
	local f
	for f; do [ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"; done
}
need_guest() {
	local g
	for g; do [ -f "$KEEL_GUESTS/$g" ] || fail "missing $KEEL_GUESTS/$g"; done
}

# The commands a test runs against the host under $run: xl, the store
# client, and `con DOM` (what the domain's console has printed so far).
xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
con() { timeout 2 "$KEEL_BIN/xl" console "$1" 2>/dev/null; }

# keeld_q DOMID: keeld's 'q' report of one domain (its line and its vCPUs'),
# one dump at a time (a lock under $KEEL_TMP, for samplers side by side).
keeld_q() {
	{
		flock 9
		xl dmesg -c >/dev/null
		xl debug-keys q >/dev/null && xl dmesg
	} 9>"$KEEL_TMP/q.lock" |
		awk -v d="d$1" '$1 == d { on = 1; print; next } /^d[0-9]+ / { on = 0 } on'
}
# keeld_runnable_ms DOMID: the domain's vCPUs' runnable time together, ms
keeld_runnable_ms() {
	keeld_q "$1" | awk '/vcpu [0-9]+:/ { if (match($0, /runnable [0-9]+/)) n += substr($0, RSTART + 9, RLENGTH - 9) }
		END { print n + 0 }'
}
# keeld_clock_ns DOMID: the domain's clock minus the host's monotonic one, ns
keeld_clock_ns() {
	keeld_q "$1" | sed -n "s/^d$1 .*guest - host \(-*[0-9]*\) ns.*/\1/p"
}

# xl_host_up [keel-dom0-up OPTION...]: a private Keel host for one test
# (keeld, the store, the console and device backends) under $KEEL_TMP/run,
# with $run set and KEEL_RUNDIR exported.  At exit xl_host_down takes it
# down; if the test failed, it first prints the tail of every daemon's log
# and runs the test's own xl_host_diag function, if it defines one.  A test
# with more to tear down names it in xl_host_also_down (a command).
xl_host_up() {
	need_bin xl keel-dom0-up keel-dom0-down
	run=$KEEL_TMP/run
	export KEEL_RUNDIR=$run
	trap xl_host_down EXIT
	"$KEEL_BIN/keel-dom0-up" --rundir "$run" "$@" >"$KEEL_TMP/up.out" 2>&1 ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
}
xl_host_down() {
	local rc=$?
	if [ $rc != 0 ]; then
		tail -n 15 "$run"/log/*.log 2>/dev/null
		! declare -F xl_host_diag >/dev/null || xl_host_diag
	fi
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	[ -z "${xl_host_also_down:-}" ] || eval "$xl_host_also_down"
	return $rc
}
