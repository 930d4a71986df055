/*
 * Unit tests for the domain description (tools/xlcfg/domain.c and its
 * writers): xl's defaults and checks, cmdline from root/extra, unknown and
 * unsupported keys, and the round trips config -> libvirt XML -> domain and
 * config -> xl.cfg text -> domain, compared through their JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xlcfg.h"
#include "xlcfg_keys.h"

static char *dom_diag;
static size_t dom_diag_len;

static int dom_build(struct xlcfg_domain *d, const char *text)
{
	FILE *f;
	struct xlcfg *cfg;
	int r;

	free(dom_diag);
	dom_diag = NULL;
	f = open_memstream(&dom_diag, &dom_diag_len);
	cfg = xlcfg_new("d.cfg", f);
	r = xlcfg_parse_data(cfg, text, strlen(text));
	if (r == 0)
		r = xlcfg_domain_from_cfg(d, cfg);
	xlcfg_free(cfg);
	fclose(f);
	return r;
}

static char *dom_json(const struct xlcfg_domain *d)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	xlcfg_domain_to_json(d, f);
	fclose(f);
	return out;
}

static void dom_test_defaults(void)
{
	struct xlcfg_domain d;

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\n"), 0);
	CU_ASSERT_EQUAL(d.type, XLCFG_TYPE_PV);
	CU_ASSERT_EQUAL(d.vcpus, 1);
	CU_ASSERT_EQUAL(d.max_vcpus, 1);
	CU_ASSERT_EQUAL(d.target_memkb, 0);
	CU_ASSERT_FALSE(d.uuid_given);
	CU_ASSERT_EQUAL(d.on_poweroff, XLCFG_ACTION_DESTROY);
	CU_ASSERT_EQUAL(d.on_reboot, XLCFG_ACTION_RESTART);
	CU_ASSERT_EQUAL(d.on_watchdog, XLCFG_ACTION_DESTROY);
	CU_ASSERT_EQUAL(d.on_crash, XLCFG_ACTION_DESTROY);
	CU_ASSERT_EQUAL(d.on_soft_reset, XLCFG_ACTION_SOFT_RESET);
	xlcfg_domain_clear(&d);

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nmemory=256\nvcpus=0\nbuilder='hvm'\n"), 0);
	CU_ASSERT_EQUAL(d.max_memkb, 256 * 1024);
	CU_ASSERT_EQUAL(d.vcpus, 1); /* xl: fewer than 1 means 1 */
	CU_ASSERT_EQUAL(d.type, XLCFG_TYPE_HVM);
	xlcfg_domain_clear(&d);

	/* type values match as prefixes, as in xl */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\ntype='h'\n"), 0);
	CU_ASSERT_EQUAL(d.type, XLCFG_TYPE_HVM);
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\ntype='pvh'\n"), 0);
	CU_ASSERT_EQUAL(d.type, XLCFG_TYPE_PVH);
	xlcfg_domain_clear(&d);
}

static void dom_test_errors(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"memory=1\n", "Domain name must be specified."},
		{"name='a'\ntype='kvm'\n", "d.cfg:2:6: Invalid domain type kvm."},
		{"name='a'\ntype='pv'\nbuilder='hvm'\n", "Contradicting"},
		{"name='a'\nvcpus=4\nmaxvcpus=2\n", "maxvcpus < vcpus"},
		{"name='a'\nuuid='nope'\n", "Failed to parse UUID: nope"},
		{"name='a'\non_crash='explode'\n", "Unknown on_crash action \"explode\" specified"},
		{"name='a'\nmemory='lots'\n", "parameter `memory' is not a valid number"},
		{"name='a'\nmemory=512\nmaxmem=256\n", "maxmem (256 MiB) is less than memory"},
		{"name='a'\ncpu_weight=0\n", "smaller than minimum bound"},
		{"name='a'\ndisk=['/x,raw,xvda','/y,raw,xvda']\n", "used twice"},
		{"name='a'\ndisk='/x,raw,xvda'\n", "is a single value but should be a list"},
		{"name='a'\ndisk=[['/x']]\n", "must be a string"},
		{"name='a'\nvif=['mac=1']\n", "invalid mac"},
		{"name=['a']\n", "is a list but should be a single value"},
		{"name='a'\ncpus='nodes:0'\n", "cpus: `nodes:0': Keel has no NUMA node placement"},
		{"name='a'\ncpus_soft=['0', '^node:1']\n", "no NUMA node placement"},
		{"name='a'\ncpus='0-'\n", "cpus: invalid CPU set `0-'"},
		{"name='a'\ncpus='3-1'\n", "invalid CPU set"},
		{"name='a'\ncpus='1,,2'\n", "invalid CPU set"},
		{"name='a'\ncpus='1,'\n", "invalid CPU set"},
		{"name='a'\ncpus=''\n", "invalid CPU set"},
		{"name='a'\ncpus='x'\n", "invalid CPU set"},
		{"name='a'\ncpus=[['0']]\n", "should be a string"},
	};
	struct xlcfg_domain d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_NOT_EQUAL(dom_build(&d, bad[i].text), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, bad[i].msg));
		if (!strstr(dom_diag, bad[i].msg))
			fprintf(stderr, "case %zu: %s", i, dom_diag);
	}
}

