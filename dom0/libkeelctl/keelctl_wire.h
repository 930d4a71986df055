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
};

_Static_assert(sizeof(struct keelctl_req) == 16, "keelctl_req");
_Static_assert(sizeof(struct keelctl_rsp) == 16, "keelctl_rsp");
_Static_assert(sizeof(struct keelctl_create_req) == 80, "keelctl_create_req");
_Static_assert(sizeof(struct keelctl_dominfo) == 232, "keelctl_dominfo");

#endif
