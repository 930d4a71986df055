#!/bin/bash
# Xen's own example configurations, as Debian ships them in xen-utils-common
# (/etc/xen/xlexample.*), must parse with `xl create -n` and describe what
# the files say: each example's name and its type.
. "$(dirname "$0")/../lib/common.sh"

XL=$KEEL_BIN/xl
[ -x "$XL" ] || fail "$XL not built"
dir=$(fetch_deb xen-utils-common) || skip "cannot download xen-utils-common (no network or apt source)"
shopt -s nullglob
examples=("$dir"/etc/xen/xlexample.*)
[ ${#examples[@]} -ge 2 ] || fail "no xlexample.* in xen-utils-common"

for f in "${examples[@]}"; do
	base=$(basename "$f")
	out=$KEEL_TMP/$base.json
	"$XL" create -n -q "$f" > "$out" 2> "$KEEL_TMP/$base.err" ||
		fail "$base does not parse: $(cat "$KEEL_TMP/$base.err")"
	want_name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$f")
	[ -n "$want_name" ] || fail "$base: cannot find its name= line"
	grep -q "\"name\": \"$want_name\"" "$out" || fail "$base: name $want_name not in the JSON"
	want_type=pv
	grep -q '^type *= *"hvm"' "$f" && want_type=hvm
	grep -q '^type *= *"pvh"' "$f" && want_type=pvh
	grep -q "\"type\": \"$want_type\"" "$out" || fail "$base: type $want_type not in the JSON"
	# every disk line of the example became a disk
	ndisk=$(grep -c '"pdev_path"' "$out")
	[ "$ndisk" -ge 1 ] || fail "$base: no disks parsed"
	echo "ok: $base ($want_type, $ndisk disk(s))"
done
echo "PASS: ${#examples[@]} Debian xlexample files"
