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
# Stand-ins, test only: the store is reached through keel-test-xsproxy, a
# relay from a Unix socket to the guest's /dev/xen/xenbus (libkeelstore's
# own transport for it is another branch's); the backend and frontend nodes
# are written here with libxl's layout and permissions (xl's backend= is
# another branch's).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
. "$(dirname "$0")/blk-lib.sh"
need_root
need_kvm
for f in keel-blkback keelstore keel-test-xsproxy keel-blk-plan; do
	[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
done
[ -f "$KEEL_GUESTS/blk-pattern" ] || fail "missing $KEEL_GUESTS/blk-pattern"
lg_fetch_kernel

# --- the driver domain's initramfs ------------------------------------------------
root=$KEEL_TMP/root
lg_initramfs "$root"
lg_add_module "$root" drivers/xen/xen-evtchn.ko
lg_add_module "$root" drivers/xen/xen-gntdev.ko
xenlib=$root/xenlib
mkdir -p "$xenlib"
for p in libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxentoolcore1 libxentoollog1; do
	d=$(fetch_deb "$p") || skip "could not download $p"
	cp -a "$d"/usr/lib/x86_64-linux-gnu/lib*.so* "$xenlib/" || fail "$p has no libraries"
done
for f in keel-blkback keelstore keel-test-xsproxy; do cp "$KEEL_BIN/$f" "$root/bin/"; done
# What the binaries need besides: the host's C library (and, in a SAN build,
# the sanitizer runtimes), at the same paths; libxen* must come from xenlib.
deps=$(LD_LIBRARY_PATH=$xenlib ldd "$root/bin/keel-blkback" "$root/bin/keelstore" \
	"$root/bin/keel-test-xsproxy" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' | sort -u)
for f in $deps; do
	case $f in
	"$xenlib"/*) ;;
	*/libxen*) fail "keel-blkback would load $f, not Debian's library" ;;
	*)
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
		;;
	esac
