/*
 * libkeelstore implementation: a blocking xs_wire client on a Unix socket.
 * Requests carry increasing req_ids; the reply is matched on req_id and
 * type, watch events read in between are queued in arrival order.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "abi/xs_wire.h"
#include "keelstore.h"

struct ks_event {
	struct ks_event *next;
	char *path, *token;
};

struct ks_handle {
	int fd;
	bool device; /* /dev/xen/xenbus: write(), whole messages */
	uint32_t req_id;
	struct ks_event *events, *events_tail;
};

static const struct xs_wire_error ks_errors[] = {
#define KS_ERR(name, num) {num, #name},
	XS_WIRE_ERRORS(KS_ERR)
#undef KS_ERR
};

static int ks_errno(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ks_errors) / sizeof(ks_errors[0]); i++)
		if (!strcmp(ks_errors[i].name, name))
			return ks_errors[i].errnum;
	return EINVAL;
}

/*
 * Inside a guest there is no socket: Linux's xenbus driver offers the
 * guest's own store connection as the character device /dev/xen/xenbus,
 * which takes and gives the same xs_wire messages (libxenstore's
 * "domain" transport).
 */
static int ks_open_device(const char *path, struct ks_handle *h)
{
	h->fd = open(path, O_RDWR | O_CLOEXEC);
	if (h->fd < 0)
		return -errno;
	h->device = true;
	return 0;
}

static int ks_open_socket(const char *path, struct ks_handle *h)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		if (h->fd >= 0)
			close(h->fd);
		return -e;
	}
	return 0;
}

/*
 * As libxenstore chooses: a path naming a character device is the xenbus
 * device; with no path given and no socket at the default place, the
 * guest's /dev/xen/xenbus when it has one.
 */
