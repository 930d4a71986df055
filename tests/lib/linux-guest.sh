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

# lg_init_head TAG: the start of a busybox /init (on stdout): PATH, /proc,
# /sys and /dev mounted, say() printing "TAG: ...", the modules of
# lib/modules/ORDER loaded
lg_init_head() {
	cat <<HEAD
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "$1: \$*"; }
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

xl() { "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }

lg_cleanup() {
	local rc=$? p
	[ $rc = 0 ] || lg_diag
	for p in $LG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $LG_PIDS; do wait "$p" 2>/dev/null; done
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	return $rc
}

lg_dom0_up() {
	local f
	for f in xl keel-dom0-up keel-dom0-down keelstore keelctl; do
		[ -x "$KEEL_BIN/$f" ] || fail "missing $KEEL_BIN/$f (run make)"
	done
	run=$KEEL_TMP/run
	export KEEL_RUNDIR=$run
	trap lg_cleanup EXIT
	"$KEEL_BIN/keel-dom0-up" --rundir "$run" "$@" >"$KEEL_TMP/up.out" 2>&1 ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
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
	echo "=== end of diagnostics"
}

# every node under PATH with its value
lg_store_dump() {
	local c v
	for c in $(st ls "$1" 2>/dev/null); do
		v=$(st read "$1/$c" 2>/dev/null) && [ -n "$v" ] && echo "$1/$c = $v"
		st ls "$1/$c" 2>/dev/null | grep -q . && lg_store_dump "$1/$c"
	done
}
