/*
 * libkeelctl: requests to keeld over its control socket.  One request at a
 * time per handle; each call sends one message and waits for its answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "keelctl.h"
#include "keelctl_int.h"

struct keelctl {
	int fd;
	int rfds[2]; /* fds that came with the last answer, -1 if none */
	int nrfds;
	uint8_t rsp[sizeof(struct keelctl_rsp) + KEELCTL_RSP_MAX];
};

int keelctl_open(const char *rundir, struct keelctl **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct keelctl *h;
	int n;

	if (!rundir)
		rundir = getenv("KEEL_RUNDIR");
	if (!rundir)
		rundir = "/run/keel";
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rundir, KEELCTL_SOCKET_NAME);
	if (n < 0 || n >= (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

void keelctl_close(struct keelctl *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h);
}

/* Send a request (with up to two fds) and wait for the answer; returns the
 * status, and the payload through *payload / *len (keelctl_int.h). */
int keelctl_call(struct keelctl *h, uint32_t op, uint32_t domid, const void *data, uint32_t len,
		 const int *fds, int nfds, const void **payload, uint32_t *plen)
{
	uint8_t buf[sizeof(struct keelctl_req) + KEELCTL_REQ_MAX];
	struct keelctl_req *req = (struct keelctl_req *)buf;
	struct keelctl_rsp *rsp = (struct keelctl_rsp *)h->rsp;
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {buf, sizeof(*req) + len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (len > KEELCTL_REQ_MAX)
		return -E2BIG;
	*req = (struct keelctl_req){KEELCTL_MAGIC, op, domid, len};
	if (len)
		memcpy(buf + sizeof(*req), data, len);
	if (nfds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(h->fd, &msg, MSG_NOSIGNAL) < 0)
		return -errno;
	{
		char rcbuf[CMSG_SPACE(2 * sizeof(int))];
		struct iovec riov = {h->rsp, sizeof(h->rsp)};
		struct msghdr rmsg = {.msg_iov = &riov,
				      .msg_iovlen = 1,
				      .msg_control = rcbuf,
				      .msg_controllen = sizeof(rcbuf)};

		h->nrfds = 0;
		n = recvmsg(h->fd, &rmsg, MSG_CMSG_CLOEXEC);
		if (n < 0)
			return -errno;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&rmsg); c; c = CMSG_NXTHDR(&rmsg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				if (h->nrfds < 2)
					h->rfds[h->nrfds++] = f;
				else
					close(f);
			}
		}
	}
	if (n < (ssize_t)sizeof(*rsp) || rsp->magic != KEELCTL_MAGIC ||
	    rsp->len != n - sizeof(*rsp))
		return -EPROTO;
	if (payload)
		*payload = h->rsp + sizeof(*rsp);
	if (plen)
		*plen = rsp->len;
	return rsp->status;
}

int keelctl_domain_create(struct keelctl *h, const char *name, uint64_t mem_mb, int vcpus,
			  uint32_t *domid)
{
	return keelctl_domain_create_kind(h, name, mem_mb, vcpus, 0, domid);
}

static int keelctl_create(struct keelctl *h, const char *name, uint64_t mem_mb, uint64_t max_mb,
			  int vcpus, int hvm, uint32_t *domid)
{
	struct keelctl_create_req c = {.mem_mb = mem_mb,
				       .vcpus = vcpus,
				       .flags = hvm ? KEELCTL_CREATE_HVM : 0,
				       .max_mb = max_mb};
	const void *p;
	uint32_t len;
	int r;

	if (name)
		snprintf(c.name, sizeof(c.name), "%s", name);
	r = keelctl_call(h, KEELCTL_OP_CREATE, 0, &c, sizeof(c), NULL, 0, &p, &len);
	if (r < 0)
		return r;
	if (len != sizeof(uint32_t))
		return -EPROTO;
	memcpy(domid, p, sizeof(*domid));
	return 0;
}

