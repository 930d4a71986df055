#!/usr/bin/env bash
# xenlibs-peer: Keel's libxenevtchn.so.1, libxengnttab.so.1,
# libxenforeignmemory.so.1, libxenctrl.so.4.17 and libxendevicemodel.so.1
# against a real keeld, through keel-xenlibs-peer (linked against Keel's
# libxen* only, written as a program built for Xen).  With the pv-grant
# guest: Xen's errno for bad domains, ports, VIRQs and references;
# VIRQ_DOM_EXC firing when the guest starts; the guest's store port firing
# through the handle's fd; its string read by grant copy (a status per
# segment), a notify byte cleared at unmap, the answer written in a page
# mapped with map_domain_grant_refs; the granted frame found among the
# guest's RAM mapped through libxenforeignmemory (per-frame errors, bad
# domain, writes seen through both maps); the guest checks the answer and that
# the grant is no longer in use.  Then a 200-round ping-pong with
# evt-dom0pp through xenevtchn.  Then, with three running pv-idle guests:
# libxenctrl's and libxendevicemodel's refusals with Xen's errno (NULL
# handles, bad domains and reasons, HVM parameters and device-model ops on a
# PV domain, passthrough, populate_physmap), and xc_domain_shutdown of each
# guest, which keeld then shows shut down with that reason (the first one
# given, as in Xen; crash as crashed).  keeld still answers at the end.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

peer=$KEEL_BIN/keel-xenlibs-peer
ldd "$peer" | grep -q "libxenevtchn.so.1 => $KEEL_BUILD/bin/../lib/xen/libxenevtchn.so.1" ||
	{ ldd "$peer"; fail "keel-xenlibs-peer does not load Keel's libxenevtchn.so.1"; }
! ldd "$peer" | grep -q libkeel || fail "keel-xenlibs-peer links a libkeel* library"

# keeld's builder allocates the store port first: port 1 of a new domain.
store_port=1

d=$(ctl create xlgrant 64) || fail "create"
ctl load "$d" "$KEEL_GUESTS/pv-grant" || fail "load"
"$peer" grant "$d" $store_port 8 30 >"$KEEL_TMP/peer.out" 2>&1 &
ppid=$!
wait_for "grep -q READY $KEEL_TMP/peer.out" 10 || { cat "$KEEL_TMP/peer.out"; fail "peer not ready"; }
ctl unpause "$d" || fail "unpause"
wait $ppid
rc=$?
cat "$KEEL_TMP/peer.out"
[ $rc = 0 ] || { ctl console "$d"; fail "keel-xenlibs-peer grant failed"; }
grep -q 'answered through libxenevtchn/libxengnttab: granted hello' "$KEEL_TMP/peer.out" ||
	fail "the peer did not read the guest's string"
[ "$(grep -c '^libxentoolcore (Keel): restrict to domain' "$KEEL_TMP/peer.out")" = 1 ] ||
	fail "xentoolcore_restrict_all did not say once that nothing was restricted"
wait_for "ctl info $d | grep -Eq ' (shutdown|crashed) '" 30 || fail "guest did not finish"
ctl console "$d"
ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "pv-grant guest failed"

p=$(ctl create xlpong 64) || fail "create evtpp"
ctl load "$p" "$KEEL_GUESTS/evt-dom0pp" || fail "load evtpp"
"$peer" pong "$p" $store_port 200 30 >"$KEEL_TMP/pong.out" 2>&1 &
ppid=$!
sleep 0.3
ctl unpause "$p" || fail "unpause evtpp"
wait_for "ctl info $p | grep -Eq ' (shutdown|crashed) '" 60 || fail "evtpp did not finish"
ctl console "$p"
ctl console "$p" | grep -q '^Test result: SUCCESS' || fail "evt-dom0pp failed"
wait $ppid || { cat "$KEEL_TMP/pong.out"; fail "keel-xenlibs-peer pong failed"; }
cat "$KEEL_TMP/pong.out"

# libxenctrl and libxendevicemodel on three running PV guests.
for g in a b c; do
	id=$(ctl create "xlctrl$g" 64) || fail "create $g"
	ctl load "$id" "$KEEL_GUESTS/pv-idle" || fail "load $g"
	ctl unpause "$id" || fail "unpause $g"
	eval "dom_$g=$id"
done
for id in $dom_a $dom_b $dom_c; do
	wait_for "ctl console $id | grep -q '^idle'" 30 || { ctl console "$id"; fail "d$id did not boot"; }
done
"$peer" ctrl "$dom_a" "$dom_b" "$dom_c" >"$KEEL_TMP/ctrl.out" 2>&1
rc=$?
cat "$KEEL_TMP/ctrl.out"
[ $rc = 0 ] || fail "keel-xenlibs-peer ctrl failed"
for f in xc_domain_bind_pt_pci_irq xc_domain_unbind_pt_irq xc_domain_update_msi_irq \
	xc_domain_unbind_msi_irq xc_domain_iomem_permission xc_domain_ioport_mapping \
	xc_domain_memory_mapping xc_physdev_map_pirq xc_physdev_map_pirq_msi xc_physdev_unmap_pirq; do
	[ "$(grep -c "^libxenctrl (Keel): PCI passthrough is not supported: $f\$" "$KEEL_TMP/ctrl.out")" = 1 ] ||
		fail "$f did not say once that passthrough is not supported"
done
[ "$(grep -c '^libxendevicemodel (Keel): restrict to domain' "$KEEL_TMP/ctrl.out")" = 1 ] ||
	fail "xendevicemodel_restrict did not say once that nothing was restricted"
# keeld's view: A rebooted (not powered off by the refused device-model
# shutdown, nor by the second call), B crashed, C suspended.
expect_state() {
	local info
	wait_for "ctl info $1 | grep -Eq ' $2 .* reason=$3( |\$)'" 10
	info=$(ctl info "$1") || fail "info d$1"
	echo "$info"
	grep -Eq " $2 .* reason=$3( |$)" <<<"$info" || fail "d$1: want $2 reason=$3"
}
expect_state "$dom_a" shutdown 1
expect_state "$dom_b" crashed 3
ctl info "$dom_b" | grep -q 'crash=dom0 requested SHUTDOWN_crash' || fail "d$dom_b: crash reason"
expect_state "$dom_c" shutdown 2
ctl dmesg | grep -E "d($dom_a|$dom_b|$dom_c): shutdown" || fail "keeld logged no shutdown"
for id in $dom_a $dom_b $dom_c; do
	ctl destroy "$id" || fail "destroy d$id"
done

# Every refusal above left keeld serving.
kill -0 "$kpid" 2>/dev/null || fail "keeld died"
ctl list >/dev/null || fail "keeld does not answer"
exit 0
