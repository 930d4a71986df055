# Shared helpers for the tests that boot Debian's own kernel (or another
# real PV kernel) on Keel and drive its Xen frontends against Keel's
# backends: linux-blkfront, linux-netfront, pvgrub, pvgrub-linux.  Source after
# tests/lib/common.sh.
#
#   lg_fetch_kernel      fetch linux-image-6.1.0-*-amd64 and busybox-static
#                        (skip when they cannot be fetched); sets LG_VMLINUZ,
#                        LG_KVER, LG_MODDIR, LG_BB
#   lg_initramfs DIR     a busybox root in DIR (every applet linked in /bin)
#   lg_add_module DIR M  copy module M (path under kernel/, e.g.
#                        drivers/block/xen-blkfront.ko) and what its
#                        .modinfo "depends=" names into DIR/lib/modules,
#                        decompressing .ko.xz on the host
#   lg_add_xl DIR        Keel's xl and the shared libraries ldd lists for it
#                        (a driver domain's xl devd)
#   lg_add_prog DIR PROG [LIBDIR]  any program so, LIBDIR searched too
#   lg_drv_initramfs DIR MODULE...  busybox, those modules and xl (a driver domain)
#   lg_drv_net_initramfs DIR  busybox, xl, netfront, netback, bridge and an
#                        /init bridging eth0 in br0 and running xl devd
#   lg_drv_xenlibs_initramfs DIR BACKEND [MODULE...]  busybox, xen-evtchn/
#                        xen-gntdev and MODULEs, Debian's libxen* (DIR/xenlib,
#                        sets xenlib), BACKEND, keelstore and xl (Keel's
#                        backend daemon in a driver domain)
#   lg_drv_xenlibs_init BACKEND  its /init lines starting xl devd and BACKEND
#                        and saying the libxen* BACKEND mapped, with md5s
#   lg_drv_xenlibs_check TAG BACKEND  those md5s are Debian's files'
#   lg_drv_blkback_initramfs DIR, lg_drv_blkback_init  the same for keel-blkback
#   lg_drv_create DEV REGEX  create the driver domain "drv" ($KEEL_TMP/drv.gz,
#                        driver_domain=1, the xl.cfg line DEV for its own
#                        device); wait for a console line REGEX or FAIL;
#                        sets drv (its domid) and drvcon (its console log)
#   lg_fe_create DEV     create the guest "fe" ($KEEL_TMP/guest.gz, 192 MiB) with
#                        the xl.cfg line DEV (its devices); sets fe, id, con
#   lg_fe_wait REGEX SECONDS WHAT  its console line REGEX, or FAIL with WHAT
#   lg_drv_attached BE FEDIR WHAT  a device attached through the driver
#                        domain: BE's perms, FEDIR's backend-id
#   lg_drv_next DEV      boot drv's successor "drv-next" (the xl.cfg line DEV);
#                        sets drv2 (its domid)
#   lg_grants DOMID      the domain's grant entries in use ('g' debug key)
#   lg_drv_destroy KIND DEVID TAG  xl destroy drv mid-I/O; only it goes
#   lg_init_head TAG     the start of a busybox /init: mounts, say(), insmods
#   lg_cfg_head NAME     an xl.cfg's name/kernel/ramdisk/extra lines
#   lg_pack DIR OUT      newc cpio, gzip
#   lg_dom0_up [ARGS]    keel-dom0-up ARGS in a private rundir ($run), defines
#                        xl/st, cleans up at exit (with lg_diag on failure)
#   lg_backend NAME      start keel-blkback/keel-netback on that rundir
#                        (unless keel-dom0-up already did); log in
#                        $run/log/NAME.log
#   lg_console NAME      the guest's console log path (keel-consoled's)
#   lg_wait_console NAME REGEX SECONDS   wait for a console line
#   lg_keeld_log ID      keeld's lines on domain ID: its console_io lines
#                        ("(dID) ...": Linux's earlyprintk=xen boot console)
#                        and keeld's own ("dID: ...", crash dumps)
#   lg_diag              console tail, daemon logs, the store's
#                        connections, keeld's event channels, record and
#                        vCPUs (xl vcpu-list), the
#                        control/ and vbd/vif nodes of the domains in
#                        $LG_DIAG_DOMS (lg_create adds each domid)

