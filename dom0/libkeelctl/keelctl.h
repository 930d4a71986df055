/*
 * libkeelctl: how dom0 programs reach keeld (the counterpart of Xen's
 * libxenctrl).  Every function returns 0 (or a count) on success and a
 * negative errno on failure.
 */
#ifndef KEEL_KEELCTL_H
#define KEEL_KEELCTL_H

#include <stddef.h>
#include <stdint.h>

#include "keelctl_wire.h"

struct keelctl;

/* Connect to keeld's socket under rundir (NULL: $KEEL_RUNDIR or /run/keel). */
int keelctl_open(const char *rundir, struct keelctl **out);
void keelctl_close(struct keelctl *h);

int keelctl_domain_create(struct keelctl *h, const char *name, uint64_t mem_mb, int vcpus,
			  uint32_t *domid);
/* hvm: an HVM domain (its LOAD image is the firmware, hvmloader) */
int keelctl_domain_create_kind(struct keelctl *h, const char *name, uint64_t mem_mb, int vcpus,
			       int hvm, uint32_t *domid);
/* A PV domain of mem_mb populated in max_mb of guest-physical space
 * (Xen's memory= and maxmem=: the balloon may grow it up to max_mb). */
int keelctl_domain_create_max(struct keelctl *h, const char *name, uint64_t mem_mb, uint64_t max_mb,
			      int vcpus, uint32_t *domid);
int keelctl_domain_load(struct keelctl *h, uint32_t domid, const char *kernel, const char *ramdisk,
			const char *cmdline);
int keelctl_domain_unpause(struct keelctl *h, uint32_t domid);
int keelctl_domain_pause(struct keelctl *h, uint32_t domid);
int keelctl_domain_destroy(struct keelctl *h, uint32_t domid);
/* Shut a domain down from dom0 with a SHUTDOWN_* reason (Xen's
 * SCHEDOP_remote_shutdown; flags KEELCTL_SHUTDOWN_DM: as a device model's
 * dm_op).  See keelctl_wire.h for the errors. */
int keelctl_domain_shutdown(struct keelctl *h, uint32_t domid, uint32_t reason, uint32_t flags);
int keelctl_domain_getinfo(struct keelctl *h, uint32_t domid, struct keelctl_dominfo *info);
/* An NMI for one vCPU (xl trigger DOM nmi; Xen's XEN_DOMCTL_SENDTRIGGER_NMI):
 * -ESRCH for a vCPU the domain lacks, -EOPNOTSUPP for a kind without PV
 * NMIs. */
int keelctl_send_nmi(struct keelctl *h, uint32_t domid, uint32_t vcpu);
/* Xen's XEN_DOMCTL_sendtrigger (KEELCTL_TRIGGER_*): -ESRCH for a vCPU the
 * domain lacks, -EINVAL for power/sleep to a domain without ACPI (PV),
 * -ENOSYS for reset, init and unknown triggers, as Xen's x86 answers. */
int keelctl_send_trigger(struct keelctl *h, uint32_t domid, uint32_t trigger, uint32_t vcpu);
/* Fills up to max entries; returns how many domains there are. */
int keelctl_domain_list(struct keelctl *h, struct keelctl_dominfo *infos, int max);
/* keeld's log (the hypervisor dmesg); returns bytes copied (NUL-terminated). */
int keelctl_dmesg(struct keelctl *h, char *buf, size_t size);
/* A domain's console output keeld drained itself (its ring, while no backend
 * had bound the console port), the newest part; returns bytes copied. */
int keelctl_console_read(struct keelctl *h, uint32_t domid, char *buf, size_t size);
/* Map frames [mfn, mfn + count) of a domain's RAM into this process
 * (munmap(*page, count * 4096) to undo). */
int keelctl_map_frames(struct keelctl *h, uint32_t domid, uint64_t mfn, uint64_t count,
		       void **page);
/* Bind dom0's end of a guest port left unbound for dom0: *kick_fd becomes
 * readable (read 8 bytes) when the guest sends; write 8 bytes to
 * *notify_fd to send to the guest.  The caller closes both.  The binding
 * belongs to handle h: keeld unbinds it when h's connection closes
 * (keelctl_close, or the process died), as closing /dev/xen/evtchn does. */
int keelctl_bind_evtchn(struct keelctl *h, uint32_t domid, uint32_t port, int *kick_fd,
			int *notify_fd);
int keelctl_unbind_evtchn(struct keelctl *h, uint32_t domid, uint32_t port);
/* A dom0 server's connection to one guest ring (xenstored's ring mapper,
 * a console backend): maps frame mfn of domain domid and binds dom0's end
 * of port; keelctl_ring_unmap undoes both (the port can be bound again).
 * rundir as for keelctl_open; the binding is made on a connection the
 * library keeps open (one per rundir) until the last ring is unmapped. */
int keelctl_ring_map(const char *rundir, uint32_t domid, uint64_t mfn, uint32_t port, void **page,
		     int *kick_fd, int *notify_fd);
int keelctl_ring_unmap(const char *rundir, uint32_t domid, uint32_t port, void *page, int kick_fd,
		       int notify_fd);
/* Map the frame a guest granted to dom0 (grant reference gref) into this
 * process; keelctl_unmap_grant releases it (and munmaps page).  Grant
 * maps (also keelctl_map_grants') belong to handle h: keeld drops those
 * still held when h's connection closes, as closing gntdev does. */
