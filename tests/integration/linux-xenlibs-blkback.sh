#!/usr/bin/env bash
# linux-xenlibs-blkback: the keel-blkback binary dom0 runs (built against
# Xen's library API, linked to Keel's libraries in build/lib/xen) runs
# inside a Debian PV guest on Debian's REAL libxenevtchn/libxengnttab
# (packages libxenevtchn1, libxengnttab1 and what they need; the guest loads
# them by LD_LIBRARY_PATH), over that guest kernel's /dev/xen/evtchn and
# /dev/xen/gntdev (Debian's xen-evtchn and xen-gntdev modules), and serves
# two disks to a second guest (blk-pattern, the runtime's blkfront): one with
# persistent grants, one mapping and unmapping grants per request on two
# 4-page rings.  So keeld serves a driver domain's gntdev grant maps (user
# PTEs: GNTMAP_host_map|GNTMAP_application_map|GNTMAP_contains_pte, and the
# kernel's own) and its interdomain event channels.  The guest prints the
# libraries keel-blkback has mapped (with their md5), which must be Debian's
# files; the images, in the driver domain's RAM, must match the host's
# replay of the write plan.
#
# Set up as a Xen user sets up a driver domain, with no stand-ins: the
# driver domain (driver_domain = 1) runs keel-blkback instead of Linux's
# xen-blkback (that module is not loaded), next to `xl devd -F`; both reach
# the store through the guest's /dev/xen/xenbus (libkeelstore's default when
# there is no socket) and learn their domid from the relative node "domid".
# The frontend guest's xl.cfg names disk = ['backend=drv,vdev=xvda,
# target=/tmp/disk0.img', ...]: xl writes libxl's layout under
# /local/domain/<drv>/backend/vbd/<fe>/<devid> (type phy, params = the image
# file's path inside the driver domain) with libxl's permissions, which the
# test checks; keel-blkback opens params itself, as in dom0, and xl devd,
# finding no kernel blkback (/sys/bus/xen-backend/drivers/vbd), attaches no
# loop device and only removes the directory when the device goes (checked
# after `xl destroy fe`, with keel-blkback still alive afterwards).  The ring
# size and persistent grants are the frontend's choice (blk-pattern asks for
# them), so nothing is written by hand.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
. "$(dirname "$0")/blk-lib.sh"
need_root
need_kvm
for f in keel-blkback keelstore xl keel-blk-plan; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
[ -f "$KEEL_GUESTS/blk-pattern" ] || fail "missing $KEEL_GUESTS/blk-pattern"
lg_fetch_kernel

# --- the driver domain's initramfs ------------------------------------------------
root=$KEEL_TMP/root
lg_drv_blkback_initramfs "$root"
{
	lg_init_head drv
	lg_drv_blkback_init
	cat <<'INIT'
dd if=/dev/zero of=/tmp/disk0.img bs=1M count=8 2>/dev/null
dd if=/dev/zero of=/tmp/disk1.img bs=1M count=8 2>/dev/null
INIT
	lg_drv_check_watch
	cat <<'INIT'
say ready
# the host asks for the images' checksums once the frontend is gone
until [ "$(keelstore read data/check 2>/dev/null)" = 1 ]; do
	read -r _ <&3
done
say "img0 $(md5sum < /tmp/disk0.img | cut -d' ' -f1)"
say "img1 $(md5sum < /tmp/disk1.img | cut -d' ' -f1)"
kill -0 $bpid && say "keel-blkback alive"
while :; do sleep 60; done
INIT
} >"$root/init"
chmod +x "$root/init"
lg_pack "$root" "$KEEL_TMP/initrd.gz"

lg_dom0_up --no-bridge
{
	lg_cfg_head drv
	echo 'memory = 256'
	echo 'vcpus = 2'
	echo 'driver_domain = 1'
} >"$KEEL_TMP/drv.cfg"
lg_create drv "$KEEL_TMP/drv.cfg"
drv=$id
lg_wait_console drv '^drv: ready' 120 || fail "the driver domain did not start keel-blkback"
grep -qa '^drv: no /dev/xen' "$con" && fail "$(grep -a '^drv: no /dev/xen' "$con" | tr -d '\r')"
grep -qa "^drv: domid $drv" "$con" || fail "the driver domain does not read its domid through /dev/xen/xenbus"
drvcon=$con
# Every libxen* keel-blkback mapped is Debian's file, byte for byte.
lg_drv_xenlibs_check drv keel-blkback
echo "linux-xenlibs-blkback: keel-blkback in domain $drv runs on Debian's libraries:" \
	$(grep -a '^drv: maps ' "$con" | tr -d '\r' | sed 's|.*/||')

# --- the frontend guest, its two disks served by the driver domain ----------------
# xl writes the device nodes (backend=drv); the targets are the driver
# domain's files.
seed=$((RANDOM * 30000 + RANDOM + 1))
count=24
cat >"$KEEL_TMP/fe.cfg" <<CFG
name = "fe"
kernel = "$KEEL_GUESTS/blk-pattern"
memory = 32
on_poweroff = "preserve"
extra = "seed=$seed count=$count rw0=51712 rw0s=16384 rw1=51728 rw1s=16384"
disk = [ 'backend=drv,vdev=xvda,target=/tmp/disk0.img',
         'backend=drv,vdev=xvdb,target=/tmp/disk1.img' ]
