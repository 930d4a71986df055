#!/usr/bin/env bash
# linux-pygrub: bootloader="pygrub" as libxl runs it.  Debian's unmodified
# pygrub (xen-utils-4.17, downloaded, never installed) reads a partitioned
# disk image whose ext4 partition holds Debian's kernel, an initramfs and
# a /boot/grub/grub.cfg with two entries; bootloader_args picks the second
# (--entry=1).  xl boots what pygrub returned: the guest's /proc/cmdline is
# the entry's, its initramfs the one on the disk.  The kernel copies are
# gone afterwards.  `xl sysrq h` reaches the running kernel.  A disk without a grub.cfg fails the create with
# pygrub's message and leaves no domain behind.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
command -v python3 >/dev/null || skip "no python3 (pygrub is Python)"
lg_fetch_kernel
xu=$(fetch_deb xen-utils-4.17) || skip "cannot download xen-utils-4.17"
xm=$(fetch_deb libxenmisc4.17) || skip "cannot download libxenmisc4.17"
[ -x "$xu/usr/lib/xen-4.17/bin/pygrub" ] || fail "no pygrub in xen-utils-4.17"
# the fetched pygrub finds its Python modules next to itself; its file
# system plugins and library where they were unpacked
export KEEL_XEN_BINDIR=$xu/usr/lib/xen-4.17/bin
export XEN_FSIMAGE_FSDIR=$xm/usr/lib/xen-4.17/lib/x86_64-linux-gnu/xenfsimage
export LD_LIBRARY_PATH=$xm/usr/lib/xen-4.17/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

root=$KEEL_TMP/initramfs
lg_initramfs "$root"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
echo "KEEL-PG: booted from $(cat /from-disk) with: $(cat /proc/cmdline)"
# the host sends `xl sysrq h`: Linux's xenbus control watch runs it
i=0
while ! dmesg | grep -q 'sysrq: HELP' && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
dmesg | grep -q 'sysrq: HELP' && echo "KEEL-PG: sysrq h seen" || echo "KEEL-PG: FAIL no sysrq"
poweroff -f
INIT
chmod +x "$root/init"
echo "the disk's initramfs" >"$root/from-disk"
tree=$KEEL_TMP/tree
mkdir -p "$tree/boot/grub"
lg_pack "$root" "$tree/boot/initrd.img-keel"
kname=$(basename "$LG_VMLINUZ")
cp "$LG_VMLINUZ" "$tree/boot/$kname"
cat >"$tree/boot/grub/grub.cfg" <<CFG
set default=0
set timeout=5
menuentry 'Debian GNU/Linux' {
	linux /boot/$kname console=hvc0 rdinit=/init keelmark=entry0
	initrd /boot/initrd.img-keel
}
menuentry 'Debian GNU/Linux (second entry)' {
	linux /boot/$kname console=hvc0 rdinit=/init keelmark=entry1
	initrd /boot/initrd.img-keel
}
CFG
# mkdisk IMG TREE: a 96 MiB disk, one primary partition from 1 MiB (an MBR
# written by hand), an ext4 file system made from TREE in it
mkdisk() {
	truncate -s 96M "$1"
	python3 - "$1" <<'PY' || fail "writing the partition table"
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(446)
    f.write(struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", 2048, 96 * 2048 - 2048))
    f.seek(510)
    f.write(b"\x55\xaa")
PY
	mke2fs -q -F -t ext4 -d "$2" -E offset=1048576 "$1" 95M >"$KEEL_TMP/mke2fs.out" 2>&1 ||
		fail "mke2fs: $(cat "$KEEL_TMP/mke2fs.out")"
}
mkdisk "$KEEL_TMP/disk.img" "$tree"

lg_dom0_up
lg_backend keel-blkback
cat >"$KEEL_TMP/pg.cfg" <<CFG
name = "linux-pygrub"
bootloader = "pygrub"
bootloader_args = [ "--entry=1" ]
memory = 256
on_poweroff = "preserve"
disk = [ '$KEEL_TMP/disk.img,raw,xvda,rw' ]
CFG
lg_create linux-pygrub "$KEEL_TMP/pg.cfg"
lg_wait_console linux-pygrub '^KEEL-PG: booted' 120 ||
	fail "the guest did not boot (last: $(tail -n 1 "$con" 2>/dev/null))"
line=$(grep -a '^KEEL-PG: booted' "$con" | tr -d '\r')
echo "linux-pygrub: guest: $line"
case $line in
*"the disk's initramfs"*keelmark=entry1*) ;;
*) fail "not the disk's second entry: $line" ;;
esac
left=$(find "$run/bootloader" -type f 2>/dev/null)
[ -z "$left" ] || fail "bootloader copies left behind: $left"
# xl sysrq (libxl's control/sysrq), answered by the running kernel
xl sysrq linux-pygrub hh >/dev/null 2>&1 && fail "xl sysrq took two letters"
xl sysrq linux-pygrub h || fail "xl sysrq"
lg_wait_console linux-pygrub '^KEEL-PG: (sysrq h seen|FAIL)' 90 || fail "no word on the sysrq"
grep -qa '^KEEL-PG: sysrq h seen' "$con" || fail "the guest did not run sysrq h"
xl destroy linux-pygrub || fail "xl destroy"

# no grub.cfg: pygrub fails, xl says so, no domain is left
mkdir -p "$KEEL_TMP/empty/boot"
cp "$LG_VMLINUZ" "$KEEL_TMP/empty/boot/"
mkdisk "$KEEL_TMP/bad.img" "$KEEL_TMP/empty"
sed -e "s|$KEEL_TMP/disk.img|$KEEL_TMP/bad.img|" -e 's/^name = .*/name = "pygrub-bad"/' "$KEEL_TMP/pg.cfg" >"$KEEL_TMP/bad.cfg"
xl create "$KEEL_TMP/bad.cfg" >"$KEEL_TMP/bad.out" 2>&1 && fail "create succeeded without a grub.cfg"
grep -q "xl: bootloader .*pygrub failed" "$KEEL_TMP/bad.out" || fail "no bootloader message: $(cat "$KEEL_TMP/bad.out")"
echo "linux-pygrub: refused: $(grep -m1 'bootloader' "$KEEL_TMP/bad.out")"
xl domid pygrub-bad >/dev/null 2>&1 && fail "a domain was left behind"
left=$(find "$run/bootloader" -type f 2>/dev/null)
[ -z "$left" ] || fail "bootloader files left behind after a failure: $left"
exit 0
