#!/bin/bash
# xl-tables: tools/xl/README.md's Xen 4.17 tables against what xl does (no
# hypervisor needed).  Commands: exactly Xen 4.17's 92; a works/partly row is
# in `xl help` with its usage; a refused row is not, and running it names the
# row's reason.  Keys: exactly the 158 Xen 4.17 keys; `xl create -n` with the
# key set shows the row's status -- refused: the create fails naming the
# reason; ignored: a warning naming it; works/partly: neither.
. "$(dirname "$0")/../lib/common.sh"

XL=$KEEL_BIN/xl
[ -x "$XL" ] || fail "$XL not built"
cd "$KEEL_TMP" || fail "no temp dir"
readme=$KEEL_TOP/tools/xl/README.md
sed -n '/^## Xen 4.17 compatibility tables/,$p' "$readme" > tables.md
"$XL" help > help.out
ncmd=0
nkey=0
in_keys=0
while IFS= read -r line; do
	case $line in
	'| key | Keel | note |') in_keys=1; continue ;;
	'| `'*) ;;
	*) continue ;;
	esac
	name=$(echo "$line" | sed -E 's/^\| `([^`]+)` \|.*/\1/')
	status=$(echo "$line" | awk -F' [|] ' '{print $2}')
	note=$(echo "$line" | awk -F' [|] ' '{print $3}' | sed -E 's/ \|$//')
	if [ $in_keys = 0 ]; then
		ncmd=$((ncmd + 1))
		case $status in
		works | partly)
			grep -qE "^ $name +[A-Z]" help.out || fail "README says $name $status; xl help lacks it"
			"$XL" help "$name" | grep -q "^Usage: xl \[-vtT[fN]*\] $name " ||
				fail "xl help $name: no usage" ;;
		refused)
			grep -qE "^ $name " help.out && fail "README says $name refused; xl help lists it"
			"$XL" "$name" > /dev/null 2> err && fail "refused command $name succeeded"
			grep -qF "Keel does not: $note" err || fail "$name: expected reason '$note', got: $(cat err)" ;;
		*) fail "command $name: status '$status'" ;;
		esac
	else
		nkey=$((nkey + 1))
		printf 'name = "t"\nkernel = "/dev/null"\n%s = 1\n' "$name" > k.cfg
		"$XL" create -n -q k.cfg > /dev/null 2> err
		rc=$?
		case $status in
		refused)
			[ $rc = 0 ] && fail "refused key $name: create -n succeeded"
			grep -qF "\`$name' cannot be honoured by Keel ($note)" err ||
				fail "refused key $name: $(cat err)" ;;
		ignored)
			grep -qF "\`$name' is not supported by Keel ($note); ignored" err ||
				fail "ignored key $name: $(cat err)" ;;
		works | partly)
			grep -qF "\`$name' is not supported" err && fail "key $name: README says $status: $(cat err)"
			grep -qF "\`$name' cannot be honoured" err && fail "key $name: README says $status: $(cat err)"
			grep -qF "unknown key \`$name'" err && fail "key $name unknown to xl" ;;
		*) fail "key $name: status '$status'" ;;
		esac
	fi
done < tables.md
[ $ncmd = 92 ] || fail "README lists $ncmd commands, Xen 4.17 has 92"
[ $nkey = 158 ] || fail "README lists $nkey keys, Xen 4.17 reads 158"
# every command xl has that Xen has is a works/partly row
for c in $(awk '/^ [a-z]/{print $1}' help.out); do
	grep -q "^| \`$c\` | refused " tables.md && fail "xl has $c but README says refused"
done
# a refused key that asks for nothing (an empty list, 0) does not fail
printf 'name = "t"\nkernel = "/dev/null"\npci = []\nnestedhvm = 0\n' > k.cfg
"$XL" create -n -q k.cfg > /dev/null 2> err || fail "empty pci= / nestedhvm=0 refused: $(cat err)"
echo "PASS: README's tables match xl ($ncmd commands, $nkey keys)"