int keelctl_domain_create_kind(struct keelctl *h, const char *name, uint64_t mem_mb, int vcpus,
			       int hvm, uint32_t *domid)
{
	return keelctl_create(h, name, mem_mb, 0, vcpus, hvm, domid);
}

int keelctl_domain_create_max(struct keelctl *h, const char *name, uint64_t mem_mb, uint64_t max_mb,
			      int vcpus, uint32_t *domid)
{
	return keelctl_create(h, name, mem_mb, max_mb, vcpus, 0, domid);
}

int keelctl_domain_load(struct keelctl *h, uint32_t domid, const char *kernel, const char *ramdisk,
			const char *cmdline)
{
	struct keelctl_load_req l = {0};
	int fds[2] = {-1, -1}, n = 1, r;

	if (cmdline && strlen(cmdline) >= sizeof(l.cmdline))
		return -E2BIG;
	if (cmdline)
		strcpy(l.cmdline, cmdline);
	fds[0] = open(kernel, O_RDONLY | O_CLOEXEC);
	if (fds[0] < 0)
		return -errno;
	if (ramdisk) {
		fds[1] = open(ramdisk, O_RDONLY | O_CLOEXEC);
		if (fds[1] < 0) {
			r = -errno;
			close(fds[0]);
			return r;
		}
		l.flags |= KEELCTL_LOAD_RAMDISK;
		n = 2;
	}
	r = keelctl_call(h, KEELCTL_OP_LOAD, domid, &l, sizeof(l), fds, n, NULL, NULL);
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return r;
}

int keelctl_domain_unpause(struct keelctl *h, uint32_t domid)
{
	return keelctl_call(h, KEELCTL_OP_UNPAUSE, domid, NULL, 0, NULL, 0, NULL, NULL);
}

int keelctl_domain_pause(struct keelctl *h, uint32_t domid)
{
	return keelctl_call(h, KEELCTL_OP_PAUSE, domid, NULL, 0, NULL, 0, NULL, NULL);
}

int keelctl_domain_destroy(struct keelctl *h, uint32_t domid)
{
	return keelctl_call(h, KEELCTL_OP_DESTROY, domid, NULL, 0, NULL, 0, NULL, NULL);
}

int keelctl_domain_shutdown(struct keelctl *h, uint32_t domid, uint32_t reason, uint32_t flags)
{
	struct keelctl_shutdown_req s = {reason, flags};

	return keelctl_call(h, KEELCTL_OP_SHUTDOWN, domid, &s, sizeof(s), NULL, 0, NULL, NULL);
}

int keelctl_send_nmi(struct keelctl *h, uint32_t domid, uint32_t vcpu)
{
	return keelctl_call(h, KEELCTL_OP_SEND_NMI, domid, &vcpu, sizeof(vcpu), NULL, 0, NULL,
			    NULL);
}

int keelctl_send_trigger(struct keelctl *h, uint32_t domid, uint32_t trigger, uint32_t vcpu)
{
	struct keelctl_trigger_req q = {trigger, vcpu};

	return keelctl_call(h, KEELCTL_OP_SEND_TRIGGER, domid, &q, sizeof(q), NULL, 0, NULL, NULL);
}

int keelctl_domain_getinfo(struct keelctl *h, uint32_t domid, struct keelctl_dominfo *info)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, KEELCTL_OP_GETINFO, domid, NULL, 0, NULL, 0, &p, &len);

	if (r < 0)
		return r;
	if (len != sizeof(*info))
		return -EPROTO;
	memcpy(info, p, sizeof(*info));
	return 0;
}

int keelctl_domain_list(struct keelctl *h, struct keelctl_dominfo *infos, int max)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, KEELCTL_OP_LIST, 0, NULL, 0, NULL, 0, &p, &len), n;

	if (r < 0)
		return r;
	if (len % sizeof(*infos))
		return -EPROTO;
	n = len / sizeof(*infos);
	memcpy(infos, p, (n < max ? n : max) * sizeof(*infos));
	return n;
}

