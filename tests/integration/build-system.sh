#!/usr/bin/env bash
# The build tracks header dependencies: with the tree built, make is idle, and
# pretending a header changed (make -W) rebuilds exactly the objects that
# include it — here every user of the shared ABI headers and the unit runner.
. "$(dirname "$0")/../lib/common.sh"
cd "$KEEL_TOP"
build=$(basename "$KEEL_BUILD")
[ "$build" = build-san ] && san=1 || san=0
make -q all SAN=$san BUILD="$build" || fail "tree not up to date after make all"
out=$(make -n -W tests/unit/unit.h "$build/bin/keel-unit" SAN=$san BUILD="$build")
echo "$out" | grep -q -- '-c tests/unit/main.c' || fail "unit.h change does not rebuild main.c"
for h in include/abi/*.h; do
	[ -f "$h" ] || continue
	users=$(grep -rl --include='*.c' "\"abi/$(basename "$h")\"" . 2>/dev/null | grep -v '^./build' | head -n 1)
	[ -n "$users" ] || continue
	src=${users#./}
	out=$(make -n -W "$h" all SAN=$san BUILD="$build")
	echo "$out" | grep -q -- "$src" || fail "$h change does not rebuild $src"
	echo "ok: $h -> $src"
done
echo "header dependencies tracked"
