#!/usr/bin/env bash
# pv-linux-xenstore: Debian's 6.1 kernel with the REAL store.  keel-dom0-up
# (keeld daemon + keel-xenstored serving guest rings through keeld), then
# `xl create` with a busybox initramfs (built as pv-linux builds it) whose
# /init prints and waits.  The kernel's xenbus must connect to
# keel-xenstored on its ring: the nodes Linux writes (control/feature-*
# from drivers/xen/manage.c) must appear in the store.  Then `xl shutdown`
# writes control/shutdown=poweroff, Linux acknowledges it and runs
# /sbin/poweroff, and the domain must end shut down with reason poweroff.
# With keel-consoled up, a line typed on `xl console` must reach /init
# through the console ring and hvc0.
# Skipped when the kernel or busybox-static cannot be fetched.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
for f in xl keel-dom0-up keel-dom0-down keelstore keelctl; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
	awk '{print $1}' | sort -V | tail -n 1)
[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-amd64 in apt's lists"
dir=$(fetch_deb "$pkg") || skip "could not download $pkg"
vmlinuz=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "$pkg has no /boot/vmlinuz"
bb=$(fetch_deb busybox-static) || skip "busybox-static unavailable"

root=$KEEL_TMP/initramfs
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev"
cp "$bb/bin/busybox" "$root/bin/"
for c in sh echo cat mount uname grep head sleep ls; do ln -sf busybox "$root/bin/$c"; done
# Linux's orderly_poweroff runs /sbin/poweroff; our init is no busybox init
# to signal, so power off directly.
printf '#!/bin/sh\necho "Keel: poweroff requested through the store" >/dev/kmsg\nexec /bin/busybox poweroff -f\n' >"$root/sbin/poweroff"
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "Hello from init on Keel: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPUs"
echo "Keel xenbus devices: $(ls /sys/bus/xen/devices 2>/dev/null | tr '\n' ' ')"
echo "Keel init test: waiting"
# lines typed on xl console reach us through keel-consoled and hvc0
while :; do
	if read -r l; then echo "Keel init got: $l"; else sleep 1; fi
done
INIT
chmod +x "$root/init" "$root/sbin/poweroff"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$KEEL_TMP/initrd.gz"

run=$KEEL_TMP/run
id=
cleanup() {
	local rc=$?
	if [ $rc != 0 ]; then
		tail -n 20 "$run"/log/*.log 2>/dev/null
		# an early crash explains itself here: the boot console's lines
		# (console_io) and keeld's register and stack dump, then hvc0's
		if [ -n "$id" ]; then
			echo "--- keeld's log of domain $id (last 80 lines)"
			lg_keeld_log "$id" | tail -n 80
		fi
		echo "--- console log (last 60 lines)"
		tail -n 60 "$run/console/guest-linux.log" 2>/dev/null | tr -d '\r'
	fi
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
}
trap cleanup EXIT
export KEEL_RUNDIR=$run
xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
con() { timeout 2 "$KEEL_BIN/xl" console linux 2>/dev/null; }

"$KEEL_BIN/keel-dom0-up" --rundir "$run" >"$KEEL_TMP/up.out" || fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
cat >"$KEEL_TMP/linux.cfg" <<CFG
name = "linux"
kernel = "$vmlinuz"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "earlyprintk=xen console=hvc0 rdinit=/init"
memory = 256
vcpus = 2
on_poweroff = "preserve"
on_crash = "preserve"
CFG
t0=$(date +%s)
xl create "$KEEL_TMP/linux.cfg" 2>"$KEEL_TMP/create.err" || fail "create: $(cat "$KEEL_TMP/create.err")"
id=$(xl domid linux) || fail "domid"
dp=/local/domain/$id
# each look can take 2 s (xl console stays attached): bound the wait in seconds
reached=no
end=$((SECONDS + 150))
while [ $SECONDS -lt $end ]; do
	if con | grep -q '^Keel init test: waiting'; then reached=yes; break; fi
	"$KEEL_BIN/keelctl" info "$id" 2>/dev/null | grep -qE ' (shutdown|crashed) ' && break
	sleep 1
done
con >"$KEEL_TMP/linux.out"
echo "--- console (last 15 lines)"; tail -n 15 "$KEEL_TMP/linux.out"
echo "--- store under $dp"; st ls "$dp" | tr '\n' ' '; echo
echo "--- $dp/control: $(st ls "$dp/control" 2>/dev/null | tr '\n' ' ')"
grep -m1 'xenbus' "$KEEL_TMP/linux.out" | sed 's/^/pv-linux-xenstore: /'
[ $reached = yes ] || fail "the kernel did not reach /init with the real store (last: $(tail -n 1 "$KEEL_TMP/linux.out"))"
echo "pv-linux-xenstore: /init reached after $(($(date +%s) - t0)) s: $(grep -m1 '^Hello from init' "$KEEL_TMP/linux.out")"
grep -q "domid $id: store ring mapped" "$run/log/xenstored.log" || fail "keel-xenstored did not map the ring"
# Linux's xen/manage.c advertises what control/shutdown may ask, in the store
wait_for "[ \"\$(st read $dp/control/feature-poweroff 2>/dev/null)\" = 1 ]" 20 ||
	fail "Linux wrote no control/feature-poweroff"
echo "pv-linux-xenstore: Linux wrote: $(for f in $(st ls "$dp/control"); do printf '%s=%s ' "$f" "$(st read "$dp/control/$f")"; done)"
[ "$(st perms "$dp/control/feature-poweroff")" = "n$id" ] || fail "feature-poweroff not owned by the guest: $(st perms "$dp/control/feature-poweroff")"

# console input: xl console -> keel-consoled -> the console ring -> hvc0 -> /init
if grep -q "keel-consoled running" "$KEEL_TMP/up.out"; then
	(sleep 1; printf 'ping from dom0\r'; sleep 3) | timeout 6 "$KEEL_BIN/xl" console linux >"$KEEL_TMP/in.out" 2>&1
	grep -q '^Keel init got: ping from dom0' "$KEEL_TMP/in.out" ||
		fail "typed line did not reach /init: $(tail -n 3 "$KEEL_TMP/in.out")"
	echo "pv-linux-xenstore: /init read a line typed on xl console (through keel-consoled and hvc0)"
fi

# xl shutdown: control/shutdown=poweroff, acknowledged by the guest, then poweroff
xl shutdown linux 2>"$KEEL_TMP/shutdown.err" || fail "xl shutdown: $(cat "$KEEL_TMP/shutdown.err")"
wait_for "\"$KEEL_BIN/keelctl\" info $id | grep -q ' shutdown '" 60 || fail "the domain did not shut down: $("$KEEL_BIN/keelctl" info "$id")"
"$KEEL_BIN/keelctl" info "$id"
"$KEEL_BIN/keelctl" info "$id" | grep -q ' shutdown .*reason=0' || fail "not a poweroff"
con | grep -q 'Keel: poweroff requested through the store' || fail "/sbin/poweroff did not run"
echo "pv-linux-xenstore: xl shutdown powered Linux off through control/shutdown"
xl destroy linux >/dev/null 2>&1 || true
exit 0
