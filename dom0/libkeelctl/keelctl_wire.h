/*
 * The wire format of keeld's control socket, shared by keeld and
 * libkeelctl (nothing else should speak it: dom0 programs link libkeelctl).
 * A SOCK_SEQPACKET Unix socket; one request, one response per message.
 * LOAD passes the kernel (and ramdisk) as open file descriptors
 * (SCM_RIGHTS), so keeld never opens a path on a client's behalf.
 */
#ifndef KEEL_KEELCTL_WIRE_H
#define KEEL_KEELCTL_WIRE_H

#include <stdint.h>

#define KEELCTL_MAGIC	    0x4b43544cU /* "KCTL" */
#define KEELCTL_SOCKET_NAME "keeld.sock"
#define KEELCTL_REQ_MAX	    4096
#define KEELCTL_RSP_MAX	    (64 * 1024)

enum keelctl_op {
	KEELCTL_OP_CREATE = 1,
	KEELCTL_OP_LOAD,
	KEELCTL_OP_UNPAUSE,
	KEELCTL_OP_PAUSE,
	KEELCTL_OP_DESTROY,
	KEELCTL_OP_GETINFO,
	KEELCTL_OP_LIST,
	KEELCTL_OP_DMESG,
	KEELCTL_OP_CONSOLE_READ,
	KEELCTL_OP_MAP_FRAMES,	/* answer carries the domain's memory fd */
	KEELCTL_OP_BIND_EVTCHN, /* answer carries two eventfds */
	KEELCTL_OP_MAP_GRANT,	/* answer carries the domain's memory fd */
	KEELCTL_OP_UNMAP_GRANT,
	KEELCTL_OP_SUBSCRIBE, /* the connection then carries keelctl_event messages */
	/* xl's operations (hypervisor/ctl/, dom0/libkeelctl/keelctl_xl.c) */
	KEELCTL_OP_RENAME,	  /* keelctl_name_req */
	KEELCTL_OP_SET_HANDLE,	  /* uint8_t[16]: the domain's UUID */
	KEELCTL_OP_SET_MAXMEM,	  /* uint64_t: max_pages in KiB */
	KEELCTL_OP_VCPU_INFO,	  /* answer: keelctl_vcpuinfo[nr_vcpus] */
	KEELCTL_OP_SCHED_GET,	  /* answer: keelctl_sched */
	KEELCTL_OP_SCHED_SET,	  /* keelctl_sched */
	KEELCTL_OP_VERSION,	  /* answer: keelctl_version */
	KEELCTL_OP_DMESG_CLEAR,	  /* empty the hypervisor log */
	KEELCTL_OP_SAVE_STATE,	  /* fd: keeld writes a paused domain's state to it */
	KEELCTL_OP_RESTORE_STATE, /* fd: state for a domain just created for it */
	KEELCTL_OP_UNBIND_EVTCHN, /* keelctl_bind_req: dom0 lets go of a port */
	KEELCTL_OP_EVTCHN_MAX,	  /* keelctl_bind_req: port = max_evtchn_port */
	/* grant copy for dom0 processes (hypervisor/gnttab/gnttab_dom0.c) */
	KEELCTL_OP_GCOPY_REGISTER,   /* keelctl_gcopy_reg + a sealed memfd; answer: uint32_t id */
	KEELCTL_OP_GCOPY_UNREGISTER, /* keelctl_gcopy_reg (id) */
	KEELCTL_OP_GRANT_COPY,	     /* keelctl_gcopy_req; answer: int16_t status[count] */
	KEELCTL_OP_MAP_GRANTS,	     /* keelctl_gmap_req; answer: keelctl_gmap_rsp (+ memory fd) */
	KEELCTL_OP_UNMAP_GRANTS,     /* keelctl_gmap_req */
	KEELCTL_OP_RESUME,	     /* uint32_t cancel: a suspended domain back to work */
	KEELCTL_OP_DEBUG_KEYS,	 /* char[KEELCTL_DEBUG_KEYS_MAX]: Xen's debug keys, to the log */
	KEELCTL_OP_SHUTDOWN,	 /* keelctl_shutdown_req: dom0 shuts a domain down */
	KEELCTL_OP_LOG_DIRTY,	 /* keelctl_logdirty_req; FETCH answers the bitmap */
	KEELCTL_OP_VCPU_PIN,	 /* keelctl_vcpu_pin: a vCPU's host-CPU affinity */
	KEELCTL_OP_DM,		 /* keelctl_dm_req: a device model's dm_op; answer keelctl_dm_req */
	KEELCTL_OP_SEND_NMI,	 /* uint32_t vcpu: Xen's XEN_DOMCTL_SENDTRIGGER_NMI */
	KEELCTL_OP_SEND_TRIGGER, /* keelctl_trigger_req: Xen's XEN_DOMCTL_sendtrigger */
	KEELCTL_OP_MAX,
};

