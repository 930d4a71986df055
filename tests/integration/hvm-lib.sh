# Helpers for the hvm-*.sh tests (sourced, not run): Debian's firmware,
# unmodified -- hvmloader from xen-utils-4.17 and SeaBIOS's bios-256k.bin
# (the installed copy, the path Debian's libxl uses, else the package
# fetched into the test cache) -- exported as $KEEL_HVMLOADER and
# $KEEL_SEABIOS for xl (either set beforehand names another copy).

hvm_firmware() {
	local debs sdebs
	debs=$(fetch_deb xen-utils-4.17) || skip "cannot fetch xen-utils-4.17"
	hvmloader=${KEEL_HVMLOADER:-$debs/usr/lib/xen-4.17/boot/hvmloader}
	[ -f "$hvmloader" ] || fail "no hvmloader in xen-utils-4.17 ($hvmloader)"
	seabios=${KEEL_SEABIOS:-/usr/share/seabios/bios-256k.bin}
	if [ ! -f "$seabios" ]; then
		sdebs=$(fetch_deb seabios) || skip "cannot fetch seabios"
		seabios=$sdebs/usr/share/seabios/bios-256k.bin
	fi
	[ -f "$seabios" ] || fail "no bios-256k.bin in seabios ($seabios)"
	export KEEL_HVMLOADER=$hvmloader KEEL_SEABIOS=$seabios
}

# Debian's qemu-system-xen (xl's HVM device model; $KEEL_QEMU_XEN names
# another) and a dom0 (keel-dom0-up) in $KEEL_TMP/xlrun: sets run and
# kpid (keeld's pid), defines xl and st (keelstore) for it and takes the
# dom0 down at exit.
cleanup_xl() { "$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1; }
xl() { KEEL_RUNDIR=$run "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
hvm_qemu_dom0() {
	local qemu_xen=${KEEL_QEMU_XEN:-/usr/libexec/xen-qemu-system-i386}
	[ -x "$qemu_xen" ] || skip "no $qemu_xen (Debian's qemu-system-xen; make deps installs it)"
	run=$KEEL_TMP/xlrun
	trap cleanup_xl EXIT
	"$KEEL_BIN/keel-dom0-up" --rundir "$run" --no-bridge >"$KEEL_TMP/up.out" ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
	kpid=$(cat "$run/keeld.pid") || fail "keel-dom0-up left no keeld.pid"
}

# hvm_clock: start the clock since() reads ("12.3 s" since then).
hvm_clock() { t0=$(date +%s.%N); }
since() { printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