static void dom_test_cmdline_and_keys(void)
{
	struct xlcfg_domain d;

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nroot='/dev/xvda1 ro'\nextra='quiet'\n"), 0);
	CU_ASSERT_STRING_EQUAL(d.cmdline, "root=/dev/xvda1 ro quiet");
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nroot='/dev/x'\ncmdline='c'\n"), 0);
	CU_ASSERT_STRING_EQUAL(d.cmdline, "c");
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "ignoring root= and extra="));
	xlcfg_domain_clear(&d);

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nvfb=['vnc=1']\nfrob=1\nvnc=1\n"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "d.cfg:3: warning: unknown key `frob' ignored"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "d.cfg:2: warning: `vfb' is not supported"));
	CU_ASSERT_EQUAL(d.n_unsupported, 1); /* vfb; vnc= is HVM's, unread for PV as in xl */
	xlcfg_domain_clear(&d);

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nbootloader_args='-q  --x'\n"), 0);
	CU_ASSERT_EQUAL(d.n_bootloader_args, 2);
	CU_ASSERT_STRING_EQUAL(d.bootloader_args[1], "--x");
	xlcfg_domain_clear(&d);
}

/* cpus= / cpus_soft=: one set for all vCPUs or a list, kept in the written config. */
static void dom_test_cpus(void)
{
	struct xlcfg_domain d;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\ncpus='all,^1'\ncpus_soft=['0-2', 3]\n"), 0);
	CU_ASSERT_PTR_NULL(strstr(dom_diag, "not supported"));
	CU_ASSERT_EQUAL(d.n_cpus, 1);
	CU_ASSERT_FALSE(d.cpus_per_vcpu);
	CU_ASSERT_STRING_EQUAL(d.cpus[0], "all,^1");
	CU_ASSERT_EQUAL_FATAL(d.n_cpus_soft, 2);
	CU_ASSERT_TRUE(d.cpus_soft_per_vcpu);
	CU_ASSERT_STRING_EQUAL(d.cpus_soft[1], "3");
	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(xlcfg_domain_to_cfg(&d, f), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "cpus = \"all,^1\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "cpus_soft = [ \"0-2\", \"3\" ]\n"));
	free(text);
	xlcfg_domain_clear(&d);
}

static const char dom_full_cfg[] =
	"name = 'full'\ntype = 'hvm'\nuuid = '5f3c1a2e-9b7d-4e21-8c3a-0d4f6b8a9c10'\n"
	"memory = 1024\nmaxmem = 2048\nvcpus = 2\nmaxvcpus = 4\nkernel = '/k'\n"
	"ramdisk = '/r'\ncmdline = 'console=hvc0 \"quoted\"'\ncpu_weight = 512\ncap = 50\n"
	"on_poweroff = 'preserve'\non_reboot = 'rename-restart'\non_watchdog = 'coredump-restart'\n"
	"on_crash = 'coredump-destroy'\non_soft_reset = 'destroy'\nserial = ['pty', 'file:/s']\n"
	"localtime = 1\nnomigrate = 0\nacpi = 1\nmax_grant_frames = 64\n"
	"bootloader = 'pygrub'\nbootloader_args = ['-q', 'a b']\n"
	"disk = [ '/dev/vg/a,raw,xvda,rw', 'format=qcow2, vdev=xvdb, access=ro, backendtype=qdisk, "
	"script=s1, discard, trusted, target=/img,with,commas.q2', ',hdc:cdrom,r', "
	"'phy:/dev/sdz,sdb,w' ]\n"
	"vif = [ 'mac=00:16:3e:aa:bb:cc,bridge=br0,ip=10.0.0.1,rate=10MB/s@20ms,mtu=9000,"
	"vifname=v0,model=e1000,gatewaydev=eth0,untrusted', '', 'devid=7,type=vif,backend=dd' ]\n";