#define KEELCTL_DEBUG_KEYS_MAX 32

/* Xen's XEN_DOMCTL_SENDTRIGGER_* numbers */
enum {
	KEELCTL_TRIGGER_NMI = 0,
	KEELCTL_TRIGGER_RESET = 1,
	KEELCTL_TRIGGER_INIT = 2,
	KEELCTL_TRIGGER_POWER = 3,
	KEELCTL_TRIGGER_SLEEP = 4,
};
struct keelctl_trigger_req {
	uint32_t trigger, vcpu;
};

struct keelctl_req {
	uint32_t magic;
	uint32_t op;
	uint32_t domid;
	uint32_t len; /* payload bytes that follow */
};

struct keelctl_rsp {
	uint32_t magic;
	int32_t status; /* 0 or -errno */
	uint32_t len;	/* payload bytes that follow */
	uint32_t pad;
};

struct keelctl_create_req {
	uint64_t mem_mb;
	uint32_t vcpus;
	uint32_t flags; /* KEELCTL_CREATE_*; 0 from older clients */
	char name[64];
	/* PV: guest-physical space reserved for maxmem= (MiB; 0 or mem_mb:
	 * none beyond mem_mb), unpopulated until the balloon asks for it */
	uint64_t max_mb;
};
#define KEELCTL_CREATE_HVM 1u /* an HVM domain (hvmloader as its image) */

#define KEELCTL_LOAD_RAMDISK 1
struct keelctl_load_req {
	uint32_t flags;
	uint32_t pad;
	char cmdline[1024];
};

/* MAP_FRAMES: frames [mfn, mfn + count) of a domain's RAM; the answer is
 * the offset of mfn in the memory fd passed with it (dom0 is privileged, as
 * Xen's privcmd is: the fd reaches the whole of the guest's RAM). */
struct keelctl_map_req {
	uint64_t mfn;
	uint64_t count;
};

struct keelctl_map_rsp {
	uint64_t offset;
};

/* BIND_EVTCHN: connect dom0 to a guest port left unbound for dom0
 * (EVTCHNOP_alloc_unbound with remote_dom 0: store, console, backends).
 * The answer carries two eventfds: the first becomes readable when the
 * guest sends on the port; writing 8 bytes to the second notifies it. */
struct keelctl_bind_req {
	uint32_t port;
	uint32_t pad;
};

/* MAP_GRANT / UNMAP_GRANT: a frame the guest granted to dom0 (grant table
 * v1 entry gref).  The answer to MAP_GRANT is a keelctl_map_rsp with the
 * memory fd; the entry shows the frame in use until UNMAP_GRANT. */
#define KEELCTL_GRANT_WRITABLE 1
struct keelctl_grant_req {
	uint32_t gref;
	uint32_t flags;
};

/*
 * Grant copy for dom0 processes (Xen's GNTTABOP_copy, batched): the data
 * never crosses the socket.  A process first registers a buffer: a memfd
 * (sealed with F_SEAL_SHRINK, so keeld's mapping of it can never lose its
 * pages) of at least `size` bytes; keeld maps it and answers its id.  Each
 * copy op then names, for its source and its destination, either a grant
 * reference of domain `domid` and an offset in the granted page (flag
 * KEELCTL_GCOPY_*_GREF) or a registered buffer id and an offset in it.
 * keeld checks each op as Xen does and answers one GNTST_* per op.
 * Buffers belong to the connection that registered them and go with it.
 */
#define KEELCTL_GCOPY_MAX	  128		/* ops per GRANT_COPY request */
#define KEELCTL_GCOPY_BUFS	  4		/* registered buffers per connection */
#define KEELCTL_GCOPY_BUF_MAX	  (64ULL << 20) /* bytes per buffer */
#define KEELCTL_GCOPY_SOURCE_GREF 1
#define KEELCTL_GCOPY_DEST_GREF	  2
struct keelctl_gcopy_reg {
	uint64_t size; /* REGISTER: bytes of the memfd to use */
	uint32_t id;   /* UNREGISTER: the id REGISTER answered */
	uint32_t pad;
};

