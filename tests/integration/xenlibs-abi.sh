#!/usr/bin/env bash
# xenlibs-abi: Keel's libxen* in build/lib/xen carry Xen 4.17's ABI names.
# For each library: its SONAME (readelf -d); every symbol of Xen 4.17's map
# file for it, defined at its version (readelf --dyn-syms) and found by the
# loader at that version (dlopen + dlvsym, through keel-xenlibs-dlcheck);
# nothing else exported; the version nodes Xen's are, chained as Xen's.
# libxenctrl.so.4.17 has no map file in Xen (its build exports every
# symbol at VERS_4.17.0): only the calls Debian's QEMU imports are
# required, and Keel's exports those only.  Then Debian's qemu-system-xen
# (downloaded, never installed): every symbol
# /usr/libexec/xen-qemu-system-i386 imports from a Xen library other than
# libxenstore (Debian's own, not Keel's to build) must resolve in Keel's at
# the version it asks for, and the binary must run (-version, every symbol
# bound at load) with LD_LIBRARY_PATH=build/lib/xen plus Debian's
# libxenstore.so.4, each Xen library found in build/lib/xen.
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
[libxendevicemodel.so.1]="xendevicemodel_open@VERS_1.0
xendevicemodel_create_ioreq_server@VERS_1.0 xendevicemodel_get_ioreq_server_info@VERS_1.0
xendevicemodel_map_io_range_to_ioreq_server@VERS_1.0
xendevicemodel_unmap_io_range_from_ioreq_server@VERS_1.0
xendevicemodel_map_mem_type_to_ioreq_server@VERS_1.0
xendevicemodel_map_pcidev_to_ioreq_server@VERS_1.0
xendevicemodel_unmap_pcidev_from_ioreq_server@VERS_1.0
xendevicemodel_destroy_ioreq_server@VERS_1.0 xendevicemodel_set_ioreq_server_state@VERS_1.0
xendevicemodel_set_pci_intx_level@VERS_1.0 xendevicemodel_set_isa_irq_level@VERS_1.0
xendevicemodel_set_pci_link_route@VERS_1.0 xendevicemodel_inject_msi@VERS_1.0
xendevicemodel_track_dirty_vram@VERS_1.0 xendevicemodel_modified_memory@VERS_1.0
xendevicemodel_set_mem_type@VERS_1.0 xendevicemodel_inject_event@VERS_1.0
xendevicemodel_restrict@VERS_1.0 xendevicemodel_close@VERS_1.0
xendevicemodel_shutdown@VERS_1.1
xendevicemodel_relocate_memory@VERS_1.2 xendevicemodel_pin_memory_cacheattr@VERS_1.2
xendevicemodel_modified_memory_bulk@VERS_1.3
xendevicemodel_set_irq_level@VERS_1.4 xendevicemodel_nr_vcpus@VERS_1.4"
# Not Xen's whole library: what Debian's xen-qemu-system-i386 imports.
[libxenctrl.so.4.17]="xc_interface_open@VERS_4.17.0 xc_interface_close@VERS_4.17.0
xc_domain_shutdown@VERS_4.17.0 xc_get_hvm_param@VERS_4.17.0 xc_set_hvm_param@VERS_4.17.0
xc_domain_populate_physmap_exact@VERS_4.17.0
xc_domain_bind_pt_pci_irq@VERS_4.17.0 xc_domain_unbind_pt_irq@VERS_4.17.0
xc_domain_update_msi_irq@VERS_4.17.0 xc_domain_unbind_msi_irq@VERS_4.17.0
xc_domain_iomem_permission@VERS_4.17.0 xc_domain_ioport_mapping@VERS_4.17.0
xc_domain_memory_mapping@VERS_4.17.0
xc_physdev_map_pirq@VERS_4.17.0 xc_physdev_map_pirq_msi@VERS_4.17.0
xc_physdev_unmap_pirq@VERS_4.17.0"
)

# The defined, exported symbols of a library as NAME@VERSION, sorted (the
# version definitions themselves, ABS symbols named VERS_*, left out).
exported() {
	readelf --dyn-syms -W "$1" | awk '$7 != "UND" && $7 != "ABS" && $5 == "GLOBAL" {
		n = $8; sub(/@@/, "@", n); print n }' | sort
}