static void dom_test_libvirt_round_trip(void)
{
	struct xlcfg_domain a, b;
	char *xml = NULL, *ja, *jb;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(dom_build(&a, dom_full_cfg), 0);
	f = open_memstream(&xml, &len);
	CU_ASSERT_EQUAL(xlcfg_domain_to_libvirt(&a, f), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<domain type=\"xen\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<currentMemory unit=\"KiB\">1048576</currentMemory>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<target dev=\"hdc\" bus=\"ide\"/>"));
	CU_ASSERT_EQUAL_FATAL(xlcfg_domain_from_libvirt(&b, xml, len, "x.xml", stderr), 0);
	ja = dom_json(&a);
	jb = dom_json(&b);
	CU_ASSERT_STRING_EQUAL(ja, jb);
	if (strcmp(ja, jb))
		fprintf(stderr, "--- cfg\n%s--- xml\n%s", ja, jb);
	free(ja);
	free(jb);
	free(xml);
	xlcfg_domain_clear(&a);
	xlcfg_domain_clear(&b);
}

static void dom_test_cfg_round_trip(void)
{
	struct xlcfg_domain a, b;
	char *text = NULL, *ja, *jb;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(dom_build(&a, dom_full_cfg), 0);
	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(xlcfg_domain_to_cfg(&a, f), 0);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(dom_build(&b, text), 0);
	ja = dom_json(&a);
	jb = dom_json(&b);
	CU_ASSERT_STRING_EQUAL(ja, jb);
	if (strcmp(ja, jb))
		fprintf(stderr, "--- text\n%s--- a\n%s--- b\n%s", text, ja, jb);
	free(ja);
	free(jb);
	free(text);
	xlcfg_domain_clear(&a);
	xlcfg_domain_clear(&b);
}

static void dom_test_libvirt_errors(void)
{
	static const struct {
		const char *xml, *msg;
	} bad[] = {
		{"<domain type='xen'>\n<name>a</name>\n<memory>12</memory\n</domain>",
		 "x.xml:4: XML error: expected '>'"},
		{"<domain type='kvm'><name>a</name></domain>", "is not a Xen domain"},
		{"<vm/>", "the root element is not <domain>"},
		{"<domain type='xen'>\n<memory unit='KiB'>1</memory>\n</domain>", "has no <name>"},
		{"<domain type='xen'><name>a</name>\n<memory unit='parsecs'>1</memory></domain>",
		 "x.xml:2: <memory>: unknown unit 'parsecs'"},
		{"<domain type='xen'><name>a</name><uuid>zz</uuid></domain>", "is not a UUID"},
		{"<domain type='xen'><name>a</name><devices>\n<disk type='network'>"
		 "<target dev='xvda'/><source file='/x'/></disk></devices></domain>",
		 "x.xml:2: <disk type='network'>"},
		{"<domain type='xen'><name>a</name><devices><interface type='bridge'>"
		 "<mac address='00:11'/></interface></devices></domain>",
		 "not a MAC address"},
		{"<domain type='xen'><name>a</name><on_crash>boom</on_crash></domain>",
		 "unknown action 'boom'"},
		{"", "XML error"},
	};
	struct xlcfg_domain d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f;

		free(dom_diag);
		dom_diag = NULL;
		f = open_memstream(&dom_diag, &dom_diag_len);
		CU_ASSERT_NOT_EQUAL(
			xlcfg_domain_from_libvirt(&d, bad[i].xml, strlen(bad[i].xml), "x.xml", f),
			0);
		fclose(f);
		CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, bad[i].msg));
		if (!strstr(dom_diag, bad[i].msg))
			fprintf(stderr, "case %zu: %s", i, dom_diag);
	}
}

