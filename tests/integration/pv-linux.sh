#!/usr/bin/env bash
# pv-linux: boot Debian's 6.1 kernel (bzImage, XZ payload, Xen ELF notes)
# under `keeld run` and record how far it gets: the number of console lines
# and the end of keeld's log.  Passes when the kernel was built into a
# domain and entered (it reaches the shim: at least one hypercall or a
# logged crash with a register dump); where it stops is printed, not judged.
. "$(dirname "$0")/../lib/common.sh"
need_kvm
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
	awk '{print $1}' | sort -V | tail -n 1)
[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-amd64 in apt's lists"
dir=$(fetch_deb "$pkg") || skip "could not download $pkg"
vmlinuz=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "$pkg has no /boot/vmlinuz"
out=$KEEL_TMP/linux.out
err=$KEEL_TMP/linux.err
timeout 40 "$KEEL_BIN/keeld" run --kernel "$vmlinuz" --memory 256 --vcpus 2 \
	--cmdline "earlyprintk=xen console=hvc0" >"$out" 2>"$err"
rc=$?
lines=$(wc -l <"$out")
echo "keeld exit $rc; console lines: $lines"
echo "--- console (last 20 lines)"; tail -n 20 "$out"
echo "--- keeld log (last 25 lines)"; tail -n 25 "$err"
grep -q 'built:' "$err" || fail "the kernel was not built into a domain"
grep -qE 'crashed:|powered off|shutdown' "$err" || [ $rc = 124 ] || fail "no verdict from keeld"
echo "pv-linux: $pkg printed $lines console lines"
grep -m1 'smp: Brought up' "$out" | sed 's/^/pv-linux: milestone: /'
grep -m1 'Freeing unused kernel image' "$out" | sed 's/^/pv-linux: milestone: /'
echo "pv-linux: last kernel message: $(grep -E '^\[ *[0-9.]+\] [A-Za-z]' "$out" | grep -vE '^\[ *[0-9.]+\] +(R[A-Z0-9]+|Code|FS|CS|CR2|DR[0-9])' | tail -n 1)"
exit 0
