#!/usr/bin/env bash
# keeld-malformed-kernel: kernels that are hostile input (with bootloaders
# they come from a guest's own disk) are unpacked and parsed in keeld's
# sandboxed helper (hypervisor/pv/pv_unpack.c): a bzImage whose XZ payload
# is cut short, one whose payload length is absurd, an ELF whose PT_LOAD
# segments overlap, one with an absurd segment size, and garbage are each
# refused with a reason in keeld's log, and keeld stays up: the domains go
# away cleanly and a good kernel still boots beside them.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
command -v python3 > /dev/null || fail "python3 is needed to build the malformed kernels"
start_keeld

python3 - "$KEEL_GUESTS/pv-hello" "$KEEL_TMP" <<'PY' || fail "cannot build the malformed kernels"
import lzma, struct, sys
good = open(sys.argv[1], "rb").read()
out = sys.argv[2]

def bzimage(payload, plen=None):
    img = bytearray(5 * 512 + 16)
    img[0x1f1] = 4
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<II", img, 0x248, 16, len(payload) if plen is None else plen)
    return bytes(img) + payload

xz = lzma.compress(good, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
open(out + "/good-xz", "wb").write(bzimage(xz))
open(out + "/truncated-xz", "wb").write(bzimage(xz[: len(xz) // 2]))
open(out + "/absurd-payload", "wb").write(bzimage(xz, 0xfffffff0))
phoff, = struct.unpack_from("<Q", good, 0x20)
phentsize, phnum = struct.unpack_from("<HH", good, 0x36)
loads = [phoff + i * phentsize for i in range(phnum)
         if struct.unpack_from("<I", good, phoff + i * phentsize)[0] == 1]
elf = bytearray(good)
# the second PT_LOAD moved onto the first's addresses (virtual and
# physical: with a PADDR_OFFSET note the builder places it by the latter)
for field in (0x10, 0x18):
    addr, = struct.unpack_from("<Q", elf, loads[0] + field)
    struct.pack_into("<Q", elf, loads[1] + field, addr + 0x100)
open(out + "/overlapping", "wb").write(elf)
elf = bytearray(good)
struct.pack_into("<Q", elf, loads[0] + 0x28, 1 << 44)  # p_memsz
open(out + "/absurd-segment", "wb").write(elf)
open(out + "/garbage", "wb").write(b"\x7fELF" + b"\xff" * 60)
PY

for k in truncated-xz absurd-payload overlapping absurd-segment garbage; do
	d=$(ctl create "bad-$k" 64) || fail "create bad-$k"
	ctl load "$d" "$KEEL_TMP/$k" 2>"$KEEL_TMP/load.err" && fail "kernel $k was accepted"
	ctl list > /dev/null || fail "keeld stopped answering after kernel $k"
	kill -0 "$kpid" 2>/dev/null || fail "keeld died on kernel $k"
	ctl destroy "$d" || fail "destroy bad-$k"
	echo "refused: $k"
done
grep -q 'builder: .*overlapping' "$KEEL_TMP/keeld.log" ||
	ctl dmesg | grep -q 'builder: .*overlapping' || fail "no reason logged for overlapping segments"
# and a good XZ bzImage still boots
d=$(ctl create good 64) || fail "create good"
ctl load "$d" "$KEEL_TMP/good-xz" || fail "the good XZ bzImage was refused"
ctl unpause "$d" || fail "unpause good"
wait_for "ctl info $d | grep -q ' shutdown '" 30 || fail "the good kernel did not finish"
ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "the good kernel failed"
echo "PASS: malformed kernels refused by the helper, keeld up, a good kernel boots"