LG_DIAG_DOMS=""
LG_PIDS=""

lg_fetch_kernel() {
	local pkg dir
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1)
	[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-amd64 in apt's lists"
	dir=$(fetch_deb "$pkg") || skip "could not download $pkg"
	LG_VMLINUZ=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$LG_VMLINUZ" ] || fail "$pkg has no /boot/vmlinuz"
	LG_KVER=${LG_VMLINUZ##*/vmlinuz-}
	LG_MODDIR=$dir/lib/modules/$LG_KVER/kernel
	[ -d "$LG_MODDIR" ] || fail "$pkg has no modules for $LG_KVER"
	LG_BB=$(fetch_deb busybox-static) || skip "busybox-static unavailable"
}

lg_initramfs() {
	local root=$1 a
	mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
		"$root/lib/modules"
	cp "$LG_BB/bin/busybox" "$root/bin/"
	for a in $("$LG_BB/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
}

# the value of one .modinfo field of a module file
lg_modinfo() {
	objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null | tr '\0' '\n' |
		sed -n "s/^$2=//p"
}

lg_add_module() {
	local root=$1 rel=$2 src name dep out
	src=$LG_MODDIR/$rel
	[ -f "$src" ] || src=$LG_MODDIR/$rel.xz
	[ -f "$src" ] || fail "no module $rel in $LG_MODDIR"
	name=$(basename "${rel%.xz}")
	out=$root/lib/modules/$name
	[ -f "$out" ] && return 0
	case $src in
	*.xz) xz -dc "$src" >"$out" || fail "cannot decompress $src" ;;
	*) cp "$src" "$out" ;;
	esac
	# dependencies first (insmod order is the file's order in lib/modules/ORDER)
	for dep in $(lg_modinfo "$out" depends | tr ',' ' '); do
		rel=$(cd "$LG_MODDIR" && find . \( -name "$dep.ko" -o -name "$dep.ko.xz" \
			-o -name "${dep//_/-}.ko" -o -name "${dep//_/-}.ko.xz" \) | head -n 1)
		[ -n "$rel" ] || fail "module $name depends on $dep, not found"
		lg_add_module "$root" "${rel#./}"
	done
	echo "$name" >>"$root/lib/modules/ORDER"
}

lg_add_xl() { lg_add_prog "$1" "$KEEL_BIN/xl"; }

# lg_drv_initramfs DIR MODULE...: a driver domain's initramfs tree: busybox,
# the modules (paths under the kernel's drivers tree) and xl for xl devd
lg_drv_initramfs() {
	local root=$1 m
	shift
	lg_initramfs "$root"
	for m; do lg_add_module "$root" "$m"; done
	lg_add_xl "$root"
}

# lg_drv_net_initramfs DIR: a network driver domain's tree, /init included:
# busybox, xl, xen-netfront, xen-netback and bridge; its /init puts its eth0
# (the uplink vif from dom0) in a bridge br0, runs `xl devd -F` (which adds
# each guest's vif to the bridge its xl.cfg names) and says "KEEL-DRV: br0
# up", then prints every interface's packet counters each 5 s
lg_drv_net_initramfs() {
	lg_drv_initramfs "$1" drivers/net/xen-netfront.ko drivers/net/xen-netback/xen-netback.ko \
		net/bridge/bridge.ko
	{
		lg_init_head KEEL-DRV
		cat <<'INIT'
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || { say "FAIL no eth0"; poweroff -f; }
ip link set lo up
brctl addbr br0 && brctl addif br0 eth0 && ip link set eth0 up && ip link set br0 up ||
	say "FAIL bridge"
export ASAN_OPTIONS=detect_leaks=0
xl devd -F >/dev/console 2>&1 &
say "br0 up with eth0; xl devd running"
# packet counters of every interface, for the diagnostics
while :; do
	sleep 5
	l=
	for n in /sys/class/net/*; do
		l="$l ${n##*/} rx $(cat $n/statistics/rx_packets) tx $(cat $n/statistics/tx_packets) drop $(cat $n/statistics/rx_dropped)/$(cat $n/statistics/tx_dropped);"
	done
	echo "KEEL-DRV: counters:$l"
done
INIT
	} >"$1/init"
	chmod +x "$1/init"
}

