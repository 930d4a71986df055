/*
 * The command table: Xen's xl subcommand names, synopses and option letters,
 * in xl's order, with Keel's own descriptions; and two Keel additions named
 * after virsh's, domxml-from-native and domxml-to-native, for libvirt XML.
 */
#include "xl.h"

const struct xl_cmd xl_cmd_table[] = {
	{"create", main_create, XL_CMD_DRYRUN | XL_CMD_MODIFIES,
	 "Create a domain from an xl.cfg (or libvirt XML) configuration file",
	 "<ConfigFile> [options] [vars]",
	 "-c                      Attach to the console once the domain exists.\n"
	 "-d                      Print the configuration to stderr while creating.\n"
	 "-e                      Do not stay in the background watching the domain.\n"
	 "-F                      Stay in the foreground until the domain dies.\n"
	 "-f FILE, --defconfig=FILE\n"
	 "                        Use FILE as the configuration file.\n"
	 "-h                      Print this help.\n"
	 "-n, --dryrun            Only parse: print the resulting configuration as JSON.\n"
	 "-p                      Leave the new domain paused.\n"
	 "-q, --quiet             Do not print \"Parsing config from ...\".\n"
	 "-V, --vncviewer         Connect to the VNC display after the domain is created.\n"
	 "-A, --vncviewer-autopass\n"
	 "                        Pass VNC password to viewer via stdin.\n"
	 "--ignore-global-affinity-masks  (accepted; no effect)"},
	{"config-update", main_config_update, XL_CMD_DRYRUN | XL_CMD_MODIFIES,
	 "Replace the configuration a running domain is rebuilt from (on reboot).\n"
	 "WARNING: xl now has better capability to manage domain configuration, "
	 "avoid using this command when possible",
	 "<Domain> <ConfigFile> [options] [vars]",
	 "-h                      Print this help.\n"
	 "-f FILE, --defconfig=FILE\n"
	 "                        Use the given configuration file.\n"
	 "-d                      Print the new configuration as JSON."},
	{"list", main_list, 0, "List all domains, or the ones named", "[options] [Domain]\n",
	 "-l, --long              Print each domain's full configuration as JSON\n"
	 "-v, --verbose           Add UUIDs, reasons and security labels\n"
	 "-Z, --context           Add the security label\n"
	 "-c, --cpupool           Add the CPU pool\n"
	 "-n, --numa              Add NUMA node affinity"},
	{"destroy", main_destroy, XL_CMD_MODIFIES, "Stop a domain at once, without asking it",
	 "[options] <Domain>\n", "-f                      Allow destroying domain 0."},
	{"shutdown", main_shutdown, XL_CMD_MODIFIES, "Ask a domain to shut down",
	 "[options] <-a|Domain>",
	 "-a, --all               Shut down every guest domain.\n"
	 "-h                      Print this help.\n"
	 "-F                      Fall back to an ACPI power event for HVM guests\n"
	 "                        without PV drivers.\n"
	 "-w, --wait              Wait until the domain(s) have shut down.\n"},
	{"reboot", main_reboot, XL_CMD_MODIFIES, "Ask a domain to reboot", "[options] <-a|Domain>",
	 "-a, --all               Reboot every guest domain.\n"
	 "-h                      Print this help.\n"
	 "-F                      Fall back to an ACPI reset event for HVM guests\n"
	 "                        without PV drivers.\n"
	 "-w, --wait              Wait until the domain(s) have rebooted.\n"},
	{"pause", main_pause, XL_CMD_MODIFIES, "Stop running a domain's vCPUs", "<Domain>", NULL},
	{"unpause", main_unpause, XL_CMD_MODIFIES, "Let a paused domain run again", "<Domain>",
	 NULL},
	{"console", main_console, 0, "Attach to a domain's console (Ctrl-] detaches)",
	 "[options] <Domain>\n"
	 "-t <type>       console type, pv , serial or vuart\n"
	 "-n <number>     console number\n"
	 "-e <escape>     escape character",
	 NULL},
	{"vncviewer", main_vncviewer, 0,
	 "Attach to a domain's VNC server (exec $VNCVIEWER or vncviewer)", "[options] <Domain>\n",
	 "--autopass               Pass the VNC password to the viewer via stdin and\n"
	 "                         -autopass"},
	{"save", main_save, XL_CMD_MODIFIES, "Save a domain's state to a file to restore later",
	 "[options] <Domain> <CheckpointFile> [<ConfigFile>]",
	 "-h  Print this help.\n"
	 "-c  Keep the domain running after saving it.\n"
	 "-p  Keep the domain paused after saving it.\n"
	 "-D  Store the domain id in the configuration."},
	{"restore", main_restore, XL_CMD_MODIFIES, "Restore a domain from a saved state file",
	 "[options] [<ConfigFile>] <CheckpointFile>",
	 "-h                       Print this help.\n"
	 "-p                       Leave the domain paused after restoring it.\n"
	 "-e                       Do not stay in the background watching the domain.\n"
	 "-d                       Print debug messages.\n"
	 "-V, --vncviewer          (accepted; restored domains are PV: no VNC display)\n"
	 "-A, --vncviewer-autopass (accepted; restored domains are PV: no VNC display)"},
	{"migrate", main_migrate, XL_CMD_MODIFIES, "Migrate a domain to another host",
	 "[options] <Domain> <host>",
	 "-h              Print this help.\n"
	 "-C <config>     Send <config> instead of config file from creation.\n"
	 "-s <sshcommand> Use <sshcommand> instead of ssh.  String will be passed\n"
	 "                to sh. If empty, run <host> instead of ssh <host> xl\n"
	 "                migrate-receive [-d -e]\n"
	 "-e              Do not wait in the background (on <host>) for the death\n"
	 "                of the domain.\n"
	 "--debug         Print huge (!) amount of debug during the migration process."},
	{"devd", main_devd, 0, "Daemon that listens for devices and launches backends", "[options]",
	 "-F                      Run in the foreground.\n"
	 "-p, --pidfile [FILE]    Write PID to pidfile when daemonizing."},
	{"migrate-receive", main_migrate_receive, XL_CMD_MODIFIES,
	 "Receive a domain being migrated (run by xl migrate on the target)", "[options]",
	 "-h  Print this help.\n"
	 "-F  Run the domain monitor in the foreground.\n"
	 "-e  Do not wait in the background for the death of the domain.\n"
	 "-d  Print debug messages."},
	{"cd-insert", main_cd_insert, XL_CMD_MODIFIES, "Insert a cdrom into a guest's cd drive",
	 "<Domain> <VirtualDevice> <path>", NULL},
	{"cd-eject", main_cd_eject, XL_CMD_MODIFIES, "Eject a cdrom from a guest's cd drive",
	 "<Domain> <VirtualDevice>", NULL},
	{"mem-max", main_memmax, XL_CMD_MODIFIES, "Set the most memory a domain may have",
	 "<Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>", NULL},
	{"mem-set", main_memset, XL_CMD_MODIFIES, "Set a domain's memory target (balloon)",
	 "<Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>", NULL},
	{"button-press", main_button_press, XL_CMD_MODIFIES,
	 "Indicate an ACPI button press to the domain (deprecated: use trigger)",
	 "<Domain> <Button>", "<Button> may be 'power' or 'sleep'."},
	{"vcpu-list", main_vcpulist, 0, "List the vCPUs of all domains, or the ones named",
	 "[Domain, ...]", NULL},
	{"vcpu-set", main_vcpuset, XL_CMD_MODIFIES, "Set how many of a domain's vCPUs are online",
	 "[option] <Domain> <vCPUs>", "-i, --ignore-host  Do not cap the count at the host's CPUs"},
	{"vm-list", main_vm_list, 0, "List the guest domains (not dom0) with their UUIDs", "",
	 NULL},
	{"info", main_info, 0, "Print facts about the host and the hypervisor", "[-n] [FIELD]",
	 "-n, --numa         List host NUMA topology information"},
	{"sched-credit", main_sched_credit, XL_CMD_MODIFIES,
	 "Get or set credit scheduler parameters (weight, cap)",
	 "[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]] [-s [-t TSLICE] [-r RATELIMIT]] [-p CPUPOOL]",
	 "-d DOMAIN, --domain=DOMAIN        Domain to modify\n"
	 "-w WEIGHT, --weight=WEIGHT        Weight (1-65535)\n"
	 "-c CAP, --cap=CAP                 Cap (% of one CPU, 0 = none)\n"
	 "-s         --schedparam           Query / modify scheduler parameters\n"
	 "-t TSLICE, --tslice_ms=TSLICE     Set the timeslice, in milliseconds\n"
	 "-r RLIMIT, --ratelimit_us=RLIMIT  Set the scheduling rate limit, in microseconds\n"
	 "-m DLY, --migration_delay_us=DLY  Set the migration delay, in microseconds\n"
	 "-p CPUPOOL, --cpupool=CPUPOOL     Restrict output to CPUPOOL"},
	{"sched-credit2", main_sched_credit2, XL_CMD_MODIFIES,
	 "Get or set credit2 scheduler parameters (the same weight and cap)",
	 "[-d <Domain> [-w[=WEIGHT]]] [-p CPUPOOL]",
	 "-d DOMAIN, --domain=DOMAIN     Domain to modify\n"
	 "-w WEIGHT, --weight=WEIGHT     Weight (1-65535)\n"
	 "-c CAP,    --cap=CAP           Cap (% of one CPU, 0 = none)\n"
	 "-s         --schedparam        Query / modify scheduler parameters\n"
	 "-r RLIMIT, --ratelimit_us=RLIMIT Set the scheduling rate limit, in microseconds\n"
	 "-p CPUPOOL, --cpupool=CPUPOOL  Restrict output to CPUPOOL"},
	{"domid", main_domid, 0, "Print the id of the domain with this name", "<DomainName>", NULL},
	{"domname", main_domname, 0, "Print the name of the domain with this id", "<DomainId>",
	 NULL},
	{"rename", main_rename, XL_CMD_MODIFIES, "Give a domain a new name",
	 "<Domain> <NewDomainName>", NULL},
	{"vcpu-pin", main_vcpupin, XL_CMD_MODIFIES, "Set which host CPUs a vCPU may run on",
	 "[option] <Domain> <VCPU|all> <Hard affinity|-|all> <Soft affinity|-|all>",
	 "-f, --force        (accepted; Keel does not pin dom0's vCPUs)"},
	{"trigger", main_trigger, XL_CMD_MODIFIES, "Send a trigger to a domain",
	 "<Domain> <nmi|reset|init|power|sleep|s3resume> [<VCPU>]", NULL},
	{"sysrq", main_sysrq, XL_CMD_MODIFIES, "Send a sysrq to a domain", "<Domain> <letter>",
	 NULL},
	{"dump-core", main_dump_core, 0, "Core dump a domain", "<Domain> <filename>", NULL},
	{"debug-keys", main_debug_keys, 0, "Send debug keys to the hypervisor (reports: xl dmesg)",
	 "<Keys>",
	 "  e                         event channels of every domain\n"
	 "  q                         every domain's vCPUs\n"
	 "  h                         the keys there are"},
	{"dmesg", main_dmesg, 0, "Print (and optionally clear) the hypervisor's log", "[-c]",
	 "  -c                        Clear the log after printing it"},
	{"top", main_top, 0, "Watch the host's domains live (like xentop)",
	 "[-b] [-i ITERATIONS] [-d DELAY]",
	 "  -b, --batch               Plain frames one after another (no screen control)\n"
	 "  -i, --iterations=N        Stop after N frames\n"
	 "  -d, --delay=SECONDS       Seconds between frames (default 3)"},
	{"uptime", main_uptime, 0, "Print how long domains have been running", "[-s] [Domain]",
	 NULL},
	{"claims", main_claims, 0,
	 "List outstanding claim information about all domains (Keel makes none)", "", NULL},
	{"cpupool-list", main_cpupoollist, 0, "List CPU pools on host (Keel has one, Pool-0)",
	 "[-c|--cpus] [<CPU Pool>]",
	 "-c, --cpus                     Output list of CPUs used by a pool"},
	{"getenforce", main_getenforce, 0,
	 "Returns the current enforcing mode of the Flask Xen security module (none on Keel)", "",
	 NULL},
	{"setenforce", main_setenforce, XL_CMD_MODIFIES,
	 "Sets the current enforcing mode of the Flask Xen security module (none on Keel)",
	 "<1|0|Enforcing|Permissive>", NULL},
	{"loadpolicy", main_loadpolicy, XL_CMD_MODIFIES,
	 "Loads a new policy into the Flask Xen security module (none on Keel)", "<policy file>",
	 NULL},
	{"block-attach", main_blockattach, XL_CMD_MODIFIES,
	 "Give a running domain a new virtual disk", "<Domain> <disk-spec-component(s)>...", NULL},
	{"block-list", main_blocklist, 0, "List the virtual disks of domains", "<Domain(s)>", NULL},
	{"block-detach", main_blockdetach, XL_CMD_MODIFIES,
	 "Take a virtual disk away from a domain", "[options] <Domain> <DevId>",
	 "-f, --force             Remove the device without waiting for the guest"},
	{"network-attach", main_networkattach, XL_CMD_MODIFIES,
	 "Give a running domain a new virtual network interface",
	 "<Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [script=<script>] "
	 "[backend=<BackDomain>] [vifname=<name>] [rate=<rate>] [model=<model>] [mtu=<mtu>]",
	 NULL},
	{"network-list", main_networklist, 0, "List the virtual network interfaces of domains",
	 "<Domain(s)>", NULL},
	{"network-detach", main_networkdetach, XL_CMD_MODIFIES,
	 "Take a virtual network interface away from a domain", "[options] <Domain> <DevId|mac>",
	 "-f, --force             Remove the device without waiting for the guest"},
	{"domxml-from-native", main_domxml_from_native, 0,
	 "Convert an xl.cfg file to libvirt domain XML (as virsh)", "xen-xl <ConfigFile>", NULL},
	{"domxml-to-native", main_domxml_to_native, 0,
	 "Convert libvirt domain XML to an xl.cfg file (as virsh)", "xen-xl <XMLFile>", NULL},
};

const int xl_cmd_count = sizeof(xl_cmd_table) / sizeof(xl_cmd_table[0]);
