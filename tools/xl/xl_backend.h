/*
 * The toolstack backend: the one seam between xl and the hypervisor.  xl's
 * commands parse their arguments, load configurations and format output;
 * anything that needs a running hypervisor is a call through these ops.
 *
 * build/bin/xl links the real backend, xl_backend_keel*.c (keeld through
 * dom0/libkeelctl, the store through dom0/libkeelstore), which registers
 * itself from a constructor; build/bin/xl-fixture links a test double
 * instead.  An op left NULL is reported as "not supported by the toolstack
 * backend"; a build with no backend at all gets "none", whose open() fails
 * with a clear message.
 */
#ifndef KEEL_XL_BACKEND_H
#define KEEL_XL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "xl_device.h"
#include "xlcfg.h"

/* One domain, as `xl list` shows it. */
struct xl_domain_info {
	uint32_t domid;
	char name[256];
	uint8_t uuid[16];
	uint64_t current_memkb, max_memkb;
	int vcpus_online, max_vcpus;
	bool running, blocked, paused, shutdown, crashed, dying;
	int shutdown_reason; /* SHUTDOWN_* (0 poweroff .. 5 soft_reset), -1 none */
	uint64_t cpu_time_ns;
	uint64_t start_time_s; /* for uptime */
};

struct xl_vcpu_info {
	uint32_t vcpu;
	int cpu; /* -1 when not running */
	bool online, running, blocked;
	uint64_t cpu_time_ns;
	bool affinity; /* hard/soft known (else shown as all / all) */
	uint64_t hard[4], soft[4];
	bool runnable_known;  /* runnable_ns is keeld's runstate figure */
	uint64_t runnable_ns; /* time spent waiting for a host CPU */
};

/* xl top's per-domain device and guest figures (xentop's NETS..VBD_WSECT). */
struct xl_dom_stats {
	int nets;			     /* vifs */
	uint64_t net_tx_bytes, net_rx_bytes; /* as the domain sees them */
	int vbds;
	bool vbd_stats; /* the VBD_* counters below are known */
	uint64_t vbd_oo, vbd_rd, vbd_wr, vbd_rsect, vbd_wsect;
	/* the guest's own /proc/stat "cpu" line, from its agent (see xl_top.c); "" none */
	char guest_cpu[256];
};

enum xl_shutdown_kind { XL_SHUTDOWN_POWEROFF = 0, XL_SHUTDOWN_REBOOT = 1 };

struct xl_backend_ops {
	const char *name;
	/* Connect; on failure return -errno and set *why to a static message. */
	int (*open)(void **handle, const char **why);
	void (*close)(void *handle);

	int (*create)(void *h, const struct xlcfg_domain *dom, bool paused, uint32_t *domid);
	int (*list)(void *h, struct xl_domain_info **out, int *n);
	/* The configuration a running domain was built from (for `xl list -l`). */
	int (*get_config)(void *h, uint32_t domid, struct xlcfg_domain *out);
	/* Replace it (xl config-update): what the domain is rebuilt from on reboot. */
	int (*set_config)(void *h, uint32_t domid, const struct xlcfg_domain *dom);
	int (*destroy)(void *h, uint32_t domid);
	/*
	 * Ask the guest through its PV control interface (control/shutdown) and
	 * wait for it to acknowledge.  -EOPNOTSUPP: the guest has no PV control
	 * interface (libxl's ERROR_NOPARAVIRT); -ETIMEDOUT: it did not acknowledge.
	 */
	int (*shutdown)(void *h, uint32_t domid, enum xl_shutdown_kind kind);
	int (*pause)(void *h, uint32_t domid);
	int (*unpause)(void *h, uint32_t domid);
	int (*rename)(void *h, uint32_t domid, const char *name);
	int (*set_memory_target)(void *h, uint32_t domid, uint64_t kb);
	int (*set_memory_max)(void *h, uint32_t domid, uint64_t kb);
	int (*set_vcpus)(void *h, uint32_t domid, int online);
	int (*vcpu_list)(void *h, uint32_t domid, struct xl_vcpu_info **out, int *n);
	/* xl top's device counters and the guest agent's report */
	int (*dom_stats)(void *h, uint32_t domid, struct xl_dom_stats *out);
	/* xl vcpu-pin: vcpu -1 = all; a NULL map is left as it is */
	int (*vcpu_pin)(void *h, uint32_t domid, int vcpu, const uint64_t *hard,
			const uint64_t *soft);
	int (*sched_credit_get)(void *h, uint32_t domid, int *weight, int *cap);
	int (*sched_credit_set)(void *h, uint32_t domid, int weight, int cap); /* -1: keep */
	/* Host facts as "field : value" pairs, in xl info's order. */
	int (*host_info)(void *h, char ***keys, char ***values, int *n);
	int (*dmesg)(void *h, bool clear, char **text);
	/* Xen's debug keys: the hypervisor reports to its log. */
	int (*debug_keys)(void *h, const char *keys);
	/* libxl_send_sysrq: the guest's control/sysrq = key */
	int (*sysrq)(void *h, uint32_t domid, char key);
	/* libxl_send_trigger(NMI): an NMI for one vCPU; NULL: none can be sent */
	int (*send_nmi)(void *h, uint32_t domid, uint32_t vcpu);
	/* libxl_send_trigger: nmi, reset, init, power, sleep, s3resume; -errno
	 * as the hypervisor (or QEMU) answered; NULL: the table in xl_misc.c */
	int (*send_trigger)(void *h, uint32_t domid, const char *trigger, uint32_t vcpu);
	/* libxl_cdrom_insert: a medium into an HVM domain's CD-ROM drive
	 * @vdev, or (@target NULL) eject it; prints libxl's errors itself */
	int (*cdrom_insert)(void *h, uint32_t domid, const char *vdev, const char *target);
	/* What libxl_vncviewer_exec reads: the domain's console/vnc-port (then
	 * -ENOENT if absent), vnc-listen and vnc-pass (NULL if absent); the
	 * caller frees them */
	int (*vnc_info)(void *h, uint32_t domid, char **port, char **listen, char **pass);
	/*
	 * Open a stream to a domain's console (type "pv", "serial" or "vuart",
	 * number @num): *fd carries the guest's output to xl and xl's input to
	 * the guest.  xl relays the terminal and handles the escape character.
	 */
	int (*console_open)(void *h, uint32_t domid, const char *type, int num, int *fd);
	int (*save)(void *h, uint32_t domid, const char *file, bool leave_running,
		    bool leave_paused);
	/* xl dump-core: an ELF core file of the domain's memory (Xen's layout) */
	int (*dump_core)(void *h, uint32_t domid, const char *file);
	int (*restore)(void *h, const char *file, const struct xlcfg_domain *override, bool paused,
		       uint32_t *domid);
	/*
	 * Live migration; xl_migrate.c speaks xl's handshake around these.
	 * migrate_send streams the domain's configuration (@override's if
	 * given), a live pre-copy of its RAM and, once it is suspended, the
	 * rest to @fd; on success the domain stays suspended until
	 * migrate_finish destroys it (@destroy) or resumes it.  On failure it
	 * has resumed the guest itself.  migrate_receive makes a paused domain
	 * named NAME@suffix from a stream (*name gets NAME), destroyed again on
	 * any error.
	 */
	int (*migrate_send)(void *h, uint32_t domid, int fd, const struct xlcfg_domain *override,
			    bool debug);
	int (*migrate_finish)(void *h, uint32_t domid, bool destroy);
	int (*migrate_receive)(void *h, int fd, const char *suffix, uint32_t *domid, char *name,
			       size_t namelen);

