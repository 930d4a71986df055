#!/usr/bin/env bash
# programs-help: every program a user runs answers --help on stdout with
# exit 0: a usage line, what the program is for, and its options (each
# option in the usage line explained below it); xl --help lists xl's
# commands as `xl help` does.
. "$(dirname "$0")/../lib/common.sh"
for p in xl keeld keel-xenstored keel-dom0-up keel-dom0-down keel-xen-run keelctl keelstore \
	keel-blkback keel-netback keel-consoled; do
	[ -x "$KEEL_BIN/$p" ] || fail "missing $KEEL_BIN/$p (run make)"
	out=$KEEL_TMP/$p.help
	"$KEEL_BIN/$p" --help >"$out" 2>"$KEEL_TMP/$p.err" || fail "$p --help exits $?"
	[ -s "$KEEL_TMP/$p.err" ] && fail "$p --help writes to stderr: $(head -2 "$KEEL_TMP/$p.err")"
	grep -qi '^usage' "$out" || fail "$p --help has no usage line"
	[ "$(wc -l <"$out")" -ge 5 ] || fail "$p --help says too little: $(cat "$out")"
	# every --option of the usage line is explained in a line of its own
	for o in $(head -3 "$out" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -qE "^ +(-[a-z], )?$o" "$out" || fail "$p --help does not explain $o"
	done
	echo "$p: $(head -1 "$out")"
done
diff <("$KEEL_BIN/xl" --help) <("$KEEL_BIN/xl" help) >/dev/null || fail "xl --help differs from xl help"
echo "PASS: 11 programs"