int ks_open(const char *path, struct ks_handle **out)
{
	bool given = path || getenv("XENSTORED_PATH");
	struct ks_handle *h;
	struct stat st;
	int rc;

	if (!path)
		path = getenv("XENSTORED_PATH");
	if (!path)
		path = KS_DEFAULT_SOCKET;
	if (!given && stat(path, &st) < 0 && stat(KS_XENBUS_DEVICE, &st) == 0)
		path = KS_XENBUS_DEVICE;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
		rc = ks_open_device(path, h);
	else
		rc = ks_open_socket(path, h);
	if (rc < 0) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void ks_close(struct ks_handle *h)
{
	if (!h)
		return;
	while (h->events) {
		struct ks_event *e = h->events;

		h->events = e->next;
		free(e->path);
		free(e);
	}
	close(h->fd);
	free(h);
}

int ks_fd(const struct ks_handle *h)
{
	return h->fd;
}

static int ks_io(const struct ks_handle *h, void *buf, size_t len, bool wr)
{
	char *p = buf;

	while (len) {
		ssize_t n = !wr		? read(h->fd, p, len)
			    : h->device ? write(h->fd, p, len)
					: send(h->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one message; the body is NUL-terminated past its length. */
static int ks_recv(struct ks_handle *h, struct xsd_sockmsg *hdr, char **body)
{
	int rc = ks_io(h, hdr, sizeof(*hdr), false);

	if (rc)
		return rc;
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return -EPROTO;
	*body = malloc(hdr->len + 1);
	if (!*body)
		return -ENOMEM;
	rc = ks_io(h, *body, hdr->len, false);
	if (rc) {
		free(*body);
		return rc;
	}
	(*body)[hdr->len] = 0;
	return 0;
}

static int ks_queue_event(struct ks_handle *h, char *body, uint32_t len)
{
	struct ks_event *e = calloc(1, sizeof(*e));
	size_t pl = strnlen(body, len);

	if (!e || pl >= len) {
		free(e);
		free(body);
		return e ? -EPROTO : -ENOMEM;
	}
	e->path = body;
	e->token = body + pl + 1;
	if (h->events_tail)
		h->events_tail->next = e;
	else
		h->events = e;
	h->events_tail = e;
	return 0;
}

int ks_request(struct ks_handle *h, uint32_t type, ks_tx_t tx, const void *payload, unsigned len,
	       char **reply, unsigned *reply_len)
{
	struct xsd_sockmsg hdr = {type, ++h->req_id, tx, len};
	char msg[sizeof(hdr) + XENSTORE_PAYLOAD_MAX], *body;
	int rc;

	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	/* one write: the xenbus device takes a message per write */
	memcpy(msg, &hdr, sizeof(hdr));
	if (len)
		memcpy(msg + sizeof(hdr), payload, len);
	rc = ks_io(h, msg, sizeof(hdr) + len, true);
	while (!rc) {
		struct xsd_sockmsg r;

		rc = ks_recv(h, &r, &body);
		if (rc)
			break;
		if (r.type == XS_WATCH_EVENT) {
			rc = ks_queue_event(h, body, r.len);
			continue;
		}
		if (r.req_id != hdr.req_id) {
			free(body);
			continue; /* a stale reply: not ours */
		}
		if (r.type == XS_ERROR) {
			rc = -ks_errno(body);
			free(body);
			return rc;
		}
		if (r.type != type) {
			free(body);
			return -EPROTO;
		}
		if (reply_len)
			*reply_len = r.len;
		if (reply)
			*reply = body;
		else
			free(body);
		return 0;
	}
	return rc;
}

/* Build "s1\0s2\0...": strings, then an optional raw tail. */
static int ks_pack(char *buf, const char *const *strs, unsigned n, const void *tail, unsigned tlen,
		   unsigned *len)
{
	unsigned i, off = 0;

	for (i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;

		if (off + l > XENSTORE_PAYLOAD_MAX)
			return -E2BIG;
		memcpy(buf + off, strs[i], l);
		off += (unsigned)l;
	}
	if (off + tlen > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	if (tlen)
		memcpy(buf + off, tail, tlen);
	*len = off + tlen;
	return 0;
}

static int ks_simple(struct ks_handle *h, uint32_t type, ks_tx_t tx, const char *const *strs,
		     unsigned n, char **reply, unsigned *rlen)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	unsigned len;
	int rc = ks_pack(buf, strs, n, NULL, 0, &len);

	return rc ? rc : ks_request(h, type, tx, buf, len, reply, rlen);
}

int ks_read(struct ks_handle *h, ks_tx_t tx, const char *path, char **value, unsigned *len)
{
	return ks_simple(h, XS_READ, tx, &path, 1, value, len);
}

int ks_write(struct ks_handle *h, ks_tx_t tx, const char *path, const void *value, unsigned len)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	unsigned n;
	int rc = ks_pack(buf, &path, 1, value, len, &n);

	return rc ? rc : ks_request(h, XS_WRITE, tx, buf, n, NULL, NULL);
}

int ks_write_str(struct ks_handle *h, ks_tx_t tx, const char *path, const char *value)
{
	return ks_write(h, tx, path, value, (unsigned)strlen(value));
}

int ks_mkdir(struct ks_handle *h, ks_tx_t tx, const char *path)
{
	return ks_simple(h, XS_MKDIR, tx, &path, 1, NULL, NULL);
}

int ks_rm(struct ks_handle *h, ks_tx_t tx, const char *path)
{
	return ks_simple(h, XS_RM, tx, &path, 1, NULL, NULL);
}

/* Split "a\0b\0" into one allocation: pointer array then the strings. */
static int ks_split(const char *body, unsigned len, char ***out, unsigned *count)
{
	unsigned n = 0, i, off;
	char **v, *s;

	for (off = 0; off < len; off += (unsigned)strlen(body + off) + 1)
		n++;
	v = malloc((n + 1) * sizeof(char *) + len + 1);
	if (!v)
		return -ENOMEM;
	s = (char *)(v + n + 1);
	memcpy(s, body, len);
	s[len] = 0;
	for (i = 0, off = 0; i < n; i++, off += (unsigned)strlen(s + off) + 1)
		v[i] = s + off;
	v[n] = NULL;
	*out = v;
	*count = n;
	return 0;
}

int ks_directory(struct ks_handle *h, ks_tx_t tx, const char *path, char ***names, unsigned *count)
{
	char *body;
	unsigned len;
	int rc = ks_simple(h, XS_DIRECTORY, tx, &path, 1, &body, &len);

	if (rc)
		return rc;
	rc = ks_split(body, len, names, count);
	free(body);
	return rc;
}

int ks_get_perms(struct ks_handle *h, ks_tx_t tx, const char *path, struct ks_perm **perms,
		 unsigned *count)
{
	char *body, **v;
	unsigned len, n, i;
	int rc = ks_simple(h, XS_GET_PERMS, tx, &path, 1, &body, &len);

	if (rc)
		return rc;
	rc = ks_split(body, len, &v, &n);
	free(body);
	if (rc)
		return rc;
	*perms = calloc(n ? n : 1, sizeof(**perms));
	if (!*perms) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		(*perms)[i].perm = v[i][0];
		(*perms)[i].domid = (uint16_t)strtoul(v[i] + 1, NULL, 10);
	}
	*count = n;
	free(v);
	return 0;
}

int ks_set_perms(struct ks_handle *h, ks_tx_t tx, const char *path, const struct ks_perm *perms,
		 unsigned count)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t off = strlen(path) + 1;
	unsigned i;

	if (!count || off > sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, off);
	for (i = 0; i < count; i++) {
		int n = snprintf(buf + off, sizeof(buf) - off, "%c%u", perms[i].perm,
				 perms[i].domid);

		if (n < 0 || (size_t)n + 1 > sizeof(buf) - off)
			return -E2BIG;
		off += (size_t)n + 1;
	}
	return ks_request(h, XS_SET_PERMS, tx, buf, (unsigned)off, NULL, NULL);
}

int ks_watch(struct ks_handle *h, const char *path, const char *token)
{
	const char *s[2] = {path, token};

	return ks_simple(h, XS_WATCH, KS_TX_NONE, s, 2, NULL, NULL);
}

int ks_unwatch(struct ks_handle *h, const char *path, const char *token)
{
	const char *s[2] = {path, token};

	return ks_simple(h, XS_UNWATCH, KS_TX_NONE, s, 2, NULL, NULL);
}

int ks_read_watch(struct ks_handle *h, int timeout_ms, char **path, char **token)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!h->events) {
		struct pollfd p = {h->fd, POLLIN, 0};
		struct xsd_sockmsg r;
		char *body;
		int left = timeout_ms, rc;

		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
						  (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (left < 0)
				left = 0;
		}
		rc = poll(&p, 1, left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		if (rc < 0)
			continue;
		rc = ks_recv(h, &r, &body);
		if (rc)
			return rc;
		if (r.type != XS_WATCH_EVENT) {
			free(body);
			continue;
		}
		rc = ks_queue_event(h, body, r.len);
		if (rc)
			return rc;
	}
	{
		struct ks_event *e = h->events;

		h->events = e->next;
		if (!h->events)
			h->events_tail = NULL;
		*path = strdup(e->path);
		*token = strdup(e->token);
		free(e->path);
		free(e);
		if (!*path || !*token) {
			free(*path);
			free(*token);
			return -ENOMEM;
		}
	}
	return 0;
}