	/*
	 * For the domain monitor `xl create` leaves behind (xl_monitor.c); a
	 * backend without wait_shutdown gets no monitor, as with `create -e`.
	 * wait_shutdown blocks until the domain has shut down or crashed
	 * (0, *info filled in) or no longer exists (-ESRCH).
	 */
	int (*wait_shutdown)(void *h, uint32_t domid, struct xl_domain_info *info);
	/* Keep a stopped domain aside as NAME+suffix under a new UUID (rename-restart). */
	int (*preserve)(void *h, uint32_t domid, const char *suffix, const uint8_t uuid[16]);
	/* The directory for the monitor's log (log/xl-NAME.log) and pid files (xl/). */
	const char *(*state_dir)(void *h);

	/*
	 * PV devices of a running domain (xl_device.h), as libxl_device_*_add,
	 * _remove and _list.  device_add writes the nodes (filling in a vif's
	 * devid), -EEXIST when the device is there already; device_remove runs
	 * the Closing/Closed handshake with the backend (bounded wait; @force
	 * removes without waiting for the frontend), -ENOENT for no such device.
	 * Both keep the domain's saved configuration in step, so `xl list -l`
	 * shows the devices the domain has now.
	 */
	int (*device_add)(void *h, uint32_t domid, struct xl_dev_spec *dev);
	int (*device_remove)(void *h, uint32_t domid, enum xl_dev_kind kind, uint32_t devid,
			     bool force);
	int (*device_list)(void *h, uint32_t domid, enum xl_dev_kind kind, struct xl_dev_info **out,
			   int *n);
};

void xl_backend_register(const struct xl_backend_ops *ops);

/*
 * Connect to the registered backend.  On failure prints
 * "xl: cannot reach keeld: <why>" and returns NULL; the caller exits 1.
 */
struct xl_backend {
	const struct xl_backend_ops *ops;
	void *handle;
};
struct xl_backend *xl_backend_connect(void);
void xl_backend_disconnect(struct xl_backend *be);

/* Report a failed backend call as "xl: <what>: <strerror>". */
int xl_backend_fail(const char *what, int err);

/*
 * Relay the terminal to a console stream until the escape character is
 * typed (0 returned) or the console closes (0) or fails (-errno).  Puts a
 * terminal on stdin into raw mode for the duration (xl_console.c).
 */
int xl_console_relay(int console_fd, int escape_char);

/* xl create -V / -A: the domain's VNC viewer, started in the background
 * (xl_vncviewer.c); an error is printed and xl goes on. */
void xl_vncviewer_autoconnect(struct xl_backend *be, uint32_t domid, bool autopass);

/* A domain name or id to a domid, through the backend's list; prints xl's error. */
int xl_find_domain(struct xl_backend *be, const char *qualifier, uint32_t *domid);

/* xl_devcmd.c: what the block-* and network-* commands share */
struct xl_backend *xl_devcmd_open(const char *qualifier, uint32_t *domid);
int xl_devcmd_add(const char *qualifier, struct xl_dev_spec *spec, const char *what,
		  const char *libxl_fn);
int xl_devcmd_list(char **domains, int count, enum xl_dev_kind kind, const char *what,
		   void (*header)(void), void (*row)(const struct xl_dev_info *d));

#endif