struct keelctl_gcopy_ptr {
	uint32_t ref;	 /* grant reference, or registered buffer id */
	uint32_t offset; /* in the granted page (< 4096), or in the buffer */
};

struct keelctl_gcopy {
	struct keelctl_gcopy_ptr source, dest;
	uint16_t domid; /* the granting domain of the grant side(s) */
	uint16_t len;	/* at most 4096; the grant side(s) stay inside the page */
	uint16_t flags; /* KEELCTL_GCOPY_* */
	uint16_t pad;
};

struct keelctl_gcopy_req {
	uint32_t count; /* 1..KEELCTL_GCOPY_MAX */
	uint32_t pad;
	struct keelctl_gcopy ops[KEELCTL_GCOPY_MAX];
};

/*
 * MAP_GRANTS / UNMAP_GRANTS: MAP_GRANT and UNMAP_GRANT for a batch of
 * references of one domain, in one round trip (a block request's
 * segments).  A map is all or nothing: when reference bad_index fails,
 * keeld releases those it had taken and answers the error in status (the
 * message itself succeeds, without an fd); otherwise frame[i] is the frame
 * of refs[i] and the domain's memory fd comes with the answer.  An unmap
 * releases every reference it can and answers the first error.
 */
#define KEELCTL_GMAP_MAX 512
struct keelctl_gmap_req {
	uint32_t count; /* 1..KEELCTL_GMAP_MAX */
	uint32_t flags; /* KEELCTL_GRANT_WRITABLE */
	uint32_t refs[KEELCTL_GMAP_MAX];
};

struct keelctl_gmap_rsp {
	int32_t status; /* 0 or -errno of refs[bad_index] */
	uint32_t bad_index;
	uint64_t frame[]; /* count entries when status is 0 */
};

/*
 * SHUTDOWN: Xen's SCHEDOP_remote_shutdown -- the domain stops as if it had
 * called SCHEDOP_shutdown with `reason` (SHUTDOWN_poweroff .. soft_reset;
 * a larger one is EINVAL), and keeps the first reason it got.  Domain 0 is
 * the host, which keeld does not shut down (EPERM); no such domain: ESRCH.
 * With KEELCTL_SHUTDOWN_DM the request is a device model's
 * (XEN_DMOP_remote_shutdown), which Xen's dm_op refuses with EINVAL for a
 * domain that is not HVM.
 */
#define KEELCTL_SHUTDOWN_DM 1
struct keelctl_shutdown_req {
	uint32_t reason;
	uint32_t flags; /* KEELCTL_SHUTDOWN_* */
};

/*
 * LOG_DIRTY: Xen's XEN_DOMCTL_SHADOW_OP_{ENABLE_LOGDIRTY,CLEAN,OFF} for
 * live migration.  ENABLE turns on KVM's dirty logging of the domain's RAM
 * (and keeld's record of the frames it and dom0 write behind KVM's back)
 * with every frame dirty; FETCH answers count bits (one per frame, from
 * frame first, a multiple of 64; count a multiple of 64, at most
 * KEELCTL_LOGDIRTY_MAX, not past the domain's RAM rounded up to 64) and
 * clears them -- a FETCH from frame 0 first harvests KVM's log and marks
 * every frame dom0 or a guest holds a writable grant map of, the store and
 * console rings and the vcpu_info frames; DISABLE turns it off.  EINVAL for
 * a bad command or range, ENODATA for FETCH while off.
 */
#define KEELCTL_LOGDIRTY_ENABLE	 1
#define KEELCTL_LOGDIRTY_FETCH	 2
#define KEELCTL_LOGDIRTY_DISABLE 3
#define KEELCTL_LOGDIRTY_MAX	 ((uint64_t)KEELCTL_RSP_MAX * 8)
/*
 * DM: what Xen's dm_op and HVMOP_get/set_param give a device model of an
 * HVM domain (hypervisor/hvm/hvm_ioreq.c): `op` one of KEELCTL_DM_*, `id`
 * the ioreq server, arg[] the operation's arguments; the answer is the
 * same struct with the results in arg[].  A domain that is not HVM EINVAL.
 */
