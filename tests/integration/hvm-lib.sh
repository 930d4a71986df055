# Helpers for the hvm-*.sh tests (sourced, not run): Debian's firmware,
# unmodified -- hvmloader from xen-utils-4.17 and SeaBIOS's bios-256k.bin
# (the installed copy, the path Debian's libxl uses, else the package
# fetched into the test cache) -- exported as $KEEL_HVMLOADER and
# $KEEL_SEABIOS for xl (either set beforehand names another copy).

HVM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hvm_firmware() {
	local debs sdebs
	debs=$(fetch_deb xen-utils-4.17) || skip "cannot fetch xen-utils-4.17"
	hvmloader=${KEEL_HVMLOADER:-$debs/usr/lib/xen-4.17/boot/hvmloader}
	[ -f "$hvmloader" ] || fail "no hvmloader in xen-utils-4.17 ($hvmloader)"
	seabios=${KEEL_SEABIOS:-/usr/share/seabios/bios-256k.bin}
	if [ ! -f "$seabios" ]; then
		sdebs=$(fetch_deb seabios) || skip "cannot fetch seabios"
		seabios=$sdebs/usr/share/seabios/bios-256k.bin
	fi
	[ -f "$seabios" ] || fail "no bios-256k.bin in seabios ($seabios)"
	export KEEL_HVMLOADER=$hvmloader KEEL_SEABIOS=$seabios
}