# lg_drv_xenlibs_initramfs DIR BACKEND [MODULE...]: a driver domain's tree
# for Keel's backend daemon BACKEND (keel-blkback, keel-netback) on Xen's
# library API (its /init is the caller's): busybox, the xen-evtchn and
# xen-gntdev modules and MODULEs, Debian's real libxenevtchn/libxengnttab
# and what they need in DIR/xenlib (sets xenlib; the guest loads them by
# LD_LIBRARY_PATH), and BACKEND, keelstore and xl with the host's C library
# (and, in a SAN build, the sanitizer runtimes) at the same paths; any
# libxen* must come from xenlib
lg_drv_xenlibs_initramfs() {
	local root=$1 backend=$2 p d f m deps
	shift 2
	lg_initramfs "$root"
	for m in drivers/xen/xen-evtchn.ko drivers/xen/xen-gntdev.ko "$@"; do
		lg_add_module "$root" "$m"
	done
	xenlib=$root/xenlib
	mkdir -p "$xenlib"
	for p in libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxentoolcore1 libxentoollog1; do
		d=$(fetch_deb "$p") || skip "could not download $p"
		cp -a "$d"/usr/lib/x86_64-linux-gnu/lib*.so* "$xenlib/" || fail "$p has no libraries"
	done
	for f in "$backend" keelstore xl; do cp "$KEEL_BIN/$f" "$root/bin/"; done
	deps=$(LD_LIBRARY_PATH=$xenlib ldd "$root/bin/$backend" "$root/bin/keelstore" \
		"$root/bin/xl" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' | sort -u)
	for f in $deps; do
		case $f in
		"$xenlib"/*) ;;
		*/libxen*) fail "$backend would load $f, not Debian's library" ;;
		*)
			mkdir -p "$root$(dirname "$f")"
			cp -L "$f" "$root$f"
			;;
		esac
	done
	LD_LIBRARY_PATH=$xenlib ldd "$root/bin/$backend" | grep -q "libxengnttab.so.1 => $xenlib/" ||
		fail "$backend does not resolve libxengnttab.so.1 to Debian's"
}

lg_drv_blkback_initramfs() { lg_drv_xenlibs_initramfs "$1" keel-blkback; }

# lg_drv_xenlibs_init BACKEND: the /init lines (after lg_init_head) of such
# a driver domain: say which /dev/xen device is missing, start `xl devd -F`
# and BACKEND on /xenlib's libraries (its pid in bpid; both reach the store
# through /dev/xen/xenbus, as there is no socket), wait up to 10 s for it to
# map libxengnttab, and say "maps MD5 PATH" for each libxen* it has mapped
lg_drv_xenlibs_init() {
	cat <<INIT
for d in evtchn gntdev xenbus; do [ -c /dev/xen/\$d ] || say "no /dev/xen/\$d"; done
export ASAN_OPTIONS=detect_leaks=0
xl devd -F >/dev/console 2>&1 &
LD_LIBRARY_PATH=/xenlib $1 >/dev/console 2>&1 &
bpid=\$!
INIT
	cat <<'INIT'
i=0
until grep -q libxengnttab /proc/$bpid/maps 2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
for f in $(grep -o '/[^ ]*libxen[^ ]*' /proc/$bpid/maps | sort -u); do
	say "maps $(md5sum $f)"
done
INIT
}