static int keelctl_text(struct keelctl *h, uint32_t op, uint32_t domid, char *buf, size_t size)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, op, domid, NULL, 0, NULL, 0, &p, &len);

	if (r < 0)
		return r;
	if (!size)
		return 0;
	if (len > size - 1)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = 0;
	return len;
}

int keelctl_dmesg(struct keelctl *h, char *buf, size_t size)
{
	return keelctl_text(h, KEELCTL_OP_DMESG, 0, buf, size);
}

int keelctl_console_read(struct keelctl *h, uint32_t domid, char *buf, size_t size)
{
	return keelctl_text(h, KEELCTL_OP_CONSOLE_READ, domid, buf, size);
}

static void keelctl_drop_fds(struct keelctl *h)
{
	for (int i = 0; i < h->nrfds; i++)
		close(h->rfds[i]);
	h->nrfds = 0;
}

int keelctl_map_frames(struct keelctl *h, uint32_t domid, uint64_t mfn, uint64_t count, void **page)
{
	struct keelctl_map_req m = {mfn, count};
	struct keelctl_map_rsp mr;
	const void *p;
	uint32_t len;
	void *addr;
	int r = keelctl_call(h, KEELCTL_OP_MAP_FRAMES, domid, &m, sizeof(m), NULL, 0, &p, &len);

	if (r < 0) {
		keelctl_drop_fds(h);
		return r;
	}
	if (len != sizeof(mr) || h->nrfds != 1 || count == 0 || count > (1ULL << 20)) {
		keelctl_drop_fds(h);
		return -EPROTO;
	}
	memcpy(&mr, p, sizeof(mr));
	addr = mmap(NULL, count * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, h->rfds[0], mr.offset);
	r = addr == MAP_FAILED ? -errno : 0;
	keelctl_drop_fds(h);
	if (r == 0)
		*page = addr;
	return r;
}

int keelctl_bind_evtchn(struct keelctl *h, uint32_t domid, uint32_t port, int *kick_fd,
			int *notify_fd)
{
	struct keelctl_bind_req b = {port, 0};
	int r = keelctl_call(h, KEELCTL_OP_BIND_EVTCHN, domid, &b, sizeof(b), NULL, 0, NULL, NULL);

	if (r < 0 || h->nrfds != 2) {
		keelctl_drop_fds(h);
		return r < 0 ? r : -EPROTO;
	}
	*kick_fd = h->rfds[0];
	*notify_fd = h->rfds[1];
	h->nrfds = 0;
	return 0;
}

int keelctl_map_grant(struct keelctl *h, uint32_t domid, uint32_t gref, int writable, void **page)
{
	struct keelctl_grant_req g = {gref, writable ? KEELCTL_GRANT_WRITABLE : 0};
	struct keelctl_map_rsp mr;
	const void *p;
	uint32_t len;
	void *addr;
	int r = keelctl_call(h, KEELCTL_OP_MAP_GRANT, domid, &g, sizeof(g), NULL, 0, &p, &len);

	if (r < 0 || len != sizeof(mr) || h->nrfds != 1) {
		keelctl_drop_fds(h);
		return r < 0 ? r : -EPROTO;
	}
	memcpy(&mr, p, sizeof(mr));
	addr = mmap(NULL, 4096, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, h->rfds[0],
		    mr.offset);
	r = addr == MAP_FAILED ? -errno : 0;
	keelctl_drop_fds(h);
	if (r == 0)
		*page = addr;
	else
		keelctl_unmap_grant(h, domid, gref, NULL);
	return r;
}

int keelctl_unmap_grant(struct keelctl *h, uint32_t domid, uint32_t gref, void *page)
{
	struct keelctl_grant_req g = {gref, 0};

	if (page)
		munmap(page, 4096);
	return keelctl_call(h, KEELCTL_OP_UNMAP_GRANT, domid, &g, sizeof(g), NULL, 0, NULL, NULL);
}

