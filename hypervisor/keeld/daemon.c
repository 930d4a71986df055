/*
 * `keeld daemon`: the control socket.  keeld listens on
 * RUNDIR/keeld.sock (SOCK_SEQPACKET); only root or members of group `keel`
 * may connect (SO_PEERCRED, checked at accept).  Requests are dispatched
 * through a table by op; each handler validates its payload and answers
 * 0 or -errno.  Domains live in the domain table (registry.c).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "abi/xen.h"
#include "../../dom0/libkeelctl/keelctl_wire.h"
#include "../core/domain.h"
#include "../evtchn/evtchn.h"
#include "../ctl/ctl.h"
#include "../gnttab/gnttab.h"
#include "../gnttab/gnttab_dom0.h"
#include "keeld.h"
#include "../core/kind.h"

#define DAEMON_MAX_CLIENTS    32
#define DAEMON_CONSOLE_BUF    (64 * 1024)
#define DAEMON_MAX_POLL_BINDS 256

struct daemon_req {
	const struct keelctl_req *hdr;
	const uint8_t *data;
	int fds[2];
	int nfds;
	uint8_t *out; /* response payload */
	uint32_t out_len;
	int out_fds[2]; /* fds sent with the answer (not closed: keeld keeps them) */
	int n_out_fds;
	int subscribe; /* SUBSCRIBE: this connection now carries events */
	int conn;      /* the client's socket (grant-copy buffers are per connection) */
};

static char daemon_shim_path[PATH_MAX];
static volatile sig_atomic_t daemon_quit;
static int daemon_event_efd = -1; /* written by any thread on a state change */
static int daemon_subscribers[DAEMON_MAX_CLIENTS];
static int daemon_nsubscribers;

