/*
 * xl migrate and xl migrate-receive: xl's migration handshake over a pipe
 * pair to `SSHCMD HOST xl migrate-receive` (run as xl runs it, through
 * /bin/sh -c "exec ..."), around the backend's stream (migrate_send /
 * migrate_receive).  The messages are xl's: the receiver's banner, then
 * the stream, "domain received, ready to unpause" and a status byte, the
 * sender's "domain is yours, you are cleared to unpause", and "my copy
 * unpause results are as follows" with a status byte.  The target holds
 * the domain as NAME--incoming until it may start it; the source renames
 * its copy NAME--migratedaway before giving the go (so a migration to
 * localhost works) and destroys it only when the target reports the guest
 * running; any earlier failure resumes the guest on the source.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"

static const char xl_mig_banner[] = "xl migration receiver ready, send binary domain data.\n";
static const char xl_mig_ready[] = "domain received, ready to unpause";
static const char xl_mig_go[] = "domain is yours, you are cleared to unpause";
static const char xl_mig_report[] = "my copy unpause results are as follows";

static int xl_mig_write(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly the message msg (n bytes) from fd; what names it in errors. */
static int xl_mig_expect(int fd, const char *msg, size_t n, const char *who, const char *what)
{
	char buf[128] = {0};
	size_t got = 0;

	if (n > sizeof(buf))
		return -1;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "xl: %s: %s: %s\n", who, what,
				r < 0 ? strerror(errno) : "unexpected end of file");
			return -1;
		}
		got += (size_t)r;
	}
	if (memcmp(buf, msg, n)) {
		fprintf(stderr, "xl: %s: %s: message did not match, expected \"%.*s\"\n", who, what,
			(int)strcspn(msg, "\n"), msg);
		return -1;
	}
	return 0;
}

/* A message and its status byte. */
static int xl_mig_expect_status(int fd, const char *msg, const char *who, const char *what)
{
	unsigned char st;

	if (xl_mig_expect(fd, msg, strlen(msg) + 1, who, what) < 0)
		return -1;
	if (read(fd, &st, 1) != 1) {
		fprintf(stderr, "xl: %s: %s: no status byte\n", who, what);
		return -1;
	}
	return st;
}

static int xl_mig_send_status(int fd, const char *msg, int rc)
{
	unsigned char st = (unsigned char)(rc < 0 ? -rc : rc);

	if (xl_mig_write(fd, msg, strlen(msg) + 1) < 0)
		return -1;
	return xl_mig_write(fd, &st, 1);
}

/* The receiving xl: /bin/sh -c "exec RUNE", its stdin and stdout ours. */
static pid_t xl_mig_spawn(const char *rune, int *send_fd, int *recv_fd)
{
	int to[2], from[2];
	pid_t pid;

	if (pipe(to) < 0)
		return -1;
	if (pipe(from) < 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execl("/bin/sh", "sh", "-c", rune, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	if (pid < 0) {
		close(to[1]);
		close(from[0]);
		return -1;
	}
	*send_fd = to[1];
	*recv_fd = from[0];
	return pid;
}

static int xl_mig_reap(pid_t pid, int send_fd, int recv_fd)
{
	int st = 0;

	if (send_fd >= 0)
		close(send_fd);
	if (recv_fd >= 0)
		close(recv_fd);
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st)) {
		fprintf(stderr, "xl: migration target process exited with status %d\n",
			WEXITSTATUS(st));
		return -1;
	}
	return 0;
}