/* One MAP_GRANTS round trip for n <= KEELCTL_GMAP_MAX references. */
static int keelctl_map_grants_one(struct keelctl *h, uint32_t domid, const uint32_t *refs,
				  unsigned n, int writable, uint8_t *at, unsigned *bad)
{
	struct keelctl_gmap_req g = {n, writable ? KEELCTL_GRANT_WRITABLE : 0, {0}};
	struct keelctl_gmap_rsp mr;
	const uint8_t *p;
	uint32_t len;
	int r;

	memcpy(g.refs, refs, n * sizeof(refs[0]));
	*bad = 0;
	r = keelctl_call(h, KEELCTL_OP_MAP_GRANTS, domid, &g, sizeof(g), NULL, 0, (const void **)&p,
			 &len);
	if (r == 0 && len >= sizeof(mr)) {
		memcpy(&mr, p, sizeof(mr));
		if (mr.status < 0) {
			*bad = mr.bad_index < n ? mr.bad_index : 0;
			keelctl_drop_fds(h);
			return mr.status;
		}
	}
	if (r < 0 || len != sizeof(mr) + n * sizeof(uint64_t) || h->nrfds != 1) {
		keelctl_drop_fds(h);
		return r < 0 ? r : -EPROTO;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t frame;

		memcpy(&frame, p + sizeof(mr) + i * sizeof(frame), sizeof(frame));
		if (mmap(at + (size_t)i * 4096, 4096, PROT_READ | (writable ? PROT_WRITE : 0),
			 MAP_SHARED | MAP_FIXED, h->rfds[0], (off_t)(frame << 12)) == MAP_FAILED) {
			r = -errno;
			*bad = i;
			break;
		}
	}
	keelctl_drop_fds(h);
	if (r)
		keelctl_unmap_grants(h, domid, refs, n);
	return r;
}

int keelctl_map_grants(struct keelctl *h, uint32_t domid, const uint32_t *refs, unsigned count,
		       int writable, void *at, unsigned *bad_index)
{
	unsigned done = 0, bad = 0;
	int r = 0;

	if (count == 0 || !at)
		return -EINVAL;
	while (done < count) {
		unsigned n = count - done < KEELCTL_GMAP_MAX ? count - done : KEELCTL_GMAP_MAX;

		r = keelctl_map_grants_one(h, domid, refs + done, n, writable,
					   (uint8_t *)at + (size_t)done * 4096, &bad);
		if (r) {
			bad += done;
			break;
		}
		done += n;
	}
	if (r) {
		if (done)
			keelctl_unmap_grants(h, domid, refs, done);
		if (bad_index)
			*bad_index = bad;
	}
	return r;
}

int keelctl_unmap_grants(struct keelctl *h, uint32_t domid, const uint32_t *refs, unsigned count)
{
	struct keelctl_gmap_req g;
	int first = 0;

	for (unsigned done = 0; done < count;) {
		unsigned n = count - done < KEELCTL_GMAP_MAX ? count - done : KEELCTL_GMAP_MAX;
		int r;

		g.count = n;
		g.flags = 0;
		memcpy(g.refs, refs + done, n * sizeof(refs[0]));
		r = keelctl_call(h, KEELCTL_OP_UNMAP_GRANTS, domid, &g, sizeof(g), NULL, 0, NULL,
				 NULL);
		if (r < 0 && !first)
			first = r;
		done += n;
	}
	return first;
}

int keelctl_subscribe(struct keelctl *h)
{
	return keelctl_call(h, KEELCTL_OP_SUBSCRIBE, 0, NULL, 0, NULL, 0, NULL, NULL);
}

int keelctl_event_fd(struct keelctl *h)
{
	return h->fd;
}

int keelctl_read_event(struct keelctl *h, struct keelctl_event *ev)
{
	ssize_t n = recv(h->fd, ev, sizeof(*ev), 0);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(*ev) || ev->magic != KEELCTL_EVENT_MAGIC)
		return -EPROTO;
	return 0;
}

const char *keelctl_state_name(uint32_t state)
{
	static const char *const names[] = {"created", "running", "paused", "shutdown", "crashed"};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}