static void daemon_state_hook(struct domain *d)
{
	uint64_t one = 1;

	if (write(daemon_event_efd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the daemon wakes anyway */
	}
}

static void daemon_send_event(const struct domain *d, uint32_t flags)
{
	struct keelctl_event ev = {
		KEELCTL_EVENT_MAGIC,
		(uint32_t)d->domid,
		(uint32_t)d->state,
		(d->state == DOM_SHUTDOWN || d->state == DOM_CRASHED) ? d->shutdown_reason : -1,
		flags,
		0};

	for (int i = 0; i < daemon_nsubscribers; i++)
		send(daemon_subscribers[i], &ev, sizeof(ev), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* After a state-change wake-up: tell subscribers what changed. */
static void daemon_publish_changes(void)
{
	uint64_t n;

	if (read(daemon_event_efd, &n, sizeof(n)) < 0)
		return;
	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++) {
		struct domain *d = domain_table_at(i);

		if (d && (int)d->state != d->notified_state) {
			d->notified_state = d->state;
			daemon_send_event(d, 0);
		}
	}
}

/* The daemon's thread is the only one that adds or removes domains, so
 * it looks them up without the table's lock. */
static struct domain *daemon_find(uint32_t domid)
{
	return domid <= 0x7fff ? domain_lookup((int)domid) : NULL;
}

static void daemon_info(struct domain *d, struct keelctl_dominfo *i)
{
	memset(i, 0, sizeof(*i));
	i->domid = d->domid;
	i->state = d->state;
	i->shutdown_reason =
		(d->state == DOM_SHUTDOWN || d->state == DOM_CRASHED) ? d->shutdown_reason : -1;
	i->vcpus = d->nr_vcpus;
	i->mem_mb = d->nr_pages >> 8;
	for (int k = 0; k < d->nr_vcpus; k++) {
		i->hypercalls += d->vcpus[k].hypercalls;
		i->exits += d->vcpus[k].exits;
	}
	memcpy(i->name, d->name, sizeof(i->name) - 1);
	memcpy(i->crash_reason, d->crash_reason, sizeof(i->crash_reason) - 1);
	i->flags = d->kind->hvm ? KEELCTL_DOMINFO_HVM : 0;
	i->store_mfn = d->store_mfn;
	i->console_mfn = d->console_mfn;
	i->store_port = d->store_port;
	i->console_port = d->console_port;
	ctl_fill_info(d, i);
}

static int daemon_op_create(struct daemon_req *rq)
{
	const struct keelctl_create_req *c = (const void *)rq->data;
	uint64_t space_mb = c->max_mb > c->mem_mb ? c->max_mb : c->mem_mb;
	struct domain *d;
	int r;

	if (memchr(c->name, 0, sizeof(c->name)) == NULL)
		return -EINVAL;
	if (space_mb > DOMAIN_MAX_MEM_MB || (c->flags & ~KEELCTL_CREATE_HVM))
		return -EINVAL;
	/* an HVM domain's RAM is its whole space (no balloon-grown room) */
	if (space_mb != c->mem_mb && ((c->flags & KEELCTL_CREATE_HVM) || c->mem_mb < 4))
		return -EINVAL;
	d = domain_new((c->flags & KEELCTL_CREATE_HVM) ? &hvm_kind : &pv_kind, c->name,
		       space_mb << 8, (int)c->vcpus, 0, &r);
	if (!d)
		return r;
	d->conbuf_size = DAEMON_CONSOLE_BUF;
	hvlog("d%d: created '%s' (%s), %llu MiB, %u vCPUs", d->domid, d->name, d->kind->name,
	      (unsigned long long)c->mem_mb, c->vcpus);
	if (c->mem_mb < space_mb) {
		domain_populate_below(d, c->mem_mb << 8);
		hvlog("d%d: %llu MiB of guest-physical space, the rest unpopulated", d->domid,
		      (unsigned long long)space_mb);
	}
	memcpy(rq->out, &d->domid, sizeof(uint32_t));
	rq->out_len = sizeof(uint32_t);
	return 0;
}

static int daemon_read_fd(int fd, size_t max, void **data, size_t *size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return keeld_read_file(path, max, data, size);
}

static int daemon_op_load(struct daemon_req *rq)
{
	const struct keelctl_load_req *l = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);
	struct domain_image img;
	void *k = NULL, *rd = NULL, *shim = NULL;
	size_t ks = 0, rs = 0, ss = 0;
	int r;

	if (!d)
		return -ESRCH;
	if (d->state != DOM_CREATED || d->started)
		return -EBUSY;
	if (memchr(l->cmdline, 0, sizeof(l->cmdline)) == NULL)
		return -EINVAL;
	if (rq->nfds != ((l->flags & KEELCTL_LOAD_RAMDISK) ? 2 : 1))
		return -EBADF;
	r = daemon_read_fd(rq->fds[0], 512 << 20, &k, &ks);
	if (r == 0 && rq->nfds == 2)
		r = daemon_read_fd(rq->fds[1], 1u << 30, &rd, &rs);
	if (r == 0)
		r = keeld_read_file(daemon_shim_path, 1 << 20, &shim, &ss);
	if (r == 0) {
		img = (struct domain_image){k, ks, rd, rs, l->cmdline, shim, ss};
		r = d->kind->build(d, &img);
	}
	if (r == 0)
		r = domain_start(d);
	free(k);
	free(rd);
	free(shim);
	return r;
}

static int daemon_op_unpause(struct daemon_req *rq)
{
	struct domain *d = daemon_find(rq->hdr->domid);

	if (!d)
		return -ESRCH;
	if (d->state != DOM_PAUSED)
		return -EINVAL;
	domain_unpause(d);
	return 0;
}

static int daemon_op_pause(struct daemon_req *rq)
{
	struct domain *d = daemon_find(rq->hdr->domid);

	if (!d)
		return -ESRCH;
	if (d->state != DOM_RUNNING)
		return -EINVAL;
	domain_pause(d);
	return 0;
}

static int daemon_op_destroy(struct daemon_req *rq)
{
	struct domain *d = daemon_find(rq->hdr->domid);

	if (!d)
		return -ESRCH;
	domain_stop_threads(d);
	hvlog("d%d: destroyed (was %s)", d->domid, domain_state_name(d->state));
	daemon_send_event(d, KEELCTL_EVENT_DESTROYED);
	domain_free(d);
	return 0;
}

/*
 * Xen's SCHEDOP_remote_shutdown (and, with KEELCTL_SHUTDOWN_DM, the device
 * model's XEN_DMOP_remote_shutdown, which dm_op refuses for a domain that
 * is not HVM).  Xen takes any reason; keeld only those a guest may give
 * itself.  Domain 0 is the host: Xen would shut the machine down, keeld
 * does not.
 */
static int daemon_op_shutdown(struct daemon_req *rq)
{
	const struct keelctl_shutdown_req *s = (const void *)rq->data;
	struct domain *d;

	if (s->flags & ~KEELCTL_SHUTDOWN_DM)
		return -EINVAL;
	if (rq->hdr->domid == 0)
		return -EPERM;
	d = daemon_find(rq->hdr->domid);
	if (!d)
		return -ESRCH;
	if ((s->flags & KEELCTL_SHUTDOWN_DM) && !d->kind->hvm)
		return -EINVAL;
	if (s->reason > SHUTDOWN_soft_reset)
		return -EINVAL;
	domain_remote_shutdown(d, (int)s->reason);
	return 0;
}

static int daemon_op_getinfo(struct daemon_req *rq)
{
	struct domain *d = daemon_find(rq->hdr->domid);

	if (!d)
		return -ESRCH;
	daemon_info(d, (struct keelctl_dominfo *)rq->out);
	rq->out_len = sizeof(struct keelctl_dominfo);
	return 0;
}

static int daemon_op_list(struct daemon_req *rq)
{
	struct keelctl_dominfo *out = (struct keelctl_dominfo *)rq->out;
	int n = 0;

	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++)
		if (domain_table_at(i))
			daemon_info(domain_table_at(i), &out[n++]);
	rq->out_len = n * sizeof(*out);
	return 0;
}