/* The sender's side once both ends run: see the file's comment. */
static int xl_mig_sender(struct xl_backend *be, uint32_t domid, const char *name,
			 const struct xlcfg_domain *override, bool debug, int *send_fdp,
			 int recv_fd)
{
	int send_fd = *send_fdp;
	char away[300];
	int r, st;

	if (xl_mig_expect(recv_fd, xl_mig_banner, strlen(xl_mig_banner), "migration sender",
			  "ready message") < 0)
		return -1;
	fprintf(stderr, "migration target: Ready to receive domain.\n");
	fprintf(stderr, "Saving to migration stream new xl format (info 0x3/0x0/0)\n");
	r = be->ops->migrate_send(be->handle, domid, send_fd, override, debug);
	if (r < 0) {
		/* the backend resumed the guest; what did the target say? (our
		 * end closed first: a target still reading sees the stream end) */
		close(send_fd);
		*send_fdp = -1;
		st = xl_mig_expect_status(recv_fd, xl_mig_ready, "migration sender",
					  "receiver ready message");
		if (st > 0)
			fprintf(stderr,
				"migration sender: Target reported error %d (%s) receiving the "
				"domain; it keeps running here.\n",
				st, strerror(st));
		else
			fprintf(stderr, "migration sender: Sending the domain failed; it keeps "
					"running here.\n");
		return -1;
	}
	st = xl_mig_expect_status(recv_fd, xl_mig_ready, "migration sender",
				  "receiver ready message");
	if (st != 0) {
		if (st > 0)
			fprintf(stderr,
				"migration sender: Target reported error %d receiving the "
				"domain; resuming it here.\n",
				st);
		else
			fprintf(stderr, "migration sender: Target has gone away; resuming the "
					"domain here.\n");
		be->ops->migrate_finish(be->handle, domid, false);
		return -1;
	}
	fprintf(stderr, "migration sender: Target has acknowledged transfer.\n");
	snprintf(away, sizeof(away), "%s--migratedaway", name);
	if (be->ops->rename(be->handle, domid, away) < 0) {
		fprintf(stderr, "migration sender: Failed to rename domain away; resuming it.\n");
		be->ops->migrate_finish(be->handle, domid, false);
		return -1;
	}
	fprintf(stderr, "migration sender: Giving target permission to start.\n");
	if (xl_mig_write(send_fd, xl_mig_go, strlen(xl_mig_go) + 1) < 0)
		st = -1;
	else
		st = xl_mig_expect_status(recv_fd, xl_mig_report, "migration sender",
					  "success/failure report");
	if (st == 0) {
		fprintf(stderr, "migration sender: Target reports successful startup.\n");
		be->ops->migrate_finish(be->handle, domid, true);
		fprintf(stderr, "Migration successful.\n");
		return 0;
	}
	/* the target destroys its copy when it cannot start it: ours goes on */
	fprintf(stderr, "migration sender: Target reports startup failure; resuming the domain "
			"here.\n");
	be->ops->rename(be->handle, domid, name);
	be->ops->migrate_finish(be->handle, domid, false);
	return -1;
}

/* The domain's name now, from the backend's list. */
static int xl_mig_name(struct xl_backend *be, uint32_t domid, char *name, size_t len)
{
	struct xl_domain_info *list = NULL;
	int n = 0, r = be->ops->list ? be->ops->list(be->handle, &list, &n) : -ENOSYS;

	if (r < 0)
		return r;
	r = -ESRCH;
	for (int i = 0; i < n; i++)
		if (list[i].domid == domid) {
			snprintf(name, len, "%s", list[i].name);
			r = 0;
		}
	free(list);
	return r;
}

int main_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"debug", 0, 0, 0x100},
		XL_COMMON_LONG_OPTS,
	};
	const char *ssh = "ssh", *config = NULL, *host;
	struct xlcfg_domain dom, *override = NULL;
	bool daemonize = true, debug = false;
	struct xl_backend *be;
	char name[256];
	uint32_t domid;
	char *rune = NULL;
	int opt, rc = 1, send_fd = -1, recv_fd = -1;
	pid_t child = -1;

	XL_FOREACH_OPT(opt, "FC:s:ep", opts, "migrate", 2)
	{
	case 'C':
		config = optarg;
		break;
	case 's':
		ssh = optarg;
		break;
	case 'e':
		daemonize = false;
		break;
	case 0x100:
		debug = true;
		break;
	default:
		break;
	}
	if (argc - optind != 2) {
		xl_help("migrate");
		return 2;
	}
	host = argv[optind + 1];
	if (config) {
		rc = xl_load_config(config, NULL, &dom, false);
		if (rc)
			return rc;
		override = &dom;
	}
	rc = 1;
	be = xl_backend_connect();
	if (!be)
		goto out;
	if (xl_find_domain(be, argv[optind], &domid) < 0)
		goto out_be;
	if (!be->ops->migrate_send || !be->ops->rename) {
		xl_backend_fail("migrating the domain", -ENOSYS);
		goto out_be;
	}
	if (xl_mig_name(be, domid, name, sizeof(name)) < 0) {
		fprintf(stderr, "xl: cannot read domain %u\n", domid);
		goto out_be;
	}
	if (asprintf(&rune, "exec %s %s xl migrate-receive%s%s", ssh, host, daemonize ? "" : " -e",
		     debug ? " -d" : "") < 0)
		goto out_be;
	if (debug)
		fprintf(stderr, "migration sender: running \"%s\"\n", rune);
	/* a target that dies must not kill us with SIGPIPE: the guest needs us */
	signal(SIGPIPE, SIG_IGN);
	child = xl_mig_spawn(rune, &send_fd, &recv_fd);
	if (child < 0) {
		fprintf(stderr, "xl: cannot run \"%s\": %s\n", rune, strerror(errno));
		goto out_be;
	}
	rc = xl_mig_sender(be, domid, name, override, debug, &send_fd, recv_fd) < 0 ? 1 : 0;
	if (xl_mig_reap(child, send_fd, recv_fd) < 0 && rc == 0)
		rc = 0; /* the domain runs there; the target's exit status is its own */