lg_drv_blkback_init() { lg_drv_xenlibs_init keel-blkback; }

# lg_drv_check_watch: /init lines that read the domain's domid (said as
# "domid N") and hold one watch on its data/check, the host's requests, for
# the whole run on fd 3 through a FIFO: its first event comes at once, then
# one per write, so no write falls between a read and a new watch, and
# nothing polls (the vCPU stays the backend's)
lg_drv_check_watch() {
	cat <<'INIT'
domid=$(keelstore read domid)
say "domid $domid"
mkfifo /tmp/check
keelstore watch /local/domain/$domid/data/check 1000000 >/tmp/check &
exec 3</tmp/check
INIT
}

# lg_drv_xenlibs_check TAG BACKEND: on the host, after the driver domain
# said its "TAG: maps MD5 PATH" lines (console $drvcon): every libxen*
# BACKEND mapped there is Debian's file in $xenlib, byte for byte, and there
# are at least three (libxenevtchn, libxengnttab, what they need)
lg_drv_xenlibs_check() {
	local sum path n=0
	while read -r sum path; do
		[ "$(md5sum <"$xenlib/${path##*/}" | cut -d' ' -f1)" = "$sum" ] ||
			fail "$2 in the driver domain mapped $path, not Debian's ${path##*/}"
		n=$((n + 1))
	done < <(grep -a "^$1: maps " "$drvcon" | tr -d '\r' | sed "s/^$1: maps //")
	[ $n -ge 3 ] || fail "$2 maps $n Xen libraries (want libxenevtchn, libxengnttab, ...)"
}

# lg_add_prog DIR PROGRAM [LIBDIR]: PROGRAM as DIR/bin/NAME with the shared
# libraries ldd lists for it (searching LIBDIR too, e.g. an unpacked Debian
# package's; those go to the guest's /usr/lib/x86_64-linux-gnu)
lg_add_prog() {
	local root=$1 prog=$2 lib to
	cp "$prog" "$root/bin/${prog##*/}" || fail "cannot copy $prog"
	for lib in $(LD_LIBRARY_PATH=${3:-} ldd "$prog" | grep -o '/[^ ]*'); do
		case $lib in
		/lib/* | /lib64/* | /usr/lib/*) to=$lib ;;
		*) to=/usr/lib/x86_64-linux-gnu/${lib##*/} ;;
		esac
		mkdir -p "$root${to%/*}"
		cp -L "$lib" "$root$to" || fail "cannot copy $lib for ${prog##*/}"
	done
}

# lg_drv_cfg NAME EXTRA-LINES: the xl.cfg of a driver domain NAME booting
# $KEEL_TMP/drv.gz, in $KEEL_TMP/NAME.cfg
lg_drv_cfg() {
	cat >"$KEEL_TMP/$1.cfg" <<CFG
name = "$1"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/drv.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 1
driver_domain = 1
on_poweroff = "preserve"
$2
CFG
}

# lg_drv_create EXTRA-LINES REGEX: create the driver domain "drv" and wait
# for its console line REGEX; sets drv (its domid) and drvcon
lg_drv_create() {
	lg_drv_cfg drv "$1"
	lg_create drv "$KEEL_TMP/drv.cfg"
	drv=$id
	drvcon=$con
	lg_wait_console drv "$2|^KEEL-DRV: FAIL" 120 ||
		fail "the driver domain did not start xl devd (last: $(tail -n 1 "$drvcon" 2>/dev/null))"
	grep -qa '^KEEL-DRV: FAIL' "$drvcon" && fail "driver domain: $(grep -a '^KEEL-DRV: FAIL' "$drvcon" | tr -d '\r')"
	return 0
}

# lg_fe_wait REGEX SECONDS WHAT: wait for the guest's console line REGEX or
# FAIL with WHAT and the guest's last line
lg_fe_wait() {
	lg_wait_console fe "$1" "$2" || fail "$3 (last: $(tail -n 1 "$con" 2>/dev/null | tr -d '\r'))"
}

# lg_drv_attached BE FEDIR WHAT: a device just attached to the guest through
# the driver domain: its backend directory BE the driver domain's, readable by
# the guest, and the guest's FEDIR naming the driver domain
lg_drv_attached() {
	[ "$(st perms "$1" 2>/dev/null)" = "n$drv r$fe" ] || fail "$3's backend dir: $(st perms "$1" 2>&1)"
	[ "$(st read "$2/backend-id" 2>/dev/null)" = "$drv" ] || fail "$3 does not name the driver domain"
}

# lg_drv_next EXTRA-LINES: boot the driver domain's successor "drv-next"
# (while the guest works, for the test's time; renamed drv once drv is
# gone); sets drv2 (its domid)
lg_drv_next() {
	lg_drv_cfg drv-next "$1"
	xl create "$KEEL_TMP/drv-next.cfg" >"$KEEL_TMP/create-next.out" 2>&1 ||
		fail "create drv-next: $(cat "$KEEL_TMP/create-next.out")"
	drv2=$(xl domid drv-next) || fail "domid drv-next"
	LG_DIAG_DOMS="$LG_DIAG_DOMS $drv2"
}

# lg_grants DOMID: the domain's grant entries in use, from Xen's 'g' debug key
lg_grants() {
	xl debug-keys g >/dev/null && xl dmesg | grep -a "grant-table for remote d$1 " | tail -n 1 |
		sed -n 's/.*: \([0-9]*\) active entries.*/\1/p'
}

# lg_drv_destroy KIND DEVID TAG: destroy the driver domain drv while the
# guest fe does I/O on its device KIND/DEVID through it, and check that only
# drv went: xl destroy marks the backend it served Closed, the guest's
# frontend goes Closed, drv's store tree is gone, keeld and the guest live
# on, and the dead domain's maps of the guest's grants are released (the
# guest's entries in use go to 0).  TAG prefixes the lines it prints.
lg_drv_destroy() {
	local be=/local/domain/$drv/backend/$1/$fe/$2 fst=/local/domain/$fe/device/$1/$2/state before after t1
	before=$(lg_grants "$fe")
	[ -n "$before" ] && [ "$before" -gt 0 ] || fail "the guest has no grant entries mapped by drv before the destroy ('$before')"
	t1=$SECONDS
	xl destroy drv >"$KEEL_TMP/destroy.out" 2>&1 || fail "xl destroy drv: $(cat "$KEEL_TMP/destroy.out")"
	sed "s/^/$3: xl destroy: /" "$KEEL_TMP/destroy.out"
	grep -q "its backend $be closed" "$KEEL_TMP/destroy.out" ||
		fail "xl destroy did not close the dead driver domain's backend $be"
	wait_for "[ \"\$(st read $fst 2>/dev/null)\" = 6 ]" 10 ||
		fail "the guest's $1 $2 did not go to Closed: state $(st read "$fst" 2>&1)"
	st ls "/local/domain/$drv" >/dev/null 2>&1 && fail "the dead driver domain's store nodes stayed"
	"$KEEL_BIN/keelctl" info "$fe" 2>/dev/null | grep -qE ' (shutdown|crashed) ' && fail "the guest died with its driver domain"
	xl list fe >/dev/null 2>&1 || fail "keeld or the guest is gone: $(xl list 2>&1 | tail -n 3)"
	after=$(lg_grants "$fe")
	[ "$after" = 0 ] || fail "$after of the guest's grant entries still in use after its driver domain died (were $before)"
	echo "$3: drv destroyed mid-I/O in $((SECONDS - t1)) s: the guest's $1 $2 Closed, its grant entries in use $before -> $after"
	lg_keeld_log "$drv" | tail -n 2 | sed "s/^/$3: keeld: /"
}

lg_fe_create() {
	cat >"$KEEL_TMP/guest.cfg" <<CFG
name = "fe"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/guest.gz"
extra = "console=hvc0 rdinit=/init"
memory = 192
vcpus = 1
on_poweroff = "preserve"
$1
CFG
	lg_create fe "$KEEL_TMP/guest.cfg"
	fe=$id
}

# lg_init_head TAG: the start of a busybox /init (on stdout): PATH, /proc,
# /sys and /dev mounted, say() printing "TAG: ...", wait_until, the modules of
# lib/modules/ORDER loaded
lg_init_head() {
	cat <<HEAD
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "$1: \$*"; }
# wait_until SECONDS TEST...: poll test(1) TEST every 0.1 s; its last verdict
wait_until() {
	local n=\$((\$1 * 10)) i=0
	shift
	until [ "\$@" ] || [ \$i -ge \$n ]; do sleep 0.1; i=\$((i + 1)); done
	[ "\$@" ]
}
for m in \$(cat /lib/modules/ORDER); do
	insmod /lib/modules/\$m || say "insmod \$m failed"
done
HEAD
}

