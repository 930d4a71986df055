#!/usr/bin/env bash
# pv-events-linux: Debian's 6.1 kernel on FIFO event channels (keeld's
# default, as Xen's).  `keeld run` with 2 vCPUs: Linux must choose the
# FIFO ABI, keep its clock ticking (VIRQ_TIMER re-raised through FIFO) and
# bring up its second vCPU; the run stops there.  (pv-linux goes on to
# /init and poweroff with the same default.)
. "$(dirname "$0")/../lib/common.sh"
need_kvm
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
	awk '{print $1}' | sort -V | tail -n 1)
[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-amd64 in apt's lists"
dir=$(fetch_deb "$pkg") || skip "could not download $pkg"
vmlinuz=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "$pkg has no /boot/vmlinuz"
out=$KEEL_TMP/linux.out
"$KEEL_BIN/keeld" run --kernel "$vmlinuz" --memory 256 --vcpus 2 \
	--cmdline "earlyprintk=xen console=hvc0" >"$out" 2>"$KEEL_TMP/linux.err" &
kpid=$!
trap 'kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null' EXIT
wait_for "grep -q 'smp: Brought up' $out" 50 || true
kill -9 $kpid 2>/dev/null
wait $kpid 2>/dev/null
grep -E 'xen:events|smp: Brought up|Bringing up|installing Xen timer' "$out"
echo "--- last console lines"; tail -n 5 "$out"
grep -q 'xen:events: Using FIFO-based ABI' "$out" || fail "Linux did not use the FIFO ABI"
grep -q 'smp: Brought up 1 node, 2 CPUs' "$out" || fail "Linux did not bring up its second vCPU"
exit 0
