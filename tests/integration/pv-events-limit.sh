#!/usr/bin/env bash
# pv-events-limit: per-domain max_event_channels.  One domain gets max
# port 8 through libkeelevtchn (keel-evtchn-max), another keeps keeld's
# default (1023); each evt-limit guest must be refused -ENOSPC exactly past
# its limit.  Bad limits (0, past the port table, no such domain) are
# refused.
. "$(dirname "$0")/../lib/common.sh"
need_root
need_kvm
start_keeld

small=$(ctl create small 64) || fail "create"
dflt=$(ctl create dflt 64) || fail "create"
"$KEEL_BIN/keel-evtchn-max" "$small" 8 || fail "set max port 8"
"$KEEL_BIN/keel-evtchn-max" "$small" 0 2>/dev/null && fail "max port 0 accepted"
"$KEEL_BIN/keel-evtchn-max" "$small" 100000 2>/dev/null && fail "max port past the table accepted"
"$KEEL_BIN/keel-evtchn-max" 999 8 2>/dev/null && fail "no such domain accepted"
ctl load "$small" "$KEEL_GUESTS/evt-limit" "limit=8" || fail "load"
ctl load "$dflt" "$KEEL_GUESTS/evt-limit" "limit=1023" || fail "load"
ctl unpause "$small"; ctl unpause "$dflt"
for d in $small $dflt; do
	wait_for "ctl info $d | grep -Eq ' (shutdown|crashed) '" 60 || fail "d$d did not finish"
	ctl console "$d"
	ctl console "$d" | grep -q '^Test result: SUCCESS' || fail "evt-limit in d$d"
done
exit 0