static void dom_test_set_defaults(void)
{
	struct xlcfg_domain d;
	char mac[18];

	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nvif=['', 'mac=00:16:3e:00:00:01,model=x,"
					    "bridge=b,mtu=9000,untrusted']\n"),
			      0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, NULL), 0);
	CU_ASSERT_EQUAL(d.max_memkb, 32 * 1024);
	CU_ASSERT_EQUAL(d.target_memkb, 32 * 1024);
	CU_ASSERT_EQUAL(d.cpu_weight, 256);
	CU_ASSERT_EQUAL(d.cap, 0);
	CU_ASSERT_TRUE(d.vifs[0].mac_set);
	CU_ASSERT_EQUAL(d.vifs[0].mac[0], 0x00);
	CU_ASSERT_EQUAL(d.vifs[0].mac[1], 0x16);
	CU_ASSERT_EQUAL(d.vifs[0].mac[2], 0x3e);
	CU_ASSERT(d.vifs[0].mac[3] < 0x80);
	CU_ASSERT_STRING_EQUAL(d.vifs[0].bridge, "xenbr0");
	CU_ASSERT_STRING_EQUAL(d.vifs[0].script, "vif-bridge");
	CU_ASSERT_STRING_EQUAL(d.vifs[0].model, "rtl8139");
	CU_ASSERT_EQUAL(d.vifs[0].mtu, 1500);
	CU_ASSERT_EQUAL(d.vifs[0].nictype, 2);
	CU_ASSERT_EQUAL(d.vifs[0].trusted, XLCFG_TRUE);
	/* what the config said stays */
	xlcfg_mac_unparse(d.vifs[1].mac, mac);
	CU_ASSERT_STRING_EQUAL(mac, "00:16:3e:00:00:01");
	CU_ASSERT_STRING_EQUAL(d.vifs[1].bridge, "b");
	CU_ASSERT_STRING_EQUAL(d.vifs[1].model, "x");
	CU_ASSERT_EQUAL(d.vifs[1].mtu, 9000);
	CU_ASSERT_EQUAL(d.vifs[1].trusted, XLCFG_FALSE);
	xlcfg_domain_clear(&d);

	/* two random MACs differ; an emulated nic on a PV guest is refused */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nvif=['','','type=ioemu']\n"), 0);
	CU_ASSERT_EQUAL(xlcfg_vif_set_defaults(&d.vifs[0], d.type), 0);
	CU_ASSERT_EQUAL(xlcfg_vif_set_defaults(&d.vifs[1], d.type), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(d.vifs[0].mac, d.vifs[1].mac, 6), 0);
	CU_ASSERT_EQUAL(xlcfg_vif_set_defaults(&d.vifs[2], d.type), -EINVAL);
	CU_ASSERT_EQUAL(xlcfg_vif_set_defaults(&d.vifs[2], XLCFG_TYPE_HVM), 0);
	xlcfg_domain_clear(&d);
}

/* firmware="pvgrub64": Xen's XENFIRMWAREDIR file, else Debian's grub-xen-host GRUB. */
static void dom_test_pv_firmware(void)
{
	struct xlcfg_domain d;

	setenv("KEEL_GRUB_XEN_DIR", "/keel-test-grub", 1);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nfirmware='pvgrub64'\n"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.kernel);
	CU_ASSERT(!strcmp(d.kernel, "/keel-test-grub/grub-x86_64-xen.bin") ||
		  !strcmp(d.kernel, "/usr/lib/xen-4.17/boot/pvgrub64.bin"));
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\nfirmware='pvgrub32'\n"), 0);
	CU_ASSERT(!strcmp(d.kernel, "/keel-test-grub/grub-i386-xen.bin") ||
		  !strcmp(d.kernel, "/usr/lib/xen-4.17/boot/pvgrub32.bin"));
	xlcfg_domain_clear(&d);
	/* xl's errors: firmware with kernel, a firmware that is not PV-GRUB */
	CU_ASSERT_EQUAL(dom_build(&d, "name='a'\nkernel='/k'\nfirmware='pvgrub64'\n"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "both kernel and firmware specified"));
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL(dom_build(&d, "name='a'\nfirmware='ovmf'\n"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "only pvgrub{32|64} supported"));
	xlcfg_domain_clear(&d);
	/* an HVM guest's firmware is not PV-GRUB: no kernel made up */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='a'\ntype='hvm'\nfirmware='seabios'\n"), 0);
	CU_ASSERT_PTR_NULL(d.kernel);
	xlcfg_domain_clear(&d);
	unsetenv("KEEL_GRUB_XEN_DIR");
}

