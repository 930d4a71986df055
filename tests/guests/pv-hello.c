/* pv-hello: the smallest PV guest: boot, print, check start_info, power off. */
#include "../../frontends/runtime/keel_guest.h"

void test_main(void)
{
	struct start_info *si = rt_start_info;

	rt_printf("Hello from a Keel PV guest\n");
	rt_check(si->magic[0] == 'x' && si->magic[4] == '3', "start_info magic", si->magic[0]);
	rt_check(si->nr_pages > 0, "start_info nr_pages", si->nr_pages);
	rt_check(hypercall_page_call(__HYPERVISOR_xen_version, XENVER_version, 0, 0) ==
			 HYPERCALL(__HYPERVISOR_xen_version, XENVER_version, 0, 0),
		 "hypercall page and syscall agree", 0);
}