for lib in libxentoolcore.so.1 libxenevtchn.so.1 libxengnttab.so.1 libxenforeignmemory.so.1 \
	libxendevicemodel.so.1 libxenctrl.so.4.17; do
	so=$xenlib/$lib
	[ -f "$so" ] || fail "$lib not built in $xenlib"
	soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	[ "$soname" = "$lib" ] || fail "$lib: SONAME is '$soname'"
	want=$(tr ' ' '\n' <<<"${xen_syms[$lib]}" | grep . | sort)
	got=$(exported "$so")
	missing=$(comm -23 <(echo "$want") <(echo "$got"))
	extra=$(comm -13 <(echo "$want") <(echo "$got"))
	[ -z "$missing" ] || fail "$lib: not exported at Xen's version: $(echo $missing)"
	[ -z "$extra" ] || fail "$lib: exports what Xen's does not: $(echo $extra)"
	# The version nodes are Xen's, no more, no fewer ...
	vers=$(readelf -V -W "$so" | awk '/Name: VERS_/ { print $NF }' | sort -u)
	[ "$vers" = "$(sed 's/.*@//' <<<"$want" | sort -u)" ] ||
		fail "$lib: version nodes $(echo $vers), want those of its symbols"
	# ... and chain as Xen's do (VERS_1.1's parent VERS_1.0, ...).
	readelf -V -W "$so" | awk '/Name: VERS_/ { v = $NF } /Parent 1: VERS_/ { print v "<" $NF }' \
		>"$KEEL_TMP/chain"
	while read -r c; do
		n=${c%<*} p=${c#*<}
		[ "$p" = "VERS_1.$(( ${n#VERS_1.} - 1 ))" ] || fail "$lib: $n's parent is $p"
	done <"$KEEL_TMP/chain"
	"$check" "$so" $want || fail "$lib: the loader does not find every symbol at its version"
	echo "ok: $lib: SONAME $soname, $(wc -l <<<"$want") symbols at Xen 4.17's versions, nothing more"
done

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
# Every Xen library QEMU imports from is Keel's to build, but libxenstore
# (Debian's, talking to keel-xenstored); each import must resolve.
for lib in $(cut -d' ' -f1 "$KEEL_TMP/imports" | sort -u); do
	syms=$(awk -v l="$lib" '$1 == l { print $2 }' "$KEEL_TMP/imports")
	n=$(wc -l <<<"$syms")
	if [ "$lib" = libxenstore.so.4 ]; then
		echo "Debian's: $lib ($n symbols)"
		continue
	fi
	[ -f "$xenlib/$lib" ] || fail "qemu imports from $lib, which Keel does not build: $(echo $syms)"
	"$check" "$xenlib/$lib" $syms || fail "qemu's imports from $lib do not all resolve in Keel's"
	echo "ok: qemu's $n imports from $lib resolve in Keel's: $(echo $syms)"
done
for lib in $(readelf -d "$qemu" | sed -n 's/.*Shared library: \[\(libxen[^]]*\)\].*/\1/p'); do
	[ "$lib" = libxenstore.so.4 ] || [ -f "$xenlib/$lib" ] || fail "qemu needs $lib, not built"
done

# The loader's view: QEMU runs with Keel's libraries and Debian's
# libxenstore.so.4 (which links Keel's libxentoolcore.so.1), every symbol
# bound at load.  QEMU's other libraries come from Debian too when the host
# lacks them (downloaded like QEMU, never installed).
libpath=$xenlib
for pkg in libxenstore4 libspice-server1 libusb-1.0-0 libfdt1 libopus0 liborc-0.4-0 \
	libgstreamer1.0-0 libgstreamer-plugins-base1.0-0; do
	d=$(fetch_deb "$pkg") || skip "cannot download $pkg (apt-get download)"
	libpath=$libpath:$d/usr/lib/x86_64-linux-gnu
done
xsdir=$(fetch_deb libxenstore4)/usr/lib/x86_64-linux-gnu
LD_LIBRARY_PATH=$libpath ldd "$qemu" >"$KEEL_TMP/ldd" 2>&1 || { cat "$KEEL_TMP/ldd"; fail "ldd $qemu"; }
! grep 'not found' "$KEEL_TMP/ldd" || fail "qemu's libraries are not all found"
for lib in $(awk '$1 ~ /^libxen/ { print $1 }' "$KEEL_TMP/ldd" | sort -u); do
	want=$xenlib/$lib
	[ "$lib" = libxenstore.so.4 ] && want=$xsdir/$lib
	grep -q "^[[:space:]]*$lib => $want " "$KEEL_TMP/ldd" ||
		{ grep "$lib" "$KEEL_TMP/ldd"; fail "$lib is not loaded from $(dirname "$want")"; }
done
# Through keel-xen-run, as xl runs it (which also preloads the ASan runtime
# for a SAN build's libraries: QEMU is not built with it).
KEEL_XEN_LIBDIRS=${libpath#"$xenlib":} LD_BIND_NOW=1 "$KEEL_BIN/keel-xen-run" "$qemu" -version \
	>"$KEEL_TMP/qemu.out" 2>&1 ||
	{ cat "$KEEL_TMP/qemu.out"; fail "xen-qemu-system-i386 -version does not run on Keel's libraries"; }
grep -q '^QEMU emulator version' "$KEEL_TMP/qemu.out" || { cat "$KEEL_TMP/qemu.out"; fail "qemu -version"; }
echo "ok: $(grep -m1 "^QEMU emulator version" "$KEEL_TMP/qemu.out"), on $xenlib + Debian's libxenstore.so.4, every symbol bound"
exit 0
