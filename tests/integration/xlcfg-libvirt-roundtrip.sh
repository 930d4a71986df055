#!/bin/bash
# libvirt domain XML through xl: an xl.cfg goes to XML (domxml-from-native),
# the XML is created from directly (`xl create -n vm.xml`) and converted back
# (domxml-to-native); all three must describe the same domain (identical
# `xl create -n` JSON).  Malformed XML must fail with the file and line.
. "$(dirname "$0")/../lib/common.sh"

XL=$KEEL_BIN/xl
[ -x "$XL" ] || fail "$XL not built"
golden=$KEEL_TOP/tests/golden/xlcfg
cd "$KEEL_TMP" || fail "no temp dir"

for name in pv-basic full disks vifs append; do
	cp "$golden/$name.cfg" .
	"$XL" create -n -q "$name.cfg" > "$name.a.json" 2>/dev/null || fail "$name.cfg does not parse"
	"$XL" domxml-from-native xen-xl "$name.cfg" > "$name.xml" 2> "$name.err" ||
		fail "$name: domxml-from-native failed: $(cat "$name.err")"
	grep -q "<domain type=\"xen\">" "$name.xml" || fail "$name: not a xen domain XML"
	"$XL" create -n -q "$name.xml" > "$name.b.json" 2> "$name.err" ||
		fail "$name: xl create -n on the XML failed: $(cat "$name.err")"
	diff -u "$name.a.json" "$name.b.json" || fail "$name: cfg and XML describe different domains"
	"$XL" domxml-to-native xen-xl "$name.xml" > "$name.back.cfg" 2> "$name.err" ||
		fail "$name: domxml-to-native failed: $(cat "$name.err")"
	"$XL" create -n -q "$name.back.cfg" > "$name.c.json" 2> "$name.err" ||
		fail "$name: the converted cfg does not parse: $(cat "$name.err")"
	diff -u "$name.a.json" "$name.c.json" || fail "$name: round trip changed the domain"
	echo "ok: $name.cfg -> xml -> cfg"
done

# overrides apply to XML input too
"$XL" create -n -q pv-basic.xml 'memory=64' > o.json 2>/dev/null || fail "override on XML failed"
grep -q '"target_memkb": 65536' o.json || fail "override on XML not applied"

# malformed XML: clear error naming file and line, exit 1
printf '<domain type="xen">\n  <name>x</name>\n  <memory>64</memory\n</domain>\n' > bad.xml
"$XL" create -n -q bad.xml > /dev/null 2> bad.err
rc=$?
[ $rc = 1 ] || fail "malformed XML: exit $rc, expected 1"
grep -q '^bad.xml:4: XML error: ' bad.err || fail "malformed XML: unexpected message: $(cat bad.err)"
"$XL" domxml-to-native xen-xl bad.xml > /dev/null 2> bad2.err && fail "domxml-to-native accepted bad XML"
grep -q '^bad.xml:4: XML error: ' bad2.err || fail "domxml-to-native: unexpected message: $(cat bad2.err)"

printf '<domain type="kvm"><name>x</name></domain>\n' > kvm.xml
"$XL" create -n -q kvm.xml > /dev/null 2> kvm.err && fail "a kvm domain was accepted"
grep -q "is not a Xen domain" kvm.err || fail "kvm domain: unexpected message: $(cat kvm.err)"
echo "PASS: libvirt XML round trips and errors"
