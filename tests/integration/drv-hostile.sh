#!/usr/bin/env bash
# drv-hostile: a hostile driver domain.  Three Keel PV test guests under
# keel-dom0-up: "drv" (tests/guests/drv-hostile.c, driver_domain=1), its
# frontend "fe" and a third domain "third" (both tests/guests/pv-victim.c:
# fe grants drv one page read-only and leaves it one port, third grants
# and leaves the same to fe; fe has a vif whose backend is drv, so drv may
# read its frontend directory).  drv maps fe's grant and binds fe's port,
# and tries what a driver domain must not do: map other domains' frames
# (mmu_update with foreigndom, update_va_mapping_otherdomain, PTEs naming
# frames past its RAM or window frames), map and copy grants not made to
# it (fe's grant to dom0, an unused ref, third's grants), write through a
# read-only grant, bind ports not offered to it, and write, remove or
# re-permission store nodes outside its own through its store ring.  Each
# refusal must carry Xen's error (drv's verdict), keeld must log the grant,
# event-channel and MMU refusals, keeld must still answer, and both
# victims must keep checking their pages, grants, ports and page tables
# and find no change after drv is gone; the store must hold none of drv's
# writes but the one into its own backend directory.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/linux-guest.sh"
need_root
need_kvm
need_guest drv-hostile
need_guest pv-victim
t0=$SECONDS
lg_dom0_up --no-bridge

cfg() { # NAME KERNEL MEMORY EXTRA-LINES...
	local n=$1 k=$2 m=$3
	shift 3
	printf 'name = "%s"\nkernel = "%s"\nmemory = %s\nvcpus = 1\non_poweroff = "preserve"\n' \
		"$n" "$KEEL_GUESTS/$k" "$m"
	printf '%s\n' "$@"
}
# drv first and paused, so the victims can name its id; it starts once the
# script has told it (in its store home) what the victims set up.
cfg drv drv-hostile 16 'driver_domain = 1' >"$KEEL_TMP/drv.cfg"
xl create -p "$KEEL_TMP/drv.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create drv: $(cat "$KEEL_TMP/create.out")"
drv=$(xl domid drv) || fail "domid drv"
LG_DIAG_DOMS="$drv"
cfg fe pv-victim 32 "extra = \"peer=$drv n=1\"" "vif = [ 'backend=drv' ]" >"$KEEL_TMP/fe.cfg"
xl create "$KEEL_TMP/fe.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create fe: $(cat "$KEEL_TMP/create.out")"
fe=$(xl domid fe) || fail "domid fe"
cfg third pv-victim 32 "extra = \"peer=$fe n=1\"" >"$KEEL_TMP/third.cfg"
xl create "$KEEL_TMP/third.cfg" >"$KEEL_TMP/create.out" 2>&1 || fail "create third: $(cat "$KEEL_TMP/create.out")"
third=$(xl domid third) || fail "domid third"
LG_DIAG_DOMS="$drv $fe $third"
for n in fe third; do
	lg_wait_console $n '^victim-ready' 30 || fail "$n not ready: $(tail -n 5 "$(lg_console $n)")"
done
ready() { grep -a '^victim-ready' "$(lg_console "$1")" | tr -d '\r' | sed -n "s/.* $2=\\([0-9]*\\).*/\\1/p"; }
echo "drv-hostile: drv d$drv, fe d$fe ($(grep -a '^victim-ready' "$(lg_console fe)" | tr -d '\r')), third d$third"
h=/local/domain/$drv/hostile
st write "$h/fe" "$fe" && st write "$h/third" "$third" && st write "$h/fport" "$(ready fe vport)" &&
	st write "$h/tport" "$(ready third vport)" && st write "$h/fmfn" "$(ready fe vmfn)" ||
	fail "cannot write drv's arguments"
fstate=$(st read "/local/domain/$fe/device/vif/0/state") || fail "fe has no vif frontend directory"
xl unpause drv || fail "unpause drv"
lg_wait_console drv '^Test result:' 60 || fail "drv gave no verdict: $(tail -n 5 "$(lg_console drv)")"
grep -a 'FAIL\|Test result' "$(lg_console drv)" | tr -d '\r' | sed 's/^/drv-hostile: drv: /'
grep -qa '^Test result: SUCCESS' "$(lg_console drv)" || fail "drv: a refusal missing or wrong"

# keeld refused and logged; it still answers
log=$run/log/keeld.log
for what in 'gnttab: map of ref/handle' 'gnttab: copy from ref' 'evtchn: bind_interdomain to' \
	'mmu_update: foreigndom' 'update_va_mapping: va'; do
	grep -a "d$drv: $what" "$log" | head -n 1 | sed 's/^/drv-hostile: keeld: /'
	grep -qa "d$drv: $what" "$log" || fail "keeld did not log drv's '$what' refusal"
done
xl list >/dev/null || fail "keeld does not answer"

# The store: only drv's own backend directory took a write
[ "$(st read "/local/domain/$drv/backend/vif/$fe/0/hostile" 2>/dev/null)" = ok ] ||
	fail "drv's write into its own backend directory is missing"
[ "$(st read "/local/domain/$fe/device/vif/0/state")" = "$fstate" ] || fail "fe's vif state changed"
[ "$(st perms "/local/domain/$fe/device/vif/0")" = "n$fe r$drv" ] ||
	fail "fe's vif directory permissions changed: $(st perms "/local/domain/$fe/device/vif/0")"
for p in "/local/domain/$fe/hostile" "/local/domain/$third/hostile" /local/domain/0/hostile \
	/local/domain/hostile /tool/hostile; do
	st read "$p" >/dev/null 2>&1 && fail "drv wrote $p"
done

# Both victims make fresh passes after drv is gone and saw no change
xl destroy drv || fail "destroy drv"
for n in fe third; do
	c=$(lg_console $n)
	p=$(grep -a '^victim-pass' "$c" | tail -n 1 | sed 's/victim-pass \([0-9]*\).*/\1/')
	lg_wait_console $n "^victim-pass $((${p:-0} + 40)) " 60 || fail "$n stopped checking"
	grep -a '^victim-pass' "$c" | tail -n 1 | tr -d '\r' | sed "s/^/drv-hostile: $n: /"
	grep -qa '^victim-changed' "$c" && fail "$n changed: $(grep -a '^victim-changed' "$c" | head -n 5)"
	grep -a '^victim-pass' "$c" | tail -n 1 | grep -q 'changes 0' || fail "$n reports changes"
done
echo "drv-hostile: every refusal as Xen's, logged; keeld and both victims unharmed; $((SECONDS - t0)) s"
exit 0
