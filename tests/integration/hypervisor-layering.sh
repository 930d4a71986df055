#!/usr/bin/env bash
# hypervisor-layering: keeld's subsystems call only inward.  From keeld's
# objects (nm), every call from one folder of hypervisor/ into another must
# go down this order -- keeld/ (the program) > ctl/ > pv/ (the PV kind) >
# gnttab/ > evtchn/ > core/ -- so there is no cycle between subsystems and
# core/ reaches a domain's kind only through its ops table.
. "$(dirname "$0")/../lib/common.sh"
obj=$KEEL_BUILD/obj/hypervisor
[ -d "$obj/core" ] || fail "no objects under $obj (run make)"
command -v nm >/dev/null || fail "nm (binutils) is missing"
order="core evtchn gnttab pv hvm ctl keeld"
for dir in $order; do
	for o in "$obj/$dir"/*.o; do
		# objects of today's sources only (a build dir may keep stale ones)
		[ -f "$KEEL_TOP/hypervisor/$dir/$(basename "$o" .o).c" ] || continue
		nm "$o" | awk -v f="$dir" '$2 ~ /^[TDBR]$/ {print "def", f, $3} $1 == "U" {print "use", f, $2}'
	done
done >"$KEEL_TMP/syms"
awk -v order="$order" '
BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
$1 == "def" { home[$3] = $2 }
$1 == "use" { use[NR] = $2 " " $3 }
END {
	bad = 0
	for (k in use) {
		split(use[k], u, " ")
		h = home[u[2]]
		if (h == "" || h == u[1]) continue
		edges[u[1] " -> " h] = 1
		if (rank[h] > rank[u[1]]) { print "outward call: " u[1] "/ calls " u[2] " in " h "/"; bad = 1 }
	}
	for (e in edges) print "edge " e
	exit bad
}' "$KEEL_TMP/syms" | sort >"$KEEL_TMP/edges"
rc=${PIPESTATUS[0]}
cat "$KEEL_TMP/edges"
grep -q "^outward" "$KEEL_TMP/edges" && fail "a subsystem calls outward (see above)"
[ "$(grep -c '^edge' "$KEEL_TMP/edges")" -ge 5 ] || fail "too few edges found: is nm reading the objects?"
echo "hypervisor-layering: ok"