/* The key table's statuses: refused keys that ask for something fail, ignored ones warn. */
static void dom_test_key_status(void)
{
	static const struct {
		const char *text, *msg; /* msg NULL: builds without a word about the key */
		int rc;
	} cases[] = {
		{"name='a'\npci=['01:00.0']\n",
		 "d.cfg:2:1: `pci' cannot be honoured by Keel (no PCI passthrough)", -EINVAL},
		{"name='a'\nvtpm=['backend=0']\n", "`vtpm' cannot be honoured", -EINVAL},
		{"name='a'\nchannel=['name=org.qemu']\n", "`channel' cannot be honoured", -EINVAL},
		{"name='a'\nnestedhvm=1\n", "`nestedhvm' cannot be honoured", -EINVAL},
		{"name='a'\ncpuid='host,tm=0'\n", "`cpuid' cannot be honoured", -EINVAL},
		{"name='a'\npci=[]\n", NULL, 0},
		{"name='a'\nnestedhvm=0\n", NULL, 0},
		{"name='a'\nmax_grant_frames=64\n",
		 "`max_grant_frames' is not supported by Keel (checked; Keel's grant table size is "
		 "fixed); ignored",
		 0},
		{"name='a'\nvnc=1\n", NULL, 0}, /* HVM's key: a PV domain does not read it, as xl */
		{"name='a'\ntype='hvm'\nsdl=1\n", "`sdl' is not supported by Keel (no SDL window",
		 0},
		{"name='a'\nmax_event_channels=8\n", NULL, 0},
	};
	struct xlcfg_domain d;
	int n;
	const struct xlcfg_key *t = xlcfg_key_table(&n);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = dom_build(&d, cases[i].text);

		CU_ASSERT_EQUAL(r, cases[i].rc);
		if (cases[i].msg) {
			CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, cases[i].msg));
		} else {
			CU_ASSERT_PTR_NULL(strstr(dom_diag, "Keel"));
		}
		if (r != cases[i].rc || (cases[i].msg && !strstr(dom_diag, cases[i].msg)))
			fprintf(stderr, "case %zu: %d %s", i, r, dom_diag);
		if (r == 0)
			xlcfg_domain_clear(&d);
	}
	/* the table: sorted (xlcfg_key_lookup bisects), 158 keys of Xen 4.17, reasons given */
	int x417 = 0;

	for (int i = 0; i < n; i++) {
		x417 += t[i].xen417;
		if (i) {
			CU_ASSERT(strcmp(t[i - 1].name, t[i].name) < 0);
		}
		CU_ASSERT_PTR_EQUAL(xlcfg_key_lookup(t[i].name), &t[i]);
		if (t[i].status != XLCFG_KEY_WORKS) {
			CU_ASSERT(t[i].why && *t[i].why);
		}
	}
	CU_ASSERT_EQUAL(x417, 158);
	CU_ASSERT_PTR_NULL(xlcfg_key_lookup("colour"));
}

/* An HVM domain's display: xl's keys, libxl's qemu-xen defaults and minimums. */
/* An HVM config with one bad key (text) is refused with msg in the diagnostics. */
struct dom_refusal {
	const char *text, *msg;
};

static void dom_refused(const struct dom_refusal *bad, size_t n, const char *what)
{
	struct xlcfg_domain d;
	char text[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "name='h'\ntype='hvm'\nmemory=64\n%s", bad[i].text);
		CU_ASSERT_EQUAL(dom_build(&d, text), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, bad[i].msg));
		if (!strstr(dom_diag, bad[i].msg))
			fprintf(stderr, "%s case %zu: %s", what, i, dom_diag);
	}
}

