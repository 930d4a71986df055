/*
 * Unit tests of keeld's xl operations (hypervisor/ctl/ctl_ops.c) on a domain
 * that is only a struct (no VM, no threads): argument checks of rename,
 * max memory and the credit parameters, the UUID and ceiling in getinfo,
 * per-vCPU facts of vCPUs with no thread, the version answer, the
 * table refusing ops it does not own; and a domain dom0 shut down
 * (domain_remote_shutdown): its first reason stays, and one dom0
 * suspended is neither saved nor resumed.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/xen.h"

#include "../../hypervisor/core/kind.h"
#include "../../hypervisor/ctl/ctl.h"
#include "unit.h"

static struct domain *tcx_d;
#define tcx_dom (*tcx_d)

static int tcx_init(void)
{
	int err;

	tcx_d = domain_new(&pv_kind, "unit", 4096, 2, DOMAIN_NO_KVM, &err);
	return tcx_d ? 0 : -1;
}

static int tcx_cleanup(void)
{
	domain_free(tcx_d);
	return 0;
}

static int tcx_op(uint32_t op, const void *in, void *out, uint32_t *len)
{
	static uint8_t scratch[KEELCTL_RSP_MAX];
	uint32_t l = 0;

	return ctl_op(op, &tcx_dom, in, out ? out : scratch, len ? len : &l, NULL, 0);
}

static void tcx_rename(void)
{
	struct keelctl_name_req n;

	memset(&n, 'x', sizeof(n)); /* no terminating NUL */
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_RENAME, &n, NULL, NULL), -EINVAL);
	memset(&n, 0, sizeof(n));
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_RENAME, &n, NULL, NULL), -EINVAL); /* empty */
	strcpy(n.name, "renamed");
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_RENAME, &n, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(tcx_dom.name, "renamed");
}

static void tcx_handle_and_maxmem(void)
{
	uint8_t uuid[16];
	uint64_t kb;
	struct keelctl_dominfo info;

	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(0xa0 + i);
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SET_HANDLE, uuid, NULL, NULL), 0);
	kb = 2;
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SET_MAXMEM, &kb, NULL, NULL), -EINVAL);
	kb = (1ULL << 30) + 4; /* past 1 TiB: nonsense */
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SET_MAXMEM, &kb, NULL, NULL), -EINVAL);
	kb = (uint64_t)DOMAIN_MAX_MEM_MB * 1024 + 1024; /* an HVM domain's libxl ceiling */
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SET_MAXMEM, &kb, NULL, NULL), 0);
	kb = 8192; /* below what it holds: allowed, as in Xen */
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SET_MAXMEM, &kb, NULL, NULL), 0);
	CU_ASSERT_EQUAL(tcx_dom.max_pages, 2048);
	memset(&info, 0, sizeof(info));
	ctl_fill_info(&tcx_dom, &info);
	CU_ASSERT_EQUAL(memcmp(info.handle, uuid, 16), 0);
	CU_ASSERT_EQUAL(info.max_kb, 8192);
	CU_ASSERT_EQUAL(info.cur_kb, 16384);
	CU_ASSERT_EQUAL(info.cpu_time_ns, 0);
}

static void tcx_sched_ranges(void)
{
	struct keelctl_sched s = {0, KEELCTL_SCHED_KEEP}, got;
	uint32_t len = 0;

	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SCHED_SET, &s, NULL, NULL), -EINVAL);
	s.weight = 65536;
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SCHED_SET, &s, NULL, NULL), -EINVAL);
	s = (struct keelctl_sched){KEELCTL_SCHED_KEEP, 100 * DOMAIN_MAX_VCPUS + 1};
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SCHED_SET, &s, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SCHED_GET, NULL, &got, &len), 0);
	CU_ASSERT_EQUAL(len, sizeof(got));
	CU_ASSERT_EQUAL(got.weight, 256); /* refused sets changed nothing */
	CU_ASSERT_EQUAL(got.cap, 0);
	s = (struct keelctl_sched){256, 0}; /* the defaults: nothing to enforce */
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_SCHED_SET, &s, NULL, NULL), 0);
}