static int daemon_op_dmesg(struct daemon_req *rq)
{
	rq->out_len = hvlog_read((char *)rq->out, KEELCTL_RSP_MAX);
	return 0;
}

static int daemon_op_console_read(struct daemon_req *rq)
{
	struct domain *d = daemon_find(rq->hdr->domid);
	size_t n;

	if (!d)
		return -ESRCH;
	pthread_mutex_lock(&d->lock);
	n = d->conbuf_len < KEELCTL_RSP_MAX ? d->conbuf_len : KEELCTL_RSP_MAX;
	if (n)
		memcpy(rq->out, d->conbuf + d->conbuf_len - n, n);
	pthread_mutex_unlock(&d->lock);
	rq->out_len = n;
	return 0;
}

static int daemon_op_map_frames(struct daemon_req *rq)
{
	const struct keelctl_map_req *m = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);
	struct keelctl_map_rsp mr;

	if (!d)
		return -ESRCH;
	if (d->kind->frame_offset) {
		uint64_t off;
		int r = m->count ? d->kind->frame_offset(d, m->mfn, m->count, &off) : -EINVAL;

		if (r < 0)
			return r;
		mr.offset = off;
	} else {
		if (m->count == 0 || m->mfn >= d->nr_pages || m->count > d->nr_pages - m->mfn)
			return -EINVAL;
		mr.offset = m->mfn << 12; /* guest RAM is the memfd's start */
	}
	memcpy(rq->out, &mr, sizeof(mr));
	rq->out_len = sizeof(mr);
	rq->out_fds[rq->n_out_fds++] = d->memfd;
	return 0;
}

