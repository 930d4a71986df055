#!/bin/bash
# xl's command-line contract, the parts that need no hypervisor: help
# output, command lookup (exact or unambiguous prefix), global options,
# per-command option and argument errors, exit statuses as Xen's xl gives
# them, and the honest failure of commands that need keeld while no
# toolstack backend is linked in.
. "$(dirname "$0")/../lib/common.sh"

XL=$KEEL_BIN/xl
[ -x "$XL" ] || fail "$XL not built"
cd "$KEEL_TMP" || fail "no temp dir"

# run EXPECTED_RC CMD...: run xl, keep stdout/stderr in out/err, check the status
run() {
	local want=$1
	shift
	"$XL" "$@" > out 2> err
	local rc=$?
	[ "$rc" = "$want" ] || fail "xl $*: exit $rc, expected $want; stderr: $(head -3 err)"
}
has() { grep -qF -- "$2" "$1" || fail "expected '$2' in $1: $(head -5 "$1")"; }

run 1
has out "Usage xl [-vfNtT] <subcommand> [args]"
run 0 help
has out "xl full list of subcommands:"
for c in create list destroy shutdown reboot pause unpause console save restore mem-max mem-set \
	vcpu-list vcpu-set info sched-credit domid domname rename dmesg top uptime \
	domxml-from-native domxml-to-native block-attach block-list block-detach network-attach \
	network-list network-detach; do
	grep -qE "^ $c +[A-Z]" out || fail "xl help does not list $c"
	"$XL" help "$c" > h 2>&1 || fail "xl help $c failed"
	grep -q "^Usage: xl \[-vtT[fN]*\] $c " h || fail "xl help $c: bad usage line: $(head -1 h)"
	"$XL" "$c" --help > h2 2>&1 || fail "xl $c --help: nonzero exit"
	cmp -s h h2 || fail "xl $c --help differs from xl help $c"
done
run 0 help create
has out "Usage: xl [-vtTfN] create <ConfigFile> [options] [vars]"
has out "-n, --dryrun"
run 0 help nosuch
has out 'command "nosuch" not implemented'
run 1 -h
has err "unknown global option"
run 1 nosuch
has err 'command "nosuch" not implemented'
run 1 d # ambiguous prefix: destroy, domid, domname, dmesg, ...
has err 'command "d" not implemented'
run 1 pci-attach # one of Xen's that Keel refuses, with the reason
has err "Keel does not: no PCI passthrough"
run 1 -N list
has err "command does not implement -N (dryrun) option"

# per-command argument errors, before anything else happens
run 2 destroy
has err "'xl destroy' requires at least 1 argument."
run 2 rename vm
has err "'xl rename' requires at least 2 arguments."
run 2 list -x
has err "option \`x' not supported."
run 2 shutdown
has err "You must specify -a or a domain id."
run 1 mem-set vm 12q
has err "invalid memory size: 12q"
run 1 sched-credit -d vm -w 0
has err "Invalid weight"
run 1 vcpu-set vm zero
has err "Invalid vCPUs count"
run 2 console -t tty vm
has err "console type supported are"
run 2 domxml-from-native xen-xm x.cfg
has err "unsupported format"
run 2 block-attach vm
has err "'xl block-attach' requires at least 2 arguments."
run 2 block-detach vm
has err "'xl block-detach' requires at least 2 arguments."
run 2 network-detach vm
has err "'xl network-detach' requires at least 2 arguments."
run 2 block-list
has err "'xl block-list' requires at least 1 argument."
run 2 network-list -x vm
has err "option \`x' not supported."
# device specs are parsed before the hypervisor is asked
run 1 block-attach vm x.img,raw
has err "no vdev specified"
run 1 block-attach vm x.img,raw,xvda,rw,extra
has err "disk specification"
run 1 network-attach vm mac=zz:00:00:00:00:00
has err "mac"
grep -q keeld err && fail "a bad vif spec must fail before contacting keeld"

# configuration handling without a hypervisor
cat > vm.cfg <<'CFG'
name = "cli"
uuid = "77777777-8888-9999-aaaa-bbbbbbbbbbbb"
memory = 64
CFG
run 0 create -n vm.cfg
has err "Parsing config from vm.cfg"
has out '"name": "cli"'
run 0 -N create vm.cfg vcpus=2
has out '"max_vcpus": 2'
run 0 cre -q -n vm.cfg # unambiguous prefix
[ -s err ] && fail "-q still printed: $(cat err)"
run 0 create -n -f vm.cfg 'name="other"'
has out '"name": "other"'
run 0 create -n /dev/null 'name="cmdline-only"'
has out '"name": "cmdline-only"'
run 3 create -n missing.cfg
has err "Failed to read config file: missing.cfg"
printf 'name = oops\n' > bad.cfg
run 1 create bad.cfg
has err "bad.cfg:1:8: config parsing error near \`oops'"
grep -q keeld err && fail "a broken config must fail before contacting keeld"

# commands that need the hypervisor say so, and fail with xl's status 1
run 1 create vm.cfg
has err "Parsing config from vm.cfg"
has err "xl: cannot reach keeld:"
for cmd in "list" "list -v" "destroy vm" "shutdown -a" "reboot vm" "pause vm" "unpause vm" \
	"console vm" "save vm /tmp/x" "restore /tmp/x" "mem-max vm 1g" "mem-set vm 512" \
	"vcpu-list" "vcpu-set vm 2" "info" "info xen_version" "sched-credit" "domid vm" \
	"domname 0" "rename vm new" "dmesg" "top" "uptime" "block-list vm" "network-list vm" \
	"block-attach vm x.img,raw,xvda" "block-detach vm xvda" "network-attach vm" \
	"network-detach vm 0"; do
	# shellcheck disable=SC2086
	run 1 $cmd
	has err "xl: cannot reach keeld:"
	[ -s out ] && fail "xl $cmd printed results without a hypervisor: $(head -2 out)"
done
# xl.conf (KEEL_XL_CONF names it): vif defaults under each vif's own settings
cat >xl.conf <<'EOF2'
vif.default.bridge = "keelbr9"
vif.default.script = "vif-route"
autoballoon = "on"
EOF2
cat >vifs.cfg <<'EOF2'
name = "vifs"
kernel = "/boot/vmlinuz"
vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:02, bridge=mine' ]
EOF2
KEEL_XL_CONF=xl.conf run 0 create -n vifs.cfg
has out '"bridge": "keelbr9"'
has out '"bridge": "mine"'
has out '"script": "vif-route"'
has err 'autoballoon="on" has no effect on Keel'
run 0 create -n vifs.cfg
grep -q keelbr9 out && fail "xl.conf's bridge used without xl.conf"
echo 'vif.default.bridge = ' >bad.conf
KEEL_XL_CONF=bad.conf run 1 create -n vifs.cfg
has err "Failed to parse config file: bad.conf"
KEEL_XL_CONF=/nonexistent/xl.conf run 0 create -n vifs.cfg
echo "PASS: xl command line"
