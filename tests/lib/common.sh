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
fail() { echo "FAIL: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "needs /dev/kvm (read-write)"; }

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
