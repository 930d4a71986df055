# tests/bench/io/run's third part (-drvdom), sourced in a subshell after the
# guest part: the same blk-bench workload (4 KiB random reads, 16 in flight;
# 1 MiB sequential reads) once through dom0's keel-blkback and once through
# keel-blkback inside a Debian driver domain, in the same run, the driver
# domain's figure against dom0's.  The driver domain is set up as
# linux-xenlibs-blkback sets it up (tests/lib/linux-guest.sh's
# lg_drv_blkback_initramfs): Debian's kernel with xen-evtchn and xen-gntdev,
# a busybox initramfs, keel-blkback on Debian's real libxenevtchn and
# libxengnttab, `xl devd -F`, and the guest's disk by `backend=drv`.  Its
# image is 256 MiB of random data in the driver domain's RAM (/tmp on its
# initramfs, written there from /dev/urandom), as dom0's is on tmpfs.  The
# driver domain has one vCPU (on this 2-core host a second would only
# contend); it stays up, idle, for the dom0 run too, so both runs see the
# same host.  Host CPU per I/O is keel-blkback's (dom0's, idle in the
# driver-domain run) and keeld's (every vCPU thread: the guest's, and the
# driver domain's that runs its keel-blkback) together.
KEEL_TMP=$gtmp
. "$top/tests/lib/common.sh"
. "$top/tests/lib/linux-guest.sh"
skip() {
	echo "driver-domain figures skipped: $*"
	exit 0
}
lg_fetch_kernel
lg_drv_blkback_initramfs "$gtmp/drvroot"
{
	lg_init_head drv
	lg_drv_blkback_init
	cat <<'INIT'
dd if=/dev/urandom of=/tmp/bench.img bs=1M count=256 2>/dev/null
say ready
while :; do sleep 60; done
INIT
} >"$gtmp/drvroot/init"
chmod +x "$gtmp/drvroot/init"
lg_pack "$gtmp/drvroot" "$KEEL_TMP/initrd.gz"
{
	lg_cfg_head drv
	echo 'memory = 640'
	echo 'vcpus = 1'
	echo 'driver_domain = 1'
} >"$gtmp/drv.cfg"
lg_create drv "$gtmp/drv.cfg"
lg_wait_console drv '^drv: ready' 120 || fail "the driver domain did not start keel-blkback (last: $(tail -n 1 "$con" | tr -d '\r'))"
grep -qa '^drv: no /dev/xen' "$con" && fail "$(grep -a '^drv: no /dev/xen' "$con" | tr -d '\r')"

hostcpu() { # keel-blkback's and keeld's ticks from phase $1 to $2, us per I/O ($3 I/Os)
	calc "(${bt[$2]} + ${kt[$2]} - ${bt[$1]} - ${kt[$1]}) / $hz * 1e6 / $3"
}
# figs PREFIX: the last run's IOPS, MiB/s and host CPU per I/O as PREFIX_iops,
# PREFIX_mbps, PREFIX_rcpu, PREFIX_scpu
figs() {
	line=$gline
	printf -v "$1_iops" %s "$(calc "$(gget rand4k_ios) / $(gget rand4k_ns) * 1e9")"
	printf -v "$1_mbps" %s "$(calc "$(gget seq1m_ios) / $(gget seq1m_ns) * 1e9")"
	printf -v "$1_rcpu" %s "$(hostcpu rand seq "$(gget rand4k_ios)")"
	printf -v "$1_scpu" %s "$(hostcpu seq done "$(gget seq1m_ios)")"
}
bench_guest blkbench0 "$img,raw,xvda,r"
figs d
bench_guest blkbenchd "backend=drv,vdev=xvda,access=ro,target=/tmp/bench.img"
figs v
echo "guest: the same blk-bench -> keel-blkback in a Debian driver domain (Debian's libxenevtchn/libxengnttab," \
	"xl devd, backend=drv, 1 vCPU) -> 256 MiB image in its RAM; baseline: the same guest through dom0's" \
	"keel-blkback, same run"
bench_report io-rand4k-read-drvdom "$v_iops" IOPS dom0-blkback "$d_iops" higher
bench_report io-seq1m-read-drvdom "$v_mbps" MiB/s dom0-blkback "$d_mbps" higher
bench_report io-rand4k-host-cpu-per-io-drvdom "$v_rcpu" us dom0-blkback "$d_rcpu" lower
bench_report io-seq1m-host-cpu-per-io-drvdom "$v_scpu" us dom0-blkback "$d_scpu" lower
"$KEEL_BIN/xl" destroy drv >/dev/null 2>&1
exit 0
