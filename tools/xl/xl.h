/*
 * xl: Keel's Xen-compatible command line.  Commands live in a table
 * (xl_cmdtable.c) of {name, handler, flags, help, usage, options}; each
 * command family has its own file; everything that needs the hypervisor goes
 * through the toolstack backend interface (xl_backend.h), so xl itself never
 * speaks keeld's protocol.
 */
#ifndef KEEL_XL_H
#define KEEL_XL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "xlcfg.h"

enum {
	XL_CMD_DRYRUN = 1 << 0,	  /* honours the global -N */
	XL_CMD_MODIFIES = 1 << 1, /* changes state: -f applies */
};

struct xl_cmd {
	const char *name;
	int (*handler)(int argc, char **argv);
	unsigned int flags;
	const char *help;    /* one line, no final full stop */
	const char *usage;   /* synopsis after the command name */
	const char *options; /* option lines, or NULL */
};

extern const struct xl_cmd xl_cmd_table[];
extern const int xl_cmd_count;

/* Exact name, or an unambiguous prefix of one (as xl). */
const struct xl_cmd *xl_cmd_lookup(const char *name);
void xl_help(const char *cmd);

/* Global options (xl [-vfNtT]). */
extern int xl_verbose;
extern bool xl_dryrun_only, xl_force, xl_progress_use_cr, xl_timestamps;

/*
 * xl's per-command option loop: "h" and --help are added; an unknown option
 * prints "option `x' not supported." and exits 2; fewer than @reqargs
 * positional arguments prints the usage and exits 2.  Returns the option
 * character, or -1 when done.
 */
int xl_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
	      const char *cmd, int reqargs);

#define XL_FOREACH_OPT(opt, opts, longopts, cmd, reqargs)                                     \
	while (((opt) = xl_getopt(argc, argv, "h" opts, (longopts), (cmd), (reqargs))) != -1) \
		switch (opt)

#define XL_COMMON_LONG_OPTS  \
	{"help", 0, 0, 'h'}, \
	{                    \
		0, 0, 0, 0   \
	}

/* Parse "512", "512m", "2g", "1024k", "4t", "1048576b" into KiB; -EINVAL. */
int xl_parse_mem_kb(const char *s, uint64_t *kb);

/*
 * Load a domain configuration: an xl.cfg file (or libvirt XML when the file
 * ends in .xml or starts with '<'), with `key=value` overrides appended as xl
 * does.  @path "/dev/null" means overrides only.  Messages go to stderr.
 * Returns 0, or xl's exit code for the failure (1 parse error, 3 read error).
 */
int xl_load_config(const char *path, const char *extra, struct xlcfg_domain *dom, bool quiet);
/*
 * The arguments after create's and config-update's options: `key=value'
 * lines appended to *@extra, the first bare word as *@file (unless set).
 * 0; 1 out of memory; 2 a second file (@help's usage printed).  On failure
 * *@extra is freed.
 */
int xl_config_args(int argc, char **argv, const char **file, char **extra, const char *help);

struct xl_backend;
/*
 * After `xl create`: start the domain monitor (xl_monitor.c) as a daemon,
 * or with @foreground run it here until the domain's end (-F).  Returns 0
 * or -errno in the caller; nothing when the backend cannot watch domains.
 */
int xl_monitor_start(struct xl_backend *be, struct xlcfg_domain *dom, uint32_t domid,
		     bool foreground);

/* Command handlers. */
int main_create(int argc, char **argv);
int main_devd(int argc, char **argv);
int main_list(int argc, char **argv);
int main_destroy(int argc, char **argv);
int main_shutdown(int argc, char **argv);
int main_reboot(int argc, char **argv);
int main_pause(int argc, char **argv);
int main_unpause(int argc, char **argv);
int main_console(int argc, char **argv);
int main_save(int argc, char **argv);
int main_restore(int argc, char **argv);
int main_migrate(int argc, char **argv);
int main_migrate_receive(int argc, char **argv);
int main_memmax(int argc, char **argv);
int main_memset(int argc, char **argv);
int main_vcpulist(int argc, char **argv);
int main_vcpuset(int argc, char **argv);
int main_info(int argc, char **argv);
int main_sched_credit(int argc, char **argv);
int main_domid(int argc, char **argv);
int main_domname(int argc, char **argv);
int main_rename(int argc, char **argv);
int main_dmesg(int argc, char **argv);
int main_debug_keys(int argc, char **argv);
int main_sysrq(int argc, char **argv);
int main_dump_core(int argc, char **argv);
int main_vcpupin(int argc, char **argv);
int main_trigger(int argc, char **argv);
int main_cd_insert(int argc, char **argv);
int main_vncviewer(int argc, char **argv);
int main_cd_eject(int argc, char **argv);
int main_button_press(int argc, char **argv);
int main_vm_list(int argc, char **argv);
int main_config_update(int argc, char **argv);
int main_sched_credit2(int argc, char **argv);
int main_claims(int argc, char **argv);
int main_cpupoollist(int argc, char **argv);
int main_getenforce(int argc, char **argv);
int main_setenforce(int argc, char **argv);
int main_loadpolicy(int argc, char **argv);

/* Host CPU sets (xl_cpumap.c), XL_CPUMAP_MAX CPUs in XL_CPUMAP_WORDS words. */
#define XL_CPUMAP_MAX	256
#define XL_CPUMAP_WORDS (XL_CPUMAP_MAX / 64)
int xl_host_cpus(void);
/* "all", "N", "N-M", "^N"...: 0, -EINVAL, or -EOPNOTSUPP (node sets). */
int xl_cpumap_parse(const char *s, uint64_t *map, int ncpus);
/* Ranges, or "all" when every host CPU is in. */
void xl_cpumap_format(const uint64_t *map, int ncpus, char *buf, size_t len);

/* A whole file (NUL-terminated, at most the parser's limit); NULL + errno. */
char *xl_read_file(const char *path, size_t *len);
/* xl.conf (xl_globalcfg.c): read once; 0, or -EINVAL for a file that does not parse. */
int xl_global_config_load(void);
/* xl.conf's vif.default.* into a vif's unset bridge/script/gatewaydev. */
int xl_global_vif_defaults(struct xlcfg_vif *vif);
int main_top(int argc, char **argv);
int main_uptime(int argc, char **argv);
int main_blockattach(int argc, char **argv);
int main_blocklist(int argc, char **argv);
int main_blockdetach(int argc, char **argv);
int main_networkattach(int argc, char **argv);
int main_networklist(int argc, char **argv);
int main_networkdetach(int argc, char **argv);
int main_domxml_from_native(int argc, char **argv);
int main_domxml_to_native(int argc, char **argv);

#endif