enum {
	KEELCTL_DM_CREATE_SERVER = 1, /* arg0 handle_bufioreq; answer id */
	KEELCTL_DM_GET_INFO,	      /* answer arg0 ioreq gfn, arg1 bufioreq gfn, arg2 port */
	KEELCTL_DM_MAP_RANGE,	      /* arg0 XEN_DMOP_IO_RANGE_*, arg1 start, arg2 end */
	KEELCTL_DM_UNMAP_RANGE,	      /* the same */
	KEELCTL_DM_SET_STATE,	      /* arg0 enabled */
	KEELCTL_DM_DESTROY_SERVER,
	KEELCTL_DM_ISA_IRQ,    /* arg0 irq 0..15, arg1 level */
	KEELCTL_DM_PCI_INTX,   /* arg0 device, arg1 intx, arg2 level */
	KEELCTL_DM_LINK_ROUTE, /* arg0 link 0..3, arg1 irq (0: none) */
	KEELCTL_DM_GET_PARAM,  /* arg0 index; answer arg0 value */
	KEELCTL_DM_SET_PARAM,  /* arg0 index, arg1 value */
	KEELCTL_DM_NR_VCPUS,   /* answer arg0 */
	KEELCTL_DM_POPULATE,   /* arg0 gfn, arg1 order, arg2 extents (each 2^order frames
				* on from the last); answer arg0 extents done, arg1 the
				* negative errno that stopped the rest (0: none) */
	KEELCTL_DM_RELOCATE, /* arg0 frames, arg1 from gfn, arg2 to gfn (XEN_DMOP_relocate_memory) */
	KEELCTL_DM_TRACK_VRAM, /* arg0 first gfn, arg1 frames (0: stop); the answer is followed
				* by Xen's bitmap, (frames + 7) / 8 bytes (XEN_DMOP_track_dirty_vram) */
	KEELCTL_DM_INJECT_MSI, /* arg0 the MSI's address, arg1 its data (XEN_DMOP_inject_msi;
				* hypervisor/hvm/hvm_irq.c) */
};

struct keelctl_dm_req {
	uint32_t op, id;
	uint64_t arg[4];
};

struct keelctl_logdirty_req {
	uint32_t cmd;
	uint32_t pad;
	uint64_t first, count;
};

/* After SUBSCRIBE: one message per domain state change (shutdown, crash,
 * pause, unpause, destroy) -- what xl needs for on_poweroff/on_crash and
 * xenstored for @releaseDomain. */
#define KEELCTL_EVENT_MAGIC	0x4b45564eU /* "KEVN" */
#define KEELCTL_EVENT_DESTROYED 1
struct keelctl_event {
	uint32_t magic;
	uint32_t domid;
	uint32_t state;		 /* enum keelctl_state */
	int32_t shutdown_reason; /* -1 unless shut down or crashed */
	uint32_t flags;		 /* KEELCTL_EVENT_* */
	uint32_t pad;
};

enum keelctl_state {
	KEELCTL_STATE_CREATED,
	KEELCTL_STATE_RUNNING,
	KEELCTL_STATE_PAUSED,
	KEELCTL_STATE_SHUTDOWN,
	KEELCTL_STATE_CRASHED,
};

#define KEELCTL_DOMINFO_HVM 1 /* Xen's is_hvm_domain (the domain's kind) */
struct keelctl_dominfo {
	uint32_t domid;
	uint32_t state;
	int32_t shutdown_reason; /* -1 while running */
	uint32_t vcpus;
	uint64_t mem_mb;
	uint64_t hypercalls;
	uint64_t exits;
	char name[64];
	char crash_reason[80];
	uint32_t flags; /* KEELCTL_DOMINFO_* */
	uint32_t pad;
	/* What the builder gave the guest, for dom0's store and console. */
	uint64_t store_mfn, console_mfn;
	uint32_t store_port, console_port;
	uint8_t handle[16];   /* the UUID (SET_HANDLE); zero until set */
	uint64_t cpu_time_ns; /* CPU time of all vCPU threads */
	uint64_t max_kb;      /* max_pages (SET_MAXMEM) */
	uint64_t cur_kb;      /* what the guest holds now (less what it ballooned out) */
};

struct keelctl_name_req {
	char name[64];
};

