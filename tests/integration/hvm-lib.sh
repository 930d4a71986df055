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