# Debian's qemu-system-xen (xl's HVM device model; $KEEL_QEMU_XEN names
# another) and a dom0 (keel-dom0-up) in $KEEL_TMP/xlrun: sets run and
# kpid (keeld's pid), defines xl and st (keelstore) for it and takes the
# dom0 down at exit.  Arguments go to keel-dom0-up (--bridge NAME for a
# test with vifs; --no-bridge if none).
cleanup_xl() {
	[ -z "${cpid:-}" ] || kill "$cpid" 2>/dev/null
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
}
xl() { KEEL_RUNDIR=$run "$KEEL_BIN/xl" "$@"; }
st() { "$KEEL_BIN/keelstore" -s "$run/xenstored/socket" "$@"; }
hvm_qemu_dom0() {
	local qemu_xen=${KEEL_QEMU_XEN:-/usr/libexec/xen-qemu-system-i386}
	[ -x "$qemu_xen" ] || skip "no $qemu_xen (Debian's qemu-system-xen; make deps installs it)"
	run=$KEEL_TMP/xlrun
	trap cleanup_xl EXIT
	[ $# -gt 0 ] || set -- --no-bridge
	"$KEEL_BIN/keel-dom0-up" --rundir "$run" "$@" >"$KEEL_TMP/up.out" ||
		fail "keel-dom0-up: $(cat "$KEEL_TMP/up.out")"
	kpid=$(cat "$run/keeld.pid") || fail "keel-dom0-up left no keeld.pid"
}

# hvm_keeld_san_clean [LOG]: fail if keeld's log (the dom0's by default)
# has a sanitizer report (SAN=1 builds).
hvm_keeld_san_clean() {
	local log=${1:-$run/log/keeld.log}
	if grep -qE "Sanitizer|runtime error" "$log"; then
		grep -E -A12 "Sanitizer|runtime error" "$log" | head -40
		fail "keeld reported a sanitizer error"
	fi
}

# hvm_clock: start the clock since() reads ("12.3 s" since then).
hvm_clock() { t0=$(date +%s.%N); }
since() { printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"; }

# hvm_bridge: a bridge name of this test's own (keel-dom0-up --bridge makes
# it and keel-dom0-down removes it), in $br.
hvm_bridge() { br=kh$(printf '%04x%04x' $$ $RANDOM | cut -c1-8); }

# hvm_capture IFACE ETHERTYPE OUT: in the background, a raw packet socket
# on IFACE keeps the first frame received with that EtherType (hex) and
# writes it to OUT as hex; OUT.ready appears once it listens.  Sets cpid.
hvm_capture() {
	python3 - "$1" "$2" "$3" <<'PY' &
import os, socket, sys
iface, etype, out = sys.argv[1], int(sys.argv[2], 16), sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(etype))
s.bind((iface, 0))
open(out + ".ready", "w").close()
while True:
    frame, addr = s.recvfrom(65536)
    if addr[2] != socket.PACKET_OUTGOING:
        break
with open(out + ".tmp", "w") as f:
    f.write(frame.hex() + "\n")
os.rename(out + ".tmp", out)
PY
	cpid=$!
	wait_for "[ -e '$3.ready' ]" 10 || fail "the capture on $1 did not start"
}

# hvm_qmp SOCKET COMMAND [ARGUMENTS-JSON]: one QMP command on the domain's
# socket ($run/qmp/qmp-libxl-$d); prints its "return" as JSON, fails on an error.
hvm_qmp() {
	python3 - "$@" <<'PY' || fail "QMP $2"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
cmds = [{"execute": "qmp_capabilities"}, {"execute": sys.argv[2]}]
if len(sys.argv) > 3:
    cmds[1]["arguments"] = json.loads(sys.argv[3])
for cmd in cmds:
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        a = json.loads(f.readline())
        if "return" in a: break
        if "error" in a: sys.exit("QMP %s: %s" % (cmd["execute"], a["error"]))
print(json.dumps(a["return"]))
PY
}

# hvm_lfb_key KEY LINE: send KEY to the domain over QMP ($run/qmp/
# qmp-libxl-$d), wait for LINE on $serial (hvmos's vgakey32 drew its
# rectangles).  hvm_lfb_check NAME "RRGGBB x4": a screendump: 640x480, the
# centre pixel of each of the 4 rectangles (120x80 at x = 40 + 150 i,
# y = 200) exactly the colour given, the background around them black.
hvm_lfb_key() {
	python3 - "$run/qmp/qmp-libxl-$d" "$1" >/dev/null <<'PY' || fail "QMP send-key $1"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"},
            {"execute": "send-key", "arguments": {"keys": [{"type": "qcode", "data": sys.argv[2]}]}}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        a = json.loads(f.readline())
        if "return" in a: break
        if "error" in a: sys.exit("QMP %s: %s" % (cmd["execute"], a["error"]))
PY
	wait_for "tr -d '\r' <'$serial' | grep -qx '$2'" 60 ||
		fail "hvmos did not say '$2' after key $1: $(tr -d '\r' <"$serial" | grep vga-lfb)"
}
hvm_lfb_check() {
	python3 -B - "$run/qmp/qmp-libxl-$d" "$KEEL_TMP/lfb-$1.ppm" "$2" "$HVM_LIB_DIR" <<'PY' || fail "screendump after key $1: not what hvmos drew"
import sys
sys.path.insert(0, sys.argv[4])
from hvm_screen import screendump
want = sys.argv[3].split()
w, h, pxt = screendump(sys.argv[1], sys.argv[2])
if (w, h) != (640, 480): sys.exit("screen %dx%d, not hvmos's 640x480" % (w, h))
px = lambda x, y: bytes(pxt(x, y)).hex()
got = [px(40 + 150 * i + 60, 240) for i in range(4)]
bg = [px(20, 240), px(320, 100), px(600, 400)]
print("  screendump %dx%d: rectangles %s, background %s" % (w, h, " ".join(got), " ".join(bg)))
if got != want: sys.exit("rectangles %s, hvmos drew %s" % (got, want))
if bg != ["000000"] * 3: sys.exit("background %s, not black" % bg)
PY
}

# hvm_screendump QMP_SOCKET PPM: QMP's screendump of the domain's display
# (QEMU's VGA card) into PPM, then its text cells checked against what
# hvmos's vga32.S wrote: row 2, columns 0-7, a full block each in its
# palette colour (QEMU's 6-bit DAC values widened to 8 bits, +-12), and
# row 0's banner white on blue (its first cell's background blue, some
# of its pixels white).  Prints the cell size and colours found; fails
# with the first mismatch.
hvm_screendump() {
	python3 -B - "$1" "$2" "$HVM_LIB_DIR" <<'PY' || fail "screendump: the VGA text is not as hvmos wrote it"
import sys
sys.path.insert(0, sys.argv[3])
from hvm_screen import screendump
w, h, px = screendump(sys.argv[1], sys.argv[2])
if w % 80 or h % 25: sys.exit("screen %dx%d is not an 80x25 text mode" % (w, h))
cw, ch = w // 80, h // 25
want = [(255, 87, 87), (87, 255, 87), (87, 87, 255), (255, 255, 87), (255, 255, 255),
        (0, 0, 168), (168, 0, 0), (168, 87, 0)]
got = [px(c * cw + cw // 2, 2 * ch + ch // 2) for c in range(8)]
print("    %dx%d text screen (%dx%d cells); row 2: %s" % (w, h, cw, ch, got))
for c, (g, e) in enumerate(zip(got, want)):
    if any(abs(a - b) > 12 for a, b in zip(g, e)):
        sys.exit("row 2 column %d is %s, not %s" % (c, g, e))
cell0 = [px(x, y) for y in range(ch) for x in range(cw)]
if px(0, 0) != (0, 0, 168) or (255, 255, 255) not in cell0:
    sys.exit("row 0 column 0 is not 'K' white on blue: %s" % sorted(set(cell0)))
PY
}

# hvm_rfb_banner HOST PORT: the RFB ProtocolVersion a VNC server sends
# first, and (answering 3.8) the security types it offers: "RFB 003.008
# security 2" (2: VNC authentication, a password; 1: none).
hvm_rfb_banner() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
def read(n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: sys.exit("the server closed after %r" % b)
        b += d
    return b
banner = read(12)
c.sendall(b"RFB 003.008\n")
types = read(read(1)[0])
print(banner.decode("ascii", "replace").strip(), "security", " ".join(str(t) for t in types))
PY
}
