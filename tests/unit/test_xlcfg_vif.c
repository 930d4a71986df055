/*
 * Unit tests for vif specs (tools/xlcfg/vif.c): every key, the flags, empty
 * specs, xl's tolerance of unknown words, and rate=RATE[@INTERVAL] with its
 * units, default interval and overflow checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xlcfg.h"

static char *vif_diag;
static size_t vif_diag_len;

static int vif_parse1(struct xlcfg_vif *v, const char *spec)
{
	FILE *f;
	int r;

	free(vif_diag);
	vif_diag = NULL;
	f = open_memstream(&vif_diag, &vif_diag_len);
	r = xlcfg_vif_parse(v, spec, "t.cfg:7:8", f);
	fclose(f);
	return r;
}

static void vif_test_all_keys(void)
{
	struct xlcfg_vif v;
	char mac[18];

	CU_ASSERT_EQUAL(vif_parse1(&v, "mac=00:16:3E:01:02:ff, bridge=br1,ip=10.0.0.2 10.0.0.3,"
				       "script=vif-route,vifname=web0,model=e1000,type=ioemu,"
				       "backend=netdd,gatewaydev=eth1,devid=3,mtu=9000,vlan=10,"
				       "trusted"),
			0);
	CU_ASSERT_TRUE(v.mac_set);
	xlcfg_mac_unparse(v.mac, mac);
	CU_ASSERT_STRING_EQUAL(mac, "00:16:3e:01:02:ff");
	CU_ASSERT_STRING_EQUAL(v.bridge, "br1");
	CU_ASSERT_STRING_EQUAL(v.ip, "10.0.0.2 10.0.0.3");
	CU_ASSERT_STRING_EQUAL(v.script, "vif-route");
	CU_ASSERT_STRING_EQUAL(v.vifname, "web0");
	CU_ASSERT_STRING_EQUAL(v.model, "e1000");
	CU_ASSERT_EQUAL(v.nictype, 1);
	CU_ASSERT_STRING_EQUAL(v.backend_domname, "netdd");
	CU_ASSERT_STRING_EQUAL(v.gatewaydev, "eth1");
	CU_ASSERT_EQUAL(v.devid, 3);
	CU_ASSERT_EQUAL(v.mtu, 9000);
	CU_ASSERT_STRING_EQUAL(v.vlan, "10");
	CU_ASSERT_EQUAL(v.trusted, XLCFG_TRUE);
	CU_ASSERT_EQUAL(v.rate_interval_usecs, 0);
	xlcfg_vif_clear(&v);
}

static void vif_test_defaults_and_tolerance(void)
{
	struct xlcfg_vif v;

	CU_ASSERT_EQUAL(vif_parse1(&v, ""), 0);
	CU_ASSERT_FALSE(v.mac_set);
	CU_ASSERT_EQUAL(v.devid, -1);
	CU_ASSERT_PTR_NULL(v.bridge);
	CU_ASSERT_EQUAL(v.trusted, XLCFG_DEFAULT);
	xlcfg_vif_clear(&v);

	/* xl warns about words it does not know and carries on */
	CU_ASSERT_EQUAL(vif_parse1(&v, "bridge=xenbr0,frobnicate=1,untrusted"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(vif_diag, "unrecognized argument `frobnicate=1'"));
	CU_ASSERT_EQUAL(v.trusted, XLCFG_FALSE);
	xlcfg_vif_clear(&v);

	CU_ASSERT_EQUAL(vif_parse1(&v, "netdev=eth9"), 0);
	CU_ASSERT_STRING_EQUAL(v.gatewaydev, "eth9");
	CU_ASSERT_PTR_NOT_NULL(strstr(vif_diag, "deprecated"));
	xlcfg_vif_clear(&v);
}

static void vif_test_bad_values(void)
{
	static const char *const bad[] = {
		"mac=00:16:3e:01:02",
		"mac=00:16:3e:01:02:03:04",
		"mac=zz:16:3e:01:02:03",
		"mac=100:16:3e:01:02:03",
		"type=tap",
		"devid=x",
		"mtu=10",
		"mtu=70000",
		"rate=",
		"rate=10MB",
		"rate=0MB/s",
		"rate=10MB/s@",
		"rate=10MB/s@5x",
		"rate=99999999999B/s",
		"rate=10XB/s",
	};
	struct xlcfg_vif v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(vif_parse1(&v, bad[i]), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(vif_diag, "t.cfg:7:8: config parsing error in vif"));
	}
}

static void vif_test_rates(void)
{
	static const struct {
		const char *rate;
		uint64_t bytes;
		uint32_t usecs;
	} ok[] = {
		{"10MB/s", 10000000ull * 50000 / 1000000, 50000},
		{"10Mb/s", 1250000ull * 50000 / 1000000, 50000},
		{"1GB/s@20ms", 1000000000ull * 20000 / 1000000, 20000},
		{"100KB/s@1s", 100000, 1000000},
		{"5000B/s@100us", 0, 100}, /* 5000 * 100 / 1e6 rounds down to 0 */
		{"12345B/s@2", 24690, 2000000},
	};
	struct xlcfg_vif v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "rate=%s", ok[i].rate);
		CU_ASSERT_EQUAL_FATAL(vif_parse1(&v, spec), 0);
		CU_ASSERT_EQUAL(v.rate_bytes_per_interval, ok[i].bytes);
		CU_ASSERT_EQUAL(v.rate_interval_usecs, ok[i].usecs);
		xlcfg_vif_clear(&v);
	}
}

static int vif_cleanup(void)
{
	free(vif_diag);
	vif_diag = NULL;
	return 0;
}

UNIT_SUITE(xlcfg_vif, NULL, vif_cleanup, UNIT_TEST(vif_test_all_keys),
	   UNIT_TEST(vif_test_defaults_and_tolerance), UNIT_TEST(vif_test_bad_values),
	   UNIT_TEST(vif_test_rates))
