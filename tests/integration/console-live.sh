#!/usr/bin/env bash
# console-live: `xl console` shows a guest's console live from its first byte,
# and a late attach shows the recent output, then live (as xenconsoled does).
# cons-live writes on its PV console ring (as Linux's hvc0 does) one line at
# once and another 5 s later.
#  1. `xl create -c` sees both lines, 10 times in a row (half of them on a
#     pseudo-terminal through script(1), half through a pipe), and so does
#     `xl console` started right after `xl create`, 3 times.  The runs go two
#     at a time; each waits for the second line on its output, then destroys
#     the domain, and the console must end with it.
#  2. After the guest printed 3000 numbered lines (more than keel-consoled's
#     window of recent output), a new `xl console` shows the last ones, from
#     the start of a line, and not the first.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_bin keel-consoled
need_guest cons-live
have_script=no
command -v script >/dev/null && have_script=yes

# on failure: is the store daemon alive, and still listening on its socket?
xl_host_diag() {
	local xp
	xp=$(cat "$run/xenstored.pid" 2>/dev/null)
	echo "keel-xenstored pid ${xp:-?}: $(kill -0 "$xp" 2>/dev/null && echo alive || echo gone)"
	ls -l "/proc/$xp/fd" 2>/dev/null | sed 's/^/    /'
	command -v ss >/dev/null && ss -xlp 2>/dev/null | grep -F "$run" | sed 's/^/    /'
	st control conns 2>&1 | sed 's/^/    /'
}
xl_host_up --no-bridge
grep -q "keel-consoled running" "$KEEL_TMP/up.out" || fail "keel-consoled did not start: $(cat "$KEEL_TMP/up.out")"
cat >"$KEEL_TMP/live.cfg" <<CFG
kernel = "$KEEL_GUESTS/cons-live"
memory = 16
vcpus = 1
CFG

# live NAME MODE: one domain, its console attached by MODE (pipe: `xl create -c`
# reading a pipe; pty: the same under script(1); console: `xl create`, then
# `xl console`); both lines must show, and the console must end on destroy.
live() {
	local name=$1 mode=$2 out=$KEEL_TMP/$1.out in=$KEEL_TMP/$1.in pid
	# input that stays open and silent (this subshell holds the writing end)
	mkfifo "$in" && exec 3<>"$in" || return 1
	case $mode in
	pipe)
		xl create -c -q "$KEEL_TMP/live.cfg" "name=\"$name\"" <"$in" >"$out" 2>&1 &
		;;
	pty)
		script -q -e -c "$KEEL_BIN/xl create -c -q $KEEL_TMP/live.cfg name=\\\"$name\\\"" \
			/dev/null <"$in" >"$out" 2>&1 &
		;;
	console)
		xl create -q "$KEEL_TMP/live.cfg" "name=\"$name\"" >"$out.create" 2>&1 ||
			{ echo "$name: create: $(cat "$out.create")"; return 1; }
		xl console "$name" <"$in" >"$out" 2>&1 &
		;;
	esac
	pid=$!
	if ! wait_for "grep -q 'cons-live: second' '$out'" 30; then
		echo "$name ($mode): no second line after 30 s; saw: $(tr -d '\r' <"$out" | tr '\n' '|')"
		echo "$name: log: $(tr -d '\r' <"$run/console/guest-$name.log" 2>/dev/null | tr '\n' '|')"
		xl destroy "$name" >/dev/null 2>&1
		kill "$pid" 2>/dev/null
		return 1
	fi
	grep -q 'cons-live: first' "$out" || { echo "$name ($mode): no first line: $(cat "$out")"; return 1; }
	xl destroy "$name" >/dev/null 2>&1 || { echo "$name: destroy failed"; return 1; }
	wait_for "! kill -0 $pid 2>/dev/null" 10 || { echo "$name ($mode): the console did not end with the domain"; kill "$pid"; return 1; }
	wait "$pid" 2>/dev/null
	echo "$name ($mode): both lines"
	return 0
}

# --- 1. live from the first byte -----------------------------------------------------
modes=()
for i in 1 2 3 4 5 6 7 8 9 10; do
	if [ $have_script = yes ] && [ $((i % 2)) = 0 ]; then modes+=(pty); else modes+=(pipe); fi
done
modes+=(console console console)
bad=0
i=0
while [ $i -lt ${#modes[@]} ]; do
	pids=()
	for j in 0 1; do
		[ $((i + j)) -lt ${#modes[@]} ] || break
		live "live$((i + j))" "${modes[i + j]}" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	i=$((i + ${#pids[@]}))
done
[ $bad = 0 ] || fail "$bad of ${#modes[@]} consoles lost live output"
echo "console-live: ${#modes[@]} consoles saw the line printed 5 s after create"

# --- 2. a late attach shows the recent output ------------------------------------------
xl create -q "$KEEL_TMP/live.cfg" 'name="many"' 'extra="delay=0 lines=3000"' 2>"$KEEL_TMP/many.err" ||
	fail "create many: $(cat "$KEEL_TMP/many.err")"
log=$run/console/guest-many.log
wait_for "grep -q 'cons-live: done' '$log' 2>/dev/null" 30 || fail "many did not finish: $(tail -n 2 "$log" 2>/dev/null)"
timeout 2 "$KEEL_BIN/xl" console many </dev/null >"$KEEL_TMP/many.out" 2>/dev/null
tr -d '\r' <"$KEEL_TMP/many.out" >"$KEEL_TMP/many.txt"
echo "re-attach: $(wc -l <"$KEEL_TMP/many.txt") lines, $(wc -c <"$KEEL_TMP/many.out") bytes: $(head -n 1 "$KEEL_TMP/many.txt") ... $(tail -n 1 "$KEEL_TMP/many.txt")"
grep -qx 'cons-live: done' "$KEEL_TMP/many.txt" || fail "re-attach lacks the last line"
grep -qx 'cons-live line 3000' "$KEEL_TMP/many.txt" || fail "re-attach lacks line 3000"
grep -q 'cons-live: first' "$KEEL_TMP/many.txt" && fail "re-attach replayed the start of the output"
grep -qx 'cons-live line 1' "$KEEL_TMP/many.txt" && fail "re-attach replayed line 1"
head -n 1 "$KEEL_TMP/many.txt" | grep -qx 'cons-live line [0-9]*' ||
	fail "the replay does not start at a line: '$(head -n 1 "$KEEL_TMP/many.txt")'"
grep -q 'cons-live: first' "$log" || fail "the log lost the start"
# and a second attach sees the same tail (nothing consumed by the first)
timeout 2 "$KEEL_BIN/xl" console many </dev/null 2>/dev/null | tr -d '\r' | grep -qx 'cons-live line 3000' ||
	fail "second re-attach lacks line 3000"
xl destroy many || fail "destroy many"
echo "console-live: a late attach shows the last $(wc -l <"$KEEL_TMP/many.txt") lines, not the first"
exit 0
