#!/usr/bin/env bash
# walkthrough: README.md's "From nothing to a Debian 12 guest" run as the
# README writes it.  Its sh blocks (marked <!-- walkthrough:NAME -->) are
# taken from the README and run, with only /run/keel, /srv/keel, the
# bridge's name and the vif's (vif1.0 may be another dom0's on this host)
# turned into private ones: host (keel-dom0-up with a bridge
# address), image (debootstrap, root password, static address, mkfs.ext4 -d;
# cached in $KEEL_CACHE/walkthrough/ under the hash of the block's text, so
# a change to the recipe builds it again, and each run boots a copy),
# config, boot (xl create -c, driven through a fifo as a user types: the
# systemd getty's login: on hvc0, root and the recipe's password, a shell
# command, ping of the host's bridge address from eth0's static address,
# then Ctrl-] to leave), and after (xl list, xl top -b with the disk's
# request counters and the vif's traffic, xl shutdown -w, keel-dom0-down).
# keel-test: plain-only a systemd boot takes minutes here; keeld's code runs under SAN in the linux-* tests
# keel-test: timeout 2400
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/debian-image.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"

br=kwalk$$
run=$KEEL_TMP/run
# the README's paths and bridge, made private to this run
walk_private() {
	sed -e "s|/srv/keel/deb12\.img|$KEEL_TMP/deb12.img|g" \
		-e "s|/srv/keel/deb12\.cfg|$KEEL_TMP/deb12.cfg|g" \
		-e "s|/srv/keel|$1|g" -e "s|/run/keel|$run|g" \
		-e "s|bridge=xenbr0|bridge=$br, vifname=vwalk$$|" -e "s|xenbr0|$br|g" \
		-e "s|\\\$PWD/build/bin|$KEEL_BIN|g"
}
walk_script() { dimg_block "$1" | walk_private "$cache"; }
for b in host image config boot after; do
	[ -n "$(dimg_block $b)" ] || fail "README.md has no walkthrough:$b block"
done
# the recipe's subnet must be free on this host
ip -4 addr | grep -q 'inet 10\.0\.3\.' && fail "10.0.3.0/24 is already in use on this host"

# ---- the image (cached) ----
dimg_image
cache=$DIMG
cp --sparse=always "$cache/deb12.img" "$KEEL_TMP/deb12.img" || fail "cannot copy the image"