int keelctl_map_grant(struct keelctl *h, uint32_t domid, uint32_t gref, int writable, void **page);
int keelctl_unmap_grant(struct keelctl *h, uint32_t domid, uint32_t gref, void *page);
/* Map grants refs[0..count) of domid at consecutive pages from `at` (a
 * region of count pages the caller reserved: MAP_FIXED replaces it), in
 * one round trip per KEELCTL_GMAP_MAX references; all or nothing (on
 * failure *bad_index names the reference that failed).
 * keelctl_unmap_grants releases them in keeld (the caller munmaps). */
int keelctl_map_grants(struct keelctl *h, uint32_t domid, const uint32_t *refs, unsigned count,
		       int writable, void *at, unsigned *bad_index);
int keelctl_unmap_grants(struct keelctl *h, uint32_t domid, const uint32_t *refs, unsigned count);
/* Grant copy (keelctl_gcopy.c): register a memfd sealed with F_SEAL_SHRINK
 * (at least size bytes) as a buffer copies may name by *id; the buffer
 * lives until unregistered or until this handle is closed.
 * keelctl_grant_copy_buffer creates, seals, maps (*addr, size bytes) and
 * registers one.  keelctl_grant_copy runs count ops (in batches of
 * KEELCTL_GCOPY_MAX, one round trip each) and fills status[] with one
 * GNTST_* per op; it returns 0 when every batch was answered. */
int keelctl_grant_copy_register(struct keelctl *h, int memfd, uint64_t size, uint32_t *id);
int keelctl_grant_copy_unregister(struct keelctl *h, uint32_t id);
int keelctl_grant_copy_buffer(struct keelctl *h, size_t size, uint32_t *id, void **addr);
int keelctl_grant_copy(struct keelctl *h, const struct keelctl_gcopy *ops, unsigned count,
		       int16_t *status);
/* Turn this handle into an event stream (use a handle of its own for it):
 * afterwards keelctl_event_fd() becomes readable on each domain state
 * change and keelctl_read_event() returns it. */
int keelctl_subscribe(struct keelctl *h);
int keelctl_event_fd(struct keelctl *h);
int keelctl_read_event(struct keelctl *h, struct keelctl_event *ev);
const char *keelctl_state_name(uint32_t state);

/* xl's operations (keelctl_xl.c). */
int keelctl_domain_rename(struct keelctl *h, uint32_t domid, const char *name);
int keelctl_domain_set_handle(struct keelctl *h, uint32_t domid, const uint8_t handle[16]);
int keelctl_domain_set_maxmem(struct keelctl *h, uint32_t domid, uint64_t max_kb);
/* Fills up to max entries; returns the domain's number of vCPUs. */
int keelctl_vcpu_info(struct keelctl *h, uint32_t domid, struct keelctl_vcpuinfo *out, int max);
int keelctl_vcpu_pin(struct keelctl *h, uint32_t domid, const struct keelctl_vcpu_pin *p);
/* A device model's dm_op on an HVM domain (KEELCTL_DM_*): q in, results
 * in q; negative errno. */
int keelctl_dm(struct keelctl *h, uint32_t domid, struct keelctl_dm_req *q);
/* The same, for an op whose answer has data after q (KEELCTL_DM_TRACK_VRAM):
 * exactly len bytes of it into buf. */
int keelctl_dm_data(struct keelctl *h, uint32_t domid, struct keelctl_dm_req *q, void *buf,
		    uint32_t len);
int keelctl_sched_get(struct keelctl *h, uint32_t domid, struct keelctl_sched *s);
int keelctl_sched_set(struct keelctl *h, uint32_t domid, const struct keelctl_sched *s);
int keelctl_version(struct keelctl *h, struct keelctl_version *v);
int keelctl_dmesg_clear(struct keelctl *h);
/* Xen's debug keys ('e': event channels, 'h': the list): reports go to the
 * hypervisor log (keelctl_dmesg). */
int keelctl_debug_keys(struct keelctl *h, const char *keys);
/* A paused domain's state outside its RAM, written to fd by keeld; and
 * read back from fd into a domain just created with the same size. */
int keelctl_save_state(struct keelctl *h, uint32_t domid, int fd);
int keelctl_restore_state(struct keelctl *h, uint32_t domid, int fd);
/* A domain suspended (SCHEDOP_shutdown(suspend)) back to work, paused:
 * cancel = the suspend returns 1 (xl save -c); else it resumes as a
 * restored domain does. */
int keelctl_domain_resume(struct keelctl *h, uint32_t domid, int cancel);
/* Live migration's dirty tracking (LOG_DIRTY in keelctl_wire.h): turn it
 * on (every frame dirty) or off; fetch-and-clear frames [first, first +
 * count) into bitmap (count / 8 bytes; both multiples of 64, count at most
 * KEELCTL_LOGDIRTY_MAX).  keelctl_log_dirty_fetch_all walks the whole of
 * nr_pages in chunks (bitmap of (nr_pages + 63) / 64 words). */
int keelctl_log_dirty_enable(struct keelctl *h, uint32_t domid);
int keelctl_log_dirty_disable(struct keelctl *h, uint32_t domid);
int keelctl_log_dirty_fetch(struct keelctl *h, uint32_t domid, uint64_t first, uint64_t count,
			    uint64_t *bitmap);
int keelctl_log_dirty_fetch_all(struct keelctl *h, uint32_t domid, uint64_t nr_pages,
				uint64_t *bitmap);

#endif