#define KEELCTL_VCPU_ONLINE  1
#define KEELCTL_VCPU_RUNNING 2 /* runnable: neither blocked nor paused */
#define KEELCTL_VCPU_BLOCKED 4 /* in SCHEDOP_block/poll */
/* Host CPU sets (Xen's cpumaps): bit n of word n / 64 = host CPU n. */
#define KEELCTL_CPUMAP_WORDS 4
struct keelctl_vcpuinfo {
	uint32_t vcpu;
	uint32_t flags; /* KEELCTL_VCPU_* */
	int32_t cpu;	/* host CPU last run on; -1 none */
	uint32_t pad;
	uint64_t cpu_time_ns;
	uint64_t hard[KEELCTL_CPUMAP_WORDS]; /* affinity: where it may run */
	uint64_t soft[KEELCTL_CPUMAP_WORDS]; /* where it would rather (kept, shown) */
	/* keeld's runstate accounting (Xen's RUNSTATE_*): ns running,
	 * runnable (waiting for a host CPU), blocked and offline */
	uint64_t runstate_ns[4];
};

/* VCPU_PIN: vcpu (or KEELCTL_VCPU_ALL), which of hard/soft to set. */
#define KEELCTL_VCPU_ALL 0xffffffffU
#define KEELCTL_PIN_HARD 1u
#define KEELCTL_PIN_SOFT 2u
struct keelctl_vcpu_pin {
	uint32_t vcpu;
	uint32_t which;
	uint64_t hard[KEELCTL_CPUMAP_WORDS];
	uint64_t soft[KEELCTL_CPUMAP_WORDS];
};

/* Credit scheduler parameters (Xen's sched-credit): weight 1..65535
 * (default 256), cap in percent of one host CPU (0: none).  SCHED_SET
 * leaves a field alone when it is KEELCTL_SCHED_KEEP. */
#define KEELCTL_SCHED_KEEP 0xffffffffU
struct keelctl_sched {
	uint32_t weight;
	uint32_t cap;
};

/* xl info: what keeld reports as the "Xen" version and host memory. */
struct keelctl_version {
	uint32_t major, minor;
	char extra[16];
	char caps[96];
	uint64_t total_kb, free_kb;
	uint32_t nr_cpus;
	uint32_t sched_enforced; /* 1: weights and caps reach the kernel (cgroup) */
};

_Static_assert(sizeof(struct keelctl_req) == 16, "keelctl_req");
_Static_assert(sizeof(struct keelctl_rsp) == 16, "keelctl_rsp");
_Static_assert(sizeof(struct keelctl_create_req) == 88, "keelctl_create_req");
_Static_assert(sizeof(struct keelctl_dominfo) == 256, "keelctl_dominfo");
_Static_assert(sizeof(struct keelctl_map_req) == 16, "keelctl_map_req");
_Static_assert(sizeof(struct keelctl_bind_req) == 8, "keelctl_bind_req");
_Static_assert(sizeof(struct keelctl_grant_req) == 8, "keelctl_grant_req");
_Static_assert(sizeof(struct keelctl_event) == 24, "keelctl_event");
_Static_assert(sizeof(struct keelctl_shutdown_req) == 8, "keelctl_shutdown_req");
_Static_assert(sizeof(struct keelctl_logdirty_req) == 24, "keelctl_logdirty_req");
_Static_assert(sizeof(struct keelctl_gcopy_reg) == 16, "keelctl_gcopy_reg");
_Static_assert(sizeof(struct keelctl_gcopy) == 24, "keelctl_gcopy");
_Static_assert(sizeof(struct keelctl_gcopy_req) <= KEELCTL_REQ_MAX, "keelctl_gcopy_req");
_Static_assert(sizeof(struct keelctl_gmap_req) <= KEELCTL_REQ_MAX, "keelctl_gmap_req");
_Static_assert(sizeof(struct keelctl_gmap_rsp) + KEELCTL_GMAP_MAX * 8 <= KEELCTL_RSP_MAX,
	       "keelctl_gmap_rsp");
_Static_assert(sizeof(struct keelctl_vcpuinfo) == 120, "keelctl_vcpuinfo");
_Static_assert(sizeof(struct keelctl_vcpu_pin) == 72, "keelctl_vcpu_pin");
_Static_assert(sizeof(struct keelctl_sched) == 8, "keelctl_sched");
_Static_assert(sizeof(struct keelctl_version) == 144, "keelctl_version");

#endif