static void dom_test_display(void)
{
	static const struct dom_refusal bad[] = {
		{"vga='ega'\n", "d.cfg:4:5: Unknown vga \"ega\" specified"},
		{"vga='qxl'\n", "no SPICE display"},
		{"vga=1\n", "Unknown vga \"1\" specified"},
		{"videoram='big'\n", "invalid value for `videoram'"},
		{"vncdisplay=70000\n", "invalid value for `vncdisplay'"},
		{"vnclisten='::1:2'\nvncdisplay=1\n", "vncdisplay set, vnclisten contains display"},
		{"vnc='maybe'\n", "invalid value for `vnc'"},
	};
	struct xlcfg_domain d;
	FILE *rep;
	char *out = NULL;
	size_t len = 0;

	/* no keys: cirrus with 8 MiB, VNC on 127.0.0.1 trying the next displays */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nmemory=64\n"), 0);
	CU_ASSERT_EQUAL(d.vga, XLCFG_VGA_DEFAULT);
	CU_ASSERT_EQUAL(d.video_memkb, -1);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, NULL), 0);
	CU_ASSERT_EQUAL(d.vga, XLCFG_VGA_CIRRUS);
	CU_ASSERT_EQUAL(d.video_memkb, 8192);
	CU_ASSERT_EQUAL(d.vnc, XLCFG_TRUE);
	CU_ASSERT_EQUAL(d.vncunused, XLCFG_TRUE);
	CU_ASSERT_STRING_EQUAL(d.vnclisten, "127.0.0.1");
	CU_ASSERT_EQUAL(d.vncdisplay, 0);
	CU_ASSERT_EQUAL(d.nographic, XLCFG_FALSE);
	xlcfg_domain_clear(&d);
	/* stdvga=1: 16 MiB; vga= wins over stdvga= */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nmemory=64\nstdvga=1\n"), 0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, NULL), 0);
	CU_ASSERT_EQUAL(d.vga, XLCFG_VGA_STD);
	CU_ASSERT_EQUAL(d.video_memkb, 16384);
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
		dom_build(&d, "name='h'\ntype='hvm'\nvga='none'\nstdvga=1\nvnc=0\nvncdisplay=2\n"),
		0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, NULL), 0);
	CU_ASSERT_EQUAL(d.vga, XLCFG_VGA_NONE);
	CU_ASSERT_EQUAL(d.video_memkb, 0);
	CU_ASSERT_EQUAL(d.vnc, XLCFG_FALSE);
	CU_ASSERT_PTR_NULL(d.vnclisten);
	CU_ASSERT_EQUAL(d.vncdisplay, 2);
	xlcfg_domain_clear(&d);
	/* too little video RAM for the card, or none left for RAM: libxl's refusals */
	rep = open_memstream(&out, &len);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nvga='stdvga'\nvideoram=8\n"), 0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, rep), -EINVAL);
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nvideoram=4\n"), 0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, rep), -EINVAL);
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nmemory=16\nvideoram=16\n"), 0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, rep), -EINVAL);
	xlcfg_domain_clear(&d);
	fclose(rep);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "videoram must be at least 16 MB for STDVGA on QEMU_XEN"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "videoram must be at least 8 MB for CIRRUS on QEMU_XEN"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "leaves no RAM of memory=16 MB"));
	free(out);
	/* a PV domain does not read them (xl reads them for HVM only) */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='p'\nvga='ega'\nvideoram=1\n"), 0);
	CU_ASSERT_EQUAL(xlcfg_domain_set_defaults(&d, NULL), 0);
	CU_ASSERT_EQUAL(d.video_memkb, 0);
	xlcfg_domain_clear(&d);
	dom_refused(bad, sizeof(bad) / sizeof(bad[0]), "display");
}