static int daemon_op_bind_evtchn(struct daemon_req *rq)
{
	const struct keelctl_bind_req *b = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);
	int g2d, d2g, r;

	if (!d)
		return -ESRCH;
	/* the binding belongs to this connection: released when it closes */
	r = evtchn_bind_dom0(d, b->port, rq->conn, &g2d, &d2g);
	if (r < 0)
		return r;
	rq->out_fds[rq->n_out_fds++] = g2d;
	rq->out_fds[rq->n_out_fds++] = d2g;
	hvlog("d%d: port %u bound to a dom0 process", d->domid, b->port);
	return 0;
}

static int daemon_op_map_grant(struct daemon_req *rq)
{
	const struct keelctl_grant_req *g = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);
	struct keelctl_map_rsp mr;
	uint64_t frame;
	int r;

	if (!d)
		return -ESRCH;
	r = gnttab_dom0_conn_map(rq->conn, d, g->gref, g->flags & KEELCTL_GRANT_WRITABLE, &frame);
	if (r < 0)
		return r;
	mr.offset = frame << 12;
	memcpy(rq->out, &mr, sizeof(mr));
	rq->out_len = sizeof(mr);
	rq->out_fds[rq->n_out_fds++] = d->memfd;
	return 0;
}

static int daemon_op_unmap_grant(struct daemon_req *rq)
{
	const struct keelctl_grant_req *g = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);

	return d ? gnttab_dom0_conn_unmap(rq->conn, d, g->gref) : -ESRCH;
}

/* Grant copy for dom0 processes: hypervisor/gnttab_dom0.c. */
static int daemon_op_gcopy_register(struct daemon_req *rq)
{
	const struct keelctl_gcopy_reg *g = (const void *)rq->data;
	uint32_t id;
	int r;

	if (rq->nfds != 1)
		return -EBADF;
	r = gnttab_dom0_buf_register(rq->conn, rq->fds[0], g->size, &id);
	if (r < 0)
		return r;
	memcpy(rq->out, &id, sizeof(id));
	rq->out_len = sizeof(id);
	return 0;
}

static int daemon_op_gcopy_unregister(struct daemon_req *rq)
{
	const struct keelctl_gcopy_reg *g = (const void *)rq->data;

	return gnttab_dom0_buf_unregister(rq->conn, g->id);
}

static int daemon_op_grant_copy(struct daemon_req *rq)
{
	const struct keelctl_gcopy_req *g = (const void *)rq->data;
	int16_t status[KEELCTL_GCOPY_MAX];
	int r;

	r = gnttab_dom0_copy(rq->conn, daemon_find, g->ops, g->count, status);
	if (r < 0)
		return r;
	memcpy(rq->out, status, g->count * sizeof(status[0]));
	rq->out_len = g->count * sizeof(status[0]);
	return 0;
}

static int daemon_op_map_grants(struct daemon_req *rq)
{
	const struct keelctl_gmap_req *g = (const void *)rq->data;
	struct keelctl_gmap_rsp *mr = (void *)rq->out;
	struct domain *d = daemon_find(rq->hdr->domid);

	if (!d)
		return -ESRCH;
	if (g->count == 0 || g->count > KEELCTL_GMAP_MAX)
		return -EINVAL;
	mr->bad_index = 0;
	mr->status = gnttab_dom0_conn_map_batch(rq->conn, d, g->refs, g->count,
						g->flags & KEELCTL_GRANT_WRITABLE, mr->frame,
						&mr->bad_index);
	rq->out_len = sizeof(*mr);
	if (mr->status == 0) {
		rq->out_len += g->count * sizeof(mr->frame[0]);
		rq->out_fds[rq->n_out_fds++] = d->memfd;
	}
	return 0;
}

static int daemon_op_unmap_grants(struct daemon_req *rq)
{
	const struct keelctl_gmap_req *g = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);

	return d ? gnttab_dom0_conn_unmap_batch(rq->conn, d, g->refs, g->count) : -ESRCH;
}

static int daemon_op_subscribe(struct daemon_req *rq)
{
	if (daemon_nsubscribers == DAEMON_MAX_CLIENTS)
		return -ENOSPC;
	rq->subscribe = 1;
	return 0;
}