int ks_tx_start(struct ks_handle *h, ks_tx_t *tx)
{
	char *body;
	int rc = ks_request(h, XS_TRANSACTION_START, KS_TX_NONE, "", 1, &body, NULL);

	if (rc)
		return rc;
	*tx = (ks_tx_t)strtoul(body, NULL, 10);
	free(body);
	return *tx ? 0 : -EPROTO;
}

int ks_tx_end(struct ks_handle *h, ks_tx_t tx, bool commit)
{
	return ks_request(h, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, NULL);
}

static int ks_domid_op(struct ks_handle *h, uint32_t type, unsigned domid, char **reply)
{
	char d[16];
	const char *s = d;

	snprintf(d, sizeof(d), "%u", domid);
	return ks_simple(h, type, KS_TX_NONE, &s, 1, reply, NULL);
}

int ks_introduce(struct ks_handle *h, unsigned domid, uint64_t mfn, uint32_t evtchn)
{
	char a[16], b[24], c[16];
	const char *s[3] = {a, b, c};

	snprintf(a, sizeof(a), "%u", domid);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)mfn);
	snprintf(c, sizeof(c), "%u", evtchn);
	return ks_simple(h, XS_INTRODUCE, KS_TX_NONE, s, 3, NULL, NULL);
}

int ks_release(struct ks_handle *h, unsigned domid)
{
	return ks_domid_op(h, XS_RELEASE, domid, NULL);
}

int ks_is_introduced(struct ks_handle *h, unsigned domid, bool *introduced)
{
	char *r;
	int rc = ks_domid_op(h, XS_IS_DOMAIN_INTRODUCED, domid, &r);

	if (rc)
		return rc;
	*introduced = strcmp(r, "F") != 0;
	free(r);
	return 0;
}

int ks_get_domain_path(struct ks_handle *h, unsigned domid, char **path)
{
	return ks_domid_op(h, XS_GET_DOMAIN_PATH, domid, path);
}

int ks_resume(struct ks_handle *h, unsigned domid)
{
	return ks_domid_op(h, XS_RESUME, domid, NULL);
}

int ks_set_target(struct ks_handle *h, unsigned domid, unsigned target)
{
	char a[16], b[16];
	const char *s[2] = {a, b};

	snprintf(a, sizeof(a), "%u", domid);
	snprintf(b, sizeof(b), "%u", target);
	return ks_simple(h, XS_SET_TARGET, KS_TX_NONE, s, 2, NULL, NULL);
}

int ks_control(struct ks_handle *h, const char *const *argv, unsigned argc, char **out)
{
	return ks_simple(h, XS_CONTROL, KS_TX_NONE, argv, argc, out, NULL);
}