done
LD_LIBRARY_PATH=$xenlib ldd "$root/bin/keel-blkback" | grep -q "libxengnttab.so.1 => $xenlib/" ||
	fail "keel-blkback does not resolve libxengnttab.so.1 to Debian's"
{
	lg_init_head drv
	cat <<'INIT'
mkdir -p /run
for d in evtchn gntdev xenbus; do [ -c /dev/xen/$d ] || say "no /dev/xen/$d"; done
dd if=/dev/zero of=/tmp/disk0.img bs=1M count=8 2>/dev/null
dd if=/dev/zero of=/tmp/disk1.img bs=1M count=8 2>/dev/null
keel-test-xsproxy /run/xs.sock &
while [ ! -S /run/xs.sock ]; do sleep 0.1; done
st() { keelstore -s /run/xs.sock "$@"; }
domid=$(st read domid)
say "domid $domid"
LD_LIBRARY_PATH=/xenlib keel-blkback --store /run/xs.sock &
bpid=$!
sleep 1
for f in $(grep -o '/[^ ]*libxen[^ ]*' /proc/$bpid/maps | sort -u); do
	say "maps $(md5sum $f)"
done
say ready
# the host asks for the images' checksums once the frontend is done: a
# watch (its first event comes at once, the next with the host's write), no
# polling to take the vCPU from keel-blkback
until [ "$(st read data/check 2>/dev/null)" = 1 ]; do
	st watch /local/domain/$domid/data/check 2 >/dev/null
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
} >"$KEEL_TMP/drv.cfg"
lg_create drv "$KEEL_TMP/drv.cfg"
drv=$id
lg_wait_console drv '^drv: ready' 120 || fail "the driver domain did not start keel-blkback"
grep -qa '^drv: no /dev/xen' "$con" && fail "$(grep -a '^drv: no /dev/xen' "$con" | tr -d '\r')"
grep -qa "^drv: domid $drv" "$con" || fail "the driver domain does not read its domid through /dev/xen/xenbus"
# Every libxen* keel-blkback mapped is Debian's file, byte for byte.
n=0
while read -r sum path; do
	base=${path##*/}
	[ "$(md5sum <"$xenlib/$base" | cut -d' ' -f1)" = "$sum" ] ||
		fail "keel-blkback in the guest mapped $path, not Debian's $base"
	n=$((n + 1))
done < <(grep -a '^drv: maps ' "$con" | tr -d '\r' | sed 's/^drv: maps //')
[ $n -ge 3 ] || fail "keel-blkback maps $n Xen libraries (want libxenevtchn, libxengnttab, ...)"
echo "linux-xenlibs-blkback: keel-blkback in domain $drv runs on Debian's libraries:" \
	$(grep -a '^drv: maps ' "$con" | tr -d '\r' | sed 's|.*/||')

# --- the frontend guest, its two disks served by the driver domain ----------------
seed=$((RANDOM * 30000 + RANDOM + 1))
count=24
cat >"$KEEL_TMP/fe.cfg" <<CFG
name = "fe"
kernel = "$KEEL_GUESTS/blk-pattern"
memory = 32
on_poweroff = "preserve"
extra = "seed=$seed count=$count rw0=51712 rw0s=16384 rw1=51728 rw1s=16384"
CFG
xl create -p "$KEEL_TMP/fe.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create fe: $(cat "$KEEL_TMP/create.out")"
fe=$(xl domid fe) || fail "domid fe"
LG_DIAG_DOMS="$LG_DIAG_DOMS $fe"
# libxl's layout: the backend's directory is the driver domain's (readable by
# the frontend), the frontend's is the frontend's (readable by the backend).
# node PATH VALUE PERMS...
node() { st write "$1" "$2" && st chmod "$1" "${@:3}" || fail "cannot write $1"; }
for p in /local/domain/$drv/backend /local/domain/$drv/backend/vbd /local/domain/$drv/backend/vbd/$fe; do
	st mkdir "$p" && st chmod "$p" "n$drv" || fail "cannot make $p"
done
st mkdir "/local/domain/$fe/device/vbd" 2>/dev/null
st chmod "/local/domain/$fe/device/vbd" "n$fe" "r$drv"
i=0
for dev in 51712 51728; do
	be=/local/domain/$drv/backend/vbd/$fe/$dev
	fr=/local/domain/$fe/device/vbd/$dev
	st mkdir "$be" && st chmod "$be" "n$drv" "r$fe" || fail "cannot make $be"
	st mkdir "$fr" && st chmod "$fr" "n$fe" "r$drv" || fail "cannot make $fr"
	for kv in "frontend $fr" "frontend-id $fe" "params /tmp/disk$i.img" "mode w" "online 1" \
		"removable 0" "type phy" "device-type disk" "dev xvd$i" "state 1"; do
		node "$be/${kv%% *}" "${kv#* }" "n$drv" "r$fe"
	done
	for kv in "backend $be" "backend-id $drv" "virtual-device $dev" "device-type disk" "state 1"; do
		node "$fr/${kv%% *}" "${kv#* }" "n$fe" "r$drv"
	done
	i=$((i + 1))
done
# On failure, besides lg_diag: the driver domain's own view (its console,
# keel-blkback's messages there) and the backend tree it serves, with perms.
drv_diag() {
	local p
	echo "--- the driver domain's console (last 60 lines but ticks)"
	grep -av '^tick' "$con" | tail -n 60 | tr -d '\r'
	for p in $(st ls "/local/domain/$drv/backend/vbd/$fe" 2>/dev/null); do
		p=/local/domain/$drv/backend/vbd/$fe/$p
		echo "--- $p ($(st perms "$p" 2>&1 | tr '\n' ' '))"
		lg_store_dump "$p"
	done
}
xl unpause fe || fail "unpause fe"
( blk_verdict fe 120 ) || { drv_diag; exit 1; }

# --- the images in the driver domain against the host's replay ---------------------
st write "/local/domain/$drv/data/check" 1 || fail "cannot ask the driver domain for its images"
lg_wait_console drv '^drv: img1 ' 30 || { drv_diag; fail "the driver domain did not report its images"; }
for i in 0 1; do
	truncate -s 8M "$KEEL_TMP/want$i"
	"$KEEL_BIN/keel-blk-plan" apply "$KEEL_TMP/want$i" $seed $i $count || fail "keel-blk-plan $i"
	want=$(md5sum <"$KEEL_TMP/want$i" | cut -d' ' -f1)
	got=$(grep -a "^drv: img$i " "$con" | tr -d '\r' | awk '{ print $3 }')
	[ "$got" = "$want" ] || fail "image $i in the driver domain ($got) differs from the replay ($want)"
done
grep -qa '^drv: keel-blkback alive' "$con" || fail "keel-blkback died in the driver domain"
# a SAN build's keel-blkback reports on the driver domain's console
grep -qaE 'AddressSanitizer|runtime error:|LeakSanitizer' "$con" &&
	fail "keel-blkback in the driver domain: $(grep -aE 'Sanitizer|runtime error:' "$con" | head -3)"
echo "linux-xenlibs-blkback: both images in domain $drv match the replay (seed $seed, $count extents each)"
xl destroy fe >/dev/null 2>&1
xl destroy drv >/dev/null 2>&1
exit 0