# lg_cfg_head NAME: the first lines of an xl.cfg booting the fetched kernel
# with $KEEL_TMP/initrd.gz and its /init on the console
lg_cfg_head() {
	cat <<CFG
name = "$1"
kernel = "$LG_VMLINUZ"
ramdisk = "$KEEL_TMP/initrd.gz"
extra = "console=hvc0 rdinit=/init"
CFG
}

lg_pack() {
	(cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$2"
}


lg_cleanup() {
	local rc=$? p
	[ $rc = 0 ] || lg_diag
	for p in $LG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $LG_PIDS; do wait "$p" 2>/dev/null; done
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	return $rc
}

lg_dom0_up() {
	need_bin keelstore keelctl
	xl_host_up "$@"
	trap lg_cleanup EXIT
}

lg_backend() {
	local name=$1 pid
	[ -x "$KEEL_BIN/$name" ] || fail "missing $KEEL_BIN/$name (run make)"
	pid=$(cat "$run/${name#keel-}.pid" 2>/dev/null)
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
		return 0 # keel-dom0-up started it for this rundir
	fi
	"$KEEL_BIN/$name" --store "$run/xenstored/socket" </dev/null >>"$run/log/$name.log" 2>&1 &
	pid=$!
	LG_PIDS="$LG_PIDS $pid"
	echo "$pid" >"$run/${name#keel-}.pid"
	sleep 0.3
	kill -0 "$pid" 2>/dev/null || fail "$name did not start: $(tail -n 3 "$run/log/$name.log")"
}

lg_console() { echo "$run/console/guest-$1.log"; }

# lg_create NAME CFG: xl create the domain CFG describes (named NAME); sets id
# (its domid), con (its console log), t0 (when it was created) and makes it
# part of the diagnostics on failure
lg_create() {
	t0=$SECONDS
	xl create "$2" >"$KEEL_TMP/create.out" 2>&1 || fail "create: $(cat "$KEEL_TMP/create.out")"
	id=$(xl domid "$1") || fail "domid $1"
	LG_DIAG_DOMS="$LG_DIAG_DOMS $id"
	con=$(lg_console "$1")
}

# lg_wait_console NAME REGEX SECONDS: 0 when a console line matches; 1 on
# timeout or when the domain has shut down or crashed first
lg_wait_console() {
	local log end id
	log=$(lg_console "$1")
	id=$(xl domid "$1" 2>/dev/null)
	end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -qaE "$2" "$log" 2>/dev/null && return 0
		if [ -n "$id" ] && "$KEEL_BIN/keelctl" info "$id" 2>/dev/null | grep -qE ' (shutdown|crashed) '; then
			sleep 1
			grep -qaE "$2" "$log" 2>/dev/null
			return
		fi
		sleep 0.5
	done
	return 1
}

lg_keeld_log() {
	grep -aE "^\\(keeld\\) (\\(d$1\\) |d$1: )" "$run/log/keeld.log" 2>/dev/null
}

lg_diag() {
	local f d t
	echo "=== diagnostics"
	for d in $LG_DIAG_DOMS; do
		echo "--- keeld's log of domain $d (last 60 lines: console_io, and keeld's)"
		lg_keeld_log "$d" | tail -n 60
	done
	for f in "$run"/console/guest-*.log; do
		[ -f "$f" ] || continue
		echo "--- $f (last 40 lines)"
		tail -n 40 "$f" | tr -d '\r'
		# a guest printing a counter hides its kernel's messages: those too
		echo "--- $f (last 40 lines that are not 'tick N')"
		grep -av '^tick [0-9]*.$\|^tick [0-9]*$' "$f" | tail -n 40 | tr -d '\r'
	done
	for f in "$run"/log/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f (last 15 lines)"
		tail -n 15 "$f"
	done
	# where each store connection stands (a guest's ring indices), and
	# keeld's event channels (Xen's 'e' debug key)
	echo "--- keel-xenstored connections"
	st control conns 2>&1
	echo "--- event channels (xl debug-keys e)"
	"$KEEL_BIN/xl" debug-keys qe 2>&1 && "$KEEL_BIN/xl" dmesg 2>&1 | tail -n 150
	for d in $LG_DIAG_DOMS; do
		echo "--- domain $d: $("$KEEL_BIN/keelctl" info "$d" 2>&1 | tail -n 1)"
		"$KEEL_BIN/xl" vcpu-list "$d" 2>/dev/null | sed 's/^/    /'
		st ls "/local/domain/$d/control" >/dev/null 2>&1 && lg_store_dump "/local/domain/$d/control"
		for t in vbd vif qdisk; do
			for f in /local/domain/0/backend/$t/$d /local/domain/$d/device/$t; do
				st ls "$f" >/dev/null 2>&1 || continue
				echo "--- keelstore ls $f"
				lg_store_dump "$f"
			done
		done
	done
	# a test's own last words (lg_diag_extra, when it defines one)
	declare -F lg_diag_extra >/dev/null && lg_diag_extra
	# last, where a log's tail shows it: why the test failed and what a
	# guest's kernel said when it died
	for f in "$run"/console/guest-*.log; do
		[ -f "$f" ] || continue
		grep -aqE 'Kernel panic|BUG:|Oops|general protection|invalid opcode' "$f" || continue
		echo "--- $f: the kernel's last words (first 18 lines from the first oops or panic)"
		grep -anE 'Kernel panic|BUG:|Oops|general protection|invalid opcode|kernel BUG' "$f" | head -n 1 | cut -d: -f1 |
			{ read -r n; tail -n "+$n" "$f" | head -n 18 | tr -d '\r' | cut -c1-160; }
	done
	# and keeld's flight recorder of the vCPU that crashed: its last exits
	for d in $LG_DIAG_DOMS; do
		lg_keeld_log "$d" | grep -q 'oldest first' || continue
		echo "--- d$d: keeld's last exits of the crashing vCPU (newest last; console output not shown)"
		lg_keeld_log "$d" | grep -aA32 'oldest first' | tail -n 14 | cut -c1-150
	done
	echo "=== end of diagnostics${KEEL_FAIL_REASON:+ (FAIL: $KEEL_FAIL_REASON)}"
}

# every node under PATH with its value
lg_store_dump() {
	local c v
	for c in $(st ls "$1" 2>/dev/null); do
		v=$(st read "$1/$c" 2>/dev/null) && [ -n "$v" ] && echo "$1/$c = $v"
		st ls "$1/$c" 2>/dev/null | grep -q . && lg_store_dump "$1/$c"
	done
}