CFG
xl create -p "$KEEL_TMP/fe.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create fe: $(cat "$KEEL_TMP/create.out")"
fe=$(xl domid fe) || fail "domid fe"
LG_DIAG_DOMS="$LG_DIAG_DOMS $fe"
# On failure, besides lg_diag: the driver domain's own view (its console,
# keel-blkback's and xl devd's messages there) and the backend tree it
# serves, with perms.
drv_diag() {
	local p
	echo "--- the driver domain's console (last 60 lines but ticks)"
	grep -av '^tick' "$drvcon" | tail -n 60 | tr -d '\r'
	for p in $(st ls "/local/domain/$drv/backend/vbd/$fe" 2>/dev/null); do
		p=/local/domain/$drv/backend/vbd/$fe/$p
		echo "--- $p ($(st perms "$p" 2>&1 | tr '\n' ' '))"
		lg_store_dump "$p"
	done
}
# libxl's layout, as xl wrote it: the backend's directory is the driver
# domain's (readable by the frontend), the frontend's is the frontend's
# (readable by the backend), each naming the other.
i=0
for dev in 51712 51728; do
	be=/local/domain/$drv/backend/vbd/$fe/$dev
	fr=/local/domain/$fe/device/vbd/$dev
	[ "$(st perms "$be" 2>/dev/null)" = "n$drv r$fe" ] || fail "backend dir $be perms: $(st perms "$be" 2>&1)"
	[ "$(st perms "$fr" 2>/dev/null)" = "n$fe r$drv" ] || fail "frontend dir $fr perms: $(st perms "$fr" 2>&1)"
	[ "$(st read "$fr/backend" 2>/dev/null)" = "$be" ] || fail "$fr/backend: $(st read "$fr/backend" 2>&1)"
	[ "$(st read "$fr/backend-id" 2>/dev/null)" = "$drv" ] || fail "$fr/backend-id: $(st read "$fr/backend-id" 2>&1)"
	[ "$(st read "$be/params" 2>/dev/null)" = "/tmp/disk$i.img" ] || fail "$be/params: $(st read "$be/params" 2>&1)"
	[ "$(st read "$be/type" 2>/dev/null)" = phy ] || fail "$be/type: $(st read "$be/type" 2>&1)"
	i=$((i + 1))
done
st ls "/local/domain/0/backend/vbd/$fe" >/dev/null 2>&1 && fail "dom0 got a backend directory for the guest's disks"
xl unpause fe || fail "unpause fe"
( blk_verdict fe 120 ) || { drv_diag; exit 1; }
# xl devd left both to keel-blkback: no loop device, no physical-device
for dev in 51712 51728; do
	be=/local/domain/$drv/backend/vbd/$fe/$dev
	grep -qa "xl devd: $be: /tmp/disk.\.img served by a user-space backend" "$drvcon" ||
		{ drv_diag; fail "xl devd did not leave $be to keel-blkback"; }
	st read "$be/physical-device" >/dev/null 2>&1 && fail "xl devd wrote $be/physical-device"
done

# --- the guest goes: xl devd removes its backend directories ----------------------
xl destroy fe >"$KEEL_TMP/destroy.out" 2>&1 || fail "xl destroy fe: $(cat "$KEEL_TMP/destroy.out")"
wait_for "! st ls /local/domain/$drv/backend/vbd/$fe >/dev/null 2>&1" 20 ||
	{ drv_diag; fail "the driver domain's backend directories stayed after xl destroy fe"; }

# --- the images in the driver domain against the host's replay ---------------------
st write "/local/domain/$drv/data/check" 1 || fail "cannot ask the driver domain for its images"
lg_wait_console drv '^drv: img1 ' 30 || { drv_diag; fail "the driver domain did not report its images"; }
for i in 0 1; do
	truncate -s 8M "$KEEL_TMP/want$i"
	"$KEEL_BIN/keel-blk-plan" apply "$KEEL_TMP/want$i" $seed $i $count || fail "keel-blk-plan $i"
	want=$(md5sum <"$KEEL_TMP/want$i" | cut -d' ' -f1)
	got=$(grep -a "^drv: img$i " "$drvcon" | tr -d '\r' | awk '{ print $3 }')
	[ "$got" = "$want" ] || fail "image $i in the driver domain ($got) differs from the replay ($want)"
done
grep -qa '^drv: keel-blkback alive' "$drvcon" || fail "keel-blkback died in the driver domain"
# a SAN build's keel-blkback and xl report on the driver domain's console
grep -qaE 'AddressSanitizer|runtime error:|LeakSanitizer' "$drvcon" &&
	fail "keel-blkback in the driver domain: $(grep -aE 'Sanitizer|runtime error:' "$drvcon" | head -3)"
echo "linux-xenlibs-blkback: both images in domain $drv match the replay (seed $seed, $count extents each)"
grep -a 'xl devd:' "$drvcon" | tr -d '\r' | sed 's/^/linux-xenlibs-blkback: drv: /'
xl destroy drv >/dev/null 2>&1
exit 0
