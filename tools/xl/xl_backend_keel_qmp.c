/*
 * QMP to an HVM domain's QEMU, as libxl's libxl_qmp.c speaks it: the
 * socket libxl made QEMU serve (RUNDIR/qmp/qmp-libxl-DOMID), the greeting,
 * qmp_capabilities, then one command at a time, an fd passed with
 * SCM_RIGHTS where the command takes one (add-fd).  QEMU answers each
 * command with one line, "return" or "error" ({class, desc}); lines with
 * "event" in between are skipped.  The answers are read by looking for
 * those members in the line rather than with a JSON parser: QEMU's
 * answers to the few commands sent here are flat.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xl_backend_keel.h"

#define XLK_QMP_TIMEOUT_MS 30000 /* per answer; libxl allows its hotplug timeout */
#define XLK_QMP_LINE_MAX   65536

struct xlk_qmp {
	int fd;
	uint32_t domid;
	char buf[XLK_QMP_LINE_MAX];
	size_t len;
};

/* The next line QEMU sent (NUL-terminated in q->buf, consumed by the next call). */
static int xlk_qmp_line(struct xlk_qmp *q, char **line, size_t *consumed)
{
	memmove(q->buf, q->buf + *consumed, q->len - *consumed);
	q->len -= *consumed;
	*consumed = 0;
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd p = {q->fd, POLLIN, 0};
		ssize_t n;

		if (nl) {
			*nl = 0;
			*line = q->buf;
			*consumed = (size_t)(nl - q->buf) + 1;
			return 0;
		}
		if (q->len >= sizeof(q->buf) - 1)
			return -EMSGSIZE;
		n = poll(&p, 1, XLK_QMP_TIMEOUT_MS);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0)
			return -errno;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			q->len += (size_t)n;
	}
}

/* A string member's value in a flat JSON line (escapes kept as sent). */
static void xlk_qmp_member(const char *line, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(line, pat);
	out[0] = 0;
	if (!p)
		return;
	for (p += strlen(pat); *p && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = 0;
}

/*
 * Send one command (@args: the members of "arguments", already JSON, or
 * NULL) with @fd passed alongside if >= 0, and wait for its answer.  An
 * error answer is printed as libxl prints it and is -EIO; *ret gets the
 * answer line's "return" part when asked for.
 */
static int xlk_qmp_cmd(struct xlk_qmp *q, const char *cmd, const char *args, int fd, char *ret,
		       size_t ret_size)
{
	char msg[8192], *line;
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	size_t consumed = 0;
	int n, r;

	n = snprintf(msg, sizeof(msg), "{\"execute\": \"%s\"%s%s%s}\r\n", cmd,
		     args ? ", \"arguments\": {" : "", args ? args : "", args ? "}" : "");
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -ENAMETOOLONG;
	iov.iov_base = msg;
	iov.iov_len = (size_t)n;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	if (sendmsg(q->fd, &mh, MSG_NOSIGNAL) != n)
		return -errno ? -errno : -EIO;
	for (;;) {
		r = xlk_qmp_line(q, &line, &consumed);
		if (r < 0)
			break;
		if (strstr(line, "\"error\"")) {
			char desc[512];

			xlk_qmp_member(line, "desc", desc, sizeof(desc));
			fprintf(stderr,
				"libxl: error: libxl_qmp.c:1836:qmp_ev_parse_error_messages: "
				"Domain %u:%s\n",
				q->domid, desc[0] ? desc : line);
			r = -EIO;
			break;
		}
		if (strstr(line, "\"return\"")) {
			if (ret)
				snprintf(ret, ret_size, "%s", strstr(line, "\"return\""));
			break;
		}
		/* an event, or the greeting's tail: not the answer */
	}
	q->len -= consumed;
	memmove(q->buf, q->buf + consumed, q->len);
	return r;
}

/* Connect to the domain's QMP socket and leave capabilities negotiation done. */
static int xlk_qmp_open(struct xlk *k, uint32_t domid, struct xlk_qmp *q)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t consumed = 0;
	char *line;
	int r;

	q->domid = domid;
	q->len = 0;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp/qmp-libxl-%u", k->rundir,
			     domid) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -errno;
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	r = xlk_qmp_line(q, &line, &consumed); /* {"QMP": {...}} */
	if (r == 0 && !strstr(line, "\"QMP\""))
		r = -EPROTO;
	q->len -= consumed;
	memmove(q->buf, q->buf + consumed, q->len);
	if (r == 0)
		r = xlk_qmp_cmd(q, "qmp_capabilities", NULL, -1, NULL, 0);
	if (r == 0)
		return 0;
