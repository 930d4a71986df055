/*
 * xl's real backend: keeld through libkeelctl and the store through
 * libkeelstore.  Shared between the files of the backend: the handle, the
 * store layout helpers (xl_backend_keel_store.c), domain creation
 * (xl_backend_keel_create.c), the console stream (xl_backend_keel_console.c),
 * tuning (xl_backend_keel_tune.c) and save/restore (xl_backend_keel_save.c).
 * keeld knows domains by id, name, UUID, memory (size and ceiling), vCPUs,
 * CPU time and scheduler parameters; everything libxl keeps in xenstore
 * (names, UUIDs, start times, the control nodes) is kept in the store here
 * too, under the same paths.
 */
#ifndef KEEL_XL_BACKEND_KEEL_H
#define KEEL_XL_BACKEND_KEEL_H

#include <limits.h>
#include <stdint.h>

#include "keelctl.h"
#include "keelstore.h"
#include "xl_backend.h"

struct xlk {
	struct keelctl *ctl;
	struct ks_handle *xs;
	char rundir[PATH_MAX];
};

/* keeld's domain table is small (64 today); the reply holds at most this many. */
#define XLK_MAX_DOMAINS (KEELCTL_RSP_MAX / (int)sizeof(struct keelctl_dominfo))

/* Run @step in a store transaction, the whole step retried on EAGAIN. */
typedef int (*xlk_tx_step)(struct xlk *k, ks_tx_t tx, void *arg);
int xlk_store_tx(struct xlk *k, xlk_tx_step step, void *arg);
/* Read a store node as a NUL-terminated string; NULL when absent. */
char *xlk_store_read(struct xlk *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The /vm/<uuid> path of a domain (malloc'd) and its UUID; -ENOENT without one. */
int xlk_store_vm_path(struct xlk *k, uint32_t domid, char **vm_path, uint8_t uuid[16]);
/* Fill name, UUID and start time of a guest from the store (keeld's name otherwise). */
void xlk_store_domain_facts(struct xlk *k, struct xl_domain_info *d, const char *keeld_name);
/* libxl__domain_make + libxl__build_post: the nodes of a new domain, in transactions. */
int xlk_store_make_domain(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
/* Remove everything the toolstack wrote for a domain (dom path, /vm, /libxl, backends). */
void xlk_store_forget_domain(struct xlk *k, uint32_t domid);
/* Rename in the store (libxl__domain_rename): -EEXIST when another domain has the name. */
int xlk_store_rename(struct xlk *k, uint32_t domid, const char *name);
/* The domid of the guest called @name (store names, then keeld's); -ENOENT. */
int xlk_find_name(struct xlk *k, const char *name, uint32_t *domid);

/* Domain creation: keeld create + load, store layout, saved configuration. */
int xlk_create(void *h, const struct xlcfg_domain *dom, bool paused, uint32_t *domid);
/* HVM (xl_backend_keel_hvm.c): hvmloader and the BIOS it is handed, the
 * check before building, the store keys libxl writes for one. */
const char *xlk_hvmloader(const struct xlcfg_domain *dom);
const char *xlk_hvm_bios(const struct xlcfg_domain *dom);
int xlk_check_hvm(const struct xlcfg_domain *dom);
int xlk_hvm_ide_index(const struct xlcfg_disk *disk);
uint64_t xlk_hvm_extra_memkb(const struct xlcfg_domain *dom);
uint64_t xlk_video_memkb(const struct xlcfg_domain *dom);
uint64_t xlk_hvm_ram_mb(const struct xlcfg_domain *dom);
/* A PV domain's guest-physical space in MiB: maxmem= when above memory=
 * (the balloon grows the guest into it), else memory=. */
uint64_t xlk_space_mb(const struct xlcfg_domain *dom);
int xlk_hvm_store_keys(struct xlk *k, ks_tx_t tx, const char *dom_path, const char *vm_path,
		       const struct xlcfg_domain *dom);
int xlk_get_config(void *h, uint32_t domid, struct xlcfg_domain *out);
int xlk_config_save(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
int xlk_set_config(void *h, uint32_t domid, const struct xlcfg_domain *dom);
void xlk_config_forget(struct xlk *k, uint32_t domid);

int xlk_console_open(void *h, uint32_t domid, const char *type, int num, int *fd);

/* Tuning through keeld (xl_backend_keel_tune.c). */
int xlk_set_memory_max(void *h, uint32_t domid, uint64_t kb);
int xlk_sched_credit_get(void *h, uint32_t domid, int *weight, int *cap);
int xlk_sched_credit_set(void *h, uint32_t domid, int weight, int cap);
int xlk_sched_from_config(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
int xlk_vcpu_list_keeld(struct xlk *k, uint32_t domid, struct xl_vcpu_info **out, int *n);
int xlk_vcpu_pin(void *h, uint32_t domid, int vcpu, const uint64_t *hard, const uint64_t *soft);
int xlk_version_facts(struct xlk *k, char *major, char *minor, char *extra, char *caps,
		      unsigned long long *total_mb, unsigned long long *free_mb, size_t size);

/* QMP to an HVM domain's QEMU (xl_backend_keel_qmp.c): xl cd-insert /
 * cd-eject, and xl trigger (keeld's SEND_TRIGGER; s3resume by QMP). */
int xlk_cdrom_insert(void *h, uint32_t domid, const char *vdev, const char *target);
int xlk_send_trigger(void *h, uint32_t domid, const char *trigger, uint32_t vcpu);
/* Once an HVM domain's QEMU runs with VNC: its password, and console/vnc-listen
 * and vnc-port in the store from QMP's query-vnc. */
int xlk_qmp_vnc_setup(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
int xlk_vnc_info(void *h, uint32_t domid, char **port, char **listen, char **pass);

/* xl top's figures: vif traffic, vbds, the guest agent's node (xl_backend_keel_stats.c). */
int xlk_dom_stats(void *h, uint32_t domid, struct xl_dom_stats *out);

/* PV devices (xl_backend_keel_device.c). */
int xlk_devices_check(struct xlk *k, const struct xlcfg_domain *dom);
int xlk_devices_write(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
/* Close (bounded wait) and remove every vbd and vif of a domain. */
void xlk_devices_remove_all(struct xlk *k, uint32_t domid);
/* @domid is dead: the backends it served for others are marked Closed and
 * their frontends given a bounded wait to close (its nodes go after). */
void xlk_devices_backend_gone(struct xlk *k, uint32_t domid);
/* An HVM CD-ROM's new medium (or none) in its vbd's params, as libxl's cd-insert. */
int xlk_device_cdrom_params(struct xlk *k, uint32_t domid, const struct xlcfg_disk *disk,
			    bool ejected);
int xlk_device_add(void *h, uint32_t domid, struct xl_dev_spec *dev);
int xlk_device_remove(void *h, uint32_t domid, enum xl_dev_kind kind, uint32_t devid, bool force);
int xlk_device_list(void *h, uint32_t domid, enum xl_dev_kind kind, struct xl_dev_info **out,
		    int *n);

/* bootloader= (xl_backend_keel_boot.c): run it on the first disk; the kernel
 * and ramdisk copies it made (removed by cleanup) and its args. */
struct xlk_boot {
	char dir[PATH_MAX];
	char *kernel, *ramdisk, *args;
};
int xlk_boot_run(struct xlk *k, const struct xlcfg_domain *dom, struct xlk_boot *b);
void xlk_boot_cleanup(struct xlk_boot *b);

/* QEMU as a PV domain's device model, for its qdisk disks, or an HVM
 * domain's (xl_backend_keel_dm.c): start it (no-op when it already serves
 * the domain) and wait for "running";
 * stop it; check it: 1 running, 0 none recorded, -1 recorded but gone
 * (*pid: the recorded pid). */
int xlk_dm_start(struct xlk *k, uint32_t domid, const char *name);
int xlk_dm_start_hvm(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
/* ... for a restored HVM domain: QEMU loads the device state in @state
 * (-incoming, as libxl_dm.c) before it says "running". */
int xlk_dm_start_hvm_incoming(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom,
			      const char *state);
void xlk_dm_stop(struct xlk *k, uint32_t domid);
int xlk_dm_check(struct xlk *k, uint32_t domid, int *pid);

/* libxl__domain_pvcontrol: write cmd to control/shutdown and wait until
 * the guest clears it (0), or -ETIMEDOUT (xl_backend_keel.c). */
int xlk_pvcontrol(struct xlk *k, uint32_t domid, const char *cmd, long timeout_ms);
/* libxl's 60 s for a guest to answer; the environment variable env (a
 * number of ms) shortens it, for tests. */
long xlk_timeout_ms(const char *env);

/* Save and restore (xl_backend_keel_save.c). */
struct xl_saveimg_w;
struct xl_saveimg_r;
/* Save and restore pieces xl migrate shares (xl_backend_keel_save.c). */
int xlk_suspend(struct xlk *k, uint32_t domid);
/* Wait for the domain to be shut down with reason suspend (0), or time out. */
int xlk_suspend_wait(struct xlk *k, uint32_t domid);
/* HVM save and restore (xl_backend_keel_hvmsave.c): RAM in one mapping
 * (an HVM domain's around the MMIO hole), dom0's suspend, QEMU's device
 * state saved to an open file, and the image's EMULATOR section into a
 * file for QEMU's -incoming (path filled). */
int xlk_map_ram(struct xlk *k, uint32_t domid, uint64_t pages, bool hvm, void **ram);
int xlk_hvm_suspend(struct xlk *k, uint32_t domid);
int xlk_hvm_dm_save(struct xlk *k, uint32_t domid, int *fd, uint64_t *len);
int xlk_hvm_dm_read(struct xlk *k, struct xl_saveimg_r *img, uint32_t domid, char *path,
		    size_t size);
/* QMP (xl_backend_keel_qmp.c): QEMU stopped and its device state written
 * to @path (libxl__qmp_suspend_save); QEMU running again ("cont"). */
int xlk_qmp_save_devices(struct xlk *k, uint32_t domid, const char *path);
int xlk_qmp_cont(struct xlk *k, uint32_t domid);
int xlk_fetch_state(struct xlk *k, uint32_t domid, int *fd_out, uint64_t *len);
int xlk_copy_fd(struct xl_saveimg_w *w, int fd, uint64_t len);
int xlk_restore_config(struct xl_saveimg_r *img, uint64_t len, const struct xlcfg_domain *override,
		       struct xlcfg_domain *dom);
int xlk_restore_first_config(struct xl_saveimg_r *img, const struct xlcfg_domain *override,
			     struct xlcfg_domain *dom, int *have_dom, bool allow_hvm);
int xlk_read_state(struct xl_saveimg_r *img, uint64_t len, int *fd_out);
int xlk_apply_state(struct xlk *k, struct xl_saveimg_r *img, uint32_t domid, int fd);
int xlk_restore_domain_new(struct xlk *k, const struct xlcfg_domain *dom, uint32_t *domid);
int xlk_restore_domain_finish(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom);
/* xl migrate / migrate-receive (xl_backend_keel_migrate.c). */
int xlk_migrate_send(void *h, uint32_t domid, int fd, const struct xlcfg_domain *override,
		     bool debug);
int xlk_migrate_finish(void *h, uint32_t domid, bool destroy);
int xlk_migrate_receive(void *h, int fd, const char *suffix, uint32_t *domid, char *name,
			size_t namelen);
int xlk_save(void *h, uint32_t domid, const char *file, bool leave_running, bool leave_paused);
/*
 * Run the hotplug script the backend directory @be_path names, as libxl
 * does (online/add when @add, else offline/remove); 0 when it names none
 * (xl_hotplug.c).  -EIO when the script failed (its error printed).
 */
int xlk_hotplug_run(struct xlk *k, const char *be_path, bool add);
/* xl dump-core: the domain's RAM as a Xen-format ELF core (xl_backend_keel_dumpcore.c). */
int xlk_dump_core(void *h, uint32_t domid, const char *file);
int xlk_restore(void *h, const char *file, const struct xlcfg_domain *override, bool paused,
		uint32_t *domid);

#endif