/* xl's operations live in ctl_xl.c. */
static int daemon_op_xl(struct daemon_req *rq)
{
	return ctl_op(rq->hdr->op, daemon_find(rq->hdr->domid), rq->data, rq->out, &rq->out_len,
		      rq->fds, rq->nfds);
}

static int daemon_op_unbind_evtchn(struct daemon_req *rq)
{
	const struct keelctl_bind_req *b = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);

	if (!d)
		return -ESRCH;
	return evtchn_unbind_dom0(d, b->port);
}

static int daemon_op_evtchn_max(struct daemon_req *rq)
{
	const struct keelctl_bind_req *b = (const void *)rq->data;
	struct domain *d = daemon_find(rq->hdr->domid);

	return d ? evtchn_set_max_port(d, b->port) : -ESRCH;
}

struct daemon_op {
	const char *name;
	int (*fn)(struct daemon_req *rq);
	uint32_t payload; /* exact request payload size */
};

static const struct daemon_op daemon_ops[KEELCTL_OP_MAX] = {
	[KEELCTL_OP_CREATE] = {"create", daemon_op_create, sizeof(struct keelctl_create_req)},
	[KEELCTL_OP_LOAD] = {"load", daemon_op_load, sizeof(struct keelctl_load_req)},
	[KEELCTL_OP_UNPAUSE] = {"unpause", daemon_op_unpause, 0},
	[KEELCTL_OP_PAUSE] = {"pause", daemon_op_pause, 0},
	[KEELCTL_OP_DESTROY] = {"destroy", daemon_op_destroy, 0},
	[KEELCTL_OP_SHUTDOWN] = {"shutdown", daemon_op_shutdown,
				 sizeof(struct keelctl_shutdown_req)},
	[KEELCTL_OP_GETINFO] = {"getinfo", daemon_op_getinfo, 0},
	[KEELCTL_OP_LIST] = {"list", daemon_op_list, 0},
	[KEELCTL_OP_DMESG] = {"dmesg", daemon_op_dmesg, 0},
	[KEELCTL_OP_CONSOLE_READ] = {"console", daemon_op_console_read, 0},
	[KEELCTL_OP_MAP_FRAMES] = {"map", daemon_op_map_frames, sizeof(struct keelctl_map_req)},
	[KEELCTL_OP_BIND_EVTCHN] = {"bind", daemon_op_bind_evtchn, sizeof(struct keelctl_bind_req)},
	[KEELCTL_OP_MAP_GRANT] = {"map-grant", daemon_op_map_grant,
				  sizeof(struct keelctl_grant_req)},
	[KEELCTL_OP_UNMAP_GRANT] = {"unmap-grant", daemon_op_unmap_grant,
				    sizeof(struct keelctl_grant_req)},
	[KEELCTL_OP_SUBSCRIBE] = {"subscribe", daemon_op_subscribe, 0},
	[KEELCTL_OP_RENAME] = {"rename", daemon_op_xl, sizeof(struct keelctl_name_req)},
	[KEELCTL_OP_SET_HANDLE] = {"set-handle", daemon_op_xl, 16},
	[KEELCTL_OP_SET_MAXMEM] = {"set-maxmem", daemon_op_xl, sizeof(uint64_t)},
	[KEELCTL_OP_VCPU_INFO] = {"vcpu-info", daemon_op_xl, 0},
	[KEELCTL_OP_SCHED_GET] = {"sched-get", daemon_op_xl, 0},
	[KEELCTL_OP_SCHED_SET] = {"sched-set", daemon_op_xl, sizeof(struct keelctl_sched)},
	[KEELCTL_OP_VERSION] = {"version", daemon_op_xl, 0},
	[KEELCTL_OP_DMESG_CLEAR] = {"dmesg-clear", daemon_op_xl, 0},
	[KEELCTL_OP_SAVE_STATE] = {"save-state", daemon_op_xl, 0},
	[KEELCTL_OP_RESTORE_STATE] = {"restore-state", daemon_op_xl, 0},
	[KEELCTL_OP_RESUME] = {"resume", daemon_op_xl, sizeof(uint32_t)},
	[KEELCTL_OP_DEBUG_KEYS] = {"debug-keys", daemon_op_xl, KEELCTL_DEBUG_KEYS_MAX},
	[KEELCTL_OP_LOG_DIRTY] = {"log-dirty", daemon_op_xl, sizeof(struct keelctl_logdirty_req)},
	[KEELCTL_OP_DM] = {"dm", daemon_op_xl, sizeof(struct keelctl_dm_req)},
	[KEELCTL_OP_VCPU_PIN] = {"vcpu-pin", daemon_op_xl, sizeof(struct keelctl_vcpu_pin)},
	[KEELCTL_OP_SEND_NMI] = {"send-nmi", daemon_op_xl, sizeof(uint32_t)},
	[KEELCTL_OP_SEND_TRIGGER] = {"send-trigger", daemon_op_xl,
				     sizeof(struct keelctl_trigger_req)},
	[KEELCTL_OP_UNBIND_EVTCHN] = {"unbind", daemon_op_unbind_evtchn,
				      sizeof(struct keelctl_bind_req)},
	[KEELCTL_OP_EVTCHN_MAX] = {"evtchn-max", daemon_op_evtchn_max,
				   sizeof(struct keelctl_bind_req)},
	[KEELCTL_OP_GCOPY_REGISTER] = {"gcopy-register", daemon_op_gcopy_register,
				       sizeof(struct keelctl_gcopy_reg)},
	[KEELCTL_OP_GCOPY_UNREGISTER] = {"gcopy-unregister", daemon_op_gcopy_unregister,
					 sizeof(struct keelctl_gcopy_reg)},
	[KEELCTL_OP_GRANT_COPY] = {"grant-copy", daemon_op_grant_copy,
				   sizeof(struct keelctl_gcopy_req)},
	[KEELCTL_OP_MAP_GRANTS] = {"map-grants", daemon_op_map_grants,
				   sizeof(struct keelctl_gmap_req)},
	[KEELCTL_OP_UNMAP_GRANTS] = {"unmap-grants", daemon_op_unmap_grants,
				     sizeof(struct keelctl_gmap_req)},
};

