#!/usr/bin/env bash
# xl-e2e-saverestore: xl save / xl restore through the real `xl` against
# keeld.  A ticking guest (xl-idle prints "tick N" once a second) is saved
# (the domain goes, as with xl), its image is checked to be small (zero
# pages skipped, zlib) and then restored: the guest carries on counting
# from where it was, under the same UUID.  Corrupt, truncated, foreign and
# mismatched images are refused with a clear error and leave no domain
# behind; save -c / -p and restore -p keep the domain running / paused; a
# two-vCPU guest (xl-smp) carries on on both vCPUs.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
need_guest xl-idle
lasttick() { con "$1" | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -1; }
ndoms() { xl list | wc -l; }

xl_host_up --no-bridge
cat >"$KEEL_TMP/idle.cfg" <<EOF
name = "counter"
kernel = "$KEEL_GUESTS/xl-idle"
memory = 32
uuid = "c0ffee00-1234-4abc-8def-0123456789ab"
EOF

# --- save: the domain goes, the image is small ------------------------------------------
xl create -q "$KEEL_TMP/idle.cfg" || fail "create"
wait_for "[ \"\$(lasttick counter)\" -ge 3 ] 2>/dev/null" 20 || fail "no ticks: $(con counter | tail -3)"
xl save counter "$KEEL_TMP/c.img" 2>"$KEEL_TMP/save.err" || fail "save: $(cat "$KEEL_TMP/save.err")"
grep -q "^Saving to $KEEL_TMP/c.img" "$KEEL_TMP/save.err" || fail "save message: $(cat "$KEEL_TMP/save.err")"
xl list counter >/dev/null 2>&1 && fail "saved domain still there (xl save destroys it)"
size=$(stat -c %s "$KEEL_TMP/c.img")
echo "image: $size bytes for 32 MiB of RAM"
[ "$size" -le $((32 * 1024 * 1024 / 50)) ] || fail "image $size bytes: more than 2% of 32 MiB"
[ "$(head -c 8 "$KEEL_TMP/c.img")" = KeelSave ] || fail "image magic"

