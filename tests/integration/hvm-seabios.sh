#!/usr/bin/env bash
# hvm-seabios: xl create type="hvm" starts Debian's unmodified QEMU for
# Xen (qemu-system-xen, machine xenfv) as the device model, as libxl does:
# it makes an ioreq server in keeld, claims its ports, MMIO and PCI
# devices, and says "running".  Then Debian's unmodified hvmloader,
# given what libxl gives it (hvmloader/bios = "seabios" and the platform/*
# keys in the store, Debian's bios-256k.bin as the start info's
# "firmware" module, the hvm_info table), hands over to Debian's
# unmodified SeaBIOS.  The domain has 2 vCPUs: hvmloader starts the second
# with INIT/SIPI to APIC ID 2 (Xen's 2i, KVM's vCPU id; KVM's in-kernel
# LAPIC holds it till then) and it sets its MTRRs; xl vcpu-list shows
# both, QEMU has -smp 2.  hvmloader populates its ACPI tables in the MMIO hole
# (XENMEM_populate_physmap), probes PCI -- QEMU's devices, through
# ioreqs -- and reads the CPU speed from shared_info; SeaBIOS prints its
# banner on Xen's debug port 0xe9, finds QEMU's PCI devices (i440FX,
# PIIX3 and its IDE/ACPI functions, Xen's platform device) and reaches its
# boot stage, where with no disk it finds no bootable device.  Bad ioreq
# server arguments (libxendevicemodel through ctypes) are refused with
# Xen's errno, and a killed QEMU leaves keeld up.  SeaBIOS's screen text
# reaches QEMU's VGA through buffered ioreqs (keeld's count, the text in
# QMP's screendump).  Each step is waited
# for as a line in keeld's log (xl dmesg), with timeouts for this slow
# host; the times are printed.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
. "$(dirname "$0")/hvm-lib.sh"
hvm_firmware
hvm_qemu_dom0
cat >"$KEEL_TMP/hvm.cfg" <<CFG
name = "seabios1"
type = "hvm"
memory = 32
vcpus = 2
on_crash = "preserve"
CFG
t0=$(date +%s.%N)
since() { printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
xl create -q "$KEEL_TMP/hvm.cfg" || fail "xl create type=hvm"
d=$(xl domid seabios1) || fail "no domid for seabios1"
[ "$(st read /local/domain/$d/hvmloader/bios)" = seabios ] || fail "hvmloader/bios is not seabios"
[ "$(st read /local/domain/$d/platform/device-model)" = qemu_xen ] ||
	fail "platform/device-model is not libxl's qemu_xen"
# step(): wait for a line of domain d's debug output in keeld's log
step() { # PATTERN TIMEOUT WHAT
	wait_for "xl dmesg | grep -q '(d$d) $1'" "$2" ||
		{ xl dmesg | grep "(d$d)" | tail -25; xl list; fail "$3"; }
	echo "  $(since): $3"
}
step 'System requested SeaBIOS' 120 "hvmloader read hvmloader/bios = seabios"
step 'CPU speed is [1-9]' 120 "hvmloader read the TSC scale from shared_info"
step 'Multiprocessor initialisation' 600 "hvmloader starts its SMP set-up"
step ' - CPU1 \.\.\. .* done\.' 600 "hvmloader's INIT/SIPI brought CPU1 (APIC ID 2) up and it set its MTRRs"
step 'Loading SeaBIOS' 600 "hvmloader loads SeaBIOS from the firmware module"
step 'Invoking SeaBIOS' 600 "hvmloader built its tables and hands over"
step 'SeaBIOS (version' 600 "SeaBIOS printed its banner on port 0xe9"
step 'Found [1-9][0-9]* PCI devices' 600 "SeaBIOS found QEMU's PCI devices through ioreqs"
step 'Using pmtimer, ioport 0xb008' 600 "SeaBIOS times itself with keeld's PM timer at hvmloader's 0xb000 block"
step 'No bootable device' 900 "SeaBIOS reached its boot stage (no disk: no bootable device)"
xl dmesg | grep "(d$d)" | grep -E 'Loading ACPI|Relocating|pci dev|SeaBIOS|xen: |Booting|bootable|Passed|Failed|Skip|PM|CPU speed|PCI devices|wire' |
	sed 's/^/  xl dmesg: /'
# hvmloader's E820 for SeaBIOS: its own low 640 KiB and BIOS area beside
# the toolstack's map (RAM from 1 MiB, as libxl's), nothing overlapping
xl dmesg | grep "(d$d) " | sed -n '/E820 table:/,/Invoking SeaBIOS/p' | sed 's/^/  /'
xl dmesg | grep -q "(d$d)  OVERLAP" && fail "hvmloader's E820 table has overlapping entries"
xl dmesg | grep "(d$d) Found .* PCI devices" | sed 's/^/  /'
xl dmesg | grep -q "(d$d) Loading ACPI" || fail "hvmloader did not load its ACPI tables"
grep -q "d$d: ioreq server 0 created" "$run/log/keeld.log" || fail "QEMU made no ioreq server"
# Buffered ioreqs: SeaBIOS's VGA BIOS (libxl's default cirrus) clears the
# screen and SeaBIOS writes its banner and boot messages to the text
# memory at 0xb8000; keeld sends those writes on the ioreq server's
# buffered ring, as Xen's stdvga, and counts them in its log at each
# power of two.  Judged: at least 1024 of them, and the text in QEMU's VGA
# -- read back through QMP (HMP's xp, which QEMU's VGA answers from its
# planes) and drawn in its screendump: every character cell of the
# banner's and the boot message's rows inked where the text has a
# character and blank where it has a space (the cursor's cell aside).
grep -q "d$d: ioreq server 0 created (bufioreq [12])" "$run/log/keeld.log" ||
	fail "QEMU's ioreq server has no buffered ring"
wait_for "grep -q 'd$d: ioreq server 0: 1024 buffered writes' '$run/log/keeld.log'" 60 ||
	{ grep "d$d: ioreq server" "$run/log/keeld.log" | tail -5; fail "keeld sent fewer than 1024 buffered writes to QEMU"; }
grep "d$d: ioreq server 0: [0-9]* buffered writes" "$run/log/keeld.log" | tail -1 | sed 's/^.*keeld[^:]*: /  keeld: /'
hvm_vga_text() { # prints the screen's rows containing the banner and the boot message, judged
	python3 -B - "$run/qmp/qmp-libxl-$d" "$KEEL_TMP/text.ppm" "$HVM_LIB_DIR" <<'PY'
import json, re, socket, sys
sys.path.insert(0, sys.argv[3])
from hvm_screen import screendump
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"},
            {"execute": "human-monitor-command", "arguments": {"command-line": "xp /4000xb 0xb8000"}}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        a = json.loads(f.readline())
        if "return" in a: break
        if "error" in a: sys.exit("QMP %s: %s" % (cmd["execute"], a["error"]))
mem = bytes(int(x, 16) for line in a["return"].splitlines() for x in re.findall(r"0x([0-9a-f]{2})\b", line.split(":", 1)[-1]))
f.close()
s.close()  # QEMU serves one QMP client at a time: screendump connects anew
if len(mem) != 4000: sys.exit("xp gave %d bytes of text memory, not 4000" % len(mem))
rows = [mem[160 * r:160 * r + 160:2].decode("latin-1") for r in range(25)]
want = [r for r in range(25) if "SeaBIOS (version" in rows[r] or "No bootable device" in rows[r]]
if len(want) < 2: sys.exit("not yet in QEMU's text memory: %s" % [x.rstrip() for x in rows if x.strip()])
w, h, px = screendump(sys.argv[1], sys.argv[2])
cw, ch = w // 80, h // 25
if (cw, ch) not in ((8, 16), (9, 16)): sys.exit("screendump %dx%d is not an 80x25 text screen" % (w, h))
bad = []
for r in want:
    for c in range(80):
        x0, y0 = c * cw, r * ch
        bgc = px(x0, y0)
        ink = sum(px(x0 + i, y0 + j) != bgc for i in range(cw) for j in range(ch))
        if (ink > 0) != (rows[r][c] != " "):
            bad.append((r, c, rows[r][c], ink))
    print("  screen row %d: %s" % (r, rows[r].rstrip()))
if len(bad) > 1: sys.exit("screendump cells not as the text: %s" % bad[:10])
print("  screendump %dx%d: the %d rows' %d cells drawn as their text%s" % (w, h, len(want), 80 * len(want), "" if not bad else " (the cursor's cell aside)"))
PY
}
# QEMU takes the ring's writes at its next ioreq or within its 100 ms timer
wait_for "hvm_vga_text >'$KEEL_TMP/text.out' 2>&1 || { cat '$KEEL_TMP/text.out' >>'$KEEL_TMP/text.err'; false; }" 10 ||
	{ head -30 "$KEEL_TMP/text.err"; tail -5 "$run"/log/qemu-dm-seabios1.log; grep "d$d" "$run/log/keeld.log" | tail; fail "SeaBIOS's text is not in QEMU's VGA as written"; }
cat "$KEEL_TMP/text.out"
grep -q "d$d: ioreq server 0 enabled" "$run/log/keeld.log" || fail "QEMU did not enable its ioreq server"
xl dmesg | grep -q "(d$d) pci dev 01:1 bar 20" || fail "hvmloader did not size PIIX3's IDE BAR (QEMU's device)"
xl list seabios1 | grep -q seabios1 || fail "the domain is gone"
# both vCPUs, as xl vcpu-list shows a 2-vCPU HVM domain
[ "$(xl vcpu-list seabios1 | awk '$1 == "seabios1"' | wc -l)" = 2 ] ||
	{ xl vcpu-list seabios1; fail "xl vcpu-list does not show 2 vCPUs"; }
tr '\0' ' ' <"/proc/$(st read /local/domain/$d/image/device-model-pid)/cmdline" | grep -q -- '-smp 2,maxcpus=2' ||
	fail "QEMU was not given -smp 2,maxcpus=2"
kill -0 "$kpid" 2>/dev/null || fail "keeld died"
# Bad ioreq-server arguments to a live HVM domain: Xen's errno, keeld stays
# (keel-xen-run: Keel's libraries first, the ASan runtime of a SAN build)
KEEL_RUNDIR=$run "$KEEL_BIN/keel-xen-run" python3 - libxendevicemodel.so.1 "$d" <<'PY' || fail "bad dm_op arguments"
import ctypes, errno, sys
dm = ctypes.CDLL(sys.argv[1], use_errno=True)
dm.xendevicemodel_open.restype = ctypes.c_void_p
h = ctypes.c_void_p(dm.xendevicemodel_open(None, 0))
d = int(sys.argv[2])
sid = ctypes.c_uint16()
def refused(what, rc, want):
    got = ctypes.get_errno()
    if rc != -1 or got != want:
        sys.exit(f"{what}: rc {rc} errno {errno.errorcode.get(got, got)}, want {errno.errorcode[want]}")
    print(f"  refused ({errno.errorcode[want]}): {what}")
refused("create_ioreq_server with bufioreq 7", dm.xendevicemodel_create_ioreq_server(h, d, 7, ctypes.byref(sid)), errno.EINVAL)
refused("map_io_range to server 3 (none)", dm.xendevicemodel_map_io_range_to_ioreq_server(h, d, 3, 0, ctypes.c_uint64(0x100), ctypes.c_uint64(0x101)), errno.ENOENT)
refused("map_io_range start > end", dm.xendevicemodel_map_io_range_to_ioreq_server(h, d, 0, 1, ctypes.c_uint64(0x2000), ctypes.c_uint64(0x1000)), errno.EINVAL)
refused("map_io_range over QEMU's ports (0x1f0)", dm.xendevicemodel_map_io_range_to_ioreq_server(h, d, 0, 0, ctypes.c_uint64(0x1f0), ctypes.c_uint64(0x1f0)), errno.EEXIST)
refused("unmap_io_range never mapped", dm.xendevicemodel_unmap_io_range_from_ioreq_server(h, d, 0, 1, ctypes.c_uint64(0x5000), ctypes.c_uint64(0x5fff)), errno.ENOENT)
refused("set_isa_irq_level irq 16", dm.xendevicemodel_set_isa_irq_level(h, d, 16, 1), errno.EINVAL)
refused("set_pci_link_route link 4", dm.xendevicemodel_set_pci_link_route(h, d, 4, 5), errno.EINVAL)
refused("set_pci_intx_level bus 1", dm.xendevicemodel_set_pci_intx_level(h, d, 0, 1, 3, 0, 1), errno.EINVAL)
refused("destroy_ioreq_server 9", dm.xendevicemodel_destroy_ioreq_server(h, d, 9), errno.ENOENT)
refused("create_ioreq_server on domain 0", dm.xendevicemodel_create_ioreq_server(h, 0, 0, ctypes.byref(sid)), errno.EPERM)
n = ctypes.c_uint()
if dm.xendevicemodel_nr_vcpus(h, d, ctypes.byref(n)) != 0 or n.value != 2:
    sys.exit(f"nr_vcpus: {n.value}")
dm.xendevicemodel_close(h)
PY
kill -0 "$kpid" 2>/dev/null || fail "keeld died after bad dm_op arguments"
# QEMU killed: keeld stays up; the domain can still be destroyed
qpid=$(st read /local/domain/$d/image/device-model-pid) || fail "no device-model-pid"
grep -q -- "-xen-domid" "/proc/$qpid/cmdline" || fail "device-model-pid $qpid is not QEMU"
kill -9 "$qpid"
wait_for "! kill -0 $qpid 2>/dev/null" 30 || fail "QEMU did not die"
kill -0 "$kpid" 2>/dev/null || fail "keeld died with QEMU"
xl destroy seabios1 || fail "xl destroy seabios1"
hvm_keeld_san_clean
cleanup_xl
echo "hvm-seabios: ok"