static void tcx_vcpus_and_version(void)
{
	struct keelctl_vcpuinfo vi[DOMAIN_MAX_VCPUS];
	struct keelctl_version v;
	uint32_t len = 0;

	tcx_dom.vcpus[0].online = 1; /* online but no thread: not reported running */
	CU_ASSERT_EQUAL(tcx_op(KEELCTL_OP_VCPU_INFO, NULL, vi, &len), 0);
	CU_ASSERT_EQUAL(len, 2 * sizeof(vi[0]));
	CU_ASSERT_EQUAL(vi[1].vcpu, 1);
	CU_ASSERT_EQUAL(vi[0].flags, 0);
	CU_ASSERT_EQUAL(vi[0].cpu, -1);
	CU_ASSERT_EQUAL(ctl_op(KEELCTL_OP_VERSION, NULL, NULL, &v, &len, NULL, 0), 0);
	CU_ASSERT_EQUAL(len, sizeof(v));
	CU_ASSERT_EQUAL(v.major, 4);
	CU_ASSERT_STRING_EQUAL(v.caps, "xen-3.0-x86_64");
	CU_ASSERT(v.total_kb > 0);
	/* ops that need a domain, without one; ops that are not ours */
	CU_ASSERT_EQUAL(ctl_op(KEELCTL_OP_VCPU_INFO, NULL, NULL, vi, &len, NULL, 0), -ESRCH);
	CU_ASSERT_EQUAL(ctl_op(KEELCTL_OP_CREATE, &tcx_dom, NULL, vi, &len, NULL, 0), -EOPNOTSUPP);
	CU_ASSERT_EQUAL(ctl_op(KEELCTL_OP_SAVE_STATE, &tcx_dom, NULL, vi, &len, NULL, 0), -EBADF);
}

/* Xen's SCHEDOP_remote_shutdown as keeld does it, on domains of their own. */
static void tcx_remote_shutdown(void)
{
	struct domain *d;
	uint8_t out[64];
	uint32_t len = 0, cancel = 1;
	int err, fd = memfd_create("tcx-save", MFD_CLOEXEC);

	CU_ASSERT_FATAL(fd >= 0);
	d = domain_new(&pv_kind, "suspended-by-dom0", 4096, 1, DOMAIN_NO_KVM, &err);
	CU_ASSERT_FATAL(d != NULL);
	d->started = 1;
	d->state = DOM_RUNNING;
	domain_remote_shutdown(d, SHUTDOWN_suspend);
	CU_ASSERT_EQUAL(d->state, DOM_SHUTDOWN);
	CU_ASSERT_EQUAL(d->shutdown_reason, SHUTDOWN_suspend);
	CU_ASSERT_EQUAL(d->suspend_vcpu, -1);
	/* the guest never suspended itself: nothing to save or resume */
	CU_ASSERT_EQUAL(ctl_op(KEELCTL_OP_SAVE_STATE, d, NULL, out, &len, &fd, 1), -EINVAL);
	CU_ASSERT_EQUAL(ctl_op(KEELCTL_OP_RESUME, d, &cancel, out, &len, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_END), 0);
	/* a later reason does not replace the first */
	domain_remote_shutdown(d, SHUTDOWN_poweroff);
	CU_ASSERT_EQUAL(d->shutdown_reason, SHUTDOWN_suspend);
	domain_free(d);

	d = domain_new(&pv_kind, "crashed-by-dom0", 4096, 1, DOMAIN_NO_KVM, &err);
	CU_ASSERT_FATAL(d != NULL);
	d->state = DOM_RUNNING;
	domain_remote_shutdown(d, SHUTDOWN_crash);
	CU_ASSERT_EQUAL(d->state, DOM_CRASHED);
	CU_ASSERT_STRING_EQUAL(d->crash_reason, "dom0 requested SHUTDOWN_crash");
	domain_free(d);
	close(fd);
}

UNIT_SUITE(keeld_ctl_xl, tcx_init, tcx_cleanup, UNIT_TEST(tcx_rename),
	   UNIT_TEST(tcx_handle_and_maxmem), UNIT_TEST(tcx_sched_ranges),
	   UNIT_TEST(tcx_vcpus_and_version), UNIT_TEST(tcx_remote_shutdown));
