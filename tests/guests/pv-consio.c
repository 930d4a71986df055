/*
 * pv-consio: where a domU's output goes, as on Xen.  One line through
 * HYPERVISOR_console_io(CONSOLEIO_write), which Xen puts in the hypervisor's
 * log as "(dN) ..." (`xl dmesg`) and not on the guest's console; one through
 * the console ring (the runtime's printf), which is the console.  Also: a
 * console_io line written in two calls, with bytes Xen drops (control
 * characters), is one log line; reading the hypervisor console and unknown
 * commands are refused to a domU (-EPERM).  console-io.sh checks where each
 * line landed.
 */
#include "../../frontends/runtime/keel_guest.h"

static long consio_write(const char *s)
{
	return HYPERCALL(__HYPERVISOR_console_io, CONSOLEIO_write, rt_strlen(s), s);
}

void test_main(void)
{
	char buf[16];
	long r;

	rt_printf("pv-consio: via the ring\n");
	r = consio_write("pv-consio: via console_io\n");
	rt_check(r == 0, "console_io write", r);
	r = consio_write("pv-consio: one\a\x1b line ");
	rt_check(r == 0, "console_io write without a newline", r);
	r = consio_write("in two\twrites\r\n");
	rt_check(r == 0, "console_io write ending the line", r);
	r = HYPERCALL(__HYPERVISOR_console_io, CONSOLEIO_read, sizeof(buf), buf);
	rt_check(r == -XEN_EPERM, "REFUSED: console_io read (a domU's)", r);
	r = HYPERCALL(__HYPERVISOR_console_io, 7, 0, 0);
	rt_check(r == -XEN_EPERM, "REFUSED: console_io unknown command", r);
}