/* The device model's and the HVM platform's keys (dm.c): xl's forms, libxl's checks. */
static void dom_test_dm(void)
{
	static const struct dom_refusal bad[] = {
		{"usbversion=4\n", "usbversion parameter is invalid, must be between 1 and 3"},
		{"usbdevice=['tablet', ['x']]\n", "xl: Unable to parse usbdevice."},
		{"usbdevice=''\n", "usbdevice: an empty device name"},
		{"usb='maybe'\n", "invalid value for `usb'"},
		{"bios='rombios'\n", "qemu-xen does not support bios=rombios."},
		{"bios='ovmf'\n", "Keel runs SeaBIOS only"},
		{"bios='coreboot'\n", "ERROR: invalid value \"coreboot\" for \"bios\""},
		{"firmware='uefi'\n", "Keel runs SeaBIOS only"},
		{"firmware='rombios'\n", "qemu-xen does not support bios=rombios."},
		{"device_model_version='qemu-xen-traditional'\n",
		 "upstream QEMU (\"qemu-xen\") only"},
		{"device_model_version='qemu-dm'\n",
		 "Unknown device_model_version \"qemu-dm\" specified"},
		{"device_model_args='-usb'\n", "xl: Unable to parse device_model_args."},
		{"device_model_args_hvm=[['-usb']]\n",
		 "xl: Unable to parse device_model_args_hvm."},
		{"viridian=['base', 'warp_drive']\n",
		 "unknown viridian enlightenment 'warp_drive'"},
		{"hpet='no'\n", "invalid value for `hpet'"},
	};
	struct xlcfg_domain d;

	/* nothing set: libxl's defaults (Keel's own QEMU and firmware, no USB) */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\n"), 0);
	CU_ASSERT_PTR_NULL(d.dm_override);
	CU_ASSERT_EQUAL(d.n_dm_args + d.n_dm_args_hvm + d.n_usbdevice + d.usbversion, 0);
	CU_ASSERT_EQUAL(d.usb, XLCFG_DEFAULT);
	CU_ASSERT_PTR_NULL(d.hvm_firmware);
	CU_ASSERT_PTR_NULL(d.bios_path);
	CU_ASSERT_EQUAL(d.hpet, XLCFG_DEFAULT);
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
		dom_build(&d, "name='h'\ntype='hvm'\nusb=1\nusbdevice='tablet'\nusbversion=9\n"
			      "device_model_override='/opt/qemu'\ndevice_model_version='qemu-xen'\n"
			      "device_model_args=['-a', 'b']\ndevice_model_args_hvm=['-c']\n"
			      "bios='seabios'\nbios_path_override='/x/bios.bin'\n"
			      "firmware_override='hvmloader2'\nhpet=0\napic=1\npae=1\nnx=1\n"),
		0);
	CU_ASSERT_PTR_NULL(strstr(dom_diag, "Keel")); /* usbversion= unused with usb=1 */
	CU_ASSERT_STRING_EQUAL(d.dm_override, "/opt/qemu");
	CU_ASSERT_EQUAL_FATAL(d.n_dm_args, 2);
	CU_ASSERT_STRING_EQUAL(d.dm_args[1], "b");
	CU_ASSERT_EQUAL_FATAL(d.n_dm_args_hvm, 1);
	CU_ASSERT_EQUAL(d.usb, XLCFG_TRUE);
	CU_ASSERT_EQUAL_FATAL(d.n_usbdevice, 1);
	CU_ASSERT_STRING_EQUAL(d.usbdevice[0], "tablet");
	/* libxl__abs_path: a relative firmware is Xen's firmware directory's */
	CU_ASSERT_STRING_EQUAL(d.hvm_firmware, "/usr/lib/xen-4.17/boot/hvmloader2");
	CU_ASSERT_STRING_EQUAL(d.bios_path, "/x/bios.bin");
	CU_ASSERT_EQUAL(d.hpet, XLCFG_FALSE);
	CU_ASSERT_EQUAL(d.pae, XLCFG_TRUE);
	xlcfg_domain_clear(&d);
	/* usbdevice= as a list; firmware="PATH" replaces hvmloader; firmware="bios" is the default */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nusbdevice=['tablet','mouse']\n"
					    "firmware='/fw/hvmloader'\n"),
			      0);
	CU_ASSERT_EQUAL_FATAL(d.n_usbdevice, 2);
	CU_ASSERT_STRING_EQUAL(d.usbdevice[1], "mouse");
	CU_ASSERT_STRING_EQUAL(d.hvm_firmware, "/fw/hvmloader");
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nfirmware='bios'\n"), 0);
	CU_ASSERT_PTR_NULL(d.hvm_firmware);
	xlcfg_domain_clear(&d);
	/* what Keel cannot apply warns, as a Windows config's viridian=1 must still start */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nviridian=1\napic=0\npae=0\n"
					    "nx=0\n"),
			      0);
	CU_ASSERT_EQUAL(d.viridian, XLCFG_TRUE);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "d.cfg:3: warning: viridian: Keel has no Hyper-V"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "apic=0 is not applied"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "pae=0 is not applied"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "nx=0 is not applied"));
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
		dom_build(&d, "name='h'\ntype='hvm'\nviridian=['defaults','!hcall_ipi','all']\n"),
		0);
	CU_ASSERT_EQUAL(d.viridian, XLCFG_TRUE);
	xlcfg_domain_clear(&d);
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\nviridian=0\n"), 0);
	CU_ASSERT_PTR_NULL(strstr(dom_diag, "viridian"));
	xlcfg_domain_clear(&d);
	/* xl's warnings for an override without its version */
	CU_ASSERT_EQUAL_FATAL(dom_build(&d, "name='h'\ntype='hvm'\ndevice_model_override='/q'\n"
					    "bios_path_override='/b'\n"),
			      0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(dom_diag, "device model override given without specific DM version"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(dom_diag, "bios_path_override given without specific bios name"));
	xlcfg_domain_clear(&d);
	/* a PV domain: the HVM keys are not read (as xl), the device model's warn */
	CU_ASSERT_EQUAL_FATAL(
		dom_build(&d, "name='p'\nusb=1\nbios='ovmf'\ndevice_model_args=['-x']\n"), 0);
	CU_ASSERT_EQUAL(d.usb, XLCFG_DEFAULT);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom_diag, "read for HVM domains only"));
	xlcfg_domain_clear(&d);
	dom_refused(bad, sizeof(bad) / sizeof(bad[0]), "dm");
}

