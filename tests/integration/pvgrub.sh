#!/usr/bin/env bash
# pvgrub: PV-GRUB from Debian's grub-xen-host (grub-x86_64-xen.bin, an
# unmodified GRUB 2.06 built for Xen PV x86_64) booted as the PV kernel on
# Keel, with one disk served by keel-blkback: an ext2 image made on the host
# with mke2fs -d.  The image's embedded config (a memdisk grub.cfg) searches
# the xen disks for /boot/grub/grub.cfg and reads it; ours echoes markers
# and lists the image's files, then halts.  The test checks GRUB found the
# disk, read the config through GRUB's own blkfront and listed the names.
# Skipped only when grub-xen-host cannot be fetched or /dev/kvm is missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
command -v mke2fs >/dev/null || fail "mke2fs missing (e2fsprogs is in Debian base)"
gx=$(fetch_deb grub-xen-host) || skip "could not download grub-xen-host"
grub=$gx/usr/lib/grub-xen/grub-x86_64-xen.bin
[ -f "$grub" ] || fail "grub-xen-host has no $grub"

# the disk: an ext2 file system with a config and a few files to list
tree=$KEEL_TMP/tree
mkdir -p "$tree/boot/grub" "$tree/keel"
for f in alpha-keel.txt beta-keel.bin gamma-keel.dat; do
	head -c $((RANDOM % 20000 + 100)) /dev/urandom >"$tree/keel/$f"
done
echo "keel pvgrub payload" >"$tree/keel/hello.txt"
cat >"$tree/boot/grub/grub.cfg" <<'CFG'
echo "KEEL-GRUB: config read from ${root}"
echo "KEEL-GRUB: devices:"
ls
echo "KEEL-GRUB: files in /keel:"
ls /keel/
echo "KEEL-GRUB: hello says:"
cat /keel/hello.txt
echo "KEEL-GRUB: done"
halt
CFG
img=$KEEL_TMP/grub-disk.img
mke2fs -q -F -t ext2 -L keelgrub -d "$tree" "$img" 8M >"$KEEL_TMP/mke2fs.out" 2>&1 ||
	fail "mke2fs: $(cat "$KEEL_TMP/mke2fs.out")"

lg_dom0_up --no-bridge
lg_backend keel-blkback
cat >"$KEEL_TMP/grub.cfg" <<CFG
name = "pvgrub"
kernel = "$grub"
memory = 64
vcpus = 1
on_poweroff = "preserve"
on_crash = "preserve"
disk = [ '$img,raw,xvda,ro' ]
CFG
lg_create pvgrub "$KEEL_TMP/grub.cfg"
lg_wait_console pvgrub 'KEEL-GRUB: done' 60 ||
	fail "GRUB did not get through our grub.cfg (last: $(tail -n 2 "$con" 2>/dev/null | tr -d '\r'))"
echo "pvgrub: GRUB ran our grub.cfg after $((SECONDS - t0)) s; console:"
tr -d '\r' <"$con" | grep -av '^\s*$' | tail -n 20 | sed 's/^/pvgrub: | /'
grep -qa 'Reading (xen/xvda)/boot/grub/grub.cfg' "$con" ||
	fail "GRUB's embedded config did not find /boot/grub/grub.cfg on xvda"
grep -qa 'KEEL-GRUB: config read from xen/xvda' "$con" || fail "root is not xen/xvda"
for f in alpha-keel.txt beta-keel.bin gamma-keel.dat hello.txt; do
	grep -qa "$f" "$con" || fail "GRUB did not list /keel/$f"
done
grep -qa 'keel pvgrub payload' "$con" || fail "GRUB did not cat /keel/hello.txt"
# halt: GRUB shuts the domain down (SCHEDOP_shutdown, poweroff)
wait_for "\"$KEEL_BIN/keelctl\" info $id | grep -q ' shutdown '" 20 ||
	fail "the domain did not shut down after GRUB's halt: $("$KEEL_BIN/keelctl" info "$id")"
"$KEEL_BIN/keelctl" info "$id" | grep -q ' shutdown .*reason=0' ||
	fail "GRUB's halt was not a poweroff: $("$KEEL_BIN/keelctl" info "$id")"
echo "pvgrub: PV-GRUB read an ext2 disk served by keel-blkback and listed its files"
exit 0