/* Root, or a member (primary or supplementary) of group keel. */
static int daemon_peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct group *g;
	struct passwd *pw;
	gid_t groups[256];
	int n = 256;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	if (cred.uid == 0)
		return 1;
	g = getgrnam("keel");
	if (!g)
		return 0;
	if (cred.gid == g->gr_gid)
		return 1;
	pw = getpwuid(cred.uid);
	if (pw && getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0)
		for (int i = 0; i < n; i++)
			if (groups[i] == g->gr_gid)
				return 1;
	return 0;
}

static void daemon_handle(int fd)
{
	static uint8_t in[sizeof(struct keelctl_req) + KEELCTL_REQ_MAX + 1];
	static uint8_t out[sizeof(struct keelctl_rsp) + KEELCTL_RSP_MAX];
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = {in, sizeof(in)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct keelctl_rsp *rsp = (struct keelctl_rsp *)out;
	struct daemon_req rq = {.fds = {-1, -1}, .out = out + sizeof(*rsp), .conn = fd};
	const struct keelctl_req *req = (const struct keelctl_req *)in;
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	int status;

	if (n <= 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (rq.nfds < 2)
				rq.fds[rq.nfds++] = f;
			else
				close(f);
		}
	}
	if (n < (ssize_t)sizeof(*req) || req->magic != KEELCTL_MAGIC ||
	    req->len != n - sizeof(*req) || msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		status = -EPROTO;
	} else if (req->op >= KEELCTL_OP_MAX || !daemon_ops[req->op].fn) {
		status = -EOPNOTSUPP;
	} else if (req->len != daemon_ops[req->op].payload) {
		status = -EINVAL;
	} else {
		rq.hdr = req;
		rq.data = in + sizeof(*req);
		status = daemon_ops[req->op].fn(&rq);
		/* (an unbind after the domain died is routine: callers take
		 * -ESRCH as done, and so does the log; so is a refused map of
		 * frames that are not there -- QEMU's map cache asks for whole
		 * 1 MiB buckets, the VGA window and unpopulated frames among
		 * them, and gets per-frame errors, as from Xen, which does not
		 * log them either: logged, they flooded the log) */
		if (status < 0 && req->op != KEELCTL_OP_GETINFO &&
		    !(status == -ESRCH && req->op == KEELCTL_OP_UNBIND_EVTCHN) &&
		    !(status == -EINVAL && req->op == KEELCTL_OP_MAP_FRAMES))
			hvlog("control: %s for d%u refused: %s", daemon_ops[req->op].name,
			      req->domid, strerror(-status));
	}
	for (int k = 0; k < rq.nfds; k++)
		close(rq.fds[k]);
	if (status < 0)
		rq.out_len = 0;
	*rsp = (struct keelctl_rsp){KEELCTL_MAGIC, status, rq.out_len, 0};
	{
		char ocbuf[CMSG_SPACE(2 * sizeof(int))];
		struct iovec oiov = {out, sizeof(*rsp) + rq.out_len};
		struct msghdr omsg = {.msg_iov = &oiov, .msg_iovlen = 1};

		if (status == 0 && rq.n_out_fds) {
			struct cmsghdr *c;

			memset(ocbuf, 0, sizeof(ocbuf));
			omsg.msg_control = ocbuf;
			omsg.msg_controllen = CMSG_SPACE(rq.n_out_fds * sizeof(int));
			c = CMSG_FIRSTHDR(&omsg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(rq.n_out_fds * sizeof(int));
			memcpy(CMSG_DATA(c), rq.out_fds, rq.n_out_fds * sizeof(int));
		}
		sendmsg(fd, &omsg, MSG_NOSIGNAL);
	}
	if (status == 0 && rq.subscribe)
		daemon_subscribers[daemon_nsubscribers++] = fd;
}

/* A client went away: drop the grant maps and event-channel bindings it
 * still held (domains destroyed since were forgotten then). */
static void daemon_conn_release(int conn)
{
	unsigned maps = gnttab_dom0_conn_release(conn, daemon_find), ports = 0;

	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++)
		if (domain_table_at(i))
			ports += evtchn_release_owner(domain_table_at(i), conn);
	if (maps || ports)
		hvlog("control: a closed connection released %u grant maps, %u event channels",
		      maps, ports);
}

