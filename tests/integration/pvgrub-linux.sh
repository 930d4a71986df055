#!/usr/bin/env bash
# pvgrub-linux: PV-GRUB boots Debian's kernel from a disk, and Linux runs
# from that disk as its root file system, as a Xen user's domU does with
# firmware="pvgrub64" (Debian's grub-x86_64-xen.bin, not named).
# The disk (ext2, mke2fs -d, served read-only by keel-blkback) holds
# /boot/vmlinuz (Debian's 6.1), an initramfs, /boot/grub/grub.cfg with
# `linux` and `initrd` lines, and a busybox root with /sbin/init.  GRUB
# reads them through its own blkfront, builds the new PV kernel's layout in
# its own domain (GRUB's Xen loader: page tables, start_info, p2m, all
# through hypercalls) and jumps to it.  Linux's initramfs loads Debian's
# xen-blkfront and ext4 modules, finds the same disk as xvda (reconnecting
# the vbd GRUB closed), mounts it and switch_roots to it; /sbin/init on the
# disk reports its root and powers off.  One vCPU: Linux runs its
# uniprocessor code (lock prefixes patched away).
# Skipped only when grub-xen-host, the kernel or busybox-static cannot be
# fetched, or /dev/kvm is missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
command -v mke2fs >/dev/null || fail "mke2fs missing (e2fsprogs is in Debian base)"
gx=$(fetch_deb grub-xen-host) || skip "could not download grub-xen-host"
grub=$gx/usr/lib/grub-xen/grub-x86_64-xen.bin
[ -f "$grub" ] || fail "grub-xen-host has no $grub"
lg_fetch_kernel

# the initramfs: Debian's blkfront and ext4 (for ext2) modules, then
# switch_root to the file system on xvda
root=$KEEL_TMP/initramfs
lg_initramfs "$root"
lg_add_module "$root" drivers/block/xen-blkfront.ko
lg_add_module "$root" crypto/crc32c_generic.ko
lg_add_module "$root" fs/ext4/ext4.ko
mkdir -p "$root/newroot"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "KEEL-PVL: /init of $(uname -r) booted by PV-GRUB, cmdline: $(cat /proc/cmdline)"
for m in $(cat /lib/modules/ORDER); do insmod /lib/modules/$m; done
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "KEEL-PVL: xvda ext2 magic $(dd if=/dev/xvda bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')"
mount -t ext4 -o ro /dev/xvda /newroot || { echo "KEEL-PVL: FAIL mount xvda"; poweroff -f; }
umount /proc /sys /dev
echo "KEEL-PVL: switching to the root file system on xvda"
exec switch_root /newroot /sbin/init
INIT
chmod +x "$root/init"
# the disk: GRUB's config, the kernel and initramfs, and a busybox root
tree=$KEEL_TMP/tree
lg_initramfs "$tree"
mkdir -p "$tree/boot/grub"
cat >"$tree/sbin/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
echo "KEEL-ROOT: init on the disk's root: $(grep ' / ' /proc/mounts | grep -v rootfs)"
echo "KEEL-ROOT: / holds: $(ls / | tr '\n' ' ')"
echo "KEEL-ROOT: done"
poweroff -f
INIT
chmod +x "$tree/sbin/init"
lg_pack "$root" "$tree/boot/initrd.gz"
cp "$LG_VMLINUZ" "$tree/boot/vmlinuz"
cat >"$tree/boot/grub/grub.cfg" <<'CFG'
echo "KEEL-GRUB: loading Linux from ${root}"
linux /boot/vmlinuz console=hvc0 rdinit=/init keel_pvgrub=1
initrd /boot/initrd.gz
echo "KEEL-GRUB: booting"
boot
CFG
img=$KEEL_TMP/boot.img
mke2fs -q -F -t ext2 -d "$tree" "$img" 32M >"$KEEL_TMP/mke2fs.out" 2>&1 ||
	fail "mke2fs: $(cat "$KEEL_TMP/mke2fs.out")"

lg_dom0_up --no-bridge
lg_backend keel-blkback
# firmware="pvgrub64", as xl's shorthand: Debian's grub-x86_64-xen.bin
# (the fetched copy, through KEEL_GRUB_XEN_DIR) without naming it
export KEEL_GRUB_XEN_DIR=$gx/usr/lib/grub-xen
cat >"$KEEL_TMP/domu.cfg" <<CFG
name = "pvgrub-linux"
firmware = "pvgrub64"
memory = 256
vcpus = 1
on_poweroff = "preserve"
on_crash = "preserve"
disk = [ '$img,raw,xvda,ro' ]
CFG
xl create -n "$KEEL_TMP/domu.cfg" 2>/dev/null | grep -qF "$grub" ||
	fail "firmware=pvgrub64 does not name $grub: $(xl create -n "$KEEL_TMP/domu.cfg" 2>&1 | grep -i kernel)"
lg_create pvgrub-linux "$KEEL_TMP/domu.cfg"
lg_wait_console pvgrub-linux 'KEEL-GRUB: booting' 60 ||
	fail "GRUB did not load the kernel and initrd (last: $(tail -n 2 "$con" 2>/dev/null | tr -d '\r'))"
echo "pvgrub-linux: GRUB loaded Linux after $((SECONDS - t0)) s"
lg_wait_console pvgrub-linux '^KEEL-ROOT: done' 120 ||
	fail "Linux booted by GRUB did not finish on its root disk (last: $(tail -n 2 "$con" 2>/dev/null | tr -d '\r'))"
echo "pvgrub-linux: Linux's /init finished after $((SECONDS - t0)) s"
tr -d '\r' <"$con" | grep -aE 'KEEL-|Linux version|blkfront|EXT4' | sed 's/^/pvgrub-linux: | /'
grep -qa '^KEEL-PVL: .*cmdline: .*keel_pvgrub=1' "$con" || fail "not the command line GRUB was given"
grep -qa '^KEEL-PVL: xvda ext2 magic 53ef' "$con" || fail "Linux did not read the ext2 magic from xvda"
grep -qa '^KEEL-ROOT: init on the disk.s root: /dev/xvda / ext4 ro' "$con" ||
	fail "/sbin/init did not run on xvda mounted as / ($(grep -a 'KEEL-ROOT: init' "$con"))"
wait_for "\"$KEEL_BIN/keelctl\" info $id | grep -q ' shutdown .*reason=0'" 20 ||
	fail "the domain did not power off: $("$KEEL_BIN/keelctl" info "$id")"
echo "pvgrub-linux: PV-GRUB booted Debian's kernel from a keel-blkback disk; Linux mounted the same disk as its root and ran /sbin/init from it"
exit 0
