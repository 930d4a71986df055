#!/usr/bin/env bash
# pv-linux: Debian's 6.1 kernel (bzImage, XZ payload, Xen ELF notes) on Keel.
#  1. `keeld run` with 2 vCPUs and no store: record how many console lines it
#     prints (hvc0, its ring; what its boot console wrote with console_io is
#     in keeld's log) and where it stops (it waits for xenstore).  Passes when the
#     kernel was built into a domain, entered, and printed.
#  2. Under `keeld daemon`, with `keelctl null-store` answering its store ring
#     (an empty store: a fixture, see keelctl_nullstore.c) and a busybox
#     initramfs whose /init prints and powers off: the kernel must reach user
#     space and power the domain off.  Skipped if busybox-static cannot be
#     fetched.  Its boot log (keeld's "(d1)" lines from earlyprintk=xen and
#     the console) must show Keel's share of the boot gone: the CPU frequency
#     from CPUID ("tsc: Detected ... MHz processor", no "Fast TSC calibration
#     failed": a PIT calibration is 100,000 exits here), and CPU1 brought up
#     without "APIC id mismatch" (Linux keeps its Xen PV APIC driver), and
#     XSAVE with AVX state where FXSAVE was; /init runs a static AVX2 program.
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
[ "$lines" -gt 0 ] || fail "the kernel printed nothing"
echo "pv-linux: $pkg printed $lines console lines"
# its boot console (earlyprintk=xen) writes with console_io: keeld's log, as Xen's
echo "pv-linux: boot console lines in keeld's log: $(grep -c '^(keeld) (d1) ' "$err")"
grep -m1 'smp: Brought up' "$out" | sed 's/^/pv-linux: milestone: /'
echo "pv-linux: last kernel message: $(grep -E '^\[ *[0-9.]+\] [A-Za-z]' "$out" | grep -vE '^\[ *[0-9.]+\] +(R[A-Z0-9]+|Code|FS|CS|CR2|DR[0-9])' | tail -n 1)"

# 2. To user space, with an empty store and a busybox initramfs.
bb=$(fetch_deb busybox-static) || { echo "pv-linux: busybox-static unavailable: part 2 skipped"; exit 0; }
root=$KEEL_TMP/initramfs
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$bb/bin/busybox" "$root/bin/"
for c in sh echo cat mount uname poweroff grep head; do ln -sf busybox "$root/bin/$c"; done
# A user-space AVX2 computation (busybox has none): 8 lanes of a*i summed.
command -v gcc >/dev/null || fail "needs gcc (the AVX2 program)"
cat >"$KEEL_TMP/avx2.c" <<'C'
#include <immintrin.h>
#include <stdio.h>
int main(void)
{
	__m256i a = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8), s = _mm256_setzero_si256();
	int out[8], sum = 0;

	for (int i = 0; i < 1000; i++)
		s = _mm256_add_epi32(s, _mm256_mullo_epi32(a, _mm256_set1_epi32(i)));
	_mm256_storeu_si256((__m256i *)out, s);
	for (int i = 0; i < 8; i++)
		sum += out[i];
	printf("AVX2 sum: %d\n", sum);
	return 0;
}
C
gcc -O2 -static -mavx2 -o "$root/bin/avx2" "$KEEL_TMP/avx2.c" || fail "cannot build the AVX2 program"
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
echo "Hello from init on Keel: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPUs"
/bin/avx2
echo "Keel init test: SUCCESS"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$KEEL_TMP/initrd.gz"
# KEEL_PROFILE: the domain's exit profile goes to the log when it is destroyed
KEEL_PROFILE=1 start_keeld
d=$(ctl create linux 256 2) || fail "create"
ctl load "$d" "$vmlinuz" "earlyprintk=xen console=hvc0 rdinit=/init" "$KEEL_TMP/initrd.gz" ||
	fail "load with initramfs"
ctl null-store "$d" 120 2>"$KEEL_TMP/store.log" &
spid=$!
sleep 0.3
ctl unpause "$d" || fail "unpause"
wait_for "ctl info $d | grep -qE ' (shutdown|crashed) '" 120 || true
ctl info "$d"
ctl console "$d" >"$KEEL_TMP/linux2.out"
wait $spid
cat "$KEEL_TMP/store.log"
echo "--- console with a store and an initramfs (last 8 lines)"; tail -n 8 "$KEEL_TMP/linux2.out"
grep -q '^Keel init test: SUCCESS' "$KEEL_TMP/linux2.out" || fail "the kernel did not reach /init"
ctl info "$d" | grep -q ' shutdown .*reason=0' || fail "init's poweroff did not power the domain off"
echo "pv-linux: milestone: $(grep -m1 '^Hello from init' "$KEEL_TMP/linux2.out")"
bootlog=$KEEL_TMP/bootlog
# part 1's console is whole (keeld run's stdout); part 2's ring keeps its tail
cat "$out" "$err" "$KEEL_TMP/keeld.log" "$KEEL_TMP/linux2.out" | tr -d '\r' >"$bootlog"
grep -a 'smp: Brought up 1 node, 2 CPUs' "$bootlog" || fail "CPU1 did not come up"
grep -a 'tsc: Detected [0-9.]* MHz processor' "$bootlog" || fail "no CPU frequency in the boot log"
grep -a 'Fast TSC calibration' "$bootlog" && fail "Linux calibrated its TSC against the PIT"
grep -a 'APIC id mismatch' "$bootlog" && fail "Linux reported an APIC-ID mismatch"
# Vector units (pv_xstate.c): XSAVE with the host's user components, and
# AVX2 in user space: 36 * (0 + 1 + ... + 999) = 17982000.
grep -a 'x86/fpu: Enabled xstate features' "$bootlog" || fail "Linux did not enable XSAVE"
grep -a 'x87 FPU will use FXSAVE' "$bootlog" && fail "Linux fell back to FXSAVE"
grep -a "x86/fpu: Supporting XSAVE feature 0x004: 'AVX registers'" "$bootlog" || fail "no AVX state"
grep -a '^AVX2 sum: 17982000' "$bootlog" || fail "the AVX2 program's sum is wrong or missing"
echo "pv-linux: no PIT calibration, no APIC-ID mismatch; first vCPU1 line: $(grep -a -m1 'Bringing up secondary' "$bootlog")"
# Where the boot went: the exit profile (pv_prof.c), dumped at destroy.
ctl destroy "$d" || fail "destroy"
wait_for "grep -q 'guest RIPs with the most exits' '$KEEL_TMP/keeld.log'" 30 ||
	fail "no exit profile in keeld's log"
sed -n "/d$d profile/,/guest RIPs/p" "$KEEL_TMP/keeld.log"
for k in 'hypercall mmu_update' 'hypercall iret' 'page-table write' 'cpuid'; do
	grep -qE "^(\(keeld\) )? *$k +[1-9][0-9]* " "$KEEL_TMP/keeld.log" ||
		fail "the profile has no '$k' exits"
done
exit 0