fail:
	close(q->fd);
	q->fd = -1;
	return r;
}

static void xlk_qmp_close(struct xlk_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

/* @s as a JSON string's contents into out (quotes, backslashes, controls escaped). */
static int xlk_qmp_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int w;

		if (c == '"' || c == '\\')
			w = snprintf(out + n, size - n, "\\%c", c);
		else if (c < 0x20)
			w = snprintf(out + n, size - n, "\\u%04x", c);
		else
			w = snprintf(out + n, size - n, "%c", c);
		if (w < 0 || (size_t)w >= size - n)
			return -ENAMETOOLONG;
		n += (size_t)w;
	}
	return 0;
}

int xlk_qmp_save_devices(struct xlk *k, uint32_t domid, const char *path)
{
	struct xlk_qmp q = {.fd = -1};
	char file[PATH_MAX * 2], args[PATH_MAX * 2 + 64];
	int r = xlk_qmp_escape(path, file, sizeof(file));

	if (r == 0)
		r = xlk_qmp_open(k, domid, &q);
	if (r == 0)
		r = xlk_qmp_cmd(&q, "stop", NULL, -1, NULL, 0);
	if (r == 0) {
		snprintf(args, sizeof(args), "\"filename\": \"%s\", \"live\": false", file);
		r = xlk_qmp_cmd(&q, "xen-save-devices-state", args, -1, NULL, 0);
	}
	xlk_qmp_close(&q);
	return r;
}

int xlk_qmp_cont(struct xlk *k, uint32_t domid)
{
	struct xlk_qmp q = {.fd = -1};
	int r = xlk_qmp_open(k, domid, &q);

	if (r == 0)
		r = xlk_qmp_cmd(&q, "cont", NULL, -1, NULL, 0);
	xlk_qmp_close(&q);
	return r;
}

static int xlk_qmp_is_hvm(struct xlk *k, uint32_t domid)
{
	struct keelctl_dominfo in;
	int r = keelctl_domain_getinfo(k->ctl, domid, &in);

	return r < 0 ? r : !!(in.flags & KEELCTL_DOMINFO_HVM);
}

/*
 * libxl_cdrom_insert (xl cd-insert, and cd-eject with @target NULL): the
 * domain must be HVM; the vdev one of its CD-ROM drives (its saved
 * configuration's disks); QMP "eject" of drive ide-VBDNUM (the id libxl
 * gives QEMU's ide-cd), after which the drive's vbd gets params "empty:", then
 * for a medium "add-fd" of the file opened read-only and
 * "blockdev-change-medium" on /dev/fdset/N, after which params names it
 * ("aio:FILE"); the saved configuration then names the new medium (xl
 * list -l), as libxl's domain configuration does.
 */
