/*
 * The domain monitor `xl create` leaves behind, as xl does: a daemon that
 * waits for the domain to shut down and carries out the configuration's
 * on_poweroff / on_reboot / on_crash / on_watchdog / on_soft_reset action
 * (destroy, restart, rename-restart, preserve, coredump-*), following xl's
 * create_domain loop and handle_domain_death.  It logs to
 * STATE_DIR/log/xl-NAME.log (xl: /var/log/xen/xl-NAME.log) and keeps a pid
 * file STATE_DIR/xl/monitor.PID while it runs, so keel-dom0-down can find
 * any monitor left.  It ends when the domain is destroyed, preserved, or
 * the hypervisor goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "xl.h"
#include "xl_backend.h"

static char xl_monitor_pidfile[4096];

static void xl_monitor_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void xl_monitor_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void xl_monitor_unlink_pidfile(void)
{
	if (xl_monitor_pidfile[0])
		unlink(xl_monitor_pidfile);
}

/* The action for a shutdown reason, as handle_domain_death picks it. */
static int xl_monitor_action(const struct xlcfg_domain *dom, int reason, enum xlcfg_action *a)
{
	switch (reason) {
	case 0:
		*a = dom->on_poweroff;
		return 0;
	case 1:
		*a = dom->on_reboot;
		return 0;
	case 2:
		return -EAGAIN; /* suspended */
	case 3:
		*a = dom->on_crash;
		return 0;
	case 4:
		*a = dom->on_watchdog;
		return 0;
	case 5:
		*a = dom->on_soft_reset;
		return 0;
	default:
		xl_monitor_log("Unknown shutdown reason code %d. Destroying domain.", reason);
		*a = XLCFG_ACTION_DESTROY;
		return 0;
	}
}

/* libxl_retrieve_domain_configuration, falling back to what we were started with. */
static void xl_monitor_reload(struct xl_backend *be, uint32_t domid, struct xlcfg_domain *dom)
{
	struct xlcfg_domain fresh;

	memset(&fresh, 0, sizeof(fresh));
	if (!be->ops->get_config || be->ops->get_config(be->handle, domid, &fresh) < 0) {
		xl_monitor_log("failed to retrieve guest configuration. reusing old configuration");
		return;
	}
	xlcfg_domain_clear(dom);
	*dom = fresh;
}

/* preserve_domain: keep the stopped domain as NAME-<UTC time> under a new UUID. */
static int xl_monitor_preserve(struct xl_backend *be, uint32_t domid, const char *name)
{
	char suffix[24];
	time_t now = time(NULL);
	struct tm tm;
	uint8_t uuid[16];
	int r;

	if (!be->ops->preserve || !gmtime_r(&now, &tm) ||
	    !strftime(suffix, sizeof(suffix), "-%Y%m%dT%H%MZ", &tm))
		return -ENOSYS;
	uuid_generate(uuid);
	xl_monitor_log("Preserving domain %u %s with suffix%s", domid, name, suffix);
	r = be->ops->preserve(be->handle, domid, suffix, uuid);
	if (r < 0)
		xl_monitor_log("Preserving domain %u failed: %s", domid, strerror(-r));
	return r;
}

static void xl_monitor_destroy(struct xl_backend *be, uint32_t domid)
{
	int r;

	xl_monitor_log("Domain %u needs to be cleaned up: destroying the domain", domid);
	r = be->ops->destroy ? be->ops->destroy(be->handle, domid) : -ENOSYS;
	if (r < 0)
		xl_monitor_log("destroying domain %u failed: %s", domid, strerror(-r));
}

