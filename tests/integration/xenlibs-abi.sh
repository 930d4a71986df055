#!/usr/bin/env bash
# xenlibs-abi: Keel's libxen*.so.1 in build/lib/xen carry Xen 4.17's ABI
# names.  For each library built: its SONAME (readelf -d); every symbol of
# Xen 4.17's map file for it, defined at its version (readelf --dyn-syms)
# and found by the loader at that version (dlopen + dlvsym, through
# keel-xenlibs-dlcheck); and nothing else exported.  Then Debian's
# qemu-system-xen (downloaded, never installed): every symbol
# /usr/libexec/xen-qemu-system-i386 imports from a Xen library we build
# must resolve in ours at the version it asks for; imports from libraries
# not built yet are listed as such.
. "$(dirname "$0")/../lib/common.sh"

xenlib=$KEEL_BUILD/lib/xen
check=$KEEL_BIN/keel-xenlibs-dlcheck
[ -x "$check" ] || fail "no $check"

# Xen 4.17's tools/libs/*/libxen*.map, as data: library, then NAME@VERSION.
declare -A xen_syms=(
[libxentoolcore.so.1]="xentoolcore_restrict_all@VERS_1.0
xentoolcore__register_active_handle@VERS_1.0
xentoolcore__deregister_active_handle@VERS_1.0
xentoolcore__restrict_by_dup2_null@VERS_1.0"
[libxenevtchn.so.1]="xenevtchn_open@VERS_1.0 xenevtchn_close@VERS_1.0 xenevtchn_fd@VERS_1.0
xenevtchn_bind_unbound_port@VERS_1.0 xenevtchn_bind_interdomain@VERS_1.0
xenevtchn_bind_virq@VERS_1.0 xenevtchn_notify@VERS_1.0 xenevtchn_unbind@VERS_1.0
xenevtchn_unmask@VERS_1.0 xenevtchn_pending@VERS_1.0
xenevtchn_restrict@VERS_1.1
xenevtchn_fdopen@VERS_1.2"
[libxengnttab.so.1]="xengnttab_open@VERS_1.0 xengnttab_close@VERS_1.0
xengnttab_set_max_grants@VERS_1.0 xengnttab_map_domain_grant_refs@VERS_1.0
xengnttab_map_grant_ref@VERS_1.0 xengnttab_map_grant_ref_notify@VERS_1.0
xengnttab_map_grant_refs@VERS_1.0 xengnttab_unmap@VERS_1.0
xengntshr_open@VERS_1.0 xengntshr_close@VERS_1.0 xengntshr_share_page_notify@VERS_1.0
xengntshr_share_pages@VERS_1.0 xengntshr_unshare@VERS_1.0
xengnttab_grant_copy@VERS_1.1
xengnttab_fd@VERS_1.2 xengntshr_fd@VERS_1.2 xengnttab_dmabuf_exp_from_refs@VERS_1.2
xengnttab_dmabuf_exp_wait_released@VERS_1.2 xengnttab_dmabuf_imp_to_refs@VERS_1.2
xengnttab_dmabuf_imp_release@VERS_1.2"
[libxenforeignmemory.so.1]="xenforeignmemory_open@VERS_1.0 xenforeignmemory_close@VERS_1.0
xenforeignmemory_map@VERS_1.0 xenforeignmemory_unmap@VERS_1.0
xenforeignmemory_restrict@VERS_1.1
xenforeignmemory_map2@VERS_1.2
xenforeignmemory_map_resource@VERS_1.3 xenforeignmemory_unmap_resource@VERS_1.3
xenforeignmemory_resource_size@VERS_1.4"
)

# The defined, exported symbols of a library as NAME@VERSION, sorted (the
# version definitions themselves, ABS symbols named VERS_*, left out).
exported() {
	readelf --dyn-syms -W "$1" | awk '$7 != "UND" && $7 != "ABS" && $5 == "GLOBAL" {
		n = $8; sub(/@@/, "@", n); print n }' | sort
}

built=0
for lib in libxentoolcore.so.1 libxenevtchn.so.1 libxengnttab.so.1 libxenforeignmemory.so.1; do
	so=$xenlib/$lib
	if [ ! -f "$so" ]; then
		echo "not built yet: $lib"
		continue
	fi
	built=$((built + 1))
	soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	[ "$soname" = "$lib" ] || fail "$lib: SONAME is '$soname'"
	want=$(tr ' ' '\n' <<<"${xen_syms[$lib]}" | grep . | sort)
	got=$(exported "$so")
	missing=$(comm -23 <(echo "$want") <(echo "$got"))
	extra=$(comm -13 <(echo "$want") <(echo "$got"))
	[ -z "$missing" ] || fail "$lib: not exported at Xen's version: $(echo $missing)"
	[ -z "$extra" ] || fail "$lib: exports what Xen's does not: $(echo $extra)"
	# The version definitions chain as Xen's do (VERS_1.1's parent VERS_1.0, ...).
	readelf -V -W "$so" | awk '/Name: VERS_/ { v = $NF } /Parent 1: VERS_/ { print v "<" $NF }' \
		>"$KEEL_TMP/chain"
	while read -r c; do
		n=${c%<*} p=${c#*<}
		[ "$p" = "VERS_1.$(( ${n#VERS_1.} - 1 ))" ] || fail "$lib: $n's parent is $p"
	done <"$KEEL_TMP/chain"
	"$check" "$so" $want || fail "$lib: the loader does not find every symbol at its version"
	echo "ok: $lib: SONAME $soname, $(wc -l <<<"$want") symbols at Xen 4.17's versions, nothing more"
done
[ $built -gt 0 ] || fail "no library built in $xenlib"

# Debian's device model: what it imports from each Xen library.
qdir=$(fetch_deb qemu-system-xen) || skip "cannot download qemu-system-xen (apt-get download)"
qemu=$qdir/usr/libexec/xen-qemu-system-i386
[ -f "$qemu" ] || fail "no $qemu in qemu-system-xen"
# The version index of each needed library's versions (readelf -V), then
# each undefined symbol with its index: LIBRARY NAME@VERSION.
readelf -V -W "$qemu" | awk '
	/File: / { for (i = 1; i <= NF; i++) if ($i == "File:") f = $(i + 1) }
	/Name: .*Version: / { print $NF, f }' >"$KEEL_TMP/verlib"
readelf --dyn-syms -W "$qemu" | awk '$7 == "UND" && $8 ~ /@/ && $9 ~ /^\(/ {
	gsub(/[()]/, "", $9); print $9, $8 }' |
	awk 'NR == FNR { lib[$1] = $2; next } ($1 in lib) && lib[$1] ~ /^libxen/ {
		print lib[$1], $2 }' "$KEEL_TMP/verlib" - | sort -u >"$KEEL_TMP/imports"
[ -s "$KEEL_TMP/imports" ] || fail "found no libxen* imports in $qemu"
for lib in $(cut -d' ' -f1 "$KEEL_TMP/imports" | sort -u); do
	syms=$(awk -v l="$lib" '$1 == l { print $2 }' "$KEEL_TMP/imports")
	n=$(wc -l <<<"$syms")
	if [ ! -f "$xenlib/$lib" ]; then
		echo "not built yet: $lib ($n symbols qemu imports: $(echo $syms))"
		continue
	fi
	"$check" "$xenlib/$lib" $syms || fail "qemu's imports from $lib do not all resolve in Keel's"
	echo "ok: qemu's $n imports from $lib resolve in Keel's: $(echo $syms)"
done
exit 0
