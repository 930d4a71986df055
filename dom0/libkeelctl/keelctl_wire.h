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
	KEELCTL_OP_MAX,
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
	uint32_t pad;
	char name[64];
};

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

struct keelctl_dominfo {
	uint32_t domid;
	uint32_t state;
	int32_t shutdown_reason; /* -1 while running */
	uint32_t vcpus;
	uint64_t mem_mb;
	uint64_t hypercalls;
	uint64_t exits;
	char name[64];
	char crash_reason[128];
	/* What the builder gave the guest, for dom0's store and console. */
	uint64_t store_mfn, console_mfn;
	uint32_t store_port, console_port;
};

_Static_assert(sizeof(struct keelctl_req) == 16, "keelctl_req");
_Static_assert(sizeof(struct keelctl_rsp) == 16, "keelctl_rsp");
_Static_assert(sizeof(struct keelctl_create_req) == 80, "keelctl_create_req");
_Static_assert(sizeof(struct keelctl_dominfo) == 256, "keelctl_dominfo");
_Static_assert(sizeof(struct keelctl_map_req) == 16, "keelctl_map_req");
_Static_assert(sizeof(struct keelctl_bind_req) == 8, "keelctl_bind_req");
_Static_assert(sizeof(struct keelctl_grant_req) == 8, "keelctl_grant_req");
_Static_assert(sizeof(struct keelctl_event) == 24, "keelctl_event");

#endif
