#!/usr/bin/env bash
# keeld-seccomp: keeld's own threads run under its seccomp allowlist
# (hypervisor/keeld/keeld_seccomp.c), and save images are split and checked
# in a sandboxed helper before keeld uses them (ctl_restore_sandboxed in
# hypervisor/ctl/ctl_save.c).
#  1. a running keeld says its allowlist is enforced, and every one of its
#     threads is in seccomp filter mode;
#  2. malformed save states handed to restore (garbage, a record length
#     past the end, a bad checksum, a record of an unknown type) are each
#     refused with the reason in keeld's log, and keeld stays up;
#  3. a keeld whose test thread (started before the filter: TSYNC must
#     reach it) calls a forbidden system call dies of SIGABRT with the call
#     named in its log.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
command -v python3 > /dev/null || fail "python3 is needed to build the malformed states"
t0=$(date +%s.%N)
start_keeld

grep -q 'seccomp allowlist installed: [0-9]* system calls (enforced)' "$KEEL_TMP/keeld.log" ||
	fail "keeld did not report its seccomp allowlist enforced"
for st in /proc/"$kpid"/task/*/status; do
	grep -q '^Seccomp:[[:space:]]*2$' "$st" || fail "keeld thread $st is not under the filter"
done
echo "filter on all $(ls /proc/"$kpid"/task | wc -l) keeld threads"

python3 - "$KEEL_TMP" <<'PY' || fail "cannot build the malformed states"
import struct, sys, zlib
out = sys.argv[1]
hdr = b"KEELDREC" + struct.pack("<II", 2, 0)
def rec(t, payload, crc=None, length=None):
    pad = b"\0" * ((8 - len(payload) % 8) % 8)
    c = zlib.crc32(payload) if crc is None else crc
    n = len(payload) if length is None else length
    return struct.pack("<IHHII", t, 1, 0, n, c) + payload + pad
end = rec(0, b"")
open(out + "/garbage", "wb").write(b"\xff" * 200)
open(out + "/past-end", "wb").write(hdr + rec(1, b"x" * 16, length=0x7fffff) + end)
open(out + "/bad-crc", "wb").write(hdr + rec(1, b"x" * 16, crc=1234) + end)
open(out + "/unknown-type", "wb").write(hdr + rec(99, b"x" * 16) + end)
PY
d=$(ctl create restore-target 16) || fail "create a domain to restore into"
for s in garbage:'bad magic' past-end:'past the end' bad-crc:'checksum mismatch' \
	unknown-type:'unknown type 99'; do
	f=${s%%:*} why=${s#*:}
	ctl restore-state "$d" "$KEEL_TMP/$f" 2> /dev/null && fail "state $f was accepted"
	kill -0 "$kpid" 2> /dev/null || fail "keeld died on state $f"
	ctl list > /dev/null || fail "keeld stopped answering after state $f"
	ctl dmesg | grep -q "restore refused: .*$why" || fail "no reason '$why' logged for state $f"
	echo "refused: $f ($why)"
done
ctl destroy "$d" || fail "destroy the restore target"

# A forbidden call: keeld dies loudly, naming it.
KEEL_SECCOMP_SELFTEST=1 timeout 60 "$KEEL_BIN/keeld" daemon --rundir "$KEEL_TMP/run2" \
	2> "$KEEL_TMP/keeld2.log"
rc=$?
[ $rc = 134 ] || fail "the keeld that made a forbidden call exited $rc, not SIGABRT (134)"
grep -q 'seccomp: forbidden system call [0-9]* (getpgid)' "$KEEL_TMP/keeld2.log" ||
	fail "the forbidden call is not named in keeld's log: $(tail -3 "$KEEL_TMP/keeld2.log")"
echo "PASS: keeld under its allowlist, malformed states refused by the helper, a violation named ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