static void daemon_on_signal(int sig)
{
	daemon_quit = 1;
}

static int daemon_listen(const char *rundir, char *path, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct group *g = getgrnam("keel");
	int fd, n;

	if (mkdir(rundir, 0750) < 0 && errno != EEXIST)
		return -errno;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rundir, KEELCTL_SOCKET_NAME);
	if (n < 0 || n >= (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(path, size, "%s", sa.sun_path);
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	/* Socket permissions are a first fence; SO_PEERCRED is the real one. */
	if (g && chown(sa.sun_path, 0, g->gr_gid) == 0)
		chmod(sa.sun_path, 0660);
	else
		chmod(sa.sun_path, 0600);
	return fd;
}

int keeld_cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rundir", required_argument, 0, 'r'},
		{"foreground", no_argument, 0, 'f'},
		{"shim", required_argument, 0, 's'},
		{"pidfile", required_argument, 0, 'p'},
		{0, 0, 0, 0},
	};
	const char *rundir = "/run/keel", *pidfile = NULL;
	struct pollfd pfd[1 + DAEMON_MAX_CLIENTS + DAEMON_MAX_POLL_BINDS + 1];
	struct {
		struct domain *d;
		int slot;
	} bind_of[DAEMON_MAX_POLL_BINDS];
	char sock_path[PATH_MAX];
	struct sigaction sa = {.sa_handler = daemon_on_signal};
	int nclients = 0, lfd, o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			rundir = optarg;
			break;
		case 'f':
			break;
		case 's':
			snprintf(daemon_shim_path, sizeof(daemon_shim_path), "%s", optarg);
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!daemon_shim_path[0] &&
	    keeld_default_shim(daemon_shim_path, sizeof(daemon_shim_path)) < 0)
		return keeld_fail("shim path", -ENOENT);
	ctl_save_shim_path(daemon_shim_path);
	r = kvm_global_init();
	if (r < 0)
		return keeld_fail("/dev/kvm", r);
	daemon_event_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (daemon_event_efd < 0)
		return keeld_fail("eventfd", -errno);
	domain_state_hook = daemon_state_hook;
	lfd = daemon_listen(rundir, sock_path, sizeof(sock_path));
	if (lfd < 0)
		return keeld_fail(rundir, lfd);
	r = pidfile ? ctl_pidfile(pidfile) : 0;
	if (r < 0)
		return keeld_fail(pidfile, r);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = keeld_seccomp_install();
	if (r < 0)
		return keeld_fail("seccomp", r);
	hvlog("keeld: listening on %s (struct domain %zu bytes, struct vcpu %zu)", sock_path,
	      sizeof(struct domain), sizeof(struct vcpu));
	pfd[0] = (struct pollfd){lfd, POLLIN, 0};
	while (!daemon_quit) {
		int nbinds = 0;

		/* dom0-to-guest eventfds of every bound port come after the
		 * clients; the list is rebuilt each time round. */
		for (int i = 0; i < DOMAIN_TABLE_SIZE; i++) {
			struct domain *dd = domain_table_at(i);

			for (int k = 0; dd && k < dd->n_dom0_binds; k++) {
				if (nbinds == DAEMON_MAX_POLL_BINDS)
					break;
				pfd[1 + nclients + nbinds] =
					(struct pollfd){dd->dom0_binds[k].d2g_fd, POLLIN, 0};
				bind_of[nbinds].d = dd;
				bind_of[nbinds++].slot = k;
			}
		}
		pfd[1 + nclients + nbinds] = (struct pollfd){daemon_event_efd, POLLIN, 0};
		if (poll(pfd, 1 + nclients + nbinds + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1 + nclients + nbinds].revents & POLLIN)
			daemon_publish_changes();
		for (int k = 0; k < nbinds; k++)
			if (pfd[1 + nclients + k].revents & POLLIN)
				evtchn_dom0_notify(bind_of[k].d, bind_of[k].slot);
		if (pfd[0].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0 && (!daemon_peer_allowed(c) || nclients == DAEMON_MAX_CLIENTS)) {
				hvlog("control: connection refused (not root or group keel, or "
				      "too many clients)");
				close(c);
			} else if (c >= 0) {
				pfd[1 + nclients++] = (struct pollfd){c, POLLIN, 0};
			}
		}
		for (int i = 1; i <= nclients; i++) {
			if (pfd[i].revents & POLLIN)
				daemon_handle(pfd[i].fd);
			if (pfd[i].revents & (POLLHUP | POLLERR)) {
				for (int k = 0; k < daemon_nsubscribers; k++)
					if (daemon_subscribers[k] == pfd[i].fd)
						daemon_subscribers[k] =
							daemon_subscribers[--daemon_nsubscribers];
				gnttab_dom0_conn_closed(pfd[i].fd);
				daemon_conn_release(pfd[i].fd);
				close(pfd[i].fd);
				pfd[i] = pfd[nclients--];
				i--;
			}
		}
	}
	hvlog("keeld: shutting down");
	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++)
		if (domain_table_at(i))
			domain_free(domain_table_at(i));
	for (int i = 1; i <= nclients; i++)
		close(pfd[i].fd);
	close(lfd);
	domain_state_hook = NULL;
	close(daemon_event_efd);
	unlink(sock_path);
	return 0;
}
