#!/usr/bin/env bash
# Xen's own clients (Debian xenstore-utils, unmodified) against keel-xenstored:
# every xenstore-* tool, relative paths, permissions, watches, big values and
# directories larger than one message (DIRECTORY_PART).
. "$(dirname "$0")/xenstore-lib.sh"
xs_fetch_clients
xs_start

xs write /t/a hello /t/b "two words" || fail "xenstore-write"
expect_eq "read" "$(xs read /t/a)" hello
expect_eq "read two" "$(xs read /t/a /t/b | tr '\n' ,)" "hello,two words,"
expect_eq "read -p" "$(xs read -p /t/a)" "/t/a: hello"
expect_eq "list" "$(xs list /t | tr '\n' ,)" "a,b,"
expect_eq "list -p" "$(xs list -p /t | head -1)" "/t/a"
xs exists /t/a || fail "exists /t/a"
! xs exists /t/nope || fail "exists /t/nope succeeded"
! xs read /t/nope 2>/dev/null || fail "read of a missing node succeeded"
expect_eq "ls" "$(xs ls /t)" "$(printf 'a = "hello"\nb = "two words"')"
expect_eq "ls -f" "$(xs ls -f /t | head -1)" '/t/a = "hello"'

# Intermediate nodes are created empty.
xs write /deep/x/y/z v || fail "deep write"
expect_eq "implicit parent" "$(xs read /deep/x/y)" ""

# Relative paths resolve under /local/domain/0 for dom0.
xs write rel/key value || fail "relative write"
expect_eq "relative read" "$(xs read /local/domain/0/rel/key)" value
expect_eq "relative read back" "$(xs read rel/key)" value

# Permissions: owner first; its letter is everyone else's default.
xs chmod /t/a r1 w2 b3 || fail "chmod"
expect_eq "ls -p" "$(xs ls -p /t | head -1 | sed 's/.*(//')" "r1,w2,b3)"
xs chmod -r /deep n0 r5 || fail "chmod -r"
expect_eq "chmod -r reached leaves" "$(xs ls -p /deep/x/y | sed 's/.*(//')" "n0,r5)"
! xs chmod /t/a x7 2>/dev/null || fail "bad perm string accepted"

# rm: subtree, idempotent for a missing child, -t tidies empty parents.
xs rm /t/b || fail "rm"
! xs exists /t/b || fail "rm left the node"
xs rm /t/b || fail "rm of a missing node with a parent must succeed"
! xs rm /no/such/parent 2>/dev/null || fail "rm without parent succeeded"
xs rm -t /deep/x/y/z || fail "rm -t"
! xs exists /deep || fail "rm -t left empty parents"

# Values up to the payload limit, byte exact.
big=$(head -c 3000 /dev/zero | tr '\0' 'q')
xs write /big/v "$big" || fail "3000-byte write"
expect_eq "3000-byte read" "$(xs read /big/v | wc -c)" 3001
toolong=$(head -c 5000 /dev/zero | tr '\0' 'q')
! xs write /big/w "$toolong" 2>/dev/null || fail "5000-byte write accepted"

# A directory bigger than one message: libxenstore falls back to DIRECTORY_PART.
names=()
for i in $(seq 1 300); do names+=("/many/child-number-$i-abcdefghij" "$i"); done
xs write "${names[@]}" || fail "300 writes"
expect_eq "300 children listed" "$(xs list /many | wc -l)" 300
expect_eq "every child once" "$(xs list /many | sort -u | grep -c '^child-number-[0-9]*-abcdefghij$')" 300

# Watches: fire once when set, then on each change at or below, in order.
xs watch -n 4 /w >"$KEEL_TMP/watch.out" 2>&1 &
wpid=$!
wait_for "xs exists /w 2>/dev/null || grep -q '^/w$' '$KEEL_TMP/watch.out'" 5 || true
sleep 0.2
xs write /w/x 1 /w/y 2 || fail "write under watch"
xs rm /w/x || fail "rm under watch"
wait_for "! kill -0 $wpid 2>/dev/null" 5 || { kill $wpid; fail "xenstore-watch did not see 4 events"; }
expect_eq "watch events" "$(tr '\n' , <"$KEEL_TMP/watch.out")" "/w,/w/x,/w/y,/w/x,"

# Special watches: INTRODUCE and RELEASE (sent with keelstore) reach Xen's xenstore-watch.
xs watch -n 2 @introduceDomain >"$KEEL_TMP/intro.out" 2>&1 &
ipid=$!
xs watch -n 3 @releaseDomain >"$KEEL_TMP/release.out" 2>&1 &
rpid=$!
wait_for "[ -s '$KEEL_TMP/intro.out' ] && [ -s '$KEEL_TMP/release.out' ]" 5 || fail "special watches not set"
"$KEEL_BIN/keelstore" -s "$XS_SOCK" introduce 3 4242 7 || fail "introduce"
"$KEEL_BIN/keelstore" -s "$XS_SOCK" release 3 || fail "release"
"$KEEL_BIN/keelstore" -s "$XS_SOCK" introduce 4 4343 7 || fail "introduce 4"
"$KEEL_BIN/keelstore" -s "$XS_SOCK" release 4 || fail "release 4"
wait_for "! kill -0 $ipid 2>/dev/null && ! kill -0 $rpid 2>/dev/null" 5 ||
	{ kill $ipid $rpid 2>/dev/null; fail "special watch events missing"; }
expect_eq "@introduceDomain" "$(tr '\n' , <"$KEEL_TMP/intro.out")" "@introduceDomain,@introduceDomain,"
expect_eq "@releaseDomain" "$(tr '\n' , <"$KEEL_TMP/release.out")" "@releaseDomain,@releaseDomain,@releaseDomain,"

# libkeelstore (through the keelstore CLI) against the same data.
KS() { "$KEEL_BIN/keelstore" -s "$XS_SOCK" "$@"; }
expect_eq "keelstore read" "$(KS read /t/a)" hello
expect_eq "keelstore ls" "$(KS ls /t | tr '\n' ,)" "a,"
expect_eq "keelstore perms" "$(KS perms /t/a)" "r1 w2 b3"
KS watch /kw 3 >"$KEEL_TMP/kw.out" &
kpid=$!
wait_for "[ -s '$KEEL_TMP/kw.out' ]" 5 || fail "keelstore watch not set"
xs write /kw/1 a /kw/2 b || fail "write for keelstore watch"
wait_for "! kill -0 $kpid 2>/dev/null" 5 || { kill $kpid; fail "keelstore watch events missing"; }
expect_eq "keelstore watch" "$(tr '\n' , <"$KEEL_TMP/kw.out")" "/kw,/kw/1,/kw/2,"
KS txwrite /ktx/a 1 /ktx/b 2 || fail "keelstore txwrite"
expect_eq "keelstore transaction seen by Xen's client" "$(xs read /ktx/a /ktx/b | tr '\n' ,)" "1,2,"

# The multi-call binary works too.
expect_eq "xenstore read" "$(LD_LIBRARY_PATH=$XS_LIBS XENSTORED_PATH=$XS_SOCK "$XS_CLIENTS/xenstore" read /t/a)" hello

xs_alive || fail "daemon died"
echo "all xenstore client checks passed"