/* The new keys survive config -> xl.cfg text -> config (save images carry that text)
 * and config -> libvirt XML -> config. */
static void dom_test_dm_round_trip(void)
{
	struct xlcfg_domain a, b;
	char *text = NULL, *ja, *jb;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(
		dom_build(&a, "name='h'\ntype='hvm'\nusb=1\nusbdevice=['tablet']\nhpet=0\n"
			      "device_model_override='/q'\ndevice_model_version='qemu-xen'\n"
			      "device_model_args_hvm=['-uuid','x']\nfirmware_override='/f'\n"),
		0);
	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(xlcfg_domain_to_cfg(&a, f), 0);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(dom_build(&b, text), 0);
	CU_ASSERT_STRING_EQUAL(b.dm_override, "/q");
	CU_ASSERT_EQUAL_FATAL(b.n_dm_args_hvm, 2);
	CU_ASSERT_STRING_EQUAL(b.dm_args_hvm[1], "x");
	CU_ASSERT_EQUAL(b.usb, XLCFG_TRUE);
	CU_ASSERT_EQUAL_FATAL(b.n_usbdevice, 1);
	CU_ASSERT_EQUAL(b.hpet, XLCFG_FALSE);
	CU_ASSERT_STRING_EQUAL(b.hvm_firmware, "/f");
	ja = dom_json(&a);
	jb = dom_json(&b);
	CU_ASSERT_STRING_EQUAL(ja, jb);
	CU_ASSERT_PTR_NOT_NULL(strstr(ja, "\"usbdevice_list\""));
	free(jb);
	xlcfg_domain_clear(&b);
	/* ... and through libvirt XML, in Keel's metadata */
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(xlcfg_domain_to_libvirt(&a, f), 0);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(xlcfg_domain_from_libvirt(&b, text, len, "x.xml", stderr), 0);
	jb = dom_json(&b);
	CU_ASSERT_STRING_EQUAL(ja, jb);
	if (strcmp(ja, jb))
		fprintf(stderr, "--- cfg\n%s--- xml\n%s", ja, jb);
	free(ja);
	free(jb);
	free(text);
	xlcfg_domain_clear(&a);
	xlcfg_domain_clear(&b);
}

static int dom_cleanup(void)
{
	free(dom_diag);
	dom_diag = NULL;
	return 0;
}

UNIT_SUITE(xlcfg_domain, NULL, dom_cleanup, UNIT_TEST(dom_test_defaults),
	   UNIT_TEST(dom_test_errors), UNIT_TEST(dom_test_cmdline_and_keys),
	   UNIT_TEST(dom_test_cpus), UNIT_TEST(dom_test_libvirt_round_trip),
	   UNIT_TEST(dom_test_cfg_round_trip), UNIT_TEST(dom_test_libvirt_errors),
	   UNIT_TEST(dom_test_set_defaults), UNIT_TEST(dom_test_pv_firmware),
	   UNIT_TEST(dom_test_key_status), UNIT_TEST(dom_test_display), UNIT_TEST(dom_test_dm),
	   UNIT_TEST(dom_test_dm_round_trip))