int xlk_cdrom_insert(void *h, uint32_t domid, const char *vdev, const char *target)
{
	struct xlk *k = h;
	struct xlcfg_domain cfg;
	struct xlcfg_disk *disk = NULL;
	struct xlk_qmp q = {.fd = -1};
	char args[PATH_MAX * 2 + 256], file[PATH_MAX * 2], ret[256];
	int r, fd = -1, vbd;

	r = xlk_qmp_is_hvm(k, domid);
	if (r == 0) {
		fprintf(stderr,
			"libxl: error: libxl_disk.c:838:libxl_cdrom_insert: Domain %u:cdrom-insert "
			"requires an HVM domain\n",
			domid);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	r = xlk_get_config(k, domid, &cfg);
	if (r < 0)
		return r;
	for (int i = 0; i < cfg.n_disks; i++)
		if (cfg.disks[i].is_cdrom && cfg.disks[i].vdev && !strcmp(cfg.disks[i].vdev, vdev))
			disk = &cfg.disks[i];
	if (!disk) {
		fprintf(stderr,
			"libxl: error: libxl_disk.c:866:libxl_cdrom_insert: Domain %u:Virtual "
			"device not found\n",
			domid);
		r = -ENODEV;
		goto out;
	}
	vbd = xlcfg_vdev_number(vdev, NULL, NULL);
	if (target && *target) {
		fd = open(target, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			fprintf(stderr,
				"libxl: error: libxl_disk.c:1039:cdrom_insert_ejected: Domain "
				"%u:Failed to open cdrom file %s: %s\n",
				domid, target, strerror(-r));
			goto out;
		}
	}
	r = xlk_qmp_open(k, domid, &q);
	if (r < 0) {
		fprintf(stderr, "xl: the QMP socket of domain %u's device model: %s\n", domid,
			strerror(-r));
		goto out;
	}
	snprintf(args, sizeof(args), "\"id\": \"ide-%d\"", vbd);
	r = xlk_qmp_cmd(&q, "eject", args, -1, NULL, 0);
	if (r == 0)
		r = xlk_device_cdrom_params(k, domid, disk, true);
	if (r == 0 && fd >= 0) {
		const char *fdset;

		r = xlk_qmp_escape(target, file, sizeof(file));
		if (r == 0) {
			snprintf(args, sizeof(args), "\"opaque\": \"raw:%s\"", file);
			r = xlk_qmp_cmd(&q, "add-fd", args, fd, ret, sizeof(ret));
		}
		fdset = r == 0 ? strstr(ret, "\"fdset-id\": ") : NULL;
		if (r == 0 && !fdset) {
			fprintf(stderr, "xl: QEMU's add-fd answer has no fdset-id: %s\n", ret);
			r = -EPROTO;
		}
		if (r == 0) {
			snprintf(args, sizeof(args),
				 "\"id\": \"ide-%d\", \"filename\": \"/dev/fdset/%d\", "
				 "\"format\": \"raw\"",
				 vbd, atoi(fdset + strlen("\"fdset-id\": ")));
			r = xlk_qmp_cmd(&q, "blockdev-change-medium", args, -1, NULL, 0);
		}
	}
	if (r == 0) {
		char *t = target && *target ? strdup(target) : NULL;

		if (target && *target && !t) {
			r = -ENOMEM;
			goto out;
		}
		free(disk->target);
		disk->target = t;
		disk->format = t ? XLCFG_FORMAT_RAW : XLCFG_FORMAT_EMPTY; /* as libxl's */
		if (t)
			r = xlk_device_cdrom_params(k, domid, disk, false);
		if (r == 0)
			r = xlk_config_save(k, domid, &cfg);
	}
out:
	xlk_qmp_close(&q);
	if (fd >= 0)
		close(fd);
	xlcfg_domain_clear(&cfg);
	return r;
}

/*
 * libxl_send_trigger: s3resume is QMP "system_wakeup" to an HVM domain's
 * QEMU (-EINVAL for a PV domain, libxl's ERROR_INVAL); the rest are Xen's
 * XEN_DOMCTL_sendtrigger, which keeld answers as Xen's x86 does.
 */
int xlk_send_trigger(void *h, uint32_t domid, const char *trigger, uint32_t vcpu)
{
	static const struct {
		const char *name;
		uint32_t xen;
	} domctl[] = {{"nmi", KEELCTL_TRIGGER_NMI},
		      {"reset", KEELCTL_TRIGGER_RESET},
		      {"init", KEELCTL_TRIGGER_INIT},
		      {"power", KEELCTL_TRIGGER_POWER},
		      {"sleep", KEELCTL_TRIGGER_SLEEP}};
	struct xlk *k = h;
	struct xlk_qmp q = {.fd = -1};
	int r;

	if (domid == 0)
		return -EPERM;
	for (size_t i = 0; i < sizeof(domctl) / sizeof(domctl[0]); i++)
		if (!strcmp(domctl[i].name, trigger))
			return keelctl_send_trigger(k->ctl, domid, domctl[i].xen, vcpu);
	if (strcmp(trigger, "s3resume"))
		return -EINVAL;
	r = xlk_qmp_is_hvm(k, domid);
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	r = xlk_qmp_open(k, domid, &q);
	if (r == 0)
		r = xlk_qmp_cmd(&q, "system_wakeup", NULL, -1, NULL, 0);
	xlk_qmp_close(&q);
	return r;
}

/* Write /local/domain/DOMID/console/KEY (libxl's qmp_write_domain_console_item). */
static int xlk_qmp_console_item(struct xlk *k, uint32_t domid, const char *key, const char *v)
{
	char path[96];

	snprintf(path, sizeof(path), "/local/domain/%u/console/%s", domid, key);
	return ks_write_str(k->xs, KS_TX_NONE, path, v);
}

/*
 * libxl__qmp_initializations for a device model with VNC: the password
 * (vncpasswd=) through "change-vnc-password", then "query-vnc", whose host
 * and service (the port QEMU found, 5900 + display) go to the domain's
 * console/vnc-listen and console/vnc-port, where xl vncviewer reads them.
 */
int xlk_qmp_vnc_setup(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	struct xlk_qmp q = {.fd = -1};
	char ret[1024], host[256], port[16], esc[512];
	int r;

	if (dom->vnc != XLCFG_TRUE)
		return 0;
	if (dom->vncpasswd) {
		/* libxl 4.17 also keeps it at VM_PATH/vncpasswd (qemu-traditional's;
		 * the VM path's permissions: dom0, and read for the domain) */
		char *vm = xlk_store_read(k, "/local/domain/%u/vm", domid), path[128];

		if (vm) {
			snprintf(path, sizeof(path), "%s/vncpasswd", vm);
			ks_write_str(k->xs, KS_TX_NONE, path, dom->vncpasswd);
		}
		free(vm);
	}
	r = xlk_qmp_open(k, domid, &q);
	if (r == 0 && dom->vncpasswd && *dom->vncpasswd) {
		char args[600];

		r = xlk_qmp_escape(dom->vncpasswd, esc, sizeof(esc));
		if (r == 0) {
			snprintf(args, sizeof(args), "\"password\": \"%s\"", esc);
			r = xlk_qmp_cmd(&q, "change-vnc-password", args, -1, NULL, 0);
		}
	}
	if (r == 0)
		r = xlk_qmp_cmd(&q, "query-vnc", NULL, -1, ret, sizeof(ret));
	xlk_qmp_close(&q);
	if (r < 0) {
		fprintf(stderr, "xl: domain %u: QEMU's VNC server over QMP: %s\n", domid,
			strerror(-r));
		return r;
	}
	xlk_qmp_member(ret, "host", host, sizeof(host));
	xlk_qmp_member(ret, "service", port, sizeof(port));
	if (!host[0] || !port[0]) {
		fprintf(stderr,
			"libxl: error: libxl_qmp.c:qmp_register_vnc_callback: Domain %u:Failed to "
			"retrieve VNC connect information.\n",
			domid);
		return -EPROTO;
	}
	r = xlk_qmp_console_item(k, domid, "vnc-listen", host);
	if (r == 0)
		r = xlk_qmp_console_item(k, domid, "vnc-port", port);
	return r;
}

int xlk_vnc_info(void *h, uint32_t domid, char **port, char **listen, char **pass)
{
	struct xlk *k = h;

	*port = xlk_store_read(k, "/local/domain/%u/console/vnc-port", domid);
	*listen = xlk_store_read(k, "/local/domain/%u/console/vnc-listen", domid);
	*pass = xlk_store_read(k, "/local/domain/%u/console/vnc-pass", domid);
	return *port ? 0 : -ENOENT;
}
