#!/usr/bin/env bash
# pv-events-linux: Debian's 6.1 kernel on FIFO event channels (keeld's
# default, as Xen's) and Xen's vDSO clock.  Under `keeld daemon` with 2
# vCPUs, `keelctl null-store` and a busybox initramfs, Linux must choose the
# FIFO ABI, keep its clock ticking (VIRQ_TIMER re-raised through FIFO),
# bring up its second vCPU and reach /init.  There, a small static program
# (built here with the host's cc) shows the vDSO clock needs no exit:
#  * Linux registered vCPU 0's time area (VCPUOP_register_vcpu_time_memory_area,
#    keeld logs it) and did not print its fallback ("VCLOCK_PVCLOCK not
#    supported");
#  * the area is the vDSO's pvclock page: the program reads it in its own
#    [vvar] mapping (the page after the data page) and sees keeld's
#    record: version even, TSC-stable flag, a scale;
#  * keeld's exit count (keelctl info) around 200000 clock_gettime calls
#    through the vDSO grows by far fewer exits than calls, while 2000 calls
#    made as system calls cost at least one exit each.  Exit counts and
#    ns/call are printed; nothing is asserted on time.
. "$(dirname "$0")/../lib/common.sh"
need_kvm
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
	awk '{print $1}' | sort -V | tail -n 1)
[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-amd64 in apt's lists"
dir=$(fetch_deb "$pkg") || skip "could not download $pkg"
vmlinuz=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "$pkg has no /boot/vmlinuz"
bb=$(fetch_deb busybox-static) || skip "could not download busybox-static"

# The guest's clock program: static, so the initramfs needs no libc.
cat >"$KEEL_TMP/clockloop.c" <<'C'
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf jb;

static void on_fault(int sig)
{
	siglongjmp(jb, sig);
}

static uint64_t ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + t->tv_nsec;
}

/* The pvclock page: the second page of [vvar] (Linux's vDSO layout). */
static int pvclock(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[256];
	unsigned long lo = 0, hi = 0;
	volatile const uint8_t *p;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[vvar]"))
			sscanf(line, "%lx-%lx", &lo, &hi);
	if (f)
		fclose(f);
	if (!lo || hi - lo < 2 * 4096) {
		printf("pvclock: no [vvar] of 2+ pages\n");
		return 1;
	}
	p = (const uint8_t *)(lo + 4096);
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	if (sigsetjmp(jb, 1)) {
		printf("pvclock: page not mapped (the vDSO has no pvclock)\n");
		return 1;
	}
	printf("pvclock: version=%u tsc_timestamp=%llu system_time=%llu mul=%u shift=%d flags=%u\n",
	       *(volatile uint32_t *)p, (unsigned long long)*(volatile uint64_t *)(p + 8),
	       (unsigned long long)*(volatile uint64_t *)(p + 16), *(volatile uint32_t *)(p + 24),
	       *(volatile int8_t *)(p + 28), p[29]);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec a, b, t, last = {0, 0};
	long n = argc > 2 ? atol(argv[2]) : 0, back = 0;
	int sys = argc > 1 && !strcmp(argv[1], "syscall");

	if (argc > 1 && !strcmp(argv[1], "pvclock"))
		return pvclock();
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		if (sys)
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
		else
			clock_gettime(CLOCK_MONOTONIC, &t);
		if (ns(&t) < ns(&last))
			back++;
		last = t;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("clockloop %s: %ld calls, %llu ns/call, %ld backwards\n", sys ? "syscall" : "vdso",
	       n, (unsigned long long)(n ? (ns(&b) - ns(&a)) / n : 0), back);
	return back != 0;
}
C
root=$KEEL_TMP/initramfs
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cc -static -O2 -o "$root/bin/clockloop" "$KEEL_TMP/clockloop.c" || fail "cannot build clockloop"
cp "$bb/bin/busybox" "$root/bin/"
for c in sh echo cat mount poweroff sleep; do ln -sf busybox "$root/bin/$c"; done
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
clockloop pvclock
echo "TA phase vdso"
sleep 2
clockloop vdso 200000
echo "TA phase syscall"
sleep 2
clockloop syscall 2000
echo "TA phase done"
sleep 2
echo "Keel init test: SUCCESS"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$KEEL_TMP/initrd.gz"

start_keeld
d=$(ctl create linux 256 2) || fail "create"
ctl load "$d" "$vmlinuz" "earlyprintk=xen console=hvc0 rdinit=/init" "$KEEL_TMP/initrd.gz" ||
	fail "load with initramfs"
ctl null-store "$d" 90 2>"$KEEL_TMP/store.log" &
spid=$!
trap 'kill -9 $kpid $spid 2>/dev/null; wait $kpid $spid 2>/dev/null' EXIT
sleep 0.3
ctl unpause "$d" || fail "unpause"
out=$KEEL_TMP/linux.out
exits() { ctl info "$d" | sed -n 's/.* exits=\([0-9]*\).*/\1/p'; }
declare -A ex
for phase in vdso syscall done; do
	wait_for "ctl console $d >$out; grep -q '^TA phase $phase' $out" 60 ||
		fail "the guest did not reach phase $phase"
	ex[$phase]=$(exits)
done
wait_for "ctl info $d | grep -qE ' (shutdown|crashed) '" 20 || true
ctl info "$d"
ctl console "$d" >"$out"
# what the boot console (earlyprintk=xen) wrote went by console_io to keeld's log, as on Xen
boot=$KEEL_TMP/boot.out
ctl dmesg | sed -n "s/^(d$d) //p" >"$boot"
grep -hE 'xen:events|smp: Brought up|installing Xen timer|VCLOCK|clocksource|^pvclock|^clockloop' "$boot" "$out"
echo "--- keeld log"; grep -E 'time info area' "$KEEL_TMP/keeld.log"
echo "--- last console lines"; tail -n 5 "$out"
grep -q 'xen:events: Using FIFO-based ABI' "$boot" "$out" || fail "Linux did not use the FIFO ABI"
grep -q 'smp: Brought up 1 node, 2 CPUs' "$out" || fail "Linux did not bring up its second vCPU"
grep -q '^Keel init test: SUCCESS' "$out" || fail "the kernel did not reach the end of /init"
grep -q 'VCLOCK_PVCLOCK not supported' "$boot" "$out" && fail "Linux fell back: no vDSO pvclock"
grep -q 'vcpu 0: time info area registered' "$KEEL_TMP/keeld.log" ||
	fail "keeld saw no VCPUOP_register_vcpu_time_memory_area for vCPU 0"
grep -qE '^pvclock: version=[0-9]*[02468] .* flags=1([^0-9]|$)' "$out" ||
	fail "the vDSO's pvclock page is not keeld's record with the stable flag"
grep -q '^pvclock: version=0 ' "$out" && fail "the vDSO's pvclock page was never written"
grep -q '^clockloop vdso: 200000 calls, .* 0 backwards' "$out" || fail "vDSO loop"
grep -q '^clockloop syscall: 2000 calls, .* 0 backwards' "$out" || fail "syscall loop"
vdso_exits=$((ex[syscall] - ex[vdso]))
sys_exits=$((ex[done] - ex[syscall]))
echo "keeld exits: 200000 vDSO clock_gettime (+2 s idle): $vdso_exits;" \
	"2000 system-call clock_gettime (+2 s idle): $sys_exits"
[ "$vdso_exits" -lt 20000 ] || fail "the vDSO loop cost $vdso_exits exits (>= 1 per 10 calls)"
[ "$sys_exits" -ge 2000 ] || fail "the syscall loop cost only $sys_exits exits (< 1 per call)"
exit 0