/* The loop: wait, act, and (re)create while the actions say restart. */
static int xl_monitor_loop(struct xl_backend *be, struct xlcfg_domain *dom, uint32_t domid)
{
	xl_monitor_log("Waiting for domain %s (domid %u) to die [pid %ld]", dom->name, domid,
		       (long)getpid());
	for (;;) {
		struct xl_domain_info info;
		enum xlcfg_action action;
		int r = be->ops->wait_shutdown(be->handle, domid, &info);

		if (r == -ESRCH) {
			xl_monitor_log("Domain %u has been destroyed.", domid);
			return 0;
		}
		if (r < 0) {
			xl_monitor_log("Domain %u, failed to get event, quitting (%s)", domid,
				       strerror(-r));
			return 1;
		}
		xl_monitor_log("Domain %u has shut down, reason code %d 0x%x", domid,
			       info.shutdown_reason, info.shutdown_reason);
		if (xl_monitor_action(dom, info.shutdown_reason, &action) == -EAGAIN) {
			/* as Xen's xl: a suspended domain is xl save's (or restore's) now */
			xl_monitor_log("Domain has suspended.");
			xl_monitor_log("Done. Exiting now");
			return 0;
		}
		xl_monitor_log("Action for shutdown reason code %d is %s", info.shutdown_reason,
			       xlcfg_action_cfg_name(action));
		if (action == XLCFG_ACTION_COREDUMP_DESTROY ||
		    action == XLCFG_ACTION_COREDUMP_RESTART) {
			xl_monitor_log("dumping core of %s: not supported by keeld, skipped",
				       dom->name);
			action = action == XLCFG_ACTION_COREDUMP_DESTROY ? XLCFG_ACTION_DESTROY
									 : XLCFG_ACTION_RESTART;
		}
		if (action == XLCFG_ACTION_SOFT_RESET) {
			xl_monitor_log("soft reset is not supported by keeld: destroying instead");
			action = XLCFG_ACTION_DESTROY;
		}
		switch (action) {
		case XLCFG_ACTION_PRESERVE:
			xl_monitor_log("Done. Exiting now");
			return 0;
		case XLCFG_ACTION_RESTART_RENAME:
			xl_monitor_reload(be, domid, dom);
			if (xl_monitor_preserve(be, domid, dom->name) < 0)
				return 1; /* leave the old domain in place, as xl */
			break;
		case XLCFG_ACTION_RESTART:
			xl_monitor_reload(be, domid, dom);
			xl_monitor_destroy(be, domid);
			break;
		default:
			xl_monitor_destroy(be, domid);
			xl_monitor_log("Done. Exiting now");
			return 0;
		}
		xl_monitor_log("Done. Rebooting now");
		r = be->ops->create(be->handle, dom, false, &domid);
		if (r < 0) {
			xl_monitor_log("restarting %s failed: %s", dom->name, strerror(-r));
			return 1;
		}
		xl_monitor_log("Waiting for domain %s (domid %u) to die [pid %ld]", dom->name,
			       domid, (long)getpid());
	}
}

/* do_daemonize: log file on stdout/stderr, /dev/null on stdin, own session. */
static int xl_monitor_detach(const char *dir, const char *name)
{
	char path[4096];
	int log, null;

	snprintf(path, sizeof(path), "%s/log", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/log/xl-%s.log", dir, name);
	log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (log < 0 || null < 0)
		return -errno;
	dup2(null, STDIN_FILENO);
	dup2(log, STDOUT_FILENO);
	dup2(log, STDERR_FILENO);
	close(null);
	close(log);
	if (setsid() < 0)
		return -errno;
	return 0;
}

static void xl_monitor_write_pidfile(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/xl", dir);
	mkdir(path, 0700);
	snprintf(xl_monitor_pidfile, sizeof(xl_monitor_pidfile), "%s/xl/monitor.%ld", dir,
		 (long)getpid());
	f = fopen(xl_monitor_pidfile, "w");
	if (f) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	atexit(xl_monitor_unlink_pidfile);
}

int xl_monitor_start(struct xl_backend *be, struct xlcfg_domain *dom, uint32_t domid,
		     bool foreground)
{
	struct xl_backend *own;
	const char *dir;
	pid_t child;
	int status, ready[2];

	if (!be->ops->wait_shutdown || !be->ops->state_dir)
		return 0; /* this backend cannot watch domains: as `create -e` */
	dir = be->ops->state_dir(be->handle);
	if (foreground) {
		xl_monitor_write_pidfile(dir);
		return xl_monitor_loop(be, dom, domid);
	}
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -errno;
	if (child > 0) {
		/* the intermediate child exits once the daemon is on its own */
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
	}
	if (xl_monitor_detach(dir, dom->name) < 0 || pipe(ready) < 0)
		_exit(1);
	child = fork();
	if (child != 0) {
		char c;

		/* xl create returns only once the pid file names the daemon */
		close(ready[1]);
		_exit(child > 0 && read(ready[0], &c, 1) == 1 ? 0 : 1);
	}
	close(ready[0]);
	/* the daemon: its own connections, not the ones xl create goes on using */
	xl_monitor_write_pidfile(dir);
	xl_backend_disconnect(be);
	if (write(ready[1], "", 1) != 1)
		exit(1);
	close(ready[1]);
	own = xl_backend_connect();
	if (!own)
		exit(1);
	status = xl_monitor_loop(own, dom, domid);
	xl_backend_disconnect(own);
	exit(status);
}
