# Shared by the xenstore-*.sh integration tests (sourced, not run: not
# executable).  Fetches Xen's clients from Debian (never installed), starts
# keel-xenstored on a private socket and journal, and stops it on exit.
: "${KEEL_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
. "$KEEL_TOP/tests/lib/common.sh"

XSD=$KEEL_BIN/keel-xenstored
XS_SOCK=$KEEL_TMP/xs.sock
XS_DATA=$KEEL_TMP/xsdata
XS_PID=
[ -x "$XSD" ] || fail "$XSD not built"

# xs_fetch_clients: Debian's xenstore-utils + the libraries they load.
xs_fetch_clients() {
	local d lib=""
	for p in libxenstore4 libxentoolcore1; do
		d=$(fetch_deb "$p") || skip "cannot download Debian package $p"
		lib="$lib:$d/usr/lib/x86_64-linux-gnu"
	done
	XS_LIBS=${lib#:}
	d=$(fetch_deb xenstore-utils) || skip "cannot download Debian package xenstore-utils"
	XS_CLIENTS=$d/usr/bin
}

# xs CLIENT ARGS...: run one of Xen's xenstore-* tools against our daemon.
xs() {
	local tool=$1; shift
	LD_LIBRARY_PATH=$XS_LIBS XENSTORED_PATH=$XS_SOCK "$XS_CLIENTS/xenstore-$tool" "$@"
}

# xs_start [DAEMON OPTIONS...]: start keel-xenstored, wait for its socket.
# $XS_LAUNCH, if set, prefixes the command (e.g. prlimit ... --).
xs_start() {
	rm -f "$KEEL_TMP/xs.pid"
	${XS_LAUNCH:-} "$XSD" --socket "$XS_SOCK" --data "$XS_DATA" --pidfile "$KEEL_TMP/xs.pid" "$@" \
		2>>"$KEEL_TMP/xsd.log" &
	XS_PID=$!
	# The pidfile is written once the socket listens (a killed daemon leaves both).
	wait_for "[ \"\$(cat '$KEEL_TMP/xs.pid' 2>/dev/null)\" = $XS_PID ]" 20 ||
		{ cat "$KEEL_TMP/xsd.log" >&2; fail "keel-xenstored did not start"; }
}

xs_alive() { [ -n "$XS_PID" ] && kill -0 "$XS_PID" 2>/dev/null; }

# xs_stop [SIGNAL]: stop the daemon (TERM: clean shutdown; KILL: crash).
xs_stop() {
	[ -n "$XS_PID" ] || return 0
	kill -"${1:-TERM}" "$XS_PID" 2>/dev/null
	wait "$XS_PID" 2>/dev/null
	XS_PID=
}

xs_cleanup() {
	xs_stop
	[ -s "$KEEL_TMP/xsd.log" ] && { echo "--- daemon log"; cat "$KEEL_TMP/xsd.log"; }
	return 0
}
trap xs_cleanup EXIT

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	echo "ok: $1"
}
