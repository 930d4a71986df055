/*
 * pv-grant: grant tables, version 1.  query_size/setup_table/get_version,
 * the table mapped into the guest, then a page granted to dom0 with a
 * string in it: dom0 (keelctl grant-echo, through keeld) maps the grant,
 * answers in the page and notifies on the store port.  Also the refusals:
 * too many frames, version 3 (versions 1 and 2 exist; gnt-map and gnt-copy
 * run version 2), mapping a table frame that was not set up.
 */
#include "../../frontends/runtime/keel_guest.h"
#include "abi/event_channel.h"
#include "abi/grant_table.h"

#define VIRT_BASE 0xffffffff80000000UL

static char table_va[4096] __attribute__((aligned(4096)));
static char data[4096] __attribute__((aligned(4096)));

void test_main(void)
{
	struct gnttab_query_size q = {DOMID_SELF, 0, 0, 0};
	struct gnttab_setup_table st;
	struct gnttab_set_version sv = {3};
	struct gnttab_get_version gv = {DOMID_SELF, 0, 0};
	struct grant_entry_v1 *gt = (struct grant_entry_v1 *)table_va;
	uint32_t port = rt_start_info->store_evtchn;
	struct evtchn_send sd = {port};
	struct sched_poll sp = {(uint64_t)&port, 1, 0, 0};
	const char *msg = "granted hello", *want = "GRANTED HELLO";
	uint64_t frames[2] = {0, 0};
	long r;
	int i, ok = 1;

	rt_check(rt_events_init() == 0, "events", 0);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, &q, 1);
	rt_check(r == 0 && q.status == 0 && q.max_nr_frames >= 1, "query_size", q.max_nr_frames);
	st = (struct gnttab_setup_table){DOMID_SELF, q.max_nr_frames + 1, 0, (uint64_t)frames};
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1);
	rt_check(r == 0 && st.status == GNTST_general_error, "REFUSED: more frames than the max",
		 st.status);
	st = (struct gnttab_setup_table){DOMID_SELF, 1, 0, (uint64_t)frames};
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1);
	rt_check(r == 0 && st.status == 0 && frames[0] != 0, "setup_table: one frame", frames[0]);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &sv, 1);
	rt_check(r == -XEN_EINVAL && sv.version == 1, "REFUSED: grant table version 3", r);
	r = HYPERCALL(__HYPERVISOR_grant_table_op, GNTTABOP_get_version, &gv, 1);
	rt_check(r == 0 && gv.version == 1, "get_version: 1", gv.version);
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, table_va, ((frames[0] + 1) << 12) | 0x67, 2);
	rt_check(r == -XEN_EPERM, "REFUSED: mapping a table frame not set up", r);
	r = HYPERCALL(__HYPERVISOR_update_va_mapping, table_va, (frames[0] << 12) | 0x67, 2);
	rt_check(r == 0, "grant table mapped", r);

	for (i = 0; msg[i]; i++)
		data[i] = msg[i];
	data[i] = 0;
	data[2048] = 0;
	gt[8].domid = 0;
	gt[8].frame = ((uint64_t)data - VIRT_BASE) >> 12;
	__atomic_store_n(&gt[8].flags, GTF_permit_access, __ATOMIC_RELEASE);
	for (i = 0; i < 300 && !data[2048]; i++) {
		rt_evtchn_op(EVTCHNOP_send, &sd);
		sp.timeout = rt_now_ns() + 100000000ULL;
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	}
	for (i = 0; want[i]; i++)
		ok &= data[2048 + i] == want[i];
	rt_check(ok, "dom0 answered in the granted page", data[2048]);
	for (i = 0; i < 100 && (gt[8].flags & (GTF_reading | GTF_writing)); i++)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_poll, &sp, 0);
	rt_check(!(gt[8].flags & (GTF_reading | GTF_writing)), "grant no longer in use",
		 gt[8].flags);
	__atomic_store_n(&gt[8].flags, 0, __ATOMIC_RELEASE); /* end foreign access */
}