out_be:
	xl_backend_disconnect(be);
out:
	free(rune);
	if (override)
		xlcfg_domain_clear(override);
	return rc;
}

int main_migrate_receive(int argc, char **argv)
{
	static const struct option opts[] = {
		XL_COMMON_LONG_OPTS,
	};
	bool monitor = true, foreground = false, debug = false;
	struct xl_backend *be;
	uint32_t domid;
	char name[256];
	int opt, r, st;

	XL_FOREACH_OPT(opt, "Fedrp", opts, "migrate-receive", 0)
	{
	case 'F':
		foreground = true;
		break;
	case 'e':
		monitor = false;
		break;
	case 'd':
		debug = true;
		break;
	default:
		break;
	}
	if (argc - optind != 0) {
		xl_help("migrate-receive");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->migrate_receive || !be->ops->rename || !be->ops->unpause) {
		xl_backend_disconnect(be);
		return xl_backend_fail("receiving a domain", -ENOSYS);
	}
	if (xl_mig_write(1, xl_mig_banner, strlen(xl_mig_banner)) < 0) {
		xl_backend_disconnect(be);
		return 1;
	}
	r = be->ops->migrate_receive(be->handle, 0, "--incoming", &domid, name, sizeof(name));
	if (xl_mig_send_status(1, xl_mig_ready, r) < 0 || r < 0) {
		if (r == 0) {
			fprintf(stderr, "migration target: sender went away; destroying the "
					"incoming domain\n");
			be->ops->destroy(be->handle, domid);
		}
		xl_backend_disconnect(be);
		return 1;
	}
	fprintf(stderr, "migration target: Transfer complete, requesting permission to start "
			"domain.\n");
	if (xl_mig_expect(0, xl_mig_go, strlen(xl_mig_go) + 1, "migration target", "GO message") <
	    0) {
		/* no go: the sender keeps the guest, so ours must go */
		fprintf(stderr, "migration target: no permission to start: destroying the "
				"incoming domain\n");
		be->ops->destroy(be->handle, domid);
		xl_backend_disconnect(be);
		return 1;
	}
	fprintf(stderr, "migration target: Got permission, starting domain.\n");
	r = be->ops->rename(be->handle, domid, name);
	if (r == 0)
		r = be->ops->unpause(be->handle, domid);
	st = r;
	if (r < 0) {
		fprintf(stderr, "migration target: cannot start the domain: %s\n", strerror(-r));
		be->ops->destroy(be->handle, domid);
	} else {
		fprintf(stderr, "migration target: Domain started successsfully.\n");
	}
	xl_mig_send_status(1, xl_mig_report, st);
	if (debug)
		fprintf(stderr, "migration target: domain %u (%s)\n", domid, name);
	if (r == 0 && monitor && be->ops->get_config) {
		struct xlcfg_domain cfg;

		if (be->ops->get_config(be->handle, domid, &cfg) == 0) {
			/* stdout is the sender's pipe: the monitor must not hold it */
			close(1);
			close(0);
			r = xl_monitor_start(be, &cfg, domid, foreground);
			if (r < 0)
				xl_backend_fail("starting the domain monitor", r);
			xlcfg_domain_clear(&cfg);
		}
	}
	xl_backend_disconnect(be);
	return r < 0 ? 1 : 0;
}
