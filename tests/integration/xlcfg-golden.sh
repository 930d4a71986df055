#!/bin/bash
# Golden-file tests for xl.cfg parsing: every tests/golden/xlcfg/NAME.cfg
# (and NAME.xml, libvirt XML) is given to `xl create -n` (with the arguments
# listed one per line in NAME.args, if any).  Its stdout must equal NAME.json
# when that exists, its stderr must equal NAME.stderr, and its exit status
# NAME.rc (default 0).  Broken configs therefore check the exact
# file:line:col messages.  NAME.libvirt.xml, when present, is the expected
# `xl domxml-from-native xen-xl NAME.cfg`.  README.md's worked xl.cfg
# files (the block after a <!-- xlcfg:NAME --> line) must parse to
# readme/NAME.json and readme/NAME.stderr.
#   tests/integration/xlcfg-golden.sh --regen   rewrites the expected files
#   (review the diff before committing it).
. "$(dirname "$0")/../lib/common.sh"

XL=$KEEL_BIN/xl
[ -x "$XL" ] || fail "$XL not built"
dir=$KEEL_TOP/tests/golden/xlcfg
regen=0
[ "${1:-}" = --regen ] && regen=1
cd "$dir" || fail "no $dir"

n=0 bad=0
for cfg in *.cfg *.xml; do
	case $cfg in *.libvirt.xml) continue ;; esac
	name=${cfg%.*}
	args=()
	[ -f "$name.args" ] && mapfile -t args < "$name.args"
	out=$KEEL_TMP/$name.out err=$KEEL_TMP/$name.err
	"$XL" create -n "$cfg" "${args[@]}" > "$out" 2> "$err"
	rc=$?
	if [ $regen = 1 ]; then
		if [ $rc = 0 ]; then cp "$out" "$name.json"; else rm -f "$name.json"; fi
		cp "$err" "$name.stderr"
		if [ $rc = 0 ]; then rm -f "$name.rc"; else echo $rc > "$name.rc"; fi
		case $cfg in
		full.cfg | disks.cfg | vifs.cfg) "$XL" domxml-from-native xen-xl "$cfg" > "$name.libvirt.xml" ;;
		esac
		continue
	fi
	n=$((n + 1))
	want_rc=0
	[ -f "$name.rc" ] && want_rc=$(cat "$name.rc")
	if [ "$rc" != "$want_rc" ]; then
		echo "$cfg: exit status $rc, expected $want_rc"; bad=$((bad + 1)); continue
	fi
	if [ -f "$name.json" ] && ! diff -u "$name.json" "$out"; then
		echo "$cfg: stdout differs from $name.json"; bad=$((bad + 1)); continue
	fi
	if [ ! -f "$name.json" ] && [ -s "$out" ]; then
		echo "$cfg: unexpected output on stdout"; bad=$((bad + 1)); continue
	fi
	if ! diff -u "$name.stderr" "$err"; then
		echo "$cfg: stderr differs from $name.stderr"; bad=$((bad + 1)); continue
	fi
done
for want in *.libvirt.xml; do
	[ -e "$want" ] || continue
	name=${want%.libvirt.xml}
	n=$((n + 1))
	"$XL" domxml-from-native xen-xl "$name.cfg" > "$KEEL_TMP/$name.lv" 2> /dev/null ||
		{ echo "$name.cfg: domxml-from-native failed"; bad=$((bad + 1)); continue; }
	diff -u "$want" "$KEEL_TMP/$name.lv" || { echo "$want differs"; bad=$((bad + 1)); }
done
# README.md's worked configs: the block after each <!-- xlcfg:NAME --> line
# must parse as it is (exit 0), to readme/NAME.json and readme/NAME.stderr.
for name in $(sed -n 's/^<!-- xlcfg:\([a-z0-9-]*\) -->$/\1/p' "$KEEL_TOP/README.md"); do
	readme_block "xlcfg:$name" >"$KEEL_TMP/readme-$name.cfg"
	[ -s "$KEEL_TMP/readme-$name.cfg" ] || fail "README's xlcfg:$name marker has no block after it"
	out=$KEEL_TMP/readme-$name.out err=$KEEL_TMP/readme-$name.err
	# (no uuid= in them: xl makes one up each time)
	"$XL" create -n "$KEEL_TMP/readme-$name.cfg" 2>&1 >"$out.raw" |
		sed "s|$KEEL_TMP/readme-$name.cfg|README:$name|" >"$err"
	rc=${PIPESTATUS[0]}
	grep -v '^ *"uuid": ' "$out.raw" >"$out"
	if [ $regen = 1 ]; then
		mkdir -p readme && cp "$out" "readme/$name.json" && cp "$err" "readme/$name.stderr"
		continue
	fi
	n=$((n + 1))
	[ $rc = 0 ] || { echo "README's $name config: exit $rc: $(cat "$err")"; bad=$((bad + 1)); continue; }
	diff -u "readme/$name.json" "$out" || { echo "README's $name config: stdout differs from readme/$name.json"; bad=$((bad + 1)); }
	diff -u "readme/$name.stderr" "$err" || { echo "README's $name config: stderr differs from readme/$name.stderr"; bad=$((bad + 1)); }
done
[ $regen = 1 ] && { echo "regenerated expected files in $dir"; exit 0; }
[ $n -ge 10 ] || fail "only $n golden configs found"
[ $bad = 0 ] || fail "$bad of $n golden configs differ"
echo "PASS: $n golden configs"
