/*
 * Xen 4.17's 92 xl commands, in its table's order, and what Keel's xl does
 * with each: works, partly (the note says how), or refused (the note says
 * why; the command is not in xl_cmd_table, so `xl help` does not list it and
 * running it names the reason).  README.md's command table is checked
 * against this one and against xl_cmd_table by tests/unit/test_xl_tables.c
 * and tests/integration/xl-golden.sh.
 */
#include <string.h>

#include "xl_xencmds.h"

const struct xl_xen_cmd xl_xen417_cmds[] = {
	{"create", XL_XEN_PARTLY, "keys as the key table says"},
	{"config-update", XL_XEN_WORKS, ""},
	{"list", XL_XEN_WORKS, ""},
	{"destroy", XL_XEN_WORKS, ""},
	{"shutdown", XL_XEN_PARTLY, "-F has no ACPI event to fall back to"},
	{"reboot", XL_XEN_PARTLY, "-F has no ACPI event to fall back to"},
	{"pci-attach", XL_XEN_REFUSED, "no PCI passthrough"},
	{"pci-detach", XL_XEN_REFUSED, "no PCI passthrough"},
	{"pci-list", XL_XEN_REFUSED, "no PCI passthrough"},
	{"pci-assignable-add", XL_XEN_REFUSED, "no PCI passthrough"},
	{"pci-assignable-remove", XL_XEN_REFUSED, "no PCI passthrough"},
	{"pci-assignable-list", XL_XEN_REFUSED, "no PCI passthrough"},
	{"pause", XL_XEN_WORKS, ""},
	{"unpause", XL_XEN_WORKS, ""},
	{"console", XL_XEN_PARTLY, "input needs keel-consoled"},
	{"vncviewer", XL_XEN_WORKS, "HVM domains (QEMU's VNC server)"},
	{"save", XL_XEN_PARTLY, "Keel's own image format"},
	{"migrate", XL_XEN_PARTLY, "Keel's own stream; PV only"},
	{"restore", XL_XEN_PARTLY, "Keel's own image format"},
	{"migrate-receive", XL_XEN_PARTLY, "Keel's own stream; PV only"},
	{"dump-core", XL_XEN_WORKS, ""},
	{"cd-insert", XL_XEN_PARTLY, "raw images; no vbd store nodes to update for HVM disks"},
	{"cd-eject", XL_XEN_PARTLY, "no vbd store nodes to update for HVM disks"},
	{"mem-max", XL_XEN_PARTLY, "a ceiling: a guest grows no further than its maxmem= space"},
	{"mem-set", XL_XEN_PARTLY, "PV: up to maxmem= (populate_physmap); HVM: up to memory="},
	{"button-press", XL_XEN_WORKS, "as trigger: a PV guest has no ACPI buttons"},
	{"vcpu-list", XL_XEN_WORKS, ""},
	{"vcpu-pin", XL_XEN_PARTLY, "not dom0's vCPUs"},
	{"vcpu-set", XL_XEN_WORKS, ""},
	{"vm-list", XL_XEN_WORKS, ""},
	{"info", XL_XEN_WORKS, ""},
	{"sharing", XL_XEN_REFUSED, "no memory sharing"},
	{"sched-credit", XL_XEN_PARTLY, "weight and cap; pool parameters are not Keel's to set"},
	{"sched-credit2", XL_XEN_PARTLY,
	 "Keel's weight and cap; the pool is credit, as xl info says"},
	{"sched-rtds", XL_XEN_REFUSED, "no RTDS scheduler"},
	{"domid", XL_XEN_WORKS, ""},
	{"domname", XL_XEN_WORKS, ""},
	{"rename", XL_XEN_WORKS, ""},
	{"trigger", XL_XEN_WORKS, "as Xen's x86: reset and init fail everywhere"},
	{"sysrq", XL_XEN_WORKS, ""},
	{"debug-keys", XL_XEN_PARTLY, "keeld's own reports (h lists them)"},
	{"set-parameters", XL_XEN_REFUSED, "keeld has no runtime parameters"},
	{"dmesg", XL_XEN_WORKS, ""},
	{"top", XL_XEN_PARTLY, "xentop's batch columns"},
	{"network-attach", XL_XEN_PARTLY,
	 "the bare default vif-bridge is netback's own job; other scripts run"},
	{"network-list", XL_XEN_WORKS, ""},
	{"network-detach", XL_XEN_WORKS, ""},
	{"channel-list", XL_XEN_REFUSED, "no PV channels"},
	{"block-attach", XL_XEN_PARTLY, "raw images and block devices"},
	{"block-list", XL_XEN_WORKS, ""},
	{"block-detach", XL_XEN_WORKS, ""},
	{"vtpm-attach", XL_XEN_REFUSED, "no vTPM backend"},
	{"vtpm-list", XL_XEN_REFUSED, "no vTPM backend"},
	{"vtpm-detach", XL_XEN_REFUSED, "no vTPM backend"},
	{"vkb-attach", XL_XEN_REFUSED, "no PV keyboard backend"},
	{"vkb-list", XL_XEN_REFUSED, "no PV keyboard backend"},
	{"vkb-detach", XL_XEN_REFUSED, "no PV keyboard backend"},
	{"vdispl-attach", XL_XEN_REFUSED, "no PV display backend"},
	{"vdispl-list", XL_XEN_REFUSED, "no PV display backend"},
	{"vdispl-detach", XL_XEN_REFUSED, "no PV display backend"},
	{"vsnd-attach", XL_XEN_REFUSED, "no PV sound backend"},
	{"vsnd-list", XL_XEN_REFUSED, "no PV sound backend"},
	{"vsnd-detach", XL_XEN_REFUSED, "no PV sound backend"},
	{"uptime", XL_XEN_WORKS, ""},
	{"claims", XL_XEN_WORKS, "Keel makes no claims: 0 for every domain"},
	{"cpupool-create", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"cpupool-list", XL_XEN_WORKS, "one pool, Pool-0, with every host CPU"},
	{"cpupool-destroy", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"cpupool-rename", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"cpupool-cpu-add", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"cpupool-cpu-remove", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"cpupool-migrate", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"cpupool-numa-split", XL_XEN_REFUSED, "one fixed pool, Pool-0"},
	{"getenforce", XL_XEN_WORKS, "as Xen built without XSM: Flask XSM disabled"},
	{"setenforce", XL_XEN_WORKS, "as Xen built without XSM: Flask XSM disabled"},
	{"loadpolicy", XL_XEN_WORKS, "as Xen built without XSM: Flask XSM disabled"},
	{"remus", XL_XEN_REFUSED, "no checkpointed replication"},
	{"devd", XL_XEN_PARTLY,
	 "for Linux's kernel backends: vbd (block device, or image through a loop device) and vif (bridge); no hotplug scripts"},
	{"psr-hwinfo", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-cmt-attach", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-cmt-detach", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-cmt-show", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-cat-set", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-cat-show", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-mba-set", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"psr-mba-show", XL_XEN_REFUSED, "no Intel RDT (cache and memory bandwidth allocation)"},
	{"usbctrl-attach", XL_XEN_REFUSED, "no USB emulation or passthrough"},
	{"usbctrl-detach", XL_XEN_REFUSED, "no USB emulation or passthrough"},
	{"usbdev-attach", XL_XEN_REFUSED, "no USB emulation or passthrough"},
	{"usbdev-detach", XL_XEN_REFUSED, "no USB emulation or passthrough"},
	{"usb-list", XL_XEN_REFUSED, "no USB emulation or passthrough"},
	{"qemu-monitor-command", XL_XEN_REFUSED, "no QEMU device model for HVM guests"},
};

const int xl_xen417_cmd_count = sizeof(xl_xen417_cmds) / sizeof(xl_xen417_cmds[0]);

const struct xl_xen_cmd *xl_xen417_cmd(const char *name)
{
	for (int i = 0; i < xl_xen417_cmd_count; i++)
		if (!strcmp(xl_xen417_cmds[i].name, name))
			return &xl_xen417_cmds[i];
	return NULL;
}