# --- bad images: a clear error, nothing created, keeld unharmed -----------------------------
bad() { # name, then the command that makes $KEEL_TMP/bad.img
	local name=$1 before
	shift
	"$@" || fail "making $name"
	before=$(ndoms)
	xl restore "$KEEL_TMP/bad.img" >"$KEEL_TMP/bad.out" 2>&1 && fail "$name image restored"
	grep -qiE "corrupt|truncated|not a Keel save image|checksum|mismatch|not supported|trailing" \
		"$KEEL_TMP/bad.out" || fail "$name: unclear error: $(cat "$KEEL_TMP/bad.out")"
	[ "$(ndoms)" = "$before" ] || fail "$name: a domain was left behind: $(xl list)"
}
flip() { # copy c.img with the byte at $1 inverted
	cp "$KEEL_TMP/c.img" "$KEEL_TMP/bad.img"
	local b
	b=$(od -An -tu1 -j "$1" -N1 "$KEEL_TMP/c.img" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" | dd of="$KEEL_TMP/bad.img" bs=1 seek="$1" conv=notrunc 2>/dev/null
}
bad truncated sh -c "head -c $((size - 100)) '$KEEL_TMP/c.img' >'$KEEL_TMP/bad.img'"
bad "header-only" sh -c "head -c 64 '$KEEL_TMP/c.img' >'$KEEL_TMP/bad.img'"
bad empty sh -c ": >'$KEEL_TMP/bad.img'"
bad "trailing data" sh -c "cat '$KEEL_TMP/c.img' /etc/hostname >'$KEEL_TMP/bad.img'"
bad garbage sh -c "head -c 100000 /dev/urandom >'$KEEL_TMP/bad.img'"
bad "bad magic" flip 0
bad "bad version" flip 8
bad "header field" flip 20
for off in 70 $((size / 3)) $((size / 2)) $((size - 5)); do
	bad "payload byte $off" flip $off
done
# a configuration that does not fit the image (other memory size): refused, nothing left
sed 's/^memory = 32/memory = 16/' "$KEEL_TMP/idle.cfg" >"$KEEL_TMP/small.cfg"
before=$(ndoms)
xl restore "$KEEL_TMP/small.cfg" "$KEEL_TMP/c.img" >"$KEEL_TMP/mm.out" 2>&1 && fail "mismatched memory restored"
grep -qiE "corrupt|not for this" "$KEEL_TMP/mm.out" || fail "mismatch error: $(cat "$KEEL_TMP/mm.out")"
[ "$(ndoms)" = "$before" ] || fail "mismatch left a domain: $(xl list)"
# a configuration keeld's records refuse (2 vCPUs for a 1-vCPU image): keeld checks the
# records before it touches the new domain, says why, and xl destroys that domain again
sed 's/^memory = 32/memory = 32\nvcpus = 2/' "$KEEL_TMP/idle.cfg" >"$KEEL_TMP/two.cfg"
before=$(ndoms)
xl restore "$KEEL_TMP/two.cfg" "$KEEL_TMP/c.img" >"$KEEL_TMP/vc.out" 2>&1 && fail "mismatched vCPUs restored"
grep -q "keeld refused the image's state" "$KEEL_TMP/vc.out" || fail "vCPU mismatch error: $(cat "$KEEL_TMP/vc.out")"
xl dmesg | grep -q "restore refused: image of 8192 frames and 1 vCPUs, domain of 8192 and 2" ||
	fail "keeld's reason: $(xl dmesg | tail -3)"
[ "$(ndoms)" = "$before" ] || fail "vCPU mismatch left a domain: $(xl list)"
xl list >/dev/null || fail "keeld unwell after bad images"

# --- restore: the guest carries on counting, same UUID --------------------------------------
xl restore "$KEEL_TMP/c.img" 2>"$KEEL_TMP/restore.err" || fail "restore: $(cat "$KEEL_TMP/restore.err")"
grep -q "^Loading new save file $KEEL_TMP/c.img" "$KEEL_TMP/restore.err" || fail "restore message"
xl list counter | grep -qE "^counter +[0-9]+ +32 +1 +(r-----|-b----) " || fail "restored state: $(xl list counter)"
xl list -v counter | grep -q c0ffee00-1234-4abc-8def-0123456789ab || fail "UUID: $(xl list -v counter)"
wait_for "con counter | grep -q '^tick'" 10 || fail "restored guest does not tick"
first=$(con counter | sed -n 's/^tick \([0-9]*\)$/\1/p' | head -1)
con counter | grep -q '^Hello from xl-idle' && fail "the guest booted again instead of carrying on"
[ "$first" -ge 4 ] || fail "counter restarted: first tick after restore is $first"
a=$(lasttick counter)
sleep 2
b=$(lasttick counter)
[ "$b" -gt "$a" ] || fail "restored guest stopped counting ($a -> $b)"
echo "counter resumed at tick $first"

# --- save -c (keep running), save -p (keep paused), restore -p ----------------------------
xl save -c counter "$KEEL_TMP/c2.img" 2>/dev/null || fail "save -c"
xl list counter | grep -qE " (r-----|-b----) " || fail "save -c did not leave it running: $(xl list counter)"
xl save -p counter "$KEEL_TMP/c3.img" 2>/dev/null || fail "save -p"
xl list counter | grep -q " --p--- " || fail "save -p did not leave it paused: $(xl list counter)"
xl restore "$KEEL_TMP/c2.img" 2>"$KEEL_TMP/dup.err" && fail "restored over a live domain's name"
grep -q 'already exists' "$KEEL_TMP/dup.err" || fail "duplicate: $(cat "$KEEL_TMP/dup.err")"
xl destroy counter || fail "destroy"
xl restore -p "$KEEL_TMP/c3.img" 2>/dev/null || fail "restore -p"
xl list counter | grep -q " --p--- " || fail "restore -p not paused: $(xl list counter)"
xl unpause counter || fail "unpause"
c=$(lasttick counter)
wait_for "[ \"\$(lasttick counter)\" -gt \"${c:-0}\" ] 2>/dev/null" 10 || fail "restored -p guest did not go on"
xl destroy counter || fail "destroy 2"

# --- two vCPUs: both carry on (vCPU 1 counts on its own), cap kept -----------------------
cat >"$KEEL_TMP/smp.cfg" <<EOF
name = "smp"
kernel = "$KEEL_GUESTS/xl-smp"
memory = 16
vcpus = 2
cap = 50
EOF
aptick() { con smp | sed -n 's/^tick [0-9]* ap \([0-9]*\)$/\1/p' | tail -1; }
xl create -q "$KEEL_TMP/smp.cfg" || fail "create smp"
wait_for "con smp | grep -q '^tick 2 '" 20 || fail "xl-smp: $(con smp | tail -3)"
con smp | grep -q '^vCPU 1 up' || fail "xl-smp's vCPU 1 did not come up"
xl save smp "$KEEL_TMP/smp.img" 2>/dev/null || fail "save smp"
xl restore "$KEEL_TMP/smp.img" 2>/dev/null || fail "restore smp"
wait_for "con smp | grep -q '^tick'" 10 || fail "restored smp does not tick"
first=$(con smp | sed -n 's/^tick \([0-9]*\) ap .*$/\1/p' | head -1)
[ "$first" -ge 3 ] || fail "smp counter restarted at tick $first"
a=$(aptick)
sleep 2
b=$(aptick)
[ "$b" -gt "$a" ] || fail "vCPU 1 stopped counting after restore ($a -> $b)"
xl vcpu-list smp | grep -qE "^smp +[0-9]+ +1 +[0-9]+ +(r--|-b-) " || fail "vCPU 1 not up (running or blocked on its timer): $(xl vcpu-list smp)"
xl sched-credit -d smp | grep -qE " 256 +50$" || fail "cap not restored: $(xl sched-credit -d smp)"
xl destroy smp || fail "destroy smp"
# --- a guest that never answers the suspend request: Xen's messages, it keeps running ----
cat >"$KEEL_TMP/spin.cfg" <<EOF
name = "deaf"
kernel = "$KEEL_GUESTS/xl-spin"
memory = 16
EOF
xl create -q "$KEEL_TMP/spin.cfg" || fail "create deaf"
wait_for "con deaf | grep -q '^spin 1'" 20 || fail "xl-spin did not spin"
KEEL_XL_SUSPEND_TIMEOUT_MS=1500 xl save deaf "$KEEL_TMP/deaf.img" 2>"$KEEL_TMP/deaf.err" &&
	fail "a guest that never suspended was saved"
grep -q "guest didn't acknowledge suspend, cancelling request" "$KEEL_TMP/deaf.err" ||
	fail "no suspend timeout message: $(cat "$KEEL_TMP/deaf.err")"
xl list deaf | grep -qE " (r-----|-b----) " || fail "the deaf guest stopped: $(xl list deaf)"
xl destroy deaf || fail "destroy deaf"
echo "xl-e2e-saverestore: ok"