# ---- dom0 ----
walk_script host >"$KEEL_TMP/host.sh"
walk_cleanup() {
	local rc=$?
	[ -n "${xlpid:-}" ] && kill "$xlpid" 2>/dev/null
	if [ $rc != 0 ]; then
		echo "=== console (last 40 lines)"
		tail -n 40 "$run/console/guest-deb12.log" 2>/dev/null | tr -d '\r'
		tail -n 20 "$run"/log/*.log 2>/dev/null
	fi
	"$KEEL_BIN/keel-dom0-down" --rundir "$run" >/dev/null 2>&1
	return $rc
}
trap walk_cleanup EXIT
# the host block's exports stay for the blocks after it, as in a user's shell
. "$KEEL_TMP/host.sh" >"$KEEL_TMP/host.out" 2>&1 || fail "host block: $(cat "$KEEL_TMP/host.out")"
cat "$KEEL_TMP/host.out"
[ "$KEEL_RUNDIR" = "$run" ] || fail "the host block did not export KEEL_RUNDIR"
walk_script config >"$KEEL_TMP/config.sh"
bash -e "$KEEL_TMP/config.sh" || fail "config block failed"
cat "$KEEL_TMP/deb12.cfg"

# ---- the boot, typed as a user types ----
out=$KEEL_TMP/console.out
mkfifo "$KEEL_TMP/keys"
walk_script boot >"$KEEL_TMP/boot.sh"
bash "$KEEL_TMP/boot.sh" <"$KEEL_TMP/keys" >"$out" 2>&1 &
xlpid=$!
exec 3>"$KEEL_TMP/keys"
t0=$SECONDS
# the console output as text: no CRs, no terminal escapes (bash's
# bracketed-paste switches start the lines a command prints)
walk_text() { tr -d '\r' <"$out" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }
# walk_expect REGEX SECONDS: wait until the console output shows REGEX
walk_expect() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		walk_text | grep -qaE "$1" && return 0
		kill -0 "$xlpid" 2>/dev/null || { walk_text | grep -qaE "$1"; return; }
		sleep 1
	done
	return 1
}
walk_expect '^deb12 login: ?$|deb12 login:' 900 ||
	fail "no login: on the console after $((SECONDS - t0)) s"
echo "walkthrough: login: after $((SECONDS - t0)) s"
echo root >&3
walk_expect 'Password:' 60 || fail "no Password: prompt"
echo keel >&3
walk_expect 'root@deb12:~#' 120 || fail "no root shell after logging in"
echo 'echo WALK-$((6 * 7)) $(hostname) $(id -un); ip -4 -o addr show dev eth0' >&3
walk_expect '^WALK-42 deb12 root' 60 || fail "the typed command did not run"
walk_expect 'eth0 +inet 10\.0\.3\.2/24' 30 || fail "eth0 does not have the recipe's address"
echo 'ping -c 3 -W 5 10.0.3.1 && echo WALK-PING-$((40 + 2))' >&3
walk_expect '^WALK-PING-42' 120 || fail "the guest could not ping the host's bridge"
walk_text | grep -a 'packets transmitted'
printf '\035' >&3 # Ctrl-]: leave the console, the guest runs on
exec 3>&-
wait_for "! kill -0 $xlpid 2>/dev/null" 30 || fail "xl create -c did not leave on Ctrl-]"
wait "$xlpid"
st=$?
xlpid=
[ $st = 0 ] || fail "xl create -c exits $st after Ctrl-]"

# ---- after: xl list, xl top, xl shutdown -w, keel-dom0-down ----
walk_script after >"$KEEL_TMP/after.sh"
bash -e "$KEEL_TMP/after.sh" >"$KEEL_TMP/after.out" 2>&1
st=$?
cat "$KEEL_TMP/after.out"
[ $st = 0 ] || fail "after block exits $st"
grep -qE '^deb12 +[0-9]+ +512 +2 ' "$KEEL_TMP/after.out" || fail "xl list did not show deb12"
# xl top: VBDS 1 with its counters read (the boot read thousands of sectors
# and wrote some), NETS 1 with traffic both ways (the ping)
row=$(grep -E '^ *deb12 ' "$KEEL_TMP/after.out" | grep -v '^deb12 ' | tail -n 1)
[ -n "$row" ] || fail "xl top has no row for deb12"
read -r _ _ _ _ _ _ _ _ _ nets nettx netrx vbds vbd_oo vbd_rd vbd_wr vbd_rsect vbd_wsect _ <<<"$row"
echo "walkthrough: xl top: NETS $nets NETTX $nettx NETRX $netrx VBDS $vbds OO $vbd_oo RD $vbd_rd WR $vbd_wr RSECT $vbd_rsect WSECT $vbd_wsect"
[ "$nets" = 1 ] && [ "$vbds" = 1 ] || fail "xl top: NETS $nets VBDS $vbds, not 1 and 1"
[ "$vbd_rd" -gt 100 ] 2>/dev/null && [ "$vbd_rsect" -gt 10000 ] && [ "$vbd_wr" -gt 0 ] &&
	[ "$vbd_wsect" -gt 0 ] || fail "xl top's VBD counters do not show the boot's I/O"
[ "$vbd_rsect" -ge "$vbd_rd" ] || fail "fewer sectors than read requests"
[ "$nettx" -gt 0 ] 2>/dev/null || [ "$netrx" -gt 0 ] ||
	echo "walkthrough: (less than 1 KiB each way over the vif)"
grep -qE 'Domain [0-9]+ has been (destroyed|shut down)' "$KEEL_TMP/after.out" ||
	fail "xl shutdown -w did not see the guest end"
[ ! -S "$run/keeld.sock" ] || fail "keel-dom0-down left keeld running"
[ ! -d "/sys/class/net/$br" ] || fail "keel-dom0-down left the bridge $br"
echo "walkthrough: from xl create -c to the end: $((SECONDS - t0)) s"
echo "PASS"
